//! Property tests: hostile text through `#[telemetry_bucket]` sanitizers, [`ErrorClass::of`]
//! and [`Record::for_event`], and nothing of it reaches the record's JSON.
//!
//! A bucket and an event are declared here against the workspace allowlist (the
//! `TELEMETRY_ALLOWLIST` of `.cargo/config.toml`); the strings are user input as a host could
//! receive it (paths, e-mail addresses, tokens, JSON and control characters, near misses of
//! the allowlist's names). Each record must parse as JSON, carry only the declared and the
//! runtime's property names, bucketed values from the allowlist or `user-defined`, error
//! classes made of a type name and an `io::ErrorKind`, and no substring of 4 or more
//! characters of the input that is not itself part of such a name.
//!
//! 2,000 cases per property by default; `PROPTEST_CASES` raises (or lowers) it.

use std::io;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::Value;

use crate::event::common::COMMON_PROPERTIES;
use crate::record::{CommonProperties, Record};
use crate::{ErrorClass, Event, TelemetryConfig, telemetry_bucket, telemetry_event};

/// A workflow: bundled ones by name, the user's own as `user-defined`.
#[telemetry_bucket(property = "workflow_name")]
pub struct WorkflowName;

/// A top-level command.
#[telemetry_bucket(property = "command")]
pub struct CommandName;

/// A subcommand.
#[telemetry_bucket(property = "subcommand")]
pub struct SubcommandName;

/// Sent when a workflow fails (a test event).
#[telemetry_event(name = "test.hostile_run_failed")]
pub struct HostileRunFailed {
    /// The workflow.
    pub workflow_name: WorkflowName,
    /// The command.
    pub command: CommandName,
    /// The subcommand.
    pub subcommand: Option<SubcommandName>,
    /// The class of the error.
    pub error_class: ErrorClass,
}

/// The runtime's own `$` properties every record may carry.
const DOLLAR_PROPERTIES: [&str; 2] = ["$geoip_disable", "$process_person_profile"];

/// The anonymous id the records are attributed to (fixed: not part of what is tested).
const DISTINCT_ID: &str = "0c5a6d0e-8a7b-4b9c-9d3e-2f1a0b4c5d6e";

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2_000)
}

fn common() -> &'static CommonProperties {
    static COMMON: LazyLock<CommonProperties> = LazyLock::new(|| {
        let config = TelemetryConfig::builder(&crate::schema::DEMO)
            .version("1.2.3")
            .git_commit("abc1234")
            .environment(crate::Environment::empty())
            .working_dir("/")
            .on_terminal(false)
            .build()
            .expect("a valid configuration");
        CommonProperties::new(&config)
    });
    &COMMON
}

/// Every name a record's string values may be made of: the allowlist's names for the event's
/// properties (from the event's metadata, not the buckets' own lists), `user-defined`, the
/// common properties' values and the property names.
fn vocabulary() -> &'static [String] {
    static WORDS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut words = vec![
            crate::USER_DEFINED.to_string(),
            "io::Error".to_string(),
            HostileRunFailed::META.name.to_string(),
        ];
        for property in HostileRunFailed::META
            .properties
            .iter()
            .chain(COMMON_PROPERTIES)
        {
            words.push(property.name.to_string());
            if let Some(values) = property.kind.values() {
                words.extend(values.iter().map(|v| v.to_string()));
            }
        }
        words.extend(["1.2.3", "abc1234"].map(String::from));
        words.extend(IO_KINDS.iter().map(|kind| format!("{kind:?}")));
        words.extend(DOLLAR_PROPERTIES.map(String::from));
        words
    });
    &WORDS
}

/// The `io::ErrorKind`s a hostile error is made with.
const IO_KINDS: &[io::ErrorKind] = &[
    io::ErrorKind::NotFound,
    io::ErrorKind::PermissionDenied,
    io::ErrorKind::ConnectionRefused,
    io::ErrorKind::ConnectionReset,
    io::ErrorKind::AlreadyExists,
    io::ErrorKind::WouldBlock,
    io::ErrorKind::InvalidInput,
    io::ErrorKind::InvalidData,
    io::ErrorKind::TimedOut,
    io::ErrorKind::WriteZero,
    io::ErrorKind::Interrupted,
    io::ErrorKind::Unsupported,
    io::ErrorKind::UnexpectedEof,
    io::ErrorKind::OutOfMemory,
    io::ErrorKind::Other,
];

/// The allowlist's bucketed names of every property, for near misses.
fn known_names() -> Vec<&'static str> {
    HostileRunFailed::META
        .properties
        .iter()
        .filter_map(|p| p.kind.values())
        .flatten()
        .copied()
        .collect()
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
            3 => format!("{known} "),
            4 => format!("{known}\u{200b}"),
            5 => format!("{known}\0"),
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

/// A hostile error: an `io::Error` of some kind carrying the text (directly, as another
/// error, or built from an OS error number), or the text boxed as an error of its own.
#[derive(Debug)]
enum HostileError {
    Io(io::Error),
    Boxed(Box<dyn std::error::Error + Send + Sync>),
    Own(OwnError),
}

/// An error of the host's own carrying user text.
#[derive(Debug)]
struct OwnError {
    message: String,
}

impl std::fmt::Display for OwnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OwnError {}

fn hostile_error(text: String, how: usize, kind: usize, os_code: i32) -> HostileError {
    let kind = IO_KINDS[kind % IO_KINDS.len()];
    match how % 6 {
        0 => HostileError::Io(io::Error::new(kind, text)),
        1 => HostileError::Io(io::Error::other(text)),
        2 => HostileError::Io(io::Error::new(kind, OwnError { message: text })),
        3 => HostileError::Io(io::Error::from_raw_os_error(os_code)),
        4 => HostileError::Boxed(text.into()),
        _ => HostileError::Own(OwnError { message: text }),
    }
}

/// The class of `error` and the class it must have (from its type and kind alone).
fn classify(error: &HostileError) -> (ErrorClass, String) {
    match error {
        HostileError::Io(io) => (ErrorClass::of(io), format!("io::Error({:?})", io.kind())),
        HostileError::Boxed(boxed) => (ErrorClass::of(boxed), "Box".to_string()),
        HostileError::Own(own) => (ErrorClass::of(own), "OwnError".to_string()),
    }
}

/// Checks one record built from `inputs`: structure, names, and no leaked substring.
fn check_record(
    record: &Record,
    inputs: &[&str],
    class: &str,
    words: &[String],
) -> Result<(), TestCaseError> {
    let value: Value = serde_json::from_str(&record.json)
        .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {}", record.json)))?;
    let object = value.as_object().expect("an object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    prop_assert_eq!(
        keys,
        ["distinct_id", "event", "properties", "timestamp", "uuid"],
        "{}",
        record.json
    );
    prop_assert_eq!(&value["event"], "test.hostile_run_failed");
    prop_assert_eq!(&value["distinct_id"], DISTINCT_ID);
    let uuid = value["uuid"].as_str().unwrap_or_default();
    prop_assert!(
        uuid::Uuid::parse_str(uuid).is_ok_and(|u| u.get_version_num() == 7),
        "{}",
        uuid
    );
    let timestamp = value["timestamp"].as_str().unwrap_or_default();
    prop_assert!(
        crate::record::parse_rfc3339(timestamp).is_ok() && timestamp.ends_with('Z'),
        "{}",
        timestamp
    );

    let properties = value["properties"].as_object().expect("properties");
    for (name, value) in properties {
        let meta = HostileRunFailed::META
            .properties
            .iter()
            .chain(COMMON_PROPERTIES)
            .find(|p| p.name == name);
        match (meta, value) {
            (Some(meta), Value::String(text)) => {
                if let Some(allowed) = meta.kind.values() {
                    prop_assert!(
                        allowed.contains(&text.as_str()) || text == crate::USER_DEFINED,
                        "{name} = {text:?} is neither an allowlisted name nor `user-defined`"
                    );
                }
                if name == "error_class" {
                    prop_assert_eq!(text, class);
                }
            }
            (Some(_), Value::Bool(_)) => {}
            (None, Value::Bool(_)) if DOLLAR_PROPERTIES.contains(&name.as_str()) => {}
            (_, other) => prop_assert!(false, "unexpected property {name} = {other}"),
        }
    }

    // Every string of the record but its uuid and timestamp (made fresh, checked above).
    let mut strings: Vec<&str> = vec![DISTINCT_ID, "test.hostile_run_failed"];
    for (name, value) in properties {
        strings.push(name);
        if let Value::String(text) = value {
            strings.push(text);
        }
    }
    // A piece of a vocabulary word is allowed, so only strings that are not one can leak.
    strings.retain(|text| *text != DISTINCT_ID && !words.iter().any(|word| word == text));
    for input in inputs {
        let chars: Vec<char> = input.chars().collect();
        for start in 0..chars.len() {
            for end in start + 4..=chars.len() {
                let piece: String = chars[start..end].iter().collect();
                if !strings.iter().any(|text| text.contains(&piece)) {
                    // no longer piece from here is in the record either
                    break;
                }
                // The error class was checked above to be exactly the one its type and kind
                // give (`io::Error(Uncategorized)` for an OS error of no listed kind, say), so
                // a piece of it is not a leak.
                prop_assert!(
                    words.iter().any(|w| w.contains(&piece))
                        || DISTINCT_ID.contains(&piece)
                        || class.contains(&piece),
                    "{:?} of the input {:?} reached the record: {}",
                    piece,
                    input,
                    record.json
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Bucketed names, subcommands and error classes from hostile text, through a record.
    #[test]
    fn hostile_text_never_reaches_a_record(
        workflow in hostile(),
        command in hostile(),
        subcommand in proptest::option::of(hostile()),
        message in hostile(),
        how in 0..6usize,
        kind in 0..IO_KINDS.len(),
        os_code in any::<i32>(),
        personless in any::<bool>(),
    ) {
        let sanitized = WorkflowName::sanitize(&workflow);
        prop_assert_eq!(
            sanitized.as_str(),
            if WorkflowName::KNOWN.contains(&workflow.as_str()) { workflow.as_str() } else { crate::USER_DEFINED }
        );
        let error = hostile_error(message.clone(), how, kind, os_code);
        let (class, expected_class) = classify(&error);
        prop_assert_eq!(class.as_str(), expected_class.as_str());
        let event = HostileRunFailed {
            workflow_name: sanitized,
            command: CommandName::sanitize(&command),
            subcommand: subcommand.as_deref().map(SubcommandName::sanitize),
            error_class: class,
        };
        let record = Record::for_event(&event, DISTINCT_ID, personless, common());
        let mut inputs = vec![workflow.as_str(), command.as_str(), message.as_str()];
        inputs.extend(subcommand.as_deref());
        check_record(&record, &inputs, &expected_class, vocabulary())?;
    }
}

/// Strings that do reach a record as themselves (a distinct id, an alias's principal id, a
/// common property's value) are escaped: the record parses back to exactly them.
fn escaped_text() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile(),
        // every length around the 8-byte words the escape check reads, with one byte to escape
        // anywhere (or none)
        (
            0..40usize,
            0..41usize,
            proptest::sample::select(vec![
                "", "\"", "\\", "\n", "\r", "\t", "\0", "\u{1f}", "\u{7f}", "\u{80}", "é",
                "\u{2028}",
            ])
        )
            .prop_map(|(len, at, special)| {
                let mut text = "a".repeat(len);
                text.insert_str(at.min(len), special);
                text
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// `write_json_str` escapes exactly `"`, `\\` and control characters (as serde_json does,
    /// but for backspace and form feed, written `\u0008` and `\u000c` where serde_json has `\b`
    /// and `\f`), and its output reads back.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them(text in escaped_text()) {
        let mut out = String::new();
        crate::event::writer::write_json_str(&mut out, &text);
        let mut expected = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => expected.push_str("\\\""),
                '\\' => expected.push_str("\\\\"),
                '\n' => expected.push_str("\\n"),
                '\r' => expected.push_str("\\r"),
                '\t' => expected.push_str("\\t"),
                c if c < ' ' => expected.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => expected.push(c),
            }
        }
        expected.push('"');
        prop_assert_eq!(&out, &expected);
        if !text.contains(['\u{8}', '\u{c}']) {
            prop_assert_eq!(&out, &serde_json::to_string(&text).expect("a string"));
        }
        let back: Option<String> = serde_json::from_str(&out).ok();
        prop_assert_eq!(back, Some(text));
    }

    /// A hostile distinct id or principal id cannot break out of its string.
    #[test]
    fn ids_stay_inside_their_strings(anonymous in escaped_text(), principal in escaped_text()) {
        prop_assume!(!anonymous.is_empty());
        let alias = Record::alias(&anonymous, &principal);
        let value: Value = serde_json::from_str(&alias.json)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {}", alias.json)))?;
        prop_assert_eq!(&value["distinct_id"], anonymous.as_str());
        prop_assert_eq!(
            &value["properties"],
            &serde_json::json!({
                "distinct_id": anonymous,
                "alias": principal,
                "$geoip_disable": true,
            })
        );
        prop_assert_eq!(alias.distinct_id.as_str(), anonymous.as_str());
        prop_assert_eq!(Record::parse(&alias.json), Some(alias.clone()));

        let event = HostileRunFailed {
            workflow_name: WorkflowName::sanitize(&principal),
            command: CommandName::sanitize("run"),
            subcommand: None,
            error_class: ErrorClass::of_type::<OwnError>(),
        };
        let record = Record::for_event(&event, &anonymous, true, common());
        let value: Value = serde_json::from_str(&record.json)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {}", record.json)))?;
        prop_assert_eq!(&value["distinct_id"], anonymous.as_str());
        prop_assert_eq!(value["properties"].as_object().map(|p| p.len()), Some(3 + 6 + 2));
        prop_assert_eq!(Record::parse(&record.json), Some(record.clone()));
    }
}

#[test]
fn the_buckets_know_exactly_the_allowlist_s_names() {
    let of = |property: &str| -> Vec<&'static str> {
        HostileRunFailed::META
            .properties
            .iter()
            .find(|p| p.name == property)
            .and_then(|p| p.kind.values())
            .unwrap_or_default()
            .to_vec()
    };
    assert_eq!(WorkflowName::KNOWN, of("workflow_name"));
    assert_eq!(CommandName::KNOWN, of("command"));
    assert_eq!(SubcommandName::KNOWN, of("subcommand"));
    for known in WorkflowName::KNOWN {
        assert_eq!(WorkflowName::sanitize(known).as_str(), *known);
    }
}

/// An input that happens to share a piece with the error class (which comes from the error's
/// type and kind, never its text) is not taken for a leak: a case proptest found.
#[test]
fn a_piece_of_the_error_class_is_not_a_leak() {
    let error = HostileError::Io(io::Error::from_raw_os_error(41));
    let (class, expected) = classify(&error);
    let kind = expected
        .strip_prefix("io::Error(")
        .and_then(|rest| rest.strip_suffix(')'))
        .expect("an io::Error class");
    let input = format!("ghp_{kind}0Aaaa");
    let event = HostileRunFailed {
        workflow_name: WorkflowName::sanitize(&input),
        command: CommandName::sanitize(""),
        subcommand: None,
        error_class: class,
    };
    let record = Record::for_event(&event, DISTINCT_ID, false, common());
    assert!(check_record(&record, &[&input], &expected, vocabulary()).is_ok());
}

/// The check itself finds what it is there to find: a record whose JSON was changed to carry
/// the input (as a broken sanitizer would), or a property the event does not declare.
#[test]
fn the_check_finds_a_leak() {
    let input = "/home/alice/secret-repo";
    let event = HostileRunFailed {
        workflow_name: WorkflowName::sanitize(input),
        command: CommandName::sanitize("run"),
        subcommand: None,
        error_class: ErrorClass::of(&io::Error::other(input)),
    };
    let record = Record::for_event(&event, DISTINCT_ID, true, common());
    let class = "io::Error(Other)";
    assert!(check_record(&record, &[input], class, vocabulary()).is_ok());
    for (from, to) in [
        ("\"user-defined\"", "\"/home/alice/secret-repo\""),
        ("\"user-defined\"", "\"assist /home/alice\""),
        ("\"command\":\"run\"", "\"command\":\"run\",\"cwd\":\"x\""),
        ("io::Error(Other)", "io::Error(Other) secret-repo"),
    ] {
        let mut tampered = record.clone();
        tampered.json = record.json.replacen(from, to, 1);
        assert_ne!(tampered.json, record.json);
        assert!(
            check_record(&tampered, &[input], class, vocabulary()).is_err(),
            "{}",
            tampered.json
        );
    }
}
