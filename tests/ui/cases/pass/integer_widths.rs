//! Every integer width fits its kind: `u8` to `usize` for `unsigned`, `i8` to `isize` for
//! `signed`, also when the type comes through a `macro_rules!` that declares the events.

use telemetry_core::{Event, PropertyKind, properties_json, telemetry_event};

macro_rules! widths {
    ($($event:ident: $name:literal, $unsigned:ty, $signed:ty;)*) => {$(
        /// Sent when a command finishes.
        #[telemetry_event(name = $name)]
        pub struct $event {
            pub node_count: $unsigned,
            pub exit_code: $signed,
        }
    )*};
}

widths! {
    Width8: "test.width_8", u8, i8;
    Width16: "test.width_16", u16, i16;
    Width32: "test.width_32", u32, i32;
    Width64: "test.width_64", u64, i64;
    WidthSize: "test.width_size", usize, isize;
}

/// Sent when a command finishes, if it counted anything.
#[telemetry_event(name = "test.width_optional")]
pub struct WidthOptional {
    pub node_count: Option<u64>,
    pub exit_code: Option<i64>,
}

fn main() {
    assert_eq!(
        properties_json(&Width8 {
            node_count: u8::MAX,
            exit_code: i8::MIN
        }),
        r#""node_count":255,"exit_code":-128"#
    );
    assert_eq!(
        properties_json(&Width16 {
            node_count: u16::MAX,
            exit_code: i16::MIN
        }),
        r#""node_count":65535,"exit_code":-32768"#
    );
    assert_eq!(
        properties_json(&Width32 {
            node_count: u32::MAX,
            exit_code: i32::MIN
        }),
        r#""node_count":4294967295,"exit_code":-2147483648"#
    );
    assert_eq!(
        properties_json(&Width64 {
            node_count: u64::MAX,
            exit_code: i64::MIN
        }),
        r#""node_count":18446744073709551615,"exit_code":-9223372036854775808"#
    );
    assert_eq!(
        properties_json(&WidthSize {
            node_count: 0,
            exit_code: -1
        }),
        r#""node_count":0,"exit_code":-1"#
    );
    assert_eq!(
        properties_json(&WidthOptional {
            node_count: None,
            exit_code: Some(2)
        }),
        r#""exit_code":2"#
    );

    for meta in [
        <Width8 as Event>::META,
        <Width16 as Event>::META,
        <Width32 as Event>::META,
        <Width64 as Event>::META,
        <WidthSize as Event>::META,
    ] {
        assert_eq!(meta.properties[0].kind, PropertyKind::Unsigned);
        assert_eq!(meta.properties[1].kind, PropertyKind::Signed);
    }
    assert_eq!(<Width8 as Event>::META.name, "test.width_8");
}
