//! `telemetry inspect`: the last events, queued and recently sent, exactly as they are or were
//! sent. It only reads; it never sends anything.

use std::fmt::Write as _;

use super::{Io, command_name, report_config_error};
use crate::queue::SentRecord;
use crate::record::Record;

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
    let mut queued: Vec<Record> = Vec::new();
    let mut sent: Vec<SentRecord> = Vec::new();
    let mut damaged = 0;
    if let Some(queue) = telemetry.queue() {
        match queue.read_all() {
            Ok(contents) => {
                queued = contents.records;
                damaged = contents.damaged;
            }
            Err(e) => {
                failed = true;
                io.problem_fmt(format_args!("{e}"), &e.fix_hint());
            }
        }
        match queue.recently_sent() {
            Ok(log) => sent = log,
            Err(e) => {
                failed = true;
                io.problem_fmt(format_args!("{e}"), &e.fix_hint());
            }
        }
    }
    // Each event with when it was sent (`None`: still queued), queued ones first.
    let entry = |i: usize| match queued.get(i) {
        Some(record) => (record, None),
        None => {
            let s = &sent[i - queued.len()];
            (&s.record, Some(s.sent_at.as_str()))
        }
    };
    // Oldest first. The position breaks ties (the same record queued and sent), so the
    // unstable sort of these small keys orders them as a stable sort of the events would,
    // without instantiating a sort for the events themselves.
    let mut order: Vec<(&str, uuid::Uuid, usize)> = (0..queued.len() + sent.len())
        .map(|i| {
            let record = entry(i).0;
            (record.timestamp.as_str(), record.uuid, i)
        })
        .collect();
    order.sort_unstable();
    let total = order.len();
    let shown = &order[total.saturating_sub(number)..];

    if as_json {
        let mut out = String::from("{\"events\":[");
        for (n, &(_, _, i)) in shown.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let (record, sent_at) = entry(i);
            match sent_at {
                None => out.push_str("{\"state\":\"queued\",\"record\":"),
                Some(at) => {
                    out.push_str("{\"state\":\"sent\",\"sent_at\":");
                    crate::event::writer::write_json_str(&mut out, at);
                    out.push_str(",\"record\":");
                }
            }
            out.push_str(&record.json);
            out.push('}');
        }
        let _ = writeln!(
            out,
            "],\"queued\":{},\"sent\":{},\"damaged\":{damaged}}}",
            queued.len(),
            sent.len()
        );
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
            io.out_fmt(format_args!(
                "Telemetry is off ({why}), so nothing is recorded; `{cmd} telemetry status` says more.\n"
            ));
        }
    } else {
        let target = telemetry
            .delivery()
            .map(|d| d.batch_url())
            .unwrap_or_default();
        let mut out = String::new();
        let _ = write!(
            out,
            "The last {} of {total} recorded events ({} waiting to be sent, {} sent recently), oldest first.\n\
             Each is exactly the JSON sent to PostHog ({target}) in a batch (the properties may go in another order); inspect never sends anything.\n",
            shown.len(),
            queued.len(),
            sent.len(),
        );
        for (n, &(_, _, i)) in shown.iter().enumerate() {
            let (record, sent_at) = entry(i);
            let _ = write!(out, "\n# {} of {}: {} (", n + 1, shown.len(), record.event);
            match sent_at {
                None => out.push_str("waiting to be sent"),
                Some(at) => {
                    out.push_str("sent ");
                    out.push_str(at);
                }
            }
            out.push_str(")\n");
            out.push_str(&super::pretty(&record.json));
            out.push('\n');
        }
        io.out(&out);
    }
    if damaged > 0 {
        io.warn(&format!(
            "{damaged} damaged record(s) in the queue were skipped"
        ));
    }
    i32::from(failed)
}
