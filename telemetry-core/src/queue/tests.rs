use super::segment::{HEAD_NAME, Header};
use super::*;
use crate::limits::{MAX_QUEUE_BYTES, MAX_RECORD_BYTES, MAX_SENT_RECORDS, QUEUE_SEGMENT_BYTES};
use crate::paths::StateDirSource;

fn queue() -> (tempfile::TempDir, Queue) {
    let home = tempfile::tempdir().unwrap();
    let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
    (home, Queue::new(dir))
}

fn record(n: usize) -> Record {
    Record::alias(&format!("anon-{n}"), "user")
}

/// An event record of about `size` bytes of JSON.
fn event(n: usize, size: usize) -> Record {
    let pad = "x".repeat(size.saturating_sub(150));
    Record::parse(&format!(
        r#"{{"uuid":"{}","event":"test.ping","distinct_id":"a","properties":{{"n":{n},"pad":"{pad}"}},"timestamp":"2026-11-30T00:00:00.000Z"}}"#,
        uuid::Uuid::now_v7()
    ))
    .unwrap()
}

/// Appends each record through `appender`; where each went.
fn append_each(appender: &mut Appender, records: &[Record]) -> Vec<Position> {
    records
        .iter()
        .map(|r| {
            appender
                .append(frame::encode(&r.json).as_bytes(), r.uuid)
                .unwrap()
                .0
        })
        .collect()
}

fn uuids(records: &[Record]) -> Vec<Uuid> {
    records.iter().map(|r| r.uuid).collect()
}

/// Settles everything a batch holds as sent.
fn send_all(q: &Queue, max: usize) -> usize {
    let mut batch = q.read_batch(max, usize::MAX).unwrap();
    let results = vec![Settled::Sent; batch.records.len()];
    q.settle(&mut batch, &results).unwrap().sent
}

fn queue_files(q: &Queue) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(q.dir().path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("telemetry-queue"))
        .collect();
    names.sort();
    names
}

#[test]
fn append_read_and_private_mode() {
    let (_home, q) = queue();
    assert_eq!(q.read_all().unwrap(), QueueContents::default());
    assert!(!q.has_waiting());
    let a = record(1);
    let b = record(2);
    q.append(std::slice::from_ref(&a)).unwrap();
    q.append(std::slice::from_ref(&b)).unwrap();
    let contents = q.read_all().unwrap();
    assert_eq!(contents.records, vec![a, b]);
    assert_eq!(contents.damaged, 0);
    assert!(q.has_waiting());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(q.dir().queue_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn damaged_lines_are_skipped_and_torn_tails_closed_off() {
    let (_home, q) = queue();
    let a = record(1);
    q.append(std::slice::from_ref(&a)).unwrap();
    let path = q.dir().queue_file();
    let mut content = std::fs::read(&path).unwrap();
    content.extend_from_slice(b"garbage line\n");
    let b_line = frame::encode(&record(2).json);
    content.extend_from_slice(&b_line.as_bytes()[..b_line.len() / 2]);
    std::fs::write(&path, &content).unwrap();
    let contents = q.read_all().unwrap();
    assert_eq!(contents.records, vec![a.clone()]);
    assert_eq!(contents.damaged, 2);
    // the next append is not glued onto the torn line
    let c = record(3);
    q.append(std::slice::from_ref(&c)).unwrap();
    let contents = q.read_all().unwrap();
    assert_eq!(contents.records, vec![a, c]);
    assert_eq!(contents.damaged, 2);
    // the sender passes the damaged lines, counted, as it settles
    assert_eq!(send_all(&q, 100), 2);
    assert_eq!(q.read_all().unwrap(), QueueContents::default());
    assert_eq!(q.stats().unwrap().dropped_damaged, 2);
}

#[test]
fn one_appender_follows_a_torn_line_written_by_another_process() {
    let (_home, q) = queue();
    let mut appender = Appender::new(q.dir().clone());
    let a = record(1);
    appender
        .append(frame::encode(&a.json).as_bytes(), a.uuid)
        .unwrap();
    // another process crashed half-way through a line
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(q.dir().queue_file())
        .unwrap();
    file.write_all(b"T1 0000").unwrap();
    let b = record(2);
    appender
        .append(frame::encode(&b.json).as_bytes(), b.uuid)
        .unwrap();
    let contents = q.read_all().unwrap();
    assert_eq!(contents.records, vec![a, b]);
    assert_eq!(contents.damaged, 1);
}

#[test]
fn the_head_is_sealed_at_its_size_and_the_queue_read_across_segments() {
    let (_home, q) = queue();
    let per_segment = (QUEUE_SEGMENT_BYTES / 1000) as usize + 1;
    let records: Vec<Record> = (0..per_segment * 2 + 10).map(|n| event(n, 1000)).collect();
    q.append(&records).unwrap();
    let files = queue_files(&q);
    assert_eq!(
        files,
        [
            "telemetry-queue.0000000001.jsonl",
            "telemetry-queue.0000000002.jsonl",
            HEAD_NAME
        ]
    );
    for name in &files[..2] {
        let size = std::fs::metadata(q.dir().path().join(name)).unwrap().len();
        assert!(
            (QUEUE_SEGMENT_BYTES..QUEUE_SEGMENT_BYTES + 1100).contains(&size),
            "{size}"
        );
    }
    assert_eq!(uuids(&q.read_all().unwrap().records), uuids(&records));
    // batches go across segments in order, and segments settled whole are removed
    let mut seen = Vec::new();
    loop {
        let mut batch = q.read_batch(300, usize::MAX).unwrap();
        if batch.records.is_empty() {
            break;
        }
        seen.extend(uuids(&batch.records));
        let results = vec![Settled::Sent; batch.records.len()];
        q.settle(&mut batch, &results).unwrap();
    }
    assert_eq!(seen, uuids(&records));
    assert!(queue_files(&q).is_empty(), "{:?}", queue_files(&q));
    assert_eq!(q.stats().unwrap().sent, records.len() as u64);
}

#[test]
fn the_bound_drops_the_oldest_segments_and_counts_them() {
    let (_home, q) = queue();
    let records: Vec<Record> = (0..12_000).map(|n| event(n, 1000)).collect();
    let dropped = q.append(&records).unwrap();
    assert!(dropped > 0);
    let total: u64 = queue_files(&q)
        .iter()
        .map(|n| std::fs::metadata(q.dir().path().join(n)).unwrap().len())
        .sum();
    assert!(total <= MAX_QUEUE_BYTES + 1100, "{total}");
    let kept = q.read_all().unwrap().records;
    assert_eq!(kept.len() + dropped, records.len());
    // the newest are kept, in order
    assert_eq!(uuids(&kept), uuids(&records[dropped..]));
    assert_eq!(q.stats().unwrap().dropped_overflow, dropped as u64);
}

#[test]
fn a_week_offline_at_a_heavy_pace_is_kept_whole() {
    // 2000 commands of 5 events; the demo's records are 300-450 bytes, the limits' doc says 500
    let (_home, q) = queue();
    let records: Vec<Record> = (0..10_000).map(|n| event(n, 500)).collect();
    assert_eq!(q.append(&records).unwrap(), 0);
    assert_eq!(q.read_all().unwrap().records.len(), 10_000);
    assert_eq!(q.stats().unwrap().dropped_overflow, 0);
}

#[test]
fn settling_part_of_a_batch_keeps_the_rest_in_order() {
    let (_home, q) = queue();
    let records: Vec<Record> = (0..5).map(record).collect();
    q.append(&records).unwrap();
    let mut batch = q.read_batch(3, 1 << 20).unwrap();
    assert_eq!(batch.records, records[..3].to_vec());
    assert_eq!(q.read_batch(10, 1).unwrap().records.len(), 1);
    let report = q
        .settle(&mut batch, &[Settled::Sent, Settled::Sent])
        .unwrap();
    assert_eq!((report.sent, report.rejected), (2, 0));
    let report = q
        .settle(&mut batch, &[Settled::Rejected("bad_request")])
        .unwrap();
    assert_eq!((report.sent, report.rejected), (0, 1));
    assert_eq!(q.read_all().unwrap().records, records[3..].to_vec());
    // a batch settled only in part: the rest is read again
    let mut batch = q.read_batch(10, 1 << 20).unwrap();
    q.settle(&mut batch, &[Settled::Rejected("bad_request")])
        .unwrap();
    assert_eq!(q.read_all().unwrap().records, vec![records[4].clone()]);
    let sent = q.recently_sent().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].record, records[0]);
    let stats = q.stats().unwrap();
    assert_eq!((stats.sent, stats.rejected), (2, 2));
    assert_eq!(stats.rejected_by["bad_request"], 2);
    assert_eq!(q.clear().unwrap(), 3);
    assert!(q.recently_sent().unwrap().is_empty());
    assert_eq!(q.stats().unwrap(), QueueStats::default());
    assert!(queue_files(&q).is_empty());
}

#[test]
fn appends_while_a_batch_is_out_are_kept() {
    let (_home, q) = queue();
    let mut appender = Appender::new(q.dir().clone());
    let mut append = |r: &Record| {
        appender
            .append(frame::encode(&r.json).as_bytes(), r.uuid)
            .unwrap()
    };
    let first: Vec<Record> = (0..3).map(record).collect();
    first.iter().for_each(|r| {
        append(r);
    });
    let mut batch = q.read_batch(100, usize::MAX).unwrap();
    // a host appends while the request is out, through the handle it keeps
    let later = record(9);
    append(&later);
    q.settle(&mut batch, &[Settled::Sent; 3]).unwrap();
    assert_eq!(q.read_all().unwrap().records, vec![later.clone()]);
    // everything sent: the head is removed, and the next append starts a new one
    assert_eq!(send_all(&q, 100), 1);
    assert!(queue_files(&q).is_empty());
    let last = record(10);
    append(&last);
    assert_eq!(q.read_all().unwrap().records, vec![last]);
}

#[test]
fn a_head_sealed_while_its_batch_was_out_is_settled_and_removed() {
    let (_home, q) = queue();
    let a = event(0, 1000);
    q.append(std::slice::from_ref(&a)).unwrap();
    let mut batch = q.read_batch(100, usize::MAX).unwrap();
    // enough to seal the head the batch was read from
    let more: Vec<Record> = (1..=(QUEUE_SEGMENT_BYTES / 1000) as usize + 2)
        .map(|n| event(n, 1000))
        .collect();
    q.append(&more).unwrap();
    assert!(queue_files(&q).contains(&"telemetry-queue.0000000001.jsonl".to_string()));
    q.settle(&mut batch, &[Settled::Sent]).unwrap();
    assert_eq!(uuids(&q.read_all().unwrap().records), uuids(&more));
}

#[test]
fn sent_log_is_bounded() {
    let (_home, q) = queue();
    let records: Vec<Record> = (0..MAX_SENT_RECORDS + 10).map(record).collect();
    q.append(&records).unwrap();
    send_all(&q, 1000);
    let sent = q.recently_sent().unwrap();
    assert_eq!(sent.len(), MAX_SENT_RECORDS);
    assert_eq!(sent.last().unwrap().record, *records.last().unwrap());
}

#[test]
fn withdrawn_records_leave_no_trace_and_are_not_counted() {
    let (_home, q) = queue();
    let mut appender = Appender::new(q.dir().clone());
    let records: Vec<Record> = (0..4).map(record).collect();
    let positions = append_each(&mut appender, &records);
    // the first is sent before the user turns telemetry off: it cannot be withdrawn
    let mut batch = q.read_batch(1, usize::MAX).unwrap();
    q.settle(&mut batch, &[Settled::Sent]).unwrap();
    let n = q
        .discard(&positions[..3], &[records[3].uuid, Uuid::nil()])
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(q.read_all().unwrap(), QueueContents::default());
    let text = std::fs::read_to_string(q.dir().queue_file()).unwrap();
    for r in &records[1..] {
        assert!(!text.contains(&r.uuid.to_string()));
    }
    // the sender passes the blanks without counting them
    assert_eq!(send_all(&q, 100), 0);
    let stats = q.stats().unwrap();
    assert_eq!((stats.sent, stats.dropped_damaged), (1, 0));
    assert!(queue_files(&q).is_empty());
    // a position that no longer holds its record is left alone
    let other = record(7);
    q.append(std::slice::from_ref(&other)).unwrap();
    assert_eq!(q.discard(&positions[1..2], &[]).unwrap(), 0);
    assert_eq!(q.read_all().unwrap().records, vec![other]);
}

#[test]
fn a_queue_written_before_segments_is_converted_and_kept() {
    let (_home, q) = queue();
    crate::fsutil::ensure_dir(q.dir().path()).unwrap();
    let old: Vec<Record> = (0..3).map(record).collect();
    let content: String = old.iter().map(|r| frame::encode(&r.json)).collect();
    std::fs::write(q.dir().queue_file(), content).unwrap();
    assert_eq!(q.read_all().unwrap().records, old);
    let new = record(3);
    q.append(std::slice::from_ref(&new)).unwrap();
    let bytes = std::fs::read(q.dir().queue_file()).unwrap();
    assert!(Header::parse(&bytes).is_some());
    let mut all = old.clone();
    all.push(new);
    assert_eq!(q.read_all().unwrap().records, all);
    // the sender converts one nobody appended to since
    let (_home, q) = queue();
    crate::fsutil::ensure_dir(q.dir().path()).unwrap();
    let content: String = old.iter().map(|r| frame::encode(&r.json)).collect();
    std::fs::write(q.dir().queue_file(), content).unwrap();
    let mut batch = q.read_batch(2, usize::MAX).unwrap();
    assert_eq!(batch.records, old[..2].to_vec());
    q.settle(&mut batch, &[Settled::Sent, Settled::Sent])
        .unwrap();
    assert_eq!(q.read_all().unwrap().records, old[2..].to_vec());
}

#[test]
fn concurrent_appenders_lose_nothing() {
    let (_home, q) = queue();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let dir = q.dir().clone();
            std::thread::spawn(move || {
                let mut appender = Appender::new(dir);
                (0..300)
                    .map(|n| {
                        let r = event(t * 1000 + n, 400);
                        appender
                            .append(frame::encode(&r.json).as_bytes(), r.uuid)
                            .unwrap();
                        r.uuid
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut written: Vec<Uuid> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let contents = q.read_all().unwrap();
    assert_eq!(contents.damaged, 0);
    let mut read = uuids(&contents.records);
    written.sort();
    read.sort();
    assert_eq!(read, written);
}

#[cfg(unix)]
#[test]
fn acknowledgements_need_a_writable_directory() {
    use std::os::unix::fs::PermissionsExt;
    let (_home, q) = queue();
    q.append(&[record(1)]).unwrap();
    q.check_acknowledgeable().unwrap();
    assert_eq!(
        std::fs::read_dir(q.dir().path()).unwrap().count(),
        2,
        "the probe leaves nothing behind (queue and lock remain)"
    );
    if rustix::process::geteuid().is_root() {
        eprintln!("skipped the rest: root writes in a read-only directory");
        return;
    }
    let dir = q.dir().path();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let refused = q.check_acknowledgeable();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(refused.is_err());
}

#[test]
fn refuses_a_symlinked_queue() {
    #[cfg(unix)]
    {
        let (home, q) = queue();
        crate::fsutil::ensure_dir(q.dir().path()).unwrap();
        let target = home.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        std::os::unix::fs::symlink(&target, q.dir().queue_file()).unwrap();
        assert!(q.append(&[record(1)]).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"");
    }
}

#[test]
fn a_record_over_the_limit_is_refused() {
    let (_home, q) = queue();
    let big = event(0, MAX_RECORD_BYTES + 10);
    assert!(matches!(
        q.append(&[big]),
        Err(QueueError::RecordTooLarge { .. })
    ));
}

#[test]
fn a_full_head_sent_whole_while_another_process_sealed_it_leaves_the_new_head_alone() {
    let (_home, q) = queue();
    // a head at its size, not sealed yet (the next append seals it)
    let head = q.dir().queue_file();
    let mut full = Vec::new();
    while std::fs::metadata(&head).map_or(0, |m| m.len()) < QUEUE_SEGMENT_BYTES {
        let next = event(full.len(), 1000);
        q.append(std::slice::from_ref(&next)).unwrap();
        full.push(next);
    }
    assert_eq!(queue_files(&q), [HEAD_NAME]);
    let mut batch = q.read_batch(usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.records.len(), full.len());
    // while the request is out, a host appends: the head is sealed, a new one holds the record
    let later = record(9);
    q.append(std::slice::from_ref(&later)).unwrap();
    assert_eq!(
        queue_files(&q),
        ["telemetry-queue.0000000001.jsonl", HEAD_NAME]
    );
    // the sealed segment, settled whole, is removed; the new head, at the old one's path, is not
    q.settle(&mut batch, &vec![Settled::Sent; full.len()])
        .unwrap();
    assert_eq!(queue_files(&q), [HEAD_NAME]);
    assert_eq!(q.read_all().unwrap().records, vec![later]);
}

/// Where the standard library shows no file identity (Windows: no inode, no link count), the
/// queue tells segments apart by the ids in their headers. The cases where a process holds a
/// segment open while another removes, seals or replaces it hold that way too.
#[test]
fn without_file_identity_the_headers_tell_segments_apart() {
    super::segment::tests::by_header(|| {
        appends_while_a_batch_is_out_are_kept();
        a_head_sealed_while_its_batch_was_out_is_settled_and_removed();
        the_head_is_sealed_at_its_size_and_the_queue_read_across_segments();
        withdrawn_records_leave_no_trace_and_are_not_counted();
        a_full_head_sent_whole_while_another_process_sealed_it_leaves_the_new_head_alone();
        one_appender_follows_a_torn_line_written_by_another_process();
    });
}

/// The summary `status`, `inspect` and `off` show counts what reading every record finds,
/// and parses only the newest: across sealed segments and the head, past an acknowledged
/// part, withdrawn blanks, damaged lines and a torn tail.
#[test]
fn the_summary_counts_what_a_full_read_finds_and_parses_only_the_newest() {
    let (_home, q) = queue();
    assert_eq!(q.summary(10).unwrap().waiting, 0);
    let mut appender = Appender::new(q.dir().clone());
    let per_segment = (QUEUE_SEGMENT_BYTES / 1000) as usize + 1;
    let records: Vec<Record> = (0..per_segment + 20).map(|n| event(n, 1000)).collect();
    let positions = append_each(&mut appender, &records);
    assert_eq!(queue_files(&q).len(), 2, "a sealed segment and the head");
    // the first five sent, the last but one withdrawn, a damaged line and a torn tail
    assert_eq!(send_all(&q, 5), 5);
    let withdrawn = records.len() - 2;
    assert_eq!(
        q.discard(&positions[withdrawn..=withdrawn], &[]).unwrap(),
        1
    );
    let mut head = std::fs::OpenOptions::new()
        .append(true)
        .open(q.dir().queue_file())
        .unwrap();
    head.write_all(b"T1 00000000 3 abc\n").unwrap();
    let last = &records[records.len() - 1];
    q.append(std::slice::from_ref(last)).unwrap();
    head.write_all(b"T1 0000").unwrap();

    let full = q.read_all().unwrap();
    for n in [0, 1, 3, full.records.len(), full.records.len() + 5] {
        let summary = q.summary(n).unwrap();
        assert_eq!(summary.waiting, full.records.len());
        assert_eq!(summary.damaged, full.damaged);
        let newest = &full.records[full.records.len().saturating_sub(n)..];
        assert_eq!(summary.newest, newest, "the newest {n}");
    }
    assert_eq!(full.records.len(), records.len() - 5 - 1 + 1);
    assert_eq!(full.damaged, 2);
    assert_eq!(q.summary(1).unwrap().newest, std::slice::from_ref(last));

    // a line whose frame holds but whose JSON is no record: counted as waiting until it is
    // among the newest read, then as damaged
    let (_home, q) = queue();
    std::fs::create_dir_all(q.dir().path()).unwrap();
    let json = r#"{"not":"a record"}"#;
    std::fs::write(q.dir().queue_file(), frame::encode(json)).unwrap();
    let summary = q.summary(0).unwrap();
    assert_eq!((summary.waiting, summary.damaged), (1, 0));
    let summary = q.summary(1).unwrap();
    assert_eq!((summary.waiting, summary.damaged), (0, 1));
}
