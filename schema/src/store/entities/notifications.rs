//! The `notifications` table: the outbox. One row per message to one person, written in the same
//! transaction as whatever caused it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub recipient_id: Uuid,
    pub kind: String,
    pub message: Json,
    pub urgency: String,
    pub ttl_seconds: i32,
    pub topic: Option<String>,
    pub is_safety: bool,
    pub not_before: DateTimeUtc,
    pub idempotency_key: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub dispatched_at: Option<DateTimeUtc>,
    /// The outing the message is about (reminders, prompts, alerts), to withdraw them together.
    pub outing_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
