//! The generated documentation's section on delivery, written from the constants the code
//! uses, so the page cannot drift from the behaviour.

use std::fmt::Write;
use std::time::Duration;

use crate::event::common::{ALIAS_EVENT, GEOIP_DISABLE, PROCESS_PERSON_PROFILE};
use crate::limits::{
    BACKGROUND_STOP_WAIT, BACKOFF_BASE, BACKOFF_CAP, BATCH_MAX_RECORDS, KEPT_DOLLAR_PROPERTIES,
    LAST_BATCH_START, MAX_QUEUE_BYTES, MAX_SENT_RECORDS, QUEUE_SEGMENT_BYTES, RATE_LIMITED_BACKOFF,
    REMOVED_LIBRARY_PROPERTIES, REQUEST_TIMEOUT, SENDER_DEADLINE,
};

/// Every header a delivery request carries (names as HTTP/1.1 sends them in lower case), for
/// the page; `delivery.rs`'s end-to-end test holds the sender to it.
pub(crate) const WIRE_HEADERS: &[&str] = &[
    "host",
    "content-type: application/json",
    "content-length",
    "user-agent: posthog-rs/<its version>",
    "accept: */*",
    "accept-encoding: gzip",
];

/// The Markdown section "How events travel" for a program run as `binary` whose state
/// directory is shown as `state_dir` (e.g. `~/.demo`): the queue and its bounds, the sender,
/// its deadline, batches and back-off, and the exact properties on the wire.
pub(crate) fn docs_section(binary: &str, state_dir: &str) -> String {
    let mut out = String::from("## How events travel\n\n");
    let _ = writeln!(
        out,
        "Recording an event appends it, as the exact JSON that will be sent, to a queue file in `{state_dir}` (`telemetry-queue.jsonl`, and `telemetry-queue.<n>.jsonl` for older events while offline; readable by you only); the command never waits for the network. Events recorded while telemetry is off are never written anywhere.\n"
    );
    let _ = writeln!(
        out,
        "- **The queue** takes at most {} MiB of disk: about 16,000 events of a typical 500 bytes, so a week offline at a heavy pace (2,000 commands of 5 events) is kept whole. Past that, the oldest events are dropped, {} KiB at a time, and counted (`{binary} telemetry status` shows how many). Each line carries a checksum, so an event damaged by a crash is skipped and counted, never sent half-read.",
        MAX_QUEUE_BYTES / (1024 * 1024),
        QUEUE_SEGMENT_BYTES / 1024
    );
    let _ = writeln!(
        out,
        "- **The sender.** When a command that recorded something ends and a sender is due (see below), `{binary}` starts a copy of itself in the background, detached from your terminal and printing nothing, which sends the queue to PostHog and exits. It sends batches of at most {BATCH_MAX_RECORDS} events, oldest first. Each request is tried once per sender and times out after {}: a slow server that answers within that time gets each batch once, and one slower than that gets it again only from a later sender, after the back-off below (the cost of not retrying at once: a passing network error also waits for the next sender). It starts no request after {} and is stopped after {} whatever the network does. Only one sender runs at a time. It runs no other program: it is started with a `PATH` in which no program can be found, in `/` rather than in your working directory.",
        human(REQUEST_TIMEOUT),
        human(LAST_BATCH_START),
        human(SENDER_DEADLINE)
    );
    let _ = writeln!(
        out,
        "- **When a sender starts.** A sender is due when none has started for {} (a single command is sent by the sender its own end starts), when the last one failed and its back-off is over, when the last one sent nothing (it was stopped, say), or when the queue holds {} KiB or more; while one runs, it also sends what later commands record. So a burst of commands starts one sender, not one every few commands; the cost is that the events of the burst's last commands may wait until the first command that ends after that interval (`{binary} telemetry status` is one). Nothing is lost while they wait.",
        human(crate::limits::FLUSH_INTERVAL),
        crate::limits::FLUSH_QUEUE_BYTES / 1024
    );
    let _ = writeln!(
        out,
        "- **Delivered once.** Events the server accepted leave the queue for a short log of the last {MAX_SENT_RECORDS} sent events, which `{binary} telemetry inspect` also shows. Each event keeps its id (a UUID) across attempts, and PostHog de-duplicates on it, so a sender stopped half-way loses nothing and a batch sent again is not counted twice."
    );
    let _ = writeln!(
        out,
        "- **Failures.** When the server cannot be reached, or answers with an error that may pass (a timeout, 404, 408, 429 or 5xx), the events stay queued and no sender starts for {}, doubling after each failure in a row up to {} ({} at least after a 429, whatever its `Retry-After` says: the PostHog library does not pass that header on), so a tool used offline does not try on every command. When the server refuses a batch as invalid (400) or too large (413), the batch is split in halves and each half sent again, down to single events, so only an event refused on its own is dropped (counted as invalid or as too large) and the others are delivered. Events refused for good for any other reason (401, 402, 403) are dropped and counted by reason. `{binary} telemetry status` shows the last success, the last failure and when the next attempt is allowed.",
        human(BACKOFF_BASE),
        human(BACKOFF_CAP),
        human(RATE_LIMITED_BACKOFF)
    );
    let _ = writeln!(
        out,
        "- **Aliases first.** The alias that links the anonymous identifier to your account after a login is sent, and acknowledged by the server, before any event under that account."
    );
    let _ = writeln!(
        out,
        "- **A directory telemetry cannot write.** When `{state_dir}` or the files in it cannot be written by you (a read-only directory, or files that belong to another user, as a command run with `sudo` used to leave), nothing is sent from it: events sent could not be marked as sent and would go again with every command. When the directory itself belongs to another user (one a command run with `sudo` made, or a shared folder), who could read or change what is kept there, nothing is recorded there or sent from it. `{binary} telemetry status` names the problem and the command that fixes it, and `{binary} telemetry clear` deletes such files where it can. Run as root in another user's directory (`sudo {binary} ...`), telemetry records and sends nothing, so it leaves no file there that the user cannot use."
    );
    let _ = writeln!(
        out,
        "- **Servers.** When `{binary}` runs as a long-running program (a server, if it has one), it starts the same sender every few seconds while it runs, so its events do not wait for it to exit; the program itself never sends, and stopping it never waits for the network: it waits at most {} for that thread, and whatever is still queued goes with the next sender.\n",
        human(BACKGROUND_STOP_WAIT)
    );
    let _ = writeln!(
        out,
        "**What is on the wire.** Each request is a `POST` to PostHog's `/batch/` endpoint with the body `{{\"api_key\", \"historical_migration\": false, \"sent_at\", \"batch\": [events]}}`, and each event is `{{\"uuid\", \"event\", \"distinct_id\", \"properties\", \"timestamp\"}}` with exactly the properties `{binary} telemetry inspect` shows (their order may differ, so compare them as JSON). The PostHog library's own properties ({}) are removed before sending. The only `$` properties sent are {}: `{GEOIP_DISABLE}: true` on every event, so PostHog does not look up where your IP address is, and `{PROCESS_PERSON_PROFILE}: false` on every event sent under the anonymous identifier. The alias sent after a login is an event named `{ALIAS_EVENT}` whose properties are `distinct_id` (the anonymous identifier), `alias` (your account's `p_` identifier) and `{GEOIP_DISABLE}`. `sent_at` is the sender's clock as it sends (PostHog uses it to correct a wrong clock); an event's `timestamp` is when it was recorded, to the millisecond, and its `uuid` is a UUID version 7: that same time, to a fraction of a millisecond, then random bits. The request's headers are only {}: no cookie, nothing about your machine.",
        code_list(REMOVED_LIBRARY_PROPERTIES, ", "),
        code_list(KEPT_DOLLAR_PROPERTIES, " and "),
        code_list(WIRE_HEADERS, ", "),
    );
    out
}

/// `items`, each in backticks, joined with `separator`.
fn code_list(items: &[&str], separator: &str) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(separator)
}

/// `50 ms`, `2 s`, `5 min`, `1 h`.
fn human(duration: Duration) -> String {
    if duration.subsec_nanos() != 0 || duration.is_zero() {
        return format!("{} ms", duration.as_millis());
    }
    let secs = duration.as_secs();
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_names_the_numbers() {
        let text = docs_section("demo", "~/.demo");
        assert!(text.starts_with("## How events travel\n\n"));
        for needle in [
            "`~/.demo`",
            "at most 8 MiB of disk",
            "512 KiB at a time",
            "at most 2000 events",
            "times out after 5 s",
            "no request after 4 s",
            "after 9 s",
            "split in halves",
            "`Retry-After`",
            "at most 50 ms",
            "for 30 s",
            "up to 1 h",
            "5 min at least",
            "`$lib`",
            "`$geoip_disable: true`",
            "`demo telemetry inspect`",
            "runs no other program",
            "`sudo demo ...`",
            "never waits for the network",
        ] {
            assert!(text.contains(needle), "{needle} missing in:\n{text}");
        }
        // each list in its own sentence (they were once passed in the wrong order)
        let wire = text.split("**What is on the wire.**").nth(1).unwrap();
        let sentence = |start: &str| {
            let from = wire
                .find(start)
                .unwrap_or_else(|| panic!("{start} missing: {wire}"));
            wire[from..].split(". ").next().unwrap().to_string()
        };
        let removed = sentence("The PostHog library's own properties");
        let kept = sentence("The only `$` properties sent are");
        let headers = sentence("The request's headers are only");
        for (sentence, has, lacks) in [
            (&removed, "`$lib`", ["`$geoip_disable`", "`user-agent"]),
            (&kept, "`$geoip_disable`", ["`$lib`", "`user-agent"]),
            (
                &headers,
                "`user-agent: posthog-rs/",
                ["`$lib`", "`$geoip_disable`"],
            ),
        ] {
            assert!(sentence.contains(has), "{has} missing: {sentence}");
            for wrong in lacks {
                assert!(!sentence.contains(wrong), "{wrong} in: {sentence}");
            }
        }
        assert_eq!(human(Duration::from_secs(90)), "90 s");
        assert_eq!(human(Duration::from_millis(50)), "50 ms");
        // the page says each request is tried once per sender
        assert_eq!(crate::limits::REQUEST_ATTEMPTS, 1);
    }
}
