//! The listener, the connection threads and the shared record.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::capture::{self, Refusal};
use crate::http::{Conn, POLL, ReadError, Request, Response};
use crate::{Activity, Error, Mode, RecordedEvent, RecordedRequest, Result};

/// PostHog's limit on a capture request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 20 * 1024 * 1024;
/// PostHog's limit on one event.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Connections served at once; more are closed as soon as they are accepted.
const MAX_CONNECTIONS: usize = 256;
/// After answering 413, at most this much of the refused body is read...
const DISCARD_MAX_BYTES: usize = 256 * 1024 * 1024;
/// ...assuming this much when the body is chunked...
const DISCARD_CHUNKED_BYTES: usize = 64 * 1024 * 1024;
/// ...for at most this long.
const DISCARD_TIME: Duration = Duration::from_secs(10);

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

/// A PostHog-compatible capture server on 127.0.0.1, serving on background
/// threads until dropped.
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
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    shutdown: AtomicBool,
    /// Bumped by every mode change, so a hanging request can notice it.
    mode_generation: AtomicU64,
    max_body_bytes: usize,
    max_event_bytes: usize,
    state: Mutex<State>,
    changed: Condvar,
    connections: Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct State {
    events: Vec<RecordedEvent>,
    requests: Vec<RecordedRequest>,
    next_request_id: u64,
    base_mode: Mode,
    /// A mode for the next N capture requests, before `base_mode` applies again.
    temporary: Option<(Mode, u64)>,
    subscribers: Vec<Sender<Activity>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DevServer {
    /// Binds 127.0.0.1 on the chosen port and starts serving.
    ///
    /// # Errors
    ///
    /// [`Error::Bind`] when the port cannot be bound (e.g. it is in use), and
    /// [`Error::Io`] when the listener or its thread cannot be set up.
    pub fn start(options: DevServerOptions) -> Result<DevServer> {
        let listener =
            TcpListener::bind(("127.0.0.1", options.port)).map_err(|source| Error::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(Error::Io)?;
        // Non-blocking accept, polled, so that the acceptor notices shutdown
        // without needing a connection to wake it.
        listener.set_nonblocking(true).map_err(Error::Io)?;
        let shared = Arc::new(Shared {
            shutdown: AtomicBool::new(false),
            mode_generation: AtomicU64::new(0),
            max_body_bytes: options.max_body_bytes,
            max_event_bytes: options.max_event_bytes,
            state: Mutex::new(State {
                base_mode: options.mode,
                next_request_id: 1,
                ..State::default()
            }),
            changed: Condvar::new(),
            connections: Mutex::new(Vec::new()),
        });
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name(format!("devserver-accept-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &acceptor_shared))
            .map_err(Error::Io)?;
        Ok(DevServer {
            addr,
            shared,
            acceptor: Some(acceptor),
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
        let mut state = lock(&self.shared.state);
        state.base_mode = mode;
        state.temporary = None;
        self.shared.mode_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Sets the mode for the next `requests` capture requests only; then the
    /// mode set by [`set_mode`](Self::set_mode) (initially the start mode)
    /// applies again. Releases requests held by [`Mode::Hang`].
    pub fn set_mode_for(&self, mode: Mode, requests: u64) {
        let mut state = lock(&self.shared.state);
        state.temporary = (requests > 0).then_some((mode, requests));
        self.shared.mode_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The mode the next capture request will get.
    pub fn mode(&self) -> Mode {
        let state = lock(&self.shared.state);
        match &state.temporary {
            Some((mode, _)) => mode.clone(),
            None => state.base_mode.clone(),
        }
    }

    /// Every event accepted so far, in arrival order.
    pub fn events(&self) -> Vec<RecordedEvent> {
        lock(&self.shared.state).events.clone()
    }

    /// The accepted events that carried a uuid, grouped by it: a uuid with more
    /// than one entry was delivered more than once.
    pub fn events_by_uuid(&self) -> BTreeMap<Uuid, Vec<RecordedEvent>> {
        let mut by_uuid: BTreeMap<Uuid, Vec<RecordedEvent>> = BTreeMap::new();
        for event in lock(&self.shared.state).events.iter() {
            if let Some(uuid) = event.uuid {
                by_uuid.entry(uuid).or_default().push(event.clone());
            }
        }
        by_uuid
    }

    /// Every request received so far (accepted, invalid, refused by a failure
    /// mode, or not a capture request), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Waits until at least `count` events have been accepted (since the last
    /// [`clear`](Self::clear)) or `timeout` has passed; returns whether they
    /// were.
    pub fn wait_for_events(&self, count: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |state| state.events.len() >= count)
    }

    /// Waits until at least `count` requests have been received (since the last
    /// [`clear`](Self::clear)) or `timeout` has passed; returns whether they
    /// were. A request held by [`Mode::Hang`] counts once it is held.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |state| state.requests.len() >= count)
    }

    fn wait_until(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = lock(&self.shared.state);
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
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Forgets every recorded event and request (the mode is kept).
    pub fn clear(&self) {
        let mut state = lock(&self.shared.state);
        state.events.clear();
        state.requests.clear();
    }

    /// A channel that receives every request and accepted event from now on,
    /// as it happens. Dropping the receiver unsubscribes.
    pub fn subscribe(&self) -> Receiver<Activity> {
        let (sender, receiver) = mpsc::channel();
        lock(&self.shared.state).subscribers.push(sender);
        receiver
    }
}

impl Drop for DevServer {
    /// Stops accepting, closes every connection (a hanging or slow request is
    /// closed unanswered) and joins all threads; the port is free afterwards.
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let connections = std::mem::take(&mut *lock(&self.shared.connections));
        for connection in connections {
            let _ = connection.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.shutdown.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((stream, _)) => {
                let mut connections = lock(&shared.connections);
                connections.retain(|handle| !handle.is_finished());
                if connections.len() >= MAX_CONNECTIONS {
                    drop(stream);
                    continue;
                }
                let conn_shared = Arc::clone(shared);
                let spawned = thread::Builder::new()
                    .name("devserver-conn".into())
                    .spawn(move || serve_connection(stream, &conn_shared));
                if let Ok(handle) = spawned {
                    connections.push(handle);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Out of descriptors and the like: back off and keep serving.
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut conn) = Conn::new(stream, &shared.shutdown) else {
        return;
    };
    loop {
        match conn.read_request(shared.max_body_bytes) {
            Ok(request) => {
                let keep_alive = handle_request(&mut conn, request, shared);
                if !keep_alive {
                    return;
                }
            }
            Err(ReadError::Closed | ReadError::Shutdown | ReadError::Gone) => return,
            Err(ReadError::Malformed(detail)) => {
                shared.record(unreadable_record(shared, 400, &detail), Vec::new());
                let body = capture::error_body(400, "malformed_request", &detail);
                conn.respond(&Response::json(400, &body), true);
                return;
            }
            Err(ReadError::HeadTooLarge) => {
                let detail = "request head too large";
                shared.record(unreadable_record(shared, 431, detail), Vec::new());
                let body = capture::error_body(431, "head_too_large", detail);
                conn.respond(&Response::json(431, &body), true);
                return;
            }
            Err(ReadError::BodyTooLarge { head }) => {
                let refusal = Refusal::too_large(format!(
                    "request body larger than {} bytes",
                    shared.max_body_bytes
                ));
                let mut record = new_record(shared, &head, SystemTime::now());
                record.capture = capture::is_capture_path(&record.path);
                record.status = Some(413);
                record.error = Some(refusal.detail.clone());
                // Answer first, then swallow the rest of the body so that the
                // client is not reset before it can read the answer.
                shared.record(record, Vec::new());
                conn.write_response(&Response::json(413, &refusal.body()), true);
                let declared = head
                    .header("content-length")
                    .and_then(|value| value.parse::<usize>().ok())
                    .unwrap_or(DISCARD_CHUNKED_BYTES);
                conn.discard(declared.min(DISCARD_MAX_BYTES), DISCARD_TIME);
                conn.close();
                return;
            }
        }
    }
}

/// Answers one request; returns whether the connection may serve another.
///
/// Every outcome is recorded before the answer is written (or the connection
/// closed), so once a client has its answer, the record shows it.
fn handle_request(conn: &mut Conn<'_>, request: Request, shared: &Shared) -> bool {
    let received_at = SystemTime::now();
    let mut record = new_record(shared, &request, received_at);
    let keep_alive = request.keep_alive();

    if !capture::is_capture_path(&record.path) {
        let response = if request.method == "GET" && record.path == "/" {
            Response::text(
                200,
                "telemetry-devserver: POST PostHog capture requests to /batch/\n",
            )
        } else {
            let detail = format!("no endpoint at {}", record.path);
            Response::json(404, &capture::error_body(404, "not_found", &detail))
        };
        record.status = Some(response.status);
        shared.record(record, Vec::new());
        conn.respond(&response, !keep_alive);
        return keep_alive;
    }
    record.capture = true;
    if request.method != "POST" {
        let detail = format!("method {} not allowed, use POST", request.method);
        let mut response = Response::json(
            405,
            &capture::error_body(405, "method_not_allowed", &detail),
        );
        response.headers.push(("Allow", "POST".into()));
        record.status = Some(405);
        record.error = Some(detail);
        shared.record(record, Vec::new());
        conn.respond(&response, !keep_alive);
        return keep_alive;
    }

    // Decode what can be decoded, even for a request about to be refused, so
    // that the record says which events it carried.
    let query = record.query.clone().unwrap_or_default();
    let compression = query_param(&query, "compression");
    let decoded = capture::decode_body(
        &request.body,
        request.header("content-encoding"),
        compression.as_deref(),
        shared.max_body_bytes,
    );
    let json = decoded
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|decoded| capture::parse_json(&decoded.bytes));
    if let Ok(json) = &json {
        record.event_uuids = capture::find_uuids(json);
    }

    let mode = shared.take_mode();
    record.mode = mode.clone();
    match mode {
        Mode::Ok => {}
        Mode::Slow(delay) => {
            if !shared.sleep(delay) {
                record.error = Some("server shut down during slow mode".into());
                shared.record(record, Vec::new());
                return false;
            }
        }
        Mode::Hang => {
            record.error = Some("failure mode: hang".into());
            shared.record(record, Vec::new());
            shared.hang(conn);
            conn.close();
            return false;
        }
        Mode::CloseConnection => {
            record.error = Some("failure mode: close connection".into());
            shared.record(record, Vec::new());
            conn.close();
            return false;
        }
        Mode::Status(_)
        | Mode::TooManyRequests { .. }
        | Mode::BadRequest
        | Mode::PayloadTooLarge
        | Mode::Unauthorized => {
            let response = mode_response(&mode);
            record.status = Some(response.status);
            record.error = Some(format!("failure mode: {mode}"));
            shared.record(record, Vec::new());
            conn.respond(&response, !keep_alive);
            return keep_alive;
        }
    }

    let outcome = json.and_then(|json| capture::validate(&json, shared.max_event_bytes));
    match outcome {
        Err(refusal) => {
            record.status = Some(refusal.status);
            record.error = Some(refusal.detail.clone());
            shared.record(record, Vec::new());
            conn.respond(
                &Response::json(refusal.status, &refusal.body()),
                !keep_alive,
            );
        }
        Ok(batch) => {
            let compressed = decoded.map(|decoded| decoded.compressed).unwrap_or(false);
            let events: Vec<RecordedEvent> = batch
                .events
                .into_iter()
                .map(|event| RecordedEvent {
                    uuid: event.uuid,
                    event: event.event,
                    distinct_id: event.distinct_id,
                    properties: event.properties,
                    timestamp: event.timestamp,
                    raw: event.raw,
                    api_key: batch.api_key.clone(),
                    sent_at: batch.sent_at.clone(),
                    historical_migration: batch.historical_migration,
                    request_id: record.id,
                    path: record.path.clone(),
                    user_agent: request.header("user-agent").map(str::to_string),
                    content_type: request.header("content-type").map(str::to_string),
                    content_encoding: request.header("content-encoding").map(str::to_string),
                    compression: compression.clone(),
                    compressed,
                    received_at,
                })
                .collect();
            record.status = Some(200);
            record.accepted_events = events.len();
            shared.record(record, events);
            conn.respond(&Response::json(200, &json!({ "status": 1 })), !keep_alive);
        }
    }
    keep_alive
}

fn new_record(shared: &Shared, request: &Request, received_at: SystemTime) -> RecordedRequest {
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (request.target.clone(), None),
    };
    RecordedRequest {
        id: shared.next_request_id(),
        received_at,
        method: request.method.clone(),
        path,
        query,
        headers: request.headers.clone(),
        body_len: request.body.len(),
        capture: false,
        mode: Mode::Ok,
        status: None,
        accepted_events: 0,
        event_uuids: Vec::new(),
        error: None,
    }
}

/// The record of a request whose head could not be parsed: no method, path or
/// headers.
fn unreadable_record(shared: &Shared, status: u16, detail: &str) -> RecordedRequest {
    let mut record = new_record(shared, &Request::default(), SystemTime::now());
    record.status = Some(status);
    record.error = Some(detail.to_string());
    record
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| value.to_string())
    })
}

/// The answer of a mode with a [fixed status](Mode::fixed_status) (500 for the
/// others, which never answer this way, and for a status outside 100..=999).
fn mode_response(mode: &Mode) -> Response {
    let status = mode
        .fixed_status()
        .filter(|status| (100..=999).contains(status))
        .unwrap_or(500);
    let (code, detail): (&str, String) = match mode {
        Mode::TooManyRequests { .. } => ("rate_limited", "rate limited".into()),
        Mode::BadRequest => ("invalid_payload", "failure mode: bad request".into()),
        Mode::PayloadTooLarge => (
            "payload_too_large",
            "failure mode: payload too large".into(),
        ),
        Mode::Unauthorized => ("invalid_api_key", "API key is not valid".into()),
        Mode::Status(_) => ("failure_mode", format!("failure mode: status {status}")),
        Mode::Ok | Mode::Slow(_) | Mode::Hang | Mode::CloseConnection => {
            ("failure_mode", "no response expected".into())
        }
    };
    let body: Value = if (200..300).contains(&status) {
        json!({ "status": 1 })
    } else {
        capture::error_body(status, code, &detail)
    };
    let mut response = Response::json(status, &body);
    if let Mode::TooManyRequests {
        retry_after_secs: Some(secs),
    } = mode
    {
        response.headers.push(("Retry-After", secs.to_string()));
    }
    response
}

impl Shared {
    fn next_request_id(&self) -> u64 {
        let mut state = lock(&self.state);
        let id = state.next_request_id;
        state.next_request_id += 1;
        id
    }

    /// The mode for the capture request being handled, consuming one use of a
    /// temporary mode.
    fn take_mode(&self) -> Mode {
        let mut state = lock(&self.state);
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

    fn record(&self, request: RecordedRequest, events: Vec<RecordedEvent>) {
        let mut state = lock(&self.state);
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

    /// Sleeps `delay` in slices; returns false if the server shut down meanwhile.
    fn sleep(&self, delay: Duration) -> bool {
        let until = Instant::now().checked_add(delay);
        loop {
            if self.shutdown.load(Ordering::Acquire) {
                return false;
            }
            let left = match until {
                Some(until) => until.saturating_duration_since(Instant::now()),
                None => POLL,
            };
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(POLL));
        }
    }

    /// Holds a request unanswered until the server shuts down, the mode
    /// changes, or the client closes its side.
    fn hang(&self, conn: &mut Conn<'_>) {
        let generation = self.mode_generation.load(Ordering::Acquire);
        while !self.shutdown.load(Ordering::Acquire)
            && self.mode_generation.load(Ordering::Acquire) == generation
        {
            if conn.peer_closed() {
                return;
            }
        }
    }
}
