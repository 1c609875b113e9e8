//! The file as written, before any check: every field keeps its place in the file.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub property: Vec<Spanned<RawProperty>>,
    #[serde(default)]
    pub common: Vec<Spanned<RawProperty>>,
    #[serde(default)]
    pub never_sent: Vec<Spanned<RawNeverSent>>,
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
