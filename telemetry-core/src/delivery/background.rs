//! Delivery while a long-running host (a server) runs, rather than only when it exits:
//! [`Telemetry::deliver_in_background`](crate::Telemetry::deliver_in_background).
//!
//! Every interval (and once at once) a thread of the host decides consent again and, when
//! records are waiting, starts the **detached sender** ([`spawn_if_due`]: the same process,
//! lock, back-off and checks as at exit). It sends nothing itself: the network stack, and
//! posthog-rs's look at the system (which runs programs, see [`spawn`](super::spawn)), never
//! run in the host's process, with its `PATH` and working directory.
//!
//! A round only reads files and may start a process, so dropping the handle, which tells the
//! thread to stop and waits at most [`BACKGROUND_STOP_WAIT`], never waits for the network;
//! it normally waits well under a millisecond. A sender already started goes on by itself,
//! within its own deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::endpoint::Delivery;
use super::sender;
use super::spawn::{SpawnDecision, spawn_if_due};
use crate::config::TelemetryConfig;
#[cfg(doc)]
use crate::limits::BACKGROUND_STOP_WAIT;
use crate::limits::MIN_BACKGROUND_INTERVAL;
use crate::paths::StateDir;
use crate::queue::Queue;

/// A running background delivery.
#[derive(Debug)]
pub(crate) struct Background {
    stop: Arc<AtomicBool>,
    wake: mpsc::Sender<()>,
    done: mpsc::Receiver<()>,
    thread: JoinHandle<()>,
}

impl Background {
    /// Starts the thread for `config`'s queue in `dir`; `None` without a key to send with
    /// (`delivery`, resolved from `config`) or if it could not be started (traced).
    pub(crate) fn start(
        config: TelemetryConfig,
        delivery: Delivery,
        dir: StateDir,
        every: Duration,
    ) -> Option<Background> {
        if !delivery.has_key() {
            return None;
        }
        let every = every.max(MIN_BACKGROUND_INTERVAL);
        let stop = Arc::new(AtomicBool::new(false));
        let (wake, wakes) = mpsc::channel::<()>();
        let (finished, done) = mpsc::channel::<()>();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("telemetry-delivery".into())
            .spawn(move || {
                loop {
                    if stop_flag.load(Ordering::Relaxed) {
                        break;
                    }
                    let round = round(&config, &dir);
                    tracing::debug!(?round, "telemetry background round");
                    match wakes.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
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

/// What one background round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Round {
    /// Telemetry is off now (or in debug mode): nothing started.
    NotSending,
    /// Nothing is waiting: nothing started.
    Empty,
    /// A sender was due: what [`spawn_if_due`] decided.
    Sender(SpawnDecision),
}

/// One background round: a sender is started if consent still holds, records are waiting,
/// and [`spawn_if_due`] agrees (no sender running, no back-off, acknowledgements recordable).
fn round(config: &TelemetryConfig, dir: &StateDir) -> Round {
    if !sender::may_send(config, dir) {
        return Round::NotSending;
    }
    let waiting = Queue::new(dir.clone())
        .read_batch(1, 1)
        .is_ok_and(|contents| !contents.records.is_empty());
    if !waiting {
        return Round::Empty;
    }
    Round::Sender(spawn_if_due(config, dir))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::paths::StateDirSource;
    use crate::record::Record;
    use crate::{Environment, PostHogHost};

    fn config(home: &std::path::Path, env: &[(&str, &str)]) -> TelemetryConfig {
        let mut environment: Environment = env.iter().copied().collect();
        environment.set("HOME", home.to_string_lossy());
        TelemetryConfig::builder(&crate::schema::DEMO)
            .project_key("phc_test")
            .host(PostHogHost::parse("http://127.0.0.1:9").unwrap())
            .environment(environment)
            .working_dir(home)
            .stderr_is_terminal(false)
            .build()
            .unwrap()
    }

    #[test]
    fn a_round_starts_a_sender_only_when_one_is_due() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        let on = config(home.path(), &[("DEMO_TELEMETRY", "1")]);
        assert_eq!(round(&on, &dir), Round::Empty);
        Queue::new(dir.clone())
            .append(&[Record::alias("anon-1", "user-1")])
            .unwrap();
        let off = config(
            home.path(),
            &[("DO_NOT_TRACK", "1"), ("DEMO_TELEMETRY", "1")],
        );
        assert_eq!(round(&off, &dir), Round::NotSending);
        // a sender runs already (the lock is held): none is started (starting one is tested end
        // to end, as the process started is this program)
        let _held = super::super::lock::SenderLock::try_acquire(&dir).unwrap();
        assert_eq!(
            round(&on, &dir),
            Round::Sender(SpawnDecision::AlreadyRunning)
        );
    }

    #[test]
    fn stopping_waits_for_no_network() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        let on = config(home.path(), &[("DEMO_TELEMETRY", "1")]);
        let delivery = Delivery::resolve(&on);
        let background = Background::start(on, delivery, dir, Duration::from_secs(1)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        background.stop(Duration::from_secs(5));
        let waited = started.elapsed();
        assert!(waited < Duration::from_millis(200), "{waited:?}");
    }
}
