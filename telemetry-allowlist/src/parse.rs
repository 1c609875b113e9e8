//! Reading the file and checking what it means.

use std::collections::HashMap;
use std::path::Path;

use toml::Spanned;

use crate::error::{AllowlistError, AllowlistErrors};
use crate::model::{Allowlist, KIND_KEYWORDS, Kind, NeverSent, Property, Section, Sensitivity};
use crate::names::{RESERVED_NAMES, is_snake_case};
use crate::raw::{RawFile, RawNeverSent, RawProperty};

use crate::model::BUCKET_FALLBACK;

/// Largest allowlist file read; a larger one is refused rather than parsed.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads and checks the allowlist at `path`.
pub fn read(path: &Path) -> Result<Allowlist, AllowlistErrors> {
    let fail = |message: String| AllowlistErrors(vec![AllowlistError::whole_file(path, message)]);
    let metadata = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read the telemetry allowlist: {e}")))?;
    if !metadata.is_file() {
        return Err(fail("the telemetry allowlist is not a regular file".into()));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "the telemetry allowlist is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let source = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("cannot read the telemetry allowlist: {e}")))?;
    parse(path, &source)
}

/// Checks the allowlist text `source`, read from `path` (used in messages only).
pub fn parse(path: &Path, source: &str) -> Result<Allowlist, AllowlistErrors> {
    let raw: RawFile = toml::from_str(source).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        let message = format!("invalid telemetry allowlist: {}", e.message().trim());
        AllowlistErrors(vec![AllowlistError::at(path, source, offset, message)])
    })?;

    let mut checker = Checker {
        path,
        source,
        errors: Vec::new(),
        seen: HashMap::new(),
    };
    // In file order, whatever the sections' order, so that a duplicate is reported at its
    // second declaration and points back at the first.
    let mut declared: Vec<(Section, &Spanned<RawProperty>)> = raw
        .common
        .iter()
        .map(|p| (Section::Common, p))
        .chain(raw.property.iter().map(|p| (Section::Property, p)))
        .collect();
    declared.sort_by_key(|(_, p)| p.span().start);
    let mut common: Vec<Property> = Vec::new();
    let mut properties: Vec<Property> = Vec::new();
    for (section, raw) in declared {
        if let Some(property) = checker.property(raw, section) {
            match section {
                Section::Common => common.push(property),
                Section::Property => properties.push(property),
            }
        }
    }
    let never_sent = raw
        .never_sent
        .iter()
        .filter_map(|row| checker.never_sent(row))
        .collect();

    if checker.errors.is_empty() {
        Ok(Allowlist {
            path: path.to_path_buf(),
            properties,
            common,
            never_sent,
        })
    } else {
        checker.errors.sort_by_key(|e| (e.line, e.column));
        Err(AllowlistErrors(checker.errors))
    }
}

struct Checker<'a> {
    path: &'a Path,
    source: &'a str,
    errors: Vec<AllowlistError>,
    /// Names declared so far, with the line of their first declaration.
    seen: HashMap<String, usize>,
}

impl Checker<'_> {
    fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.errors.push(AllowlistError::at(
            self.path,
            self.source,
            at.span().start,
            message,
        ));
    }

    fn line_of<T>(&self, at: &Spanned<T>) -> usize {
        crate::error::line_and_column(self.source, at.span().start).0
    }

    fn property(&mut self, raw: &Spanned<RawProperty>, section: Section) -> Option<Property> {
        let before = self.errors.len();
        let raw = raw.get_ref();
        let name = raw.name.get_ref().as_str();

        if name.starts_with('$') {
            self.error(
                &raw.name,
                format!("`{name}` is reserved: `$`-prefixed properties belong to PostHog"),
            );
        } else if RESERVED_NAMES.contains(&name) {
            self.error(&raw.name, format!("`{name}` is reserved: PostHog uses it for the event itself or it names a secret"));
        } else if !is_snake_case(name) {
            self.error(
                &raw.name,
                format!("property name `{name}` must be lower snake_case (e.g. `exit_code`)"),
            );
        }
        let line = self.line_of(&raw.name);
        if let Some(first) = self.seen.get(name).copied() {
            let what = if section == Section::Property {
                "duplicate property"
            } else {
                "duplicate common property"
            };
            self.error(
                &raw.name,
                format!("{what} `{name}`: already declared at line {first} (property names are unique across the property and common sections)"),
            );
        } else {
            self.seen.insert(name.to_owned(), line);
        }

        if raw.description.get_ref().trim().is_empty() {
            self.error(
                &raw.description,
                format!(
                    "property `{name}` has an empty description: say what it means in plain words"
                ),
            );
        }

        let sensitivity = self.sensitivity(&raw.sensitivity, name);
        let kind = self.kind(raw, section);

        if self.errors.len() > before {
            return None;
        }
        Some(Property {
            name: name.to_owned(),
            kind: kind?,
            sensitivity: sensitivity?,
            description: raw.description.get_ref().trim().to_owned(),
            line,
        })
    }

    fn sensitivity(&mut self, raw: &Spanned<String>, name: &str) -> Option<Sensitivity> {
        match raw.get_ref().as_str() {
            "technical" => Some(Sensitivity::Technical),
            "interaction" => Some(Sensitivity::Interaction),
            refused @ ("stored_content" | "highly_sensitive") => {
                self.error(raw, format!("property `{name}` has sensitivity `{refused}`, which this library refuses outright: only `technical` and `interaction` data may be sent"));
                None
            }
            other => {
                self.error(raw, format!("unknown sensitivity `{other}` for property `{name}`: expected `technical` or `interaction`"));
                None
            }
        }
    }

    fn kind(&mut self, raw: &RawProperty, section: Section) -> Option<Kind> {
        let name = raw.name.get_ref();
        let keyword = raw.kind.get_ref().as_str();
        let takes_values = matches!(keyword, "enum" | "bucketed");
        if !takes_values && let Some(values) = &raw.values {
            self.error(values, format!("property `{name}` of kind `{keyword}` takes no `values` (only `enum` and `bucketed` do)"));
        }
        let kind = match keyword {
            "bool" => Kind::Bool,
            "unsigned" => Kind::Unsigned,
            "signed" => Kind::Signed,
            "duration_ms" => Kind::DurationMs,
            "error_class" => Kind::ErrorClass,
            "code_location" => Kind::CodeLocation,
            "build_constant" if section == Section::Common => Kind::BuildConstant,
            "build_constant" => {
                self.error(&raw.kind, format!("property `{name}`: kind `build_constant` is only for the [[common]] section, whose values the runtime fills in"));
                return None;
            }
            "enum" => Kind::Enum(self.values(raw)?),
            "bucketed" => Kind::Bucketed(self.values(raw)?),
            other => {
                self.error(
                    &raw.kind,
                    format!(
                        "unknown kind `{other}` for property `{name}`: expected one of {}",
                        KIND_KEYWORDS.join(", ")
                    ),
                );
                return None;
            }
        };
        Some(kind)
    }

    fn values(&mut self, raw: &RawProperty) -> Option<Vec<String>> {
        let name = raw.name.get_ref();
        let keyword = raw.kind.get_ref();
        let Some(values) = &raw.values else {
            self.error(&raw.kind, format!("property `{name}` of kind `{keyword}` needs `values = [...]`, its closed list of values"));
            return None;
        };
        if values.get_ref().is_empty() {
            self.error(
                values,
                format!("property `{name}` has an empty `values` list"),
            );
            return None;
        }
        let before = self.errors.len();
        let mut out: Vec<String> = Vec::new();
        for value in values.get_ref() {
            let text = value.get_ref();
            if keyword == "enum" && !is_snake_case(text) {
                self.error(value, format!("value `{text}` of enum property `{name}` must be lower snake_case: it is sent as the snake_case name of a `#[telemetry_enum]` variant"));
            } else if !is_value_word(text) {
                self.error(value, format!("value `{text}` of property `{name}` must be lowercase letters, digits, `_`, `-` or `.`"));
            } else if text == BUCKET_FALLBACK {
                self.error(value, format!("value `{BUCKET_FALLBACK}` is what unknown names are sent as: it cannot be listed"));
            } else if out.contains(text) {
                self.error(
                    value,
                    format!("value `{text}` is listed twice for property `{name}`"),
                );
            }
            out.push(text.clone());
        }
        (self.errors.len() == before).then_some(out)
    }

    fn never_sent(&mut self, raw: &Spanned<RawNeverSent>) -> Option<NeverSent> {
        let raw = raw.get_ref();
        let before = self.errors.len();
        for field in [&raw.category, &raw.examples, &raw.reason] {
            if field.get_ref().trim().is_empty() {
                self.error(
                    field,
                    "a [[never_sent]] row needs a non-empty category, examples and reason",
                );
            }
        }
        (self.errors.len() == before).then(|| NeverSent {
            category: raw.category.get_ref().trim().to_owned(),
            examples: raw.examples.get_ref().trim().to_owned(),
            reason: raw.reason.get_ref().trim().to_owned(),
        })
    }
}

fn is_value_word(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}
