//! Storage of the on-duty rota (weekly patterns and dated exceptions), "who is on duty now" (the
//! rota plus anyone put on call by hand with `setOnDuty`), and the alerts a handover looks at.

use crate::domain::clock::id_at;
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc, Weekday};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{alerts, duty_exceptions, duty_shifts};
use crate::domain::outings::AlertStatus;
use crate::domain::rota::{
    DutyException, ExceptionKind, Rota, WeeklyShift, format_time, parse_time,
};

/// Exceptions this far either side of a window are read too: a night shift or a period that
/// started before the window (and a handover's look back) depend on them.
const EXCEPTION_MARGIN_DAYS: i64 = 3;

/// The coordinator's weekly pattern, replaced as a whole.
pub async fn replace_pattern(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    person_id: Uuid,
    shifts: &[WeeklyShift],
    now: DateTime<Utc>,
) -> Result<Vec<duty_shifts::Model>, DbErr> {
    duty_shifts::Entity::delete_many()
        .filter(duty_shifts::Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    let mut saved = Vec::with_capacity(shifts.len());
    for shift in shifts {
        let row = duty_shifts::ActiveModel {
            id: Set(id_at(now)),
            organisation_id: Set(organisation_id),
            person_id: Set(person_id),
            weekday: Set(i16::try_from(shift.weekday.number_from_monday()).unwrap_or(1)),
            start_time: Set(format_time(shift.start)),
            end_time: Set(format_time(shift.end)),
        }
        .insert(db)
        .await?;
        saved.push(row);
    }
    Ok(saved)
}

/// The organisation's weekly patterns, by person then weekday then start.
pub async fn shifts_in(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<duty_shifts::Model>, DbErr> {
    duty_shifts::Entity::find()
        .filter(duty_shifts::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(duty_shifts::Column::PersonId)
        .order_by_asc(duty_shifts::Column::Weekday)
        .order_by_asc(duty_shifts::Column::StartTime)
        .order_by_asc(duty_shifts::Column::Id)
        .all(db)
        .await
}

pub async fn insert_exception(
    db: &impl ConnectionTrait,
    row: duty_exceptions::Model,
) -> Result<duty_exceptions::Model, DbErr> {
    duty_exceptions::ActiveModel::from(row).insert(db).await
}

pub async fn find_exception(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<duty_exceptions::Model>, DbErr> {
    duty_exceptions::Entity::find_by_id(id).one(db).await
}

pub async fn delete_exception(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    duty_exceptions::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The organisation's exceptions overlapping `[from, to)`, by start.
pub async fn exceptions_in(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<duty_exceptions::Model>, DbErr> {
    duty_exceptions::Entity::find()
        .filter(duty_exceptions::Column::OrganisationId.eq(organisation_id))
        .filter(duty_exceptions::Column::EndsAt.gt(from))
        .filter(duty_exceptions::Column::StartsAt.lt(to))
        .order_by_asc(duty_exceptions::Column::StartsAt)
        .order_by_asc(duty_exceptions::Column::Id)
        .all(db)
        .await
}

fn weekday(number: i16) -> Option<Weekday> {
    match number {
        1 => Some(Weekday::Mon),
        2 => Some(Weekday::Tue),
        3 => Some(Weekday::Wed),
        4 => Some(Weekday::Thu),
        5 => Some(Weekday::Fri),
        6 => Some(Weekday::Sat),
        7 => Some(Weekday::Sun),
        _ => None,
    }
}

/// A stored shift as the rules see it (none when a stored value does not parse).
pub fn shift_of(row: &duty_shifts::Model) -> Option<WeeklyShift> {
    WeeklyShift::new(
        row.person_id,
        weekday(row.weekday)?,
        parse_time(&row.start_time).ok()?,
        parse_time(&row.end_time).ok()?,
    )
    .ok()
}

/// The organisation's rota with the exceptions that matter for times in `[from, to)`.
pub async fn rota_of(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Rota, DbErr> {
    let zone = super::organisations::find(db, organisation_id)
        .await?
        .and_then(|organisation| organisation.time_zone.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let mut shifts = Vec::new();
    for row in shifts_in(db, organisation_id).await? {
        match shift_of(&row) {
            Some(shift) => shifts.push(shift),
            None => {
                tracing::warn!(shift_id = %row.id, "a stored duty shift does not parse; ignored")
            }
        }
    }
    let margin = Duration::days(EXCEPTION_MARGIN_DAYS);
    let mut exceptions = Vec::new();
    for row in exceptions_in(db, organisation_id, from - margin, to + margin).await? {
        match ExceptionKind::parse(&row.kind) {
            Ok(kind) => exceptions.push(DutyException {
                person_id: row.person_id,
                from: row.starts_at,
                to: row.ends_at,
                kind,
            }),
            Err(_) => {
                tracing::warn!(exception_id = %row.id, "a stored duty exception does not parse; ignored");
            }
        }
    }
    Ok(Rota {
        zone,
        shifts,
        exceptions,
    })
}

/// The organisation's coordinators on duty at `now`: on shift by the rota, or on call outside the
/// rota by hand (`setOnDuty`, until turned off). Ordered by id (the handover's stable order).
pub async fn on_duty_now(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    let rota = rota_of(db, organisation_id, now, now).await?;
    Ok(on_duty_with(db, organisation_id, &rota, now)
        .await?
        .into_iter()
        .collect())
}

/// As [`on_duty_now`], with the rota already read.
pub async fn on_duty_with(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    rota: &Rota,
    now: DateTime<Utc>,
) -> Result<BTreeSet<Uuid>, DbErr> {
    let mut on = rota.on_duty_at(now);
    on.extend(super::outings::on_duty_in(db, organisation_id).await?);
    // Someone who is no longer a coordinator is nobody's safety net.
    let coordinators: HashSet<Uuid> = super::people::coordinators_of(db, organisation_id)
        .await?
        .into_iter()
        .map(|person| person.id)
        .collect();
    on.retain(|id| coordinators.contains(id));
    Ok(on)
}

/// Which of `person_ids` are on duty at `now` (by rota or by hand).
pub async fn on_duty_among(
    db: &impl ConnectionTrait,
    person_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashSet<Uuid>, DbErr> {
    let mut by_organisation: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for person in super::people::find_many(db, person_ids).await? {
        by_organisation
            .entry(person.organisation_id)
            .or_default()
            .push(person.id);
    }
    let mut on = HashSet::new();
    for (organisation_id, people) in by_organisation {
        let on_duty = on_duty_now(db, organisation_id, now).await?;
        on.extend(people.into_iter().filter(|id| on_duty.contains(id)));
    }
    Ok(on)
}

/// Every acknowledged, unresolved alert with an owner (read without locks: they are few, and most
/// ticks hand nothing over).
pub async fn owned_alerts(db: &impl ConnectionTrait) -> Result<Vec<alerts::Model>, DbErr> {
    alerts::Entity::find()
        .filter(alerts::Column::Status.eq(AlertStatus::Acknowledged.as_str()))
        .filter(alerts::Column::OwnerId.is_not_null())
        .order_by_asc(alerts::Column::Id)
        .all(db)
        .await
}

/// The alerts among `ids`, locked for the rest of the transaction; those another watchdog holds
/// are skipped (it is handing them over).
pub async fn lock_alerts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<alerts::Model>, DbErr> {
    alerts::Entity::find()
        .filter(alerts::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(alerts::Column::Id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_weekdays_round_trip() {
        for day in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            let number = i16::try_from(day.number_from_monday()).unwrap_or(0);
            assert_eq!(weekday(number), Some(day));
        }
        assert_eq!(weekday(0), None);
        assert_eq!(weekday(8), None);
    }
}
