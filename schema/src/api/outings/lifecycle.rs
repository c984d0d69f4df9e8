//! An outing under way: start, check in, extend, complete, and the one transaction every lifecycle
//! step takes.

use crate::api::common::logged_id;
use async_graphql::{Context, ID, Object};
use chrono::Duration;
use serde_json::json;

use super::checks::{
    NOTE_MAX, check_coordinates, ensure_match_allows, in_range, invalid_transition, step, told_to,
    visible_outing,
};
use super::events::commit_outing;
use super::inputs::{
    CheckInInput, CheckInPayload, CompleteOutingInput, ExtendOutingInput, OutingIdInput,
    OutingPayload,
};
use super::objects::{Alert, CheckIn};
use crate::api::common::{audit, audit_with, bounded_instant, parse_id, valid};
use crate::api::context::{state, viewer};
use crate::api::error::{ApiError, ApiResult, reasons};
use crate::api::training::{capabilities_in, training_incomplete};
use crate::domain::access::PairStep;
use crate::domain::clock::{self, day_bounds, zone_of};
use crate::domain::outings::{
    self as rules, CheckInKind as DomainCheckInKind, OutingAction, OutingStatus as DomainStatus,
    bounds,
};
use crate::domain::text;
use crate::store::entities::outings;
use crate::{notify, safety, store};

#[derive(Default)]
pub struct OutingLifecycleMutation;

#[Object]
impl OutingLifecycleMutation {
    /// Starts a planned outing: check-ins are due from now on. A supporter of the outing.
    #[tracing::instrument(name = "startOuting", skip_all, fields(outing_id = %logged_id(&input.outing_id)))]
    async fn start_outing(
        &self,
        ctx: &Context<'_>,
        input: OutingIdInput,
    ) -> ApiResult<OutingPayload> {
        lifecycle(ctx, &input.outing_id, OutingAction::Start, |_| Ok(())).await
    }

    /// Ends an outing with its reflection. A supporter of the outing.
    #[tracing::instrument(name = "completeOuting", skip_all, fields(outing_id = %logged_id(&input.outing_id)))]
    async fn complete_outing(
        &self,
        ctx: &Context<'_>,
        input: CompleteOutingInput,
    ) -> ApiResult<OutingPayload> {
        let rating = |value: i32, field: &'static str| -> ApiResult<i16> {
            in_range(value, 1..=5, field).map(|value| i16::try_from(value).unwrap_or(1))
        };
        let ratings = [
            rating(input.anxiety_before, "anxietyBefore")?,
            rating(input.anxiety_after, "anxietyAfter")?,
            rating(input.confidence_before, "confidenceBefore")?,
            rating(input.confidence_after, "confidenceAfter")?,
        ];
        let note = valid(
            "supporterNote",
            text::note(&input.supporter_note, NOTE_MAX, false),
        )?;
        lifecycle(
            ctx,
            &input.outing_id,
            OutingAction::Complete,
            move |outing| {
                outing.anxiety_before = Some(ratings[0]);
                outing.anxiety_after = Some(ratings[1]);
                outing.confidence_before = Some(ratings[2]);
                outing.confidence_after = Some(ratings[3]);
                outing.supporter_note = Some(note.clone());
                Ok(())
            },
        )
        .await
    }

    /// Moves the planned end later (an outing that overruns). A supporter of the outing.
    #[tracing::instrument(name = "extendOuting", skip_all, fields(outing_id = %logged_id(&input.outing_id)))]
    async fn extend_outing(
        &self,
        ctx: &Context<'_>,
        input: ExtendOutingInput,
    ) -> ApiResult<OutingPayload> {
        let minutes = in_range(
            input.minutes,
            1..=i32::try_from(bounds::EXTENSION_MINUTES_MAX).unwrap_or(180),
            "minutes",
        )?;
        lifecycle(ctx, &input.outing_id, OutingAction::Extend, move |outing| {
            if outing.extensions >= bounds::EXTENSIONS_MAX {
                return Err(ApiError::refused(
                    reasons::INVALID_TRANSITION,
                    format!(
                        "an outing is extended at most {} times; end it and plan another",
                        bounds::EXTENSIONS_MAX
                    ),
                ));
            }
            outing.extensions += 1;
            outing.planned_end += Duration::minutes(i64::from(minutes));
            Ok(())
        })
        .await
    }

    /// A check-in by anyone on the outing: OK, need help, separated or SOS. The newest one moves
    /// the next deadline to its time plus the interval. Need help and separated raise an alert at
    /// once, SOS one at the top tier — or join the alert of the outing already open (one incident,
    /// one alert). A late "OK" answers a missed-check-in alert (its paging stops; it stays for a
    /// coordinator to close) but never any other. An SOS is accepted on an outing under way,
    /// planned for today, or ended within the hour, and never refused for its `madeAt`.
    #[tracing::instrument(name = "checkIn", skip_all, fields(outing_id = %logged_id(&input.outing_id)))]
    async fn check_in(&self, ctx: &Context<'_>, input: CheckInInput) -> ApiResult<CheckInPayload> {
        let viewer = viewer(ctx)?;
        let outing_id = parse_id(&input.outing_id, "outingId")?;
        let note = valid(
            "note",
            text::note(input.note.as_deref().unwrap_or(""), NOTE_MAX, false),
        )?;
        check_coordinates(input.latitude, input.longitude)?;
        let kind = DomainCheckInKind::from(input.kind);
        // Bounded before the rule below computes with it. An SOS is never refused for its
        // `madeAt`: one outside the dates the program handles counts as sent now.
        let sent_at = match input.made_at {
            Some(at) if kind == DomainCheckInKind::Sos => clock::bounded_instant(at).ok(),
            Some(at) => Some(bounded_instant("madeAt", at)?),
            None => None,
        };
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let (mut outing, actor) = visible_outing(&txn, &viewer, outing_id, true).await?;
        let status = DomainStatus::parse(&outing.status)?;
        if kind == DomainCheckInKind::Sos && !status.is_under_way() {
            // Never refused while it can matter: on the day, or just after the outing.
            if !rules::may_act(actor, OutingAction::CheckIn) {
                return Err(ApiError::Forbidden {
                    reason: "only the outing's people check in",
                });
            }
            let zone = match store::organisations::find(&txn, outing.organisation_id).await? {
                Some(organisation) => zone_of(&organisation.time_zone),
                None => chrono_tz::Asia::Tokyo,
            };
            let (day_start, day_end) = day_bounds(now, zone);
            let planned_for_today =
                outing.planned_start < day_end && outing.planned_end >= day_start;
            if !rules::sos_counts(status, planned_for_today, outing.ended_at, now) {
                return Err(invalid_transition(status, OutingAction::CheckIn));
            }
        } else {
            step(&outing, actor, OutingAction::CheckIn)?;
        }
        let made_at =
            rules::check_in_made_at(sent_at, kind, outing.started_at, now).ok_or_else(|| {
                ApiError::bad_input(
                    "madeAt",
                    "is too far in the future or before the outing started",
                )
            })?;
        if input.latitude.is_some() {
            let consents = store::profiles::participant_profiles_of(&txn, &[outing.participant_id])
                .await?
                .first()
                .is_some_and(|profile| profile.consents_to_location_sharing);
            if !consents {
                return Err(ApiError::refused(
                    reasons::LOCATION_NOT_CONSENTED,
                    "the participant has not consented to location sharing: send the check-in without a location",
                ));
            }
        }
        let latest = store::outings::latest_check_in_at(&txn, outing.id).await?;
        let check_in = store::outings::add_check_in(
            &txn,
            store::outings::NewCheckIn {
                outing_id: outing.id,
                person_id: viewer.person_id,
                kind: kind.as_str(),
                made_at,
                latitude: input.latitude,
                longitude: input.longitude,
                note: &note,
            },
            now,
        )
        .await?;
        notify::answer_check_in_prompts(&txn, &outing, &check_in, now).await?;
        // The newest check-in sets the next deadline; a late one from before it does not, and
        // neither does it answer an alert.
        let is_newest = latest.is_none_or(|latest| made_at >= latest);
        if is_newest && let Some(watch) = safety::watch_of(&outing) {
            let interval = Duration::minutes(i64::from(outing.check_in_interval_minutes));
            safety::apply_watch(&mut outing, Some(watch.rearmed(made_at, interval)));
        }
        let alerts = safety::alerts_after_check_in(
            &txn,
            &mut outing,
            kind,
            is_newest,
            viewer.person_id,
            state.config.safety,
            now,
        )
        .await?;
        audit_with(&txn, &viewer, now, "outing.checked_in", ("outing", outing.id), Some(json!({ "checkInId": check_in.id, "kind": kind.as_str(), "late": made_at < now - Duration::minutes(1) })))
        .await?;
        let outing = store::outings::save(&txn, outing, now).await?;
        let object = commit_outing(txn, state, outing, !alerts.changed.is_empty()).await?;
        for alert in &alerts.changed {
            state.events.publish(safety::alert_changed(alert));
        }
        Ok(CheckInPayload {
            check_in: CheckIn::from_row(check_in)?,
            outing: object,
            alert: alerts.alert.map(|row| Alert { row }),
        })
    }
}
/// One lifecycle step on an outing: visible, allowed, possible, then `change`, the watchdog state,
/// reminders, audit — in one transaction.
pub(super) async fn lifecycle(
    ctx: &Context<'_>,
    outing_id: &ID,
    action: OutingAction,
    change: impl FnOnce(&mut outings::Model) -> ApiResult<()>,
) -> ApiResult<OutingPayload> {
    let viewer = viewer(ctx)?;
    let outing_id = parse_id(outing_id, "outingId")?;
    let state = state(ctx)?;
    let now = state.clock.now();
    let txn = store::begin_write(&state.db).await?;
    let (mut outing, actor) = visible_outing(&txn, &viewer, outing_id, true).await?;
    let to = step(&outing, actor, action)?;
    let pair_step = match action {
        OutingAction::Approve => Some(PairStep::Approve),
        OutingAction::Start => Some(PairStep::Start),
        _ => None,
    };
    if let Some(pair_step) = pair_step {
        ensure_match_allows(
            &txn,
            outing.lead_supporter_id,
            outing.participant_id,
            pair_step,
        )
        .await?;
    }
    let times_before = (outing.planned_start, outing.planned_end);
    change(&mut outing)?;
    let retimed = (outing.planned_start, outing.planned_end) != times_before;
    let mut queued = false;
    match action {
        OutingAction::Approve => {
            outing.approved_by = Some(viewer.person_id);
        }
        OutingAction::Start => {
            // Started after its planned end, the outing would be overdue at once and raise a
            // false alarm to the coordinators.
            if now >= outing.planned_end {
                return Err(ApiError::refused(
                    reasons::INVALID_TRANSITION,
                    "the outing's planned end has passed: replan it before starting",
                ));
            }
            let lead = store::people::find(&txn, outing.lead_supporter_id)
                .await?
                .ok_or_else(|| ApiError::internal("outing without lead"))?;
            let capabilities = capabilities_in(&txn, &lead, now).await?;
            if !capabilities.may_lead_outings() {
                return Err(told_to(
                    &viewer,
                    lead.id,
                    training_incomplete("leading an outing", &capabilities.missing_to_lead),
                ));
            }
            outing.started_at = Some(now);
            // Already now: the watch below is only kept for an outing under way.
            outing.status = to.as_str().to_owned();
            let interval = Duration::minutes(i64::from(outing.check_in_interval_minutes));
            outing.check_in_due_at = Some(rules::next_deadline(now, interval));
            outing.watch_step = None;
            outing.overdue_alerted = false;
            let watch = safety::watch_of(&outing);
            safety::apply_watch(&mut outing, watch);
            notify::withdraw_outing_reminders(&txn, &outing).await?;
        }
        OutingAction::Complete => {
            outing.ended_at = Some(now);
            safety::apply_watch(&mut outing, None);
        }
        OutingAction::Cancel => {
            outing.ended_at = Some(now);
            notify::withdraw_outing_reminders(&txn, &outing).await?;
        }
        OutingAction::Extend => {
            // The new end gets its own overdue alert if the outing overruns it too.
            outing.overdue_alerted = false;
            let watch = safety::watch_of(&outing);
            safety::apply_watch(&mut outing, watch);
        }
        _ => {}
    }
    outing.status = to.as_str().to_owned();
    let outing = if retimed {
        store::outings::save_retimed(&txn, outing, now).await?
    } else {
        store::outings::save(&txn, outing, now).await?
    };
    if action == OutingAction::Approve {
        queued = notify::plan_outing_reminders(&txn, &outing, now).await?;
    }
    audit(
        &txn,
        &viewer,
        now,
        &format!("outing.{}", action.as_str()),
        ("outing", outing.id),
    )
    .await?;
    let outing = commit_outing(txn, state, outing, queued).await?;
    Ok(OutingPayload { outing })
}
