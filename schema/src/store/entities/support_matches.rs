//! The `support_matches` table: a supporter supporting a participant, through its lifecycle.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_matches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub supporter_id: Uuid,
    pub participant_id: Uuid,
    pub status: String,
    pub proposed_by: Uuid,
    pub proposed_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub responded_at: Option<DateTimeUtc>,
    pub paused_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<String>,
    pub closing_reflection: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
