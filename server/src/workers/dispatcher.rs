//! The push dispatcher. Each tick it (1) locks due notifications and, in that same transaction,
//! fans each out into one delivery per reachable subscription of its recipient — or defers it to
//! the end of their quiet hours — and (2) claims due deliveries with a lease, sends them
//! concurrently (bounded), and records each outcome. Several dispatchers share one PostgreSQL
//! database through `FOR UPDATE SKIP LOCKED` (see `store::outbox`), and a dispatcher that dies
//! loses nothing: its fan-out rolls back, its delivery leases expire.
//!
//! Delivery is at least once: a server killed after a push service accepted a message but before
//! the outcome was written sends it again when the lease expires. Payloads carry their
//! notification id so the app can drop the repeat; reminders also carry a Topic, so the push
//! service replaces rather than repeats them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use rand::Rng as _;
use sea_orm::DatabaseConnection;
use tomoni_schema::domain::clock::SharedClock;
use tomoni_schema::domain::people::{DEFAULT_TIME_ZONE, Locale};
use tomoni_schema::domain::push::{self, Outcome, Urgency};
use tomoni_schema::notify::Message;
use tomoni_schema::store::entities::{notifications, people, push_deliveries, push_subscriptions};
use tomoni_schema::store::outbox::status;
use tomoni_schema::store::push_subscriptions::{outcome, removed_reason};
use tomoni_schema::store::{self, notification_settings, outbox};
use uuid::Uuid;

use super::health::{WorkerHealth, error_class};
use super::metrics::PushMetrics;
use crate::push::{PushClient, PushRequest, SendResult};

#[derive(Clone, Debug)]
pub struct DispatcherConfig {
    /// Rows claimed per step.
    pub batch: u64,
    /// How long a claim lasts; longer than a request's timeout.
    pub lease: chrono::Duration,
    /// Requests to push services in flight at once.
    pub max_in_flight: usize,
    /// How long an idle dispatcher waits before looking again.
    pub poll_interval: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            batch: 256,
            lease: chrono::Duration::seconds(60),
            max_in_flight: 64,
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Notifications claimed (fanned out, deferred or found unreachable).
    pub notifications: usize,
    /// Deliveries attempted.
    pub attempts: usize,
}

impl TickReport {
    pub fn did_work(&self) -> bool {
        self.notifications > 0 || self.attempts > 0
    }
}

pub struct Dispatcher {
    db: DatabaseConnection,
    clock: SharedClock,
    push: Arc<PushClient>,
    metrics: Arc<PushMetrics>,
    config: DispatcherConfig,
}

impl Dispatcher {
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        push: Arc<PushClient>,
        metrics: Arc<PushMetrics>,
        config: DispatcherConfig,
    ) -> Self {
        Self {
            db,
            clock,
            push,
            metrics,
            config,
        }
    }

    /// Runs until `shutdown` turns true; wakes early when `wake` is notified. Each tick is
    /// recorded in `health` under `name`.
    pub async fn run(
        self: Arc<Self>,
        name: String,
        health: Arc<WorkerHealth>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        wake: Arc<tokio::sync::Notify>,
    ) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let tick = health.start_tick(&name);
            let outcome = self.tick().await;
            health.end_tick(
                &name,
                tick,
                outcome.is_err().then_some(error_class::TICK_FAILED),
            );
            let worked = match outcome {
                Ok(report) => report.did_work(),
                Err(err) => {
                    tracing::error!(error = format!("{err:#}"), "push dispatcher tick failed");
                    false
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One round of both steps, at the clock's current time.
    #[tracing::instrument(name = "dispatcher_batch", skip_all)]
    pub async fn tick(&self) -> anyhow::Result<TickReport> {
        let now = self.clock.now();
        let notifications = self
            .fan_out(now)
            .await
            .context("fanning out notifications")?;
        let attempts = self.deliver(now).await.context("delivering pushes")?;
        Ok(TickReport {
            notifications,
            attempts,
        })
    }

    /// Fans due notifications out into deliveries, all in the one transaction that locks them: a
    /// crash part-way rolls everything back, and the next round starts over.
    async fn fan_out(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let txn = store::begin_write(&self.db).await?;
        let claimed = outbox::lock_due_notifications(&txn, now, self.config.batch).await?;
        if claimed.is_empty() {
            txn.rollback().await?;
            return Ok(0);
        }
        let recipient_ids = distinct(claimed.iter().map(|n| n.recipient_id));
        let recipients: HashMap<Uuid, people::Model> =
            store::people::find_many(&txn, &recipient_ids)
                .await?
                .into_iter()
                .map(|person| (person.id, person))
                .collect();
        let quiet_hours: HashMap<Uuid, _> = notification_settings::for_people(&txn, &recipient_ids)
            .await?
            .into_iter()
            .filter_map(|settings| {
                Some((
                    settings.person_id,
                    notification_settings::quiet_hours(&settings)?,
                ))
            })
            .collect();
        let mut subscriptions: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for subscription in
            store::push_subscriptions::active_for_people(&txn, &recipient_ids).await?
        {
            subscriptions
                .entry(subscription.person_id)
                .or_default()
                .push(subscription.id);
        }

        let mut pairs = Vec::new();
        let mut dispatched = Vec::new();
        let mut unreachable = Vec::new();
        let mut deferred = Vec::new();
        for notification in &claimed {
            let zone = recipients
                .get(&notification.recipient_id)
                .map_or(DEFAULT_TIME_ZONE, |person| person.time_zone.as_str())
                .parse()
                .unwrap_or(chrono_tz::Asia::Tokyo);
            // Safety messages, and the answer that closes a prompt, never wait for quiet hours.
            if !notification.is_safety && !Message::kind_ignores_quiet_hours(&notification.kind) {
                let wait = quiet_hours
                    .get(&notification.recipient_id)
                    .and_then(|window| window.deferral(now, zone));
                if let Some(until) = wait {
                    deferred.push((notification.id, until));
                    continue;
                }
            }
            match subscriptions.get(&notification.recipient_id) {
                Some(targets) if !targets.is_empty() => {
                    pairs.extend(targets.iter().map(|target| (notification.id, *target)));
                    dispatched.push(notification.id);
                }
                _ => unreachable.push(notification.id),
            }
        }

        outbox::create_deliveries(&txn, &pairs, now).await?;
        outbox::finish_notifications(&txn, &dispatched, status::DISPATCHED, now).await?;
        outbox::finish_notifications(&txn, &unreachable, status::UNREACHABLE, now).await?;
        for (id, until) in &deferred {
            outbox::defer_notification(&txn, *id, *until).await?;
        }
        txn.commit().await?;
        PushMetrics::add(&self.metrics.unreachable, unreachable.len());
        if !unreachable.is_empty() {
            tracing::warn!(
                count = unreachable.len(),
                "notifications had no reachable device"
            );
        }
        Ok(claimed.len())
    }

    async fn deliver(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let claimed =
            outbox::claim_due_deliveries(&self.db, now, self.config.lease, self.config.batch)
                .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let notification_ids = distinct(claimed.iter().map(|d| d.notification_id));
        let notifications: HashMap<Uuid, notifications::Model> =
            outbox::notifications_by_id(&self.db, &notification_ids)
                .await?
                .into_iter()
                .map(|n| (n.id, n))
                .collect();
        let subscription_ids = distinct(claimed.iter().map(|d| d.subscription_id));
        let subscriptions: HashMap<Uuid, push_subscriptions::Model> =
            store::push_subscriptions::by_ids(&self.db, &subscription_ids)
                .await?
                .into_iter()
                .map(|s| (s.id, s))
                .collect();
        let recipient_ids = distinct(notifications.values().map(|n| n.recipient_id));
        let recipients: HashMap<Uuid, people::Model> =
            store::people::find_many(&self.db, &recipient_ids)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect();

        let attempts = claimed.len();
        let mut results = Vec::with_capacity(attempts);
        let mut jobs = Vec::with_capacity(attempts);
        for delivery in claimed {
            let (Some(notification), Some(subscription)) = (
                notifications.get(&delivery.notification_id),
                subscriptions.get(&delivery.subscription_id),
            ) else {
                results.push((delivery, Decision::Fail(None)));
                continue;
            };
            if subscription.removed_at.is_some() {
                results.push((delivery, Decision::Gone(None)));
                continue;
            }
            let age = (now - notification.not_before).num_seconds().max(0);
            let ttl = i64::from(notification.ttl_seconds);
            if !notification.is_safety && age >= ttl {
                results.push((delivery, Decision::Expire));
                continue;
            }
            let remaining_ttl = if notification.is_safety {
                ttl
            } else {
                ttl - age
            };
            match prepare(
                notification,
                subscription,
                recipients.get(&notification.recipient_id),
            ) {
                Some(prepared) => jobs.push((delivery, prepared, remaining_ttl)),
                None => results.push((delivery, Decision::Fail(None))),
            }
        }

        let push = &self.push;
        let sent: Vec<(push_deliveries::Model, Decision)> = futures_util::stream::iter(jobs)
            .map(|(delivery, prepared, ttl)| async move {
                let result = push
                    .send(
                        PushRequest {
                            endpoint: &prepared.endpoint,
                            p256dh: &prepared.p256dh,
                            auth: &prepared.auth,
                            payload: &prepared.payload,
                            ttl_seconds: u32::try_from(ttl).unwrap_or(u32::MAX),
                            urgency: prepared.urgency,
                            topic: prepared.topic.as_deref(),
                        },
                        now,
                    )
                    .await;
                let decision = decide(
                    result,
                    &delivery,
                    prepared.is_safety,
                    prepared.deadline,
                    now,
                );
                (delivery, decision)
            })
            .buffer_unordered(self.config.max_in_flight.max(1))
            .collect()
            .await;
        results.extend(sent);
        self.record(results, now).await?;
        Ok(attempts)
    }

    /// Writes every outcome of one round: a statement per outcome kind, not per delivery.
    async fn record(
        &self,
        results: Vec<(push_deliveries::Model, Decision)>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut delivered = Vec::new();
        let mut failed: HashMap<Option<u16>, Vec<Uuid>> = HashMap::new();
        let mut gone = Vec::new();
        let mut expired = Vec::new();
        let mut retries = Vec::new();
        let mut subscriptions_delivered = Vec::new();
        let mut subscriptions_retrying = Vec::new();
        let mut subscriptions_failed = Vec::new();
        let mut subscriptions_gone = Vec::new();
        for (delivery, decision) in results {
            match decision {
                Decision::Delivered => {
                    delivered.push(delivery.id);
                    subscriptions_delivered.push(delivery.subscription_id);
                }
                Decision::Retry { at, last_status } => {
                    retries.push((delivery.id, at, last_status));
                    subscriptions_retrying.push(delivery.subscription_id);
                }
                Decision::Fail(last_status) => {
                    failed.entry(last_status).or_default().push(delivery.id);
                    subscriptions_failed.push(delivery.subscription_id);
                }
                Decision::Gone(last_status) => {
                    gone.push((delivery.id, last_status));
                    subscriptions_gone.push(delivery.subscription_id);
                }
                Decision::Expire => expired.push(delivery.id),
            }
        }
        let txn = store::begin_write(&self.db).await?;
        outbox::finish_deliveries(&txn, &delivered, status::DELIVERED, Some(201), now).await?;
        outbox::confirm_alerts_delivered(&txn, &delivered, now).await?;
        for (last_status, ids) in &failed {
            outbox::finish_deliveries(&txn, ids, status::FAILED, *last_status, now).await?;
        }
        for (id, last_status) in &gone {
            outbox::finish_deliveries(&txn, &[*id], status::GONE, *last_status, now).await?;
        }
        outbox::finish_deliveries(&txn, &expired, status::EXPIRED, None, now).await?;
        for (id, at, last_status) in &retries {
            outbox::retry_delivery(&txn, *id, *at, *last_status, now).await?;
        }
        store::push_subscriptions::record_outcome(
            &txn,
            &subscriptions_delivered,
            outcome::DELIVERED,
            now,
        )
        .await?;
        store::push_subscriptions::record_outcome(
            &txn,
            &subscriptions_retrying,
            outcome::RETRYING,
            now,
        )
        .await?;
        store::push_subscriptions::record_outcome(
            &txn,
            &subscriptions_failed,
            outcome::FAILED,
            now,
        )
        .await?;
        if !subscriptions_gone.is_empty() {
            store::push_subscriptions::record_outcome(
                &txn,
                &subscriptions_gone,
                outcome::GONE,
                now,
            )
            .await?;
            store::push_subscriptions::remove_by_ids(
                &txn,
                &subscriptions_gone,
                removed_reason::GONE,
                now,
            )
            .await?;
            outbox::abandon_deliveries_to(&txn, &subscriptions_gone, now).await?;
        }
        txn.commit().await?;

        let failed_count: usize = failed.values().map(Vec::len).sum();
        PushMetrics::add(&self.metrics.delivered, delivered.len());
        PushMetrics::add(&self.metrics.retried, retries.len());
        PushMetrics::add(&self.metrics.failed, failed_count);
        PushMetrics::add(&self.metrics.removed, gone.len());
        PushMetrics::add(&self.metrics.expired, expired.len());
        if failed_count > 0 {
            let statuses: Vec<String> = failed
                .iter()
                .map(|(status, ids)| {
                    format!(
                        "{}×{}",
                        status.map_or("none".into(), |s| s.to_string()),
                        ids.len()
                    )
                })
                .collect();
            // A push service refused our request: a bug or a VAPID misconfiguration to look into.
            tracing::error!(statuses = %statuses.join(","), "pushes failed without retry");
        }
        Ok(())
    }
}

/// Each id once, for `IN (…)` lists: many deliveries share a notification, subscription or person.
fn distinct(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Everything needed to send one delivery, decoded and rendered.
struct Prepared {
    endpoint: String,
    p256dh: Vec<u8>,
    auth: Vec<u8>,
    payload: Vec<u8>,
    urgency: Urgency,
    topic: Option<String>,
    is_safety: bool,
    /// After this, retrying a non-safety message is pointless.
    deadline: DateTime<Utc>,
}

fn prepare(
    notification: &notifications::Model,
    subscription: &push_subscriptions::Model,
    recipient: Option<&people::Model>,
) -> Option<Prepared> {
    let message: Message = serde_json::from_value(notification.message.clone()).ok()?;
    // The device's own language if it has one, else the person's.
    let locale = subscription
        .locale
        .as_deref()
        .or(recipient.map(|person| person.locale.as_str()))
        .and_then(|locale| Locale::parse(locale).ok())
        .unwrap_or_default();
    let zone = recipient
        .and_then(|person| person.time_zone.parse().ok())
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let payload = serde_json::to_vec(&message.payload(notification.id, locale, zone)).ok()?;
    Some(Prepared {
        endpoint: subscription.endpoint.clone(),
        p256dh: URL_SAFE_NO_PAD.decode(&subscription.p256dh).ok()?,
        auth: URL_SAFE_NO_PAD.decode(&subscription.auth).ok()?,
        payload,
        urgency: Urgency::parse(&notification.urgency).unwrap_or(Urgency::Normal),
        topic: notification.topic.clone(),
        is_safety: notification.is_safety,
        deadline: notification.not_before
            + chrono::Duration::seconds(i64::from(notification.ttl_seconds)),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Delivered,
    Retry {
        at: DateTime<Utc>,
        last_status: Option<u16>,
    },
    Fail(Option<u16>),
    Gone(Option<u16>),
    Expire,
}

fn decide(
    result: SendResult,
    delivery: &push_deliveries::Model,
    is_safety: bool,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Decision {
    let (status, retry_after) = match result {
        SendResult::Answered {
            status,
            retry_after,
        } => (Some(status), retry_after),
        SendResult::NoAnswer => (None, None),
        SendResult::Unsendable | SendResult::Refused => return Decision::Fail(None),
    };
    match push::classify(status, retry_after) {
        Outcome::Delivered => Decision::Delivered,
        Outcome::Gone => Decision::Gone(status),
        Outcome::Rejected | Outcome::AuthRefused => Decision::Fail(status),
        Outcome::Retry { retry_after } => {
            let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX);
            if attempts >= push::MAX_ATTEMPTS {
                return Decision::Fail(status);
            }
            let jitter = rand::rng().random::<f64>();
            let delay = push::retry_delay(attempts, retry_after, jitter);
            let at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
            if !is_safety && at > deadline {
                return Decision::Fail(status);
            }
            Decision::Retry {
                at,
                last_status: status,
            }
        }
    }
}
