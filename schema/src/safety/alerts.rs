//! Raising an alert and pushing it to the right coordinators, what a check-in does to the outing's
//! alerts, and the ladder re-armed when an alert is resolved.

use crate::domain::clock::id_at;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::json;
use uuid::Uuid;

use super::watch::{SafetyTimings, apply_watch, grace_of, interval_of, parsed_watch_of};
use crate::domain::outings::{
    ALERT_REPEAT_PUSH_MINUTES, AlertReason, AlertStatus, AlertTier, CheckInKind, OutingAction,
    OutingStatus, joined, status_with_alerts, transition,
};
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::audit::AuditEntry;
use crate::store::entities::{alerts, outings};

/// The coordinators on duty at `now` (by the rota or by hand), or every coordinator of the
/// organisation when nobody is: whoever must hear of something now.
pub(crate) async fn coordinators_on_duty(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    recipients(db, organisation_id, AlertTier::OnDuty, now).await
}

/// Who an alert at `tier` reaches: the coordinators on duty at `now` (by the rota or by hand; all
/// coordinators when nobody is), or every coordinator of the organisation.
pub(super) async fn recipients(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    tier: AlertTier,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    let coordinators: Vec<Uuid> = store::people::coordinators_of(db, organisation_id)
        .await?
        .into_iter()
        .map(|person| person.id)
        .collect();
    if tier == AlertTier::OnDuty {
        let on_duty = store::rota::on_duty_now(db, organisation_id, now).await?;
        let on_duty: Vec<Uuid> = coordinators
            .iter()
            .copied()
            .filter(|id| on_duty.contains(id))
            .collect();
        if !on_duty.is_empty() {
            return Ok(on_duty);
        }
    }
    Ok(coordinators)
}

/// Notes on the alert whether anyone its tier should reach (`people`) can be reached: someone
/// with a device that works, or with an e-mail address when the e-mail fallback runs. An alert
/// that reaches nobody is shown first to coordinators and counted in the metrics, so somebody
/// fixes it.
pub(super) async fn note_reachability(
    db: &impl ConnectionTrait,
    alert: &mut alerts::Model,
    people: &[Uuid],
    timings: SafetyTimings,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut reachable = !store::push_subscriptions::reachable_among(db, people)
        .await?
        .is_empty();
    if !reachable && timings.email_fallback.is_some() {
        reachable = !store::contact_addresses::with_email_among(db, people)
            .await?
            .is_empty();
    }
    alert.unreachable_since = if reachable {
        None
    } else {
        alert.unreachable_since.or(Some(now))
    };
    Ok(())
}

/// Counts one more push of the alert and sends it to `people` (none: nothing happens). The caller
/// saves the alert.
pub(super) async fn push_alert(
    db: &impl ConnectionTrait,
    alert: &mut alerts::Model,
    people: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if people.is_empty() {
        return Ok(());
    }
    alert.pushes += 1;
    alert.last_pushed_at = Some(now);
    send_alert(db, alert, people, now).await
}

/// Sends the alert's current push (`alert.pushes`, already counted) to `people`, who are recorded
/// as reached.
pub(super) async fn send_alert(
    db: &impl ConnectionTrait,
    alert: &alerts::Model,
    people: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for person in people {
        notify::remind(
            db,
            Recipient {
                person_id: *person,
                organisation_id: alert.organisation_id,
            },
            Message::SafetyAlert {
                alert_id: alert.id,
                outing_id: alert.outing_id,
            },
            now,
            &format!(
                "alert:{}:{}:{}",
                alert.id.simple(),
                alert.pushes,
                person.simple()
            ),
            now,
        )
        .await?;
    }
    store::outings::record_reached(db, alert.id, people, now).await
}

pub(super) fn audit_alert(
    alert: &alerts::Model,
    actor: Option<Uuid>,
    action: &'static str,
    detail: serde_json::Value,
) -> AuditEntry<'static> {
    AuditEntry {
        organisation_id: alert.organisation_id,
        actor_id: actor,
        action,
        subject_kind: "alert",
        subject_id: Some(alert.id),
        detail: Some(detail),
    }
}

/// Raises an alert about the outing at `tier`, pushes it, escalates the outing, and audits it
/// (`actor`: whose check-in raised it; none for the watchdog). The caller saves the outing.
pub async fn raise_alert(
    db: &impl ConnectionTrait,
    outing: &mut outings::Model,
    reason: AlertReason,
    tier: AlertTier,
    actor: Option<Uuid>,
    timings: SafetyTimings,
    now: DateTime<Utc>,
) -> Result<alerts::Model, DbErr> {
    let mut alert = alerts::Model {
        id: id_at(now),
        organisation_id: outing.organisation_id,
        outing_id: outing.id,
        reason: reason.as_str().to_owned(),
        tier: tier.as_str().to_owned(),
        status: AlertStatus::Open.as_str().to_owned(),
        raised_at: now,
        escalate_at: Some(now + grace_of(outing)),
        pushes: 0,
        owner_id: None,
        acknowledged_at: None,
        resolved_at: None,
        resolution: None,
        resolution_note: None,
        last_pushed_at: None,
        owner_reminded_at: None,
        answered_late_at: None,
        advise_at: None,
        emergency_advised_at: None,
        unreachable_since: None,
    };
    if reason == AlertReason::Sos {
        alert.advise_at = Some(now + timings.sos_unanswered);
    }
    let people = recipients(db, alert.organisation_id, tier, now).await?;
    note_reachability(db, &mut alert, &people, timings, now).await?;
    // The first push is counted before the row is written: raising costs one insert.
    if !people.is_empty() {
        alert.pushes = 1;
        alert.last_pushed_at = Some(now);
    }
    let alert = store::outings::insert_alert(db, alert).await?;
    send_alert(db, &alert, &people, now).await?;
    if let Ok(status) = OutingStatus::parse(&outing.status)
        && let Ok(escalated) = transition(status, OutingAction::Escalate)
    {
        outing.status = escalated.as_str().to_owned();
    }
    store::audit::record(
        db,
        audit_alert(
            &alert,
            actor,
            "alert.raised",
            json!({ "outingId": outing.id, "reason": reason.as_str(), "tier": tier.as_str() }),
        ),
        now,
    )
    .await?;
    Ok(alert)
}

/// What a check-in did to the outing's alerts.
#[derive(Debug, Default)]
pub struct CheckInAlerts {
    /// The alert an urgent check-in raised or joined.
    pub alert: Option<alerts::Model>,
    /// Every alert that changed (for subscribers).
    pub changed: Vec<alerts::Model>,
}

/// What a check-in of `kind` by `actor` does to the outing's alerts, in the check-in's
/// transaction (the outing is locked; its active alerts are locked after it):
/// - the newest "OK" answers an unanswered missed-check-in alert: its paging stops, everyone it
///   reached is told, it stays for a coordinator to close; it never stops any other alert;
/// - an urgent check-in (need help, separated, SOS) joins the newest active alert of the outing —
///   the alert takes the more urgent reason and tier, pages again if it had been answered, and
///   is pushed to whoever its tier now reaches for the first time, and again (at most once a
///   minute) to those it already reached — or raises a new alert when none is active.
///
/// Finally the outing is escalated exactly while one of its alerts still pages. The caller saves
/// the outing.
pub async fn alerts_after_check_in(
    db: &impl ConnectionTrait,
    outing: &mut outings::Model,
    kind: CheckInKind,
    is_newest: bool,
    actor: Uuid,
    timings: SafetyTimings,
    now: DateTime<Utc>,
) -> Result<CheckInAlerts, DbErr> {
    let mut active = store::outings::lock_active_alerts_of(db, outing.id).await?;
    let mut result = CheckInAlerts::default();
    if kind == CheckInKind::Ok && is_newest {
        for alert in &mut active {
            let reason = AlertReason::parse(&alert.reason).map_err(db_bad)?;
            if !reason.answered_by_ok() || alert.answered_late_at.is_some() {
                continue;
            }
            alert.answered_late_at = Some(now);
            alert.escalate_at = None;
            tell_answered(db, alert, now).await?;
            store::audit::record(
                db,
                audit_alert(alert, Some(actor), "alert.answered_late", json!({})),
                now,
            )
            .await?;
            result
                .changed
                .push(store::outings::save_alert(db, alert.clone()).await?);
        }
    }
    if let Some((reason, tier)) = kind.raises() {
        match active.last_mut() {
            Some(alert) => {
                let joined = join_alert(db, outing, alert, kind, actor, timings, now).await?;
                *alert = joined.clone();
                result.changed.push(joined.clone());
                result.alert = Some(joined);
            }
            None => {
                let alert =
                    raise_alert(db, outing, reason, tier, Some(actor), timings, now).await?;
                active.push(alert.clone());
                result.changed.push(alert.clone());
                result.alert = Some(alert);
            }
        }
    }
    settle_status(outing, &active)?;
    Ok(result)
}

/// Escalated while an active alert still pages (not answered by a late "OK"), in progress
/// otherwise; outings not under way keep their status.
pub(super) fn settle_status(
    outing: &mut outings::Model,
    active: &[alerts::Model],
) -> Result<(), DbErr> {
    let paging = active.iter().any(|alert| {
        alert.answered_late_at.is_none()
            && AlertStatus::parse(&alert.status).is_ok_and(AlertStatus::is_active)
    });
    let status = OutingStatus::parse(&outing.status).map_err(db_bad)?;
    outing.status = status_with_alerts(status, paging).as_str().to_owned();
    Ok(())
}

pub(super) fn db_bad<E: std::fmt::Display>(err: E) -> DbErr {
    DbErr::Custom(err.to_string())
}

/// An urgent check-in joins an active alert (see [`alerts_after_check_in`]).
pub(super) async fn join_alert(
    db: &impl ConnectionTrait,
    outing: &outings::Model,
    alert: &alerts::Model,
    kind: CheckInKind,
    actor: Uuid,
    timings: SafetyTimings,
    now: DateTime<Utc>,
) -> Result<alerts::Model, DbErr> {
    let mut alert = alert.clone();
    let reason = AlertReason::parse(&alert.reason).map_err(db_bad)?;
    let tier = AlertTier::parse(&alert.tier).map_err(db_bad)?;
    let status = AlertStatus::parse(&alert.status).map_err(db_bad)?;
    let (reason, tier) = joined(reason, tier, kind);
    alert.reason = reason.as_str().to_owned();
    alert.tier = tier.as_str().to_owned();
    let was_answered = alert.answered_late_at.take().is_some();
    if status == AlertStatus::Open && (was_answered || alert.escalate_at.is_none()) {
        alert.escalate_at = Some(now + grace_of(outing));
    }
    // An SOS joining an alert nobody has acknowledged starts the emergency-numbers clock.
    if reason == AlertReason::Sos
        && alert.advise_at.is_none()
        && alert.emergency_advised_at.is_none()
    {
        alert.advise_at = Some(now + timings.sos_unanswered);
    }
    let reached = store::outings::reached_by(db, alert.id).await?;
    let mut tier_people = recipients(db, alert.organisation_id, tier, now).await?;
    if let Some(owner) = alert
        .owner_id
        .filter(|_| status == AlertStatus::Acknowledged)
    {
        tier_people.push(owner);
    }
    note_reachability(db, &mut alert, &tier_people, timings, now).await?;
    let repeat_due = alert
        .last_pushed_at
        .is_none_or(|last| now - last >= Duration::minutes(ALERT_REPEAT_PUSH_MINUTES));
    let mut people: Vec<Uuid> = tier_people
        .iter()
        .copied()
        .filter(|person| !reached.contains(person))
        .collect();
    if repeat_due {
        people.extend(reached.iter().copied());
    }
    people.sort_unstable();
    people.dedup();
    push_alert(db, &mut alert, &people, now).await?;
    store::audit::record(
        db,
        audit_alert(
            &alert,
            Some(actor),
            "alert.joined",
            json!({ "kind": kind.as_str(), "reason": reason.as_str(), "tier": tier.as_str(), "pushedTo": people.len() }),
        ),
        now,
    )
    .await?;
    store::outings::save_alert(db, alert).await
}

/// Tells everyone the alert reached that a late check-in answered it.
pub(super) async fn tell_answered(
    db: &impl ConnectionTrait,
    alert: &alerts::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for person in store::outings::reached_by(db, alert.id).await? {
        notify::remind(
            db,
            Recipient {
                person_id: person,
                organisation_id: alert.organisation_id,
            },
            Message::AlertAnswered {
                alert_id: alert.id,
                outing_id: alert.outing_id,
            },
            now,
            &format!("alert-answered:{}:{}", alert.id.simple(), person.simple()),
            now,
        )
        .await?;
    }
    Ok(())
}

/// After an alert of the outing was resolved (in the same transaction): an outing still under
/// way is watched again from now — its next check-in is due an interval after the resolution —
/// and is in progress unless another of its alerts still pages. Returns the outing when it
/// changed (saved).
pub async fn after_resolution(
    db: &impl ConnectionTrait,
    outing_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<outings::Model>, DbErr> {
    let Some(mut outing) = store::outings::lock(db, outing_id).await? else {
        return Ok(None);
    };
    let Some(watch) = parsed_watch_of(&outing).map_err(|err| DbErr::Custom(err.0))? else {
        return Ok(None);
    };
    let interval = interval_of(&outing);
    apply_watch(&mut outing, Some(watch.rearmed(now, interval)));
    let active = store::outings::lock_active_alerts_of(db, outing.id).await?;
    settle_status(&mut outing, &active)?;
    Ok(Some(store::outings::save(db, outing, now).await?))
}
