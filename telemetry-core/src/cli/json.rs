//! Indenting JSON without re-ordering it: `inspect` shows records with their members in the
//! order they are sent.
//!
//! Not `serde_json::to_string_pretty`: that would parse each record into a `Value` and write it
//! again, re-encoding its strings and numbers (and re-ordering members, short of turning on
//! serde_json's `preserve_order` for every crate of the host's build). `inspect` promises the
//! queued bytes, so this only adds white space around them.

/// `json` indented by two spaces per level, members in their original order, strings and
/// numbers untouched. Input that is not JSON comes out re-spaced but otherwise as it was.
///
/// Works on bytes: everything it acts on is ASCII, so strings and other runs are copied as
/// slices (each ends before an ASCII byte, so on a character boundary).
pub fn pretty(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        let start = i;
        i += 1;
        match c {
            b'"' => {
                let mut escaped = false;
                while let Some(&b) = bytes.get(i) {
                    i += 1;
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        break;
                    }
                }
                out.push_str(&json[start..i]);
                continue;
            }
            b'{' | b'[' => {
                i = json.len() - json[i..].trim_start().len();
                let close = if c == b'{' { b'}' } else { b']' };
                out.push_str(&json[start..start + 1]);
                if bytes.get(i) == Some(&close) {
                    i += 1;
                    out.push_str(&json[i - 1..i]);
                    continue;
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push_str(&json[start..i]);
                continue;
            }
            b',' => out.push(','),
            b':' => {
                out.push_str(": ");
                continue;
            }
            _ => {
                // Anything else is copied, white space left out.
                let c = json[start..].chars().next().unwrap_or_default();
                i = start + c.len_utf8();
                if !c.is_whitespace() {
                    out.push_str(&json[start..i]);
                }
                continue;
            }
        }
        newline(&mut out, depth);
    }
    out
}

/// A line break and the indentation of `depth`.
fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_strings() {
        let raw = r#"{"z":1,"a":{"s":"x, {y}: \"q\"","e":{},"l":[1,2]},"t":[]}"#;
        let pretty = pretty(raw);
        assert_eq!(
            pretty,
            "{\n  \"z\": 1,\n  \"a\": {\n    \"s\": \"x, {y}: \\\"q\\\"\",\n    \"e\": {},\n    \"l\": [\n      1,\n      2\n    ]\n  },\n  \"t\": []\n}"
        );
        let a: serde_json::Value = serde_json::from_str(raw).unwrap();
        let b: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(a, b);
    }

    /// The implementation before it worked on bytes: char by char.
    fn by_chars(json: &str) -> String {
        let mut out = String::with_capacity(json.len() * 2);
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut chars = json.chars().peekable();
        let newline = |out: &mut String, depth: usize| {
            out.push('\n');
            for _ in 0..depth {
                out.push_str("  ");
            }
        };
        while let Some(c) = chars.next() {
            if in_string {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            match c {
                '"' => {
                    in_string = true;
                    out.push(c);
                }
                '{' | '[' => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                    let close = if c == '{' { '}' } else { ']' };
                    if chars.peek() == Some(&close) {
                        chars.next();
                        out.push(c);
                        out.push(close);
                    } else {
                        out.push(c);
                        depth += 1;
                        newline(&mut out, depth);
                    }
                }
                '}' | ']' => {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                    out.push(c);
                }
                ',' => {
                    out.push(c);
                    newline(&mut out, depth);
                }
                ':' => out.push_str(": "),
                c if c.is_whitespace() => {}
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn same_as_char_by_char() {
        for text in [
            "",
            " { } ",
            "[ \u{a0}1 ,\u{2028} \"\u{e9}\\\u{e9}\" , {\"k\" :\t[ ]}]",
            "{\"a\":\"unterminated \\",
            "\u{e9}x \u{85}y}}]],,::",
            "[\u{3000}]",
        ] {
            assert_eq!(pretty(text), by_chars(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn same_as_char_by_char_on_anything(text in "[ {}\\[\\],:\"\\\\a1\u{e9}\u{a0}\u{2028}\t\n]{0,40}") {
            proptest::prop_assert_eq!(pretty(&text), by_chars(&text));
        }
    }
}
