//! The GraphQL mirrors of the outing enums of `domain::outings`, and their conversions.

use async_graphql::Enum;

use crate::store::outings::member_role;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::Purpose")]
pub enum OutingPurpose {
    Shopping,
    CityOffice,
    TransportPractice,
    ClinicVisit,
    CommunityEvent,
    WorkTrial,
    Other,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::OutingStatus")]
pub enum OutingStatus {
    Proposed,
    Planned,
    InProgress,
    Escalated,
    Completed,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::CheckInKind")]
pub enum CheckInKind {
    Ok,
    NeedHelp,
    Separated,
    Sos,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::AlertReason")]
pub enum AlertReason {
    MissedCheckIn,
    NeedHelp,
    Separated,
    Sos,
    Overdue,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::AlertTier")]
pub enum AlertTier {
    OnDuty,
    Everyone,
    Exhausted,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::AlertStatus")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::Resolution")]
pub enum AlertResolution {
    FalseAlarm,
    ReachedByPhone,
    MetInPerson,
    EmergencyServicesCalled,
    Other,
}

/// Why an outing was cancelled.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum CancelReason {
    ParticipantUnwell,
    ParticipantChoice,
    SupporterUnavailable,
    Weather,
    Rescheduled,
    Other,
    /// The support match between the outing's supporter and participant ended (set by Tomoni
    /// when a coordinator ends the match; not one a person picks).
    MatchEnded,
}

impl CancelReason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::ParticipantUnwell => "participant_unwell",
            Self::ParticipantChoice => "participant_choice",
            Self::SupporterUnavailable => "supporter_unavailable",
            Self::Weather => "weather",
            Self::Rescheduled => "rescheduled",
            Self::Other => "other",
            Self::MatchEnded => "match_ended",
        }
    }

    pub(super) fn parse(value: &str) -> Self {
        [
            Self::ParticipantUnwell,
            Self::ParticipantChoice,
            Self::SupporterUnavailable,
            Self::Weather,
            Self::Rescheduled,
            Self::MatchEnded,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == value)
        .unwrap_or(Self::Other)
    }
}

/// Someone's part in an outing.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum OutingRole {
    Participant,
    LeadSupporter,
    TraineeSupporter,
    StaffCompanion,
}

pub(super) fn outing_role(stored: &str) -> OutingRole {
    match stored {
        member_role::PARTICIPANT => OutingRole::Participant,
        member_role::LEAD => OutingRole::LeadSupporter,
        member_role::TRAINEE => OutingRole::TraineeSupporter,
        _ => OutingRole::StaffCompanion,
    }
}
