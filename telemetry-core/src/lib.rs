//! Telemetry a command-line tool's users can trust.
//!
//! Events are structs declared with [`telemetry_event`]; this crate holds what the generated
//! code builds on ([`Event`], the value kinds, the run-time catalog) and the runtime that
//! resolves consent, keeps the anonymous identity, records events and delivers them.
//!
//! A host starts telemetry **first thing in `main`** (the sender that delivers events is a
//! process of the host's own binary, which [`Telemetry::start`] turns into the sender before
//! anything else runs; see [`delivery`]) and records events with [`Telemetry::track`]; its own
//! clap parser mounts the `telemetry` subcommand ([`cli::TelemetryArgs`]). Dropping the handle
//! at the end of `main` starts the sender; call [`Telemetry::finish`] before
//! [`std::process::exit`]:
//!
//! ```no_run
//! use telemetry_core::{Telemetry, TelemetryConfig};
//!
//! let telemetry: Telemetry = TelemetryConfig::builder("demo")
//!     .version(env!("CARGO_PKG_VERSION"))
//!     .project_key(option_env!("DEMO_POSTHOG_KEY").unwrap_or(""))
//!     .docs_url("https://example.com/demo/telemetry")
//!     .start();
//! ```
//!
//! | module | job |
//! | --- | --- |
//! | [`config`] | what the host says about itself |
//! | [`consent`] | on or off, and which source decided (environment snapshot, CI, project file, user config) |
//! | [`paths`] | the state directory and its files |
//! | [`fsutil`] | locked, atomic, link-refusing file access |
//! | [`identity`] | the anonymous id, aliasing on login, rotation on logout |
//! | [`record`] | the finished JSON record and the common properties |
//! | [`queue`] | the durable, bounded on-disk queue and the recently-sent log |
//! | [`delivery`] | sending the queue: the detached sender, background delivery, outcomes, back-off, the key and endpoint |
//! | [`handle`] | the [`Telemetry`] handle and the command timer |
//! | [`notice`] | the first-run notice |
//! | [`debug`] | `<APP>_TELEMETRY_DEBUG=1` |
//! | [`cli`] | the `telemetry` subcommand |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalog;
pub mod cli;
pub mod config;
pub mod consent;
pub mod debug;
pub mod delivery;
pub mod event;
pub mod fsutil;
pub mod handle;
pub mod identity;
pub mod notice;
pub mod paths;
pub mod queue;
pub mod record;

pub use catalog::{CatalogEntry, catalog};
pub use config::{
    BuildKind, ConfigError, ConsentPolicy, PostHogHost, TelemetryConfig, TelemetryConfigBuilder,
};
pub use consent::env::Environment;
pub use consent::{ConsentDecision, ConsentSource};
pub use delivery::Delivery;
pub use event::Event;
pub use event::kinds;
pub use event::meta::{EventMeta, PropertyKind, PropertyMeta, Sensitivity};
pub use event::values::{CodeLocation, ErrorClass, USER_DEFINED};
pub use event::writer::{PropertyValue, PropertyWriter};
pub use handle::{CommandOutcome, CommandTimer, Mode, Telemetry};
pub use record::{COMMON_PROPERTIES, Record};
pub use telemetry_macros::{telemetry_bucket, telemetry_enum, telemetry_event};

/// Names the place in the program where it is used, as a module path (never a file path):
/// the value of a `code_location` property.
#[macro_export]
macro_rules! code_location {
    () => {
        $crate::CodeLocation::__from_module_path(::core::module_path!())
    };
}

/// What the generated code uses; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;

    pub use crate::event::writer::write_json_str;

    use std::marker::PhantomData;

    use crate::kinds::{BucketedValue, EnumValue};

    /// Asks whether `T` is an enum value type without failing when it is not (the writer's
    /// bound reports that): the inherent constant exists only when `T: EnumValue`, otherwise
    /// the trait's `None` is found.
    pub struct EnumProbe<T: ?Sized>(PhantomData<T>);

    /// The fallback of [`EnumProbe`].
    pub trait NotEnumValue {
        /// No values: `T` is not an enum value type.
        const VALUES: Option<&'static [&'static str]> = None;
    }

    impl<T: ?Sized> NotEnumValue for EnumProbe<T> {}

    impl<T: EnumValue> EnumProbe<T> {
        /// The enum's values.
        pub const VALUES: Option<&'static [&'static str]> = Some(T::VALUES);
    }

    /// As [`EnumProbe`], for bucketed names.
    pub struct BucketProbe<T: ?Sized>(PhantomData<T>);

    /// The fallback of [`BucketProbe`].
    pub trait NotBucketedValue {
        /// No values: `T` is not a bucketed name.
        const VALUES: Option<&'static [&'static str]> = None;
    }

    impl<T: ?Sized> NotBucketedValue for BucketProbe<T> {}

    impl<T: BucketedValue> BucketProbe<T> {
        /// The bucket's known names.
        pub const VALUES: Option<&'static [&'static str]> = Some(T::KNOWN);
    }

    /// Whether two lists hold the same values, in any order (usable in constants).
    pub const fn same_values(a: &[&str], b: &[&str]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if !contains(b, a[i]) {
                return false;
            }
            i += 1;
        }
        true
    }

    const fn contains(list: &[&str], value: &str) -> bool {
        let mut i = 0;
        while i < list.len() {
            if str_eq(list[i], value) {
                return true;
            }
            i += 1;
        }
        false
    }

    const fn str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
}
