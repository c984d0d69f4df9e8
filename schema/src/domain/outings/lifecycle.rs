//! An outing's purpose and status, and its lifecycle as one state machine: which step leads where,
//! and who may take it.

use std::fmt;

use crate::domain::people::UnknownValue;
use crate::domain::people::stored_names;

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
