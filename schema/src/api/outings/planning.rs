//! Planning outings: plan (or propose), approve, replan, cancel, and the reminder times.

use crate::api::common::logged_id;
use crate::domain::clock::id_at;
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::json;
use uuid::Uuid;

use super::checks::{
    GOAL_MAX, PLACE_MAX, check_coordinates, check_supporter, check_times, ensure_match_allows,
    in_range, step, visible_outing,
};
use super::enums::CancelReason;
use super::events::commit_outing;
use super::inputs::{
    CancelOutingInput, OutingIdInput, OutingPayload, PlanOutingInput, PlanOutingPayload,
    ReplanOutingInput, UpdateOutingRemindersInput, UpdateOutingRemindersPayload,
};
use super::lifecycle::lifecycle;
use crate::api::common::{
    audit, audit_with, coordinator_in, ensure_coordinator, ensure_list_len, member_in, parse_id,
    supporter_in, valid,
};
use crate::api::context::{state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::domain::access::{PairStep, Viewer};
use crate::domain::outings::{self as rules, OutingAction, OutingStatus as DomainStatus, bounds};
use crate::domain::people::Role as DomainRole;
use crate::domain::text;
use crate::store::entities::people;
use crate::store::outings::member_role;
use crate::{notify, store};

#[derive(Default)]
pub struct OutingPlanningMutation;

#[Object]
impl OutingPlanningMutation {
    /// Plans an outing (coordinators), or proposes one for a participant the supporter is
    /// actively matched with, led by themselves (a coordinator approves it). Refused with
    /// TRAINING_INCOMPLETE when the lead may not lead (or a trainee may not join), CAPACITY_FULL
    /// past a weekly cap, SUPPORTER_ON_BREAK during a break.
    #[tracing::instrument(name = "planOuting", skip_all, fields(participant_id = %logged_id(&input.participant_id), lead_supporter_id = %logged_id(&input.lead_supporter_id)))]
    async fn plan_outing(
        &self,
        ctx: &Context<'_>,
        input: PlanOutingInput,
    ) -> ApiResult<PlanOutingPayload> {
        let viewer = viewer(ctx)?;
        let plan = ValidPlan::from_input(&input)?;
        let state = state(ctx)?;
        let now = state.clock.now();
        check_times(plan.planned_start, plan.planned_end, now)?;
        let status = status_planned_by(&viewer, &plan)?;
        let txn = store::begin_write(&state.db).await?;
        let (participant, lead) = check_people(&txn, &viewer, &plan, status, now).await?;
        let outing = store::outings::create(
            &txn,
            store::outings::NewOuting {
                organisation_id: viewer.organisation_id,
                participant_id: participant.id,
                lead_supporter_id: lead.id,
                staff_companion_id: plan.staff_id,
                purpose: plan.purpose.as_str(),
                place: &plan.place,
                latitude: plan.latitude,
                longitude: plan.longitude,
                step_goal: &plan.step_goal,
                planned_start: plan.planned_start,
                planned_end: plan.planned_end,
                check_in_interval_minutes: plan.interval,
                grace_minutes: plan.grace,
                status,
                created_by: viewer.person_id,
                approved_by: (status == DomainStatus::Planned).then_some(viewer.person_id),
            }
            .row(id_at(now), now),
            &plan.trainee_ids,
        )
        .await?;
        let planned = if status == DomainStatus::Planned {
            notify::plan_outing_reminders(&txn, &outing, now).await?
        } else {
            false
        };
        let action = if status == DomainStatus::Planned {
            "outing.planned"
        } else {
            "outing.proposed"
        };
        audit(&txn, &viewer, now, action, ("outing", outing.id)).await?;
        let outing = commit_outing(txn, state, outing, planned).await?;
        Ok(PlanOutingPayload { outing })
    }

    /// Approves a supporter's proposed outing. Coordinators.
    #[tracing::instrument(name = "approveOuting", skip_all, fields(outing_id = %logged_id(&input.outing_id)))]
    async fn approve_outing(
        &self,
        ctx: &Context<'_>,
        input: OutingIdInput,
    ) -> ApiResult<OutingPayload> {
        lifecycle(ctx, &input.outing_id, OutingAction::Approve, |_| Ok(())).await
    }

    /// Cancels a proposed or planned outing; its reminders are withdrawn. Coordinators and the
    /// outing's supporters.
    #[tracing::instrument(name = "cancelOuting", skip_all, fields(outing_id = %logged_id(&input.outing_id)))]
    async fn cancel_outing(
        &self,
        ctx: &Context<'_>,
        input: CancelOutingInput,
    ) -> ApiResult<OutingPayload> {
        let reason = input.reason;
        if reason == CancelReason::MatchEnded {
            return Err(ApiError::bad_input(
                "reason",
                "MATCH_ENDED is set by Tomoni when a match ends",
            ));
        }
        lifecycle(ctx, &input.outing_id, OutingAction::Cancel, move |outing| {
            outing.cancel_reason = Some(reason.as_str().to_owned());
            Ok(())
        })
        .await
    }

    /// Changes a proposed or planned outing's time, place or goal; its reminders move with it.
    /// Coordinators and the outing's supporters.
    #[tracing::instrument(name = "replanOuting", skip_all, fields(outing_id = %logged_id(&input.outing_id)))]
    async fn replan_outing(
        &self,
        ctx: &Context<'_>,
        input: ReplanOutingInput,
    ) -> ApiResult<OutingPayload> {
        let viewer = viewer(ctx)?;
        let outing_id = parse_id(&input.outing_id, "outingId")?;
        let place = input
            .place
            .as_deref()
            .map(|place| valid("place", text::single_line(place, PLACE_MAX)))
            .transpose()?;
        let goal = input
            .step_goal
            .as_deref()
            .map(|goal| valid("stepGoal", text::note(goal, GOAL_MAX, false)))
            .transpose()?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let (mut outing, actor) = visible_outing(&txn, &viewer, outing_id, true).await?;
        // Replanning is allowed where cancelling is: before the outing starts.
        step(&outing, actor, OutingAction::Cancel)?;
        ensure_match_allows(
            &txn,
            outing.lead_supporter_id,
            outing.participant_id,
            PairStep::Replan,
        )
        .await?;
        let start = input.planned_start.unwrap_or(outing.planned_start);
        let end = input.planned_end.unwrap_or(outing.planned_end);
        // New times are checked as a plan's are, for everyone they count against; a change of
        // place or goal alone leaves the times (even a start that has just passed) alone.
        if start != outing.planned_start || end != outing.planned_end {
            check_times(start, end, now)?;
            let mut supporters: Vec<(Uuid, bool)> = store::outings::members_of(&txn, &[outing.id])
                .await?
                .into_iter()
                .filter_map(|member| match member.role.as_str() {
                    member_role::LEAD => Some((member.person_id, true)),
                    member_role::TRAINEE => Some((member.person_id, false)),
                    _ => None,
                })
                .collect();
            supporters.sort_unstable();
            for (supporter_id, as_lead) in supporters {
                let supporter = store::people::find(&txn, supporter_id)
                    .await?
                    .ok_or_else(|| ApiError::internal("outing member without a person"))?;
                check_supporter(
                    &txn,
                    &viewer,
                    &supporter,
                    as_lead,
                    start,
                    end,
                    Some(outing.id),
                    now,
                )
                .await?;
            }
        }
        outing.planned_start = start;
        outing.planned_end = end;
        if let Some(place) = place {
            outing.place = place;
        }
        if let Some(goal) = goal {
            outing.step_goal = goal;
        }
        let outing = store::outings::save_retimed(&txn, outing, now).await?;
        let planned = if DomainStatus::parse(&outing.status)? == DomainStatus::Planned {
            notify::plan_outing_reminders(&txn, &outing, now).await?
        } else {
            false
        };
        audit(
            &txn,
            &viewer,
            now,
            "outing.replanned",
            ("outing", outing.id),
        )
        .await?;
        let outing = commit_outing(txn, state, outing, planned).await?;
        Ok(OutingPayload { outing })
    }

    /// Sets when outing reminders go out, for outings planned from now on. Coordinators.
    #[tracing::instrument(name = "updateOutingReminders", skip_all)]
    async fn update_outing_reminders(
        &self,
        ctx: &Context<'_>,
        input: UpdateOutingRemindersInput,
    ) -> ApiResult<UpdateOutingRemindersPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators change reminders")?;
        ensure_list_len(
            "minutesBefore",
            input.minutes_before.len(),
            bounds::REMINDERS_MAX,
        )?;
        let mut minutes = Vec::new();
        for value in &input.minutes_before {
            let value = u32::try_from(*value)
                .ok()
                .filter(|value| (1..=bounds::REMINDER_MINUTES_MAX).contains(value))
                .ok_or_else(|| {
                    ApiError::bad_input("minutesBefore", "each must be 1 minute to 7 days")
                })?;
            if !minutes.contains(&value) {
                minutes.push(value);
            }
        }
        minutes.sort_unstable_by(|a, b| b.cmp(a));
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        store::program::save_outing_reminder_minutes(
            &txn,
            viewer.organisation_id,
            minutes.clone(),
            now,
        )
        .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "outing_reminders.updated",
            ("organisation", viewer.organisation_id),
            json!({ "minutesBefore": minutes }),
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateOutingRemindersPayload {
            minutes_before: minutes,
        })
    }
}

/// A plan's input, parsed and checked on its own (before the database is asked anything).
struct ValidPlan {
    participant_id: Uuid,
    lead_id: Uuid,
    trainee_ids: Vec<Uuid>,
    staff_id: Option<Uuid>,
    purpose: rules::Purpose,
    place: String,
    step_goal: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    planned_start: DateTime<Utc>,
    planned_end: DateTime<Utc>,
    interval: i32,
    grace: i32,
}

impl ValidPlan {
    /// Checks the fields in the order of the input type, so the first field at fault is named.
    fn from_input(input: &PlanOutingInput) -> ApiResult<Self> {
        let participant_id = parse_id(&input.participant_id, "participantId")?;
        let lead_id = parse_id(&input.lead_supporter_id, "leadSupporterId")?;
        let trainees = input.trainee_supporter_ids.as_deref().unwrap_or_default();
        ensure_list_len("traineeSupporterIds", trainees.len(), bounds::TRAINEES_MAX)?;
        let mut trainee_ids = Vec::new();
        for id in trainees {
            let id = parse_id(id, "traineeSupporterIds")?;
            if id == lead_id || trainee_ids.contains(&id) {
                return Err(ApiError::bad_input(
                    "traineeSupporterIds",
                    "must be different people, other than the lead",
                ));
            }
            trainee_ids.push(id);
        }
        let staff_id = input
            .staff_companion_id
            .as_ref()
            .map(|id| parse_id(id, "staffCompanionId"))
            .transpose()?;
        let place = valid("place", text::single_line(&input.place, PLACE_MAX))?;
        let step_goal = valid(
            "stepGoal",
            text::note(input.step_goal.as_deref().unwrap_or(""), GOAL_MAX, false),
        )?;
        check_coordinates(input.latitude, input.longitude)?;
        let interval = in_range(
            input
                .check_in_interval_minutes
                .unwrap_or(bounds::DEFAULT_CHECK_IN_INTERVAL_MINUTES),
            bounds::CHECK_IN_INTERVAL_MINUTES,
            "checkInIntervalMinutes",
        )?;
        let grace = in_range(
            input
                .grace_period_minutes
                .unwrap_or(bounds::DEFAULT_GRACE_MINUTES),
            bounds::GRACE_MINUTES,
            "gracePeriodMinutes",
        )?;
        Ok(Self {
            participant_id,
            lead_id,
            trainee_ids,
            staff_id,
            purpose: input.purpose.into(),
            place,
            step_goal,
            latitude: input.latitude,
            longitude: input.longitude,
            planned_start: input.planned_start,
            planned_end: input.planned_end,
            interval,
            grace,
        })
    }
}

/// What a plan becomes by who makes it: a coordinator's is planned, a supporter's (leading it
/// themselves, with no trainees) is proposed; nobody else plans.
fn status_planned_by(viewer: &Viewer, plan: &ValidPlan) -> ApiResult<DomainStatus> {
    match viewer.role {
        DomainRole::Coordinator => Ok(DomainStatus::Planned),
        DomainRole::Supporter if viewer.person_id == plan.lead_id => {
            // Whom a supporter may train with is the coordinators' call, and checking a named
            // trainee would tell the supporter about another supporter's training and break.
            if plan.trainee_ids.is_empty() {
                Ok(DomainStatus::Proposed)
            } else {
                Err(ApiError::Forbidden {
                    reason: "trainees are added by coordinators",
                })
            }
        }
        DomainRole::Supporter => Err(ApiError::Forbidden {
            reason: "a supporter proposes outings they lead themselves",
        }),
        DomainRole::Participant => Err(ApiError::Forbidden {
            reason: "coordinators and supporters plan outings",
        }),
    }
}

/// The people of a plan, in the plan's transaction: the participant (matched with the supporter
/// who proposes), the lead and the trainees (each may take part and fits their caps; their
/// profiles locked), the staff companion. Returns the participant and the lead.
async fn check_people(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    plan: &ValidPlan,
    status: DomainStatus,
    now: DateTime<Utc>,
) -> ApiResult<(people::Model, people::Model)> {
    let participant = member_in(
        txn,
        viewer,
        plan.participant_id,
        DomainRole::Participant,
        "participantId",
    )
    .await?;
    if status == DomainStatus::Proposed
        && !store::matches::has_active_match(txn, viewer.person_id, participant.id).await?
    {
        return Err(ApiError::NotFound);
    }
    // The supporters' profiles are locked one by one in `check_supporter`; taking them in id
    // order first keeps two plans with the same people in swapped roles from deadlocking.
    let mut supporter_ids: Vec<Uuid> = std::iter::once(plan.lead_id)
        .chain(plan.trainee_ids.iter().copied())
        .collect();
    supporter_ids.sort_unstable();
    for id in supporter_ids {
        store::matches::lock_supporter(txn, id).await?;
    }
    let (start, end) = (plan.planned_start, plan.planned_end);
    let lead = supporter_in(txn, viewer, plan.lead_id, "leadSupporterId").await?;
    ensure_match_allows(txn, lead.id, participant.id, PairStep::Plan).await?;
    check_supporter(txn, viewer, &lead, true, start, end, None, now).await?;
    for trainee in &plan.trainee_ids {
        let trainee = supporter_in(txn, viewer, *trainee, "traineeSupporterIds").await?;
        check_supporter(txn, viewer, &trainee, false, start, end, None, now).await?;
    }
    if let Some(staff) = plan.staff_id {
        coordinator_in(txn, viewer, staff, "staffCompanionId").await?;
    }
    Ok((participant, lead))
}
