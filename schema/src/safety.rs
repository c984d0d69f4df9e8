//! The safety net's writes: raising an alert (and pushing it to the right coordinators), and the
//! watchdog's tick, which takes the check-in ladder's due steps and climbs open alerts up their
//! tiers. The rules are `domain::outings`; the server only calls `watchdog_tick` in a loop. All
//! state is in the database, so a restarted or second server carries on where the first stopped.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde_json::json;
use uuid::Uuid;

use crate::api::events::DomainEvent;
use crate::domain::outings::{
    AlertReason, AlertStatus, AlertTier, OutingAction, OutingStatus, Watch, WatchAction, WatchStep,
    bounds, transition,
};
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::audit::AuditEntry;
use crate::store::entities::{alerts, outings};

/// The outing's grace period.
pub fn grace_of(outing: &outings::Model) -> Duration {
    Duration::minutes(i64::from(outing.grace_minutes))
}

/// The watchdog's view of an outing under way (none when it is not under way).
pub fn watch_of(outing: &outings::Model) -> Option<Watch> {
    let status = OutingStatus::parse(&outing.status).ok()?;
    if !status.is_under_way() {
        return None;
    }
    Some(Watch {
        check_in_due_at: outing.check_in_due_at?,
        grace: grace_of(outing),
        done: outing
            .watch_step
            .as_deref()
            .and_then(|step| WatchStep::parse(step).ok()),
        planned_end: outing.planned_end,
        overdue_alerted: outing.overdue_alerted,
    })
}

/// Writes the watch back onto the outing: its step and when the watchdog must look next.
pub fn apply_watch(outing: &mut outings::Model, watch: Option<Watch>) {
    match watch {
        Some(watch) => {
            outing.check_in_due_at = Some(watch.check_in_due_at);
            outing.watch_step = watch.done.map(|step| step.as_str().to_owned());
            outing.overdue_alerted = watch.overdue_alerted;
            outing.watch_at = watch.next_look();
        }
        None => {
            outing.watch_at = None;
            outing.watch_step = None;
        }
    }
}

/// Who an alert at `tier` reaches: the coordinators on duty (all coordinators when nobody is), or
/// every coordinator of the organisation.
async fn recipients(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    tier: AlertTier,
) -> Result<Vec<Uuid>, DbErr> {
    let coordinators: Vec<Uuid> = store::people::coordinators_of(db, organisation_id)
        .await?
        .into_iter()
        .map(|person| person.id)
        .collect();
    if tier == AlertTier::OnDuty {
        let on_duty = store::outings::on_duty_in(db, organisation_id).await?;
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

/// Pushes the alert to its tier's coordinators (the `push`-th push of this alert).
async fn push_alert(
    db: &impl ConnectionTrait,
    alert: &alerts::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let tier = AlertTier::parse(&alert.tier).map_err(|err| DbErr::Custom(err.to_string()))?;
    for person in recipients(db, alert.organisation_id, tier).await? {
        notify::remind(
            db,
            Recipient {
                person_id: person,
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
    Ok(())
}

/// Raises an alert about the outing at `tier`, pushes it, escalates the outing, and audits it
/// (`actor`: whose check-in raised it; none for the watchdog). The caller saves the outing.
pub async fn raise_alert(
    db: &impl ConnectionTrait,
    outing: &mut outings::Model,
    reason: AlertReason,
    tier: AlertTier,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<alerts::Model, DbErr> {
    let alert = store::outings::insert_alert(
        db,
        alerts::Model {
            id: Uuid::now_v7(),
            organisation_id: outing.organisation_id,
            outing_id: outing.id,
            reason: reason.as_str().to_owned(),
            tier: tier.as_str().to_owned(),
            status: AlertStatus::Open.as_str().to_owned(),
            raised_at: now,
            escalate_at: Some(now + grace_of(outing)),
            pushes: 1,
            owner_id: None,
            acknowledged_at: None,
            resolved_at: None,
            resolution: None,
            resolution_note: None,
        },
    )
    .await?;
    push_alert(db, &alert, now).await?;
    if let Ok(status) = OutingStatus::parse(&outing.status)
        && let Ok(escalated) = transition(status, OutingAction::Escalate)
    {
        outing.status = escalated.as_str().to_owned();
    }
    store::audit::record(
        db,
        AuditEntry {
            organisation_id: outing.organisation_id,
            actor_id: actor,
            action: "alert.raised",
            subject_kind: "alert",
            subject_id: Some(alert.id),
            detail: Some(
                json!({ "outingId": outing.id, "reason": reason.as_str(), "tier": tier.as_str() }),
            ),
        },
        now,
    )
    .await?;
    Ok(alert)
}

/// What one tick did, and the events to publish once it is committed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub prompts: usize,
    pub alerts_raised: usize,
    pub escalations: usize,
    /// Outings or alerts that could not be processed and were skipped (the server counts them).
    pub failed_rows: usize,
    pub events: Vec<DomainEvent>,
}

impl TickReport {
    pub fn did_work(&self) -> bool {
        self.prompts + self.alerts_raised + self.escalations > 0
    }
}

/// One watchdog tick: up to `batch` due outings and `batch` due escalations, in one transaction
/// (rows locked with SKIP LOCKED on PostgreSQL, so two servers share the work and never repeat it).
/// Its cost grows with what is due, not with the number of outings.
pub async fn watchdog_tick(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<TickReport, DbErr> {
    let txn = store::begin_write(db).await?;
    let mut report = TickReport::default();
    let due_watches = store::outings::lock_due_watches(&txn, now, batch).await?;
    // Everyone on the due outings, in one statement (prompts go to every member).
    let due_ids: Vec<Uuid> = due_watches.iter().map(|outing| outing.id).collect();
    let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for member in store::outings::members_of(&txn, &due_ids).await? {
        members
            .entry(member.outing_id)
            .or_default()
            .push(member.person_id);
    }
    for mut outing in due_watches {
        let Some(watch) = watch_of(&outing) else {
            outing.watch_at = None;
            store::outings::save(&txn, outing, now).await?;
            continue;
        };
        let (actions, after) = watch.actions(now);
        for action in actions {
            match action {
                WatchAction::Prompt(step) => {
                    let members = members.get(&outing.id).map_or(&[][..], Vec::as_slice);
                    prompt_members(&txn, &outing, members, watch.check_in_due_at, step, now)
                        .await?;
                    report.prompts += 1;
                }
                WatchAction::RaiseMissedCheckIn | WatchAction::RaiseOverdue => {
                    let reason = if action == WatchAction::RaiseOverdue {
                        AlertReason::Overdue
                    } else {
                        AlertReason::MissedCheckIn
                    };
                    let alert =
                        raise_alert(&txn, &mut outing, reason, AlertTier::OnDuty, None, now)
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
        store::outings::save(&txn, outing, now).await?;
    }
    let due = store::outings::lock_due_escalations(&txn, now, batch).await?;
    let outing_ids: Vec<Uuid> = due.iter().map(|alert| alert.outing_id).collect();
    let outings = store::outings::find_many(&txn, &outing_ids).await?;
    for mut alert in due {
        let grace = outings
            .iter()
            .find(|outing| outing.id == alert.outing_id)
            .map_or(
                Duration::minutes(i64::from(bounds::DEFAULT_GRACE_MINUTES)),
                grace_of,
            );
        let tier = AlertTier::parse(&alert.tier)
            .map_err(|err| DbErr::Custom(err.to_string()))?
            .next();
        alert.tier = tier.as_str().to_owned();
        alert.pushes += 1;
        alert.escalate_at = Some(now + grace);
        push_alert(&txn, &alert, now).await?;
        store::audit::record(
            &txn,
            AuditEntry {
                organisation_id: alert.organisation_id,
                actor_id: None,
                action: "alert.escalated",
                subject_kind: "alert",
                subject_id: Some(alert.id),
                detail: Some(json!({ "tier": tier.as_str(), "push": alert.pushes })),
            },
            now,
        )
        .await?;
        report.events.push(alert_changed(&alert));
        store::outings::save_alert(&txn, alert).await?;
        report.escalations += 1;
    }
    txn.commit().await?;
    Ok(report)
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
async fn prompt_members(
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
