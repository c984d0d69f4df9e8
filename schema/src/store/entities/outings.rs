//! The `outings` table: an accompanied outing, its plan, its progress and its watchdog state.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub participant_id: Uuid,
    pub lead_supporter_id: Uuid,
    pub staff_companion_id: Option<Uuid>,
    pub purpose: String,
    pub place: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub step_goal: String,
    pub planned_start: DateTimeUtc,
    pub planned_end: DateTimeUtc,
    pub check_in_interval_minutes: i32,
    pub grace_minutes: i32,
    pub status: String,
    pub created_by: Uuid,
    pub approved_by: Option<Uuid>,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub anxiety_before: Option<i16>,
    pub anxiety_after: Option<i16>,
    pub confidence_before: Option<i16>,
    pub confidence_after: Option<i16>,
    pub supporter_note: Option<String>,
    pub check_in_due_at: Option<DateTimeUtc>,
    pub watch_at: Option<DateTimeUtc>,
    pub watch_step: Option<String>,
    pub overdue_alerted: bool,
    pub extensions: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
