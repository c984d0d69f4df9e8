//! Answering alerts: acknowledge, resolve, and who is on duty for them.

use crate::api::common::logged_id;
use async_graphql::{Context, ID, Object};
use serde_json::json;

use super::checks::NOTE_MAX;
use super::events::outing_changed;
use super::inputs::{
    AcknowledgeAlertsInput, AcknowledgeAlertsPayload, ResolveAlertInput, ResolveAlertPayload,
    SetOnDutyInput, SetOnDutyPayload,
};
use super::objects::Alert;
use crate::api::common::{
    audit, audit_with, coordinator_in, ensure_coordinator, ensure_list_len, parse_id, valid,
};
use crate::api::context::{state, viewer};
use crate::api::error::{ApiError, ApiResult, reasons};
use crate::domain::outings::{self as rules, AlertStatus as DomainAlertStatus, bounds};
use crate::domain::text;
use crate::store::outings::member_role;
use crate::{safety, store};

#[derive(Default)]
pub struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Takes ownership of open alerts: the first acknowledgement wins, escalation stops, and the
    /// owner sees the participant's crisis plan. All of them or none: one already owned by someone
    /// else is CONFLICT (with `extensions.ownerId`). Coordinators.
    #[tracing::instrument(name = "acknowledgeAlerts", skip_all)]
    async fn acknowledge_alerts(
        &self,
        ctx: &Context<'_>,
        input: AcknowledgeAlertsInput,
    ) -> ApiResult<AcknowledgeAlertsPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators acknowledge alerts")?;
        ensure_list_len(
            "alertIds",
            input.alert_ids.len(),
            bounds::ACKNOWLEDGED_ALERTS_MAX,
        )?;
        if input.alert_ids.is_empty() {
            return Err(ApiError::bad_input("alertIds", "must name an alert"));
        }
        let mut ids = Vec::new();
        for id in &input.alert_ids {
            let id = parse_id(id, "alertIds")?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let found = store::outings::find_alerts(&txn, &ids).await?;
        if found.len() != ids.len()
            || found
                .iter()
                .any(|alert| alert.organisation_id != viewer.organisation_id)
        {
            return Err(ApiError::NotFound);
        }
        let reminder = state.config.safety.acknowledged_reminder;
        for alert in &found {
            // An alert a late check-in answered pages nobody, its owner included.
            let remind_at = alert.answered_late_at.is_none().then(|| now + reminder);
            if !store::outings::acknowledge(&txn, alert.id, viewer.person_id, remind_at, now)
                .await?
            {
                let current = store::outings::find_alerts(&txn, &[alert.id]).await?;
                let owner = current.first().and_then(|alert| alert.owner_id);
                let mut refusal = ApiError::refused(
                    reasons::INVALID_TRANSITION,
                    "this alert is already acknowledged or resolved",
                );
                if let Some(owner) = owner {
                    refusal = refusal.with_detail("ownerId", owner.to_string());
                }
                return Err(refusal);
            }
            audit(
                &txn,
                &viewer,
                now,
                "alert.acknowledged",
                ("alert", alert.id),
            )
            .await?;
        }
        let alerts = store::outings::find_alerts(&txn, &ids).await?;
        txn.commit().await?;
        for alert in &alerts {
            state.events.publish(safety::alert_changed(alert));
        }
        Ok(AcknowledgeAlertsPayload {
            alerts: alerts.into_iter().map(|row| Alert { row }).collect(),
        })
    }

    /// Resolves an acknowledged alert with a reason and a note. Its owner. A real incident flags
    /// the outing's supporters for a supervision follow-up.
    #[tracing::instrument(name = "resolveAlert", skip_all, fields(alert_id = %logged_id(&input.alert_id)))]
    async fn resolve_alert(
        &self,
        ctx: &Context<'_>,
        input: ResolveAlertInput,
    ) -> ApiResult<ResolveAlertPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators resolve alerts")?;
        let alert_id = parse_id(&input.alert_id, "alertId")?;
        let note = valid("note", text::note(&input.note, NOTE_MAX, true))?;
        let resolution = rules::Resolution::from(input.resolution);
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        // The outing is locked before its alert, as check-ins lock them (no deadlock).
        let outing_id = store::outings::find_alerts(&txn, &[alert_id])
            .await?
            .pop()
            .filter(|alert| alert.organisation_id == viewer.organisation_id)
            .ok_or(ApiError::NotFound)?
            .outing_id;
        store::outings::lock(&txn, outing_id).await?;
        let mut alert = store::outings::lock_alert(&txn, alert_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let status = DomainAlertStatus::parse(&alert.status)?;
        if status != DomainAlertStatus::Acknowledged {
            return Err(ApiError::refused(
                reasons::INVALID_TRANSITION,
                "only an acknowledged alert is resolved: acknowledge it first",
            ));
        }
        if alert.owner_id != Some(viewer.person_id) {
            return Err(ApiError::Forbidden {
                reason: "the alert's owner resolves it",
            });
        }
        alert.status = DomainAlertStatus::Resolved.as_str().to_owned();
        alert.resolved_at = Some(now);
        alert.resolution = Some(resolution.as_str().to_owned());
        alert.resolution_note = Some(note);
        let alert = store::outings::save_alert(&txn, alert).await?;
        if resolution.was_real_incident() {
            for member in store::outings::members_of(&txn, &[alert.outing_id]).await? {
                if member.role == member_role::LEAD || member.role == member_role::TRAINEE {
                    store::training::flag_for_supervision(&txn, member.person_id, now).await?;
                }
            }
        }
        audit_with(
            &txn,
            &viewer,
            now,
            "alert.resolved",
            ("alert", alert.id),
            json!({ "resolution": resolution.as_str() }),
        )
        .await?;
        // An outing still under way is watched again from now on.
        let rearmed = safety::after_resolution(&txn, alert.outing_id, now).await?;
        txn.commit().await?;
        state.events.publish(safety::alert_changed(&alert));
        if let Some(outing) = &rearmed {
            state.events.publish(outing_changed(outing));
        }
        Ok(ResolveAlertPayload {
            alert: Alert { row: alert },
        })
    }

    /// Puts a coordinator on call outside the rota (they get alerts first) until turned off, or
    /// takes them off call; their rota shifts still count (see `onDutyNow`). Coordinators.
    #[tracing::instrument(name = "setOnDuty", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn set_on_duty(
        &self,
        ctx: &Context<'_>,
        input: SetOnDutyInput,
    ) -> ApiResult<SetOnDutyPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators set who is on duty")?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = coordinator_in(&txn, &viewer, person_id, "personId").await?;
        store::outings::set_on_duty(
            &txn,
            person.id,
            viewer.organisation_id,
            input.is_on_duty,
            now,
        )
        .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "duty.changed",
            ("person", person.id),
            json!({ "isOnDuty": input.is_on_duty }),
        )
        .await?;
        let on_duty = store::rota::on_duty_now(&txn, viewer.organisation_id, now).await?;
        txn.commit().await?;
        Ok(SetOnDutyPayload {
            on_duty_ids: on_duty.into_iter().map(|id| ID(id.to_string())).collect(),
        })
    }
}
