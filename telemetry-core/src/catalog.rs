//! Every event this binary can send, registered by `#[telemetry_event]` wherever it is used.

use crate::event::meta::EventMeta;

/// One registered event; `#[telemetry_event]` submits one for each event it declares.
#[derive(Debug)]
pub struct CatalogEntry {
    /// The event's static description.
    pub meta: &'static EventMeta,
}

impl CatalogEntry {
    /// An entry for `meta`.
    pub const fn new(meta: &'static EventMeta) -> Self {
        Self { meta }
    }
}

inventory::collect!(CatalogEntry);

/// Every event linked into this binary, sorted by name (events declared twice appear twice, so
/// callers such as `gen-docs` can refuse them).
pub fn catalog() -> Vec<&'static EventMeta> {
    let mut events: Vec<&'static EventMeta> = inventory::iter::<CatalogEntry>
        .into_iter()
        .map(|e| e.meta)
        .collect();
    events.sort_by_key(|e| e.name);
    events
}
