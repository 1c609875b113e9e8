//! The file as written, before any check: every field keeps its place in the file.

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub product: Option<Spanned<RawProduct>>,
    #[serde(default)]
    pub property: Vec<Spanned<RawProperty>>,
    #[serde(default)]
    pub never_sent: Vec<Spanned<RawNeverSent>>,
    /// The former `[[common]]` section, whatever its shape: accepted here only so that the check
    /// can say why it is gone, where `deny_unknown_fields` would just call it unknown.
    pub common: Option<Spanned<IgnoredAny>>,
}

/// Every key optional, so that a missing one is reported by the check, with what it is for,
/// alongside the file's other problems.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProduct {
    pub name: Option<Spanned<String>>,
    pub command: Option<Spanned<String>>,
    pub docs_url: Option<Spanned<String>>,
    pub docs_path: Option<Spanned<String>>,
    pub contact: Option<Spanned<String>>,
    pub data_location: Option<Spanned<String>>,
    pub retention: Option<Spanned<String>>,
    pub purpose: Option<Spanned<String>>,
    pub consent: Option<Spanned<String>>,
    pub client_ip: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProperty {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub sensitivity: Spanned<String>,
    pub description: Spanned<String>,
    pub values: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNeverSent {
    pub category: Spanned<String>,
    pub examples: Spanned<String>,
    pub reason: Spanned<String>,
}
