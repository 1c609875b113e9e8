//! Delivery from a thread of a long-running host (a server), instead of a detached process:
//! [`Telemetry::deliver_in_background`](crate::Telemetry::deliver_in_background).
//!
//! Every interval (and once at once) the thread takes `telemetry-sender.lock` if it is free,
//! decides consent again, respects the same back-off, and runs the same
//! [send loop](super::sender) as the detached sender. Dropping the handle stops it: the
//! thread is told to stop between batches and waited for at most [`BACKGROUND_STOP_WAIT`];
//! a request still in flight then ends on its own timeout, or with the process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::backoff::SenderState;
use super::client;
use super::endpoint::Delivery;
use super::lock::SenderLock;
use super::sender;
use crate::config::TelemetryConfig;
use crate::limits::{LAST_BATCH_START, MIN_BACKGROUND_INTERVAL};
use crate::paths::StateDir;
use crate::queue::Queue;

/// A running background sender.
#[derive(Debug)]
pub(crate) struct Background {
    stop: Arc<AtomicBool>,
    wake: mpsc::Sender<()>,
    done: mpsc::Receiver<()>,
    thread: JoinHandle<()>,
}

impl Background {
    /// Starts the thread, delivering to `delivery` (resolved from `config`); `None` if it could
    /// not be started (traced).
    pub(crate) fn start(
        config: TelemetryConfig,
        delivery: Delivery,
        dir: StateDir,
        every: Duration,
    ) -> Option<Background> {
        let every = every.max(MIN_BACKGROUND_INTERVAL);
        let stop = Arc::new(AtomicBool::new(false));
        let (wake, wakes) = mpsc::channel::<()>();
        let (finished, done) = mpsc::channel::<()>();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("telemetry-delivery".into())
            .spawn(move || {
                if let Some(client) = client::build(&delivery) {
                    loop {
                        round(&config, &dir, &client, &stop_flag);
                        match wakes.recv_timeout(every) {
                            Err(RecvTimeoutError::Timeout) => {}
                            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                        }
                        if stop_flag.load(Ordering::Relaxed) {
                            break;
                        }
                    }
                }
                let _ = finished.send(());
            });
        match thread {
            Ok(thread) => Some(Background {
                stop,
                wake,
                done,
                thread,
            }),
            Err(error) => {
                tracing::debug!(%error, "telemetry background delivery not started");
                None
            }
        }
    }

    /// Stops the thread, waiting at most `wait` for it.
    pub(crate) fn stop(self, wait: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.wake.send(());
        match self.done.recv_timeout(wait) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                let _ = self.thread.join();
            }
            Err(RecvTimeoutError::Timeout) => {
                tracing::debug!("telemetry background delivery still busy; not waiting for it");
            }
        }
    }
}

/// One background round, if consent, back-off and the sender lock allow it.
fn round(config: &TelemetryConfig, dir: &StateDir, client: &posthog_rs::Client, stop: &AtomicBool) {
    if !sender::may_send(config, dir) || !SenderState::read(dir).allows_attempt_now() {
        return;
    }
    let Some(_lock) = SenderLock::try_acquire(dir) else {
        return;
    };
    let queue = Queue::new(dir.clone());
    let report = sender::send_round(&queue, client, Instant::now() + LAST_BATCH_START, &|| {
        stop.load(Ordering::Relaxed)
    });
    tracing::debug!(?report, "telemetry background round");
}
