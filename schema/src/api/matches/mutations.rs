//! The match mutations: propose, accept, decline, pause, resume and end a match, take and end a
//! break; each step in one transaction with its audit entry and pushes.

use crate::api::common::logged_id;
use async_graphql::{Context, ID, Object};
use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::checks::{
    COORDINATORS_ONLY, REFLECTION_MAX, ensure_room, ensure_self_or_coordinator, invalid_transition,
    on_break, participant_in, past_tense,
};
use super::inputs::{
    AcceptMatchInput, AcceptMatchPayload, DeclineMatchInput, DeclineMatchPayload, EndMatchInput,
    EndMatchPayload, PauseMatchInput, PauseMatchPayload, ProposeMatchInput, ProposeMatchPayload,
    ResumeMatchInput, ResumeMatchPayload, ReturnFromBreakInput, ReturnFromBreakPayload,
    TakeBreakInput, TakeBreakPayload,
};
use super::objects::{SupportMatch, may_see_match};
use crate::api::common::{audit, audit_with, ensure_coordinator, parse_id, supporter_in, valid};
use crate::api::context::{state, viewer};
use crate::api::error::{ApiError, ApiResult, reasons};
use crate::api::people::Person;
use crate::api::training::{capabilities_in, training_incomplete};
use crate::domain::matching::{self as rules, Actor, MatchAction, MatchStatus as DomainStatus};
use crate::domain::text;
use crate::events::DomainEvent;
use crate::jobs::matches::{concerned, push_match_update, record_expired};
use crate::store;

#[derive(Default)]
pub struct MatchMutation;

#[Object]
impl MatchMutation {
    /// Proposes a supporter to a participant. Refused with CAPACITY_FULL when the supporter has no
    /// room, TRAINING_INCOMPLETE without basic training, SUPPORTER_ON_BREAK during a break, and
    /// CONFLICT when the pair already has an open match. Coordinators.
    #[tracing::instrument(name = "proposeMatch", skip_all, fields(supporter_id = %logged_id(&input.supporter_id), participant_id = %logged_id(&input.participant_id)))]
    async fn propose_match(
        &self,
        ctx: &Context<'_>,
        input: ProposeMatchInput,
    ) -> ApiResult<ProposeMatchPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, COORDINATORS_ONLY)?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        let participant_id = parse_id(&input.participant_id, "participantId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        let participant = participant_in(&txn, &viewer, participant_id).await?;
        // The lock comes first: everything after it is decided one proposal at a time.
        ensure_room(&txn, &supporter, now).await?;
        let capabilities = capabilities_in(&txn, &supporter, now).await?;
        if !capabilities.may_be_matched() {
            return Err(training_incomplete(
                "a support match",
                &capabilities.missing_to_be_matched,
            ));
        }
        let expired =
            store::matches::expire_stale_for_pair(&txn, supporter.id, participant.id, now).await?;
        record_expired(&txn, &expired, now).await?;
        if store::matches::open_supporters_of_participant(&txn, participant.id, now)
            .await?
            .contains(&supporter.id)
        {
            return Err(ApiError::Conflict {
                reason: "this supporter and participant already have an open match".into(),
            });
        }
        let settings = store::program::settings(&txn, viewer.organisation_id).await?;
        let row = store::matches::propose(
            &txn,
            store::matches::NewMatch {
                organisation_id: viewer.organisation_id,
                supporter_id: supporter.id,
                participant_id: participant.id,
                proposed_by: viewer.person_id,
                expires_at: now + Duration::days(i64::from(settings.proposal_expiry_days)),
            },
            now,
        )
        .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "match.proposed",
            ("support_match", row.id),
            json!({ "supporterId": supporter.id, "participantId": participant.id }),
        )
        .await?;
        let pushed = push_match_update(
            &txn,
            viewer.person_id,
            &row,
            "proposed",
            &concerned(&row, None),
            now,
        )
        .await?;
        txn.commit().await?;
        if pushed {
            state.events.publish(DomainEvent::NotificationsQueued);
        }
        Ok(SupportMatch::from_row(row)?.into())
    }

    /// The supporter accepts a proposal (before it expires). The supporter only.
    #[tracing::instrument(name = "acceptMatch", skip_all, fields(match_id = %logged_id(&input.match_id)))]
    async fn accept_match(
        &self,
        ctx: &Context<'_>,
        input: AcceptMatchInput,
    ) -> ApiResult<AcceptMatchPayload> {
        change(ctx, &input.match_id, MatchAction::Accept, None, None)
            .await
            .map(Into::into)
    }

    /// The supporter declines a proposal. The supporter only.
    #[tracing::instrument(name = "declineMatch", skip_all, fields(match_id = %logged_id(&input.match_id)))]
    async fn decline_match(
        &self,
        ctx: &Context<'_>,
        input: DeclineMatchInput,
    ) -> ApiResult<DeclineMatchPayload> {
        let reason = input.reason.map(Into::into);
        change(ctx, &input.match_id, MatchAction::Decline, reason, None)
            .await
            .map(Into::into)
    }

    /// Pauses an active match. Coordinators.
    #[tracing::instrument(name = "pauseMatch", skip_all, fields(match_id = %logged_id(&input.match_id)))]
    async fn pause_match(
        &self,
        ctx: &Context<'_>,
        input: PauseMatchInput,
    ) -> ApiResult<PauseMatchPayload> {
        let reason = input.reason.map(Into::into);
        change(ctx, &input.match_id, MatchAction::Pause, reason, None)
            .await
            .map(Into::into)
    }

    /// Resumes a paused match, if the supporter has room and is not on a break. Coordinators.
    #[tracing::instrument(name = "resumeMatch", skip_all, fields(match_id = %logged_id(&input.match_id)))]
    async fn resume_match(
        &self,
        ctx: &Context<'_>,
        input: ResumeMatchInput,
    ) -> ApiResult<ResumeMatchPayload> {
        change(ctx, &input.match_id, MatchAction::Resume, None, None)
            .await
            .map(Into::into)
    }

    /// Ends an active or paused match, with a reason and a closing reflection. Coordinators.
    #[tracing::instrument(name = "endMatch", skip_all, fields(match_id = %logged_id(&input.match_id)))]
    async fn end_match(
        &self,
        ctx: &Context<'_>,
        input: EndMatchInput,
    ) -> ApiResult<EndMatchPayload> {
        let reflection = valid(
            "closingReflection",
            text::note(&input.closing_reflection, REFLECTION_MAX, true),
        )?;
        change(
            ctx,
            &input.match_id,
            MatchAction::End,
            Some(input.reason.into()),
            Some(&reflection),
        )
        .await
        .map(Into::into)
    }

    /// The supporter takes a break: no new proposals or outings until they return; their active
    /// matches are paused and the coordinators told. The supporter or a coordinator.
    #[tracing::instrument(name = "takeBreak", skip_all, fields(supporter_id = %logged_id(&input.supporter_id)))]
    async fn take_break(
        &self,
        ctx: &Context<'_>,
        input: TakeBreakInput,
    ) -> ApiResult<TakeBreakPayload> {
        let viewer = viewer(ctx)?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        ensure_self_or_coordinator(&viewer, supporter_id)?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        let profile = store::matches::lock_supporter(&txn, supporter.id)
            .await?
            .ok_or_else(|| ApiError::bad_input("supporterId", "is not a supporter"))?;
        if profile.on_break_since.is_some() {
            return Err(ApiError::refused(
                reasons::INVALID_TRANSITION,
                "the supporter is already on a break",
            ));
        }
        store::matches::set_break(&txn, supporter.id, Some(now), now).await?;
        let mut paused = Vec::new();
        let mut pushed = false;
        let coordinators: Vec<Uuid> = store::people::coordinators_of(&txn, viewer.organisation_id)
            .await?
            .iter()
            .map(|person| person.id)
            .collect();
        for active in store::matches::active_of_supporter(&txn, supporter.id).await? {
            let Some(row) = store::matches::apply(
                &txn,
                active.id,
                store::matches::Change {
                    from: DomainStatus::Active,
                    to: DomainStatus::Paused,
                    reason: Some(rules::EndReason::SupporterBreak),
                    closing_reflection: None,
                },
                now,
            )
            .await?
            else {
                continue;
            };
            audit_with(
                &txn,
                &viewer,
                now,
                "match.paused",
                ("support_match", row.id),
                json!({ "reason": rules::EndReason::SupporterBreak.as_str() }),
            )
            .await?;
            let mut recipients = concerned(&row, Some(MatchAction::Pause));
            recipients.extend(coordinators.iter().copied());
            pushed |=
                push_match_update(&txn, viewer.person_id, &row, "paused", &recipients, now).await?;
            paused.push(SupportMatch::from_row(row)?);
        }
        audit_with(
            &txn,
            &viewer,
            now,
            "supporter.break_started",
            ("person", supporter.id),
            json!({ "pausedMatches": paused.len() }),
        )
        .await?;
        txn.commit().await?;
        if pushed {
            state.events.publish(DomainEvent::NotificationsQueued);
        }
        Ok(TakeBreakPayload {
            supporter: Person::from_row(supporter)?,
            paused_matches: paused,
        })
    }

    /// The supporter is back: proposals and outings are possible again. Paused matches stay paused
    /// until a coordinator resumes them. The supporter or a coordinator.
    #[tracing::instrument(name = "returnFromBreak", skip_all, fields(supporter_id = %logged_id(&input.supporter_id)))]
    async fn return_from_break(
        &self,
        ctx: &Context<'_>,
        input: ReturnFromBreakInput,
    ) -> ApiResult<ReturnFromBreakPayload> {
        let viewer = viewer(ctx)?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        ensure_self_or_coordinator(&viewer, supporter_id)?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        let profile = store::matches::lock_supporter(&txn, supporter.id)
            .await?
            .ok_or_else(|| ApiError::bad_input("supporterId", "is not a supporter"))?;
        if profile.on_break_since.is_none() {
            return Err(ApiError::refused(
                reasons::INVALID_TRANSITION,
                "the supporter is not on a break",
            ));
        }
        store::matches::set_break(&txn, supporter.id, None, now).await?;
        audit(
            &txn,
            &viewer,
            now,
            "supporter.break_ended",
            ("person", supporter.id),
        )
        .await?;
        txn.commit().await?;
        Ok(ReturnFromBreakPayload {
            supporter: Person::from_row(supporter)?,
        })
    }
}

/// One lifecycle step of a match: who may, whether the state allows it, the supporter's room when
/// a match resumes, then a conditional update (a concurrent change loses with INVALID_TRANSITION),
/// the audit entry and the pushes, all in one transaction.
pub(super) async fn change(
    ctx: &Context<'_>,
    match_id: &ID,
    action: MatchAction,
    reason: Option<rules::EndReason>,
    closing_reflection: Option<&str>,
) -> ApiResult<SupportMatch> {
    let viewer = viewer(ctx)?;
    let match_id = parse_id(match_id, "matchId")?;
    let state = state(ctx)?;
    let now = state.clock.now();
    let txn = store::begin_write(&state.db).await?;
    let row = store::matches::find(&txn, match_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let status = DomainStatus::parse(&row.status)?;
    if !may_see_match(&viewer, &row, status) {
        return Err(ApiError::NotFound);
    }
    let actor = if viewer.is_coordinator() {
        Actor::Coordinator
    } else if viewer.person_id == row.supporter_id {
        Actor::TheSupporter
    } else {
        Actor::Other
    };
    if !rules::may_act(actor, action) {
        return Err(ApiError::Forbidden {
            reason: match action {
                MatchAction::Accept | MatchAction::Decline => {
                    "only the proposed supporter answers a proposal"
                }
                _ => COORDINATORS_ONLY,
            },
        });
    }
    let effective = status.at(row.expires_at, now);
    let to = rules::transition(effective, action)
        .map_err(|refused| invalid_transition(refused.from, refused.action))?;
    let supporter = store::people::find(&txn, row.supporter_id)
        .await?
        .ok_or_else(|| ApiError::internal("match without supporter"))?;
    match action {
        MatchAction::Resume => ensure_room(&txn, &supporter, now).await?,
        MatchAction::Accept => {
            let profile = store::matches::lock_supporter(&txn, supporter.id).await?;
            if profile.is_some_and(|profile| profile.on_break_since.is_some()) {
                return Err(on_break());
            }
        }
        _ => {}
    }
    let changed = store::matches::apply(
        &txn,
        row.id,
        store::matches::Change {
            from: status,
            to,
            reason,
            closing_reflection,
        },
        now,
    )
    .await?
    .ok_or_else(|| invalid_transition(status, action))?;
    let called_off = if action == MatchAction::End {
        crate::api::outings::cancel_for_ended_match(
            &txn,
            &viewer,
            changed.supporter_id,
            changed.participant_id,
            now,
        )
        .await?
    } else {
        Vec::new()
    };
    let event = past_tense(action);
    audit_with(
        &txn,
        &viewer,
        now,
        &format!("match.{event}"),
        ("support_match", changed.id),
        reason.map(|reason| json!({ "reason": reason.as_str() })),
    )
    .await?;
    let pushed = push_match_update(
        &txn,
        viewer.person_id,
        &changed,
        event,
        &concerned(&changed, Some(action)),
        now,
    )
    .await?;
    txn.commit().await?;
    for event in called_off {
        state.events.publish(event);
    }
    if pushed {
        state.events.publish(DomainEvent::NotificationsQueued);
    }
    SupportMatch::from_row(changed)
}
