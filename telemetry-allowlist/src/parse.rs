//! Reading the file and checking what it means.

use std::collections::HashMap;
use std::path::Path;

use toml::Spanned;

use crate::error::{AllowlistError, AllowlistErrors};
use crate::model::{
    Allowlist, BUCKET_FALLBACK, ConsentPolicy, KIND_KEYWORDS, Kind, NeverSent, Product, Property,
    Sensitivity,
};
use crate::names::{COMMON_PROPERTY_NAMES, RESERVED_NAMES, is_common_property, is_snake_case};
use crate::product::{self, Key};
use crate::raw::{RawFile, RawNeverSent, RawProduct, RawProperty};

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
    if let Some(common) = &raw.common {
        checker.error(
            common,
            format!(
                "the [[common]] section is no longer read: the runtime declares the properties it adds to every event itself ({}); delete these entries",
                COMMON_PROPERTY_NAMES.join(", ")
            ),
        );
    }
    let product = raw
        .product
        .as_ref()
        .and_then(|table| checker.product(table));
    let properties: Vec<Property> = raw
        .property
        .iter()
        .filter_map(|property| checker.property(property))
        .collect();
    let never_sent = raw
        .never_sent
        .iter()
        .filter_map(|row| checker.never_sent(row))
        .collect();

    if checker.errors.is_empty() {
        Ok(Allowlist {
            path: path.to_path_buf(),
            product,
            properties,
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

    fn property(&mut self, raw: &Spanned<RawProperty>) -> Option<Property> {
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
        } else if is_common_property(name) {
            self.error(&raw.name, format!("`{name}` is a common property: the runtime adds it to every event, so it cannot be declared here"));
        } else if !is_snake_case(name) {
            self.error(
                &raw.name,
                format!("property name `{name}` must be lower snake_case (e.g. `exit_code`)"),
            );
        }
        let line = self.line_of(&raw.name);
        if let Some(first) = self.seen.get(name).copied() {
            self.error(
                &raw.name,
                format!("duplicate property `{name}`: already declared at line {first}"),
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
        let kind = self.kind(raw);

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

    fn kind(&mut self, raw: &RawProperty) -> Option<Kind> {
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
            // Named apart from unknown kinds: allowlists written before the runtime declared its
            // common properties itself used it.
            "build_constant" => {
                self.error(&raw.kind, format!("property `{name}`: kind `build_constant` is only for the runtime's own common properties"));
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
                self.error(value, format!("value `{text}` of property `{name}` must be lowercase letters, digits, `_`, `-`, `.` or `/`, starting with a letter or digit"));
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

    /// Every problem of the `[product]` table, the missing keys at its header and the bad values
    /// where they are written.
    fn product(&mut self, table: &Spanned<RawProduct>) -> Option<Product> {
        let before = self.errors.len();
        let raw = table.get_ref();

        let name = self.required(table, &raw.name, &product::NAME);
        if let Some(name) = name {
            self.check(name, product::check_name);
        }
        if let Some(command) = &raw.command {
            self.check(command, product::check_command);
        }
        if let Some(url) = &raw.docs_url {
            self.check(url, product::check_docs_url);
        }
        if let Some(path) = &raw.docs_path {
            self.check(path, product::check_docs_path);
        }
        let consent = match &raw.consent {
            Some(value) => match product::parse_consent(value.get_ref()) {
                Ok(consent) => consent,
                Err(message) => {
                    self.error(value, message);
                    ConsentPolicy::default()
                }
            },
            None => ConsentPolicy::default(),
        };
        let client_ip = raw.client_ip.as_ref().and_then(|value| {
            product::parse_client_ip(value.get_ref())
                .map_err(|message| self.error(value, message))
                .ok()
        });
        let contact = self.text(table, &raw.contact, &product::CONTACT);
        let data_location = self.text(table, &raw.data_location, &product::DATA_LOCATION);
        let retention = self.text(table, &raw.retention, &product::RETENTION);
        let purpose = raw
            .purpose
            .as_ref()
            .and_then(|purpose| self.non_empty(purpose, &product::PURPOSE, ", or be left out"));

        if self.errors.len() > before {
            return None;
        }
        let name = name?.get_ref().clone();
        let command = raw
            .command
            .as_ref()
            .map_or_else(|| name.clone(), |command| command.get_ref().clone());
        Some(Product {
            name,
            command,
            docs_url: raw.docs_url.as_ref().map(|url| url.get_ref().clone()),
            docs_path: raw.docs_path.as_ref().map_or_else(
                || product::DEFAULT_DOCS_PATH.to_owned(),
                |path| path.get_ref().clone(),
            ),
            contact: contact?,
            data_location: data_location?,
            retention: retention?,
            purpose,
            consent,
            client_ip,
            line: self.line_of(table),
        })
    }

    /// A required key of the `[product]` table; when it is missing, the table is at fault.
    fn required<'v>(
        &mut self,
        table: &Spanned<RawProduct>,
        value: &'v Option<Spanned<String>>,
        key: &Key,
    ) -> Option<&'v Spanned<String>> {
        if value.is_none() {
            self.error(
                table,
                format!("the [product] table needs `{}`: {}", key.name, key.is_for),
            );
        }
        value.as_ref()
    }

    /// A required free-text key of the `[product]` table, trimmed.
    fn text(
        &mut self,
        table: &Spanned<RawProduct>,
        value: &Option<Spanned<String>>,
        key: &Key,
    ) -> Option<String> {
        let value = self.required(table, value, key)?;
        self.non_empty(value, key, "")
    }

    /// A free-text value of the `[product]` table, trimmed, when it says something; `otherwise`
    /// ends the message when it does not.
    fn non_empty(&mut self, value: &Spanned<String>, key: &Key, otherwise: &str) -> Option<String> {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.error(
                value,
                format!(
                    "`{}` in the [product] table is empty: it must say {}{otherwise}",
                    key.name, key.is_for
                ),
            );
            return None;
        }
        Some(text.to_owned())
    }

    /// Applies one of the [`product`] rules to `value`, reporting its message at the value.
    fn check(&mut self, value: &Spanned<String>, rule: fn(&str) -> Result<(), String>) {
        if let Err(message) = rule(value.get_ref()) {
            self.error(value, message);
        }
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
        && value.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | '/')
        })
}
