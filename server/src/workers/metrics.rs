//! Counters of push outcomes, exposed at `/metrics` in the Prometheus text format. Per process:
//! with several servers, scrape each.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

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
