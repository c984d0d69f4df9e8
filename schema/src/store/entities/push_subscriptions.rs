//! The `push_subscriptions` table: a browser's or phone's Web Push subscription, per person.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub person_id: Uuid,
    pub device_id: Option<Uuid>,
    /// Never logged: it identifies the person's browser to the push service.
    pub endpoint: String,
    pub endpoint_hash: String,
    pub p256dh: String,
    pub auth: String,
    pub label: String,
    pub locale: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
    pub removed_reason: Option<String>,
    pub last_outcome: Option<String>,
    pub last_outcome_at: Option<DateTimeUtc>,
    pub last_delivered_at: Option<DateTimeUtc>,
    pub consecutive_failures: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
