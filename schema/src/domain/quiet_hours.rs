//! Quiet hours: a daily window, in the person's own time zone, when non-safety notifications wait.

use chrono::{DateTime, Duration, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;

/// A daily window `[start, end)` in local time. It may wrap midnight (22:00–07:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmptyWindow;

impl QuietHours {
    /// A window of zero length is refused: "no quiet hours" is the absence of a window.
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, EmptyWindow> {
        if start == end {
            return Err(EmptyWindow);
        }
        Ok(Self { start, end })
    }

    pub fn start(&self) -> NaiveTime {
        self.start
    }

    pub fn end(&self) -> NaiveTime {
        self.end
    }

    fn contains(&self, local: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }

    /// When a notification due at `at` may go out: `None` if `at` is outside quiet hours,
    /// otherwise the (UTC) moment the window ends in `zone`.
    pub fn deferral(&self, at: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&zone);
        if !self.contains(local.time()) {
            return None;
        }
        let mut end_date = local.date_naive();
        if local.time() >= self.end {
            end_date = end_date.succ_opt()?;
        }
        let naive_end = end_date.and_time(self.end);
        // A daylight-saving gap can swallow the end time: then the first valid minute after it.
        let end = (0..=120)
            .find_map(|minutes| {
                zone.from_local_datetime(&(naive_end + Duration::minutes(minutes)))
                    .earliest()
            })?
            .with_timezone(&Utc);
        Some(end.max(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_empty_window_is_refused() {
        assert_eq!(QuietHours::new(time(7, 0), time(7, 0)), Err(EmptyWindow));
    }

    #[test]
    fn a_window_across_midnight_defers_to_its_end_in_local_time() {
        let quiet = QuietHours::new(time(22, 0), time(7, 0)).unwrap();
        let tokyo = chrono_tz::Asia::Tokyo;
        // 23:30 in Tokyo is 14:30 UTC: waits until 07:00 Tokyo, 22:00 UTC.
        assert_eq!(
            quiet.deferral(utc("2026-11-24T14:30:00Z"), tokyo),
            Some(utc("2026-11-24T22:00:00Z"))
        );
        // 05:00 Tokyo (20:00 UTC the day before): the same morning's 07:00.
        assert_eq!(
            quiet.deferral(utc("2026-11-23T20:00:00Z"), tokyo),
            Some(utc("2026-11-23T22:00:00Z"))
        );
        // 07:00 exactly and 21:59 are outside.
        assert_eq!(quiet.deferral(utc("2026-11-24T22:00:00Z"), tokyo), None);
        assert_eq!(quiet.deferral(utc("2026-11-24T12:59:00Z"), tokyo), None);
    }

    #[test]
    fn a_daytime_window_works_too() {
        let quiet = QuietHours::new(time(12, 0), time(13, 0)).unwrap();
        let tokyo = chrono_tz::Asia::Tokyo;
        assert_eq!(
            quiet.deferral(utc("2026-11-24T03:15:00Z"), tokyo),
            Some(utc("2026-11-24T04:00:00Z"))
        );
        assert_eq!(quiet.deferral(utc("2026-11-24T04:00:00Z"), tokyo), None);
    }

    #[test]
    fn a_daylight_saving_gap_moves_the_end_to_the_first_real_minute() {
        // In New York, 2026-03-08 02:00–03:00 does not exist.
        let quiet = QuietHours::new(time(1, 0), time(2, 30)).unwrap();
        let new_york = chrono_tz::America::New_York;
        let at = utc("2026-03-08T06:30:00Z"); // 01:30 EST
        let end = quiet.deferral(at, new_york).unwrap();
        assert_eq!(end, utc("2026-03-08T07:00:00Z")); // 03:00 EDT
    }
}
