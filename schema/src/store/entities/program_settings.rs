//! The `program_settings` table: an organisation's limits and intervals (no row: the defaults).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    pub match_capacity: i32,
    pub proposal_expiry_days: i32,
    pub follow_up_interval_months: i32,
    pub weekly_outing_cap: i32,
    pub weekly_hours_cap: i32,
    /// Minutes before an outing its reminders go out; null: the defaults.
    pub outing_reminder_minutes: Option<super::MinutesList>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
