//! The events the crate's own tests record: [`DEMO`](crate::schema::DEMO) lists them, as a
//! program's `telemetry_schema!` lists its events.

use std::time::Duration;

use crate::event::meta::EventMeta;
use crate::event::writer::PropertyWriter;
use crate::event::{Event, Listed};
use crate::{CommandOutcome, ErrorClass};

/// An event with one property.
pub(crate) struct Ping;

impl crate::__private::Sealed for Ping {}

impl Listed for Ping {
    fn __in_schema(_: crate::__private::SchemaToken) {}
}

impl Event for Ping {
    const META: &'static EventMeta = &EventMeta {
        name: "test.ping",
        description: "A test event.",
        properties: &[],
        type_name: "Ping",
    };

    fn write_properties(&self, out: &mut PropertyWriter<'_>) {
        out.duration_ms("duration_ms", &Duration::from_millis(5));
    }
}

/// An event with one number (not listed in [`DEMO`](crate::schema::DEMO): never tracked).
pub(crate) struct Counted {
    pub(crate) count: u32,
}

impl crate::__private::Sealed for Counted {}

impl Event for Counted {
    const META: &'static EventMeta = &EventMeta {
        name: "test.counted",
        description: "A test event.",
        properties: &[],
        type_name: "Counted",
    };

    fn write_properties(&self, out: &mut PropertyWriter<'_>) {
        out.unsigned("count", &self.count);
    }
}

/// A command's completion.
pub(crate) struct Done {
    exit_code: i32,
    duration_ms: Duration,
    error_class: Option<ErrorClass>,
}

impl crate::__private::Sealed for Done {}

impl Listed for Done {
    fn __in_schema(_: crate::__private::SchemaToken) {}
}

impl Event for Done {
    const META: &'static EventMeta = &EventMeta {
        name: "test.done",
        description: "A test event.",
        properties: &[],
        type_name: "Done",
    };

    fn write_properties(&self, out: &mut PropertyWriter<'_>) {
        out.signed("exit_code", &self.exit_code);
        out.duration_ms("duration_ms", &self.duration_ms);
        if let Some(class) = &self.error_class {
            out.error_class("error_class", class);
        }
    }
}

/// The completion of a command that ended with `o`.
pub(crate) fn done(o: CommandOutcome) -> Done {
    Done {
        exit_code: o.exit_code,
        duration_ms: o.duration,
        error_class: o.error_class,
    }
}
