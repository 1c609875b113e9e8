//! What the server shares between its handle and its connections: the record
//! of requests and events, and the current mode.

use std::sync::mpsc::Sender;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::{Activity, DevServerOptions, Mode, RecordedEvent, RecordedRequest};

/// State shared by the [`DevServer`](crate::DevServer) handle and the request
/// handlers on the server's runtime.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) max_body_bytes: usize,
    pub(crate) max_event_bytes: usize,
    state: Mutex<State>,
    /// Signalled on every record, for the `wait_for_*` methods.
    changed: Condvar,
    /// Bumped by every mode change, so that a hanging request can notice it.
    mode_changes: watch::Sender<()>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) events: Vec<RecordedEvent>,
    pub(crate) requests: Vec<RecordedRequest>,
    next_request_id: u64,
    base_mode: Mode,
    /// A mode for the next N capture requests, before `base_mode` applies again.
    temporary: Option<(Mode, u64)>,
    subscribers: Vec<Sender<Activity>>,
}

/// Locks a mutex, ignoring poisoning: the state stays consistent even if a
/// holder panicked, as every update is a single push or assignment.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(options: &DevServerOptions) -> Self {
        Self {
            max_body_bytes: options.max_body_bytes,
            max_event_bytes: options.max_event_bytes,
            state: Mutex::new(State {
                base_mode: options.mode.clone(),
                next_request_id: 1,
                ..State::default()
            }),
            changed: Condvar::new(),
            mode_changes: watch::Sender::new(()),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn next_request_id(&self) -> u64 {
        let mut state = self.state();
        let id = state.next_request_id;
        state.next_request_id += 1;
        id
    }

    /// Sets the mode until changed, cancelling a temporary one.
    pub(crate) fn set_mode(&self, mode: Mode) {
        let mut state = self.state();
        state.base_mode = mode;
        state.temporary = None;
        self.mode_changes.send_replace(());
    }

    /// Sets a mode for the next `requests` capture requests.
    pub(crate) fn set_mode_for(&self, mode: Mode, requests: u64) {
        self.state().temporary = (requests > 0).then_some((mode, requests));
        self.mode_changes.send_replace(());
    }

    /// The mode the next capture request will get.
    pub(crate) fn mode(&self) -> Mode {
        let state = self.state();
        match &state.temporary {
            Some((mode, _)) => mode.clone(),
            None => state.base_mode.clone(),
        }
    }

    /// A receiver that sees every mode change from now on.
    pub(crate) fn mode_changes(&self) -> watch::Receiver<()> {
        self.mode_changes.subscribe()
    }

    /// The mode for the capture request being handled, consuming one use of a
    /// temporary mode.
    pub(crate) fn take_mode(&self) -> Mode {
        let mut state = self.state();
        match state.temporary.take() {
            Some((mode, left)) => {
                if left > 1 {
                    state.temporary = Some((mode.clone(), left - 1));
                }
                mode
            }
            None => state.base_mode.clone(),
        }
    }

    pub(crate) fn subscribe(&self, subscriber: Sender<Activity>) {
        self.state().subscribers.push(subscriber);
    }

    /// Records a request and the events it delivered, and tells the waiters and
    /// subscribers.
    pub(crate) fn record(&self, request: RecordedRequest, events: Vec<RecordedEvent>) {
        let mut state = self.state();
        let mut notices = Vec::with_capacity(events.len() + 1);
        notices.push(Activity::Request(request.clone()));
        notices.extend(events.iter().cloned().map(Activity::Event));
        state.requests.push(request);
        state.events.extend(events);
        state.subscribers.retain(|subscriber| {
            notices
                .iter()
                .all(|notice| subscriber.send(notice.clone()).is_ok())
        });
        drop(state);
        self.changed.notify_all();
    }

    /// Waits until `done` holds or `timeout` has passed; returns whether it
    /// held.
    pub(crate) fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.state();
        loop {
            if done(&state) {
                return true;
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
