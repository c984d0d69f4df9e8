//! The safety net's settings and bookkeeping: the operator's timings, how a row that does not parse
//! fails, and the watch an outing carries (its ladder step and when the watchdog looks next).

use chrono::Duration;
use sea_orm::DbErr;

use crate::domain::outings::{
    DEFAULT_ACKNOWLEDGED_REMINDER_MINUTES, DEFAULT_SOS_UNANSWERED_MINUTES, OutingStatus, Watch,
    WatchStep,
};
use crate::store::entities::outings;

/// The safety net's timings that are the operator's to set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SafetyTimings {
    /// An acknowledged alert unresolved this long reminds its owner; as long again, and it goes
    /// back to the coordinators on duty.
    pub acknowledged_reminder: Duration,
    /// An SOS nobody acknowledged this long tells its people to call the emergency numbers.
    pub sos_unanswered: Duration,
    /// After this long unconfirmed, an alert is e-mailed to a coordinator with an address; none:
    /// no e-mail fallback (no relay configured), so an address reaches nobody.
    pub email_fallback: Option<Duration>,
}

impl Default for SafetyTimings {
    fn default() -> Self {
        Self {
            acknowledged_reminder: Duration::minutes(DEFAULT_ACKNOWLEDGED_REMINDER_MINUTES),
            sos_unanswered: Duration::minutes(DEFAULT_SOS_UNANSWERED_MINUTES),
            email_fallback: None,
        }
    }
}

/// A row the watchdog could not handle is looked at again after this long (the others go on).
pub(super) const FAILED_ROW_RETRY_SECONDS: i64 = 60;

/// A stored value that does not parse: the row is bad, not the database.
#[derive(Debug)]
pub(super) struct BadRow(pub(super) String);

/// Why one row of a tick failed.
#[derive(Debug)]
pub(super) enum RowError {
    Bad(BadRow),
    Db(DbErr),
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bad(BadRow(problem)) => write!(f, "a stored value does not parse: {problem}"),
            Self::Db(err) => write!(f, "{err}"),
        }
    }
}

impl From<DbErr> for RowError {
    fn from(err: DbErr) -> Self {
        Self::Db(err)
    }
}

impl From<BadRow> for RowError {
    fn from(err: BadRow) -> Self {
        Self::Bad(err)
    }
}

pub(super) fn bad<E: std::fmt::Display>(err: E) -> BadRow {
    BadRow(err.to_string())
}

/// The outing's grace period.
pub fn grace_of(outing: &outings::Model) -> Duration {
    Duration::minutes(i64::from(outing.grace_minutes))
}

pub(super) fn interval_of(outing: &outings::Model) -> Duration {
    Duration::minutes(i64::from(outing.check_in_interval_minutes))
}

/// The watchdog's view of an outing under way (none when it is not under way).
pub fn watch_of(outing: &outings::Model) -> Option<Watch> {
    parsed_watch_of(outing).ok().flatten()
}

/// As [`watch_of`], but a status or step that does not parse is an error, never "not watched".
pub(super) fn parsed_watch_of(outing: &outings::Model) -> Result<Option<Watch>, BadRow> {
    let status = OutingStatus::parse(&outing.status).map_err(bad)?;
    if !status.is_under_way() {
        return Ok(None);
    }
    let done = outing
        .watch_step
        .as_deref()
        .map(WatchStep::parse)
        .transpose()
        .map_err(bad)?;
    // Under way without a deadline cannot happen through the API; watch it from its start.
    let check_in_due_at = outing
        .check_in_due_at
        .unwrap_or_else(|| outing.started_at.unwrap_or(outing.planned_start) + interval_of(outing));
    Ok(Some(Watch {
        check_in_due_at,
        grace: grace_of(outing),
        done,
        planned_end: outing.planned_end,
        overdue_alerted: outing.overdue_alerted,
    }))
}

/// Writes the watch back onto the outing: its step and when the watchdog must look next.
pub fn apply_watch(outing: &mut outings::Model, watch: Option<Watch>) {
    match watch {
        Some(watch) => {
            outing.check_in_due_at = Some(watch.check_in_due_at);
            outing.watch_step = watch.done.map(|step| step.as_str().to_owned());
            outing.overdue_alerted = watch.overdue_alerted;
            outing.watch_at = watch.next_look();
        }
        None => {
            outing.watch_at = None;
            outing.watch_step = None;
        }
    }
}
