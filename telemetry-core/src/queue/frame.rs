//! The framing of one record on disk: one line per record,
//!
//! ```text
//! T1 <crc32 of the JSON, 8 lower-case hex digits> <length of the JSON in bytes> <JSON>\n
//! ```
//!
//! A line is valid only if it is complete (ends with a newline), its length and checksum match
//! and its JSON has the expected shape, so a torn write is never read as valid. Lines are
//! independent: a damaged line is skipped without losing its neighbours.

/// The tag that starts every line.
const TAG: &str = "T1";

/// The bytes of one framed line for `json` (which must not contain a newline).
pub fn encode(json: &str) -> String {
    // "T1 " + 8 hex digits + " " + length (at most 20 digits) + " " + JSON + "\n"
    let mut line = String::with_capacity(TAG.len() + 1 + 8 + 1 + 20 + 1 + json.len() + 1);
    push_line(&mut line, json);
    line
}

/// Appends the framed line for `json` to `out` (see [`encode`]).
pub(crate) fn push_line(out: &mut String, json: &str) {
    let mut len = itoa::Buffer::new();
    out.push_str(TAG);
    out.push(' ');
    push_hex8(out, crc32(json.as_bytes()));
    out.push(' ');
    out.push_str(len.format(json.len()));
    out.push(' ');
    out.push_str(json);
    out.push('\n');
}

/// `value` as 8 lower-case hex digits (`{:08x}` without the formatting machinery).
fn push_hex8(out: &mut String, value: u32) {
    let mut hex = [0u8; 8];
    put_hex(&mut hex, value.into());
    // only ASCII hex digits were written
    out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
}

/// Fills `out` with the lower `out.len()` hex digits of `value`, zero-padded (`{:0Nx}`): the
/// checksums here and the segment ids in headers. The loop stops with the digits: one over
/// a fixed count is unrolled, which made `Header::encode` two kilobytes.
pub(crate) fn put_hex(out: &mut [u8], value: u128) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.fill(b'0');
    let mut rest = value;
    let mut end = out.len();
    while rest != 0 && end > 0 {
        end -= 1;
        out[end] = DIGITS[(rest & 0xf) as usize];
        rest >>= 4;
    }
}

/// The JSON of one line (without its newline), if the line is valid.
pub fn decode(line: &[u8]) -> Option<&str> {
    std::str::from_utf8(checked_json(line)?).ok()
}

/// Whether one line (without its newline) holds: its length and checksum match its JSON,
/// which is not checked further (as UTF-8, say). What counting the queue needs.
pub(crate) fn holds(line: &[u8]) -> bool {
    checked_json(line).is_some()
}

/// The JSON bytes of one line whose length and checksum match them.
fn checked_json(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(TAG.as_bytes())?.strip_prefix(b" ")?;
    let (crc, rest) = split_at_space(rest)?;
    let (len, json) = split_at_space(rest)?;
    if crc.len() != 8 {
        return None;
    }
    let crc = u32::from_str_radix(std::str::from_utf8(crc).ok()?, 16).ok()?;
    let len: usize = std::str::from_utf8(len).ok()?.parse().ok()?;
    (json.len() == len && crc32(json) == crc).then_some(json)
}

/// What comes before the first space, and what after it.
fn split_at_space(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = memchr::memchr(b' ', bytes)?;
    Some((&bytes[..i], &bytes[i + 1..]))
}

/// Splits file content into complete lines (a last line without a newline is torn and
/// returned as damaged).
pub fn lines(content: &[u8]) -> impl Iterator<Item = Line<'_>> {
    let mut rest = content;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                Some(Line::Complete(line))
            }
            None => {
                let line = rest;
                rest = &[];
                Some(Line::Torn(line))
            }
        }
    })
}

/// One line of a queue file.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Ended by a newline (still to be checked with [`decode`]).
    Complete(&'a [u8]),
    /// The end of the file without a newline: a write that did not finish.
    Torn(&'a [u8]),
}

/// CRC-32 (IEEE 802.3, as zlib and PNG use: reflected polynomial `0xEDB88320`, initial value
/// and final XOR `0xFFFFFFFF`), computed by `crc32fast`'s table code (slicing by 16 bytes).
/// The format of existing queue files is unchanged: the same checksum as the byte-at-a-time
/// table this replaced (a test below keeps that table as the reference).
///
/// Not `crc32fast::hash`, which looks for the CPU's carry-less multiplication first: the first
/// look at a CPU feature makes std ask the CPU about all of them (`std_detect`, about ten
/// `cpuid` instructions), and under a hypervisor each `cpuid` leaves the VM. That took 45–55 µs
/// of a command's first event on a 2-core cloud VM, for a checksum of a few hundred bytes that
/// the table computes in about 0.1 µs. The table code is in every program that links
/// posthog-rs already (through `flate2`). `internal_new_baseline` is hidden from crc32fast's
/// documentation, for its benchmarks; were it removed, this fails to compile, not at run time.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::internal_new_baseline(0, 0);
    hasher.update(bytes);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// The byte-at-a-time table earlier versions wrote queue files with.
    fn reference_crc32(bytes: &[u8]) -> u32 {
        let mut table = [0u32; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *entry = c;
        }
        let mut crc = !0u32;
        for &b in bytes {
            crc = table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
        }
        !crc
    }

    #[test]
    fn crc_is_the_one_existing_queue_files_were_written_with() {
        // lengths around the table code's 8- and 16-byte blocks and crc32fast's SIMD block
        // sizes, and every byte value; the same as crc32fast's SIMD code gives
        let bytes: Vec<u8> = (0..4099u32).map(|i| (i * 31 + i / 7) as u8).collect();
        for len in [
            0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 400, 1000, 4099,
        ] {
            let crc = crc32(&bytes[..len]);
            assert_eq!(crc, reference_crc32(&bytes[..len]), "{len}");
            assert_eq!(crc, crc32fast::hash(&bytes[..len]), "{len}");
        }
        // a line as an earlier version wrote it still decodes
        let json = r#"{"uuid":"0190a3c2-7b1e-7c3a-9f4e-2d8b6a1c5e70","event":"x"}"#;
        let old = format!(
            "T1 {:08x} {} {json}",
            reference_crc32(json.as_bytes()),
            json.len()
        );
        assert_eq!(decode(old.as_bytes()), Some(json));
        assert_eq!(encode(json), format!("{old}\n"));
    }

    #[test]
    fn round_trip_and_damage() {
        let line = encode(r#"{"a":1}"#);
        assert!(line.ends_with('\n'));
        let body = line.trim_end_matches('\n').as_bytes();
        assert_eq!(decode(body), Some(r#"{"a":1}"#));
        // a flipped byte, a cut line, a wrong length
        let mut flipped = body.to_vec();
        let last = flipped.len() - 2;
        flipped[last] = b'2';
        assert_eq!(decode(&flipped), None);
        assert_eq!(decode(&body[..body.len() - 1]), None);
        assert_eq!(decode(b"T1 00000000 0 "), Some(""));
        assert_eq!(decode(b"garbage"), None);
    }

    /// A line holds exactly when it decodes, but for JSON that is not UTF-8 (which only
    /// `decode` checks).
    #[test]
    fn a_line_holds_when_it_decodes() {
        let body = encode(r#"{"a":"é"}"#);
        let body = body.trim_end_matches('\n').as_bytes();
        let mut cases: Vec<Vec<u8>> = vec![
            body.to_vec(),
            b"T1 00000000 0 ".to_vec(),
            b"T1 +0000000 0 ".to_vec(),
            b"T1 00000000 +0 ".to_vec(),
            b"T1 00000000 0".to_vec(),
            b"T1  00000000 0 ".to_vec(),
            b"T2 00000000 0 ".to_vec(),
            b"garbage".to_vec(),
            Vec::new(),
        ];
        // every cut and every flipped byte of a valid line
        for i in 0..body.len() {
            cases.push(body[..i].to_vec());
            let mut flipped = body.to_vec();
            flipped[i] ^= 0x01;
            cases.push(flipped);
        }
        for line in &cases {
            assert_eq!(holds(line), decode(line).is_some(), "{line:?}");
        }
        let bad = [0xff, 0xfe];
        let line = format!("T1 {:08x} 2 ", crc32(&bad));
        let line = [line.as_bytes(), &bad[..]].concat();
        assert!(holds(&line));
        assert_eq!(decode(&line), None);
    }

    #[test]
    fn torn_tail_is_separate() {
        let content = format!("{}{}partial", encode("{}"), encode("[]"));
        let lines: Vec<_> = lines(content.as_bytes()).collect();
        assert_eq!(lines.len(), 3);
        assert!(matches!(lines[2], Line::Torn(b"partial")));
    }
}
