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

/// The local day `at` falls in, in `zone`, as the instants it starts and ends (a day the clocks
/// change on is 23 or 25 hours long).
pub fn day_bounds(at: DateTime<Utc>, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = at.with_timezone(&zone).date_naive();
    let start = at_local(day, chrono::NaiveTime::MIN, zone).unwrap_or(at - Duration::hours(12));
    let end = day
        .succ_opt()
        .and_then(|next| at_local(next, chrono::NaiveTime::MIN, zone))
        .unwrap_or(start + Duration::hours(24));
    (start, end)
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
    fn a_local_day_starts_and_ends_at_local_midnight() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // 01:30 on the 25th in Tokyo.
        let (start, end) = day_bounds(at, chrono_tz::Asia::Tokyo);
        assert_eq!(start.to_rfc3339(), "2026-11-24T15:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-25T15:00:00+00:00");
        // A day the clocks go forward is 23 hours long.
        let spring = DateTime::parse_from_rfc3339("2026-03-29T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (start, end) = day_bounds(spring, chrono_tz::Europe::London);
        assert_eq!(end - start, Duration::hours(23));
    }

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
