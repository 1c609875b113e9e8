//! `telemetry_core::__private::bench`: what the micro-benchmarks time. **Not API**; see the
//! module's documentation in `__private.rs`.

use crate::config::TelemetryConfig;
use crate::event::Listed;
use crate::queue::frame;
use crate::record::{CommonProperties, Record};

/// The distinct id every benchmark record is attributed to (the shape of an anonymous id).
const DISTINCT_ID: &str = "0190a3c2-7b1e-7c3a-9f4e-2d8b6a1c5e70";

/// The common properties' values for `config`, computed once as a handle does at start.
#[derive(Debug, Clone)]
pub struct Common(CommonProperties);

impl Common {
    /// The values for `config` on this machine.
    pub fn new(config: &TelemetryConfig) -> Self {
        Self(CommonProperties::new(config))
    }
}

/// Builds and serialises the record `track()` would queue for `event` (anonymous: with
/// `$process_person_profile: false`), and returns its JSON.
pub fn record_json<E: Listed>(event: &E, common: &Common) -> String {
    Record::for_event(event, DISTINCT_ID, true, &common.0).json
}

/// As [`record_json`], framed as the queue line `track()` appends (checksum and length).
pub fn record_line<E: Listed>(event: &E, common: &Common) -> String {
    frame::encode(&Record::for_event(event, DISTINCT_ID, true, &common.0).json)
}
