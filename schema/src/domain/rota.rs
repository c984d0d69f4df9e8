//! The on-duty rota's rules: a weekly pattern of shifts per coordinator in the organisation's time
//! zone, dated exceptions (an extra shift, or off), who is on duty at an instant, the duty periods
//! of a window and the instants a coordinator's duty ends (for the handover of their alerts).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use uuid::Uuid;

use super::clock::at_local;
use super::people::{UnknownValue, stored_names};

/// Most shifts one coordinator's weekly pattern may have (three a day).
pub const MAX_SHIFTS_PER_PATTERN: usize = 21;

/// Longest window the rota is expanded over in one go.
pub const MAX_WINDOW_DAYS: i64 = 31;

/// Longest exception (a holiday of a few weeks is fine; a year is a mistake).
pub const MAX_EXCEPTION_DAYS: i64 = 62;

/// Why a shift or an exception was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RotaError {
    #[error("is not a time of day HH:MM")]
    BadTime,
    #[error("must differ from the start")]
    Empty,
    #[error("must be after the start")]
    EndsBeforeStart,
    #[error("is longer than allowed")]
    TooLong,
    #[error("has too many shifts")]
    TooMany,
}

/// Parses "HH:MM" (00:00 to 23:59).
pub fn parse_time(text: &str) -> Result<NaiveTime, RotaError> {
    let (hours, minutes) = text.split_once(':').ok_or(RotaError::BadTime)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(RotaError::BadTime);
    }
    let hours: u32 = hours.parse().map_err(|_| RotaError::BadTime)?;
    let minutes: u32 = minutes.parse().map_err(|_| RotaError::BadTime)?;
    NaiveTime::from_hms_opt(hours, minutes, 0).ok_or(RotaError::BadTime)
}

/// "HH:MM".
pub fn format_time(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// One shift of a weekly pattern: from `start` on `weekday` to `end` (on the next day when `end`
/// is not after `start`: a night shift), local times in the organisation's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeeklyShift {
    pub person_id: Uuid,
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl WeeklyShift {
    pub fn new(
        person_id: Uuid,
        weekday: Weekday,
        start: NaiveTime,
        end: NaiveTime,
    ) -> Result<Self, RotaError> {
        if start == end {
            return Err(RotaError::Empty);
        }
        Ok(Self {
            person_id,
            weekday,
            start,
            end,
        })
    }

    fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    /// The instants of this shift when it starts on `day` (which must be its weekday).
    fn on(&self, day: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let end_day = if self.crosses_midnight() {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        (
            instant(day, self.start, zone),
            instant(end_day, self.end, zone),
        )
    }
}

/// A weekly pattern validated as a whole: at most [`MAX_SHIFTS_PER_PATTERN`].
pub fn check_pattern(shifts: &[WeeklyShift]) -> Result<(), RotaError> {
    if shifts.len() > MAX_SHIFTS_PER_PATTERN {
        return Err(RotaError::TooMany);
    }
    Ok(())
}

/// The instant a local time occurs on `day`: the earlier one when the clocks go back; when the
/// clocks jump over it, the first minute after the jump (a shift starting at 02:30 on the night
/// the clocks skip 02:00–03:00 starts at 03:00).
pub fn instant(day: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let mut naive = day.and_time(time);
    // Gaps are at most a few hours anywhere in the tz database.
    for _ in 0..(6 * 60) {
        if let Some(at) = at_local(naive.date(), naive.time(), zone) {
            return at;
        }
        naive += Duration::minutes(1);
    }
    naive.and_utc()
}

/// What an exception does to its coordinator over its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionKind {
    /// On duty over the range, pattern or not.
    Extra,
    /// Not on duty over the range: wins over the pattern and over extra shifts.
    Off,
}

stored_names!(ExceptionKind, "duty exception kind", {
    Extra => "extra",
    Off => "off",
});

/// A dated exception: `[from, to)` (instants; the coordinator enters them as local times).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DutyException {
    pub person_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub kind: ExceptionKind,
}

/// Checks an exception's range.
pub fn check_exception(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), RotaError> {
    if to == from {
        return Err(RotaError::Empty);
    }
    if to < from {
        return Err(RotaError::EndsBeforeStart);
    }
    if to - from > Duration::days(MAX_EXCEPTION_DAYS) {
        return Err(RotaError::TooLong);
    }
    Ok(())
}

/// Checks a window the rota is expanded over.
pub fn check_window(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), RotaError> {
    if to <= from {
        return Err(RotaError::EndsBeforeStart);
    }
    if to - from > Duration::days(MAX_WINDOW_DAYS) {
        return Err(RotaError::TooLong);
    }
    Ok(())
}

/// A stretch of time one coordinator is on duty, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DutyPeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub person_id: Uuid,
}

/// An organisation's rota: everyone's weekly pattern and the exceptions near the times asked about.
#[derive(Clone, Debug)]
pub struct Rota {
    pub zone: Tz,
    pub shifts: Vec<WeeklyShift>,
    pub exceptions: Vec<DutyException>,
}

impl Rota {
    /// The pattern's shifts (before exceptions) that start on a local day between `first` and
    /// `last`, as instants.
    fn pattern_shifts(&self, first: NaiveDate, last: NaiveDate) -> Vec<DutyPeriod> {
        let mut periods = Vec::new();
        let mut day = first;
        while day <= last {
            for shift in self.shifts.iter().filter(|s| s.weekday == day.weekday()) {
                let (start, end) = shift.on(day, self.zone);
                if start < end {
                    periods.push(DutyPeriod {
                        start,
                        end,
                        person_id: shift.person_id,
                    });
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        periods
    }

    fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// The coordinators on duty at `at`, by the rota alone.
    pub fn on_duty_at(&self, at: DateTime<Utc>) -> BTreeSet<Uuid> {
        let today = self.local_day(at);
        // A night shift that started yesterday may still be running.
        let yesterday = today.pred_opt().unwrap_or(today);
        let off = |person: Uuid| {
            self.exceptions.iter().any(|e| {
                e.person_id == person && e.kind == ExceptionKind::Off && e.from <= at && at < e.to
            })
        };
        let mut on: BTreeSet<Uuid> = self
            .pattern_shifts(yesterday, today)
            .into_iter()
            .filter(|p| p.start <= at && at < p.end)
            .map(|p| p.person_id)
            .collect();
        on.extend(
            self.exceptions
                .iter()
                .filter(|e| e.kind == ExceptionKind::Extra && e.from <= at && at < e.to)
                .map(|e| e.person_id),
        );
        on.retain(|person| !off(*person));
        on
    }

    /// Who is on duty when in `[from, to)`: the pattern's shifts and the extra shifts, less the
    /// time off, merged per coordinator, clipped to the window, ordered by start then person.
    pub fn periods(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DutyPeriod> {
        if to <= from {
            return Vec::new();
        }
        let first = self
            .local_day(from)
            .pred_opt()
            .unwrap_or(self.local_day(from));
        let last = self.local_day(to);
        let mut on: BTreeMap<Uuid, Vec<Range>> = BTreeMap::new();
        for p in self.pattern_shifts(first, last) {
            on.entry(p.person_id).or_default().push((p.start, p.end));
        }
        let mut off: BTreeMap<Uuid, Vec<Range>> = BTreeMap::new();
        for e in &self.exceptions {
            let ranges = match e.kind {
                ExceptionKind::Extra => &mut on,
                ExceptionKind::Off => &mut off,
            };
            ranges.entry(e.person_id).or_default().push((e.from, e.to));
        }
        let mut periods = Vec::new();
        for (person, ranges) in on {
            let mut ranges = merge(ranges);
            if let Some(off) = off.get(&person) {
                ranges = subtract(ranges, &merge(off.clone()));
            }
            for (start, end) in ranges {
                let (start, end) = (start.max(from), end.min(to));
                if start < end {
                    periods.push(DutyPeriod {
                        start,
                        end,
                        person_id: person,
                    });
                }
            }
        }
        periods.sort();
        periods
    }

    /// Whether `person`'s duty ended at some instant in `(after, until]`: they went off duty by
    /// the rota (a shift's end, or time off starting during a shift).
    pub fn duty_ended_between(
        &self,
        person: Uuid,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> bool {
        self.shift_ends_between(after, until)
            .iter()
            .any(|(who, _)| *who == person)
    }

    /// Every instant in `(after, until]` at which a coordinator goes off duty by the rota.
    pub fn shift_ends_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<(Uuid, DateTime<Utc>)> {
        // Expand past `until` so that a period still running is not cut there (which would look
        // like an end).
        let horizon = until + Duration::days(2);
        self.periods(after - Duration::days(2), horizon)
            .into_iter()
            .filter(|p| p.end > after && p.end <= until && p.end < horizon)
            .map(|p| (p.person_id, p.end))
            .collect()
    }
}

type Range = (DateTime<Utc>, DateTime<Utc>);

/// Overlapping or touching ranges joined, ordered.
fn merge(mut ranges: Vec<Range>) -> Vec<Range> {
    ranges.sort();
    let mut merged: Vec<Range> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// `ranges` less `cuts` (both merged and ordered).
fn subtract(ranges: Vec<Range>, cuts: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    for (mut start, end) in ranges {
        for &(cut_start, cut_end) in cuts {
            if cut_end <= start || cut_start >= end {
                continue;
            }
            if cut_start > start {
                out.push((start, cut_start));
            }
            start = start.max(cut_end);
            if start >= end {
                break;
            }
        }
        if start < end {
            out.push((start, end));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{Asia::Tokyo, Europe::London};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn t(text: &str) -> NaiveTime {
        parse_time(text).unwrap()
    }

    fn person(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn shift(p: u128, weekday: Weekday, start: &str, end: &str) -> WeeklyShift {
        WeeklyShift::new(person(p), weekday, t(start), t(end)).unwrap()
    }

    fn set(people: &[u128]) -> BTreeSet<Uuid> {
        people.iter().map(|p| person(*p)).collect()
    }

    #[test]
    fn times_parse_strictly() {
        assert_eq!(
            parse_time("09:05"),
            Ok(NaiveTime::from_hms_opt(9, 5, 0).unwrap())
        );
        for bad in [
            "9:05", "24:00", "12:60", "1200", "ab:cd", "", "12:5", "-1:00",
        ] {
            assert_eq!(parse_time(bad), Err(RotaError::BadTime), "{bad}");
        }
        assert_eq!(format_time(t("07:30")), "07:30");
        assert_eq!(
            WeeklyShift::new(person(1), Weekday::Mon, t("09:00"), t("09:00")),
            Err(RotaError::Empty)
        );
    }

    #[test]
    fn a_day_shift_is_on_only_inside_it_in_local_time() {
        // Monday 09:00–17:00 in Tokyo is 00:00–08:00 UTC.
        let rota = Rota {
            zone: Tokyo,
            shifts: vec![shift(1, Weekday::Mon, "09:00", "17:00")],
            exceptions: vec![],
        };
        assert_eq!(rota.on_duty_at(at("2026-11-30T00:00:00Z")), set(&[1]));
        assert_eq!(rota.on_duty_at(at("2026-11-30T07:59:59Z")), set(&[1]));
        assert_eq!(rota.on_duty_at(at("2026-11-30T08:00:00Z")), set(&[]));
        assert_eq!(rota.on_duty_at(at("2026-11-29T23:59:59Z")), set(&[]));
        // A week later again; a Tuesday never.
        assert_eq!(rota.on_duty_at(at("2026-12-07T03:00:00Z")), set(&[1]));
        assert_eq!(rota.on_duty_at(at("2026-12-01T03:00:00Z")), set(&[]));
    }

    #[test]
    fn a_night_shift_crosses_midnight_into_the_next_day() {
        // Sunday 22:00 – Monday 06:00 Tokyo.
        let rota = Rota {
            zone: Tokyo,
            shifts: vec![shift(1, Weekday::Sun, "22:00", "06:00")],
            exceptions: vec![],
        };
        // Monday 02:00 Tokyo = Sunday 17:00 UTC.
        assert_eq!(rota.on_duty_at(at("2026-11-29T17:00:00Z")), set(&[1]));
        // Monday 05:59 Tokyo.
        assert_eq!(rota.on_duty_at(at("2026-11-29T20:59:00Z")), set(&[1]));
        assert_eq!(rota.on_duty_at(at("2026-11-29T21:00:00Z")), set(&[]));
        let ends = rota.shift_ends_between(at("2026-11-29T00:00:00Z"), at("2026-11-30T00:00:00Z"));
        assert_eq!(ends, vec![(person(1), at("2026-11-29T21:00:00Z"))]);
    }

    #[test]
    fn off_wins_over_the_pattern_and_extra_adds_a_shift() {
        let rota = Rota {
            zone: Tokyo,
            shifts: vec![
                shift(1, Weekday::Mon, "09:00", "17:00"),
                shift(2, Weekday::Mon, "09:00", "17:00"),
            ],
            exceptions: vec![
                DutyException {
                    person_id: person(1),
                    from: at("2026-11-30T02:00:00Z"),
                    to: at("2026-11-30T04:00:00Z"),
                    kind: ExceptionKind::Off,
                },
                DutyException {
                    person_id: person(3),
                    from: at("2026-11-30T03:00:00Z"),
                    to: at("2026-11-30T10:00:00Z"),
                    kind: ExceptionKind::Extra,
                },
                // Off beats an extra shift too.
                DutyException {
                    person_id: person(3),
                    from: at("2026-11-30T09:00:00Z"),
                    to: at("2026-11-30T12:00:00Z"),
                    kind: ExceptionKind::Off,
                },
            ],
        };
        assert_eq!(rota.on_duty_at(at("2026-11-30T01:00:00Z")), set(&[1, 2]));
        assert_eq!(rota.on_duty_at(at("2026-11-30T03:30:00Z")), set(&[2, 3]));
        assert_eq!(rota.on_duty_at(at("2026-11-30T08:30:00Z")), set(&[3]));
        assert_eq!(rota.on_duty_at(at("2026-11-30T09:30:00Z")), set(&[]));
        let periods = rota.periods(at("2026-11-30T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        let of = |p: u128| -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
            periods
                .iter()
                .filter(|d| d.person_id == person(p))
                .map(|d| (d.start, d.end))
                .collect()
        };
        assert_eq!(
            of(1),
            vec![
                (at("2026-11-30T00:00:00Z"), at("2026-11-30T02:00:00Z")),
                (at("2026-11-30T04:00:00Z"), at("2026-11-30T08:00:00Z")),
            ]
        );
        assert_eq!(
            of(3),
            vec![(at("2026-11-30T03:00:00Z"), at("2026-11-30T09:00:00Z"))]
        );
        // Person 1 went off duty twice that day (time off, then the shift's end).
        let ends: Vec<DateTime<Utc>> = rota
            .shift_ends_between(at("2026-11-30T00:00:00Z"), at("2026-12-01T00:00:00Z"))
            .into_iter()
            .filter(|(who, _)| *who == person(1))
            .map(|(_, end)| end)
            .collect();
        assert_eq!(
            ends,
            vec![at("2026-11-30T02:00:00Z"), at("2026-11-30T08:00:00Z")]
        );
        assert!(rota.duty_ended_between(
            person(2),
            at("2026-11-30T07:00:00Z"),
            at("2026-11-30T08:00:00Z")
        ));
        assert!(!rota.duty_ended_between(
            person(2),
            at("2026-11-30T08:00:00Z"),
            at("2026-11-30T09:00:00Z")
        ));
    }

    #[test]
    fn back_to_back_shifts_are_one_period_without_an_end_between() {
        let rota = Rota {
            zone: Tokyo,
            shifts: vec![
                shift(1, Weekday::Mon, "09:00", "17:00"),
                shift(1, Weekday::Mon, "17:00", "09:00"),
            ],
            exceptions: vec![],
        };
        let ends = rota.shift_ends_between(at("2026-11-30T00:00:00Z"), at("2026-11-30T12:00:00Z"));
        assert!(ends.is_empty(), "{ends:?}");
        assert_eq!(rota.on_duty_at(at("2026-11-30T23:00:00Z")), set(&[1]));
    }

    #[test]
    fn shifts_follow_the_local_clock_across_daylight_saving_changes() {
        // London, Sunday 29 March 2026: 01:00 GMT becomes 02:00 BST.
        let rota = Rota {
            zone: London,
            shifts: vec![
                shift(1, Weekday::Sat, "22:00", "06:00"),
                shift(2, Weekday::Sun, "01:30", "03:00"),
            ],
            exceptions: vec![],
        };
        // Saturday 22:00 GMT to Sunday 06:00 BST (05:00 UTC): 7 hours.
        let periods = rota.periods(at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z"));
        let night = periods.iter().find(|p| p.person_id == person(1)).unwrap();
        assert_eq!(
            (night.start, night.end),
            (at("2026-03-28T22:00:00Z"), at("2026-03-29T05:00:00Z"))
        );
        // 01:30 does not exist that night: the shift starts when the clocks land (02:00 BST).
        let skipped = periods.iter().find(|p| p.person_id == person(2)).unwrap();
        assert_eq!(
            (skipped.start, skipped.end),
            (at("2026-03-29T01:00:00Z"), at("2026-03-29T02:00:00Z"))
        );
        // Autumn, 25 October 2026: 01:30 happens twice; the shift takes the first.
        let rota = Rota {
            zone: London,
            shifts: vec![shift(1, Weekday::Sun, "00:00", "01:30")],
            exceptions: vec![],
        };
        let periods = rota.periods(at("2026-10-24T00:00:00Z"), at("2026-10-26T00:00:00Z"));
        assert_eq!(
            periods.iter().map(|p| (p.start, p.end)).collect::<Vec<_>>(),
            vec![(at("2026-10-24T23:00:00Z"), at("2026-10-25T00:30:00Z"))]
        );
    }

    #[test]
    fn windows_and_exceptions_are_bounded() {
        let from = at("2026-11-30T00:00:00Z");
        assert_eq!(check_window(from, from), Err(RotaError::EndsBeforeStart));
        assert_eq!(
            check_window(from, from + Duration::days(32)),
            Err(RotaError::TooLong)
        );
        assert_eq!(check_window(from, from + Duration::days(31)), Ok(()));
        assert_eq!(check_exception(from, from), Err(RotaError::Empty));
        assert_eq!(
            check_exception(from, from - Duration::hours(1)),
            Err(RotaError::EndsBeforeStart)
        );
        assert_eq!(
            check_exception(from, from + Duration::days(63)),
            Err(RotaError::TooLong)
        );
        let too_many = vec![shift(1, Weekday::Mon, "09:00", "10:00"); MAX_SHIFTS_PER_PATTERN + 1];
        assert_eq!(check_pattern(&too_many), Err(RotaError::TooMany));
        assert_eq!(check_pattern(&too_many[..MAX_SHIFTS_PER_PATTERN]), Ok(()));
    }

    /// A small deterministic generator, so the sweep is the same on every run.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % below
        }
    }

    #[test]
    fn sweep_on_duty_at_periods_and_ends_agree_over_many_instants_and_rotas() {
        const WEEKDAYS: [Weekday; 7] = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let mut rng = Lcg(7);
        // Around London's spring change, and an ordinary Tokyo fortnight.
        for (zone, base) in [
            (London, at("2026-03-23T00:00:00Z")),
            (London, at("2026-10-19T00:00:00Z")),
            (Tokyo, at("2026-11-23T00:00:00Z")),
        ] {
            for _ in 0..20 {
                let mut shifts = Vec::new();
                for p in 1..=3u128 {
                    for _ in 0..rng.next(6) {
                        let start = NaiveTime::from_hms_opt(
                            rng.next(24) as u32,
                            (rng.next(4) * 15) as u32,
                            0,
                        )
                        .unwrap();
                        let end = NaiveTime::from_hms_opt(
                            rng.next(24) as u32,
                            (rng.next(4) * 15) as u32,
                            0,
                        )
                        .unwrap();
                        if let Ok(shift) =
                            WeeklyShift::new(person(p), WEEKDAYS[rng.next(7) as usize], start, end)
                        {
                            shifts.push(shift);
                        }
                    }
                }
                let mut exceptions = Vec::new();
                for _ in 0..rng.next(5) {
                    let from = base + Duration::minutes(rng.next(14 * 24 * 4) as i64 * 15);
                    exceptions.push(DutyException {
                        person_id: person(1 + u128::from(rng.next(3) as u8)),
                        from,
                        to: from + Duration::minutes(15 * (1 + rng.next(48) as i64)),
                        kind: if rng.next(2) == 0 {
                            ExceptionKind::Off
                        } else {
                            ExceptionKind::Extra
                        },
                    });
                }
                let rota = Rota {
                    zone,
                    shifts,
                    exceptions,
                };
                let (from, to) = (base, base + Duration::days(14));
                let periods = rota.periods(from, to);
                let ends = rota.shift_ends_between(from, to);
                let mut previous = rota.on_duty_at(from - Duration::minutes(15));
                let mut at_step = from;
                while at_step < to {
                    let on = rota.on_duty_at(at_step);
                    let by_periods: BTreeSet<Uuid> = periods
                        .iter()
                        .filter(|p| p.start <= at_step && at_step < p.end)
                        .map(|p| p.person_id)
                        .collect();
                    assert_eq!(on, by_periods, "{zone} {at_step}");
                    // Whoever left duty at this step has an end recorded in the last 15 minutes.
                    for left in previous.difference(&on) {
                        assert!(
                            ends.iter().any(|(who, end)| who == left
                                && *end > at_step - Duration::minutes(15)
                                && *end <= at_step)
                                || at_step == from,
                            "{zone} {at_step} {left}"
                        );
                    }
                    previous = on;
                    at_step += Duration::minutes(15);
                }
                // Every end is an instant somebody goes off duty.
                for (who, end) in &ends {
                    assert!(!rota.on_duty_at(*end).contains(who), "{zone} {end}");
                    assert!(
                        rota.on_duty_at(*end - Duration::seconds(1)).contains(who),
                        "{zone} {end}"
                    );
                }
            }
        }
    }
}
