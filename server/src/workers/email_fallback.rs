//! The alert e-mail fallback: every tick it claims the alert recipients whose push nobody
//! confirmed seeing within `safety.email_fallback_minutes` (see `tomoni_schema::store::
//! email_fallback` for which) and sends each one e-mail, lock-screen-safe like the push. A
//! recipient counts as e-mailed only once the SMTP server accepted the message; a failed send is
//! tried again after a growing delay. Logs carry alert ids and outcomes, never an address.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};
use tomoni_schema::domain::clock::SharedClock;
use tomoni_schema::notify::email::alert_fallback;
use tomoni_schema::store::email_fallback::{self, Claimed};

use super::health::{WorkerHealth, error_class};
use crate::config::Settings;
use crate::email::Mailer;

/// The fallback's name in the workers' health report.
pub const NAME: &str = "email-fallback";

/// Recipients claimed per tick at most; they are sent to concurrently.
const BATCH: u64 = 50;

#[derive(Clone, Debug)]
pub struct EmailFallbackConfig {
    /// How long a push may go unconfirmed before the e-mail.
    pub after: chrono::Duration,
    /// How long a claim lasts: longer than a tick's sends can take (they run concurrently, each
    /// within the SMTP timeout), so a claim only runs out when its server died.
    pub lease: chrono::Duration,
    pub poll_interval: Duration,
}

impl EmailFallbackConfig {
    pub fn from_settings(settings: &Settings) -> Self {
        let timeout = i64::try_from(settings.email.timeout_seconds).unwrap_or(20);
        Self {
            after: chrono::Duration::minutes(i64::from(settings.safety.email_fallback_minutes)),
            lease: chrono::Duration::seconds(2 * timeout + 30),
            poll_interval: Duration::from_millis(settings.email.poll_interval_ms),
        }
    }
}

/// The wait before attempt `attempt + 1` after attempt `attempt` failed: 30 s, doubling, at most
/// 10 minutes (an alert is urgent; a relay that is down for long is an operator's problem, which
/// `tomoni_email_fallback_total{outcome="failed"}` shows).
pub fn retry_delay(attempt: i32) -> chrono::Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(10);
    chrono::Duration::seconds((30_i64 << doublings).min(600))
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FallbackReport {
    pub sent: usize,
    pub failed: usize,
}

pub struct EmailFallback {
    db: DatabaseConnection,
    clock: SharedClock,
    mailer: Mailer,
    config: EmailFallbackConfig,
    health: Arc<WorkerHealth>,
}

impl EmailFallback {
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        mailer: Mailer,
        config: EmailFallbackConfig,
        health: Arc<WorkerHealth>,
    ) -> Self {
        Self {
            db,
            clock,
            mailer,
            config,
            health,
        }
    }

    /// One round: claim what is due, send, record each outcome. Tests drive it directly.
    pub async fn tick(&self) -> Result<FallbackReport, DbErr> {
        let now = self.clock.now();
        let claimed =
            email_fallback::claim_due(&self.db, now, self.config.after, self.config.lease, BATCH)
                .await?;
        let outcomes =
            futures_util::future::join_all(claimed.iter().map(|claim| self.send(claim))).await;
        let mut report = FallbackReport::default();
        let mut first_error = None;
        for (claim, outcome) in claimed.iter().zip(outcomes) {
            // The time of the outcome, not of the claim: a retry waits from the failure.
            let now = self.clock.now();
            let recorded = match outcome {
                Ok(()) => {
                    report.sent += 1;
                    tracing::info!(alert_id = %claim.alert_id, attempt = claim.attempt, "alert e-mail sent");
                    email_fallback::mark_sent(&self.db, claim.alert_id, claim.person_id, now).await
                }
                Err(failure) => {
                    report.failed += 1;
                    let retry_at = now + retry_delay(claim.attempt);
                    tracing::warn!(
                        alert_id = %claim.alert_id,
                        attempt = claim.attempt,
                        failure = failure.as_str(),
                        %retry_at,
                        "alert e-mail not sent; retrying later"
                    );
                    email_fallback::mark_failed(&self.db, claim.alert_id, claim.person_id, retry_at)
                        .await
                }
            };
            // A row left claimed is taken again when its lease runs out: nothing is lost (a sent
            // mail whose record failed may go out twice, which beats never).
            if let Err(err) = recorded {
                first_error.get_or_insert(err);
            }
        }
        self.health.add_emails(report.sent, report.failed);
        match first_error {
            Some(err) => Err(err),
            None => Ok(report),
        }
    }

    async fn send(&self, claim: &Claimed) -> Result<(), crate::email::SendFailure> {
        let text = alert_fallback(claim.locale, claim.alert_id);
        self.mailer
            .send(&claim.email, &text.subject, text.body)
            .await
    }

    /// Ticks until `stop` turns true; a tick that sent something is followed at once by another.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let tick = self.health.start_tick(NAME);
            let outcome = self.tick().await;
            self.health.end_tick(
                NAME,
                tick,
                outcome.is_err().then_some(error_class::TICK_FAILED),
            );
            let busy = match outcome {
                Ok(report) => report.sent + report.failed > 0,
                Err(err) => {
                    tracing::warn!(error = %err, "e-mail fallback tick failed; retrying at the next tick");
                    false
                }
            };
            if busy && !*stop.borrow() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.poll_interval) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_ten_minutes() {
        assert_eq!(retry_delay(1), chrono::Duration::seconds(30));
        assert_eq!(retry_delay(2), chrono::Duration::seconds(60));
        assert_eq!(retry_delay(3), chrono::Duration::seconds(120));
        assert_eq!(retry_delay(6), chrono::Duration::seconds(600));
        assert_eq!(retry_delay(1000), chrono::Duration::seconds(600));
        assert_eq!(retry_delay(0), chrono::Duration::seconds(30));
    }
}
