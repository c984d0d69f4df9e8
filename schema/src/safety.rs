//! The safety net's writes: raising an alert (and pushing it to the right coordinators), what a
//! check-in does to the outing's alerts (a late "OK" answers a missed check-in, an urgent one joins
//! the alert already open), the ladder re-armed when an alert is resolved, and the watchdog's tick,
//! which takes the check-in ladder's due steps and moves active alerts along theirs. The rules are
//! `domain::outings`; the server only calls `watchdog_tick` in a loop. All state is in the
//! database, so a restarted or second server carries on where the first stopped.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use crate::domain::outings::{
    ALERT_REPEAT_PUSH_MINUTES, AlertReason, AlertStatus, AlertStep, AlertTier, AlertWatch,
    CheckInKind, DEFAULT_ACKNOWLEDGED_REMINDER_MINUTES, DEFAULT_SOS_UNANSWERED_MINUTES,
    OutingAction, OutingStatus, Watch, WatchAction, WatchStep, advise_emergency_numbers, bounds,
    joined, status_with_alerts, transition,
};
use crate::events::DomainEvent;
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::audit::AuditEntry;
use crate::store::entities::{alerts, outings};

/// The safety net's timings that are the operator's to set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SafetyTimings {
    /// An acknowledged alert unresolved this long reminds its owner; as long again, and it goes
    /// back to the coordinators on duty.
    pub acknowledged_reminder: Duration,
    /// An SOS nobody acknowledged this long tells its people to call the emergency numbers.
    pub sos_unanswered: Duration,
    /// After this long unconfirmed, an alert is e-mailed to a coordinator with an address; none:
    /// no e-mail fallback (no relay configured), so an address reaches nobody.
    pub email_fallback: Option<Duration>,
}

impl Default for SafetyTimings {
    fn default() -> Self {
        Self {
            acknowledged_reminder: Duration::minutes(DEFAULT_ACKNOWLEDGED_REMINDER_MINUTES),
            sos_unanswered: Duration::minutes(DEFAULT_SOS_UNANSWERED_MINUTES),
            email_fallback: None,
        }
    }
}

/// A row the watchdog could not handle is looked at again after this long (the others go on).
const FAILED_ROW_RETRY_SECONDS: i64 = 60;

/// A stored value that does not parse: the row is bad, not the database.
#[derive(Debug)]
struct BadRow(String);

/// Why one row of a tick failed.
#[derive(Debug)]
enum RowError {
    Bad(BadRow),
    Db(DbErr),
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bad(BadRow(problem)) => write!(f, "a stored value does not parse: {problem}"),
            Self::Db(err) => write!(f, "{err}"),
        }
    }
}

impl From<DbErr> for RowError {
    fn from(err: DbErr) -> Self {
        Self::Db(err)
    }
}

impl From<BadRow> for RowError {
    fn from(err: BadRow) -> Self {
        Self::Bad(err)
    }
}

fn bad<E: std::fmt::Display>(err: E) -> BadRow {
    BadRow(err.to_string())
}

/// The outing's grace period.
pub fn grace_of(outing: &outings::Model) -> Duration {
    Duration::minutes(i64::from(outing.grace_minutes))
}

fn interval_of(outing: &outings::Model) -> Duration {
    Duration::minutes(i64::from(outing.check_in_interval_minutes))
}

/// The watchdog's view of an outing under way (none when it is not under way).
pub fn watch_of(outing: &outings::Model) -> Option<Watch> {
    parsed_watch_of(outing).ok().flatten()
}

/// As [`watch_of`], but a status or step that does not parse is an error, never "not watched".
fn parsed_watch_of(outing: &outings::Model) -> Result<Option<Watch>, BadRow> {
    let status = OutingStatus::parse(&outing.status).map_err(bad)?;
    if !status.is_under_way() {
        return Ok(None);
    }
    let done = outing
        .watch_step
        .as_deref()
        .map(WatchStep::parse)
        .transpose()
        .map_err(bad)?;
    // Under way without a deadline cannot happen through the API; watch it from its start.
    let check_in_due_at = outing
        .check_in_due_at
        .unwrap_or_else(|| outing.started_at.unwrap_or(outing.planned_start) + interval_of(outing));
    Ok(Some(Watch {
        check_in_due_at,
        grace: grace_of(outing),
        done,
        planned_end: outing.planned_end,
        overdue_alerted: outing.overdue_alerted,
    }))
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
async fn recipients(
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
async fn note_reachability(
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
async fn push_alert(
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
async fn send_alert(
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

fn audit_alert(
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
        id: Uuid::now_v7(),
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
fn settle_status(outing: &mut outings::Model, active: &[alerts::Model]) -> Result<(), DbErr> {
    let paging = active.iter().any(|alert| {
        alert.answered_late_at.is_none()
            && AlertStatus::parse(&alert.status).is_ok_and(AlertStatus::is_active)
    });
    let status = OutingStatus::parse(&outing.status).map_err(db_bad)?;
    outing.status = status_with_alerts(status, paging).as_str().to_owned();
    Ok(())
}

fn db_bad<E: std::fmt::Display>(err: E) -> DbErr {
    DbErr::Custom(err.to_string())
}

/// An urgent check-in joins an active alert (see [`alerts_after_check_in`]).
async fn join_alert(
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
async fn tell_answered(
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
async fn row<T, F>(
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

async fn tick_in(
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
async fn advise_unanswered_sos(
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
async fn watch_outing(
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
async fn move_alert(
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
