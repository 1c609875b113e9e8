//! Where records would be delivered, and with which key.
//!
//! The key is the one the host embedded at build time; an empty key means nothing can ever be
//! recorded or sent, whatever the user says.
//!
//! # Development endpoint (tests without a rebuild)
//!
//! In a build with `debug_assertions`, and only there, `<APP>_TELEMETRY_DEV_ENDPOINT` replaces
//! the host, and `<APP>_TELEMETRY_DEV_KEY` the key, **if the endpoint's host is a loopback
//! address** (`127.0.0.0/8`, `localhost`, `[::1]`). Any other endpoint is ignored (and `status`
//! says so). In a release build the code that reads these variables is not compiled at all, so
//! no environment can turn a keyless release build into one that sends, nor point a release
//! build somewhere else.

use crate::config::HttpUrl;
use crate::config::TelemetryConfig;

/// Where the key and endpoint come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverySource {
    /// The host's configuration (the key embedded at build time).
    Embedded,
    /// The development endpoint variable of a debug build (its name).
    // Never made in a release build, which ignores the variable.
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    DevEndpoint {
        /// The variable.
        variable: String,
    },
}

/// The resolved key and endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    key: Option<String>,
    base_url: String,
    source: DeliverySource,
    ignored: Option<String>,
}

impl Delivery {
    /// Resolves the key and endpoint for `config`.
    pub fn resolve(config: &TelemetryConfig) -> Self {
        let embedded = Self {
            key: Some(config.project_key().to_string()).filter(|k| !k.is_empty()),
            base_url: config.host().base_url().to_string(),
            source: DeliverySource::Embedded,
            ignored: None,
        };
        #[cfg(debug_assertions)]
        {
            Self::dev_override(config, embedded)
        }
        #[cfg(not(debug_assertions))]
        {
            embedded
        }
    }

    #[cfg(debug_assertions)]
    fn dev_override(config: &TelemetryConfig, embedded: Self) -> Self {
        let names = config.env_names();
        let env = config.environment();
        let Some(endpoint) = env.get_non_empty(&names.dev_endpoint) else {
            return embedded;
        };
        match HttpUrl::parse(endpoint.trim()) {
            Some(url) if url.is_loopback() => {
                let key = env
                    .get_non_empty(&names.dev_key)
                    .map(|k| k.trim().to_string())
                    .or(embedded.key);
                Self {
                    key,
                    base_url: url.base(),
                    source: DeliverySource::DevEndpoint {
                        variable: names.dev_endpoint.clone(),
                    },
                    ignored: None,
                }
            }
            _ => Self {
                ignored: Some(format!(
                    "{} is ignored: only a loopback http(s) endpoint (127.0.0.1, localhost, [::1]) is accepted",
                    names.dev_endpoint
                )),
                ..embedded
            },
        }
    }

    /// Whether records go to this machine (the development endpoint, or a host configured
    /// on `localhost`, `127.0.0.0/8` or `[::1]`): then no proxy may carry them elsewhere.
    pub fn is_loopback(&self) -> bool {
        HttpUrl::parse(&self.base_url).is_some_and(|url| url.is_loopback())
    }

    /// The project key, if there is one.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Whether a key is present (otherwise nothing can be recorded or sent).
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// The base URL (host and path prefix, no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// PostHog's batch endpoint: `{base}/batch/`.
    pub fn batch_url(&self) -> String {
        format!("{}/batch/", self.base_url)
    }

    /// Where the key and endpoint come from.
    pub fn source(&self) -> &DeliverySource {
        &self.source
    }

    /// Why a development endpoint variable was ignored, if it was.
    pub fn ignored_override(&self) -> Option<&str> {
        self.ignored.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Environment, PostHogHost};

    fn delivery(key: &str, env: &[(&str, &str)]) -> Delivery {
        let config = TelemetryConfig::builder(&crate::schema::DEMO)
            .project_key(key)
            .host(PostHogHost::parse("https://t.example.com/ingest").unwrap())
            .environment(env.iter().copied().collect::<Environment>())
            .on_terminal(false)
            .build()
            .unwrap();
        Delivery::resolve(&config)
    }

    #[test]
    fn embedded_key_and_host() {
        let d = delivery("", &[]);
        assert!(!d.has_key());
        assert_eq!(d.batch_url(), "https://t.example.com/ingest/batch/");
        let d = delivery(" phc_x ", &[]);
        assert_eq!(d.key(), Some("phc_x"));
    }

    #[cfg(debug_assertions)]
    #[test]
    fn dev_endpoint_only_on_loopback() {
        let d = delivery(
            "",
            &[
                ("DEMO_TELEMETRY_DEV_ENDPOINT", "http://127.0.0.1:4318/p"),
                ("DEMO_TELEMETRY_DEV_KEY", "phc_dev"),
            ],
        );
        assert_eq!(d.key(), Some("phc_dev"));
        assert_eq!(d.batch_url(), "http://127.0.0.1:4318/p/batch/");
        let d = delivery(
            "",
            &[
                ("DEMO_TELEMETRY_DEV_ENDPOINT", "https://eu.i.posthog.com"),
                ("DEMO_TELEMETRY_DEV_KEY", "phc_dev"),
            ],
        );
        assert!(!d.has_key());
        assert_eq!(d.source(), &DeliverySource::Embedded);
        assert!(d.ignored_override().is_some());
        // the key alone does nothing
        let d = delivery("", &[("DEMO_TELEMETRY_DEV_KEY", "phc_dev")]);
        assert!(!d.has_key());
    }
}
