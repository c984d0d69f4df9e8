//! Queries over Web Push subscriptions: registering (once per endpoint), removing, listing, and
//! recording what push services answered.

use crate::domain::clock::id_at;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{people, push_subscriptions};
use super::{Page, PageRequest, fetch_page};
use crate::domain::people::Locale;

/// A subscription that failed this many times in a row counts as not reaching its device.
pub const FAILING_AFTER: i32 = 3;

pub mod outcome {
    pub const DELIVERED: &str = "delivered";
    pub const RETRYING: &str = "retrying";
    pub const FAILED: &str = "failed";
    pub const GONE: &str = "gone";
}

pub mod removed_reason {
    pub const UNREGISTERED: &str = "unregistered";
    pub const GONE: &str = "gone";
    pub const DEVICE_REVOKED: &str = "device_revoked";
}

pub struct NewSubscription<'a> {
    pub person: &'a people::Model,
    pub device_id: Option<Uuid>,
    pub endpoint: &'a str,
    pub endpoint_hash: String,
    pub p256dh: &'a str,
    pub auth: &'a str,
    pub label: &'a str,
    pub locale: Option<Locale>,
}

/// Registers a subscription; the same endpoint registered again (a browser re-subscribing, or a
/// phone handed to someone else and paired again) updates the one row.
pub async fn register(
    db: &impl ConnectionTrait,
    new: NewSubscription<'_>,
    now: DateTime<Utc>,
) -> Result<push_subscriptions::Model, DbErr> {
    let existing = push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::EndpointHash.eq(&new.endpoint_hash))
        .one(db)
        .await?;
    let is_new = existing.is_none();
    let mut active = match existing {
        Some(row) => row.into(),
        None => push_subscriptions::ActiveModel {
            id: Set(id_at(now)),
            endpoint_hash: Set(new.endpoint_hash.clone()),
            created_at: Set(now),
            last_outcome: Set(None),
            last_outcome_at: Set(None),
            last_delivered_at: Set(None),
            ..Default::default()
        },
    };
    active.organisation_id = Set(new.person.organisation_id);
    active.person_id = Set(new.person.id);
    active.device_id = Set(new.device_id);
    active.endpoint = Set(new.endpoint.to_owned());
    active.p256dh = Set(new.p256dh.to_owned());
    active.auth = Set(new.auth.to_owned());
    active.label = Set(new.label.to_owned());
    active.locale = Set(new.locale.map(|locale| locale.as_str().to_owned()));
    active.updated_at = Set(now);
    active.removed_at = Set(None);
    active.removed_reason = Set(None);
    active.consecutive_failures = Set(0);
    if is_new {
        active.insert(db).await
    } else {
        active.update(db).await
    }
}

pub async fn find_by_endpoint_hash(
    db: &impl ConnectionTrait,
    endpoint_hash: &str,
) -> Result<Option<push_subscriptions::Model>, DbErr> {
    push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::EndpointHash.eq(endpoint_hash))
        .one(db)
        .await
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<push_subscriptions::Model>, DbErr> {
    push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Every subscription of a person, removed ones included (coordinators see what happened).
pub async fn list_for_person(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    page: PageRequest,
) -> Result<Page<push_subscriptions::Model>, DbErr> {
    let select = push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::PersonId.eq(person_id));
    fetch_page(db, select, push_subscriptions::Column::Id, page).await
}

/// The subscriptions messages go to: not removed, for any of `person_ids`.
pub async fn active_for_people(
    db: &impl ConnectionTrait,
    person_ids: &[Uuid],
) -> Result<Vec<push_subscriptions::Model>, DbErr> {
    push_subscriptions::Entity::find()
        .filter(push_subscriptions::Column::PersonId.is_in(person_ids.iter().copied()))
        .filter(push_subscriptions::Column::RemovedAt.is_null())
        .order_by_asc(push_subscriptions::Column::Id)
        .all(db)
        .await
}

/// Marks the subscriptions with these ids removed (`reason`: one of [`removed_reason`]); returns
/// how many were still active.
pub async fn remove_by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    remove_where(
        db,
        push_subscriptions::Column::Id.is_in(ids.iter().copied()),
        reason,
        now,
    )
    .await
}

/// Marks every subscription of the device removed (a revoked phone stops receiving too); returns
/// how many were still active.
pub async fn remove_of_device(
    db: &impl ConnectionTrait,
    device_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    remove_where(
        db,
        push_subscriptions::Column::DeviceId.eq(device_id),
        reason,
        now,
    )
    .await
}

async fn remove_where(
    db: &impl ConnectionTrait,
    condition: sea_orm::sea_query::SimpleExpr,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = push_subscriptions::Entity::update_many()
        .col_expr(push_subscriptions::Column::RemovedAt, Expr::value(now))
        .col_expr(
            push_subscriptions::Column::RemovedReason,
            Expr::value(reason),
        )
        .col_expr(push_subscriptions::Column::UpdatedAt, Expr::value(now))
        .filter(condition)
        .filter(push_subscriptions::Column::RemovedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Records one outcome for several subscriptions in one statement.
pub async fn record_outcome(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    what: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let failures = if what == outcome::DELIVERED {
        Expr::value(0)
    } else {
        Expr::col(push_subscriptions::Column::ConsecutiveFailures).add(1)
    };
    let mut update = push_subscriptions::Entity::update_many()
        .col_expr(push_subscriptions::Column::LastOutcome, Expr::value(what))
        .col_expr(push_subscriptions::Column::LastOutcomeAt, Expr::value(now))
        .col_expr(push_subscriptions::Column::ConsecutiveFailures, failures);
    if what == outcome::DELIVERED {
        update = update.col_expr(
            push_subscriptions::Column::LastDeliveredAt,
            Expr::value(now),
        );
    }
    update
        .filter(push_subscriptions::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The condition on `people` that keeps those with no subscription that currently reaches them:
/// none registered, all removed, or all failing.
pub fn unreachable_people() -> Condition {
    let reachable = Query::select()
        .expr(Expr::val(1))
        .from(push_subscriptions::Entity)
        .and_where(
            Expr::col((
                push_subscriptions::Entity,
                push_subscriptions::Column::PersonId,
            ))
            .equals((people::Entity, people::Column::Id)),
        )
        .and_where(push_subscriptions::Column::RemovedAt.is_null())
        .and_where(push_subscriptions::Column::ConsecutiveFailures.lt(FAILING_AFTER))
        .to_owned();
    Condition::all().add(Expr::exists(reachable).not())
}

/// Those of `people` with a subscription that currently reaches them.
pub async fn reachable_among(
    db: &impl ConnectionTrait,
    people: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let mut reachable: Vec<Uuid> = push_subscriptions::Entity::find()
        .select_only()
        .column(push_subscriptions::Column::PersonId)
        .filter(push_subscriptions::Column::PersonId.is_in(people.iter().copied()))
        .filter(push_subscriptions::Column::RemovedAt.is_null())
        .filter(push_subscriptions::Column::ConsecutiveFailures.lt(FAILING_AFTER))
        .into_tuple()
        .all(db)
        .await?;
    reachable.sort_unstable();
    reachable.dedup();
    Ok(reachable)
}

/// Whether a subscription still reaches its device.
pub fn is_reaching(subscription: &push_subscriptions::Model) -> bool {
    subscription.removed_at.is_none() && subscription.consecutive_failures < FAILING_AFTER
}
