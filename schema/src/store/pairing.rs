//! Queries over pairing codes: issuing one (withdrawing older ones) and claiming one exactly once.

use crate::domain::clock::id_at;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{pairing_codes, people};

/// Stores a new code for `person`. Any earlier unused code of theirs stops working: only the code
/// the coordinator just read out should pair a phone.
pub async fn issue(
    db: &impl ConnectionTrait,
    person: &people::Model,
    issued_by: Uuid,
    code_hash: String,
    now: DateTime<Utc>,
    lifetime: Duration,
) -> Result<pairing_codes::Model, DbErr> {
    pairing_codes::Entity::update_many()
        .col_expr(pairing_codes::Column::WithdrawnAt, Expr::value(now))
        .filter(pairing_codes::Column::PersonId.eq(person.id))
        .filter(pairing_codes::Column::RedeemedAt.is_null())
        .filter(pairing_codes::Column::WithdrawnAt.is_null())
        .exec(db)
        .await?;
    pairing_codes::ActiveModel {
        id: Set(id_at(now)),
        organisation_id: Set(person.organisation_id),
        person_id: Set(person.id),
        code_hash: Set(code_hash),
        issued_by: Set(issued_by),
        created_at: Set(now),
        expires_at: Set(now + lifetime),
        redeemed_at: Set(None),
        withdrawn_at: Set(None),
        device_id: Set(None),
    }
    .insert(db)
    .await
}

/// Marks the code redeemed if it is still usable, in one conditional UPDATE so that two devices
/// racing with the same code cannot both win. `None`: unknown, expired, withdrawn or already used —
/// deliberately indistinguishable to the caller.
pub async fn claim(
    db: &impl ConnectionTrait,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<pairing_codes::Model>, DbErr> {
    let claimed = pairing_codes::Entity::update_many()
        .col_expr(pairing_codes::Column::RedeemedAt, Expr::value(now))
        .filter(pairing_codes::Column::CodeHash.eq(code_hash))
        .filter(pairing_codes::Column::RedeemedAt.is_null())
        .filter(pairing_codes::Column::WithdrawnAt.is_null())
        .filter(pairing_codes::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    pairing_codes::Entity::find()
        .filter(pairing_codes::Column::CodeHash.eq(code_hash))
        .one(db)
        .await
}

pub async fn attach_device(
    db: &impl ConnectionTrait,
    code: pairing_codes::Model,
    device_id: Uuid,
) -> Result<(), DbErr> {
    let mut active: pairing_codes::ActiveModel = code.into();
    active.device_id = Set(Some(device_id));
    active.update(db).await?;
    Ok(())
}
