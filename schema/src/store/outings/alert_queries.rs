//! Alerts of outings: raising, locking and saving them, who they reached and who confirmed, the
//! lists coordinators read, and who is on duty.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::domain::outings::AlertStatus;
use crate::store::entities::{alert_recipients, alerts, on_duty, outings, people};
use crate::store::{Page, PageRequest};

/// Active alerts whose next look is due (an open one climbs, an acknowledged one reminds its
/// owner), locked (other watchdogs skip them).
pub async fn lock_due_escalations(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<alerts::Model>, DbErr> {
    alerts::Entity::find()
        .filter(alerts::Column::EscalateAt.lte(now))
        .filter(alerts::Column::Status.ne(AlertStatus::Resolved.as_str()))
        .order_by_asc(alerts::Column::EscalateAt)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

pub async fn insert_alert(
    db: &impl ConnectionTrait,
    alert: alerts::Model,
) -> Result<alerts::Model, DbErr> {
    alerts::ActiveModel::from(alert).insert(db).await
}

pub async fn save_alert(
    db: &impl ConnectionTrait,
    alert: alerts::Model,
) -> Result<alerts::Model, DbErr> {
    alerts::ActiveModel::from(alert)
        .reset_all()
        .update(db)
        .await
}

pub async fn find_alerts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<alerts::Model>, DbErr> {
    alerts::Entity::find()
        .filter(alerts::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(alerts::Column::Id)
        .all(db)
        .await
}

/// The alert, locked for the rest of the transaction (a resolution is decided once).
pub async fn lock_alert(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<alerts::Model>, DbErr> {
    alerts::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await
}

/// Takes ownership of an open alert unless someone already has: the first acknowledgement wins.
/// Escalation stops; `remind_at` is when the owner is reminded if it is still unresolved.
pub async fn acknowledge(
    db: &impl ConnectionTrait,
    alert_id: Uuid,
    owner_id: Uuid,
    remind_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = alerts::Entity::update_many()
        .col_expr(
            alerts::Column::Status,
            Expr::value(AlertStatus::Acknowledged.as_str()),
        )
        .col_expr(alerts::Column::OwnerId, Expr::value(owner_id))
        .col_expr(alerts::Column::AcknowledgedAt, Expr::value(now))
        .col_expr(alerts::Column::EscalateAt, Expr::value(remind_at))
        .col_expr(
            alerts::Column::OwnerRemindedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(alerts::Column::Id.eq(alert_id))
        .filter(alerts::Column::Status.eq(AlertStatus::Open.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Alerts whose people are due to be told the emergency numbers, locked (other watchdogs skip
/// them).
pub async fn lock_due_advice(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<alerts::Model>, DbErr> {
    alerts::Entity::find()
        .filter(alerts::Column::AdviseAt.lte(now))
        .order_by_asc(alerts::Column::AdviseAt)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

/// The outing's alerts that are not resolved, oldest first, locked (a joining check-in, a late
/// answer and a resolution are decided one at a time; always locked after the outing).
pub async fn lock_active_alerts_of(
    db: &impl ConnectionTrait,
    outing_id: Uuid,
) -> Result<Vec<alerts::Model>, DbErr> {
    alerts::Entity::find()
        .filter(alerts::Column::OutingId.eq(outing_id))
        .filter(alerts::Column::Status.ne(AlertStatus::Resolved.as_str()))
        .order_by_asc(alerts::Column::Id)
        .lock_exclusive()
        .all(db)
        .await
}

/// Whom the alert has reached so far.
pub async fn reached_by(db: &impl ConnectionTrait, alert_id: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(alert_recipients::Entity::find()
        .filter(alert_recipients::Column::AlertId.eq(alert_id))
        .order_by_asc(alert_recipients::Column::PersonId)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.person_id)
        .collect())
}

/// Records that the alert reached `people` at `now` (first time, or again).
pub async fn record_reached(
    db: &impl ConnectionTrait,
    alert_id: Uuid,
    people: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if people.is_empty() {
        return Ok(());
    }
    let rows = people.iter().map(|person| alert_recipients::ActiveModel {
        alert_id: Set(alert_id),
        person_id: Set(*person),
        first_notified_at: Set(now),
        last_notified_at: Set(now),
        delivered_at: Set(None),
        shown_at: Set(None),
        emailed_at: Set(None),
    });
    alert_recipients::Entity::insert_many(rows)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                alert_recipients::Column::AlertId,
                alert_recipients::Column::PersonId,
            ])
            .update_column(alert_recipients::Column::LastNotifiedAt)
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Whom each alert reached and what their phones confirmed, by alert.
pub async fn recipients_of_alerts(
    db: &impl ConnectionTrait,
    alert_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<(alert_recipients::Model, String)>>, DbErr> {
    let rows = alert_recipients::Entity::find()
        .filter(alert_recipients::Column::AlertId.is_in(alert_ids.iter().copied()))
        .order_by_asc(alert_recipients::Column::FirstNotifiedAt)
        .order_by_asc(alert_recipients::Column::PersonId)
        .all(db)
        .await?;
    let person_ids: Vec<Uuid> = rows.iter().map(|row| row.person_id).collect();
    let names: HashMap<Uuid, String> = people::Entity::find()
        .filter(people::Column::Id.is_in(person_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|person| (person.id, person.display_name))
        .collect();
    let mut by_alert: HashMap<Uuid, Vec<(alert_recipients::Model, String)>> = HashMap::new();
    for row in rows {
        let name = names.get(&row.person_id).cloned().unwrap_or_default();
        by_alert.entry(row.alert_id).or_default().push((row, name));
    }
    Ok(by_alert)
}

/// Which of an alert's pushes a phone confirmed: the push service took one (`Delivered`) or the
/// app showed it (`Shown`, which implies delivered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmed {
    Delivered,
    Shown,
}

/// Records what `person`'s phone confirmed of `alert_id` (the first time of each counts).
/// Returns whether the person is one the alert reached.
pub async fn confirm_alert_reached(
    db: &impl ConnectionTrait,
    alert_id: Uuid,
    person_id: Uuid,
    confirmed: Confirmed,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut columns = vec![alert_recipients::Column::DeliveredAt];
    if confirmed == Confirmed::Shown {
        columns.push(alert_recipients::Column::ShownAt);
    }
    let mut found = false;
    for column in columns {
        let updated = alert_recipients::Entity::update_many()
            .col_expr(column, Expr::value(now))
            .filter(alert_recipients::Column::AlertId.eq(alert_id))
            .filter(alert_recipients::Column::PersonId.eq(person_id))
            .filter(column.is_null())
            .exec(db)
            .await?;
        found |= updated.rows_affected > 0;
    }
    if !found {
        found = alert_recipients::Entity::find_by_id((alert_id, person_id))
            .one(db)
            .await?
            .is_some();
    }
    Ok(found)
}

/// Puts off the watchdog's next look at an outing (a row it could not handle: it is tried again
/// later instead of failing every tick).
pub async fn defer_watch(
    db: &impl ConnectionTrait,
    outing_id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    outings::Entity::update_many()
        .col_expr(outings::Column::WatchAt, Expr::value(until))
        .filter(outings::Column::Id.eq(outing_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts off the watchdog's next look at an alert, as [`defer_watch`] does for outings.
pub async fn defer_escalation(
    db: &impl ConnectionTrait,
    alert_id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    alerts::Entity::update_many()
        .col_expr(alerts::Column::EscalateAt, Expr::value(until))
        .filter(alerts::Column::Id.eq(alert_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Alerts of the outings, oldest first.
pub async fn alerts_of_outings(
    db: &impl ConnectionTrait,
    outing_ids: &[Uuid],
) -> Result<Vec<alerts::Model>, DbErr> {
    alerts::Entity::find()
        .filter(alerts::Column::OutingId.is_in(outing_ids.iter().copied()))
        .order_by_asc(alerts::Column::Id)
        .all(db)
        .await
}

/// The organisation's alerts, optionally of one status, one page at a time: those that can reach
/// nobody first (someone must act on them now), then the rest, each in id order. The cursor is
/// the id; the page after it continues in the cursor's group.
pub async fn list_alerts(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    status: Option<AlertStatus>,
    page: PageRequest,
) -> Result<Page<alerts::Model>, DbErr> {
    use alerts::Column;
    let mut select = alerts::Entity::find().filter(Column::OrganisationId.eq(organisation_id));
    if let Some(status) = status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(after) = page.after {
        let cursor_unreachable = alerts::Entity::find_by_id(after)
            .one(db)
            .await?
            .is_some_and(|alert| alert.unreachable_since.is_some());
        let after_in_group = Column::Id.gt(after);
        select = select.filter(if cursor_unreachable {
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(Column::UnreachableSince.is_not_null())
                        .add(after_in_group),
                )
                .add(Column::UnreachableSince.is_null())
        } else {
            sea_orm::Condition::all()
                .add(Column::UnreachableSince.is_null())
                .add(after_in_group)
        });
    }
    let mut items = select
        .order_by(
            Expr::col(Column::UnreachableSince).is_null(),
            sea_orm::Order::Asc,
        )
        .order_by_asc(Column::Id)
        .limit(page.first + 1)
        .all(db)
        .await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(usize::try_from(page.first).unwrap_or(usize::MAX));
    Ok(Page {
        items,
        has_next_page,
    })
}

/// The coordinators on duty in the organisation.
pub async fn on_duty_in(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    Ok(on_duty::Entity::find()
        .filter(on_duty::Column::OrganisationId.eq(organisation_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.person_id)
        .collect())
}

/// Puts the coordinator on duty or takes them off.
pub async fn set_on_duty(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    organisation_id: Uuid,
    on: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let existing = on_duty::Entity::find_by_id(person_id).one(db).await?;
    match (existing, on) {
        (None, true) => {
            on_duty::ActiveModel {
                person_id: Set(person_id),
                organisation_id: Set(organisation_id),
                since: Set(now),
            }
            .insert(db)
            .await?;
        }
        (Some(row), false) => {
            on_duty::Entity::delete_by_id(row.person_id)
                .exec(db)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
