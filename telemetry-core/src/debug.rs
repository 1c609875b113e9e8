//! Debug mode: `<APP>_TELEMETRY_DEBUG=1` prints every record to stderr, exactly as it would be
//! sent, and never records or sends it (like Next.js's `NEXT_TELEMETRY_DEBUG`, unlike
//! Turborepo's debug mode, which still sends).
//!
//! It works without a key and whatever the consent, so host authors can check their
//! instrumentation in a development build; it creates no file. Events are attributed to the
//! stored identity when telemetry is on and one exists, otherwise to an id made up for this
//! process only.

use std::io::Write;

use crate::config::TelemetryConfig;
use crate::environment::Switch;
use crate::record::Record;

/// What `<APP>_TELEMETRY_DEBUG` says.
fn switch(config: &TelemetryConfig) -> Switch {
    Switch::read(config.environment().get(&config.env_names().debug))
}

/// Whether debug mode is on: `<APP>_TELEMETRY_DEBUG` says yes (`1`, `true`, `yes`, `on`). A
/// value not understood leaves it off: debug mode prints on the host's stderr.
pub(crate) fn is_on(config: &TelemetryConfig) -> bool {
    switch(config).turns_on()
}

/// What `status` says when `<APP>_TELEMETRY_DEBUG` holds a value that is not understood.
pub(crate) fn not_understood(config: &TelemetryConfig) -> Option<String> {
    let variable = &config.env_names().debug;
    let value = config.environment().get(variable)?;
    (!switch(config).is_understood())
        .then(|| format!("{variable}={value} is not understood, so debug mode is off; use 1 or 0"))
}

/// The line printed for `record`: `[<app> telemetry debug: not sent] <record JSON>`.
fn line(app: &str, record: &Record) -> String {
    format!("[{app} telemetry debug: not sent] {}\n", record.json)
}

/// Prints `record` to `out` (stderr in the handle), ignoring write errors.
pub(crate) fn print(out: &mut dyn Write, app: &str, record: &Record) {
    let _ = out.write_all(line(app, record).as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(value: &str) -> TelemetryConfig {
        TelemetryConfig::builder(&crate::schema::DEMO)
            .environment(crate::Environment::empty().with("DEMO_TELEMETRY_DEBUG", value))
            .on_terminal(false)
            .build()
            .unwrap()
    }

    #[test]
    fn only_a_clear_yes_turns_it_on() {
        for on in ["1", "true", "yes", "ON"] {
            assert!(is_on(&config(on)), "{on}");
            assert_eq!(not_understood(&config(on)), None);
        }
        for off in ["0", "false", ""] {
            assert!(!is_on(&config(off)), "{off}");
            assert_eq!(not_understood(&config(off)), None);
        }
        for doubt in ["maybe", "off", " "] {
            assert!(!is_on(&config(doubt)), "{doubt:?}");
            let note = not_understood(&config(doubt)).unwrap();
            assert!(
                note.contains("not understood, so debug mode is off"),
                "{note}"
            );
        }
    }

    #[test]
    fn prints_the_record_verbatim() {
        let record = Record::alias("a", "b");
        let mut out = Vec::new();
        print(&mut out, "demo", &record);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("[demo telemetry debug: not sent] {"));
        assert!(text.trim_end().ends_with(&record.json));
    }
}
