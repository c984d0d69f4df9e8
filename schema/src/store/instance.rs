//! Facts every server sharing one database must agree on, such as the VAPID public key.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::instance_settings;

/// Records `value` under `key` unless a value is there already; returns the value that is stored
/// (ours, or the one an earlier start recorded).
pub async fn remember(
    db: &impl ConnectionTrait,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    instance_settings::Entity::insert(instance_settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing_on([instance_settings::Column::Key])
    .exec(db)
    .await?;
    let stored = instance_settings::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?;
    stored
        .map(|row| row.value)
        .ok_or_else(|| DbErr::RecordNotFound(format!("instance setting {key}")))
}
