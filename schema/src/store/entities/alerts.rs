//! The `alerts` table: a safety alert about an outing and its climb up the escalation ladder.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub outing_id: Uuid,
    pub reason: String,
    pub tier: String,
    pub status: String,
    pub raised_at: DateTimeUtc,
    pub escalate_at: Option<DateTimeUtc>,
    pub pushes: i32,
    pub owner_id: Option<Uuid>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
    pub resolution_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
