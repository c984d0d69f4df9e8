//! Ranked supporters for a participant, in three statements whatever the organisation's size.

use async_graphql::Context;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::api::context::loaders;
use crate::api::error::ApiResult;
use crate::api::training::capacity_of;
use crate::domain::access::Viewer;
use crate::domain::matching::{self as rules, Candidate, Seeker};
use crate::domain::people::Locale;
use crate::store;
use crate::store::entities::people;

pub(super) async fn viewer_locale(ctx: &Context<'_>, viewer: &Viewer) -> ApiResult<Locale> {
    let row = loaders(ctx)?.people.load_one(viewer.person_id).await?;
    Ok(row
        .map(|row| Locale::parse(&row.locale))
        .transpose()?
        .unwrap_or_default())
}

/// What matching compares on the participant's side; their language falls back to the one the
/// app shows them.
pub(super) async fn seeker_of(
    db: &impl ConnectionTrait,
    participant: &people::Model,
) -> ApiResult<Seeker> {
    let profile = store::profiles::participant_profiles_of(db, &[participant.id])
        .await?
        .into_iter()
        .next();
    let Some(profile) = profile else {
        return Ok(Seeker::default());
    };
    let mut languages = profile.languages.unwrap_or_default().0;
    if languages.is_empty() {
        languages.push(participant.locale.clone());
    }
    Ok(Seeker {
        experience_tags: profile.experience_tags.unwrap_or_default().0,
        languages,
        areas: profile.areas.unwrap_or_default().0,
        preferences: profile.preferences.0,
    })
}

/// Every eligible supporter ranked, in three statements whatever the organisation's size: the
/// eligible profiles (supporters who may be matched, not on a break, not already with the
/// participant), every supporter's load, and the settings.
pub async fn suggestions(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    participant_id: Uuid,
    seeker: &Seeker,
    now: DateTime<Utc>,
) -> ApiResult<Vec<rules::Suggestion<Uuid>>> {
    let profiles =
        store::matches::candidate_profiles(db, organisation_id, participant_id, now).await?;
    let loads = store::matches::load_of(db, None, organisation_id, now).await?;
    let settings = store::program::settings(db, organisation_id).await?;
    let candidates = profiles
        .into_iter()
        .map(|profile| Candidate {
            id: profile.person_id,
            load: loads.get(&profile.person_id).copied().unwrap_or_default(),
            capacity: capacity_of(profile.match_capacity, &settings),
            experience_tags: profile.experience_tags.0,
            languages: profile.languages.0,
            areas: profile.areas.0,
        })
        .collect();
    Ok(rules::rank(seeker, candidates))
}
