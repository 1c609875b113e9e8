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
    format!(
        "{TAG} {:08x} {} {json}\n",
        crc32(json.as_bytes()),
        json.len()
    )
}

/// The JSON of one line (without its newline), if the line is valid.
pub fn decode(line: &[u8]) -> Option<&str> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = line.strip_prefix(TAG)?.strip_prefix(' ')?;
    let (crc, rest) = rest.split_once(' ')?;
    let (len, json) = rest.split_once(' ')?;
    if crc.len() != 8 {
        return None;
    }
    let crc = u32::from_str_radix(crc, 16).ok()?;
    let len: usize = len.parse().ok()?;
    (json.len() == len && crc32(json.as_bytes()) == crc).then_some(json)
}

/// Splits file content into complete lines (a last line without a newline is torn and
/// returned as damaged).
pub fn lines(content: &[u8]) -> impl Iterator<Item = Line<'_>> {
    let mut rest = content;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.iter().position(|&b| b == b'\n') {
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

/// CRC-32 (IEEE 802.3, as zlib and PNG use).
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
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

    #[test]
    fn torn_tail_is_separate() {
        let content = format!("{}{}partial", encode("{}"), encode("[]"));
        let lines: Vec<_> = lines(content.as_bytes()).collect();
        assert_eq!(lines.len(), 3);
        assert!(matches!(lines[2], Line::Torn(b"partial")));
    }
}
