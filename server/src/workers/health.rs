//! What the background workers report of themselves: per worker, whether it runs, its last tick
//! (when, how long), its last error (a short class, never a message that could carry personal
//! data) and how often its supervisor restarted it. Shown at `/healthz/workers` and `/metrics`.
//! Per process: with several servers, ask each.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tomoni_schema::domain::clock::SharedClock;

/// Short error classes a worker records (never a message: those can quote data).
pub mod error_class {
    /// A tick returned an error (the database, mostly); the loop goes on.
    pub const TICK_FAILED: &str = "tick_failed";
    /// The worker panicked; its supervisor restarts it.
    pub const PANIC: &str = "panic";
    /// The worker returned while the server was not stopping; its supervisor restarts it.
    pub const EXITED: &str = "exited";
}

/// One worker's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerState {
    pub running: bool,
    /// When the tick in progress (or the last one) started, by the injected clock.
    pub last_tick_started_at: Option<DateTime<Utc>>,
    /// When the last tick ended, by the injected clock.
    pub last_tick_at: Option<DateTime<Utc>>,
    pub last_tick_duration: Option<Duration>,
    pub ticks: u64,
    pub last_error: Option<&'static str>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub restarts: u64,
}

/// The registry, shared by the workers, their supervisors and the HTTP handlers.
pub struct WorkerHealth {
    clock: SharedClock,
    workers: Mutex<BTreeMap<String, WorkerState>>,
    /// Outings or alerts the watchdog could not process and skipped, since this process started.
    watchdog_failed_rows: AtomicU64,
    /// Alert e-mails the fallback sent and failed to send, since this process started.
    emails_sent: AtomicU64,
    emails_failed: AtomicU64,
}

/// A tick in progress; hand it back to [`WorkerHealth::end_tick`].
#[must_use]
pub struct Tick {
    started: Instant,
}

impl WorkerHealth {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            workers: Mutex::new(BTreeMap::new()),
            watchdog_failed_rows: AtomicU64::new(0),
            emails_sent: AtomicU64::new(0),
            emails_failed: AtomicU64::new(0),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut WorkerState)) {
        // A poisoned lock only means a panic elsewhere while holding it; the state is plain data.
        let mut workers = self
            .workers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match workers.get_mut(name) {
            Some(state) => change(state),
            None => {
                let mut state = WorkerState::default();
                change(&mut state);
                workers.insert(name.to_owned(), state);
            }
        }
    }

    /// Every worker known, by name.
    pub fn snapshot(&self) -> Vec<(String, WorkerState)> {
        self.workers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(name, state)| (name.clone(), state.clone()))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<WorkerState> {
        self.workers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(name)
            .cloned()
    }

    pub fn set_running(&self, name: &str, running: bool) {
        self.update(name, |state| state.running = running);
    }

    pub fn start_tick(&self, name: &str) -> Tick {
        let now = self.clock.now();
        self.update(name, |state| state.last_tick_started_at = Some(now));
        Tick {
            started: Instant::now(),
        }
    }

    /// Ends the tick; `error` is its class when it failed.
    pub fn end_tick(&self, name: &str, tick: Tick, error: Option<&'static str>) {
        let now = self.clock.now();
        let took = tick.started.elapsed();
        self.update(name, |state| {
            state.last_tick_at = Some(now);
            state.last_tick_duration = Some(took);
            state.ticks += 1;
            if let Some(class) = error {
                state.last_error = Some(class);
                state.last_error_at = Some(now);
            }
        });
    }

    /// The supervisor is restarting the worker after `class` (panic or exit).
    pub fn record_restart(&self, name: &str, class: &'static str) {
        let now = self.clock.now();
        self.update(name, |state| {
            state.running = false;
            state.restarts += 1;
            state.last_error = Some(class);
            state.last_error_at = Some(now);
        });
    }

    pub fn add_watchdog_failed_rows(&self, rows: usize) {
        self.watchdog_failed_rows
            .fetch_add(rows as u64, Ordering::Relaxed);
    }

    pub fn watchdog_failed_rows(&self) -> u64 {
        self.watchdog_failed_rows.load(Ordering::Relaxed)
    }

    /// Counts the e-mail fallback's outcomes of one tick.
    pub fn add_emails(&self, sent: usize, failed: usize) {
        self.emails_sent.fetch_add(sent as u64, Ordering::Relaxed);
        self.emails_failed
            .fetch_add(failed as u64, Ordering::Relaxed);
    }

    /// (sent, failed) since this process started.
    pub fn emails(&self) -> (u64, u64) {
        (
            self.emails_sent.load(Ordering::Relaxed),
            self.emails_failed.load(Ordering::Relaxed),
        )
    }
}
