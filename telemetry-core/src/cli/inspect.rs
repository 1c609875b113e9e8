//! `telemetry inspect`: the last events, queued and recently sent, exactly as they are or were
//! sent. It only reads; it never sends anything.

use std::fmt::Write as _;

use super::{Io, command_name, report_config_error};
use crate::queue::SentRecord;
use crate::record::Record;

/// Where an event goes: its timestamp, its UUID, and its position (queued ones first).
type Key<'a> = (&'a str, uuid::Uuid, usize);

/// Inserts `key` into `order`, which is in order, where a binary search puts it.
fn insert_in_order<'a>(order: &mut Vec<Key<'a>>, key: Key<'a>) {
    order.insert(order.partition_point(|k| *k < key), key);
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
    // the newest `number` queued records (the rest are only counted: a full queue holds
    // some 20,000), and the whole sent log (at most a few hundred)
    let mut queued: Vec<Record> = Vec::new();
    let mut waiting = 0;
    let mut sent: Vec<SentRecord> = Vec::new();
    let mut damaged = 0;
    if let Some(queue) = telemetry.queue() {
        match queue.summary(number) {
            Ok(summary) => {
                queued = summary.newest;
                waiting = summary.waiting;
                damaged = summary.damaged;
            }
            Err(e) => {
                failed = true;
                io.queue_problem("", e);
            }
        }
        match queue.recently_sent() {
            Ok(log) => sent = log,
            Err(e) => {
                failed = true;
                io.queue_problem("", e);
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
    // Oldest first. The position breaks ties (the same record queued and sent), so these
    // small keys in order are the events as a stable sort would order them. Each key is
    // inserted where a binary search puts it, rather than sorted: a sort instantiates about
    // 7 KB of sorting code for the key type in every host. The sent log and the queue are
    // each oldest first, and what was sent is older than what waits, so taking the sent log
    // first puts nearly every key at the end.
    let read = queued.len() + sent.len();
    let mut order: Vec<Key<'_>> = Vec::with_capacity(read);
    for i in (queued.len()..read).chain(0..queued.len()) {
        let record = entry(i).0;
        insert_in_order(&mut order, (record.timestamp.as_str(), record.uuid, i));
    }
    let shown = &order[read.saturating_sub(number)..];
    let total = waiting + sent.len();

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
            "],\"queued\":{waiting},\"sent\":{},\"damaged\":{damaged}}}",
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
            waiting,
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

#[cfg(test)]
mod tests {
    use super::{Key, insert_in_order};

    /// Keys inserted one by one, in any order, end as the sort before them ordered them.
    #[test]
    fn insertions_in_order_are_the_sort() {
        let stamps = [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:01Z",
            "2025-12-31T23:59:59Z",
        ];
        let uuids = [uuid::Uuid::from_u128(2), uuid::Uuid::from_u128(1)];
        // the same record queued and sent (same timestamp and UUID), and near misses
        let keys: Vec<Key<'_>> = (0..24)
            .map(|i| (stamps[i % 3], uuids[i / 3 % 2], i))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        // a few orders of insertion: as given, reversed, and shuffled by a fixed stride
        let orders: [Vec<usize>; 3] = [
            (0..24).collect(),
            (0..24).rev().collect(),
            (0..24).map(|i| i * 7 % 24).collect(),
        ];
        for order in orders {
            let mut inserted = Vec::new();
            for i in order {
                insert_in_order(&mut inserted, keys[i]);
            }
            assert_eq!(inserted, sorted);
        }
    }
}
