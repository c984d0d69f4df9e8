//! Coordinators' e-mail addresses (`contact_addresses`): read, set, cleared. Callers check who may
//! see or change one; nothing here logs or echoes an address.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::contact_addresses;

/// The person's e-mail address, if they have one.
pub async fn email_of(db: &impl ConnectionTrait, person_id: Uuid) -> Result<Option<String>, DbErr> {
    Ok(contact_addresses::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .map(|row| row.email))
}

/// Those of `people` who have an address.
pub async fn with_email_among(
    db: &impl ConnectionTrait,
    people: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    Ok(contact_addresses::Entity::find()
        .filter(contact_addresses::Column::PersonId.is_in(people.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.person_id)
        .collect())
}

/// Sets (`Some`) or removes (`None`) the person's address.
pub async fn set_email(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    match email {
        Some(email) => {
            contact_addresses::Entity::insert(contact_addresses::ActiveModel {
                person_id: Set(person_id),
                email: Set(email.to_owned()),
                updated_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(contact_addresses::Column::PersonId)
                    .update_columns([
                        contact_addresses::Column::Email,
                        contact_addresses::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
        None => {
            contact_addresses::Entity::delete_many()
                .filter(contact_addresses::Column::PersonId.eq(person_id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}
