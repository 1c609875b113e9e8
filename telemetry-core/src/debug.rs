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
use crate::environment::is_truthy;
use crate::record::Record;

/// Whether debug mode is on: `<APP>_TELEMETRY_DEBUG` is set to a truthy value.
pub(crate) fn is_on(config: &TelemetryConfig) -> bool {
    config
        .environment()
        .get(&config.env_names().debug)
        .is_some_and(is_truthy)
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
