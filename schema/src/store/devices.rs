//! Queries over devices and their access tokens (stored as hashes).

use crate::domain::clock::id_at;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, JoinType,
    QueryFilter, QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

use super::entities::{devices, people};
use super::{Page, PageRequest, fetch_page};

pub async fn create(
    db: &impl ConnectionTrait,
    person: &people::Model,
    label: &str,
    token_hash: String,
    now: DateTime<Utc>,
) -> Result<devices::Model, DbErr> {
    devices::ActiveModel {
        id: Set(id_at(now)),
        organisation_id: Set(person.organisation_id),
        person_id: Set(person.id),
        label: Set(label.to_owned()),
        token_hash: Set(token_hash),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
}

/// The unrevoked device holding this token, and its person.
pub async fn find_active_by_token_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<(devices::Model, people::Model)>, DbErr> {
    // One statement: this runs before every authenticated request.
    let found = devices::Entity::find()
        .select_also(people::Entity)
        .join(JoinType::InnerJoin, devices::Relation::Person.def())
        .filter(devices::Column::TokenHash.eq(token_hash))
        .filter(devices::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(found.and_then(|(device, person)| person.map(|person| (device, person))))
}

pub async fn is_active(db: &impl ConnectionTrait, device_id: Uuid) -> Result<bool, DbErr> {
    Ok(devices::Entity::find_by_id(device_id)
        .filter(devices::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// Records that the device was used, at most once per `resolution`, so that reads stay reads.
pub async fn touch(
    db: &impl ConnectionTrait,
    device: &devices::Model,
    now: DateTime<Utc>,
    resolution: chrono::Duration,
) -> Result<(), DbErr> {
    if device
        .last_used_at
        .is_some_and(|last_used| now - last_used < resolution)
    {
        return Ok(());
    }
    devices::Entity::update_many()
        .col_expr(devices::Column::LastUsedAt, Expr::value(now))
        .filter(devices::Column::Id.eq(device.id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<devices::Model>, DbErr> {
    devices::Entity::find_by_id(id).one(db).await
}

pub async fn list_for_person(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    page: PageRequest,
) -> Result<Page<devices::Model>, DbErr> {
    let select = devices::Entity::find().filter(devices::Column::PersonId.eq(person_id));
    fetch_page(db, select, devices::Column::Id, page).await
}

/// Revokes the device's token. Revoking twice keeps the first time.
pub async fn revoke(
    db: &impl ConnectionTrait,
    device: devices::Model,
    now: DateTime<Utc>,
) -> Result<devices::Model, DbErr> {
    if device.revoked_at.is_some() {
        return Ok(device);
    }
    let mut active: devices::ActiveModel = device.into();
    active.revoked_at = Set(Some(now));
    active.update(db).await
}

/// Revokes every unrevoked device of a person that carries `label` (the demo's playground token).
pub async fn revoke_labelled(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    label: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = devices::Entity::update_many()
        .col_expr(devices::Column::RevokedAt, Expr::value(now))
        .filter(
            Condition::all()
                .add(devices::Column::PersonId.eq(person_id))
                .add(devices::Column::Label.eq(label))
                .add(devices::Column::RevokedAt.is_null()),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
