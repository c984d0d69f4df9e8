//! Queries over people's notification settings (quiet hours).

use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::notification_settings;
use crate::domain::quiet_hours::QuietHours;

const TIME_FORMAT: &str = "%H:%M";

pub async fn for_people(
    db: &impl ConnectionTrait,
    person_ids: &[Uuid],
) -> Result<Vec<notification_settings::Model>, DbErr> {
    notification_settings::Entity::find()
        .filter(notification_settings::Column::PersonId.is_in(person_ids.iter().copied()))
        .all(db)
        .await
}

/// Sets (or clears, with `None`) a person's quiet hours.
pub async fn set_quiet_hours(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    quiet_hours: Option<QuietHours>,
    now: DateTime<Utc>,
) -> Result<notification_settings::Model, DbErr> {
    let (start, end) = match quiet_hours {
        Some(window) => (
            Some(window.start().format(TIME_FORMAT).to_string()),
            Some(window.end().format(TIME_FORMAT).to_string()),
        ),
        None => (None, None),
    };
    let existing = notification_settings::Entity::find_by_id(person_id)
        .one(db)
        .await?;
    let is_new = existing.is_none();
    let mut active: notification_settings::ActiveModel = match existing {
        Some(row) => row.into(),
        None => notification_settings::ActiveModel {
            person_id: Set(person_id),
            ..Default::default()
        },
    };
    active.quiet_hours_start = Set(start);
    active.quiet_hours_end = Set(end);
    active.updated_at = Set(now);
    if is_new {
        active.insert(db).await
    } else {
        active.update(db).await
    }
}

/// The stored quiet hours, if both ends are set and readable.
pub fn quiet_hours(settings: &notification_settings::Model) -> Option<QuietHours> {
    let parse = |value: &Option<String>| {
        value
            .as_deref()
            .and_then(|text| NaiveTime::parse_from_str(text, TIME_FORMAT).ok())
    };
    QuietHours::new(
        parse(&settings.quiet_hours_start)?,
        parse(&settings.quiet_hours_end)?,
    )
    .ok()
}
