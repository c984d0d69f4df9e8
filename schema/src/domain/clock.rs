//! The clock every rule reads time from, injected so that tests can move time by hand, local
//! wall-clock times turned into instants, and the bounds every date from a request must keep.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, NaiveTime, Offset as _, Utc};

/// The first day a request may name. Chrono represents years from -262143 to 262143, and date
/// arithmetic near those ends panics; the program has nothing to record before 1990.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// The first day a request may no longer name (exclusive): far enough for any plan, near enough
/// that a day, a week or a reminder added to it is still a date.
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MAX,
};

/// The longest window `(from, to)` a request may ask about; a query with a tighter limit of its
/// own (`myDay`, `dutyRota`: 31 days) keeps it.
pub const WINDOW_DAYS_MAX: i64 = 92;

/// Why a date or window from a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutOfBounds {
    #[error("must be on or after 1990-01-01 and before 2100-01-01 (UTC)")]
    Date,
    #[error("must be after from")]
    NotAfter,
    #[error("must be at most {0} days after from")]
    TooLong(i64),
}

/// The first instant a request may name, 1990-01-01T00:00:00Z.
pub fn earliest_instant() -> DateTime<Utc> {
    EARLIEST_DATE.and_time(NaiveTime::MIN).and_utc()
}

/// The first instant a request may no longer name, 2100-01-01T00:00:00Z.
pub fn latest_instant() -> DateTime<Utc> {
    LATEST_DATE.and_time(NaiveTime::MIN).and_utc()
}

/// An instant from a request, checked before any arithmetic is done with it.
pub fn bounded_instant(at: DateTime<Utc>) -> Result<DateTime<Utc>, OutOfBounds> {
    if at >= earliest_instant() && at < latest_instant() {
        Ok(at)
    } else {
        Err(OutOfBounds::Date)
    }
}

/// A calendar day from a request, checked like an instant.
pub fn bounded_date(day: NaiveDate) -> Result<NaiveDate, OutOfBounds> {
    if (EARLIEST_DATE..LATEST_DATE).contains(&day) {
        Ok(day)
    } else {
        Err(OutOfBounds::Date)
    }
}

/// A window `[from, to)` from a request: both ends bounded, `to` after `from`, at most
/// `max_days` long (itself at most [`WINDOW_DAYS_MAX`]). The ends are checked first, so the
/// length is computed only from dates that are sure to subtract.
pub fn bounded_window(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max_days: i64,
) -> Result<(DateTime<Utc>, DateTime<Utc>), WindowError> {
    bounded_instant(from).map_err(|_| WindowError::From(OutOfBounds::Date))?;
    bounded_instant(to).map_err(|_| WindowError::To(OutOfBounds::Date))?;
    if to <= from {
        return Err(WindowError::To(OutOfBounds::NotAfter));
    }
    let max_days = max_days.min(WINDOW_DAYS_MAX);
    if to.signed_duration_since(from) > Duration::days(max_days) {
        return Err(WindowError::To(OutOfBounds::TooLong(max_days)));
    }
    Ok((from, to))
}

/// Which end of a window is at fault, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowError {
    From(OutOfBounds),
    To(OutOfBounds),
}

/// Where "now" comes from. The server gives the system clock; tests give a [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// One process-wide sequence, so ids made in the same millisecond (or while a test holds the
/// clock still, or sets it back) still sort in the order they were made.
static ID_SEQUENCE: Mutex<uuid::ContextV7> = Mutex::new(uuid::ContextV7::new());

/// A new row id stamped with `now` — the caller's clock, not the system's, so a held clock holds
/// the ids too. Version 7: ids sort by creation, which the API's cursors rely on; never earlier
/// than an id already made by this process.
pub fn id_at(now: DateTime<Utc>) -> uuid::Uuid {
    let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
    let timestamp = uuid::Timestamp::from_unix(&ID_SEQUENCE, seconds, now.timestamp_subsec_nanos());
    uuid::Uuid::new_v7(timestamp)
}

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
///
/// Total over every instant chrono represents: at its very ends the day is cut short where a
/// bound would not be a date (the server's own clock never gets there; requests are bounded).
pub fn day_bounds(at: DateTime<Utc>, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let offset = at.with_timezone(&zone).offset().fix();
    let day = at
        .naive_utc()
        .checked_add_offset(offset)
        .unwrap_or(at.naive_utc())
        .date();
    let start = at_local(day, NaiveTime::MIN, zone)
        .or_else(|| at.checked_sub_signed(Duration::hours(12)))
        .unwrap_or(at);
    let end = day
        .succ_opt()
        .and_then(|next| at_local(next, NaiveTime::MIN, zone))
        .or_else(|| start.checked_add_signed(Duration::hours(24)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
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

/// The organisation's zone (stored names are checked when set; Tokyo if one ever fails to parse).
pub fn zone_of(time_zone: &str) -> chrono_tz::Tz {
    time_zone.parse().unwrap_or(chrono_tz::Asia::Tokyo)
}

/// The organisation's date today, in its own time zone.
pub fn today_in(time_zone: &str, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone_of(time_zone)).date_naive()
}

/// The week (Monday to Monday, in the organisation's zone) an instant falls in.
pub fn week_of(at: DateTime<Utc>, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = at.with_timezone(&zone).date_naive();
    let monday = local - chrono::Days::new(u64::from(local.weekday().num_days_from_monday()));
    let start = at_local(monday, NaiveTime::MIN, zone).unwrap_or(at);
    (start, start + Duration::days(7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_the_callers_clock_and_keep_their_order_when_it_stands_still() {
        // Far in the future, so no id this test process made earlier is later than these.
        let held = DateTime::parse_from_rfc3339("2200-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ids: Vec<uuid::Uuid> = (0..100).map(|_| id_at(held)).collect();
        let (seconds, _) = ids[0].get_timestamp().unwrap().to_unix();
        assert_eq!(i64::try_from(seconds).unwrap(), held.timestamp());
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        // A clock set back never makes an id that sorts before one already made.
        let earlier = id_at(held - Duration::days(1));
        assert!(earlier > ids[99]);
    }

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

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn instants_from_requests_lie_in_1990_to_2100() {
        assert!(bounded_instant(utc("1990-01-01T00:00:00Z")).is_ok());
        assert_eq!(
            bounded_instant(utc("1989-12-31T23:59:59Z")),
            Err(OutOfBounds::Date)
        );
        assert!(bounded_instant(utc("2099-12-31T23:59:59Z")).is_ok());
        assert_eq!(
            bounded_instant(utc("2100-01-01T00:00:00Z")),
            Err(OutOfBounds::Date)
        );
        assert_eq!(
            bounded_instant(DateTime::<Utc>::MIN_UTC),
            Err(OutOfBounds::Date)
        );
        assert_eq!(
            bounded_instant(DateTime::<Utc>::MAX_UTC),
            Err(OutOfBounds::Date)
        );
        assert!(bounded_date(EARLIEST_DATE).is_ok());
        assert!(bounded_date(EARLIEST_DATE.pred_opt().unwrap()).is_err());
        assert!(bounded_date(LATEST_DATE.pred_opt().unwrap()).is_ok());
        assert!(bounded_date(LATEST_DATE).is_err());
        assert!(bounded_date(NaiveDate::MIN).is_err());
        assert!(bounded_date(NaiveDate::MAX).is_err());
    }

    #[test]
    fn windows_are_bounded_at_both_ends_and_in_length() {
        let from = utc("2026-01-01T00:00:00Z");
        let days = |n| from + Duration::days(n);
        assert!(bounded_window(from, days(92), WINDOW_DAYS_MAX).is_ok());
        assert_eq!(
            bounded_window(from, days(92) + Duration::seconds(1), WINDOW_DAYS_MAX),
            Err(WindowError::To(OutOfBounds::TooLong(92)))
        );
        // A tighter limit is kept; a looser one is cut to 92 days.
        assert!(bounded_window(from, days(31), 31).is_ok());
        assert_eq!(
            bounded_window(from, days(32), 31),
            Err(WindowError::To(OutOfBounds::TooLong(31)))
        );
        assert_eq!(
            bounded_window(from, days(100), 365),
            Err(WindowError::To(OutOfBounds::TooLong(92)))
        );
        assert_eq!(
            bounded_window(from, from, 31),
            Err(WindowError::To(OutOfBounds::NotAfter))
        );
        assert_eq!(
            bounded_window(DateTime::<Utc>::MIN_UTC, from, 31),
            Err(WindowError::From(OutOfBounds::Date))
        );
        assert_eq!(
            bounded_window(from, DateTime::<Utc>::MAX_UTC, 31),
            Err(WindowError::To(OutOfBounds::Date))
        );
        assert_eq!(
            bounded_window(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 31),
            Err(WindowError::From(OutOfBounds::Date))
        );
    }

    #[test]
    fn day_bounds_is_total_at_chronos_ends() {
        for zone in [
            chrono_tz::Asia::Tokyo,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Etc::GMTPlus12,
        ] {
            for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
                let (start, end) = day_bounds(at, zone);
                assert!(start <= end, "{zone} {at}");
            }
        }
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

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Any instant chrono can represent, from -262143 to 262142, weighted towards the ends.
        fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
            let min = DateTime::<Utc>::MIN_UTC.timestamp();
            let max = DateTime::<Utc>::MAX_UTC.timestamp();
            prop_oneof![
                min..=max,
                min..=min + 86_400 * 400,
                max - 86_400 * 400..=max,
                Just(min),
                Just(max),
                earliest_instant().timestamp()..latest_instant().timestamp(),
                // Near the bounds themselves.
                earliest_instant().timestamp() - 86_400..=earliest_instant().timestamp() + 86_400,
                latest_instant().timestamp() - 86_400..=latest_instant().timestamp() + 86_400,
            ]
            .prop_map(|seconds| DateTime::from_timestamp(seconds, 0).unwrap())
        }

        fn any_zone() -> impl Strategy<Value = chrono_tz::Tz> {
            (0..chrono_tz::TZ_VARIANTS.len()).prop_map(|index| chrono_tz::TZ_VARIANTS[index])
        }

        proptest! {
            #[test]
            fn an_instant_is_accepted_exactly_inside_the_bounds(at in any_instant()) {
                let inside = at >= earliest_instant() && at < latest_instant();
                prop_assert_eq!(bounded_instant(at).is_ok(), inside);
                prop_assert_eq!(bounded_date(at.date_naive()).is_ok(), inside);
            }

            #[test]
            fn a_window_never_panics_and_holds_only_bounded_short_windows(
                from in any_instant(),
                to in any_instant(),
                max_days in prop_oneof![Just(31_i64), Just(62), Just(92), Just(i64::MAX / 86_400_000)],
            ) {
                match bounded_window(from, to, max_days) {
                    Ok((from, to)) => {
                        prop_assert!(bounded_instant(from).is_ok() && bounded_instant(to).is_ok());
                        prop_assert!(to > from);
                        prop_assert!(to - from <= Duration::days(max_days.min(WINDOW_DAYS_MAX)));
                    }
                    Err(WindowError::From(reason)) => prop_assert_eq!(reason, OutOfBounds::Date),
                    Err(WindowError::To(_)) => {}
                }
            }

            /// The rules the API hands request dates to never panic, whatever the date.
            #[test]
            fn the_rules_taking_request_dates_never_panic(
                a in any_instant(),
                b in any_instant(),
                now in earliest_instant().timestamp()..latest_instant().timestamp(),
                sos in any::<bool>(),
                started in any::<bool>(),
            ) {
                use crate::domain::outings::{CheckInKind, check_in_made_at};
                use crate::domain::rota::{check_exception, check_window};
                let now = DateTime::from_timestamp(now, 0).unwrap();
                let kind = if sos { CheckInKind::Sos } else { CheckInKind::Ok };
                let made_at = check_in_made_at(Some(a), kind, started.then_some(b), now);
                // An SOS is never refused for its time.
                prop_assert!(!sos || made_at.is_some());
                let _ = check_window(a, b);
                let _ = check_exception(a, b);
            }

            #[test]
            fn day_bounds_never_panics_and_holds_its_instant(at in any_instant(), zone in any_zone()) {
                let (start, end) = day_bounds(at, zone);
                prop_assert!(start <= end);
                if bounded_instant(at).is_ok() {
                    // (`at < end` does not always hold: where the clocks go back at midnight,
                    // the day ends at the first of the two midnights.)
                    prop_assert!(start <= at);
                    prop_assert!(end - start <= Duration::hours(25));
                }
            }
        }
    }

    #[test]
    fn a_week_runs_monday_to_monday_in_the_organisations_zone() {
        let tokyo = zone_of("Asia/Tokyo");
        // Sunday 2026-12-06 23:30 in Tokyo is still the week that began on Monday 2026-11-30.
        let sunday_night = DateTime::parse_from_rfc3339("2026-12-06T23:30:00+09:00")
            .unwrap()
            .with_timezone(&Utc);
        let (start, end) = week_of(sunday_night, tokyo);
        assert_eq!(start.to_rfc3339(), "2026-11-29T15:00:00+00:00");
        assert_eq!(end - start, Duration::days(7));
        // Half an hour later it is Monday there: the next week.
        let (next, _) = week_of(sunday_night + Duration::minutes(30), tokyo);
        assert_eq!(next, end);
        assert_eq!(
            today_in("Asia/Tokyo", sunday_night).to_string(),
            "2026-12-06"
        );
        // A zone that does not parse falls back to Tokyo rather than failing a request.
        assert_eq!(zone_of("Not/AZone"), tokyo);
    }
}
