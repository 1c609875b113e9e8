//! The queue's files: segments, each starting with a header that names it and says how much of
//! it the server has acknowledged.
//!
//! ```text
//! #TQ1 <32 hex digits: the segment's id> <20 decimal digits: acknowledged up to this byte>\n
//! T1 <crc> <len> <record JSON>\n      (framed records, see `frame`)
//! #                               \n  (a record withdrawn by `telemetry off`: same length)
//! ```
//!
//! - The **head**, `telemetry-queue.jsonl`, is the one segment appended to.
//! - When the head reaches [`QUEUE_SEGMENT_BYTES`] it is **sealed**: renamed to
//!   `telemetry-queue.<10-digit sequence>.jsonl` (sequence numbers grow with age), and a new
//!   head is started. Sealed segments are only ever read, acknowledged and removed whole.
//! - A host that finds the lock held (by a command stopped with Ctrl-Z while it appended)
//!   writes its records to a **segment beside the head** of its own instead of waiting:
//!   `telemetry-queue.<sequence>-<32 hex digits: its id>.jsonl`, created with its first record
//!   under a temporary name and renamed into place without the lock, so it appears complete,
//!   and locked (`flock`) by its writer while it appends its later records. Its sequence is
//!   one more than the largest in any segment's name then, so the segments beside the head
//!   sort in the order they were made (a process's second one after its first). They are
//!   **read after the head**: each holds records written after the ones that were in the head
//!   (or sealed) when it was made, and in particular after an alias (`link` writes it under
//!   the lock, so into the head), which must reach the server before any event under the
//!   account. (Records the head receives later are then read before older ones beside it:
//!   order across those files is by their own timestamps, as on the server.) It is read and
//!   acknowledged like a sealed segment; while its writer holds it, its last line may be being
//!   written (as the head's) and it is not removed.
//! - The acknowledged offset lives in the segment itself, so sealing (a rename) carries it
//!   along, and the sender updates it with one positioned write of 20 bytes, never a rewrite.
//!   Its id lets a process find again, after a rename, the records it appended.
//! - A head without a header (written by a version before segments) is converted once, under
//!   the lock, by whoever meets it first.

use std::fs::File;
use std::path::{Path, PathBuf};

#[cfg(doc)]
use crate::limits::QUEUE_SEGMENT_BYTES;

/// The head's file name.
pub(crate) const HEAD_NAME: &str = "telemetry-queue.jsonl";
const SEALED_PREFIX: &str = "telemetry-queue.";
const SEALED_SUFFIX: &str = ".jsonl";
const TAG: &[u8] = b"#TQ1 ";
/// Where the acknowledged offset's 20 digits start.
pub(crate) const ACKED_AT: u64 = (TAG.len() + 32 + 1) as u64;
/// The header's length, newline included.
pub(crate) const HEADER_LEN: u64 = ACKED_AT + 20 + 1;

/// What a segment's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The segment's id (random, fixed for its life).
    pub id: u128,
    /// Bytes from the start of the file that were acknowledged (at least [`HEADER_LEN`]).
    pub acked: u64,
}

impl Header {
    /// A new segment's header: nothing acknowledged.
    pub fn fresh() -> Self {
        Self {
            id: uuid::Uuid::new_v4().as_u128(),
            acked: HEADER_LEN,
        }
    }

    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut out = [b' '; HEADER_LEN as usize];
        out[..TAG.len()].copy_from_slice(TAG);
        super::frame::put_hex(&mut out[TAG.len()..TAG.len() + 32], self.id);
        out[ACKED_AT as usize..ACKED_AT as usize + 20].copy_from_slice(&encode_acked(self.acked));
        out[HEADER_LEN as usize - 1] = b'\n';
        out
    }

    /// The header at the start of `bytes`, if it is one.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let header = bytes.get(..HEADER_LEN as usize)?;
        let rest = header.strip_prefix(TAG)?;
        let (id, rest) = rest.split_at(32);
        let (space, rest) = rest.split_first()?;
        let (acked, newline) = rest.split_at(20);
        if *space != b' ' || newline != b"\n" {
            return None;
        }
        let id = u128::from_str_radix(std::str::from_utf8(id).ok()?, 16).ok()?;
        let acked: u64 = std::str::from_utf8(acked).ok()?.parse().ok()?;
        (acked >= HEADER_LEN).then_some(Self { id, acked })
    }
}

/// The 20 digits of an acknowledged offset.
pub(crate) fn encode_acked(acked: u64) -> [u8; 20] {
    let mut digits = [b'0'; 20];
    let mut buffer = itoa::Buffer::new();
    let text = buffer.format(acked).as_bytes();
    digits[20 - text.len()..].copy_from_slice(text);
    digits
}

/// Reads the header of an open segment (one positioned read).
pub(crate) fn read_header(file: &File) -> Option<Header> {
    let mut bytes = [0u8; HEADER_LEN as usize];
    read_exact_at(file, &mut bytes, 0).ok()?;
    Header::parse(&bytes)
}

/// The id in the header of the segment at `path`: `None` when nothing is there, or no header.
pub(crate) fn id_at(path: &Path) -> Option<u128> {
    let file = crate::fsutil::open_regular(path).ok()??;
    read_header(&file).map(|header| header.id)
}

/// Whether this process tells a segment it holds open from another at the same path by the id
/// in its header rather than by the file's identity. Where the standard library gives no
/// stable file identity (off Unix: no inode, no link count), `fsutil::is_at` can only say that
/// something is at the path, and `fsutil::is_linked` that the file was not removed: a head
/// removed by a sender (or sealed by another process) would go on being appended to, and its
/// records lost. The header's id is random per segment, so it tells them apart anywhere, for
/// one small read per append.
pub(crate) fn identity_by_header() -> bool {
    #[cfg(test)]
    if tests::BY_HEADER.with(std::cell::Cell::get) {
        return true;
    }
    !cfg!(unix)
}

/// Whether the file at `path` is the open segment whose id is `id` and metadata `meta`.
pub(crate) fn is_at(path: &Path, id: Option<u128>, meta: &std::fs::Metadata) -> bool {
    match id {
        Some(id) if identity_by_header() => id_at(path) == Some(id),
        _ => crate::fsutil::is_at(path, meta),
    }
}

/// Whether a record line (or a torn line) is a withdrawn record or a header: skipped without
/// counting it as damaged.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.first() == Some(&b'#')
}

/// Overwrites a record line of `line.len()` bytes (newline included) with what a withdrawn
/// record leaves: `#`, spaces, a newline.
pub(crate) fn blank(line: &mut [u8]) {
    line.fill(b' ');
    if let Some(first) = line.first_mut() {
        *first = b'#';
    }
    if let Some(last) = line.last_mut() {
        *last = b'\n';
    }
}

/// One segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentPath {
    pub path: PathBuf,
    /// The sequence number of a sealed segment (for a segment written beside the head, the one
    /// in its name, which orders it among those); `None` for the head.
    pub sealed: Option<u64>,
    /// Whether it was written beside the head, without the lock.
    pub beside: bool,
}

impl SegmentPath {
    /// Its place among the others: the sealed segments by sequence, then the head, then the
    /// segments beside it by sequence; then by name.
    fn order(&self) -> (u8, u64, &Path) {
        let group = match (self.sealed, self.beside) {
            (Some(_), false) => 0,
            (None, _) => 1,
            (Some(_), true) => 2,
        };
        (group, self.sealed.unwrap_or(0), &self.path)
    }
}

/// The sealed segment with sequence number `seq`.
pub(crate) fn sealed_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{SEALED_PREFIX}{seq:010}{SEALED_SUFFIX}"))
}

/// The segment with id `id` and sequence `seq` written beside the head.
pub(crate) fn beside_path(dir: &Path, seq: u64, id: u128) -> PathBuf {
    dir.join(format!("{SEALED_PREFIX}{seq:010}-{id:032x}{SEALED_SUFFIX}"))
}

/// The sequence number in a sealed segment's file name, and whether it is a segment written
/// beside the head (`<sequence>-<32 hex digits>`).
fn sealed_seq(name: &str) -> Option<(u64, bool)> {
    let middle = name
        .strip_prefix(SEALED_PREFIX)?
        .strip_suffix(SEALED_SUFFIX)?;
    let (digits, beside) = match middle.split_once('-') {
        Some((digits, id)) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (digits, true)
        }
        Some(_) => return None,
        None => (middle, false),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, beside))
}

/// The segments in `dir` in the order they are read: the sealed ones by sequence number, the
/// head (if it exists), then those written beside it in the order they were made. A directory
/// that cannot be listed has none.
pub(crate) fn list(dir: &Path) -> Vec<SegmentPath> {
    // kept sorted as they are found: a queue has a few segments, and a sort would bring a
    // sort's code into every host
    let mut segments: Vec<SegmentPath> = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if let Some((seq, beside)) = entry.file_name().to_str().and_then(sealed_seq) {
            let found = SegmentPath {
                path: entry.path(),
                sealed: Some(seq),
                beside,
            };
            let at = segments.partition_point(|s| s.order() < found.order());
            segments.insert(at, found);
        }
    }
    let head = dir.join(HEAD_NAME);
    if std::fs::symlink_metadata(&head).is_ok() {
        let at = segments.partition_point(|s| !s.beside);
        segments.insert(
            at,
            SegmentPath {
                path: head,
                sealed: None,
                beside: false,
            },
        );
    }
    segments
}

/// The largest sequence number in the name of any segment in `dir`, sealed or beside the head
/// (0 when there is none), and how many segments beside the head there are: one pass over the
/// directory that keeps nothing, for a host that finds the lock held (a sorted [`list`] of a
/// directory of hundreds of files moves its entries quadratically).
pub(crate) fn scan_beside(dir: &Path) -> (u64, usize) {
    let mut largest = 0;
    let mut beside = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if let Some((seq, is_beside)) = entry.file_name().to_str().and_then(sealed_seq) {
            largest = largest.max(seq);
            beside += usize::from(is_beside);
        }
    }
    (largest, beside)
}

/// Every queue file in `dir` (the head and the sealed segments), for the checks of who can
/// write them and for `clear`.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let segments = list(dir);
    let mut files: Vec<PathBuf> = Vec::with_capacity(segments.len() + 1);
    let mut head_listed = false;
    for segment in segments {
        head_listed |= segment.sealed.is_none();
        files.push(segment.path);
    }
    if !head_listed {
        files.push(dir.join(HEAD_NAME));
    }
    files
}

/// Positioned read of exactly `buf.len()` bytes at `offset`.
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

/// Positioned write of all of `buf` at `offset` (on a file not opened to append).
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(buf)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    thread_local! {
        /// Set by [`by_header`] on a test's thread: the queue there tells segments apart as it
        /// does where there is no file identity (Windows), so those paths run here too.
        pub(super) static BY_HEADER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Runs `test` on this thread with segments told apart by their headers' ids.
    pub(crate) fn by_header(test: impl FnOnce()) {
        BY_HEADER.with(|by| by.set(true));
        test();
        BY_HEADER.with(|by| by.set(false));
    }

    #[test]
    fn headers_round_trip_and_damage_is_refused() {
        let header = Header::fresh();
        let bytes = header.encode();
        assert_eq!(bytes.len() as u64, HEADER_LEN);
        assert_eq!(Header::parse(&bytes), Some(header));
        let moved = Header {
            acked: 123_456,
            ..header
        };
        let mut bytes = header.encode();
        bytes[ACKED_AT as usize..ACKED_AT as usize + 20].copy_from_slice(&encode_acked(123_456));
        assert_eq!(Header::parse(&bytes), Some(moved));
        assert_eq!(Header::parse(&bytes[..40]), None);
        assert_eq!(Header::parse(b"T1 00000000 2 {}\n"), None);
        let mut bad = header.encode();
        bad[ACKED_AT as usize] = b'x';
        assert_eq!(Header::parse(&bad), None);
        // an offset inside the header is not one
        let mut inside = header.encode();
        inside[ACKED_AT as usize..ACKED_AT as usize + 20].copy_from_slice(&encode_acked(3));
        assert_eq!(Header::parse(&inside), None);
    }

    #[test]
    fn segments_are_listed_in_reading_order() {
        let dir = tempfile::tempdir().unwrap();
        for seq in [10, 2, 1] {
            std::fs::write(sealed_path(dir.path(), seq), "").unwrap();
        }
        for (seq, id) in [(2, 7), (0, 3), (2, 5)] {
            std::fs::write(beside_path(dir.path(), seq, id), "").unwrap();
        }
        std::fs::write(dir.path().join(HEAD_NAME), "").unwrap();
        for other in ["x", "", "1-", "1-abc", "-0000000000000000000000000000000a"] {
            let name = format!("telemetry-queue.{other}.jsonl");
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let order: Vec<(Option<u64>, bool)> = list(dir.path())
            .iter()
            .map(|s| (s.sealed, s.beside))
            .collect();
        assert_eq!(
            order,
            [
                (Some(1), false),
                (Some(2), false),
                (Some(10), false),
                (None, false),
                (Some(0), true),
                (Some(2), true),
                (Some(2), true),
            ]
        );
        // beside ones of one sequence by name, and each listed at its own path
        let listed = list(dir.path());
        assert_eq!(listed[5].path, beside_path(dir.path(), 2, 5));
        assert_eq!(listed[6].path, beside_path(dir.path(), 2, 7));
        let mut line = [b'x'; 10];
        blank(&mut line);
        assert!(is_blank(&line));
        let mut line = [b'x'; 3];
        blank(&mut line);
        assert_eq!(&line, b"# \n");
    }
}
