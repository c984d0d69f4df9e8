//! What the safety net and the outbox have waiting, for `/metrics`: a few aggregate statements,
//! each answered from an index (`ix_outings_watch_at`, `ix_alerts_status_tier`,
//! `ix_notifications_status_not_before`), so a scrape costs the same however many rows there are.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use super::entities::{alerts, notifications, outings};
use super::outbox::status;
use crate::domain::outings::AlertStatus;

/// The backlog at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// The earliest `watch_at` at or before now: how far behind the watchdog is. None when
    /// nothing is due.
    pub oldest_due_watch: Option<DateTime<Utc>>,
    /// Alerts nobody has acknowledged yet (status open), per stored tier.
    pub open_alerts: Vec<(String, u64)>,
    /// Pending notifications due now (`not_before` at or before now).
    pub due_notifications: u64,
    /// The earliest `not_before` among them.
    pub oldest_due_notification: Option<DateTime<Utc>>,
    /// Active alerts that can reach nobody (no coordinator with a device that works).
    pub nobody_reachable_alerts: u64,
}

pub async fn backlog(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Backlog, DbErr> {
    let oldest_due_watch = outings::Entity::find()
        .select_only()
        .expr_as(Expr::col(outings::Column::WatchAt).min(), "oldest")
        .filter(outings::Column::WatchAt.lte(now))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    let open_alerts = alerts::Entity::find()
        .select_only()
        .column(alerts::Column::Tier)
        .expr_as(Expr::col(alerts::Column::Id).count(), "alerts")
        .filter(alerts::Column::Status.eq(AlertStatus::Open.as_str()))
        .group_by(alerts::Column::Tier)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(tier, count)| (tier, u64::try_from(count).unwrap_or(0)))
        .collect();
    let (due_notifications, oldest_due_notification) = notifications::Entity::find()
        .select_only()
        .expr_as(Expr::col(notifications::Column::Id).count(), "due")
        .expr_as(Expr::col(notifications::Column::NotBefore).min(), "oldest")
        .filter(notifications::Column::Status.eq(status::PENDING))
        .filter(notifications::Column::NotBefore.lte(now))
        .into_tuple::<(i64, Option<DateTime<Utc>>)>()
        .one(db)
        .await?
        .unwrap_or((0, None));
    let nobody_reachable_alerts = alerts::Entity::find()
        .filter(alerts::Column::UnreachableSince.is_not_null())
        .filter(alerts::Column::Status.ne(AlertStatus::Resolved.as_str()))
        .count(db)
        .await?;
    Ok(Backlog {
        nobody_reachable_alerts,
        oldest_due_watch,
        open_alerts,
        due_notifications: u64::try_from(due_notifications).unwrap_or(0),
        oldest_due_notification,
    })
}
