//! Writing properties straight to JSON, with no intermediate map.

use std::fmt::Write as _;
use std::time::Duration;

use super::kinds::{
    BoolValue, BucketedValue, CodeLocationValue, DurationValue, EnumValue, ErrorClassValue,
    SignedValue, UnsignedValue,
};
use super::values::{CodeLocation, ErrorClass};

/// A value that can be written as JSON.
pub trait PropertyValue {
    /// Appends the value as JSON to `out`.
    fn write_json(&self, out: &mut String);

    /// `false` for a value that is left out of the event (`None`).
    fn is_present(&self) -> bool {
        true
    }
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
    pub fn new(out: &'a mut String, empty: bool) -> Self {
        Self { out, empty }
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// A `bool` property.
    pub fn bool<T: BoolValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// An `unsigned` property.
    pub fn unsigned<T: UnsignedValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// A `signed` property.
    pub fn signed<T: SignedValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// A `duration_ms` property.
    pub fn duration_ms<T: DurationValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// An `enum` property.
    pub fn enumeration<T: EnumValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// A `bucketed` property.
    pub fn bucketed<T: BucketedValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// An `error_class` property.
    pub fn error_class<T: ErrorClassValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// A `code_location` property.
    pub fn code_location<T: CodeLocationValue>(&mut self, name: &str, value: &T) {
        self.member(name, value);
    }

    /// A string member the runtime itself adds (common properties); never used by events.
    pub fn runtime_str(&mut self, name: &str, value: &str) {
        self.member(name, &JsonStr(value));
    }

    /// A boolean member the runtime itself adds (common properties); never used by events.
    pub fn runtime_bool(&mut self, name: &str, value: bool) {
        self.member(name, &value);
    }

    fn member<T: PropertyValue + ?Sized>(&mut self, name: &str, value: &T) {
        if !value.is_present() {
            return;
        }
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_json_str(self.out, name);
        self.out.push(':');
        value.write_json(self.out);
    }
}

/// Appends `value` as a JSON string literal.
pub fn write_json_str(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct JsonStr<'a>(&'a str);

impl PropertyValue for JsonStr<'_> {
    fn write_json(&self, out: &mut String) {
        write_json_str(out, self.0);
    }
}

impl PropertyValue for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl PropertyValue for $ty {
            fn write_json(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl PropertyValue for Duration {
    fn write_json(&self, out: &mut String) {
        let millis = u64::try_from(self.as_millis()).unwrap_or(u64::MAX);
        let _ = write!(out, "{millis}");
    }
}

impl PropertyValue for ErrorClass {
    fn write_json(&self, out: &mut String) {
        write_json_str(out, self.as_str());
    }
}

impl PropertyValue for CodeLocation {
    fn write_json(&self, out: &mut String) {
        write_json_str(out, self.as_str());
    }
}

impl<T: PropertyValue> PropertyValue for Option<T> {
    fn write_json(&self, out: &mut String) {
        if let Some(value) = self {
            value.write_json(out);
        }
    }

    /// `Some(None)`, which an alias can hide, is left out too: a member always has a value.
    fn is_present(&self) -> bool {
        self.as_ref().is_some_and(PropertyValue::is_present)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_members_and_skips_none() {
        let mut out = String::from("{");
        let mut writer = PropertyWriter::new(&mut out, true);
        writer.signed("exit_code", &-1i32);
        writer.unsigned("count", &None::<u32>);
        writer.duration_ms("duration_ms", &Duration::from_micros(1_500_999));
        writer.runtime_str("os", "li\"nux\n");
        writer.bool("ok", &Some(true));
        writer.signed("nested", &Some(None::<i32>));
        out.push('}');
        assert_eq!(
            out,
            r#"{"exit_code":-1,"duration_ms":1500,"os":"li\"nux\n","ok":true}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["os"], "li\"nux\n");
    }
}
