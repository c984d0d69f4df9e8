//! The program's own housekeeping as time passes: match proposals nobody answered expire (and
//! whoever proposed them is told). The work is a conditional update, so servers running it
//! together expire each proposal once.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tomoni_schema::api::error::ErrorChain;
use tomoni_schema::domain::clock::SharedClock;

use super::health::{WorkerHealth, error_class};

/// The sweep's name in the workers' health report.
pub const NAME: &str = "program";

/// How often the sweep looks. Expiry is counted in days; half a minute late is of no consequence.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// Runs the sweep until `stop` turns true.
pub async fn run(
    db: DatabaseConnection,
    clock: SharedClock,
    health: Arc<WorkerHealth>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        let tick = health.start_tick(NAME);
        let outcome = tomoni_schema::jobs::matches::expire_proposals(&db, clock.now()).await;
        health.end_tick(
            NAME,
            tick,
            outcome.is_err().then_some(error_class::TICK_FAILED),
        );
        match outcome {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "match proposals expired"),
            Err(cause) => tracing::warn!(
                error = %ErrorChain(&cause),
                "match proposal sweep failed; retrying at the next tick"
            ),
        }
    }
}
