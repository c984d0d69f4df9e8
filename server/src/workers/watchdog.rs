//! The safety watchdog's loop: every tick it takes what fell due (check-in prompts, missed
//! check-ins, overdue outings, alert escalations) through `tomoni_schema::safety::watchdog_tick`,
//! then wakes the push dispatcher. The rules and the writes live in the schema crate; this file
//! only decides when to call them.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tomoni_schema::domain::clock::SharedClock;
use tomoni_schema::events::DomainEvent;
use tomoni_schema::events::EventBus;

use super::health::{WorkerHealth, error_class};

/// The watchdog's name in the workers' health report.
pub const NAME: &str = "watchdog";

#[derive(Clone, Debug)]
pub struct WatchdogConfig {
    pub tick: Duration,
    pub batch: u64,
    pub timings: tomoni_schema::safety::SafetyTimings,
}

/// Runs ticks until `stop` turns true. A tick that found work is followed at once by another
/// (catching up after downtime is quick); an idle one waits for the next tick.
pub async fn run(
    db: DatabaseConnection,
    clock: SharedClock,
    events: EventBus,
    config: WatchdogConfig,
    health: Arc<WorkerHealth>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let tick = health.start_tick(NAME);
        let outcome =
            tomoni_schema::safety::watchdog_tick(&db, clock.now(), config.batch, config.timings)
                .await;
        // Alerts whose owner's shift ended go to the next coordinator on duty.
        let handed = tomoni_schema::rota_handover::hand_over(&db, clock.now(), config.batch).await;
        let failed = match &outcome {
            Ok(report) => {
                health.add_watchdog_failed_rows(report.failed_rows);
                (report.failed_rows > 0).then_some(error_class::TICK_FAILED)
            }
            Err(_) => Some(error_class::TICK_FAILED),
        };
        let failed = failed.or(handed.is_err().then_some(error_class::TICK_FAILED));
        health.end_tick(NAME, tick, failed);
        if let Ok(handed @ 1..) = handed {
            tracing::debug!(handed, "watchdog handover");
            events.publish(DomainEvent::NotificationsQueued);
        }
        let busy = match outcome {
            Ok(report) if report.did_work() => {
                tracing::debug!(
                    prompts = report.prompts,
                    alerts_raised = report.alerts_raised,
                    escalations = report.escalations,
                    "watchdog tick"
                );
                for event in report.events {
                    events.publish(event);
                }
                events.publish(DomainEvent::NotificationsQueued);
                true
            }
            Ok(_) => false,
            Err(err) => {
                tracing::warn!(error = %err, "watchdog tick failed; retrying at the next tick");
                false
            }
        };
        if busy && !*stop.borrow() {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(config.tick) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}
