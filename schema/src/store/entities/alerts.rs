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
    /// When it was last pushed to anyone: a joining check-in pushes again at most once a minute.
    pub last_pushed_at: Option<DateTimeUtc>,
    /// When its owner was reminded of it, acknowledged and unresolved.
    pub owner_reminded_at: Option<DateTimeUtc>,
    /// When a late "OK" answered a missed-check-in alert: its paging stopped.
    pub answered_late_at: Option<DateTimeUtc>,
    /// When an SOS still unacknowledged tells its people to call the emergency numbers.
    pub advise_at: Option<DateTimeUtc>,
    /// When they were told.
    pub emergency_advised_at: Option<DateTimeUtc>,
    /// Since when none of the coordinators it should reach has a device that works.
    pub unreachable_since: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
