//! One trait per property kind: a field's type must implement the trait of its property's kind.
//!
//! The generated code states each bound with the span of the field's type, so a type that does
//! not fit is reported at the field, in the plain words of `on_unimplemented`.
//!
//! The traits are sealed (their supertrait [`PropertyValue`] requires the hidden
//! [`Sealed`](super::Sealed)): the standard types below implement them here, and
//! `#[telemetry_enum]` / `#[telemetry_bucket]` implement them for the types they declare. A
//! host cannot make a type of its own, such as a `String` newtype, the value of a property.

use std::time::Duration;

use super::values::{CodeLocation, ErrorClass};
pub use super::writer::PropertyValue;

/// Values of a `bool` property.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a `bool` property",
    label = "the allowlist declares this property as `bool`: use `bool`",
    note = "only types that cannot carry free-form user data fit a property; an optional one is a field written `Option<...>` (not behind an alias), left out when `None`"
)]
pub trait BoolValue: PropertyValue {}

/// Values of an `unsigned` property.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of an `unsigned` property",
    label = "the allowlist declares this property as `unsigned`: use `u8`, `u16`, `u32`, `u64` or `usize`",
    note = "only types that cannot carry free-form user data fit a property; an optional one is a field written `Option<...>` (not behind an alias), left out when `None`"
)]
pub trait UnsignedValue: PropertyValue {}

/// Values of a `signed` property.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a `signed` property",
    label = "the allowlist declares this property as `signed`: use `i8`, `i16`, `i32`, `i64` or `isize`",
    note = "only types that cannot carry free-form user data fit a property; an optional one is a field written `Option<...>` (not behind an alias), left out when `None`"
)]
pub trait SignedValue: PropertyValue {}

/// Values of a `duration_ms` property.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a `duration_ms` property",
    label = "the allowlist declares this property as `duration_ms`: use `std::time::Duration`",
    note = "the duration is sent in whole milliseconds"
)]
pub trait DurationValue: PropertyValue {}

/// Values of an `enum` property: implemented by `#[telemetry_enum]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of an `enum` property",
    label = "the allowlist declares this property as `enum`: use a fieldless enum marked `#[telemetry_enum]`",
    note = "a `#[telemetry_enum]` sends only which of the allowlisted values it is; free-form text may carry user data"
)]
pub trait EnumValue: PropertyValue {
    /// The values the enum's variants are sent as.
    const VALUES: &'static [&'static str];
    /// The property the enum was declared for (`#[telemetry_enum(property = "...")]`).
    const PROPERTY: &'static str;
    /// [`VALUES`](Self::VALUES) at type level, a fingerprint of the set (not API): what
    /// `#[telemetry_event]` requires of an enum field's type, instead of comparing the lists.
    #[doc(hidden)]
    type Fingerprint;
}

/// Values of a `bucketed` property: implemented by `#[telemetry_bucket]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a `bucketed` property",
    label = "the allowlist declares this property as `bucketed`: use a struct marked `#[telemetry_bucket]`",
    note = "free-form text may carry user data: a bucketed name sends known names as themselves and every other name as `user-defined`"
)]
pub trait BucketedValue: PropertyValue {
    /// The names sent as themselves.
    const KNOWN: &'static [&'static str];
    /// The property the name was declared for (`#[telemetry_bucket(property = "...")]`).
    const PROPERTY: &'static str;
    /// [`KNOWN`](Self::KNOWN) at type level, a fingerprint of the set (not API): what
    /// `#[telemetry_event]` requires of a bucketed field's type, instead of comparing the lists.
    #[doc(hidden)]
    type Fingerprint;
}

/// Values of an `error_class` property.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of an `error_class` property",
    label = "the allowlist declares this property as `error_class`: use `telemetry_core::ErrorClass`",
    note = "an error's message may carry paths, host names or user input: send `ErrorClass::of(&error)`, its type name"
)]
pub trait ErrorClassValue: PropertyValue {}

/// Values of a `code_location` property.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a `code_location` property",
    label = "the allowlist declares this property as `code_location`: use `telemetry_core::CodeLocation`",
    note = "build it with `telemetry_core::code_location!()`, a module path inside the program, never a file path"
)]
pub trait CodeLocationValue: PropertyValue {}

// `do_not_recommend`: a type that does not fit is told what the kind takes (the label), not
// shown a list of this crate's impls.
macro_rules! implement {
    ($kind:ident: $($ty:ty),*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl $kind for $ty {}
        )*
    };
}

implement!(BoolValue: bool);
implement!(UnsignedValue: u8, u16, u32, u64, usize);
implement!(SignedValue: i8, i16, i32, i64, isize);
implement!(DurationValue: Duration);
implement!(ErrorClassValue: ErrorClass);
implement!(CodeLocationValue: CodeLocation);
