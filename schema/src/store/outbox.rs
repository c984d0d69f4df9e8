//! The notification outbox and its deliveries: scheduling, withdrawing, and the claims the
//! dispatcher makes. Row selection uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several servers
//! can share the work; on SQLite the one-writer lock gives the same exclusion. Notifications are
//! fanned out inside the transaction that locks them; deliveries are claimed with a lease (they are
//! sent outside any transaction), so a server that dies mid-send loses its claim when the lease
//! expires and the work is picked up again.

use crate::domain::clock::id_at;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, LockBehavior, LockType, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{notifications, push_deliveries};
use crate::domain::push::Urgency;

pub mod status {
    pub const PENDING: &str = "pending";
    pub const DISPATCHED: &str = "dispatched";
    pub const WITHDRAWN: &str = "withdrawn";
    /// The recipient had no device that could be reached when it fell due.
    pub const UNREACHABLE: &str = "unreachable";

    pub const DELIVERED: &str = "delivered";
    pub const FAILED: &str = "failed";
    pub const GONE: &str = "gone";
    /// Older than its time-to-live when its turn came (never for safety messages).
    pub const EXPIRED: &str = "expired";
}

pub struct NewNotification<'a> {
    pub organisation_id: Uuid,
    pub recipient_id: Uuid,
    pub kind: &'a str,
    pub message: serde_json::Value,
    pub urgency: Urgency,
    pub ttl_seconds: i32,
    pub topic: Option<String>,
    pub is_safety: bool,
    pub not_before: DateTime<Utc>,
    pub idempotency_key: &'a str,
    /// The outing the message is about, if any.
    pub outing_id: Option<Uuid>,
}

/// What scheduling did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduled {
    Created(Uuid),
    /// The same reminder existed and had not gone out: it now has the new time and content.
    Moved(Uuid),
    /// The same reminder has already gone out (or was withdrawn): nothing changed.
    AlreadyHandled(Uuid),
}

impl Scheduled {
    pub fn id(self) -> Uuid {
        match self {
            Self::Created(id) | Self::Moved(id) | Self::AlreadyHandled(id) => id,
        }
    }
}

pub async fn schedule(
    db: &impl ConnectionTrait,
    new: NewNotification<'_>,
    now: DateTime<Utc>,
) -> Result<Scheduled, DbErr> {
    let existing = notifications::Entity::find()
        .filter(notifications::Column::IdempotencyKey.eq(new.idempotency_key))
        .one(db)
        .await?;
    if let Some(existing) = existing {
        // A withdrawn reminder planned again comes back (a due date moved away and back); one
        // that went out stays sent.
        if existing.status != status::PENDING && existing.status != status::WITHDRAWN {
            return Ok(Scheduled::AlreadyHandled(existing.id));
        }
        let id = existing.id;
        let mut active: notifications::ActiveModel = existing.into();
        active.status = Set(status::PENDING.to_owned());
        active.message = Set(new.message);
        active.not_before = Set(new.not_before);
        active.topic = Set(new.topic);
        active.urgency = Set(new.urgency.as_str().to_owned());
        active.ttl_seconds = Set(new.ttl_seconds);
        active.outing_id = Set(new.outing_id);
        active.update(db).await?;
        return Ok(Scheduled::Moved(id));
    }
    let id = id_at(now);
    notifications::ActiveModel {
        id: Set(id),
        organisation_id: Set(new.organisation_id),
        recipient_id: Set(new.recipient_id),
        kind: Set(new.kind.to_owned()),
        message: Set(new.message),
        urgency: Set(new.urgency.as_str().to_owned()),
        ttl_seconds: Set(new.ttl_seconds),
        topic: Set(new.topic),
        is_safety: Set(new.is_safety),
        not_before: Set(new.not_before),
        idempotency_key: Set(new.idempotency_key.to_owned()),
        status: Set(status::PENDING.to_owned()),
        created_at: Set(now),
        dispatched_at: Set(None),
        outing_id: Set(new.outing_id),
    }
    .insert(db)
    .await?;
    Ok(Scheduled::Created(id))
}

pub async fn withdraw(db: &impl ConnectionTrait, idempotency_key: &str) -> Result<bool, DbErr> {
    let result = notifications::Entity::update_many()
        .col_expr(
            notifications::Column::Status,
            Expr::value(status::WITHDRAWN),
        )
        .filter(notifications::Column::IdempotencyKey.eq(idempotency_key))
        .filter(notifications::Column::Status.eq(status::PENDING))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Withdraws the outing's unsent notifications of `kind` in one statement, except those whose
/// idempotency keys are in `keep` (the ones just planned). Returns how many were withdrawn.
pub async fn withdraw_of_outing(
    db: &impl ConnectionTrait,
    outing_id: Uuid,
    kind: &str,
    keep: &[String],
) -> Result<u64, DbErr> {
    let mut update = notifications::Entity::update_many()
        .col_expr(
            notifications::Column::Status,
            Expr::value(status::WITHDRAWN),
        )
        .filter(notifications::Column::OutingId.eq(outing_id))
        .filter(notifications::Column::Status.eq(status::PENDING))
        .filter(notifications::Column::Kind.eq(kind));
    if !keep.is_empty() {
        update =
            update.filter(notifications::Column::IdempotencyKey.is_not_in(keep.iter().cloned()));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// The outing's notifications of `kind` that went out to a device (handed to the push service).
pub async fn dispatched_of_outing(
    db: &impl ConnectionTrait,
    outing_id: Uuid,
    kind: &str,
) -> Result<Vec<notifications::Model>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::OutingId.eq(outing_id))
        .filter(notifications::Column::Status.eq(status::DISPATCHED))
        .filter(notifications::Column::Kind.eq(kind))
        .all(db)
        .await
}

/// A leased, due, pending selection of ids from `table`, locked on PostgreSQL with SKIP LOCKED.
fn due_ids<E, C>(
    id: C,
    due: Condition,
    order: impl sea_orm::sea_query::IntoColumnRef,
    limit: u64,
) -> SelectStatement
where
    E: EntityTrait,
    C: ColumnTrait,
{
    Query::select()
        .column(id)
        .from(E::default())
        .cond_where(due)
        .order_by(order, sea_orm::sea_query::Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned()
}

fn unleased<C: ColumnTrait>(claimed_until: C, now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(claimed_until.is_null())
        .add(claimed_until.lt(now))
}

/// Locks up to `limit` pending notifications that are due, for the caller's transaction: on
/// PostgreSQL other dispatchers skip the locked rows; on SQLite the caller's write transaction
/// (see `begin_write`) excludes other writers. The caller settles every row (dispatched, deferred
/// or unreachable) before committing, so a crash rolls the claim back and loses nothing.
pub async fn lock_due_notifications(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<notifications::Model>, DbErr> {
    use notifications::Column;
    notifications::Entity::find()
        .filter(Column::Status.eq(status::PENDING))
        .filter(Column::NotBefore.lte(now))
        .order_by_asc(Column::NotBefore)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(txn)
        .await
}

/// The notification waits (quiet hours): it becomes due again at `until`.
pub async fn defer_notification(
    db: &impl ConnectionTrait,
    id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    notifications::Entity::update_many()
        .col_expr(notifications::Column::NotBefore, Expr::value(until))
        .filter(notifications::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks notifications as handed to their deliveries (`dispatched`) or as having had nowhere to go
/// (`unreachable`).
pub async fn finish_notifications(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    final_status: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    notifications::Entity::update_many()
        .col_expr(notifications::Column::Status, Expr::value(final_status))
        .col_expr(notifications::Column::DispatchedAt, Expr::value(now))
        .filter(notifications::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Creates one delivery per (notification, subscription). Creating the same pair again does
/// nothing, so a dispatcher that died half-way can simply start over.
pub async fn create_deliveries(
    db: &impl ConnectionTrait,
    pairs: &[(Uuid, Uuid)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if pairs.is_empty() {
        return Ok(());
    }
    let rows =
        pairs.iter().map(
            |(notification_id, subscription_id)| push_deliveries::ActiveModel {
                id: Set(id_at(now)),
                notification_id: Set(*notification_id),
                subscription_id: Set(*subscription_id),
                status: Set(status::PENDING.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                claimed_until: Set(None),
                last_status: Set(None),
                delivered_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            },
        );
    push_deliveries::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            push_deliveries::Column::NotificationId,
            push_deliveries::Column::SubscriptionId,
        ])
        .exec(db)
        .await?;
    Ok(())
}

/// Claims up to `limit` deliveries due for an attempt, counting the attempt.
pub async fn claim_due_deliveries(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u64,
) -> Result<Vec<push_deliveries::Model>, DbErr> {
    use push_deliveries::Column;
    let due = Condition::all()
        .add(Column::Status.eq(status::PENDING))
        .add(Column::NextAttemptAt.lte(now))
        .add(unleased(Column::ClaimedUntil, now));
    let ids = due_ids::<push_deliveries::Entity, _>(Column::Id, due, Column::NextAttemptAt, limit);
    push_deliveries::Entity::update_many()
        .col_expr(Column::ClaimedUntil, Expr::value(now + lease))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.in_subquery(ids))
        .exec_with_returning(db)
        .await
}

pub async fn notifications_by_id(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<notifications::Model>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// For deliveries the push service took (`delivered`): the safety alerts among their
/// notifications are marked delivered for their recipients (what coordinators see per recipient).
pub async fn confirm_alerts_delivered(
    db: &impl ConnectionTrait,
    delivered: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if delivered.is_empty() {
        return Ok(());
    }
    let notification_ids: Vec<Uuid> = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::Id.is_in(delivered.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|delivery| delivery.notification_id)
        .collect();
    let alerts = notifications::Entity::find()
        .filter(notifications::Column::Id.is_in(notification_ids))
        .filter(notifications::Column::Kind.eq("safety_alert"))
        .all(db)
        .await?;
    /// What the stored message of a `safety_alert` names (its JSON as `notify` writes it); read
    /// here without `notify`'s types so that the store does not import the layer above it.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct AlertOf {
        alert_id: Uuid,
    }
    for notification in alerts {
        if let Ok(AlertOf { alert_id }) = serde_json::from_value(notification.message) {
            super::outings::confirm_alert_reached(
                db,
                alert_id,
                notification.recipient_id,
                super::outings::Confirmed::Delivered,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// Ends deliveries with one status (delivered, failed, gone, expired) in one statement.
pub async fn finish_deliveries(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    final_status: &str,
    last_status: Option<u16>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut update = push_deliveries::Entity::update_many()
        .col_expr(push_deliveries::Column::Status, Expr::value(final_status))
        .col_expr(
            push_deliveries::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            push_deliveries::Column::LastStatus,
            Expr::value(last_status.map(i32::from)),
        )
        .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now));
    if final_status == status::DELIVERED {
        update = update.col_expr(push_deliveries::Column::DeliveredAt, Expr::value(now));
    }
    update
        .filter(push_deliveries::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Schedules another attempt of one delivery.
pub async fn retry_delivery(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
    last_status: Option<u16>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    push_deliveries::Entity::update_many()
        .col_expr(push_deliveries::Column::NextAttemptAt, Expr::value(at))
        .col_expr(
            push_deliveries::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            push_deliveries::Column::LastStatus,
            Expr::value(last_status.map(i32::from)),
        )
        .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now))
        .filter(push_deliveries::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Every pending delivery to these subscriptions ends as `gone` (the subscriptions were removed).
pub async fn abandon_deliveries_to(
    db: &impl ConnectionTrait,
    subscription_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if subscription_ids.is_empty() {
        return Ok(());
    }
    push_deliveries::Entity::update_many()
        .col_expr(push_deliveries::Column::Status, Expr::value(status::GONE))
        .col_expr(
            push_deliveries::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now))
        .filter(push_deliveries::Column::SubscriptionId.is_in(subscription_ids.iter().copied()))
        .filter(push_deliveries::Column::Status.eq(status::PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// Deliveries of one notification, for tests and operations.
pub async fn deliveries_of(
    db: &impl ConnectionTrait,
    notification_id: Uuid,
) -> Result<Vec<push_deliveries::Model>, DbErr> {
    push_deliveries::Entity::find()
        .filter(push_deliveries::Column::NotificationId.eq(notification_id))
        .all(db)
        .await
}
