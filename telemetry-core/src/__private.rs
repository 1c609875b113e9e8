//! What the code the macros generate names: **not API**. Anything reached through this module
//! can break in any release, and code that names it gives up the guarantees the crate
//! documentation states (a host that implements [`Sealed`] by hand, builds a [`PropertyWriter`]
//! or a code location from its own text, is on its own).

pub use crate::event::meta::{PropertyKind, Sensitivity};
pub use crate::event::values::USER_DEFINED;
pub use crate::event::writer::{PropertyValue, PropertyWriter, write_json_str};
pub use crate::event::{SchemaToken, Sealed};
pub use crate::schema::ConsentPolicy;

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

/// The allowlist a listed event was checked against (its fingerprint) and its type's name,
/// for the schema's check. Bound by [`Listed`], as [`listed_meta`].
pub const fn listed_allowlist<T: Listed>() -> (u64, &'static str) {
    (T::__ALLOWLIST, T::META.type_name)
}

/// Fails the constant `telemetry_schema!` generates when a listed event (its allowlist's
/// fingerprint and its type name) was checked against another allowlist than the schema's
/// (`schema`, at `path`), at the caller (the schema's name): the page documents the schema's
/// allowlist, so an event checked against another could send properties it does not list, or
/// list them as another kind.
#[track_caller]
pub const fn check_allowlists(events: &[(u64, &str)], schema: u64, path: &str) {
    let mut i = 0;
    while i < events.len() {
        let (event, type_name) = events[i];
        if event != 0 && event != schema {
            let mut message = Message::new();
            message.push("`");
            message.push(type_name);
            message.push("` was checked against another allowlist than this schema's, `");
            message.push(path);
            message.push("`: the page documents the schema's allowlist, so every event it lists is checked against it (remove the event's `allowlist = \"...\"`, or make the files the same)");
            match message.text() {
                Some(text) => panic!("{}", text),
                None => {
                    panic!("an event listed in this schema was checked against another allowlist")
                }
            }
        }
        i += 1;
    }
}

/// What a `#[telemetry_bucket]`'s `sanitize` returns for `name`: the allowlist's own `&'static`
/// copy when `known` lists it, [`USER_DEFINED`] otherwise. A function here rather than code
/// generated in the declaring module, where a method of a trait the author has in scope (a
/// `find` taking `self`) would be chosen before the standard one and could return any text.
pub fn bucket_name(known: &'static [&'static str], name: &str) -> &'static str {
    known
        .iter()
        .copied()
        .find(|known| *known == name)
        .unwrap_or(USER_DEFINED)
}

/// Fails the constant `telemetry_schema!` generates when two listed events send one name, at
/// the caller (the schema's name), naming both types: PostHog would get them as one event with
/// two shapes, and the page and catalog would list the name twice. One call for the whole list,
/// no code per listed type, so a large schema builds as fast as before.
#[track_caller]
pub const fn check_distinct_names(events: &[&EventMeta]) {
    if let Some(message) = repeated_name(events) {
        match message.text() {
            Some(text) => panic!("{}", text),
            None => panic!("two events listed in this schema send the same event name"),
        }
    }
}

/// What [`check_distinct_names`] says about the first two of `events` that send one name.
const fn repeated_name(events: &[&EventMeta]) -> Option<Message> {
    let mut later = 1;
    while later < events.len() {
        let mut earlier = 0;
        while earlier < later {
            let (first, second) = (events[earlier], events[later]);
            if same_text(first.name, second.name) {
                let mut message = Message::new();
                message.push("`");
                message.push(first.type_name);
                message.push("` and `");
                message.push(second.type_name);
                message.push("` send the same event name, `");
                message.push(first.name);
                message.push("`: give each `#[telemetry_event(name = \"...\")]` a name of its own");
                return Some(message);
            }
            earlier += 1;
        }
        later += 1;
    }
    None
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

/// A message put together in a constant (`format!` is not available there), cut at 512 bytes.
struct Message {
    bytes: [u8; 512],
    len: usize,
}

impl Message {
    const fn new() -> Self {
        Message {
            bytes: [0; 512],
            len: 0,
        }
    }

    const fn push(&mut self, text: &str) {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
    }

    /// The text; `None` when the cut fell inside a character.
    const fn text(&self) -> Option<&str> {
        let (text, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => Some(text),
            Err(_) => None,
        }
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
    policy: ConsentPolicy,
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
        policy,
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
    note = "a `#[telemetry_enum]` fits a property whose allowlisted values are its variants: the property it names, or another with the same values",
    note = "an enum declared in another crate was checked against that crate's allowlist: both allowlists must list the same values for the property"
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
    note = "a `#[telemetry_bucket]` fits a property whose allowlisted names are its known names: the property it names, or another with the same names",
    note = "a type declared in another crate was checked against that crate's allowlist: both allowlists must list the same names for the property"
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

    const fn named(name: &'static str, type_name: &'static str) -> EventMeta {
        EventMeta {
            name,
            description: "",
            properties: &[],
            type_name,
        }
    }

    /// What the check says: `Ok` when it passes, else its message (`None`: the generic one).
    fn check(events: &[&EventMeta]) -> Result<(), Option<String>> {
        match repeated_name(events) {
            None => Ok(()),
            Some(message) => Err(message.text().map(str::to_owned)),
        }
    }

    #[test]
    fn two_events_with_one_name_are_refused_naming_both() {
        let a = named("a.x", "A");
        let b = named("b.x", "B");
        let c = named("a.xy", "C");
        let d = named("a.x", "D");
        assert_eq!(check(&[]), Ok(()));
        assert_eq!(check(&[&a]), Ok(()));
        assert_eq!(check(&[&a, &b, &c]), Ok(()));
        assert_eq!(
            check(&[&b, &a, &c, &d]),
            Err(Some("`A` and `D` send the same event name, `a.x`: give each `#[telemetry_event(name = \"...\")]` a name of its own".into()))
        );
        // a message cut inside a character falls back to the generic one; cut between two, it
        // is kept as far as it goes
        let cut_inside: &'static str = Box::leak("ä".repeat(300).into_boxed_str());
        let (e, f) = (named("e.x", cut_inside), named("e.x", "F"));
        assert_eq!(check(&[&e, &f]), Err(None));
        let cut_between: &'static str = Box::leak("a".repeat(600).into_boxed_str());
        let (g, h) = (named("g.x", cut_between), named("g.x", "H"));
        let message = check(&[&g, &h]).unwrap_err().unwrap();
        assert_eq!(message.len(), 512);
        assert!(message.starts_with("`aaa"), "{message}");
    }
}
