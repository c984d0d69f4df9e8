//! An organisation's program settings (match capacity, proposal expiry, follow-up interval, weekly
//! caps): one row once a coordinator changes a default, none before.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::program_settings;
use crate::domain::matching::ProgramSettings;

fn to_u32(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl From<program_settings::Model> for ProgramSettings {
    fn from(row: program_settings::Model) -> Self {
        Self {
            match_capacity: to_u32(row.match_capacity),
            proposal_expiry_days: to_u32(row.proposal_expiry_days),
            follow_up_interval_months: to_u32(row.follow_up_interval_months),
            weekly_outing_cap: to_u32(row.weekly_outing_cap),
            weekly_hours_cap: to_u32(row.weekly_hours_cap),
        }
    }
}

/// The organisation's settings, or the defaults when it changed none.
pub async fn settings(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<ProgramSettings, DbErr> {
    Ok(program_settings::Entity::find_by_id(organisation_id)
        .one(db)
        .await?
        .map(ProgramSettings::from)
        .unwrap_or_default())
}

/// The settings of several organisations (the defaults for those that set none).
pub async fn settings_of(
    db: &impl ConnectionTrait,
    organisation_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, ProgramSettings>, DbErr> {
    let mut settings: std::collections::HashMap<Uuid, ProgramSettings> = organisation_ids
        .iter()
        .map(|id| (*id, ProgramSettings::default()))
        .collect();
    for row in program_settings::Entity::find()
        .filter(program_settings::Column::OrganisationId.is_in(organisation_ids.iter().copied()))
        .all(db)
        .await?
    {
        settings.insert(row.organisation_id, row.into());
    }
    Ok(settings)
}

/// Stores the settings (all of them: callers merge changes into the current ones first).
pub async fn save(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    settings: ProgramSettings,
    now: DateTime<Utc>,
) -> Result<ProgramSettings, DbErr> {
    let exists = program_settings::Entity::find_by_id(organisation_id)
        .one(db)
        .await?
        .is_some();
    let row = program_settings::ActiveModel {
        organisation_id: Set(organisation_id),
        match_capacity: Set(to_i32(settings.match_capacity)),
        proposal_expiry_days: Set(to_i32(settings.proposal_expiry_days)),
        follow_up_interval_months: Set(to_i32(settings.follow_up_interval_months)),
        weekly_outing_cap: Set(to_i32(settings.weekly_outing_cap)),
        weekly_hours_cap: Set(to_i32(settings.weekly_hours_cap)),
        outing_reminder_minutes: sea_orm::ActiveValue::NotSet,
        updated_at: Set(now),
    };
    let saved = if exists {
        row.update(db).await?
    } else {
        let mut row = row;
        row.outing_reminder_minutes = Set(None);
        row.insert(db).await?
    };
    Ok(saved.into())
}

/// Minutes before an outing its reminders go out (the organisation's, or 24 hours and 1 hour).
pub async fn outing_reminder_minutes(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<u32>, DbErr> {
    Ok(program_settings::Entity::find_by_id(organisation_id)
        .one(db)
        .await?
        .and_then(|row| row.outing_reminder_minutes)
        .map(|minutes| minutes.0)
        .unwrap_or_else(|| crate::domain::outings::bounds::DEFAULT_REMINDER_MINUTES.to_vec()))
}

/// Stores the organisation's reminder offsets (creating its settings row with the defaults).
pub async fn save_outing_reminder_minutes(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    minutes: Vec<u32>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let current = settings(db, organisation_id).await?;
    save(db, organisation_id, current, now).await?;
    program_settings::Entity::update_many()
        .col_expr(
            program_settings::Column::OutingReminderMinutes,
            sea_orm::sea_query::Expr::value(super::entities::MinutesList(minutes)),
        )
        .filter(program_settings::Column::OrganisationId.eq(organisation_id))
        .exec(db)
        .await?;
    Ok(())
}
