//! The watchdog's tick: the check-in ladder's due steps, active alerts moved along theirs,
//! unanswered SOS advice, in one transaction per batch.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use super::alerts::{audit_alert, note_reachability, push_alert, raise_alert, recipients};
use super::watch::{
    FAILED_ROW_RETRY_SECONDS, RowError, SafetyTimings, apply_watch, bad, grace_of, parsed_watch_of,
};
use crate::domain::outings::{
    AlertReason, AlertStatus, AlertStep, AlertTier, AlertWatch, WatchAction, WatchStep,
    advise_emergency_numbers, bounds,
};
use crate::events::DomainEvent;
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::entities::{alerts, outings};

/// What one tick did, and the events to publish once it is committed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub prompts: usize,
    pub alerts_raised: usize,
    pub escalations: usize,
    /// Owners reminded of an acknowledged alert, and alerts sent back to the coordinators on duty.
    pub owner_reminders: usize,
    pub returned_to_duty: usize,
    /// Unanswered SOS alerts whose people were told to call the emergency numbers.
    pub emergency_advice: usize,
    /// Rows that could not be handled: logged with their ids, skipped, looked at again later.
    pub failed_rows: usize,
    pub events: Vec<DomainEvent>,
}

impl TickReport {
    pub fn did_work(&self) -> bool {
        self.prompts
            + self.alerts_raised
            + self.escalations
            + self.owner_reminders
            + self.returned_to_duty
            + self.emergency_advice
            + self.failed_rows
            > 0
    }
}

/// One watchdog tick: up to `batch` due outings and `batch` due alerts, in one transaction (rows
/// locked with SKIP LOCKED on PostgreSQL, so two servers share the work and never repeat it). Its
/// cost grows with what is due, not with the number of outings.
///
/// One bad row must not stop the others: a row whose stored values do not parse is logged with
/// its id, counted, and looked at again a minute later. If the tick fails all the same (a write
/// the database refuses), it is run again with each row in a savepoint of its own, so the rows
/// that fail are found, skipped and counted, and the rest are handled.
#[tracing::instrument(name = "watchdog_tick", skip_all, fields(%now, batch))]
pub async fn watchdog_tick(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
    timings: SafetyTimings,
) -> Result<TickReport, DbErr> {
    let txn = store::begin_write(db).await?;
    match tick_in(&txn, now, batch, timings, false).await {
        Ok(report) => {
            txn.commit().await?;
            Ok(report)
        }
        Err(err) => {
            txn.rollback().await?;
            tracing::warn!(error = %err, "watchdog tick failed: handling its rows one at a time");
            let txn = store::begin_write(db).await?;
            let report = tick_in(&txn, now, batch, timings, true).await?;
            txn.commit().await?;
            Ok(report)
        }
    }
}

/// Runs `step` on one row; in isolating mode inside a savepoint, so a failed row's writes are
/// undone and the tick goes on. Returns whether the row failed (and must be put off).
pub(super) async fn row<T, F>(
    txn: &DatabaseTransaction,
    isolate: bool,
    step: F,
) -> Result<Result<T, RowError>, DbErr>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<T, RowError>,
{
    if !isolate {
        return match step(txn).await {
            Err(RowError::Db(err)) => Err(err),
            other => Ok(other),
        };
    }
    let savepoint = txn.begin().await?;
    match step(&savepoint).await {
        Ok(value) => {
            savepoint.commit().await?;
            Ok(Ok(value))
        }
        Err(err) => {
            savepoint.rollback().await?;
            Ok(Err(err))
        }
    }
}

pub(super) async fn tick_in(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    batch: u64,
    timings: SafetyTimings,
    isolate: bool,
) -> Result<TickReport, DbErr> {
    let mut report = TickReport::default();
    let retry_at = now + Duration::seconds(FAILED_ROW_RETRY_SECONDS);
    let due_watches = store::outings::lock_due_watches(txn, now, batch).await?;
    // Everyone on the due outings, in one statement (prompts go to every member).
    let due_ids: Vec<Uuid> = due_watches.iter().map(|outing| outing.id).collect();
    let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for member in store::outings::members_of(txn, &due_ids).await? {
        members
            .entry(member.outing_id)
            .or_default()
            .push(member.person_id);
    }
    for outing in due_watches {
        let outing_id = outing.id;
        let members = members.get(&outing.id).map_or(&[][..], Vec::as_slice);
        let handled = row(txn, isolate, async |db| {
            watch_outing(db, outing, members, timings, now, &mut report).await
        })
        .await?;
        if let Err(err) = handled {
            tracing::error!(%outing_id, error = %err, "watchdog: an outing could not be handled; trying it again in a minute");
            store::outings::defer_watch(txn, outing_id, retry_at).await?;
            report.failed_rows += 1;
        }
    }
    let due = store::outings::lock_due_escalations(txn, now, batch).await?;
    let outing_ids: Vec<Uuid> = due.iter().map(|alert| alert.outing_id).collect();
    let outings = store::outings::find_many(txn, &outing_ids).await?;
    for alert in due {
        let alert_id = alert.id;
        let grace = outings
            .iter()
            .find(|outing| outing.id == alert.outing_id)
            .map_or(
                Duration::minutes(i64::from(bounds::DEFAULT_GRACE_MINUTES)),
                grace_of,
            );
        let handled = row(txn, isolate, async |db| {
            move_alert(db, alert, grace, timings, now, &mut report).await
        })
        .await?;
        if let Err(err) = handled {
            tracing::error!(%alert_id, error = %err, "watchdog: an alert could not be handled; trying it again in a minute");
            store::outings::defer_escalation(txn, alert_id, retry_at).await?;
            report.failed_rows += 1;
        }
    }
    advise_unanswered_sos(txn, now, batch, &mut report).await?;
    Ok(report)
}

/// SOS alerts nobody acknowledged in time: everyone on the outing is told to call the emergency
/// numbers themselves (their app shows 119 and 110), once.
pub(super) async fn advise_unanswered_sos(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    batch: u64,
    report: &mut TickReport,
) -> Result<(), DbErr> {
    let due = store::outings::lock_due_advice(txn, now, batch).await?;
    if due.is_empty() {
        return Ok(());
    }
    let outing_ids: Vec<Uuid> = due.iter().map(|alert| alert.outing_id).collect();
    let members = store::outings::members_of(txn, &outing_ids).await?;
    for mut alert in due {
        alert.advise_at = None;
        let reason = AlertReason::parse(&alert.reason);
        let status = AlertStatus::parse(&alert.status);
        let advise = matches!((reason, status), (Ok(reason), Ok(status)) if advise_emergency_numbers(reason, status));
        if advise {
            alert.emergency_advised_at = Some(now);
            for member in members
                .iter()
                .filter(|member| member.outing_id == alert.outing_id)
            {
                notify::remind(
                    txn,
                    Recipient {
                        person_id: member.person_id,
                        organisation_id: alert.organisation_id,
                    },
                    Message::SosUnanswered {
                        alert_id: alert.id,
                        outing_id: alert.outing_id,
                    },
                    now,
                    &format!(
                        "sos-unanswered:{}:{}",
                        alert.id.simple(),
                        member.person_id.simple()
                    ),
                    now,
                )
                .await?;
            }
            store::audit::record(
                txn,
                audit_alert(&alert, None, "alert.emergency_numbers_advised", json!({})),
                now,
            )
            .await?;
            report.emergency_advice += 1;
            report.events.push(alert_changed(&alert));
            report.events.push(DomainEvent::OutingChanged {
                organisation_id: alert.organisation_id,
                outing_id: alert.outing_id,
            });
        }
        store::outings::save_alert(txn, alert).await?;
    }
    Ok(())
}

/// The check-in ladder's due steps for one outing.
pub(super) async fn watch_outing(
    db: &DatabaseTransaction,
    mut outing: outings::Model,
    members: &[Uuid],
    timings: SafetyTimings,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<(), RowError> {
    let Some(watch) = parsed_watch_of(&outing)? else {
        outing.watch_at = None;
        store::outings::save(db, outing, now).await?;
        return Ok(());
    };
    let (actions, after) = watch.actions(now);
    for action in actions {
        match action {
            WatchAction::Prompt(step) => {
                prompt_members(db, &outing, members, watch.check_in_due_at, step, now).await?;
                report.prompts += 1;
            }
            WatchAction::RaiseMissedCheckIn | WatchAction::RaiseOverdue => {
                let reason = if action == WatchAction::RaiseOverdue {
                    AlertReason::Overdue
                } else {
                    AlertReason::MissedCheckIn
                };
                let alert = raise_alert(
                    db,
                    &mut outing,
                    reason,
                    AlertTier::OnDuty,
                    None,
                    timings,
                    now,
                )
                .await?;
                // Coordinators watching `alerts` hear of it now, not at its first escalation.
                report.events.push(alert_changed(&alert));
                report.alerts_raised += 1;
            }
        }
    }
    apply_watch(&mut outing, Some(after));
    report.events.push(DomainEvent::OutingChanged {
        organisation_id: outing.organisation_id,
        outing_id: outing.id,
    });
    store::outings::save(db, outing, now).await?;
    Ok(())
}

/// One active alert's due step: climb a tier, remind its owner, or go back to the coordinators on
/// duty (see `domain::outings::AlertWatch`).
pub(super) async fn move_alert(
    db: &DatabaseTransaction,
    mut alert: alerts::Model,
    grace: Duration,
    timings: SafetyTimings,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<(), RowError> {
    let watch = AlertWatch {
        status: AlertStatus::parse(&alert.status).map_err(bad)?,
        tier: AlertTier::parse(&alert.tier).map_err(bad)?,
        owner_reminded: alert.owner_reminded_at.is_some(),
        answered_late: alert.answered_late_at.is_some(),
    };
    let Some(step) = watch.step() else {
        alert.escalate_at = None;
        store::outings::save_alert(db, alert).await?;
        return Ok(());
    };
    alert.escalate_at =
        Some(now + AlertWatch::next_look_after(step, grace, timings.acknowledged_reminder));
    let (action, detail) = match step {
        AlertStep::Climb(tier) => {
            alert.tier = tier.as_str().to_owned();
            let people = recipients(db, alert.organisation_id, tier, now).await?;
            note_reachability(db, &mut alert, &people, timings, now).await?;
            push_alert(db, &mut alert, &people, now).await?;
            report.escalations += 1;
            (
                "alert.escalated",
                json!({ "tier": tier.as_str(), "push": alert.pushes }),
            )
        }
        AlertStep::RemindOwner => {
            alert.owner_reminded_at = Some(now);
            let owner: Vec<Uuid> = alert.owner_id.into_iter().collect();
            push_alert(db, &mut alert, &owner, now).await?;
            report.owner_reminders += 1;
            ("alert.owner_reminded", json!({ "push": alert.pushes }))
        }
        AlertStep::BackToOnDuty => {
            let previous_owner = alert.owner_id.take();
            alert.status = AlertStatus::Open.as_str().to_owned();
            alert.tier = AlertTier::OnDuty.as_str().to_owned();
            alert.acknowledged_at = None;
            alert.owner_reminded_at = None;
            let people = recipients(db, alert.organisation_id, AlertTier::OnDuty, now).await?;
            note_reachability(db, &mut alert, &people, timings, now).await?;
            push_alert(db, &mut alert, &people, now).await?;
            report.returned_to_duty += 1;
            (
                "alert.returned_to_duty",
                json!({ "previousOwnerId": previous_owner, "push": alert.pushes }),
            )
        }
    };
    store::audit::record(db, audit_alert(&alert, None, action, detail), now).await?;
    report.events.push(alert_changed(&alert));
    store::outings::save_alert(db, alert).await?;
    Ok(())
}

/// The event for subscribers when an alert changes.
pub fn alert_changed(alert: &alerts::Model) -> DomainEvent {
    DomainEvent::AlertChanged {
        organisation_id: alert.organisation_id,
        alert_id: alert.id,
        outing_id: alert.outing_id,
    }
}

/// "Check-in due" to everyone on the outing (`members`).
pub(super) async fn prompt_members(
    db: &impl ConnectionTrait,
    outing: &outings::Model,
    members: &[Uuid],
    due_at: DateTime<Utc>,
    step: WatchStep,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for member in members {
        notify::remind(
            db,
            Recipient {
                person_id: *member,
                organisation_id: outing.organisation_id,
            },
            Message::CheckInDue {
                outing_id: outing.id,
                due_at,
            },
            now,
            &format!(
                "check-in:{}:{}:{}:{}",
                outing.id.simple(),
                due_at.timestamp(),
                step.as_str(),
                member.simple()
            ),
            now,
        )
        .await?;
    }
    Ok(())
}
