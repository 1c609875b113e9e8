//! The HTTP/1.1 server: hyper, on a current-thread tokio runtime on one
//! background thread.
//!
//! Why hyper 1.x (with hyper-util's tokio glue) rather than tiny_http or axum:
//!
//! - Size: posthog-rs already brings hyper, hyper-util, http-body-util and
//!   tokio into this workspace (through reqwest), so the dev server adds no
//!   crate, only hyper's `server` feature. tiny_http would be a new
//!   dependency; axum would add a router and tower on top of hyper, for one
//!   handler that matches paths by their suffix anyway.
//! - Fault modes: the handler is a future that hyper polls, so the mode
//!   decides whether and when anything is written. A hang is a future that
//!   stays pending (hyper drops it, closing the connection, when the client
//!   closes its side); a handler error makes hyper close the connection
//!   without writing a byte (hang once released, close); a slow answer sleeps
//!   on the runtime's timer. tiny_http writes a 500 for a request dropped
//!   unanswered, and serves connections on its own threads, which nothing can
//!   close from outside.
//! - Shutdown: every connection is a task of the runtime, so dropping the
//!   runtime closes all of them at once, hanging and slow ones included.
//! - Maintenance and features: hyper is the HTTP implementation under reqwest,
//!   axum and most of the Rust ecosystem. It reads Content-Length and chunked
//!   bodies, answers `Expect: 100-continue`, keeps connections alive, and
//!   answers malformed requests (400) and oversized heads (431) itself.

use std::io;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::handler;
use crate::state::Shared;

/// An idle keep-alive connection, or one whose request head does not arrive,
/// is closed after this long.
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest request head (request line and headers). A URI over 65,534 bytes
/// (hyper's 414) cannot fit in it, so every "too large" parse error was
/// answered 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long to wait before accepting again after an error (typically: out of
/// file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The server's thread; dropping it stops the server.
#[derive(Debug)]
pub(crate) struct Running {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Serves `listener` on a new thread.
    pub(crate) fn start(listener: std::net::TcpListener, shared: Arc<Shared>) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        listener.set_nonblocking(true)?;
        let listener = {
            let _context = runtime.enter();
            TcpListener::from_std(listener)?
        };
        let port = listener.local_addr()?.port();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name(format!("devserver-{port}"))
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::spawn(accept_loop(listener, shared));
                    // A dropped sender stops the server too.
                    let _ = stopped.await;
                });
                // Dropping the runtime drops every task: the listener and every
                // connection close at once, unanswered.
                drop(runtime);
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, Arc::clone(&shared)));
            }
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let handler_shared = Arc::clone(&shared);
    let service = service_fn(move |request| handler::handle(Arc::clone(&handler_shared), request));
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_header_size(MAX_HEAD_BYTES)
        // `Content-Length`, not `content-length`: what the hand-written server
        // wrote, and what a person reading a capture expects.
        .title_case_headers(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(error) = served
        && let Some(status) = answered_parse_error(&error)
    {
        // hyper has answered already: this request is recorded just after its
        // answer, unlike those that reach the handler.
        handler::record_unparsed(&shared, status, error.to_string());
    }
}

/// The status hyper answered a request it could not parse with (its h1
/// `on_error`): 431 for too large a head, 400 for a malformed one. `None`
/// for the errors it answers nothing to: an HTTP/2 preface, a timeout, a
/// client gone, or a handler error (the handler recorded that request).
fn answered_parse_error(error: &hyper::Error) -> Option<u16> {
    if !error.is_parse() || error.is_parse_version_h2() {
        None
    } else if error.is_parse_too_large() {
        Some(431)
    } else {
        Some(400)
    }
}
