//! What `/metrics` shows, in the Prometheus text format: counters of push outcomes, the workers'
//! health, and the backlog of the safety net and the outbox. Counters and worker series are per
//! process (with several servers, scrape each); the backlog is the shared database's.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tomoni_schema::domain::outings::AlertTier;
use tomoni_schema::store::health::Backlog;

use super::health::WorkerHealth;

#[derive(Default, Debug)]
pub struct PushMetrics {
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    pub failed: AtomicU64,
    pub removed: AtomicU64,
    pub expired: AtomicU64,
    pub unreachable: AtomicU64,
}

impl PushMetrics {
    pub fn add(counter: &AtomicU64, by: usize) {
        counter.fetch_add(by as u64, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP tomoni_push_outcomes_total Push attempts by outcome since this process started."
        );
        let _ = writeln!(out, "# TYPE tomoni_push_outcomes_total counter");
        for (outcome, counter) in [
            ("sent", &self.delivered),
            ("retried", &self.retried),
            ("failed", &self.failed),
            ("removed", &self.removed),
            ("expired", &self.expired),
        ] {
            let _ = writeln!(
                out,
                "tomoni_push_outcomes_total{{outcome=\"{outcome}\"}} {}",
                Self::get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP tomoni_notifications_unreachable_total Notifications whose recipient had no reachable device."
        );
        let _ = writeln!(out, "# TYPE tomoni_notifications_unreachable_total counter");
        let _ = writeln!(
            out,
            "tomoni_notifications_unreachable_total {}",
            Self::get(&self.unreachable)
        );
        out
    }
}

/// Seconds from `from` to `to`, to the millisecond (never negative).
fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64 / 1000.0
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The workers' own series (from `health`) and the backlog's (from the database, none when it
/// could not be read), at `now`.
pub fn render_workers(
    health: &WorkerHealth,
    backlog: Option<&Backlog>,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let workers = health.snapshot();
    let watchdog = workers
        .iter()
        .find(|(name, _)| name == super::watchdog::NAME)
        .map(|(_, state)| state);
    // Only in a process whose watchdog has ticked: an absent series is not a stale one.
    if let Some(state) = watchdog {
        if let Some(at) = state.last_tick_at {
            let name = "tomoni_watchdog_last_tick_age_seconds";
            header(
                &mut out,
                name,
                "gauge",
                "Seconds since this process's watchdog last finished a tick.",
            );
            let _ = writeln!(out, "{name} {}", seconds_between(at, now));
        }
        if let Some(took) = state.last_tick_duration {
            let name = "tomoni_watchdog_last_tick_duration_seconds";
            header(
                &mut out,
                name,
                "gauge",
                "How long this process's last watchdog tick took.",
            );
            let _ = writeln!(out, "{name} {}", took.as_secs_f64());
        }
    }
    let name = "tomoni_watchdog_failed_rows_total";
    header(
        &mut out,
        name,
        "counter",
        "Outings or alerts the watchdog could not process and skipped, since this process started.",
    );
    let _ = writeln!(out, "{name} {}", health.watchdog_failed_rows());
    let name = "tomoni_email_fallback_total";
    header(
        &mut out,
        name,
        "counter",
        "Alert e-mails (the fallback for pushes nobody confirmed seeing) by outcome, since this process started.",
    );
    let (sent, failed) = health.emails();
    let _ = writeln!(out, "{name}{{outcome=\"sent\"}} {sent}");
    let _ = writeln!(out, "{name}{{outcome=\"failed\"}} {failed}");
    let name = "tomoni_worker_restarts_total";
    header(
        &mut out,
        name,
        "counter",
        "Background workers restarted after a panic or an early exit, since this process started.",
    );
    for (worker, state) in &workers {
        let _ = writeln!(
            out,
            "{name}{{worker=\"{}\"}} {}",
            label(worker),
            state.restarts
        );
    }
    let Some(backlog) = backlog else {
        return out;
    };
    let name = "tomoni_watchdog_lag_seconds";
    header(
        &mut out,
        name,
        "gauge",
        "Now minus the earliest outing watch time that is due (0 when none is): how far behind all watchdogs together are.",
    );
    let lag = backlog
        .oldest_due_watch
        .map_or(0.0, |at| seconds_between(at, now));
    let _ = writeln!(out, "{name} {lag}");
    let name = "tomoni_alerts_open";
    header(
        &mut out,
        name,
        "gauge",
        "Alerts raised and not yet acknowledged, by their current tier.",
    );
    let mut unknown = 0;
    let mut counts: Vec<(&str, u64)> = AlertTier::ALL
        .iter()
        .map(|tier| (tier.as_str(), 0))
        .collect();
    for (tier, count) in &backlog.open_alerts {
        match counts.iter_mut().find(|(known, _)| known == tier) {
            Some((_, total)) => *total += count,
            // A tier this build does not know: counted, without echoing the stored value.
            None => unknown += count,
        }
    }
    if unknown > 0 {
        counts.push(("unknown", unknown));
    }
    for (tier, count) in counts {
        let _ = writeln!(out, "{name}{{tier=\"{tier}\"}} {count}");
    }
    let name = "tomoni_outbox_due";
    header(
        &mut out,
        name,
        "gauge",
        "Pending notifications due now (not yet fanned out to devices).",
    );
    let _ = writeln!(out, "{name} {}", backlog.due_notifications);
    let name = "tomoni_outbox_oldest_due_age_seconds";
    header(
        &mut out,
        name,
        "gauge",
        "Now minus the due time of the oldest pending due notification (0 when none is).",
    );
    let age = backlog
        .oldest_due_notification
        .map_or(0.0, |at| seconds_between(at, now));
    let _ = writeln!(out, "{name} {age}");
    let name = "tomoni_alerts_nobody_reachable";
    header(
        &mut out,
        name,
        "gauge",
        "Active alerts that can reach no coordinator (none has a device that works): act now.",
    );
    let _ = writeln!(out, "{name} {}", backlog.nobody_reachable_alerts);
    out
}

/// The pairing-code rate limit's series: attempts it refused since start, and the client keys it
/// remembers now (bounded; the least recent are forgotten).
pub fn render_pairing_limit(refused: u64, clients: usize) -> String {
    let mut out = String::new();
    let name = "tomoni_pairing_rate_limited_total";
    header(
        &mut out,
        name,
        "counter",
        "Pairing-code attempts refused by the per-client rate limit, since this process started.",
    );
    let _ = writeln!(out, "{name} {refused}");
    let name = "tomoni_pairing_rate_limit_clients";
    header(
        &mut out,
        name,
        "gauge",
        "Clients (IPv4 addresses, IPv6 /64s) the pairing rate limit remembers now.",
    );
    let _ = writeln!(out, "{name} {clients}");
    out
}

/// A label value, escaped as the text format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
