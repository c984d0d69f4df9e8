//! Keeps a background worker running: a worker that panics, or returns while the server is not
//! stopping, is logged (its name and what happened, never the panic's message, which can quote
//! data), counted, and started again after a pause that doubles from one second to a minute (back
//! to one second once it has stayed up a while). It stops when the stop signal turns true, after
//! the worker it runs has stopped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::health::{WorkerHealth, error_class};

/// The pauses between restarts.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// A worker that ran at least this long before failing starts over from `first`.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            max: Duration::from_secs(60),
            reset_after: Duration::from_secs(60),
        }
    }
}

/// Runs the worker `start` makes, under `name`, until `stop` turns true; see the module's comment.
/// Each run is its own task, so that a panic ends that run only.
pub async fn supervise<F, Fut>(
    name: String,
    health: Arc<WorkerHealth>,
    backoff: Backoff,
    mut stop: tokio::sync::watch::Receiver<bool>,
    mut start: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut pause = backoff.first;
    loop {
        if *stop.borrow() {
            return;
        }
        health.set_running(&name, true);
        let started = tokio::time::Instant::now();
        let ended = tokio::spawn(start()).await;
        health.set_running(&name, false);
        if *stop.borrow() {
            return;
        }
        let class = match ended {
            Err(err) if err.is_panic() => error_class::PANIC,
            // Cancelled: the runtime is shutting down.
            Err(_) => return,
            Ok(()) => error_class::EXITED,
        };
        if started.elapsed() >= backoff.reset_after {
            pause = backoff.first;
        }
        health.record_restart(&name, class);
        tracing::error!(
            worker = %name,
            cause = class,
            restart_in_ms = pause.as_millis() as u64,
            "background worker stopped unexpectedly; restarting it"
        );
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        pause = (pause * 2).min(backoff.max);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chrono::Utc;
    use tomoni_schema::domain::clock::ManualClock;

    use super::*;

    fn health() -> Arc<WorkerHealth> {
        Arc::new(WorkerHealth::new(Arc::new(ManualClock::new(Utc::now()))))
    }

    /// Waits (in paused time, so without really sleeping) until `done` holds, at most 10 minutes.
    async fn until(done: impl Fn() -> bool) {
        for _ in 0..6000 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the condition never held");
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_panics_is_started_again_after_a_pause() {
        let health = health();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let runs = Arc::new(AtomicUsize::new(0));
        let began = tokio::time::Instant::now();
        let supervisor = tokio::spawn(supervise(
            "test".to_owned(),
            health.clone(),
            Backoff::default(),
            stop_rx.clone(),
            {
                let (runs, health, stop) = (runs.clone(), health.clone(), stop_rx.clone());
                move || {
                    let (runs, health, mut stop) = (runs.clone(), health.clone(), stop.clone());
                    async move {
                        if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                            panic!("first run fails");
                        }
                        let tick = health.start_tick("test");
                        health.end_tick("test", tick, None);
                        let _ = stop.wait_for(|stop| *stop).await;
                    }
                }
            },
        ));
        until(|| health.get("test").is_some_and(|state| state.ticks == 1)).await;
        assert!(
            began.elapsed() >= Duration::from_secs(1),
            "restarted before the backoff"
        );
        let state = health.get("test").unwrap_or_default();
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(state.restarts, 1);
        assert_eq!(state.last_error, Some(error_class::PANIC));
        assert!(state.running);
        stop_tx.send(true).ok();
        assert!(supervisor.await.is_ok());
        assert!(!health.get("test").unwrap_or_default().running);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "not restarted when stopping"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_keeps_exiting_waits_longer_each_time_up_to_the_maximum() {
        let health = health();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let starts = Arc::new(std::sync::Mutex::new(Vec::new()));
        let began = tokio::time::Instant::now();
        let supervisor = tokio::spawn(supervise(
            "quitter".to_owned(),
            health.clone(),
            Backoff {
                first: Duration::from_secs(1),
                max: Duration::from_secs(4),
                reset_after: Duration::from_secs(60),
            },
            stop_rx,
            {
                let starts = starts.clone();
                move || {
                    let starts = starts.clone();
                    async move {
                        if let Ok(mut starts) = starts.lock() {
                            starts.push(began.elapsed().as_secs());
                        }
                    }
                }
            },
        ));
        until(|| starts.lock().map(|s| s.len()).unwrap_or(0) >= 5).await;
        stop_tx.send(true).ok();
        assert!(supervisor.await.is_ok());
        let starts = starts.lock().map(|s| s.clone()).unwrap_or_default();
        // Pauses of 1, 2, 4, then 4 again (the maximum).
        assert_eq!(starts[..5], [0, 1, 3, 7, 11]);
        let state = health.get("quitter").unwrap_or_default();
        assert_eq!(state.last_error, Some(error_class::EXITED));
        assert!(state.restarts >= 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_stayed_up_a_while_is_restarted_after_the_first_pause_again() {
        let health = health();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let starts = Arc::new(std::sync::Mutex::new(Vec::new()));
        let began = tokio::time::Instant::now();
        let supervisor = tokio::spawn(supervise(
            "long-lived".to_owned(),
            health.clone(),
            Backoff::default(),
            stop_rx,
            {
                let starts = starts.clone();
                move || {
                    let starts = starts.clone();
                    async move {
                        if let Ok(mut starts) = starts.lock() {
                            starts.push(began.elapsed().as_secs());
                        }
                        tokio::time::sleep(Duration::from_secs(90)).await;
                    }
                }
            },
        ));
        until(|| starts.lock().map(|s| s.len()).unwrap_or(0) >= 3).await;
        stop_tx.send(true).ok();
        assert!(supervisor.await.is_ok());
        let starts = starts.lock().map(|s| s.clone()).unwrap_or_default();
        // Up 90 s (longer than `reset_after`) each time: the pause stays at one second.
        assert_eq!(starts[..3], [0, 91, 182]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_stopped_by_the_signal_is_not_restarted() {
        let health = health();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let runs = Arc::new(AtomicUsize::new(0));
        let supervisor = tokio::spawn(supervise(
            "steady".to_owned(),
            health.clone(),
            Backoff::default(),
            stop_rx.clone(),
            {
                let (runs, stop) = (runs.clone(), stop_rx);
                move || {
                    let (runs, mut stop) = (runs.clone(), stop.clone());
                    async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        let _ = stop.wait_for(|stop| *stop).await;
                    }
                }
            },
        ));
        until(|| runs.load(Ordering::SeqCst) == 1).await;
        stop_tx.send(true).ok();
        assert!(supervisor.await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(health.get("steady").unwrap_or_default().restarts, 0);
    }
}
