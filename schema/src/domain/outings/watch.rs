//! The watchdog's check-in ladder for an outing under way: when a check-in is prompted, prompted
//! again and turned into an alert; when a check-in counts and what its next deadline is.

use std::fmt;

use crate::domain::people::UnknownValue;
use chrono::{DateTime, Duration, Utc};

use super::alerts::CheckInKind;
use super::lifecycle::OutingStatus;
use crate::domain::people::stored_names;

/// The step of the check-in ladder already taken for the current deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchStep {
    /// Members were told the check-in is due.
    Prompted,
    /// Told again, halfway through the grace period.
    Reprompted,
    /// No check-in by the deadline plus grace: an alert was raised.
    Alerted,
}

stored_names!(WatchStep, "watch step", {
    Prompted => "prompted",
    Reprompted => "reprompted",
    Alerted => "alerted",
});

/// What the watchdog knows about an outing under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    pub check_in_due_at: DateTime<Utc>,
    pub grace: Duration,
    pub done: Option<WatchStep>,
    pub planned_end: DateTime<Utc>,
    pub overdue_alerted: bool,
}

/// What the watchdog does for an outing at a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchAction {
    /// Push "check-in due" to the members (again, if reminding).
    Prompt(WatchStep),
    /// Raise a missed-check-in alert.
    RaiseMissedCheckIn,
    /// Raise an overdue alert.
    RaiseOverdue,
}

impl Watch {
    /// When each ladder step falls due for the current deadline.
    pub(super) fn step_time(&self, step: WatchStep) -> DateTime<Utc> {
        match step {
            WatchStep::Prompted => self.check_in_due_at,
            WatchStep::Reprompted => self.check_in_due_at + self.grace / 2,
            WatchStep::Alerted => self.check_in_due_at + self.grace,
        }
    }

    pub(super) fn overdue_at(&self) -> DateTime<Utc> {
        self.planned_end + self.grace
    }

    /// The ladder step to take at `now`, if any. After downtime several may be due: only the
    /// furthest is taken (an alert makes earlier prompts pointless), so catching up is late but
    /// never lost, and never a burst of stale pushes.
    pub(super) fn due_step(&self, now: DateTime<Utc>) -> Option<WatchStep> {
        [
            WatchStep::Alerted,
            WatchStep::Reprompted,
            WatchStep::Prompted,
        ]
        .into_iter()
        .find(|step| self.step_time(*step) <= now)
        .filter(|step| self.done.is_none_or(|done| *step > done))
    }

    /// Everything to do at `now`, and the state afterwards.
    pub fn actions(&self, now: DateTime<Utc>) -> (Vec<WatchAction>, Watch) {
        let mut after = *self;
        let mut actions = Vec::new();
        if let Some(step) = self.due_step(now) {
            actions.push(match step {
                WatchStep::Alerted => WatchAction::RaiseMissedCheckIn,
                prompt => WatchAction::Prompt(prompt),
            });
            after.done = Some(step);
        }
        if !self.overdue_alerted && self.overdue_at() <= now {
            actions.push(WatchAction::RaiseOverdue);
            after.overdue_alerted = true;
        }
        (actions, after)
    }

    /// When the watchdog must look next (none: nothing more will fall due by itself).
    pub fn next_look(&self) -> Option<DateTime<Utc>> {
        let next_step = [
            WatchStep::Prompted,
            WatchStep::Reprompted,
            WatchStep::Alerted,
        ]
        .into_iter()
        .find(|step| self.done.is_none_or(|done| *step > done))
        .map(|step| self.step_time(step));
        let overdue = (!self.overdue_alerted).then(|| self.overdue_at());
        match (next_step, overdue) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How far a phone's clock may be off the server's: a check-in made up to this much "ahead" is
/// taken as made now, and up to this much before the (server-stamped) start as made at the start.
pub const CLOCK_DRIFT_MINUTES: i64 = 2;

/// An SOS still counts this long after its outing ended (people are often still together).
pub const SOS_AFTER_END_MINUTES: i64 = 60;

/// When a check-in counts as made, from the phone's `made_at` (none: now). `started_at` is when
/// the outing started (none: not started, which only an SOS reaches). Clocks drift both ways, so
/// a little off is pulled to now or to the start; further off is refused (`None`) — except an
/// SOS, which is never refused for its time: it is taken as now.
pub fn check_in_made_at(
    made_at: Option<DateTime<Utc>>,
    kind: CheckInKind,
    started_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let drift = Duration::minutes(CLOCK_DRIFT_MINUTES);
    let made_at = made_at.unwrap_or(now);
    let is_sos = kind == CheckInKind::Sos;
    if made_at > now {
        return (made_at - now <= drift || is_sos).then_some(now);
    }
    // Not started (an SOS on a planned outing): before the start can only mean "a while ago".
    let earliest = started_at.unwrap_or(now - Duration::minutes(SOS_AFTER_END_MINUTES));
    if made_at >= earliest {
        return Some(made_at);
    }
    if earliest - made_at <= drift {
        return Some(earliest);
    }
    is_sos.then_some(now)
}

/// Whether an SOS on an outing in `status` raises an alert: while it is under way, on the day it
/// is planned for (`planned_for_today`: its planned time touches today in the organisation's
/// zone), and up to an hour after it ended. Every other check-in needs the outing under way.
pub fn sos_counts(
    status: OutingStatus,
    planned_for_today: bool,
    ended_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    match status {
        OutingStatus::InProgress | OutingStatus::Escalated => true,
        OutingStatus::Proposed | OutingStatus::Planned => planned_for_today,
        OutingStatus::Completed | OutingStatus::Cancelled => {
            ended_at.is_some_and(|ended| now - ended <= Duration::minutes(SOS_AFTER_END_MINUTES))
        }
    }
}

/// The next deadline after a check-in made at `made_at`: the interval from then.
pub fn next_deadline(made_at: DateTime<Utc>, interval: Duration) -> DateTime<Utc> {
    made_at + interval
}

impl Watch {
    /// The ladder armed afresh: the next check-in is due `interval` after `from` (a check-in, or
    /// the resolution of an alert while the outing is still under way), nothing yet taken for it.
    pub fn rearmed(self, from: DateTime<Utc>, interval: Duration) -> Watch {
        Watch {
            check_in_due_at: next_deadline(from, interval),
            done: None,
            ..self
        }
    }
}
