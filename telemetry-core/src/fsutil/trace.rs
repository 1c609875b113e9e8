//! Out-of-line `tracing` events for the many call sites that report an error in a few words:
//! each `tracing` call site inlines its level check, its dispatch and its static metadata, so
//! a module with several of them defines one cold function per level and calls it instead.

/// Defines, in the module it is invoked in, one `#[cold]`, never-inlined function per
/// `level name` pair: `name(message, error)` emits `tracing::level!(%error, "{message}")`. The
/// event's target is the module path of the *invoking* module, as for a call site written
/// there, and its message and `error` field are the same text.
macro_rules! error_event_fns {
    ($($level:ident $name:ident),+ $(,)?) => {
        $(
            #[cold]
            #[inline(never)]
            fn $name(message: &'static str, error: &dyn ::std::fmt::Display) {
                ::tracing::$level!(%error, "{message}");
            }
        )+
    };
}

pub(crate) use error_event_fns;

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    error_event_fns!(warn warn_error, debug debug_error);

    /// An event as `(target, level, fields)`, the fields as `name=value` in order.
    type Seen = (String, tracing::Level, Vec<String>);

    /// Every event.
    #[derive(Clone, Default)]
    struct Events(Arc<Mutex<Vec<Seen>>>);

    struct Fields(Vec<String>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push(format!("{}={value:?}", field.name()));
        }
    }

    impl Subscriber for Events {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            let metadata = event.metadata();
            self.0.lock().unwrap().push((
                metadata.target().to_owned(),
                *metadata.level(),
                fields.0,
            ));
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    fn events_of(emit: impl FnOnce()) -> Vec<Seen> {
        let events = Events::default();
        tracing::subscriber::with_default(events.clone(), emit);
        events.0.lock().unwrap().clone()
    }

    #[test]
    fn the_cold_functions_emit_what_the_call_site_would_have() {
        let error = std::io::Error::other("disk on fire");
        let inline = events_of(|| {
            tracing::warn!(%error, "telemetry file not written");
            tracing::debug!(%error, "telemetry file not read");
        });
        let cold = events_of(|| {
            warn_error("telemetry file not written", &error);
            debug_error("telemetry file not read", &error);
        });
        assert_eq!(cold, inline);
        assert_eq!(cold[0].0, "telemetry_core::fsutil::trace::tests");
        assert_eq!(
            cold[0].2,
            ["message=telemetry file not written", "error=disk on fire"]
        );
    }
}
