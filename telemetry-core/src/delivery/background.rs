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
//! thread to stop and waits at most [`BACKGROUND_STOP_WAIT`] (50 ms), never waits for the
//! network; it normally waits well under a millisecond. The stop is checked before each round
//! and wakes the wait between rounds; a round still under way at the end of the wait is left
//! to finish on its own, and the thread then ends without starting another (what it did not
//! start stays queued for the next sender). A sender already started goes on by itself,
//! within its own deadline.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::endpoint::Delivery;
use super::sender;
use super::spawn::{SpawnDecision, Trigger, spawn_if_due};
use crate::config::TelemetryConfig;
#[cfg(any(doc, test))]
use crate::limits::BACKGROUND_STOP_WAIT;
use crate::limits::MIN_BACKGROUND_INTERVAL;
use crate::paths::StateDir;
use crate::queue::Queue;

/// A running background delivery.
#[derive(Debug)]
pub(crate) struct Background {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

/// What the host and the thread share: one lock and one condition variable, notified when the
/// stop is set (waking the thread's wait between rounds) and when the thread ends (waking
/// [`Background::stop`]'s bounded wait).
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Set by [`Background::stop`]: the thread starts no other round.
    stop: bool,
    /// Set when the thread's loop is over (even if a round panicked).
    finished: bool,
}

/// Marks the thread finished when dropped: at the end of its loop, or while unwinding out of a
/// round that panicked, so that [`Background::stop`] joins it rather than waiting out its bound.
struct Finished(Arc<Shared>);

impl Drop for Finished {
    fn drop(&mut self) {
        // a poisoned lock (only a panic while it is held could poison it, and no code panics
        // under it) is still written: the flag is all it protects
        let mut state = self
            .0
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.finished = true;
        drop(state);
        self.0.changed.notify_all();
    }
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
        Background::spawn(every.max(MIN_BACKGROUND_INTERVAL), move || {
            let round = round(&config, &dir);
            crate::diagnostics::debug_event!(?round, "telemetry background round");
        })
    }

    /// Runs `round` at once and then every `every` on a thread of its own, until told to stop.
    /// The stop is checked before each round and wakes the wait between rounds, so the thread
    /// ends as soon as the round under way (if any) returns.
    fn spawn(every: Duration, mut round: impl FnMut() + Send + 'static) -> Option<Background> {
        let shared = Arc::new(Shared::default());
        let finished = Finished(Arc::clone(&shared));
        let rounds = move || {
            let shared = &finished.0;
            loop {
                match shared.state.lock() {
                    Ok(state) if !state.stop => {}
                    _ => break,
                }
                round();
                let Ok(state) = shared.state.lock() else {
                    break;
                };
                // waits out `every` unless the stop is set (spurious wake-ups wait again)
                match shared.changed.wait_timeout_while(state, every, |s| !s.stop) {
                    Ok((state, _)) if !state.stop => {}
                    _ => break,
                }
            }
            drop(finished);
        };
        let thread = super::start_thread("telemetry-delivery", Box::new(rounds));
        match thread {
            Ok(thread) => Some(Background { shared, thread }),
            Err(error) => {
                crate::diagnostics::debug_event!(%error, "telemetry background delivery not started");
                None
            }
        }
    }

    /// Tells the thread to stop and waits at most `wait` for it: joined if it ended in time,
    /// otherwise left to end by itself once its round returns (it starts no other).
    pub(crate) fn stop(self, wait: Duration) -> Stopped {
        let shared = &self.shared;
        let finished = match shared.state.lock() {
            Ok(mut state) => {
                state.stop = true;
                shared.changed.notify_all();
                shared
                    .changed
                    .wait_timeout_while(state, wait, |s| !s.finished)
                    .is_ok_and(|(state, _)| state.finished)
            }
            // no code panics under the lock, so this cannot happen; were it to, the thread
            // (which stops at a poisoned lock) is not waited for
            Err(_) => false,
        };
        if finished {
            let _ = self.thread.join();
            Stopped::Joined
        } else {
            crate::diagnostics::debug_event!(
                "telemetry background delivery still busy; not waiting for it"
            );
            Stopped::LeftRunning
        }
    }
}

/// How [`Background::stop`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// The thread ended within the wait and was joined.
    Joined,
    /// A round was still under way at the end of the wait; the thread ends after it.
    LeftRunning,
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
    let waiting = Queue::new(dir.clone()).has_waiting();
    if !waiting {
        return Round::Empty;
    }
    Round::Sender(spawn_if_due(config, dir, Trigger::BackgroundRound))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

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
            .on_terminal(false)
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
        // the thread is told to stop and ends on its own (a generous wait, not a timing
        // assertion: it would only be used up if the thread ignored the stop)
        assert_eq!(background.stop(Duration::from_secs(30)), Stopped::Joined);
    }

    #[test]
    fn the_thread_stops_between_rounds_and_runs_no_round_after_the_stop() {
        let (ran, rounds) = mpsc::channel::<()>();
        let background = Background::spawn(Duration::from_secs(3600), move || {
            let _ = ran.send(());
        })
        .unwrap();
        // the first round runs at once; the next is an hour away
        rounds.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(background.stop(Duration::from_secs(30)), Stopped::Joined);
        // the stop woke the wait: no round ran after it, and the thread is gone
        assert_eq!(rounds.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    }

    #[test]
    fn stopping_never_waits_for_a_stuck_round() {
        let (entered, round_entered) = mpsc::channel::<()>();
        let (release, released) = mpsc::channel::<()>();
        let (left, round_left) = mpsc::channel::<()>();
        let background = Background::spawn(Duration::from_secs(3600), move || {
            let _ = entered.send(());
            // stuck (on a file lock, say) until the test releases it
            let _ = released.recv();
            let _ = left.send(());
        })
        .unwrap();
        round_entered.recv_timeout(Duration::from_secs(30)).unwrap();
        // the round cannot return before the stop does: stop gives up after its wait
        // (the host's drop passes BACKGROUND_STOP_WAIT), leaving the thread behind
        assert_eq!(background.stop(BACKGROUND_STOP_WAIT), Stopped::LeftRunning);
        assert_eq!(round_left.try_recv(), Err(mpsc::TryRecvError::Empty));
        // released, the round returns and the thread ends without another round
        release.send(()).unwrap();
        round_left.recv_timeout(Duration::from_secs(30)).unwrap();
    }

    #[test]
    fn a_round_that_panicked_ends_the_thread_and_the_stop_joins_it() {
        let (ran, rounds) = mpsc::channel::<()>();
        let background = Background::spawn(Duration::from_secs(3600), move || {
            let _ = ran.send(());
            panic!("a round panicked");
        })
        .unwrap();
        rounds.recv_timeout(Duration::from_secs(30)).unwrap();
        // the thread is over (its wait for the next round never started): joined, not left
        assert_eq!(background.stop(Duration::from_secs(30)), Stopped::Joined);
    }

    #[test]
    fn the_wait_between_rounds_lasts_the_interval() {
        let (ran, rounds) = mpsc::channel::<std::time::Instant>();
        let every = Duration::from_millis(50);
        let background = Background::spawn(every, move || {
            let _ = ran.send(std::time::Instant::now());
        })
        .unwrap();
        let first = rounds.recv_timeout(Duration::from_secs(30)).unwrap();
        let second = rounds.recv_timeout(Duration::from_secs(30)).unwrap();
        // no busy loop: the next round waited out the interval
        assert!(second.duration_since(first) >= every);
        assert_eq!(background.stop(Duration::from_secs(30)), Stopped::Joined);
    }
}
