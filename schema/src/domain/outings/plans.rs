//! The limits of what may be planned: bounded dates, times in order and not too long, coordinates
//! in range.

use chrono::{DateTime, Duration, Utc};

/// Limits of what may be planned.
pub mod bounds {
    use std::ops::RangeInclusive;
    pub const CHECK_IN_INTERVAL_MINUTES: RangeInclusive<i32> = 5..=120;
    pub const DEFAULT_CHECK_IN_INTERVAL_MINUTES: i32 = 30;
    pub const GRACE_MINUTES: RangeInclusive<i32> = 2..=60;
    pub const DEFAULT_GRACE_MINUTES: i32 = 10;
    /// An outing lasts at most this long as planned (extensions may add to it).
    pub const PLANNED_HOURS_MAX: i64 = 12;
    /// One extension moves the end by at most this much; at most `EXTENSIONS_MAX` of them.
    pub const EXTENSION_MINUTES_MAX: i64 = 180;
    pub const EXTENSIONS_MAX: i32 = 4;

    /// The longest an outing can last from planned start to (extended) planned end; a window
    /// query looks this far back for outings that started earlier and still overlap it.
    pub fn longest_outing() -> chrono::Duration {
        chrono::Duration::hours(PLANNED_HOURS_MAX)
            + chrono::Duration::minutes(EXTENSION_MINUTES_MAX * i64::from(EXTENSIONS_MAX))
    }
    /// Reminders before an outing, by default.
    pub const DEFAULT_REMINDER_MINUTES: [u32; 2] = [24 * 60, 60];
    /// Reminder offsets an organisation may choose: up to 3, each at most 7 days before.
    pub const REMINDERS_MAX: usize = 3;
    pub const REMINDER_MINUTES_MAX: u32 = 7 * 24 * 60;
    /// Most trainees on one outing (`traineeSupporterIds`).
    pub const TRAINEES_MAX: usize = 5;
    /// Most alerts acknowledged together (`alertIds`).
    pub const ACKNOWLEDGED_ALERTS_MAX: usize = 20;
    /// Longest window `myDay` looks at (tighter than the 92 days any window may span).
    pub const MY_DAY_WINDOW_DAYS: i64 = 31;
}

/// A plan's value refused: the input field at fault and a reason safe to show (it never echoes
/// what was sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidPlan {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidPlan {
    pub(super) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// A setting of the plan (minutes between check-ins, a grace period) inside its bounds.
pub fn check_in_bounds(
    value: i32,
    range: std::ops::RangeInclusive<i32>,
    field: &'static str,
) -> Result<i32, InvalidPlan> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(InvalidPlan::new(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        ))
    }
}

/// How far in the past a planned start may be (a form filled in slowly, a phone's clock).
pub const PLANNED_START_SLACK_MINUTES: i64 = 5;

/// A plan's times: both inside the dates the program handles (checked before any arithmetic),
/// the start not in the past, the end after it, at most `PLANNED_HOURS_MAX` hours long.
pub fn check_planned_times(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), InvalidPlan> {
    for (field, at) in [("plannedStart", start), ("plannedEnd", end)] {
        crate::domain::clock::bounded_instant(at)
            .map_err(|reason| InvalidPlan::new(field, reason.to_string()))?;
    }
    if start < now - Duration::minutes(PLANNED_START_SLACK_MINUTES) {
        return Err(InvalidPlan::new("plannedStart", "must not be in the past"));
    }
    if end <= start {
        return Err(InvalidPlan::new(
            "plannedEnd",
            "must be after the planned start",
        ));
    }
    if end - start > Duration::hours(bounds::PLANNED_HOURS_MAX) {
        return Err(InvalidPlan::new(
            "plannedEnd",
            format!(
                "an outing is planned for at most {} hours",
                bounds::PLANNED_HOURS_MAX
            ),
        ));
    }
    Ok(())
}

/// A location: none, or a latitude and a longitude together, each in its range.
pub fn check_coordinates(latitude: Option<f64>, longitude: Option<f64>) -> Result<(), InvalidPlan> {
    match (latitude, longitude) {
        (None, None) => Ok(()),
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Ok(())
        }
        (Some(_), Some(_)) => Err(InvalidPlan::new(
            "latitude",
            "must be a latitude (-90 to 90) and longitude (-180 to 180)",
        )),
        _ => Err(InvalidPlan::new(
            "longitude",
            "latitude and longitude come together",
        )),
    }
}
