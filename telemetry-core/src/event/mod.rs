//! What an event is: its static description, the kinds of values it may carry, and how its
//! properties are written.

pub mod kinds;
pub mod meta;
pub mod values;
pub mod writer;

use meta::EventMeta;
use writer::PropertyWriter;

/// A telemetry event: implemented by `#[telemetry_event]`, never by hand.
pub trait Event {
    /// The event's static description: its name, when it is sent, and its properties.
    const META: &'static EventMeta;

    /// Writes the event's own properties (not the common ones) as JSON object members.
    fn write_properties(&self, out: &mut PropertyWriter<'_>);
}
