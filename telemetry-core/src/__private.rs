//! What the code the macros generate names: **not API**. Anything reached through this module
//! can break in any release, and code that names it gives up the guarantees the crate
//! documentation states (a host that implements [`Sealed`] by hand, builds a [`PropertyWriter`]
//! or a code location from its own text, is on its own).

pub use crate::event::writer::{PropertyValue, PropertyWriter, write_json_str};
pub use crate::event::{SchemaToken, Sealed};

use crate::event::meta::EventMeta;
use crate::event::values::CodeLocation;
use crate::schema::{AllowlistSource, Product, Schema};

/// `code_location!()`: the module path of the place it is written.
pub const fn code_location(module_path: &'static str) -> CodeLocation {
    CodeLocation::from_module_path(module_path)
}

/// The schema `telemetry_schema!` declares.
pub const fn schema(
    product: Product,
    events: &'static [&'static EventMeta],
    allowlist: AllowlistSource,
) -> Schema {
    Schema {
        product,
        events,
        allowlist,
    }
}

/// The product of a schema, from the allowlist's `[product]` table.
#[allow(clippy::too_many_arguments)]
pub const fn product(
    name: &'static str,
    command: &'static str,
    docs_url: Option<&'static str>,
    docs_path: &'static str,
    contact: &'static str,
    data_location: &'static str,
    retention: &'static str,
    purpose: Option<&'static str>,
) -> Product {
    Product {
        name,
        command,
        docs_url,
        docs_path,
        contact,
        data_location,
        retention,
        purpose,
    }
}

use std::marker::PhantomData;

use crate::event::kinds::{BucketedValue, EnumValue};

/// Asks whether `T` is an enum value type without failing when it is not (the writer's
/// bound reports that): the inherent constant exists only when `T: EnumValue`, otherwise
/// the trait's `None` is found.
pub struct EnumProbe<T: ?Sized>(PhantomData<T>);

/// The fallback of [`EnumProbe`].
pub trait NotEnumValue {
    /// No values: `T` is not an enum value type.
    const VALUES: Option<&'static [&'static str]> = None;
    /// No property: `T` is not an enum value type.
    const PROPERTY: Option<&'static str> = None;
}

impl<T: ?Sized> NotEnumValue for EnumProbe<T> {}

impl<T: EnumValue> EnumProbe<T> {
    /// The enum's values.
    pub const VALUES: Option<&'static [&'static str]> = Some(T::VALUES);
    /// The property the enum was declared for.
    pub const PROPERTY: Option<&'static str> = Some(T::PROPERTY);
}

/// As [`EnumProbe`], for bucketed names.
pub struct BucketProbe<T: ?Sized>(PhantomData<T>);

/// The fallback of [`BucketProbe`].
pub trait NotBucketedValue {
    /// No values: `T` is not a bucketed name.
    const VALUES: Option<&'static [&'static str]> = None;
    /// No property: `T` is not a bucketed name.
    const PROPERTY: Option<&'static str> = None;
}

impl<T: ?Sized> NotBucketedValue for BucketProbe<T> {}

impl<T: BucketedValue> BucketProbe<T> {
    /// The bucket's known names.
    pub const VALUES: Option<&'static [&'static str]> = Some(T::KNOWN);
    /// The property the name was declared for.
    pub const PROPERTY: Option<&'static str> = Some(T::PROPERTY);
}

/// Whether two lists hold the same values, in any order (usable in constants).
pub const fn same_values(a: &[&str], b: &[&str]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !contains(b, a[i]) {
            return false;
        }
        i += 1;
    }
    true
}

const fn contains(list: &[&str], value: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i], value) {
            return true;
        }
        i += 1;
    }
    false
}

pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// What the micro-benchmarks (`telemetry-core/benches/`) time: **not API**, hidden, and free to
/// change or disappear in any release. It gives no way around the guarantees of the crate
/// documentation: it takes only an event declared with `#[telemetry_event]` and listed in a
/// `telemetry_schema!` ([`Listed`](crate::Listed)), attributes it to a fixed anonymous id (not
/// one of the caller's choosing), returns the text instead of queueing it, and touches no file.
/// Its code is in `bench_support.rs`, a layer of its own above the handle (it uses the record
/// and the queue's framing).
#[cfg(feature = "runtime")]
#[path = "bench_support.rs"]
pub mod bench;
