//! Queries over supporter and participant profiles.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{StringList, participant_profiles, supporter_profiles};

pub async fn supporter_profiles_of(
    db: &impl ConnectionTrait,
    person_ids: &[Uuid],
) -> Result<Vec<supporter_profiles::Model>, DbErr> {
    supporter_profiles::Entity::find()
        .filter(supporter_profiles::Column::PersonId.is_in(person_ids.iter().copied()))
        .all(db)
        .await
}

pub async fn participant_profiles_of(
    db: &impl ConnectionTrait,
    person_ids: &[Uuid],
) -> Result<Vec<participant_profiles::Model>, DbErr> {
    participant_profiles::Entity::find()
        .filter(participant_profiles::Column::PersonId.is_in(person_ids.iter().copied()))
        .all(db)
        .await
}

/// Changes to a supporter profile; `None` leaves a list as it is.
#[derive(Default)]
pub struct SupporterProfileChanges {
    pub experience_tags: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub areas: Option<Vec<String>>,
}

/// Applies the changes; `None` when the person has no supporter profile (they are not a supporter).
pub async fn update_supporter_profile(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    changes: SupporterProfileChanges,
    now: DateTime<Utc>,
) -> Result<Option<supporter_profiles::Model>, DbErr> {
    let Some(profile) = supporter_profiles::Entity::find_by_id(person_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut active: supporter_profiles::ActiveModel = profile.into();
    if let Some(tags) = changes.experience_tags {
        active.experience_tags = Set(StringList(tags));
    }
    if let Some(languages) = changes.languages {
        active.languages = Set(StringList(languages));
    }
    if let Some(areas) = changes.areas {
        active.areas = Set(StringList(areas));
    }
    active.updated_at = Set(now);
    active.update(db).await.map(Some)
}

/// Changes to a participant profile; `None` leaves a field as it is.
#[derive(Default)]
pub struct ParticipantProfileChanges {
    pub preferences: Option<Vec<String>>,
    pub consents_to_location_sharing: Option<bool>,
    pub experience_tags: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub areas: Option<Vec<String>>,
    /// `Some("")` clears the plan.
    pub crisis_plan: Option<String>,
}

/// Applies the changes; `None` when the person has no participant profile.
pub async fn update_participant_profile(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    changes: ParticipantProfileChanges,
    now: DateTime<Utc>,
) -> Result<Option<participant_profiles::Model>, DbErr> {
    let Some(profile) = participant_profiles::Entity::find_by_id(person_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut active: participant_profiles::ActiveModel = profile.into();
    if let Some(preferences) = changes.preferences {
        active.preferences = Set(StringList(preferences));
    }
    if let Some(consent) = changes.consents_to_location_sharing {
        active.consents_to_location_sharing = Set(consent);
    }
    if let Some(tags) = changes.experience_tags {
        active.experience_tags = Set(Some(StringList(tags)));
    }
    if let Some(languages) = changes.languages {
        active.languages = Set(Some(StringList(languages)));
    }
    if let Some(areas) = changes.areas {
        active.areas = Set(Some(StringList(areas)));
    }
    if let Some(plan) = changes.crisis_plan {
        active.crisis_plan = Set((!plan.is_empty()).then_some(plan));
    }
    active.updated_at = Set(now);
    active.update(db).await.map(Some)
}
