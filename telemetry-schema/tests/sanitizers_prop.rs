//! Property tests: hostile text through every sanitizer of the example product
//! (`CommandName`, `SubcommandName`, `WorkflowName`), into every event that takes them.
//!
//! Each sanitized value must be one of the allowlist's names for its property (read from the
//! events' metadata, which the event macro takes from the allowlist, not from the bucket's own
//! list) or `user-defined`, and the events' JSON must carry no substring of 4 or more
//! characters of the input that is not itself part of such a name.
//!
//! 2,000 cases per property by default; `PROPTEST_CASES` raises (or lowers) it.

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value};
use telemetry_core::{ErrorClass, Event, USER_DEFINED, properties_json};
use telemetry_schema::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2_000)
}

/// The names the schema's events allow for `property`, from their metadata.
fn allowed(property: &str) -> BTreeSet<&'static str> {
    let mut names: BTreeSet<&'static str> = SCHEMA
        .events()
        .iter()
        .flat_map(|event| event.properties)
        .filter(|p| p.name == property)
        .filter_map(|p| p.kind.values())
        .flatten()
        .copied()
        .collect();
    assert!(!names.is_empty(), "no event declares {property}");
    names.insert(USER_DEFINED);
    names
}

/// Every word a property value or name may be made of: the allowlist's names of every
/// property, `user-defined`, the property names, and the error classes the tests make.
fn vocabulary() -> &'static [String] {
    static WORDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut words = vec![USER_DEFINED.to_string(), "io::Error(Other)".to_string()];
        for event in SCHEMA.events() {
            for property in event.properties {
                words.push(property.name.to_string());
                if let Some(values) = property.kind.values() {
                    words.extend(values.iter().map(|v| v.to_string()));
                }
            }
        }
        words
    });
    &WORDS
}

/// Every name any bucket of the product knows, for near misses.
fn known_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = CommandName::KNOWN
        .iter()
        .chain(SubcommandName::KNOWN)
        .chain(WorkflowName::KNOWN)
        .copied()
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Text a user could type or a host could pass on.
fn hostile() -> impl Strategy<Value = String> {
    let near_miss = (
        proptest::sample::select(known_names()),
        0..10usize,
        "[ -~]{0,12}",
    )
        .prop_map(|(known, how, extra)| match how {
            0 => known.to_uppercase(),
            1 => format!("{known}{extra}"),
            2 => format!("{extra}{known}"),
            3 => format!(" {known}\n"),
            4 => format!("{known}\u{200b}"),
            5 => format!("{known}\0"),
            // Cyrillic look-alikes
            6 => known.replace('a', "\u{430}").replace('e', "\u{435}"),
            7 => format!("{known}\",\"leak\":\"{extra}"),
            8 => format!("\u{202e}{known}"),
            _ => known.replace('-', "_"),
        });
    prop_oneof![
        any::<String>(),
        "[ -~]{0,64}",
        "\\PC{0,48}",
        "(/[a-zA-Z0-9._-]{1,12}){1,6}",
        "~/[a-z]{1,10}/secret-repo",
        "C:\\\\Users\\\\[a-z]{1,10}\\\\[A-Za-z]{1,10}",
        "[a-z0-9.]{1,16}@[a-z0-9-]{1,12}\\.(com|org|io)",
        "(ghp_|sk-|phc_|AKIA)[A-Za-z0-9]{16,40}",
        "https://[a-z]{1,10}\\.example\\.com/[a-z?=&]{0,20}",
        "[\\x00-\\x1f\"\\\\{}\\[\\]:,]{1,32}",
        near_miss,
        "[a-z]{2,8}".prop_map(|word| format!("{word}-{}", word.repeat(300))),
    ]
}

/// The properties of `event`, parsed: the JSON must be valid and every key declared.
fn properties<E: Event>(event: &E) -> Result<Map<String, Value>, TestCaseError> {
    let json = format!("{{{}}}", properties_json(event));
    let value: Value = serde_json::from_str(&json)
        .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {json}")))?;
    let Value::Object(map) = value else {
        return Err(TestCaseError::fail(json));
    };
    for key in map.keys() {
        prop_assert!(
            E::META.properties.iter().any(|p| p.name == key),
            "{} has an undeclared property {key}: {json}",
            E::META.name
        );
    }
    Ok(map)
}

/// Every key and string value of `sent`.
fn strings(sent: &[Map<String, Value>]) -> Vec<&str> {
    let mut strings: Vec<&str> = sent
        .iter()
        .flatten()
        .flat_map(|(key, value)| [Some(key.as_str()), value.as_str()])
        .flatten()
        .collect();
    strings.sort_unstable();
    strings.dedup();
    strings
}

/// No substring of 4 or more characters of `input` that is not part of a vocabulary word is
/// in any of `strings` (the keys and string values sent).
fn no_leak(strings: &[&str], input: &str) -> Result<(), TestCaseError> {
    // A piece of a vocabulary word is allowed, so only strings that are not one can leak.
    let strings: Vec<&str> = strings
        .iter()
        .copied()
        .filter(|text| !vocabulary().iter().any(|word| word == text))
        .collect();
    if strings.is_empty() {
        return Ok(());
    }
    let bounds: Vec<usize> = input
        .char_indices()
        .map(|(i, _)| i)
        .chain([input.len()])
        .collect();
    for (n, &start) in bounds.iter().enumerate() {
        for &end in bounds.iter().skip(n + 4) {
            let piece = &input[start..end];
            if !strings.iter().any(|text| text.contains(piece)) {
                // no longer piece from here is there either
                break;
            }
            prop_assert!(
                vocabulary().iter().any(|word| word.contains(piece)),
                "{piece:?} of the input {input:?} reached an event: {strings:?}"
            );
        }
    }
    Ok(())
}

/// `sanitized` is `input` when the allowlist knows it for `property`, else `user-defined`.
fn check_sanitized(property: &str, input: &str, sanitized: &str) -> Result<(), TestCaseError> {
    let allowed = allowed(property);
    prop_assert!(
        allowed.contains(sanitized),
        "{property}: {sanitized:?} is neither an allowlisted name nor `user-defined`"
    );
    let expected = if allowed.contains(input) {
        input
    } else {
        USER_DEFINED
    };
    prop_assert_eq!(sanitized, expected, "{}: {:?}", property, input);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Every sanitizer keeps only the allowlist's names.
    #[test]
    fn every_sanitizer_keeps_only_allowlisted_names(input in hostile()) {
        check_sanitized("command", &input, CommandName::sanitize(&input).as_str())?;
        check_sanitized("subcommand", &input, SubcommandName::sanitize(&input).as_str())?;
        check_sanitized("workflow_name", &input, WorkflowName::sanitize(&input).as_str())?;
    }

    /// The events that take sanitized names (and error classes of errors carrying the text)
    /// send nothing of the input.
    #[test]
    fn hostile_text_never_reaches_an_event(
        command in hostile(),
        subcommand in proptest::option::of(hostile()),
        workflow in hostile(),
        message in hostile(),
    ) {
        let error_class = ErrorClass::of(&std::io::Error::other(message.clone()));
        prop_assert_eq!(error_class.as_str(), "io::Error(Other)");
        let inputs: Vec<&str> =
            [Some(command.as_str()), subcommand.as_deref(), Some(workflow.as_str()), Some(message.as_str())]
                .into_iter()
                .flatten()
                .collect();
        let sent = [
            properties(&CommandInvoked {
                command: CommandName::sanitize(&command),
                subcommand: subcommand.as_deref().map(SubcommandName::sanitize),
            })?,
            properties(&CommandCompleted {
                command: CommandName::sanitize(&command),
                subcommand: subcommand.as_deref().map(SubcommandName::sanitize),
                exit_code: 1,
                duration_ms: Duration::from_millis(5),
                error_class: Some(error_class.clone()),
            })?,
            properties(&RunStarted {
                workflow_name: WorkflowName::sanitize(&workflow),
                node_count: 3,
                provider: Provider::Claude,
                is_cli_invoked: true,
            })?,
            properties(&RunCompleted {
                workflow_name: WorkflowName::sanitize(&workflow),
                duration_ms: Duration::from_millis(5),
                node_count: 3,
                nodes_completed: 3,
            })?,
            properties(&RunFailed {
                workflow_name: WorkflowName::sanitize(&workflow),
                error_class,
                failed_node_type: Some(NodeType::Bash),
                duration_ms: Duration::from_millis(5),
            })?,
            properties(&NodeFailed {
                workflow_name: WorkflowName::sanitize(&workflow),
                node_type: NodeType::Prompt,
                error_classification: ErrorClassification::Transient,
                provider: Provider::Local,
            })?,
        ];
        for properties in &sent {
            for (name, value) in properties {
                if let (Some(text), true) = (
                    value.as_str(),
                    ["command", "subcommand", "workflow_name"].contains(&name.as_str()),
                ) {
                    prop_assert!(allowed(name).contains(text), "{} = {:?}", name, text);
                }
            }
        }
        let strings = strings(&sent);
        for input in &inputs {
            no_leak(&strings, input)?;
        }
    }
}

#[test]
fn the_buckets_know_exactly_the_allowlist_s_names() {
    let set = |names: &[&'static str]| -> BTreeSet<&'static str> {
        names.iter().copied().chain([USER_DEFINED]).collect()
    };
    assert_eq!(set(CommandName::KNOWN), allowed("command"));
    assert_eq!(set(SubcommandName::KNOWN), allowed("subcommand"));
    assert_eq!(set(WorkflowName::KNOWN), allowed("workflow_name"));
}

/// The leak check finds a leak: properties changed to carry the input, as a broken sanitizer
/// would send them.
#[test]
fn the_leak_check_finds_a_leak() {
    let input = "/home/alice/secret-repo";
    let mut sent = Map::new();
    sent.insert("workflow_name".into(), Value::from(USER_DEFINED));
    assert!(no_leak(&strings(&[sent.clone()]), input).is_ok());
    sent.insert("workflow_name".into(), Value::from("assist alice/secret"));
    assert!(no_leak(&strings(&[sent]), input).is_err());
    let mut keyed = Map::new();
    keyed.insert("secret-repo".into(), Value::from(true));
    assert!(no_leak(&strings(&[keyed]), input).is_err());
}
