//! Outing rules: purposes, the lifecycle as one state machine (who may take which step), check-in
//! kinds, the limits of what is planned, and the safety watchdog's ladder — when a check-in is
//! prompted, prompted again, and turned into an alert, and how an alert climbs from the
//! coordinators on duty to every coordinator until someone acknowledges it.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use super::people::{UnknownValue, stored_names};

/// What the outing is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    Shopping,
    CityOffice,
    TransportPractice,
    ClinicVisit,
    CommunityEvent,
    WorkTrial,
    Other,
}

stored_names!(Purpose, "outing purpose", {
    Shopping => "shopping",
    CityOffice => "city_office",
    TransportPractice => "transport_practice",
    ClinicVisit => "clinic_visit",
    CommunityEvent => "community_event",
    WorkTrial => "work_trial",
    Other => "other",
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutingStatus {
    /// Proposed by a supporter; a coordinator approves it.
    Proposed,
    Planned,
    InProgress,
    /// A safety alert is open and no check-in has come since.
    Escalated,
    Completed,
    Cancelled,
}

stored_names!(OutingStatus, "outing status", {
    Proposed => "proposed",
    Planned => "planned",
    InProgress => "in_progress",
    Escalated => "escalated",
    Completed => "completed",
    Cancelled => "cancelled",
});

impl OutingStatus {
    /// Under way: the watchdog looks after it.
    pub fn is_under_way(self) -> bool {
        matches!(self, Self::InProgress | Self::Escalated)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutingAction {
    Approve,
    Start,
    Complete,
    Cancel,
    /// The watchdog or an urgent check-in raised an alert.
    Escalate,
    /// A check-in arrived while escalated.
    Recover,
    /// Move the planned end later.
    Extend,
    CheckIn,
}

stored_names!(OutingAction, "outing action", {
    Approve => "approve",
    Start => "start",
    Complete => "complete",
    Cancel => "cancel",
    Escalate => "escalate",
    Recover => "recover",
    Extend => "extend",
    CheckIn => "check_in",
});

impl OutingAction {
    pub const ALL_ACTIONS: [OutingAction; 8] = [
        Self::Approve,
        Self::Start,
        Self::Complete,
        Self::Cancel,
        Self::Escalate,
        Self::Recover,
        Self::Extend,
        Self::CheckIn,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: OutingStatus,
    pub action: OutingAction,
}

/// The lifecycle: proposed → planned (approved) or cancelled; planned → in progress (started) or
/// cancelled; in progress ⇄ escalated; in progress or escalated → completed. Check-ins and
/// extensions keep an outing under way where it is (a check-in while escalated recovers it).
pub fn transition(
    from: OutingStatus,
    action: OutingAction,
) -> Result<OutingStatus, InvalidTransition> {
    use OutingAction as A;
    use OutingStatus as S;
    match (from, action) {
        (S::Proposed, A::Approve) => Ok(S::Planned),
        (S::Proposed | S::Planned, A::Cancel) => Ok(S::Cancelled),
        (S::Planned, A::Start) => Ok(S::InProgress),
        (S::InProgress | S::Escalated, A::Complete) => Ok(S::Completed),
        (S::InProgress | S::Escalated, A::Escalate) => Ok(S::Escalated),
        (S::Escalated, A::Recover) => Ok(S::InProgress),
        (S::InProgress | S::Escalated, A::Extend | A::CheckIn) => Ok(from),
        _ => Err(InvalidTransition { from, action }),
    }
}

/// How the actor relates to the outing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutingActor {
    pub is_coordinator: bool,
    /// The lead supporter or a trainee supporter of the outing.
    pub is_supporter_of_outing: bool,
    /// Anyone on the outing: participant, supporters, staff companion.
    pub is_member: bool,
}

/// Who may take a step: coordinators approve and cancel; a supporter of the outing starts, extends
/// and ends it (and may cancel one not yet started); any member checks in. Escalating and
/// recovering are the watchdog's and the check-ins'.
pub fn may_act(actor: OutingActor, action: OutingAction) -> bool {
    match action {
        OutingAction::Approve => actor.is_coordinator,
        OutingAction::Cancel => actor.is_coordinator || actor.is_supporter_of_outing,
        OutingAction::Start | OutingAction::Extend | OutingAction::Complete => {
            actor.is_supporter_of_outing
        }
        OutingAction::CheckIn => actor.is_member,
        OutingAction::Escalate | OutingAction::Recover => false,
    }
}

/// A check-in: how it is going.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckInKind {
    Ok,
    NeedHelp,
    /// The participant and the supporter have lost each other.
    Separated,
    Sos,
}

stored_names!(CheckInKind, "check-in kind", {
    Ok => "ok",
    NeedHelp => "need_help",
    Separated => "separated",
    Sos => "sos",
});

/// Why an alert was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertReason {
    MissedCheckIn,
    NeedHelp,
    Separated,
    Sos,
    /// Still under way at the planned end plus the grace period.
    Overdue,
}

stored_names!(AlertReason, "alert reason", {
    MissedCheckIn => "missed_check_in",
    NeedHelp => "need_help",
    Separated => "separated",
    Sos => "sos",
    Overdue => "overdue",
});

impl CheckInKind {
    /// The alert a check-in raises at once, if any, and the tier it starts at.
    pub fn raises(self) -> Option<(AlertReason, AlertTier)> {
        match self {
            Self::Ok => None,
            Self::NeedHelp => Some((AlertReason::NeedHelp, AlertTier::OnDuty)),
            Self::Separated => Some((AlertReason::Separated, AlertTier::OnDuty)),
            Self::Sos => Some((AlertReason::Sos, AlertTier::Everyone)),
        }
    }
}

/// Who an alert reaches: the coordinators on duty (everyone if nobody is), then every coordinator;
/// exhausted: every coordinator again each grace period until someone acknowledges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertTier {
    OnDuty,
    Everyone,
    Exhausted,
}

stored_names!(AlertTier, "alert tier", {
    OnDuty => "on_duty",
    Everyone => "everyone",
    Exhausted => "exhausted",
});

impl AlertTier {
    /// The tier after this one, once a grace period has passed without acknowledgement.
    pub fn next(self) -> Self {
        match self {
            Self::OnDuty => Self::Everyone,
            Self::Everyone | Self::Exhausted => Self::Exhausted,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

stored_names!(AlertStatus, "alert status", {
    Open => "open",
    Acknowledged => "acknowledged",
    Resolved => "resolved",
});

/// How an alert ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    FalseAlarm,
    ReachedByPhone,
    MetInPerson,
    EmergencyServicesCalled,
    Other,
}

stored_names!(Resolution, "alert resolution", {
    FalseAlarm => "false_alarm",
    ReachedByPhone => "reached_by_phone",
    MetInPerson => "met_in_person",
    EmergencyServicesCalled => "emergency_services_called",
    Other => "other",
});

impl Resolution {
    /// A real incident: the supporters are flagged for a supervision follow-up.
    pub fn was_real_incident(self) -> bool {
        matches!(self, Self::EmergencyServicesCalled | Self::MetInPerson)
    }
}

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
}

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
    fn step_time(&self, step: WatchStep) -> DateTime<Utc> {
        match step {
            WatchStep::Prompted => self.check_in_due_at,
            WatchStep::Reprompted => self.check_in_due_at + self.grace / 2,
            WatchStep::Alerted => self.check_in_due_at + self.grace,
        }
    }

    fn overdue_at(&self) -> DateTime<Utc> {
        self.planned_end + self.grace
    }

    /// The ladder step to take at `now`, if any. After downtime several may be due: only the
    /// furthest is taken (an alert makes earlier prompts pointless), so catching up is late but
    /// never lost, and never a burst of stale pushes.
    fn due_step(&self, now: DateTime<Utc>) -> Option<WatchStep> {
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

/// An accepted offline check-in: not in the future, not before the outing started.
pub fn check_in_time_ok(
    made_at: DateTime<Utc>,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    made_at <= now && made_at >= started_at
}

/// The next deadline after a check-in made at `made_at`: the interval from then.
pub fn next_deadline(made_at: DateTime<Utc>, interval: Duration) -> DateTime<Utc> {
    made_at + interval
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_action_pair_is_decided() {
        use OutingAction as A;
        use OutingStatus as S;
        let allowed = [
            (S::Proposed, A::Approve, S::Planned),
            (S::Proposed, A::Cancel, S::Cancelled),
            (S::Planned, A::Cancel, S::Cancelled),
            (S::Planned, A::Start, S::InProgress),
            (S::InProgress, A::Complete, S::Completed),
            (S::Escalated, A::Complete, S::Completed),
            (S::InProgress, A::Escalate, S::Escalated),
            (S::Escalated, A::Escalate, S::Escalated),
            (S::Escalated, A::Recover, S::InProgress),
            (S::InProgress, A::Extend, S::InProgress),
            (S::Escalated, A::Extend, S::Escalated),
            (S::InProgress, A::CheckIn, S::InProgress),
            (S::Escalated, A::CheckIn, S::Escalated),
        ];
        for from in OutingStatus::ALL {
            for action in OutingAction::ALL_ACTIONS {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(transition(*from, action), Ok(to), "{from} + {action}"),
                    None => assert!(transition(*from, action).is_err(), "{from} + {action}"),
                }
            }
        }
    }

    #[test]
    fn who_may_take_which_step() {
        let coordinator = OutingActor {
            is_coordinator: true,
            is_supporter_of_outing: false,
            is_member: false,
        };
        let supporter = OutingActor {
            is_coordinator: false,
            is_supporter_of_outing: true,
            is_member: true,
        };
        let participant = OutingActor {
            is_coordinator: false,
            is_supporter_of_outing: false,
            is_member: true,
        };
        let stranger = OutingActor {
            is_coordinator: false,
            is_supporter_of_outing: false,
            is_member: false,
        };
        use OutingAction as A;
        for action in A::ALL_ACTIONS {
            assert!(!may_act(stranger, action), "{action}");
        }
        assert!(may_act(coordinator, A::Approve) && !may_act(supporter, A::Approve));
        assert!(may_act(supporter, A::Start) && !may_act(coordinator, A::Start));
        assert!(!may_act(participant, A::Start) && !may_act(participant, A::Complete));
        assert!(may_act(participant, A::CheckIn) && may_act(supporter, A::CheckIn));
        assert!(may_act(supporter, A::Extend) && !may_act(participant, A::Extend));
        assert!(!may_act(coordinator, A::Escalate) && !may_act(supporter, A::Recover));
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    fn watch() -> Watch {
        Watch {
            check_in_due_at: at(30),
            grace: Duration::minutes(10),
            done: None,
            planned_end: at(120),
            overdue_alerted: false,
        }
    }

    #[test]
    fn the_ladder_prompts_reminds_then_alerts() {
        let w = watch();
        assert_eq!(w.next_look(), Some(at(30)));
        assert_eq!(w.actions(at(29)).0, vec![]);
        let (actions, w) = w.actions(at(30));
        assert_eq!(actions, vec![WatchAction::Prompt(WatchStep::Prompted)]);
        assert_eq!(w.next_look(), Some(at(35)));
        assert_eq!(w.actions(at(34)).0, vec![]);
        let (actions, w) = w.actions(at(35));
        assert_eq!(actions, vec![WatchAction::Prompt(WatchStep::Reprompted)]);
        assert_eq!(w.next_look(), Some(at(40)));
        let (actions, w) = w.actions(at(40));
        assert_eq!(actions, vec![WatchAction::RaiseMissedCheckIn]);
        // After the alert only the overdue deadline remains.
        assert_eq!(w.next_look(), Some(at(130)));
        let (actions, w) = w.actions(at(130));
        assert_eq!(actions, vec![WatchAction::RaiseOverdue]);
        assert_eq!(w.next_look(), None);
        assert_eq!(w.actions(at(500)).0, vec![]);
    }

    #[test]
    fn after_downtime_only_the_furthest_step_is_taken() {
        let (actions, w) = watch().actions(at(45));
        assert_eq!(actions, vec![WatchAction::RaiseMissedCheckIn]);
        assert_eq!(w.done, Some(WatchStep::Alerted));
        let (actions, _) = watch().actions(at(200));
        assert_eq!(
            actions,
            vec![WatchAction::RaiseMissedCheckIn, WatchAction::RaiseOverdue]
        );
    }

    #[test]
    fn urgent_check_ins_raise_alerts_at_their_tier() {
        assert_eq!(CheckInKind::Ok.raises(), None);
        assert_eq!(
            CheckInKind::NeedHelp.raises(),
            Some((AlertReason::NeedHelp, AlertTier::OnDuty))
        );
        assert_eq!(
            CheckInKind::Separated.raises(),
            Some((AlertReason::Separated, AlertTier::OnDuty))
        );
        assert_eq!(
            CheckInKind::Sos.raises(),
            Some((AlertReason::Sos, AlertTier::Everyone))
        );
        assert_eq!(AlertTier::OnDuty.next(), AlertTier::Everyone);
        assert_eq!(AlertTier::Everyone.next(), AlertTier::Exhausted);
        assert_eq!(AlertTier::Exhausted.next(), AlertTier::Exhausted);
    }

    #[test]
    fn offline_check_ins_are_accepted_between_the_start_and_now() {
        assert!(check_in_time_ok(at(10), at(0), at(20)));
        assert!(check_in_time_ok(at(0), at(0), at(20)));
        assert!(!check_in_time_ok(at(21), at(0), at(20)), "future");
        assert!(!check_in_time_ok(at(-1), at(0), at(20)), "before the start");
        assert_eq!(next_deadline(at(10), Duration::minutes(30)), at(40));
    }

    #[test]
    fn stored_names_round_trip() {
        for purpose in Purpose::ALL {
            assert_eq!(Purpose::parse(purpose.as_str()), Ok(*purpose));
        }
        for status in OutingStatus::ALL {
            assert_eq!(OutingStatus::parse(status.as_str()), Ok(*status));
        }
        assert!(Resolution::EmergencyServicesCalled.was_real_incident());
        assert!(!Resolution::FalseAlarm.was_real_incident());
    }
}
