//! Reading the runtime's small JSON files (the queue's records, `telemetry-sender.json`,
//! `telemetry-stats.json`) by hand from one parsed [`Value`], by the rules a derived serde
//! `Deserialize` follows.
//!
//! Every struct with a derived `Deserialize` puts a deserializer of its own in every host
//! (`deserialize_struct` is 2 to 8 KB per struct); parsing into a `Value`, which the sender
//! needs anyway for posthog-rs, shares one. The rules kept: a struct is read from an object
//! (members by name, unknown ones ignored) or from an array (members by position); an
//! `Option` member may be `null` or missing; a number must be an integer in the field's range.
//! One difference: a member given twice is an error for serde, the last one here.

use serde_json::Value;

/// The members `names` of the struct in `value`, by name from an object or by position from
/// an array, into `found` (as long as `names`). `defaults` is `#[serde(default)]` on the
/// struct: an array may then be shorter than `names`. An error when `value` is neither, or
/// the array has too many (or, without `defaults`, too few) elements.
pub(crate) fn struct_members<'a>(
    value: &'a Value,
    names: &[&str],
    defaults: bool,
    found: &mut [Option<&'a Value>],
) -> Result<(), String> {
    match value {
        Value::Object(object) => {
            for (slot, name) in found.iter_mut().zip(names) {
                *slot = object.get(*name);
            }
            Ok(())
        }
        Value::Array(items)
            if items.len() == names.len() || (defaults && items.len() < names.len()) =>
        {
            for (slot, item) in found.iter_mut().zip(items) {
                *slot = Some(item);
            }
            Ok(())
        }
        Value::Array(_) => Err(format!("an array of {} elements was expected", names.len())),
        _ => Err("a JSON object was expected".to_string()),
    }
}

/// The error for member `name`, whose value is not what the field holds.
#[cold]
pub(crate) fn invalid(name: &str) -> String {
    format!("`{name}` has an invalid value")
}

/// An unsigned integer member (`u64`, or narrower with `max`); `None` when it is missing.
pub(crate) fn unsigned(value: Option<&Value>, name: &str, max: u64) -> Result<Option<u64>, String> {
    match value {
        None => Ok(None),
        Some(value) => match value.as_u64() {
            Some(n) if n <= max => Ok(Some(n)),
            _ => Err(invalid(name)),
        },
    }
}

/// A string member; `None` when it is missing or (for an `Option`) `null`; an error when
/// `null` is not allowed (`nullable` false) or it is something else.
pub(crate) fn string(
    value: Option<&Value>,
    name: &str,
    nullable: bool,
) -> Result<Option<String>, String> {
    match value {
        None => Ok(None),
        Some(Value::Null) if nullable => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(invalid(name)),
    }
}

/// The name of a unit enum variant as serde reads one from JSON: a string, or an object with
/// the name as its only member and `null` as its value.
pub(crate) fn variant_name(value: &Value) -> Option<&str> {
    match value {
        Value::String(name) => Some(name),
        Value::Object(object) if object.len() == 1 => match object.iter().next() {
            Some((name, Value::Null)) => Some(name),
            _ => None,
        },
        _ => None,
    }
}
