//! Writing properties straight to JSON, with no intermediate map.
//!
//! Hand-written rather than serde_json's `Serializer`: `benches/properties.rs` writes the same
//! event both ways in one run, and this writer is about 2× faster (see `BENCHMARKS.md`); it
//! also keeps serde out of a crate that only declares events.
//!
//! Only the generated code writes event properties: [`PropertyWriter`] has no public
//! constructor, is reachable only through `telemetry_core::__private`, and every property name
//! it takes is a `&'static str` (fixed when the program is built).

use std::fmt::Write as _;
use std::time::Duration;

use super::Sealed;
use super::kinds::{
    BoolValue, BucketedValue, CodeLocationValue, DurationValue, EnumValue, ErrorClassValue,
    SignedValue, UnsignedValue,
};
use super::values::{CodeLocation, ErrorClass};

/// A value that can be written as JSON: the supertrait of every [kind trait](super::kinds).
/// Sealed: implemented here for the standard types the kinds accept, and by the code
/// `#[telemetry_enum]` and `#[telemetry_bucket]` generate.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a telemetry value type",
    label = "not declared with `#[telemetry_enum]` or `#[telemetry_bucket]`",
    note = "a property's value is a number, a boolean, a duration, an `ErrorClass`, a `CodeLocation`, or a type declared with `#[telemetry_enum]` or `#[telemetry_bucket]`: a type of your own cannot choose what is sent"
)]
pub trait PropertyValue: Sealed {
    /// Appends the value as JSON to `out`.
    fn write_json(&self, out: &mut String);
}

/// Writes the members of a JSON object (`"name":value`, comma separated, no braces).
///
/// One method per kind, each bounded by that kind's trait, so a field whose type does not fit
/// its property's kind fails to compile at the field.
#[derive(Debug)]
pub struct PropertyWriter<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> PropertyWriter<'a> {
    /// Writes members after whatever `out` already holds; `empty` says whether a comma is needed
    /// before the first one.
    pub(crate) fn new(out: &'a mut String, empty: bool) -> Self {
        Self { out, empty }
    }

    /// A `bool` property.
    pub fn bool<T: BoolValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// An `unsigned` property.
    pub fn unsigned<T: UnsignedValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// A `signed` property.
    pub fn signed<T: SignedValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// A `duration_ms` property.
    pub fn duration_ms<T: DurationValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// An `enum` property.
    pub fn enumeration<T: EnumValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// A `bucketed` property.
    pub fn bucketed<T: BucketedValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// An `error_class` property.
    pub fn error_class<T: ErrorClassValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// A `code_location` property.
    pub fn code_location<T: CodeLocationValue>(&mut self, name: &'static str, value: &T) {
        self.member(name, value);
    }

    /// A string member the runtime itself adds (common properties); never used by events.
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub(crate) fn runtime_str(&mut self, name: &str, value: &str) {
        self.member(name, &JsonStr(value));
    }

    /// A boolean member the runtime itself adds (common properties); never used by events.
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub(crate) fn runtime_bool(&mut self, name: &str, value: bool) {
        self.member(name, &value);
    }

    // Inlined into each event's generated writer, the name's length is a constant and its copy
    // a few moves instead of a call to `memcpy` (5% of a record's cost).
    #[inline]
    fn member<T: PropertyValue + ?Sized>(&mut self, name: &str, value: &T) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        // Names need no escaping: the allowlist admits only snake_case, and the runtime's own
        // are constants (`$geoip_disable`).
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
        value.write_json(self.out);
    }
}

/// Appends `value` as a JSON string literal.
pub fn write_json_str(out: &mut String, value: &str) {
    out.reserve(value.len() + 2);
    out.push('"');
    if needs_escape(value.as_bytes()) {
        write_escaped(out, value);
    } else {
        // The common case (names, versions, ids, type names): one copy.
        out.push_str(value);
    }
    out.push('"');
}

/// Whether `bytes` holds a byte a JSON string cannot carry as itself: `"`, `\` or a control
/// character below U+0020 (the bytes serde_json escapes too).
///
/// Eight bytes at a time with word arithmetic (no `unsafe`, no SIMD intrinsics): escaping with
/// the byte loop it replaced was a fifth of the cost of building a record, with this about a
/// tenth. It is what makes checking every string affordable instead of trusting some to be
/// plain.
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    let (words, rest) = bytes.as_chunks::<8>();
    if words.is_empty() {
        // Under 8 bytes, a byte at a time (building a padded word in memory and reading it
        // back as one stalls on store forwarding: slower than this loop).
        return rest.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    for word in words {
        if word_needs_escape(u64::from_le_bytes(*word)) {
            return true;
        }
    }
    // The tail: the last 8 bytes, overlapping the last whole word.
    match bytes.last_chunk::<8>() {
        Some(last) if !rest.is_empty() => word_needs_escape(u64::from_le_bytes(*last)),
        _ => false,
    }
}

/// Whether one of the 8 bytes of `word` is `"`, `\` or below 0x20.
///
/// `(x - n·0x01…) & !x & 0x80…` is non-zero exactly when some byte of `x` is below `n`
/// (for `n` ≤ 0x80; a borrow can only mark bytes above a true match, never invent one); a byte
/// equal to `c` is a zero byte of `x ^ c·0x01…`.
#[inline(always)]
fn word_needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let control = below(x, 0x20);
    let quote = below(x ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(x ^ (ONES * u64::from(b'\\')), 1);
    (control | quote | backslash) != 0
}

/// The escaping itself, for a value known to need it (rare: hostile or unusual text).
#[cold]
fn write_escaped(out: &mut String, value: &str) {
    // Copy runs of plain bytes at once.
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&value[start..]);
}

struct JsonStr<'a>(&'a str);

#[diagnostic::do_not_recommend]
impl Sealed for JsonStr<'_> {}

#[diagnostic::do_not_recommend]
impl PropertyValue for JsonStr<'_> {
    fn write_json(&self, out: &mut String) {
        write_json_str(out, self.0);
    }
}

#[diagnostic::do_not_recommend]
impl Sealed for bool {}

#[diagnostic::do_not_recommend]
impl PropertyValue for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl Sealed for $ty {}

        #[diagnostic::do_not_recommend]
        impl PropertyValue for $ty {
            fn write_json(&self, out: &mut String) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}

integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

#[diagnostic::do_not_recommend]
impl Sealed for Duration {}

#[diagnostic::do_not_recommend]
impl PropertyValue for Duration {
    fn write_json(&self, out: &mut String) {
        let millis = u64::try_from(self.as_millis()).unwrap_or(u64::MAX);
        out.push_str(itoa::Buffer::new().format(millis));
    }
}

#[diagnostic::do_not_recommend]
impl Sealed for ErrorClass {}

#[diagnostic::do_not_recommend]
impl PropertyValue for ErrorClass {
    fn write_json(&self, out: &mut String) {
        write_json_str(out, self.as_str());
    }
}

#[diagnostic::do_not_recommend]
impl Sealed for CodeLocation {}

#[diagnostic::do_not_recommend]
impl PropertyValue for CodeLocation {
    fn write_json(&self, out: &mut String) {
        write_json_str(out, self.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Members, comma separated, escaped. (A `None` is left out by the generated code, which
    /// writes an `Option` field's value only when it is `Some`: the UI pass cases check it.)
    #[test]
    fn writes_members() {
        let mut out = String::from("{");
        let mut writer = PropertyWriter::new(&mut out, true);
        writer.signed("exit_code", &-1i32);
        writer.duration_ms("duration_ms", &Duration::from_micros(1_500_999));
        writer.runtime_str("os", "li\"nux\n");
        writer.bool("ok", &true);
        out.push('}');
        assert_eq!(
            out,
            r#"{"exit_code":-1,"duration_ms":1500,"os":"li\"nux\n","ok":true}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["os"], "li\"nux\n");
    }
}
