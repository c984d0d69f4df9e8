//! What a match step checks before it writes: the participant, the supporter's room and break, and
//! whether the state allows the step.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use crate::api::common::member_in;
use crate::api::error::{ApiError, ApiResult, reasons};
use crate::api::training::capacity_of;
use crate::domain::access::Viewer;
use crate::domain::matching::{Cap, MatchAction, MatchStatus as DomainStatus};
use crate::domain::people::Role as DomainRole;
use crate::store;
use crate::store::entities::people;

pub(super) const REFLECTION_MAX: usize = 4000;
pub(super) const SUGGESTIONS_MAX: i32 = 50;
pub(super) const COORDINATORS_ONLY: &str = "only coordinators do this";

/// A participant of the viewer's organisation.
pub(super) async fn participant_in(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<people::Model> {
    member_in(db, viewer, id, DomainRole::Participant, "participantId").await
}

pub(super) fn capacity_full(cap: Cap, limit: u32) -> ApiError {
    ApiError::refused(
        reasons::CAPACITY_FULL,
        "the supporter has no room for another match",
    )
    .with_detail("cap", cap.as_str().to_uppercase())
    .with_detail("limit", limit)
}

pub(super) fn on_break() -> ApiError {
    ApiError::refused(
        reasons::SUPPORTER_ON_BREAK,
        "the supporter is on a break: no new matches until they return",
    )
}

pub(super) fn invalid_transition(from: DomainStatus, action: MatchAction) -> ApiError {
    ApiError::refused(
        reasons::INVALID_TRANSITION,
        format!("a {from} match cannot be {}", past_tense(action)),
    )
    .with_detail("from", from.as_str().to_uppercase())
    .with_detail("action", action.as_str().to_uppercase())
}

pub(super) fn past_tense(action: MatchAction) -> &'static str {
    match action {
        MatchAction::Accept => "accepted",
        MatchAction::Decline => "declined",
        MatchAction::Expire => "expired",
        MatchAction::Pause => "paused",
        MatchAction::Resume => "resumed",
        MatchAction::End => "ended",
    }
}

/// The supporter has room for one more place (proposal or resumed match), under the row lock.
pub(super) async fn ensure_room(
    txn: &DatabaseTransaction,
    supporter: &people::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let profile = store::matches::lock_supporter(txn, supporter.id)
        .await?
        .ok_or_else(|| ApiError::bad_input("supporterId", "is not a supporter"))?;
    if profile.on_break_since.is_some() {
        return Err(on_break());
    }
    let settings = store::program::settings(txn, supporter.organisation_id).await?;
    let capacity = capacity_of(profile.match_capacity, &settings);
    let load = store::matches::load_of(txn, Some(&[supporter.id]), supporter.organisation_id, now)
        .await?
        .remove(&supporter.id)
        .unwrap_or_default();
    if !load.has_room(capacity) {
        return Err(capacity_full(Cap::ActiveMatches, capacity));
    }
    Ok(())
}

pub(super) fn ensure_self_or_coordinator(viewer: &Viewer, supporter_id: Uuid) -> ApiResult<()> {
    if viewer.is_coordinator() || viewer.person_id == supporter_id {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            reason: "only the supporter and coordinators do this",
        })
    }
}
