//! `telemetry inspect`: the last events, queued and recently sent, exactly as they are or were
//! sent. It only reads; it never sends anything.

use super::{Io, command_name, report_config_error};
use crate::record::Record;

/// One event shown.
struct Entry {
    record: Record,
    sent_at: Option<String>,
}

pub(super) fn run(
    telemetry: &super::Telemetry,
    number: usize,
    as_json: bool,
    io: &mut Io<'_>,
) -> i32 {
    if report_config_error(telemetry, io) {
        return 1;
    }
    let mut failed = false;
    let mut entries = Vec::new();
    let mut damaged = 0;
    let (mut queued, mut sent) = (0, 0);
    if let Some(queue) = telemetry.queue() {
        match queue.read_all() {
            Ok(contents) => {
                queued = contents.records.len();
                damaged = contents.damaged;
                entries.extend(contents.records.into_iter().map(|record| Entry {
                    record,
                    sent_at: None,
                }));
            }
            Err(e) => {
                failed = true;
                io.problem(&e.to_string(), &e.fix_hint());
            }
        }
        match queue.recently_sent() {
            Ok(log) => {
                sent = log.len();
                entries.extend(log.into_iter().map(|s| Entry {
                    record: s.record,
                    sent_at: Some(s.sent_at),
                }));
            }
            Err(e) => {
                failed = true;
                io.problem(&e.to_string(), &e.fix_hint());
            }
        }
    }
    entries.sort_by(|a, b| {
        (a.record.timestamp.as_str(), a.record.uuid)
            .cmp(&(b.record.timestamp.as_str(), b.record.uuid))
    });
    let total = entries.len();
    let shown = &entries[total.saturating_sub(number)..];

    if as_json {
        let mut out = String::from("{\"events\":[");
        for (i, entry) in shown.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match &entry.sent_at {
                None => out.push_str("{\"state\":\"queued\",\"record\":"),
                Some(at) => {
                    out.push_str("{\"state\":\"sent\",\"sent_at\":");
                    crate::event::writer::write_json_str(&mut out, at);
                    out.push_str(",\"record\":");
                }
            }
            out.push_str(&entry.record.json);
            out.push('}');
        }
        out.push_str(&format!(
            "],\"queued\":{queued},\"sent\":{sent},\"damaged\":{damaged}}}\n"
        ));
        io.out(&out);
    } else if total == 0 {
        io.out("No events recorded.\n");
        if !telemetry.is_recording() {
            let cmd = command_name(telemetry);
            let keyless = telemetry.delivery().is_some_and(|d| !d.has_key());
            let why = match telemetry.consent() {
                Some(consent) if consent.enabled && keyless => {
                    "this build has no PostHog key".to_string()
                }
                Some(consent) => consent.source.describe(super::home(telemetry).as_deref()),
                None => String::new(),
            };
            io.out(&format!(
                "Telemetry is off ({why}), so nothing is recorded; `{cmd} telemetry status` says more.\n"
            ));
        }
    } else {
        let target = telemetry
            .delivery()
            .map(|d| d.batch_url())
            .unwrap_or_default();
        io.out(&format!(
            "The last {} of {total} recorded events ({queued} waiting to be sent, {sent} sent recently), oldest first.\n\
             Each is exactly the JSON sent to PostHog ({target}) in a batch (the properties may go in another order); inspect never sends anything.\n",
            shown.len()
        ));
        for (i, entry) in shown.iter().enumerate() {
            let state = match &entry.sent_at {
                None => "waiting to be sent".to_string(),
                Some(at) => format!("sent {at}"),
            };
            io.out(&format!(
                "\n# {} of {}: {} ({state})\n{}\n",
                i + 1,
                shown.len(),
                entry.record.event,
                super::pretty(&entry.record.json)
            ));
        }
    }
    if damaged > 0 {
        io.warn(&format!(
            "{damaged} damaged record(s) in the queue were skipped"
        ));
    }
    i32::from(failed)
}
