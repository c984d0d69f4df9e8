//! The clock every rule reads time from, injected so that tests can move time by hand, and local
//! wall-clock times turned into instants.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// Where "now" comes from. The server gives the system clock; tests give a [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// The instant a local wall-clock time occurs in `zone` on `day`: the earlier one when the clocks
/// go back, none when they jump over it.
pub fn at_local(
    day: chrono::NaiveDate,
    time: chrono::NaiveTime,
    zone: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    day.and_time(time)
        .and_local_timezone(zone)
        .earliest()
        .map(|local| local.with_timezone(&Utc))
}

/// A clock that only moves when told to. Shared by clones, so a test can hold one and the server another.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_is_shared_by_clones() {
        let start = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ManualClock::new(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        other.advance(Duration::minutes(15));
        assert_eq!(clock.now(), start + Duration::minutes(15));
    }
}
