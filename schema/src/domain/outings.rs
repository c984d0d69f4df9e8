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

impl AlertReason {
    /// How urgent the reason is: an alert joined by a more urgent check-in takes its reason.
    fn urgency(self) -> u8 {
        match self {
            Self::MissedCheckIn | Self::Overdue => 0,
            Self::NeedHelp => 1,
            Self::Separated => 2,
            Self::Sos => 3,
        }
    }

    /// The more urgent of the two (the alert's own on a tie).
    pub fn most_urgent(self, other: Self) -> Self {
        if other.urgency() > self.urgency() {
            other
        } else {
            self
        }
    }

    /// A late "OK" from a member answers only a missed check-in: it says nothing about help asked
    /// for, a separation or an SOS, nor about an outing that overran its end.
    pub fn answered_by_ok(self) -> bool {
        self == Self::MissedCheckIn
    }
}

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

impl AlertStatus {
    /// Not resolved: someone must still act on it.
    pub fn is_active(self) -> bool {
        self != Self::Resolved
    }
}

/// Repeat pushes of one alert to the people it already reached come at most this often (a
/// panicking thumb on SOS must not page everyone ten times); people it newly reaches are told at once.
pub const ALERT_REPEAT_PUSH_MINUTES: i64 = 1;

/// An acknowledged alert left unresolved this long reminds its owner, and after as long again goes
/// back to the coordinators on duty, by default (`safety.acknowledged_reminder_minutes`).
pub const DEFAULT_ACKNOWLEDGED_REMINDER_MINUTES: i64 = 15;

/// An SOS that no coordinator has acknowledged this long tells the people on the outing to call
/// the emergency numbers themselves, by default (`safety.sos_unanswered_minutes`): the app must
/// never leave them waiting.
pub const DEFAULT_SOS_UNANSWERED_MINUTES: i64 = 3;

/// Japan's emergency numbers, which the app shows when an SOS goes unanswered.
pub const EMERGENCY_NUMBERS: [(&str, &str, &str); 2] = [
    ("119", "救急・消防", "Ambulance and fire"),
    ("110", "警察", "Police"),
];

/// Whether the emergency numbers must be shown for an alert: an SOS (raised or joined) still
/// open — nobody acknowledged it — once its time has come.
pub fn advise_emergency_numbers(reason: AlertReason, status: AlertStatus) -> bool {
    reason == AlertReason::Sos && status == AlertStatus::Open
}

/// What the watchdog knows of an active alert whose `escalate_at` has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertWatch {
    pub status: AlertStatus,
    pub tier: AlertTier,
    /// Its owner was already reminded (acknowledged alerts only).
    pub owner_reminded: bool,
    /// A late "OK" answered it: it no longer pages anyone.
    pub answered_late: bool,
}

/// The alert's next step on the ladder, when its time has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStep {
    /// Unacknowledged: up to the next tier (exhausted: every coordinator again).
    Climb(AlertTier),
    /// Acknowledged and unresolved for a period: its owner is reminded.
    RemindOwner,
    /// Still unresolved a period after the reminder: the owner may have lost contact, so it is
    /// open again at the coordinators on duty.
    BackToOnDuty,
}

impl AlertWatch {
    /// The step due now, if any (a resolved or answered alert has none).
    pub fn step(&self) -> Option<AlertStep> {
        if self.answered_late {
            return None;
        }
        match self.status {
            AlertStatus::Open => Some(AlertStep::Climb(self.tier.next())),
            AlertStatus::Acknowledged if self.owner_reminded => Some(AlertStep::BackToOnDuty),
            AlertStatus::Acknowledged => Some(AlertStep::RemindOwner),
            AlertStatus::Resolved => None,
        }
    }

    /// How long until the watchdog looks at the alert again after `step`.
    pub fn next_look_after(
        step: AlertStep,
        grace: Duration,
        acknowledged_reminder: Duration,
    ) -> Duration {
        match step {
            AlertStep::Climb(_) | AlertStep::BackToOnDuty => grace,
            AlertStep::RemindOwner => acknowledged_reminder,
        }
    }
}

/// An urgent check-in joining an active alert of its outing: the alert takes the more urgent
/// reason, and an SOS lifts it to at least its own tier (never lowers one that climbed higher).
pub fn joined(reason: AlertReason, tier: AlertTier, kind: CheckInKind) -> (AlertReason, AlertTier) {
    match kind.raises() {
        Some((raised, raised_tier)) => (reason.most_urgent(raised), tier.max(raised_tier)),
        None => (reason, tier),
    }
}

/// The outing's status once its alerts are settled: under way, it is escalated while any alert
/// still pages (active and not answered by a late "OK"), in progress otherwise.
pub fn status_with_alerts(status: OutingStatus, any_paging_alert: bool) -> OutingStatus {
    match status {
        OutingStatus::InProgress | OutingStatus::Escalated if any_paging_alert => {
            OutingStatus::Escalated
        }
        OutingStatus::InProgress | OutingStatus::Escalated => OutingStatus::InProgress,
        other => other,
    }
}

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
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
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
        super::clock::bounded_instant(at)
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
    fn check_in_times_allow_for_clocks_that_drift_both_ways() {
        let start = Some(at(0));
        let now = at(20);
        let ok = CheckInKind::Ok;
        let sos = CheckInKind::Sos;
        assert_eq!(check_in_made_at(None, ok, start, now), Some(now));
        assert_eq!(check_in_made_at(Some(at(10)), ok, start, now), Some(at(10)));
        assert_eq!(check_in_made_at(Some(at(0)), ok, start, now), Some(at(0)));
        // A phone up to two minutes ahead: taken as now; further ahead: refused.
        assert_eq!(check_in_made_at(Some(at(22)), ok, start, now), Some(now));
        assert_eq!(check_in_made_at(Some(at(23)), ok, start, now), None);
        // Up to two minutes before the start: taken as the start; further: refused.
        assert_eq!(check_in_made_at(Some(at(-2)), ok, start, now), Some(at(0)));
        assert_eq!(check_in_made_at(Some(at(-3)), ok, start, now), None);
        // An SOS is never refused for its time: far off is taken as now.
        assert_eq!(check_in_made_at(Some(at(600)), sos, start, now), Some(now));
        assert_eq!(check_in_made_at(Some(at(-600)), sos, start, now), Some(now));
        assert_eq!(check_in_made_at(Some(at(5)), sos, start, now), Some(at(5)));
        // An SOS on an outing not started: its time if within the last hour, else now.
        assert_eq!(
            check_in_made_at(Some(at(-30)), sos, None, now),
            Some(at(-30))
        );
        assert_eq!(check_in_made_at(Some(at(-300)), sos, None, now), Some(now));
    }

    #[test]
    fn accepted_check_in_times_lie_between_the_start_and_now_for_any_input() {
        // Every phone time from ten hours before to ten hours after, minute by minute.
        let start = at(0);
        let now = at(90);
        for kind in CheckInKind::ALL {
            for offset in -600..=700 {
                let made = at(offset);
                match check_in_made_at(Some(made), *kind, Some(start), now) {
                    Some(taken) => {
                        assert!(taken >= start && taken <= now, "{kind} {offset}: {taken}");
                        let off_by = (taken - made).num_minutes().abs();
                        assert!(
                            off_by <= CLOCK_DRIFT_MINUTES || *kind == CheckInKind::Sos,
                            "{kind} {offset}"
                        );
                    }
                    None => {
                        assert_ne!(*kind, CheckInKind::Sos, "an SOS is never refused");
                        assert!(
                            made > now + Duration::minutes(CLOCK_DRIFT_MINUTES)
                                || made < start - Duration::minutes(CLOCK_DRIFT_MINUTES),
                            "{offset}"
                        );
                    }
                }
            }
        }
        assert_eq!(next_deadline(at(10), Duration::minutes(30)), at(40));
    }

    #[test]
    fn an_sos_counts_on_the_day_while_under_way_and_for_an_hour_after() {
        use OutingStatus as S;
        let now = at(0);
        assert!(sos_counts(S::InProgress, false, None, now));
        assert!(sos_counts(S::Escalated, false, None, now));
        assert!(sos_counts(S::Planned, true, None, now));
        assert!(sos_counts(S::Proposed, true, None, now));
        assert!(!sos_counts(S::Planned, false, None, now));
        assert!(sos_counts(S::Completed, false, Some(at(-60)), now));
        assert!(!sos_counts(S::Completed, false, Some(at(-61)), now));
        assert!(sos_counts(S::Cancelled, true, Some(at(-5)), now));
        assert!(!sos_counts(S::Completed, true, None, now));
    }

    #[test]
    fn joining_keeps_the_most_urgent_reason_and_the_highest_tier() {
        use AlertReason as R;
        use AlertTier as T;
        assert_eq!(
            joined(R::MissedCheckIn, T::OnDuty, CheckInKind::NeedHelp),
            (R::NeedHelp, T::OnDuty)
        );
        assert_eq!(
            joined(R::NeedHelp, T::OnDuty, CheckInKind::Sos),
            (R::Sos, T::Everyone)
        );
        assert_eq!(
            joined(R::Sos, T::Exhausted, CheckInKind::NeedHelp),
            (R::Sos, T::Exhausted)
        );
        assert_eq!(
            joined(R::Separated, T::Everyone, CheckInKind::NeedHelp),
            (R::Separated, T::Everyone)
        );
        assert_eq!(
            joined(R::NeedHelp, T::OnDuty, CheckInKind::Ok),
            (R::NeedHelp, T::OnDuty)
        );
        assert!(R::MissedCheckIn.answered_by_ok());
        for reason in [R::NeedHelp, R::Separated, R::Sos, R::Overdue] {
            assert!(!reason.answered_by_ok(), "{reason}");
        }
    }

    #[test]
    fn an_alert_climbs_and_an_owned_one_reminds_then_goes_back_on_duty() {
        let open = AlertWatch {
            status: AlertStatus::Open,
            tier: AlertTier::OnDuty,
            owner_reminded: false,
            answered_late: false,
        };
        assert_eq!(open.step(), Some(AlertStep::Climb(AlertTier::Everyone)));
        let owned = AlertWatch {
            status: AlertStatus::Acknowledged,
            ..open
        };
        assert_eq!(owned.step(), Some(AlertStep::RemindOwner));
        let reminded = AlertWatch {
            owner_reminded: true,
            ..owned
        };
        assert_eq!(reminded.step(), Some(AlertStep::BackToOnDuty));
        let answered = AlertWatch {
            answered_late: true,
            ..open
        };
        assert_eq!(answered.step(), None);
        let resolved = AlertWatch {
            status: AlertStatus::Resolved,
            ..open
        };
        assert_eq!(resolved.step(), None);
        let (grace, reminder) = (Duration::minutes(10), Duration::minutes(15));
        assert_eq!(
            AlertWatch::next_look_after(AlertStep::RemindOwner, grace, reminder),
            reminder
        );
        assert_eq!(
            AlertWatch::next_look_after(AlertStep::BackToOnDuty, grace, reminder),
            grace
        );
    }

    #[test]
    fn only_an_open_sos_sends_people_to_the_emergency_numbers() {
        assert!(advise_emergency_numbers(
            AlertReason::Sos,
            AlertStatus::Open
        ));
        assert!(!advise_emergency_numbers(
            AlertReason::Sos,
            AlertStatus::Acknowledged
        ));
        assert!(!advise_emergency_numbers(
            AlertReason::Sos,
            AlertStatus::Resolved
        ));
        assert!(!advise_emergency_numbers(
            AlertReason::NeedHelp,
            AlertStatus::Open
        ));
        assert!(
            EMERGENCY_NUMBERS
                .iter()
                .any(|(number, ..)| *number == "119")
        );
        assert!(
            EMERGENCY_NUMBERS
                .iter()
                .any(|(number, ..)| *number == "110")
        );
    }

    #[test]
    fn an_outing_is_escalated_exactly_while_an_alert_pages() {
        use OutingStatus as S;
        assert_eq!(status_with_alerts(S::InProgress, true), S::Escalated);
        assert_eq!(status_with_alerts(S::Escalated, false), S::InProgress);
        assert_eq!(status_with_alerts(S::Escalated, true), S::Escalated);
        assert_eq!(status_with_alerts(S::Completed, true), S::Completed);
        assert_eq!(status_with_alerts(S::Planned, true), S::Planned);
    }

    #[test]
    fn a_resolved_alert_rearms_the_ladder_from_the_resolution() {
        let (_, after_alert) = watch().actions(at(40));
        assert_eq!(after_alert.done, Some(WatchStep::Alerted));
        let rearmed = after_alert.rearmed(at(55), Duration::minutes(30));
        assert_eq!(rearmed.check_in_due_at, at(85));
        assert_eq!(rearmed.done, None);
        assert_eq!(rearmed.next_look(), Some(at(85)));
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

    #[test]
    fn a_plan_starts_now_or_later_and_lasts_at_most_twelve_hours() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ok = |start: i64, end: i64| {
            check_planned_times(
                now + Duration::minutes(start),
                now + Duration::minutes(end),
                now,
            )
        };
        assert_eq!(ok(0, 60), Ok(()));
        assert_eq!(ok(-5, 60), Ok(()), "a few minutes' slack");
        assert_eq!(ok(-6, 60).unwrap_err().field, "plannedStart");
        assert_eq!(ok(60, 60).unwrap_err().field, "plannedEnd");
        assert_eq!(ok(0, 12 * 60), Ok(()));
        assert_eq!(ok(0, 12 * 60 + 1).unwrap_err().field, "plannedEnd");
        assert_eq!(check_coordinates(None, None), Ok(()));
        assert_eq!(check_coordinates(Some(34.67), Some(135.5)), Ok(()));
        assert_eq!(
            check_coordinates(Some(91.0), Some(0.0)).unwrap_err().field,
            "latitude"
        );
        assert_eq!(
            check_coordinates(Some(f64::NAN), Some(0.0))
                .unwrap_err()
                .field,
            "latitude"
        );
        assert_eq!(
            check_coordinates(Some(1.0), None).unwrap_err().field,
            "longitude"
        );
    }

    mod plan_properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any pair of instants chrono can hold is answered, never a panic, and what is
            /// accepted is a real plan: ends after it starts, at most 12 hours, not in the past.
            #[test]
            fn any_times_are_answered_and_what_passes_is_a_plan(
                start in i64::MIN / 2..i64::MAX / 2,
                end in i64::MIN / 2..i64::MAX / 2,
            ) {
                let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().with_timezone(&Utc);
                let at = |micros: i64| DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC);
                let (start, end) = (at(start), at(end));
                if check_planned_times(start, end, now).is_ok() {
                    prop_assert!(end > start);
                    prop_assert!(end - start <= Duration::hours(bounds::PLANNED_HOURS_MAX));
                    prop_assert!(start >= now - Duration::minutes(PLANNED_START_SLACK_MINUTES));
                }
            }
        }
    }
}
