//! Queries over organisations.

use crate::domain::clock::id_at;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::organisations;
use crate::domain::people::OrganisationKind;

pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    kind: OrganisationKind,
    time_zone: &str,
    now: DateTime<Utc>,
) -> Result<organisations::Model, DbErr> {
    organisations::ActiveModel {
        id: Set(id_at(now)),
        name: Set(name.to_owned()),
        kind: Set(kind.as_str().to_owned()),
        time_zone: Set(time_zone.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<organisations::Model>, DbErr> {
    organisations::Entity::find_by_id(id).one(db).await
}

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<organisations::Model>, DbErr> {
    organisations::Entity::find()
        .filter(organisations::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<organisations::Model>, DbErr> {
    organisations::Entity::find()
        .filter(organisations::Column::Name.eq(name))
        .one(db)
        .await
}

/// Changes the name and/or time zone; `None` leaves a field as it is.
pub async fn update(
    db: &impl ConnectionTrait,
    organisation: organisations::Model,
    name: Option<String>,
    time_zone: Option<String>,
) -> Result<organisations::Model, DbErr> {
    let mut active: organisations::ActiveModel = organisation.into();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if let Some(time_zone) = time_zone {
        active.time_zone = Set(time_zone);
    }
    active.update(db).await
}
