//! The handover at a shift's end: an acknowledged, unresolved alert whose owner went off duty by
//! the rota passes to the next coordinator on duty, who is told. A watchdog step; the rules of who
//! is on duty when are `domain::rota`.
//!
//! Which alerts it looks at: every acknowledged, unresolved alert with an owner, read without
//! locks. They are few (each is an emergency a person is handling right now), so reading them all
//! each tick is cheaper and simpler than tracking which organisations had a shift end since the
//! last tick (which would need a cursor that survives restarts); the read uses the index on
//! `alerts(status, tier)`, so resolved alerts cost nothing. Only the alerts that are due are
//! then locked (SKIP LOCKED), checked again and handed over, in one transaction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;
use uuid::Uuid;

use crate::domain::outings::AlertStatus;
use crate::domain::rota::MAX_WINDOW_DAYS;
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::audit::AuditEntry;

/// One alert due to be handed over.
struct Due {
    alert_id: Uuid,
    from: Uuid,
    to: Uuid,
}

/// Hands over, at `now`, the acknowledged alerts whose owner's duty ended by the rota since they
/// took it (their shift ended, or time off began) while someone else is on duty: the new owner is
/// the first of those on duty by id. At most `batch` alerts; returns how many were handed over.
///
/// Not handed over: an alert whose owner is still on duty (by rota or by hand), whose owner was
/// never on the rota (they took it outside any shift: nothing ended), or when nobody else is on
/// duty (it stays with its owner; its ladder still reminds them and then goes back to everyone on
/// duty). The handover changes the owner only: `acknowledged_at` and the ladder's timings stay,
/// so a handover never delays the reminder or the return to the coordinators on duty.
///
/// Idempotent: the new owner is on duty, so a second tick finds nothing to do; two watchdogs
/// never hand the same alert twice (the rows are locked, skipped when locked, checked again).
pub async fn hand_over(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<usize, DbErr> {
    let owned = store::rota::owned_alerts(db).await?;
    if owned.is_empty() {
        return Ok(0);
    }
    let oldest_look_back = now - Duration::days(MAX_WINDOW_DAYS);
    let mut by_organisation: BTreeMap<Uuid, Vec<_>> = BTreeMap::new();
    for alert in owned {
        by_organisation
            .entry(alert.organisation_id)
            .or_default()
            .push(alert);
    }
    let mut due: Vec<Due> = Vec::new();
    for (organisation_id, alerts) in by_organisation {
        let since_of = |alert: &store::entities::alerts::Model| {
            alert
                .acknowledged_at
                .unwrap_or(alert.raised_at)
                .max(oldest_look_back)
        };
        let earliest = alerts.iter().map(since_of).min().unwrap_or(now);
        let rota = store::rota::rota_of(db, organisation_id, earliest, now).await?;
        let on: BTreeSet<Uuid> = store::rota::on_duty_with(db, organisation_id, &rota, now).await?;
        for alert in &alerts {
            let Some(from) = alert.owner_id else { continue };
            if on.contains(&from) {
                continue;
            }
            let Some(to) = on.iter().next().copied() else {
                continue;
            };
            if rota.duty_ended_between(from, since_of(alert), now) {
                due.push(Due {
                    alert_id: alert.id,
                    from,
                    to,
                });
            }
        }
    }
    due.truncate(usize::try_from(batch).unwrap_or(usize::MAX));
    if due.is_empty() {
        return Ok(0);
    }
    let txn = store::begin_write(db).await?;
    let ids: Vec<Uuid> = due.iter().map(|d| d.alert_id).collect();
    let mut handed = 0;
    for mut alert in store::rota::lock_alerts(&txn, &ids).await? {
        let Some(step) = due.iter().find(|d| d.alert_id == alert.id) else {
            continue;
        };
        // Changed since it was read (resolved, returned to duty, taken by someone else): not ours.
        if alert.status != AlertStatus::Acknowledged.as_str() || alert.owner_id != Some(step.from) {
            continue;
        }
        alert.owner_id = Some(step.to);
        let (alert_id, outing_id, organisation_id) =
            (alert.id, alert.outing_id, alert.organisation_id);
        store::outings::save_alert(&txn, alert).await?;
        store::audit::record(
            &txn,
            AuditEntry {
                organisation_id,
                actor_id: None,
                action: "alert.handed_over",
                subject_kind: "alert",
                subject_id: Some(alert_id),
                detail: Some(json!({ "fromId": step.from, "toId": step.to })),
            },
            now,
        )
        .await?;
        notify::remind(
            &txn,
            Recipient {
                person_id: step.to,
                organisation_id,
            },
            Message::SafetyAlert {
                alert_id,
                outing_id,
            },
            now,
            &format!(
                "handover:{}:{}:{}",
                alert_id.simple(),
                step.to.simple(),
                now.timestamp()
            ),
            now,
        )
        .await?;
        // Reached: a check-in joining the alert later tells them too.
        store::outings::record_reached(&txn, alert_id, &[step.to], now).await?;
        tracing::info!(%alert_id, from = %step.from, to = %step.to, "alert handed over at a shift's end");
        handed += 1;
    }
    txn.commit().await?;
    Ok(handed)
}
