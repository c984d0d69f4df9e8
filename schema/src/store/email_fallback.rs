//! The alert e-mail fallback's work: alert recipients who were pushed an alert that is still open,
//! whose app has not confirmed showing it within the fallback delay, who have an e-mail address
//! and have not been e-mailed yet. A claim is a lease on their `alert_emails` row (the mail is
//! sent outside any transaction); the candidates are selected `FOR UPDATE OF alert_recipients SKIP
//! LOCKED` on PostgreSQL so that several servers share them, and the lease itself is taken by a
//! conditional update, so two servers never both claim one recipient. A server that dies mid-send
//! loses its claim when the lease runs out; the recipient is e-mailed by the next tick after that.
//!
//! Only `open` alerts are e-mailed: an acknowledged one has someone acting on it, a resolved one is
//! over, and one a late "OK" answered has stopped paging.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait as _, LockBehavior, LockType, OnConflict, Order, Query,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::entities::{alert_emails, alert_recipients, alerts, contact_addresses, people};
use crate::domain::outings::AlertStatus;
use crate::domain::people::Locale;

/// One recipient to e-mail now, claimed until `claimed_until`.
#[derive(Clone, PartialEq, Eq)]
pub struct Claimed {
    pub alert_id: Uuid,
    pub person_id: Uuid,
    /// Never logged.
    pub email: String,
    pub locale: Locale,
    /// This attempt's number, from 1.
    pub attempt: i32,
}

/// Hand-written so that the address never reaches a log line by way of `{:?}`.
impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("alert_id", &self.alert_id)
            .field("person_id", &self.person_id)
            .field("email", &"***")
            .field("locale", &self.locale)
            .field("attempt", &self.attempt)
            .finish()
    }
}

/// Claims up to `limit` recipients due for the fallback at `now`: first pushed at or before
/// `now - after`, not shown, not e-mailed, alert open and not answered late, with an address, and
/// not waiting for a retry or leased to another worker. Each claim counts an attempt.
pub async fn claim_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    after: Duration,
    lease: Duration,
    limit: u64,
) -> Result<Vec<Claimed>, DbErr> {
    let txn = super::begin_write(db).await?;
    let r = alert_recipients::Entity;
    let e = alert_emails::Entity;
    let select = Query::select()
        .column((r, alert_recipients::Column::AlertId))
        .column((r, alert_recipients::Column::PersonId))
        .expr_as(
            Expr::col((contact_addresses::Entity, contact_addresses::Column::Email)),
            Alias::new("email"),
        )
        .expr_as(
            Expr::col((people::Entity, people::Column::Locale)),
            Alias::new("locale"),
        )
        .from(r)
        .inner_join(
            alerts::Entity,
            Expr::col((alerts::Entity, alerts::Column::Id))
                .equals((r, alert_recipients::Column::AlertId)),
        )
        .inner_join(
            people::Entity,
            Expr::col((people::Entity, people::Column::Id))
                .equals((r, alert_recipients::Column::PersonId)),
        )
        .inner_join(
            contact_addresses::Entity,
            Expr::col((
                contact_addresses::Entity,
                contact_addresses::Column::PersonId,
            ))
            .equals((r, alert_recipients::Column::PersonId)),
        )
        .left_join(
            e,
            Condition::all()
                .add(
                    Expr::col((e, alert_emails::Column::AlertId))
                        .equals((r, alert_recipients::Column::AlertId)),
                )
                .add(
                    Expr::col((e, alert_emails::Column::PersonId))
                        .equals((r, alert_recipients::Column::PersonId)),
                ),
        )
        .and_where(
            Expr::col((alerts::Entity, alerts::Column::Status)).eq(AlertStatus::Open.as_str()),
        )
        .and_where(Expr::col((alerts::Entity, alerts::Column::AnsweredLateAt)).is_null())
        .and_where(Expr::col((r, alert_recipients::Column::ShownAt)).is_null())
        .and_where(Expr::col((r, alert_recipients::Column::EmailedAt)).is_null())
        .and_where(Expr::col((r, alert_recipients::Column::FirstNotifiedAt)).lte(now - after))
        .cond_where(
            Condition::any()
                .add(Expr::col((e, alert_emails::Column::AlertId)).is_null())
                .add(
                    Condition::all()
                        .add(Expr::col((e, alert_emails::Column::NextAttemptAt)).lte(now))
                        .add(
                            Condition::any()
                                .add(Expr::col((e, alert_emails::Column::ClaimedUntil)).is_null())
                                .add(Expr::col((e, alert_emails::Column::ClaimedUntil)).lt(now)),
                        ),
                ),
        )
        .order_by((r, alert_recipients::Column::FirstNotifiedAt), Order::Asc)
        .order_by((r, alert_recipients::Column::AlertId), Order::Asc)
        .limit(limit)
        .lock_with_tables_behavior(LockType::Update, [r], LockBehavior::SkipLocked)
        .to_owned();
    let mut candidates = Vec::new();
    for row in txn.query_all(&select).await? {
        let alert_id: Uuid = row.try_get("", "alert_id")?;
        let person_id: Uuid = row.try_get("", "person_id")?;
        let email: String = row.try_get("", "email")?;
        let locale: String = row.try_get("", "locale")?;
        // A locale this build does not know: the default language rather than no mail at all.
        let locale = Locale::parse(&locale).unwrap_or_default();
        candidates.push((alert_id, person_id, email, locale));
    }
    let mut claimed = Vec::with_capacity(candidates.len());
    for (alert_id, person_id, email, locale) in candidates {
        // The row exists from the first attempt on; creating it again does nothing.
        alert_emails::Entity::insert(alert_emails::ActiveModel {
            alert_id: Set(alert_id),
            person_id: Set(person_id),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
        })
        .on_conflict(
            OnConflict::columns([
                alert_emails::Column::AlertId,
                alert_emails::Column::PersonId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        // The lease is taken only if nobody holds it and no retry is pending: PostgreSQL checks
        // this condition again on the newest row, so a second server racing here gets 0 rows.
        let leased = alert_emails::Entity::update_many()
            .col_expr(alert_emails::Column::ClaimedUntil, Expr::value(now + lease))
            .col_expr(
                alert_emails::Column::Attempts,
                Expr::col(alert_emails::Column::Attempts).add(1),
            )
            .filter(alert_emails::Column::AlertId.eq(alert_id))
            .filter(alert_emails::Column::PersonId.eq(person_id))
            .filter(alert_emails::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(alert_emails::Column::ClaimedUntil.is_null())
                    .add(alert_emails::Column::ClaimedUntil.lt(now)),
            )
            .exec_with_returning(&txn)
            .await?;
        if let Some(row) = leased.into_iter().next() {
            claimed.push(Claimed {
                alert_id,
                person_id,
                email,
                locale,
                attempt: row.attempts,
            });
        }
    }
    txn.commit().await?;
    Ok(claimed)
}

/// The SMTP server accepted the mail: the recipient counts as e-mailed and the lease ends.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    alert_id: Uuid,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    alert_recipients::Entity::update_many()
        .col_expr(alert_recipients::Column::EmailedAt, Expr::value(now))
        .filter(alert_recipients::Column::AlertId.eq(alert_id))
        .filter(alert_recipients::Column::PersonId.eq(person_id))
        .filter(alert_recipients::Column::EmailedAt.is_null())
        .exec(db)
        .await?;
    release(db, alert_id, person_id, now).await
}

/// The mail did not go out: the lease ends and the next attempt waits until `retry_at`.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    alert_id: Uuid,
    person_id: Uuid,
    retry_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    release(db, alert_id, person_id, retry_at).await
}

async fn release(
    db: &impl ConnectionTrait,
    alert_id: Uuid,
    person_id: Uuid,
    next_attempt_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    alert_emails::Entity::update_many()
        .col_expr(
            alert_emails::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            alert_emails::Column::NextAttemptAt,
            Expr::value(next_attempt_at),
        )
        .filter(alert_emails::Column::AlertId.eq(alert_id))
        .filter(alert_emails::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    Ok(())
}
