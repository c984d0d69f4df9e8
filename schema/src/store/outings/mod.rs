//! Queries over outings, their members and check-ins (alerts and who is on duty are in `alerts`).
//! Mutations lock the outing row first (PostgreSQL `FOR UPDATE`; SQLite's write transaction holds
//! the database), so every change to one outing is decided one at a time.

use crate::domain::clock::id_at;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

use super::entities::{check_ins, outing_members, outings, people};
use super::{Page, PageRequest, fetch_page};
use crate::domain::outings::{OutingStatus, bounds};

mod alert_queries;
pub use alert_queries::*;

/// Someone's part in an outing.
pub mod member_role {
    pub const PARTICIPANT: &str = "participant";
    pub const LEAD: &str = "lead";
    pub const TRAINEE: &str = "trainee";
    pub const STAFF: &str = "staff";
}

/// An outing as it is planned: the one place an outing row is written out, so a new column gets
/// its value here and nowhere else. `row` gives the row of an outing nobody has started yet;
/// history (the demo, benchmarks) sets what happened since on the row it returns.
pub struct NewOuting<'a> {
    pub organisation_id: Uuid,
    pub participant_id: Uuid,
    pub lead_supporter_id: Uuid,
    pub staff_companion_id: Option<Uuid>,
    pub purpose: &'a str,
    pub place: &'a str,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub step_goal: &'a str,
    pub planned_start: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    pub check_in_interval_minutes: i32,
    pub grace_minutes: i32,
    /// Proposed (a supporter's, waiting for approval) or planned.
    pub status: OutingStatus,
    pub created_by: Uuid,
    pub approved_by: Option<Uuid>,
}

impl NewOuting<'_> {
    pub fn row(&self, id: Uuid, now: DateTime<Utc>) -> outings::Model {
        outings::Model {
            id,
            organisation_id: self.organisation_id,
            participant_id: self.participant_id,
            lead_supporter_id: self.lead_supporter_id,
            staff_companion_id: self.staff_companion_id,
            purpose: self.purpose.to_owned(),
            place: self.place.to_owned(),
            latitude: self.latitude,
            longitude: self.longitude,
            step_goal: self.step_goal.to_owned(),
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            check_in_interval_minutes: self.check_in_interval_minutes,
            grace_minutes: self.grace_minutes,
            status: self.status.as_str().to_owned(),
            created_by: self.created_by,
            approved_by: self.approved_by,
            started_at: None,
            ended_at: None,
            cancel_reason: None,
            anxiety_before: None,
            anxiety_after: None,
            confidence_before: None,
            confidence_after: None,
            supporter_note: None,
            check_in_due_at: None,
            watch_at: None,
            watch_step: None,
            overdue_alerted: false,
            extensions: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Inserts the outing and its members (each with a copy of the outing's times).
pub async fn create(
    db: &impl ConnectionTrait,
    outing: outings::Model,
    trainees: &[Uuid],
) -> Result<outings::Model, DbErr> {
    let mut members = vec![
        (outing.participant_id, member_role::PARTICIPANT),
        (outing.lead_supporter_id, member_role::LEAD),
    ];
    members.extend(trainees.iter().map(|id| (*id, member_role::TRAINEE)));
    if let Some(staff) = outing.staff_companion_id {
        members.push((staff, member_role::STAFF));
    }
    let created = outings::ActiveModel::from(outing).insert(db).await?;
    outing_members::Entity::insert_many(members.into_iter().map(|(person, role)| {
        outing_members::ActiveModel {
            outing_id: Set(created.id),
            person_id: Set(person),
            role: Set(role.to_owned()),
            planned_start: Set(created.planned_start),
            planned_end: Set(created.planned_end),
        }
    }))
    .exec(db)
    .await?;
    Ok(created)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<outings::Model>, DbErr> {
    outings::Entity::find_by_id(id).one(db).await
}

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<outings::Model>, DbErr> {
    outings::Entity::find()
        .filter(outings::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The outing, locked for the rest of the transaction.
pub async fn lock(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<outings::Model>, DbErr> {
    outings::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await
}

/// Writes every column of the outing as given. Its planned times must be the ones it was read
/// with: a change to them goes through [`save_retimed`], which also moves the members' copies.
pub async fn save(
    db: &impl ConnectionTrait,
    outing: outings::Model,
    now: DateTime<Utc>,
) -> Result<outings::Model, DbErr> {
    let mut active: outings::ActiveModel = outing.into();
    active = active.reset_all();
    active.updated_at = Set(now);
    active.update(db).await
}

/// Writes the outing whose planned start or end changed, and the copies of them its member rows
/// carry for "my day".
pub async fn save_retimed(
    db: &impl ConnectionTrait,
    outing: outings::Model,
    now: DateTime<Utc>,
) -> Result<outings::Model, DbErr> {
    let saved = save(db, outing, now).await?;
    outing_members::Entity::update_many()
        .col_expr(
            outing_members::Column::PlannedStart,
            Expr::value(saved.planned_start),
        )
        .col_expr(
            outing_members::Column::PlannedEnd,
            Expr::value(saved.planned_end),
        )
        .filter(outing_members::Column::OutingId.eq(saved.id))
        .exec(db)
        .await?;
    Ok(saved)
}

pub async fn members_of(
    db: &impl ConnectionTrait,
    outing_ids: &[Uuid],
) -> Result<Vec<outing_members::Model>, DbErr> {
    outing_members::Entity::find()
        .filter(outing_members::Column::OutingId.is_in(outing_ids.iter().copied()))
        .order_by_asc(outing_members::Column::OutingId)
        .all(db)
        .await
}

/// The members of the outings, each with their display name, in one statement.
pub async fn members_with_names_of(
    db: &impl ConnectionTrait,
    outing_ids: &[Uuid],
) -> Result<Vec<(outing_members::Model, String)>, DbErr> {
    if outing_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = outing_members::Entity::find()
        .select_also(people::Entity)
        .join(JoinType::InnerJoin, outing_members::Relation::Person.def())
        .filter(outing_members::Column::OutingId.is_in(outing_ids.iter().copied()))
        .order_by_asc(outing_members::Column::OutingId)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(member, person)| person.map(|person| (member, person.display_name)))
        .collect())
}

/// The person's outings overlapping `[from, to)`, by planned start: a range scan of the person's
/// member rows (whose copies of the times are indexed), bounded below by the longest an outing
/// can last.
pub async fn of_person_between(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<outings::Model>, DbErr> {
    let mine = Query::select()
        .column(outing_members::Column::OutingId)
        .from(outing_members::Entity)
        .and_where(outing_members::Column::PersonId.eq(person_id))
        .and_where(outing_members::Column::PlannedStart.lt(to))
        .and_where(outing_members::Column::PlannedStart.gt(from - bounds::longest_outing()))
        .and_where(outing_members::Column::PlannedEnd.gt(from))
        .to_owned();
    outings::Entity::find()
        .filter(outings::Column::Id.in_subquery(mine))
        .order_by_asc(outings::Column::PlannedStart)
        .order_by_asc(outings::Column::Id)
        .all(db)
        .await
}

/// What a coordinator's list may be narrowed to.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutingFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub status: Option<OutingStatus>,
    pub supporter_id: Option<Uuid>,
    pub participant_id: Option<Uuid>,
}

/// The organisation's outings, filtered, one page at a time (in creation order).
pub async fn list(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    filter: OutingFilter,
    page: PageRequest,
) -> Result<Page<outings::Model>, DbErr> {
    let mut select =
        outings::Entity::find().filter(outings::Column::OrganisationId.eq(organisation_id));
    if let Some(from) = filter.from {
        select = select.filter(outings::Column::PlannedEnd.gt(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(outings::Column::PlannedStart.lt(to));
    }
    if let Some(status) = filter.status {
        select = select.filter(outings::Column::Status.eq(status.as_str()));
    }
    if let Some(participant) = filter.participant_id {
        select = select.filter(outings::Column::ParticipantId.eq(participant));
    }
    if let Some(supporter) = filter.supporter_id {
        let theirs = Query::select()
            .column(outing_members::Column::OutingId)
            .from(outing_members::Entity)
            .and_where(outing_members::Column::PersonId.eq(supporter))
            .and_where(
                outing_members::Column::Role.is_in([member_role::LEAD, member_role::TRAINEE]),
            )
            .to_owned();
        select = select.filter(outings::Column::Id.in_subquery(theirs));
    }
    fetch_page(db, select, outings::Column::Id, page).await
}

/// The pair's outings not started yet (proposed or planned) that `supporter_id` leads, locked in
/// id order for the rest of the transaction: what ending their match calls off.
pub async fn lock_not_started_of_pair(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    participant_id: Uuid,
) -> Result<Vec<outings::Model>, DbErr> {
    outings::Entity::find()
        .filter(outings::Column::LeadSupporterId.eq(supporter_id))
        .filter(outings::Column::ParticipantId.eq(participant_id))
        .filter(
            outings::Column::Status
                .is_in([OutingStatus::Proposed, OutingStatus::Planned].map(OutingStatus::as_str)),
        )
        .order_by_asc(outings::Column::Id)
        .lock_exclusive()
        .all(db)
        .await
}

/// The supporter's outings (as lead or trainee) that count towards weekly caps: planned starts in
/// `[from, to)`, not cancelled, excluding `except` (the outing being replanned).
pub async fn supporter_outings_between(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<outings::Model>, DbErr> {
    let theirs = Query::select()
        .column(outing_members::Column::OutingId)
        .from(outing_members::Entity)
        .and_where(outing_members::Column::PersonId.eq(supporter_id))
        .and_where(outing_members::Column::PlannedStart.gte(from))
        .and_where(outing_members::Column::PlannedStart.lt(to))
        .and_where(outing_members::Column::Role.is_in([member_role::LEAD, member_role::TRAINEE]))
        .to_owned();
    let mut select = outings::Entity::find()
        .filter(outings::Column::Id.in_subquery(theirs))
        .filter(outings::Column::Status.ne(OutingStatus::Cancelled.as_str()));
    if let Some(except) = except {
        select = select.filter(outings::Column::Id.ne(except));
    }
    select.all(db).await
}

/// Outings and planned minutes per supporter (lead or trainee) with planned starts in
/// `[from, to)`, not cancelled: for the workload view, in one statement.
pub async fn supporter_totals_between(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<Uuid, (u32, i64)>, DbErr> {
    let select = Query::select()
        .column((outing_members::Entity, outing_members::Column::PersonId))
        .column((outings::Entity, outings::Column::PlannedStart))
        .column((outings::Entity, outings::Column::PlannedEnd))
        .from(outing_members::Entity)
        .inner_join(
            outings::Entity,
            Expr::col((outings::Entity, outings::Column::Id))
                .equals((outing_members::Entity, outing_members::Column::OutingId)),
        )
        .and_where(
            Expr::col((outings::Entity, outings::Column::OrganisationId)).eq(organisation_id),
        )
        .and_where(Expr::col((outings::Entity, outings::Column::PlannedStart)).gte(from))
        .and_where(Expr::col((outings::Entity, outings::Column::PlannedStart)).lt(to))
        .and_where(
            Expr::col((outings::Entity, outings::Column::Status))
                .ne(OutingStatus::Cancelled.as_str()),
        )
        .and_where(
            Expr::col((outing_members::Entity, outing_members::Column::Role))
                .is_in([member_role::LEAD, member_role::TRAINEE]),
        )
        .to_owned();
    let mut totals: HashMap<Uuid, (u32, i64)> = HashMap::new();
    for row in db.query_all(&select).await? {
        let person: Uuid = row.try_get("", "person_id")?;
        let start: DateTime<Utc> = row.try_get("", "planned_start")?;
        let end: DateTime<Utc> = row.try_get("", "planned_end")?;
        let entry = totals.entry(person).or_default();
        entry.0 += 1;
        entry.1 += (end - start).num_minutes();
    }
    Ok(totals)
}

pub struct NewCheckIn<'a> {
    pub outing_id: Uuid,
    pub person_id: Uuid,
    pub kind: &'a str,
    pub made_at: DateTime<Utc>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub note: &'a str,
}

pub async fn add_check_in(
    db: &impl ConnectionTrait,
    new: NewCheckIn<'_>,
    now: DateTime<Utc>,
) -> Result<check_ins::Model, DbErr> {
    check_ins::ActiveModel {
        id: Set(id_at(now)),
        outing_id: Set(new.outing_id),
        person_id: Set(new.person_id),
        kind: Set(new.kind.to_owned()),
        made_at: Set(new.made_at),
        received_at: Set(now),
        latitude: Set(new.latitude),
        longitude: Set(new.longitude),
        note: Set(new.note.to_owned()),
    }
    .insert(db)
    .await
}

/// The latest time a check-in of the outing was made, if any.
pub async fn latest_check_in_at(
    db: &impl ConnectionTrait,
    outing_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let select = Query::select()
        .expr_as(Func::max(Expr::col(check_ins::Column::MadeAt)), "latest")
        .from(check_ins::Entity)
        .and_where(check_ins::Column::OutingId.eq(outing_id))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => row.try_get("", "latest"),
        None => Ok(None),
    }
}

/// Check-ins of the outings, in the order they were made.
pub async fn check_ins_of(
    db: &impl ConnectionTrait,
    outing_ids: &[Uuid],
) -> Result<Vec<check_ins::Model>, DbErr> {
    check_ins::Entity::find()
        .filter(check_ins::Column::OutingId.is_in(outing_ids.iter().copied()))
        .order_by_asc(check_ins::Column::MadeAt)
        .order_by_asc(check_ins::Column::Id)
        .all(db)
        .await
}

/// Outings whose watchdog look is due, locked (other watchdogs skip them on PostgreSQL).
pub async fn lock_due_watches(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outings::Model>, DbErr> {
    outings::Entity::find()
        .filter(outings::Column::WatchAt.lte(now))
        .order_by_asc(outings::Column::WatchAt)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}
