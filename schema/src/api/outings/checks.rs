//! What an outing step checks before it writes: who the viewer is to the outing, whether the step
//! is allowed, whether the supporter may lead and fits their caps, and the plan's bounds.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use crate::api::error::{ApiError, ApiResult, reasons};
use crate::api::training::{capabilities_in, training_incomplete};
use crate::domain::access::{MatchRefusal, PairStep, Viewer, match_allows};
use crate::domain::clock::{week_of, zone_of};
use crate::domain::matching::{Cap, WeeklyLoad};
use crate::domain::outings::{
    self as rules, OutingAction, OutingActor, OutingStatus as DomainStatus,
};
use crate::store;
use crate::store::entities::{outings, people};
use crate::store::outings::member_role;

pub(super) const PLACE_MAX: usize = 200;
pub(super) const GOAL_MAX: usize = 500;
pub(super) const NOTE_MAX: usize = 2000;
pub(super) const OUTINGS_ONLY_OF_MEMBERS: &str = "only the outing's supporters do this";

/// How the viewer stands to the outing.
pub(super) async fn actor_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    outing: &outings::Model,
) -> ApiResult<OutingActor> {
    if outing.organisation_id != viewer.organisation_id {
        return Ok(OutingActor {
            is_coordinator: false,
            is_supporter_of_outing: false,
            is_member: false,
        });
    }
    let members = store::outings::members_of(db, &[outing.id]).await?;
    let mine = members
        .iter()
        .find(|member| member.person_id == viewer.person_id);
    Ok(OutingActor {
        is_coordinator: viewer.is_coordinator(),
        is_supporter_of_outing: mine.is_some_and(|member| {
            member.role == member_role::LEAD || member.role == member_role::TRAINEE
        }),
        is_member: mine.is_some(),
    })
}

/// The outing if the viewer may see it (coordinators of its organisation, its members), locked
/// when `lock` (for a change); NOT_FOUND otherwise.
pub(super) async fn visible_outing(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    lock: bool,
) -> ApiResult<(outings::Model, OutingActor)> {
    let outing = if lock {
        store::outings::lock(db, id).await?
    } else {
        store::outings::find(db, id).await?
    }
    .ok_or(ApiError::NotFound)?;
    let actor = actor_of(db, viewer, &outing).await?;
    if !(actor.is_coordinator || actor.is_member) {
        return Err(ApiError::NotFound);
    }
    Ok((outing, actor))
}

pub(super) fn invalid_transition(from: DomainStatus, action: OutingAction) -> ApiError {
    ApiError::refused(
        reasons::INVALID_TRANSITION,
        format!("an outing that is {from} cannot take the step {action}"),
    )
    .with_detail("from", from.as_str().to_uppercase())
    .with_detail("action", action.as_str().to_uppercase())
}

/// Checks that the viewer may take `action` and that the state allows it; returns the new status.
pub(super) fn step(
    outing: &outings::Model,
    actor: OutingActor,
    action: OutingAction,
) -> ApiResult<DomainStatus> {
    let status = DomainStatus::parse(&outing.status)?;
    if !rules::may_act(actor, action) {
        return Err(ApiError::Forbidden {
            reason: match action {
                OutingAction::Approve => "only coordinators approve outings",
                OutingAction::CheckIn => "only the outing's people check in",
                _ => OUTINGS_ONLY_OF_MEMBERS,
            },
        });
    }
    rules::transition(status, action)
        .map_err(|refused| invalid_transition(refused.from, refused.action))
}

/// The supporter may lead (or join as a trainee), is not on a break, and the outing fits their
/// weekly caps. What stands in their way is told to them and to coordinators; anyone else (the
/// lead replanning an outing with a trainee, say) hears only MEMBER_UNAVAILABLE.
#[expect(clippy::too_many_arguments)]
pub(super) async fn check_supporter(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    supporter: &people::Model,
    as_lead: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    supporter_fits(txn, supporter, as_lead, start, end, except, now)
        .await
        .map_err(|refusal| told_to(viewer, supporter.id, refusal))
}

/// A refusal about `about` as `viewer` may hear it: whole, or (a domain refusal about somebody
/// else, to a non-coordinator) as MEMBER_UNAVAILABLE with no detail.
pub(super) fn told_to(viewer: &Viewer, about: Uuid, refusal: ApiError) -> ApiError {
    match refusal {
        ApiError::Refused { .. } if !viewer.may_hear_why_refused(about) => ApiError::refused(
            reasons::MEMBER_UNAVAILABLE,
            "another person on the outing cannot take this; a coordinator can tell why",
        ),
        other => other,
    }
}

/// The pair's support match allows the step (`domain::access::match_allows`).
pub(super) async fn ensure_match_allows(
    db: &impl ConnectionTrait,
    outing_lead: Uuid,
    participant: Uuid,
    step: PairStep,
) -> ApiResult<()> {
    let standing = store::access::match_standing(db, outing_lead, participant).await?;
    match_allows(standing, step).map_err(|refusal| match refusal {
        MatchRefusal::Ended => ApiError::refused(
            reasons::MATCH_ENDED,
            "the support match between the outing's supporter and participant has ended",
        ),
        MatchRefusal::Paused => ApiError::refused(
            reasons::MATCH_PAUSED,
            "the support match is paused: its outings start once it resumes",
        ),
    })
}

pub(super) async fn supporter_fits(
    txn: &DatabaseTransaction,
    supporter: &people::Model,
    as_lead: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let capabilities = capabilities_in(txn, supporter, now).await?;
    if as_lead && !capabilities.may_lead_outings() {
        return Err(training_incomplete(
            "leading an outing",
            &capabilities.missing_to_lead,
        ));
    }
    if !as_lead && !capabilities.may_join_as_trainee {
        return Err(training_incomplete(
            "joining an outing",
            &capabilities.missing_to_be_matched,
        ));
    }
    let profile = store::matches::lock_supporter(txn, supporter.id)
        .await?
        .ok_or_else(|| ApiError::bad_input("leadSupporterId", "is not a supporter"))?;
    if profile.on_break_since.is_some() {
        return Err(ApiError::refused(
            reasons::SUPPORTER_ON_BREAK,
            "the supporter is on a break: no outings until they return",
        ));
    }
    let settings = store::program::settings(txn, supporter.organisation_id).await?;
    let organisation = store::organisations::find(txn, supporter.organisation_id)
        .await?
        .ok_or_else(|| ApiError::internal("organisation vanished"))?;
    let (week_start, week_end) = week_of(start, zone_of(&organisation.time_zone));
    let week =
        store::outings::supporter_outings_between(txn, supporter.id, week_start, week_end, except)
            .await?;
    let load = WeeklyLoad {
        outings: u32::try_from(week.len()).unwrap_or(u32::MAX),
        minutes: week
            .iter()
            .map(|outing| (outing.planned_end - outing.planned_start).num_minutes())
            .sum(),
    };
    match load
        .with_outing((end - start).num_minutes())
        .refuses(&settings)
    {
        Some(Cap::WeeklyOutings) => Err(cap_full(Cap::WeeklyOutings, settings.weekly_outing_cap)),
        Some(cap) => Err(cap_full(cap, settings.weekly_hours_cap)),
        None => Ok(()),
    }
}

pub(super) fn cap_full(cap: Cap, limit: u32) -> ApiError {
    ApiError::refused(
        reasons::CAPACITY_FULL,
        "the supporter's weekly limit would be passed",
    )
    .with_detail("cap", cap.as_str().to_uppercase())
    .with_detail("limit", limit)
}

/// A plan's times: bounded dates (checked first: the week, the reminders and the watchdog all
/// compute from them), not in the past, in order, not too long.
pub(super) fn check_times(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    rules::check_planned_times(start, end, now).map_err(plan_refused)
}

pub(super) fn check_coordinates(latitude: Option<f64>, longitude: Option<f64>) -> ApiResult<()> {
    rules::check_coordinates(latitude, longitude).map_err(plan_refused)
}

pub(super) fn plan_refused(refusal: rules::InvalidPlan) -> ApiError {
    ApiError::bad_input(refusal.field, refusal.reason)
}

/// A plan setting inside its bounds (`domain::outings::check_in_bounds`), or BAD_USER_INPUT.
pub(super) fn in_range(
    value: i32,
    range: std::ops::RangeInclusive<i32>,
    field: &'static str,
) -> ApiResult<i32> {
    rules::check_in_bounds(value, range, field).map_err(plan_refused)
}
