//! The public handle: start options, mode control and the record.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use uuid::Uuid;

use crate::server::Running;
use crate::state::Shared;
use crate::{Activity, Error, Mode, RecordedEvent, RecordedRequest, Result};

/// PostHog's limit on a capture request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 20 * 1024 * 1024;
/// PostHog's limit on one event.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;

/// How to start a [`DevServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevServerOptions {
    /// The port on 127.0.0.1; 0 (the default) lets the system choose a free one.
    pub port: u16,
    /// The mode the server starts in.
    pub mode: Mode,
    /// Largest request body accepted, before and after decompression; larger
    /// requests are answered 413. Defaults to PostHog's 20 MB.
    pub max_body_bytes: usize,
    /// Largest single event accepted (its JSON); a request holding a larger
    /// one is answered 413. Defaults to PostHog's 1 MB.
    pub max_event_bytes: usize,
}

impl Default for DevServerOptions {
    fn default() -> Self {
        Self {
            port: 0,
            mode: Mode::Ok,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

impl DevServerOptions {
    /// Listens on this port of 127.0.0.1 (0 for any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Starts in this mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the request body limit.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the single-event limit.
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }
}

/// A PostHog-compatible capture server on 127.0.0.1, serving on a background
/// thread until dropped.
///
/// Dropping it stops accepting, closes every connection (a hanging or slow
/// request is closed unanswered) and joins its thread; the port is free
/// afterwards.
///
/// ```
/// use telemetry_devserver::{DevServer, DevServerOptions, Mode};
///
/// let server = DevServer::start(DevServerOptions::default())?;
/// println!("point the client at {}", server.url());
/// server.set_mode_for(Mode::Status(503), 1); // the next capture request fails
/// assert!(server.events().is_empty());
/// # Ok::<(), telemetry_devserver::Error>(())
/// ```
#[derive(Debug)]
pub struct DevServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Stops the server when dropped.
    _running: Running,
}

impl DevServer {
    /// Binds 127.0.0.1 on the chosen port and starts serving.
    ///
    /// # Errors
    ///
    /// [`Error::Bind`] when the port cannot be bound (e.g. it is in use), and
    /// [`Error::Io`] when the listener or its thread cannot be set up.
    pub fn start(options: DevServerOptions) -> Result<DevServer> {
        // Bound here rather than on the server's thread, so that a busy port is
        // an error of `start` itself.
        let listener =
            TcpListener::bind(("127.0.0.1", options.port)).map_err(|source| Error::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(Error::Io)?;
        let shared = Arc::new(Shared::new(&options));
        let running = Running::start(listener, Arc::clone(&shared)).map_err(Error::Io)?;
        Ok(DevServer {
            addr,
            shared,
            _running: running,
        })
    }

    /// The base URL to give a PostHog client as its host:
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets the mode for every capture request from now on, until changed.
    /// Cancels a [`set_mode_for`](Self::set_mode_for) still running, and
    /// releases requests held by [`Mode::Hang`] (closing them unanswered).
    pub fn set_mode(&self, mode: Mode) {
        self.shared.set_mode(mode);
    }

    /// Sets the mode for the next `requests` capture requests only; then the
    /// mode set by [`set_mode`](Self::set_mode) (initially the start mode)
    /// applies again. Releases requests held by [`Mode::Hang`].
    pub fn set_mode_for(&self, mode: Mode, requests: u64) {
        self.shared.set_mode_for(mode, requests);
    }

    /// The mode the next capture request will get.
    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    /// Every event accepted so far, in arrival order.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.shared.state().events.clone()
    }

    /// The accepted events that carried a uuid, grouped by it: a uuid with more
    /// than one entry was delivered more than once.
    pub fn events_by_uuid(&self) -> BTreeMap<Uuid, Vec<RecordedEvent>> {
        let mut by_uuid: BTreeMap<Uuid, Vec<RecordedEvent>> = BTreeMap::new();
        for event in self.shared.state().events.iter() {
            if let Some(uuid) = event.uuid {
                by_uuid.entry(uuid).or_default().push(event.clone());
            }
        }
        by_uuid
    }

    /// Every request received so far (accepted, invalid, refused by a failure
    /// mode, or not a capture request), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// Waits until at least `count` events have been accepted (since the last
    /// [`clear`](Self::clear)) or `timeout` has passed; returns whether they
    /// were.
    pub fn wait_for_events(&self, count: usize, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |state| state.events.len() >= count)
    }

    /// Waits until at least `count` requests have been received (since the last
    /// [`clear`](Self::clear)) or `timeout` has passed; returns whether they
    /// were. A request held by [`Mode::Hang`] counts once it is held.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        self.shared
            .wait_until(timeout, |state| state.requests.len() >= count)
    }

    /// Forgets every recorded event and request (the mode is kept).
    pub fn clear(&self) {
        let mut state = self.shared.state();
        state.events.clear();
        state.requests.clear();
    }

    /// A channel that receives every request and accepted event from now on,
    /// as it happens. Dropping the receiver unsubscribes.
    pub fn subscribe(&self) -> Receiver<Activity> {
        let (sender, receiver) = mpsc::channel();
        self.shared.subscribe(sender);
        receiver
    }
}
