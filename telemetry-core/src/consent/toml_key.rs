//! Reading the top-level `enabled` of a consent file: a small TOML reader, not a TOML crate.
//!
//! Both consent files are TOML, and one boolean is all that is read from them. A TOML crate
//! builds every value of the document through serde, and linked into a host it cost 120 KB
//! (`basic-toml`) to 200 KB (`toml`), the largest part of what the runtime adds beside
//! posthog-rs. This checks the syntax of the whole document (keys, the four kinds of strings
//! and their escapes, arrays, inline tables, table headers, comments) without keeping any
//! value, so a damaged file is still told from a good one, and returns `enabled` when it is at
//! the top level. Compared with the `toml` crate in the tests. It is more lenient in what does
//! not concern `enabled`: the digits of numbers and dates and keys defined twice (other than
//! `enabled`) are not checked.

use std::fmt;

/// Why a document is not valid TOML, or its `enabled` not a boolean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    /// The line (from 1) where reading stopped.
    pub line: usize,
    /// What was wrong there.
    pub what: &'static str,
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for TomlError {}

/// Deeper nesting of arrays and inline tables is refused, so a hostile file cannot exhaust the
/// stack.
const MAX_DEPTH: usize = 64;

/// The top-level `enabled` of `text`: `Ok(None)` when the document does not set it, an error
/// when it is not valid TOML or `enabled` is not `true` or `false`.
pub fn read_enabled(text: &str) -> Result<Option<bool>, TomlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = Reader {
        s: text.as_bytes(),
        i: 0,
    };
    let mut enabled = None;
    // Keys belong to the root table until the first table header.
    let mut at_root = true;
    loop {
        r.gap()?;
        let Some(c) = r.peek() else {
            return Ok(enabled);
        };
        if c == b'[' {
            r.i += 1;
            let array = r.eat(b'[');
            r.ws();
            // `[enabled]` makes `enabled` a table: not a boolean.
            if r.key()?.0 {
                return Err(r.error("`enabled` must be true or false"));
            }
            if !r.eat(b']') || (array && !r.eat(b']')) {
                return Err(r.error("expected `]` closing the table header"));
            }
            at_root = false;
        } else {
            let (is_enabled, segments) = r.key()?;
            if !r.eat(b'=') {
                return Err(r.error("expected `=` after the key"));
            }
            r.ws();
            let value = r.value(0)?;
            if at_root && is_enabled {
                match (segments, value) {
                    (1, Some(_)) if enabled.is_some() => {
                        return Err(r.error("`enabled` is set twice"));
                    }
                    (1, Some(on)) => enabled = Some(on),
                    _ => return Err(r.error("`enabled` must be true or false")),
                }
            }
        }
        r.end_of_line()?;
    }
}

/// A position in the document.
struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, text: &[u8]) -> bool {
        // `get`: no bounds check and panic path in each of the many places this is inlined
        self.s
            .get(self.i..)
            .is_some_and(|rest| rest.starts_with(text))
    }

    fn eat(&mut self, c: u8) -> bool {
        let found = self.peek() == Some(c);
        self.i += usize::from(found);
        found
    }

    #[cold]
    #[inline(never)]
    fn error(&self, what: &'static str) -> TomlError {
        let line = 1 + self.s[..self.i.min(self.s.len())]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        TomlError { line, what }
    }

    /// Spaces and tabs.
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// A line break (`\n` or `\r\n`), if one is next.
    fn newline(&mut self) -> bool {
        if self.at(b"\r\n") {
            self.i += 2;
            true
        } else {
            self.eat(b'\n')
        }
    }

    /// A comment, if one is next, up to the end of its line.
    fn comment(&mut self) -> Result<(), TomlError> {
        if self.eat(b'#') {
            while let Some(c) = self.peek() {
                if c == b'\n' || self.at(b"\r\n") {
                    break;
                }
                if is_control(c) {
                    return Err(self.error("control character in a comment"));
                }
                self.i += 1;
            }
        }
        Ok(())
    }

    /// White space, comments and line breaks: between the lines of a document and between the
    /// items of an array.
    fn gap(&mut self) -> Result<(), TomlError> {
        loop {
            self.ws();
            self.comment()?;
            if !self.newline() {
                return Ok(());
            }
        }
    }

    /// The rest of a line after a key/value pair or a table header.
    fn end_of_line(&mut self) -> Result<(), TomlError> {
        self.ws();
        self.comment()?;
        if self.peek().is_none() || self.newline() {
            Ok(())
        } else {
            Err(self.error("expected the end of the line"))
        }
    }

    /// A dotted key and the white space after it: whether its first part is `enabled`, and
    /// how many parts it has.
    fn key(&mut self) -> Result<(bool, usize), TomlError> {
        let mut parts = 0;
        let mut first_is_enabled = false;
        loop {
            let start = self.i;
            match self.peek() {
                Some(b'"') => self.basic_string()?,
                Some(b'\'') => self.literal_string()?,
                _ => {
                    while self
                        .peek()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                    {
                        self.i += 1;
                    }
                    if self.i == start {
                        return Err(self.error("expected a key"));
                    }
                }
            }
            if parts == 0 {
                let name = &self.s[start..self.i];
                first_is_enabled = matches!(name, b"enabled" | b"\"enabled\"" | b"'enabled'");
            }
            parts += 1;
            self.ws();
            if !self.eat(b'.') {
                return Ok((first_is_enabled, parts));
            }
            self.ws();
        }
    }

    /// A value: `Some` for a boolean, `None` for any other kind.
    fn value(&mut self, depth: usize) -> Result<Option<bool>, TomlError> {
        if depth > MAX_DEPTH {
            return Err(self.error("arrays or tables nested too deeply"));
        }
        match self.peek() {
            Some(b'"') if self.at(b"\"\"\"") => self.multiline_string(b'"')?,
            Some(b'\'') if self.at(b"'''") => self.multiline_string(b'\'')?,
            Some(b'"') => self.basic_string()?,
            Some(b'\'') => self.literal_string()?,
            Some(b'[') => {
                self.i += 1;
                loop {
                    self.gap()?;
                    if self.eat(b']') {
                        break;
                    }
                    self.value(depth + 1)?;
                    self.gap()?;
                    if self.eat(b']') {
                        break;
                    }
                    if !self.eat(b',') {
                        return Err(self.error("expected `,` or `]` in an array"));
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.gap()?;
                    if self.eat(b'}') {
                        break;
                    }
                    self.key()?;
                    if !self.eat(b'=') {
                        return Err(self.error("expected `=` after the key"));
                    }
                    self.ws();
                    self.value(depth + 1)?;
                    self.gap()?;
                    if self.eat(b'}') {
                        break;
                    }
                    if !self.eat(b',') {
                        return Err(self.error("expected `,` or `}` in an inline table"));
                    }
                }
            }
            _ => return self.scalar(),
        }
        Ok(None)
    }

    /// A boolean, number or date: a run of the characters they are written with, checked only
    /// for how it starts.
    fn scalar(&mut self) -> Result<Option<bool>, TomlError> {
        let start = self.i;
        let mut end = start;
        while self.s.get(end).is_some_and(|&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-' | b'.' | b':')
        }) {
            end += 1;
        }
        let token = &self.s[start..end];
        // A date and a time may be separated by a space: `1979-05-27 07:32:00Z`.
        if token.len() == 10
            && token[4] == b'-'
            && self.s.get(end) == Some(&b' ')
            && self.s.get(end + 1).is_some_and(u8::is_ascii_digit)
        {
            end += 1;
            while self.s.get(end).is_some_and(|&c| {
                c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b':')
            }) {
                end += 1;
            }
        }
        let unsigned = token.strip_prefix(b"+").or(token.strip_prefix(b"-"));
        let value = match token {
            b"true" => Some(true),
            b"false" => Some(false),
            _ if token.first().is_some_and(u8::is_ascii_digit)
                || unsigned.is_some_and(|u| {
                    u.first().is_some_and(u8::is_ascii_digit) || u == b"inf" || u == b"nan"
                })
                || token == b"inf"
                || token == b"nan" =>
            {
                None
            }
            _ => return Err(self.error("expected a value")),
        };
        self.i = end;
        Ok(value)
    }

    /// An escape sequence after a backslash.
    fn escape(&mut self) -> Result<(), TomlError> {
        let digits = match self.peek() {
            Some(b'b' | b't' | b'n' | b'f' | b'r' | b'e' | b'"' | b'\\') => 0,
            Some(b'x') => 2,
            Some(b'u') => 4,
            Some(b'U') => 8,
            _ => return Err(self.error("unknown escape in a string")),
        };
        self.i += 1;
        for _ in 0..digits {
            if !self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                return Err(self.error("expected a hexadecimal digit in an escape"));
            }
            self.i += 1;
        }
        Ok(())
    }

    /// `"..."`, on one line.
    fn basic_string(&mut self) -> Result<(), TomlError> {
        self.i += 1;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape()?;
                }
                Some(c) if !is_control(c) => self.i += 1,
                _ => return Err(self.error("unterminated string")),
            }
        }
    }

    /// `'...'`, on one line.
    fn literal_string(&mut self) -> Result<(), TomlError> {
        self.i += 1;
        loop {
            match self.peek() {
                Some(b'\'') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(c) if !is_control(c) => self.i += 1,
                _ => return Err(self.error("unterminated string")),
            }
        }
    }

    /// `"""..."""` (escapes, a backslash at the end of a line) or `'''...'''`.
    fn multiline_string(&mut self, quote: u8) -> Result<(), TomlError> {
        self.i += 3;
        loop {
            match self.peek() {
                Some(c) if c == quote && self.at(&[quote; 3]) => {
                    // Up to two quotes just before the closing three belong to the string.
                    let mut n = 3;
                    while n < 6 && self.s.get(self.i + n) == Some(&quote) {
                        n += 1;
                    }
                    if n > 5 {
                        return Err(self.error("too many quotes closing a string"));
                    }
                    self.i += n;
                    return Ok(());
                }
                Some(b'\\') if quote == b'"' => {
                    self.i += 1;
                    let after = self.i;
                    self.ws();
                    if self.newline() {
                        // A line-ending backslash: the line break and the blanks after go.
                        while self.newline() || matches!(self.peek(), Some(b' ' | b'\t')) {
                            self.i += usize::from(matches!(self.peek(), Some(b' ' | b'\t')));
                        }
                    } else {
                        self.i = after;
                        self.escape()?;
                    }
                }
                Some(_) if self.newline() => {}
                Some(c) if !is_control(c) => self.i += 1,
                _ => return Err(self.error("unterminated string")),
            }
        }
    }
}

/// A control character TOML allows neither in strings nor comments (tab is allowed).
fn is_control(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What the `toml` crate says about the same document, with the same shape of result.
    fn by_toml(text: &str) -> Result<Option<bool>, ()> {
        #[derive(serde::Deserialize)]
        struct Content {
            enabled: Option<bool>,
        }
        toml::from_str::<Content>(text)
            .map(|c| c.enabled)
            .map_err(|_| ())
    }

    fn ours(text: &str) -> Result<Option<bool>, ()> {
        read_enabled(text).map_err(|_| ())
    }

    /// Valid and invalid documents, each read the same way by `toml` and by the reader.
    const AGREED: &[&str] = &[
        "",
        "\n\n",
        "# only a comment",
        "\u{feff}enabled = true",
        "enabled = true",
        "enabled = false\n",
        "enabled=true",
        "  enabled\t=\tfalse   # trailing comment\r\n",
        "# Telemetry consent for demo.\nenabled = true\nchanged_at = \"2026-04-08T10:00:00.000Z\"\n",
        "\"enabled\" = true",
        "'enabled' = false",
        "changed_at = 2026-04-08T10:00:00Z\nenabled = true",
        "d = 1979-05-27 07:32:00Z\nenabled = false",
        "d = 1979-05-27\nt = 07:32:00\nenabled = true",
        "n = -17\nf = +1.5e-3\nh = 0xDEAD_BEEF\no = 0o755\nb = 0b1010\ni = -inf\nj = nan\nenabled = true",
        "s = \"a \\\"quoted\\\" \\u00e9 \\U0001F600 \\t\"\nenabled = true",
        "s = 'C:\\path\\not\\escaped'\nenabled = false",
        "s = \"\"\"\nline one\nenabled = false\n\"\"\"\nenabled = true",
        "s = '''\nenabled = false\n'''\nenabled = true",
        "s = \"\"\"two quotes at the end\"\"\"\"\"\nenabled = true",
        "s = \"\"\"continued \\\n    here\"\"\"\nenabled = true",
        "a = [1, 2, 3]\nenabled = true",
        "a = [\n  1, # one\n  [\"x\", 'y'],\n  { k = 1 },\n]\nenabled = false",
        "a = []\nt = {}\nenabled = true",
        "t = { a = 1, b.c = \"x\", \"q\" = [true] }\nenabled = true",
        "x.y.z = 1\nenabled = true",
        "enabled = true\n[section]\nenabled = \"not the root's\"",
        "[section]\nenabled = false",
        "[a . b]\nk = 1\n[[list]]\nk = 2\n[[list]]\nk = 3\nenabled = 4",
        "emoji = \"\u{1F600}\"\n# comment with \u{e9}\nenabled = true",
        // Invalid documents.
        "enabled = [",
        "enabled = \"yes\"",
        "enabled = 1",
        "enabled = yes",
        "enabled = True",
        "enabled = truex",
        "enabled true",
        "enabled = true false",
        "enabled = true\nenabled = false",
        "enabled.sub = true",
        "[enabled]\nx = 1",
        "[[enabled]]",
        "enabled = { on = true }",
        "enabled = [true]",
        "not toml [[[",
        "= true",
        "a = \"unterminated\nenabled = true",
        "a = 'unterminated\nenabled = true",
        "a = \"\"\"never closed\nenabled = true",
        "a = \"bad \\q escape\"",
        "a = \"\\u12\"",
        "a = [1 2]",
        "a = [1,,2]",
        "a = [,]",
        "a = { b = 1 c = 2 }",
        "[section\nenabled = true",
        "[[list]\nk = 1",
        "a = 1 # comment\u{1}",
        "a = \"ctrl\u{7f}\"",
        "a = \"\"\"\"\"\"\"\"",
        "a =\nenabled = true",
        "a = 1\renabled = true",
    ];

    #[test]
    fn agrees_with_the_toml_crate() {
        for text in AGREED {
            assert_eq!(ours(text), by_toml(text), "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let error = read_enabled("# consent\nenabled = \"yes\"\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert_eq!(error.to_string(), "line 2: `enabled` must be true or false");
        assert_eq!(read_enabled("a = [\n1,\n2\n3]").unwrap_err().line, 4);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowing() {
        let deep = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(read_enabled(&deep).is_err());
        let fine = format!("a = {}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(read_enabled(&fine), Ok(None));
    }

    /// Lines that both readers treat alike (the reader does not check keys defined twice
    /// other than `enabled` at the top level, so each line's key is used once).
    fn line() -> impl Strategy<Value = String> {
        let value = prop::sample::select(vec![
            "true",
            "false",
            "1",
            "-2.5",
            "\"s\"",
            "'l'",
            "[1, 2]",
            "{ x = 1 }",
            "[",
            "\"open",
            "yes",
            "\"\"\"m\nl\"\"\"",
            "1979-05-27T07:32:00Z",
            "[\n1,\n]",
            "{",
        ]);
        let key = prop::sample::select(vec!["enabled", "k", "a.b"]);
        prop_oneof![
            (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
            prop::sample::select(vec!["", "# note", "[t]", "[[arr]]", "[enabled]", "]", "x"])
                .prop_map(str::to_owned),
        ]
    }

    proptest! {
        #[test]
        fn agrees_on_generated_documents(lines in prop::collection::vec(line(), 0..6)) {
            let mut seen = std::collections::HashSet::new();
            let lines: Vec<String> = lines
                .into_iter()
                .filter(|l| seen.insert(l.split(" = ").next().unwrap_or(l).to_owned()))
                .collect();
            let text = lines.join("\n");
            prop_assert_eq!(ours(&text), by_toml(&text), "{:?}", text);
        }

        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = read_enabled(&text);
        }
    }
}
