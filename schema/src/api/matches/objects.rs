//! A support match and a match suggestion as the API shows them, the GraphQL mirrors of the match
//! enums, and who may see a match.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::api::context::{loaders, viewer};
use crate::api::error::ApiResult;
use crate::api::people::Person;
use crate::domain::access::{Relationship, Viewer};
use crate::domain::matching::{self as rules, MatchStatus as DomainStatus};
use crate::domain::people::Role as DomainRole;
use crate::store;
use crate::store::entities::support_matches;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::matching::MatchStatus")]
pub enum MatchStatus {
    /// Waiting for the supporter's answer; expires after the organisation's proposal expiry.
    Proposed,
    Active,
    Paused,
    Declined,
    Expired,
    Ended,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::matching::EndReason")]
pub enum MatchEndReason {
    SupporterUnavailable,
    GoalsReached,
    ParticipantChoice,
    NotAGoodFit,
    SupporterBreak,
    CircumstancesChanged,
    Other,
}

/// A supporter supporting a participant.
pub struct SupportMatch {
    pub(super) row: support_matches::Model,
    pub(super) status: DomainStatus,
}

impl SupportMatch {
    pub(super) fn from_row(row: support_matches::Model) -> ApiResult<Self> {
        let status = DomainStatus::parse(&row.status)?;
        Ok(Self { row, status })
    }
}

#[Object]
impl SupportMatch {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn status(&self) -> MatchStatus {
        self.status.into()
    }

    async fn proposed_at(&self) -> DateTime<Utc> {
        self.row.proposed_at
    }

    /// When an unanswered proposal expires.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.row.expires_at
    }

    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.row.responded_at
    }

    async fn paused_at(&self) -> Option<DateTime<Utc>> {
        self.row.paused_at
    }

    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.row.ended_at
    }

    /// Why it was declined, paused or ended.
    async fn end_reason(&self) -> ApiResult<Option<MatchEndReason>> {
        Ok(self
            .row
            .end_reason
            .as_deref()
            .map(rules::EndReason::parse)
            .transpose()?
            .map(Into::into))
    }

    /// The closing reflection written when the match ended.
    async fn closing_reflection(&self) -> Option<&str> {
        self.row.closing_reflection.as_deref()
    }

    /// The supporter, when the viewer may see them (coordinators; the supporter; the participant
    /// while the match is active).
    async fn supporter(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        self.member(ctx, self.row.supporter_id).await
    }

    /// The participant, when the viewer may see them (coordinators; the participant; the
    /// supporter while the match is active).
    async fn participant(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        self.member(ctx, self.row.participant_id).await
    }
}

impl SupportMatch {
    pub(super) async fn member(
        &self,
        ctx: &Context<'_>,
        person_id: Uuid,
    ) -> ApiResult<Option<Person>> {
        let viewer = viewer(ctx)?;
        let Some(row) = loaders(ctx)?.people.load_one(person_id).await? else {
            return Ok(None);
        };
        let facts = store::people::facts(&row)?;
        let in_this_match = viewer.person_id == self.row.supporter_id
            || viewer.person_id == self.row.participant_id;
        let relationship = Relationship {
            has_active_match: in_this_match && self.status == DomainStatus::Active,
        };
        if viewer.may_see_person(&facts, relationship) {
            Person::from_row(row).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Whether the viewer may see the match at all (the same rule as `store::matches::visible_matches`).
pub(super) fn may_see_match(
    viewer: &Viewer,
    row: &support_matches::Model,
    status: DomainStatus,
) -> bool {
    if row.organisation_id != viewer.organisation_id {
        return false;
    }
    match viewer.role {
        DomainRole::Coordinator => true,
        DomainRole::Supporter => row.supporter_id == viewer.person_id,
        DomainRole::Participant => {
            row.participant_id == viewer.person_id
                && matches!(
                    status,
                    DomainStatus::Active | DomainStatus::Paused | DomainStatus::Ended
                )
        }
    }
}

/// A ranked supporter for a participant, with the reasons.
#[derive(SimpleObject)]
pub struct MatchSuggestion {
    pub(super) supporter: Person,
    /// Higher is a better fit; only the order matters.
    pub(super) score: u32,
    /// Why, in the viewer's language, e.g. "shares 2 experience tags", "1 of 3 places taken".
    pub(super) reasons: Vec<String>,
    pub(super) shared_experience_tags: Vec<String>,
    pub(super) shared_languages: Vec<String>,
    pub(super) shared_areas: Vec<String>,
    pub(super) met_preferences: Vec<String>,
    pub(super) places_taken: u32,
    pub(super) match_capacity: u32,
}
