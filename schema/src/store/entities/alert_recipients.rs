//! The `alert_recipients` table: who an alert has reached, first and last.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_recipients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub alert_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub first_notified_at: DateTimeUtc,
    pub last_notified_at: DateTimeUtc,
    /// The push service accepted a push of this alert for one of their devices.
    pub delivered_at: Option<DateTimeUtc>,
    /// Their app confirmed it showed the alert.
    pub shown_at: Option<DateTimeUtc>,
    /// The e-mail fallback went out to them.
    pub emailed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
