//! Queries over support matches: creating, moving through the lifecycle with conditional updates
//! (a concurrent change makes the second one fail instead of overwriting), counting each
//! supporter's load, and listing what a viewer may see.

use crate::domain::clock::id_at;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::entities::{support_matches, supporter_profiles};
use super::{Page, PageRequest, fetch_page};
use crate::domain::access::Viewer;
use crate::domain::matching::{EndReason, MatchLoad, MatchStatus};
use crate::domain::people::Role;

/// Locks the supporter's profile row until the transaction ends (PostgreSQL `FOR UPDATE`; on
/// SQLite the write transaction already holds the database), so that two proposals for one
/// supporter are decided one after the other and never both take the last place.
pub async fn lock_supporter(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
) -> Result<Option<supporter_profiles::Model>, DbErr> {
    supporter_profiles::Entity::find_by_id(supporter_id)
        .lock_exclusive()
        .one(db)
        .await
}

fn proposal_still_waiting(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(support_matches::Column::Status.ne(MatchStatus::Proposed.as_str()))
        .add(support_matches::Column::ExpiresAt.gt(now))
}

/// The open matches of each supporter, counted per status. A proposal past its expiry no longer
/// counts, even before the sweep marks it expired.
pub async fn load_of(
    db: &impl ConnectionTrait,
    supporter_ids: Option<&[Uuid]>,
    organisation_id: Uuid,
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, MatchLoad>, DbErr> {
    let mut select = Query::select();
    select
        .column(support_matches::Column::SupporterId)
        .column(support_matches::Column::Status)
        .expr_as(Func::count(Expr::col(support_matches::Column::Id)), "n")
        .from(support_matches::Entity)
        .and_where(support_matches::Column::OrganisationId.eq(organisation_id))
        .and_where(
            support_matches::Column::Status.is_in(MatchStatus::OPEN.map(MatchStatus::as_str)),
        )
        .cond_where(proposal_still_waiting(now))
        .group_by_col(support_matches::Column::SupporterId)
        .group_by_col(support_matches::Column::Status);
    if let Some(ids) = supporter_ids {
        select.and_where(support_matches::Column::SupporterId.is_in(ids.iter().copied()));
    }
    let mut loads: HashMap<Uuid, MatchLoad> = HashMap::new();
    for row in db.query_all(&select).await? {
        let supporter: Uuid = row.try_get("", "supporter_id")?;
        let status: String = row.try_get("", "status")?;
        let count: i64 = row.try_get("", "n")?;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let load = loads.entry(supporter).or_default();
        match MatchStatus::parse(&status) {
            Ok(MatchStatus::Active) => load.active = count,
            Ok(MatchStatus::Proposed) => load.proposed = count,
            Ok(MatchStatus::Paused) => load.paused = count,
            _ => {}
        }
    }
    Ok(loads)
}

/// Marks the pair's proposals that are past their expiry as expired (the sweep may not have run
/// yet), so that a new proposal for the pair is possible. Returns them.
pub async fn expire_stale_for_pair(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    participant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<support_matches::Model>, DbErr> {
    expire(
        db,
        Condition::all()
            .add(support_matches::Column::SupporterId.eq(supporter_id))
            .add(support_matches::Column::ParticipantId.eq(participant_id)),
        now,
    )
    .await
}

/// Expires every proposal past its expiry; returns the ones this call changed (another instance
/// running the same sweep gets the others, never the same ones).
pub async fn expire_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<support_matches::Model>, DbErr> {
    expire(db, Condition::all(), now).await
}

async fn expire(
    db: &impl ConnectionTrait,
    scope: Condition,
    now: DateTime<Utc>,
) -> Result<Vec<support_matches::Model>, DbErr> {
    support_matches::Entity::update_many()
        .col_expr(
            support_matches::Column::Status,
            Expr::value(MatchStatus::Expired.as_str()),
        )
        .col_expr(support_matches::Column::UpdatedAt, Expr::value(now))
        .filter(scope)
        .filter(support_matches::Column::Status.eq(MatchStatus::Proposed.as_str()))
        .filter(support_matches::Column::ExpiresAt.lte(now))
        .exec_with_returning(db)
        .await
}

pub struct NewMatch {
    pub organisation_id: Uuid,
    pub supporter_id: Uuid,
    pub participant_id: Uuid,
    pub proposed_by: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Creates a proposal. A second open match for the pair is a unique violation (CONFLICT).
pub async fn propose(
    db: &impl ConnectionTrait,
    new: NewMatch,
    now: DateTime<Utc>,
) -> Result<support_matches::Model, DbErr> {
    support_matches::ActiveModel {
        id: Set(id_at(now)),
        organisation_id: Set(new.organisation_id),
        supporter_id: Set(new.supporter_id),
        participant_id: Set(new.participant_id),
        status: Set(MatchStatus::Proposed.as_str().to_owned()),
        proposed_by: Set(new.proposed_by),
        proposed_at: Set(now),
        expires_at: Set(new.expires_at),
        responded_at: Set(None),
        paused_at: Set(None),
        ended_at: Set(None),
        end_reason: Set(None),
        closing_reflection: Set(None),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<support_matches::Model>, DbErr> {
    support_matches::Entity::find_by_id(id).one(db).await
}

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<support_matches::Model>, DbErr> {
    support_matches::Entity::find()
        .filter(support_matches::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// A change of status with what goes with it.
pub struct Change<'a> {
    pub from: MatchStatus,
    pub to: MatchStatus,
    pub reason: Option<EndReason>,
    pub closing_reflection: Option<&'a str>,
}

/// Moves the match from `change.from` to `change.to` only if it is still in `change.from`;
/// `None` when it was not (someone else changed it first).
pub async fn apply(
    db: &impl ConnectionTrait,
    id: Uuid,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> Result<Option<support_matches::Model>, DbErr> {
    let mut update = support_matches::Entity::update_many()
        .col_expr(
            support_matches::Column::Status,
            Expr::value(change.to.as_str()),
        )
        .col_expr(support_matches::Column::UpdatedAt, Expr::value(now));
    match change.to {
        MatchStatus::Active if change.from == MatchStatus::Proposed => {
            update = update.col_expr(support_matches::Column::RespondedAt, Expr::value(now));
        }
        MatchStatus::Active => {
            update = update.col_expr(
                support_matches::Column::PausedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
        }
        MatchStatus::Declined => {
            update = update.col_expr(support_matches::Column::RespondedAt, Expr::value(now));
        }
        MatchStatus::Paused => {
            update = update.col_expr(support_matches::Column::PausedAt, Expr::value(now));
        }
        MatchStatus::Ended => {
            update = update.col_expr(support_matches::Column::EndedAt, Expr::value(now));
        }
        MatchStatus::Proposed | MatchStatus::Expired => {}
    }
    match (change.reason, change.to) {
        (Some(reason), _) => {
            update = update.col_expr(
                support_matches::Column::EndReason,
                Expr::value(reason.as_str()),
            );
        }
        // A resumed match has no pause reason, and a pause carries its own reason or none,
        // never an earlier pause's.
        (None, MatchStatus::Active | MatchStatus::Paused) => {
            update = update.col_expr(
                support_matches::Column::EndReason,
                Expr::value(Option::<String>::None),
            );
        }
        (None, _) => {}
    }
    if let Some(reflection) = change.closing_reflection {
        update = update.col_expr(
            support_matches::Column::ClosingReflection,
            Expr::value(reflection),
        );
    }
    let changed = update
        .filter(support_matches::Column::Id.eq(id))
        .filter(support_matches::Column::Status.eq(change.from.as_str()))
        .exec_with_returning(db)
        .await?;
    Ok(changed.into_iter().next())
}

/// The supporter's active matches (to pause them when the supporter takes a break).
pub async fn active_of_supporter(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
) -> Result<Vec<support_matches::Model>, DbErr> {
    support_matches::Entity::find()
        .filter(support_matches::Column::SupporterId.eq(supporter_id))
        .filter(support_matches::Column::Status.eq(MatchStatus::Active.as_str()))
        .all(db)
        .await
}

/// Whether the two people have an active match (either way round).
pub async fn has_active_match(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    participant_id: Uuid,
) -> Result<bool, DbErr> {
    Ok(support_matches::Entity::find()
        .filter(support_matches::Column::SupporterId.eq(supporter_id))
        .filter(support_matches::Column::ParticipantId.eq(participant_id))
        .filter(support_matches::Column::Status.eq(MatchStatus::Active.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// The supporters with an open match (a waiting proposal, active or paused) with the participant.
pub async fn open_supporters_of_participant(
    db: &impl ConnectionTrait,
    participant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<std::collections::HashSet<Uuid>, DbErr> {
    Ok(support_matches::Entity::find()
        .filter(support_matches::Column::ParticipantId.eq(participant_id))
        .filter(support_matches::Column::Status.is_in(MatchStatus::OPEN.map(MatchStatus::as_str)))
        .filter(proposal_still_waiting(now))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.supporter_id)
        .collect())
}

/// The ids of the people `person_id` has an active match with, as a sub-query (for list filters).
pub fn active_partners_of(
    person_id: Uuid,
    role: Role,
) -> Option<sea_orm::sea_query::SelectStatement> {
    let (me, partner) = match role {
        Role::Supporter => (
            support_matches::Column::SupporterId,
            support_matches::Column::ParticipantId,
        ),
        Role::Participant => (
            support_matches::Column::ParticipantId,
            support_matches::Column::SupporterId,
        ),
        Role::Coordinator => return None,
    };
    Some(
        Query::select()
            .column(partner)
            .from(support_matches::Entity)
            .and_where(me.eq(person_id))
            .and_where(support_matches::Column::Status.eq(MatchStatus::Active.as_str()))
            .to_owned(),
    )
}

/// Which matches a list may show.
#[derive(Clone, Copy, Debug, Default)]
pub struct MatchFilter {
    pub status: Option<MatchStatus>,
    pub supporter_id: Option<Uuid>,
    pub participant_id: Option<Uuid>,
}

/// The matches the viewer may see: coordinators their organisation's, supporters their own,
/// participants their own once accepted (a proposal is between the coordinator and the supporter).
pub fn visible_matches(viewer: &Viewer) -> Condition {
    let same_organisation = support_matches::Column::OrganisationId.eq(viewer.organisation_id);
    match viewer.role {
        Role::Coordinator => Condition::all().add(same_organisation),
        Role::Supporter => Condition::all()
            .add(same_organisation)
            .add(support_matches::Column::SupporterId.eq(viewer.person_id)),
        Role::Participant => Condition::all()
            .add(same_organisation)
            .add(support_matches::Column::ParticipantId.eq(viewer.person_id))
            .add(support_matches::Column::Status.is_in(participant_visible_statuses())),
    }
}

/// The statuses a participant sees their matches in.
pub fn participant_visible_statuses() -> [&'static str; 3] {
    [
        MatchStatus::Active.as_str(),
        MatchStatus::Paused.as_str(),
        MatchStatus::Ended.as_str(),
    ]
}

pub async fn list_visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    filter: MatchFilter,
    page: PageRequest,
) -> Result<Page<support_matches::Model>, DbErr> {
    let mut select = support_matches::Entity::find().filter(visible_matches(viewer));
    if let Some(status) = filter.status {
        select = select.filter(support_matches::Column::Status.eq(status.as_str()));
    }
    if let Some(supporter) = filter.supporter_id {
        select = select.filter(support_matches::Column::SupporterId.eq(supporter));
    }
    if let Some(participant) = filter.participant_id {
        select = select.filter(support_matches::Column::ParticipantId.eq(participant));
    }
    fetch_page(db, select, support_matches::Column::Id, page).await
}

/// Sets or clears the supporter's break; returns the profile as it is now, `None` if the person
/// has no supporter profile.
pub async fn set_break(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<supporter_profiles::Model>, DbErr> {
    change_supporter_profile(db, supporter_id, now, |active| {
        active.on_break_since = Set(since);
    })
    .await
}

/// A coordinator's settings for one supporter; `None` leaves a value as it is.
#[derive(Default)]
pub struct SupporterSettings {
    /// `Some(None)` returns the supporter to the organisation's capacity.
    pub match_capacity: Option<Option<i32>>,
    pub is_trainer: Option<bool>,
}

pub async fn update_supporter_settings(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    settings: SupporterSettings,
    now: DateTime<Utc>,
) -> Result<Option<supporter_profiles::Model>, DbErr> {
    change_supporter_profile(db, supporter_id, now, |active| {
        if let Some(capacity) = settings.match_capacity {
            active.match_capacity = Set(capacity);
        }
        if let Some(is_trainer) = settings.is_trainer {
            active.is_trainer = Set(is_trainer);
        }
    })
    .await
}

/// Applies `change` to the supporter's profile and saves it (`None`: no such profile).
async fn change_supporter_profile(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    now: DateTime<Utc>,
    change: impl FnOnce(&mut supporter_profiles::ActiveModel),
) -> Result<Option<supporter_profiles::Model>, DbErr> {
    let Some(profile) = supporter_profiles::Entity::find_by_id(supporter_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut active: supporter_profiles::ActiveModel = profile.into();
    change(&mut active);
    active.updated_at = Set(now);
    active.update(db).await.map(Some)
}

/// Every supporter profile of the organisation (for suggestions and the workload view).
pub async fn supporter_profiles_in(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<supporter_profiles::Model>, DbErr> {
    use super::entities::people;
    let members = Query::select()
        .column(people::Column::Id)
        .from(people::Entity)
        .and_where(people::Column::OrganisationId.eq(organisation_id))
        .and_where(people::Column::Role.eq(Role::Supporter.as_str()))
        .to_owned();
    supporter_profiles::Entity::find()
        .filter(supporter_profiles::Column::PersonId.in_subquery(members))
        .all(db)
        .await
}

/// The supporters who can be suggested for a participant, in one statement: the organisation's
/// supporters not on a break, with no open match with the participant, who completed a basic
/// course (`domain::training`'s rule for being matched, asked of the database so that nobody else
/// is even decoded).
pub async fn candidate_profiles(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    participant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<supporter_profiles::Model>, DbErr> {
    use super::entities::{certificates, courses, people};
    use sea_orm::sea_query::ExprTrait as _;
    let members = Query::select()
        .column(people::Column::Id)
        .from(people::Entity)
        .and_where(people::Column::OrganisationId.eq(organisation_id))
        .and_where(people::Column::Role.eq(Role::Supporter.as_str()))
        .to_owned();
    let basic_complete = Query::select()
        .column((certificates::Entity, certificates::Column::SupporterId))
        .from(certificates::Entity)
        .inner_join(
            courses::Entity,
            Expr::col((courses::Entity, courses::Column::Id))
                .equals((certificates::Entity, certificates::Column::CourseId)),
        )
        .and_where(
            Expr::col((courses::Entity, courses::Column::OrganisationId)).eq(organisation_id),
        )
        .and_where(
            Expr::col((courses::Entity, courses::Column::Level))
                .eq(crate::domain::training::CourseLevel::Basic.as_str()),
        )
        .to_owned();
    let already = Query::select()
        .column(support_matches::Column::SupporterId)
        .from(support_matches::Entity)
        .and_where(support_matches::Column::ParticipantId.eq(participant_id))
        .and_where(
            support_matches::Column::Status.is_in(MatchStatus::OPEN.map(MatchStatus::as_str)),
        )
        .cond_where(proposal_still_waiting(now))
        .to_owned();
    supporter_profiles::Entity::find()
        .filter(supporter_profiles::Column::PersonId.in_subquery(members))
        .filter(supporter_profiles::Column::OnBreakSince.is_null())
        .filter(supporter_profiles::Column::PersonId.in_subquery(basic_complete))
        .filter(supporter_profiles::Column::PersonId.not_in_subquery(already))
        .all(db)
        .await
}
