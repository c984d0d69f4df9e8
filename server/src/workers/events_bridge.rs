//! Relays domain events between servers that share one PostgreSQL database, so that a subscriber
//! connected to one instance sees a check-in or an alert handled by another: each server NOTIFYs
//! its own events on one channel and LISTENs for the others'. Events carry ids only (never names or
//! places), and every receiving subscription loads the current state and re-checks access itself.

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tomoni_schema::events::DomainEvent;
use tomoni_schema::events::EventBus;
use uuid::Uuid;

const CHANNEL: &str = "tomoni_events";

#[derive(Serialize, Deserialize)]
struct Relayed {
    /// The server that published it, so that it ignores its own notifications.
    from: Uuid,
    event: DomainEvent,
}

/// Waits between attempts to start listening: the first retry soon, then no more than this often.
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_secs(1);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(30);

/// A listener on the channel, retrying (with a growing pause) while the database cannot be reached,
/// so that a database that was briefly away at start does not leave this server deaf for good.
/// None when `stop` turned true first.
async fn listen(
    database_url: &str,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<PgListener> {
    let mut pause = RETRY_FIRST;
    loop {
        let attempt = async {
            let mut listener = PgListener::connect(database_url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match attempt.await {
            Ok(listener) => return Some(listener),
            Err(err) => {
                tracing::warn!(error = %err, retry_in_s = pause.as_secs(), "cannot listen for other servers' events yet");
            }
        }
        tokio::select! {
            _ = stop.changed() => return None,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(RETRY_MAX);
    }
}

/// Sends one event to the other servers (a failure is logged: subscribers re-read the current
/// state when they next hear of a change).
async fn relay(db: &DatabaseConnection, me: Uuid, event: DomainEvent) -> anyhow::Result<()> {
    let payload = serde_json::to_string(&Relayed { from: me, event })?;
    if let Err(err) = db
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        ))
        .await
    {
        tracing::warn!(error = %err, "could not relay an event to the other servers");
    }
    Ok(())
}

/// Relays until `stop` turns true.
pub async fn run(
    database_url: String,
    db: DatabaseConnection,
    events: EventBus,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let me = Uuid::now_v7();
    let mut local = events.subscribe();
    let Some(mut listener) = listen(&database_url, &mut stop).await else {
        return Ok(());
    };
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            received = local.recv() => match received {
                Ok(envelope) if !envelope.from_elsewhere && envelope.event.is_shared() => {
                    relay(&db, me, envelope.event).await?;
                }
                // Events this relay dropped never reached the other servers: their subscribers
                // are told they missed some.
                Err(RecvError::Lagged(dropped)) => {
                    relay(&db, me, DomainEvent::EventsLost { count: dropped }).await?;
                }
                Ok(_) => {}
                Err(RecvError::Closed) => return Ok(()),
            },
            // sqlx reconnects by itself; notifications sent while it was away are lost, and
            // subscribers re-read the current state when they next hear of a change.
            notification = listener.recv() => match notification {
                Ok(notification) => match serde_json::from_str::<Relayed>(notification.payload()) {
                    Ok(relayed) if relayed.from != me => events.publish_from_elsewhere(relayed.event),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "ignored a malformed relayed event"),
                },
                Err(err) => {
                    tracing::warn!(error = %err, "event relay lost its connection; reconnecting");
                    // What other servers sent meanwhile is lost: local subscribers re-read.
                    events.publish_from_elsewhere(DomainEvent::EventsLost { count: 0 });
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            },
        }
    }
}
