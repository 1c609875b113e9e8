//! What the code the macros generate names: **not API**. Anything reached through this module
//! can break in any release, and code that names it gives up the guarantees the crate
//! documentation states (a host that implements [`Sealed`] by hand, builds a [`PropertyWriter`]
//! or a code location from its own text, is on its own).

pub use crate::event::writer::{PropertyValue, PropertyWriter, write_json_str};
pub use crate::event::{SchemaToken, Sealed};

use crate::event::Listed;

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

/// The description of a listed event, for the schema's list. Bound by [`Listed`] rather than
/// `Event`: a listed type that is no event is then reported once, at its `Listed` impl.
pub const fn listed_meta<T: Listed>() -> &'static EventMeta {
    T::META
}

/// The index of the first event in `events` whose name an earlier one has, or `usize::MAX`.
/// `telemetry_schema!` matches on it in a constant, so two types sending one event name fail
/// the build at the second type instead of reaching PostHog as one event with two shapes.
pub const fn first_repeated_name(events: &[&EventMeta]) -> usize {
    let mut later = 1;
    while later < events.len() {
        let mut earlier = 0;
        while earlier < later {
            if same_text(events[earlier].name, events[later].name) {
                return later;
            }
            earlier += 1;
        }
        later += 1;
    }
    usize::MAX
}

/// Fails the constant `telemetry_schema!` generates, with `message`, at the caller: the listed
/// type whose event name is taken. A call, not a `panic!` per listed type, which would cost a
/// large schema's build a `format_args!` to check for each.
#[track_caller]
pub const fn repeated_event_name(message: &'static str) -> ! {
    panic!("{}", message)
}

/// `a == b`, in a constant. From the end: event names share their prefixes (`cli.`), so that
/// is where two of them differ first, and the compiler's interpreter takes every step.
const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = a.len();
    while i > 0 {
        i -= 1;
        if a[i] != b[i] {
            return false;
        }
    }
    true
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

use crate::event::kinds::{BucketedValue, EnumValue};

/// The values of an `enum` or `bucketed` property at type level: a fingerprint of the set of
/// values, which the macros compute from the allowlist (`#[telemetry_enum]` and
/// `#[telemetry_bucket]` for the type they declare, `#[telemetry_event]` for each field's
/// property). The property's name is not part of it: a type declared for another property with
/// the same values fits (one `Provider` for `provider` and `default_assistant`).
pub struct Values<const FINGERPRINT: u64>;

/// What [`enumeration`] requires of an enum field's type: that its values are the ones the
/// allowlist lists for the field's property, `Expected` (compared as types, through
/// [`EnumValue::Fingerprint`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not have the values the allowlist lists for `{P}`",
    label = "declared for a property with other values: use an enum declared with `#[telemetry_enum(property = \"{P}\")]`",
    note = "a `#[telemetry_enum]` fits a property whose allowlisted values are its variants: the property it names, or another with the same values"
)]
pub trait EnumValuesOf<Expected, P: ?Sized> {}

// `do_not_recommend`: a type whose values differ is reported as not `EnumValuesOf`, in the
// words above, instead of as a type mismatch between two fingerprints.
#[diagnostic::do_not_recommend]
impl<T: EnumValue<Fingerprint = Expected> + ?Sized, Expected, P: ?Sized> EnumValuesOf<Expected, P>
    for T
{
}

/// As [`EnumValuesOf`], for bucketed names.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not have the known names the allowlist lists for `{P}`",
    label = "declared for a property with other names: use a type declared with `#[telemetry_bucket(property = \"{P}\")]`",
    note = "a `#[telemetry_bucket]` fits a property whose allowlisted names are its known names: the property it names, or another with the same names"
)]
pub trait BucketValuesOf<Expected, P: ?Sized> {}

#[diagnostic::do_not_recommend]
impl<T: BucketedValue<Fingerprint = Expected> + ?Sized, Expected, P: ?Sized>
    BucketValuesOf<Expected, P> for T
{
}

/// An `enum` property `P` (a type parameter named after it, for the message) whose allowlisted
/// values have the fingerprint `V`: the writer's method, and a type whose values are not the
/// property's fails to compile at the field. A type that is no enum at all is reported once, in
/// [`EnumValue`]'s words.
#[inline]
pub fn enumeration<T: EnumValue + EnumValuesOf<Values<V>, P>, P: ?Sized, const V: u64>(
    out: &mut PropertyWriter<'_>,
    name: &'static str,
    value: &T,
) {
    out.enumeration(name, value);
}

/// As [`enumeration`], for a `bucketed` property.
#[inline]
pub fn bucketed<T: BucketedValue + BucketValuesOf<Values<V>, P>, P: ?Sized, const V: u64>(
    out: &mut PropertyWriter<'_>,
    name: &'static str,
    value: &T,
) {
    out.bucketed(name, value);
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

#[cfg(test)]
mod tests {
    use super::*;

    const fn named(name: &'static str) -> EventMeta {
        EventMeta {
            name,
            description: "",
            properties: &[],
            type_name: "",
        }
    }

    #[test]
    fn the_first_event_named_like_an_earlier_one_is_found() {
        let (a, b, c, a_again) = (named("a.x"), named("b.x"), named("a.xy"), named("a.x"));
        assert_eq!(first_repeated_name(&[]), usize::MAX);
        assert_eq!(first_repeated_name(&[&a]), usize::MAX);
        assert_eq!(first_repeated_name(&[&a, &b, &c]), usize::MAX);
        assert_eq!(first_repeated_name(&[&a, &b, &c, &a_again]), 3);
        assert_eq!(first_repeated_name(&[&b, &a, &a_again, &b]), 2);
    }
}
