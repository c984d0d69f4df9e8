//! Building and running the application: database, migrations, schema, HTTP server, shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tomoni_schema::api::{self, ApiConfig, ApiDeps, EventBus, TomoniSchema};
use tomoni_schema::domain::clock::{Clock, SharedClock};
use tomoni_schema::store;

use crate::config::Settings;
use crate::email::Mailer;
use crate::http;
use crate::push::{PushClient, VapidKey};
use crate::workers::email_fallback::{EmailFallback, EmailFallbackConfig};
use crate::workers::supervisor::{Backoff, supervise};
use crate::workers::{Dispatcher, DispatcherConfig, PushMetrics, WorkerHealth};

/// Where the VAPID public key is recorded in the database, so that servers sharing it notice a
/// key that differs from the one the subscriptions were made for.
const VAPID_PUBLIC_KEY_SETTING: &str = "vapid_public_key";

/// The real clock. The only place in Tomoni that reads the system time for the domain.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Opens the configured database (creating the data directory for SQLite).
pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if settings.uses_embedded_database() {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {} (configuration key `data_dir`)",
                settings.data_dir.display()
            )
        })?;
    }
    store::connect(&settings.database_url(), settings.database_max_connections)
        .await
        .context("cannot open the database (configuration key `database_url`)")
}

/// A built server, bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// The schema the router serves, for the demo to seed through before serving.
    schema: TomoniSchema,
    db: DatabaseConnection,
    shutdown_grace: Duration,
    dispatcher: Arc<Dispatcher>,
    /// Dispatcher loops to run (0: none in this process).
    dispatcher_loops: usize,
    events: EventBus,
    clock: SharedClock,
    /// PostgreSQL's URL, to relay events between servers (none on SQLite: one server only).
    relay_url: Option<String>,
    /// The safety watchdog's settings, when it runs in this process.
    watchdog: Option<crate::workers::watchdog::WatchdogConfig>,
    /// What the workers report of themselves (`/healthz/workers`, `/metrics`).
    health: Arc<WorkerHealth>,
    /// The alert e-mail fallback, when `email.smtp_url` is set.
    email_fallback: Option<Arc<EmailFallback>>,
    /// Whether its loop runs in this process (`email.worker`).
    email_worker: bool,
}

impl Application {
    /// Opens the database, applies migrations (under a lock on PostgreSQL), builds the schema and
    /// binds the listener. Port 0 picks a free port: see [`Application::local_addr`].
    pub async fn build(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let db = open_database(settings).await?;
        store::migrate(&db)
            .await
            .context("cannot apply migrations")?;
        let vapid = Arc::new(load_vapid_key(settings, &db, clock.now()).await?);
        let events = EventBus::with_backlog(settings.limits.subscription_backlog);
        let schema = build_schema(
            settings,
            db.clone(),
            clock.clone(),
            events.clone(),
            vapid.public_key(),
        );
        let push = Arc::new(PushClient::new(
            vapid,
            Duration::from_secs(settings.push.request_timeout_seconds),
            settings.push.endpoint_policy(),
        )?);
        let metrics = Arc::new(PushMetrics::default());
        let dispatcher = Arc::new(Dispatcher::new(
            db.clone(),
            clock.clone(),
            push,
            metrics.clone(),
            DispatcherConfig {
                batch: settings.push.batch_size,
                max_in_flight: settings.push.max_in_flight,
                poll_interval: Duration::from_millis(settings.push.poll_interval_ms),
                lease: chrono::Duration::seconds(
                    i64::try_from(settings.push.lease_seconds).unwrap_or(60),
                ),
            },
        ));
        let health = Arc::new(WorkerHealth::new(clock.clone()));
        let email_fallback = Mailer::from_settings(&settings.email)?.map(|mailer| {
            Arc::new(EmailFallback::new(
                db.clone(),
                clock.clone(),
                mailer,
                EmailFallbackConfig::from_settings(settings),
                health.clone(),
            ))
        });
        let playground_schema = serde_json::to_vec(&api::introspection::result().await?)
            .context("cannot serialise the schema for the playground")?
            .into();
        let router = http::router(http::AppState {
            schema: schema.clone(),
            playground_schema,
            db: db.clone(),
            clock: clock.clone(),
            limits: Arc::new(settings.limits.clone()),
            metrics,
            health: health.clone(),
            trusted_proxies: Arc::new(settings.trusted_proxies()?),
        });
        let listener = TcpListener::bind(settings.listen).await.with_context(|| {
            format!(
                "cannot listen on {} (configuration key `listen`)",
                settings.listen
            )
        })?;
        let relay_url = (db.get_database_backend() == sea_orm::DatabaseBackend::Postgres)
            .then(|| settings.database_url());
        Ok(Self {
            listener,
            router,
            schema,
            db,
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
            dispatcher,
            dispatcher_loops: if settings.push.dispatcher {
                settings.push.workers
            } else {
                0
            },
            events,
            clock,
            relay_url,
            watchdog: settings
                .safety
                .watchdog
                .then(|| crate::workers::watchdog::WatchdogConfig {
                    tick: Duration::from_millis(settings.safety.tick_ms),
                    batch: settings.safety.batch_size,
                    timings: settings.safety.timings(settings.email.smtp_url.is_some()),
                }),
            health,
            email_fallback,
            email_worker: settings.email.worker,
        })
    }

    /// The push dispatcher, for driving it tick by tick (tests, benchmarks).
    pub fn dispatcher(&self) -> Arc<Dispatcher> {
        self.dispatcher.clone()
    }

    /// This server's event bus (what its subscriptions hear), e.g. for tests to publish on.
    pub fn events(&self) -> EventBus {
        self.events.clone()
    }

    /// The alert e-mail fallback (when `email.smtp_url` is set), for driving it tick by tick.
    pub fn email_fallback(&self) -> Option<Arc<EmailFallback>> {
        self.email_fallback.clone()
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn database(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The schema this server serves (`serve --demo` seeds its data through it).
    pub fn schema(&self) -> &TomoniSchema {
        &self.schema
    }

    /// Serves until `shutdown` completes, then lets open requests finish for the grace period.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let grace = self.shutdown_grace;
        let wake = Arc::new(tokio::sync::Notify::new());
        if self.dispatcher_loops > 0 {
            tokio::spawn(wake_on_new_notifications(self.events.clone(), wake.clone()));
        }
        // Every worker runs under a supervisor, which restarts it if it panics or returns early.
        let health = self.health.clone();
        let spawn = |name: String, start: Box<dyn FnMut() -> WorkerFuture + Send>| {
            tokio::spawn(supervise(
                name,
                health.clone(),
                Backoff::default(),
                stop_rx.clone(),
                start,
            ))
        };
        let mut workers = Vec::new();
        for index in 0..self.dispatcher_loops {
            let name = format!("push-dispatcher-{index}");
            let (dispatcher, health, stop, wake) = (
                self.dispatcher.clone(),
                self.health.clone(),
                stop_rx.clone(),
                wake.clone(),
            );
            let run_name = name.clone();
            workers.push(spawn(
                name,
                Box::new(move || {
                    Box::pin(dispatcher.clone().run(
                        run_name.clone(),
                        health.clone(),
                        stop.clone(),
                        wake.clone(),
                    ))
                }),
            ));
        }
        if let Some(url) = self.relay_url.clone() {
            let (db, events, stop) = (self.db.clone(), self.events.clone(), stop_rx.clone());
            workers.push(spawn(
                "events-relay".to_owned(),
                Box::new(move || {
                    let (url, db, events, stop) =
                        (url.clone(), db.clone(), events.clone(), stop.clone());
                    Box::pin(async move {
                        if let Err(err) =
                            crate::workers::events_bridge::run(url, db, events, stop).await
                        {
                            tracing::error!(error = %err, "cannot relay events between servers");
                        }
                    })
                }),
            ));
        }
        if let Some(config) = self.watchdog.clone() {
            let (db, clock, events, health, stop) = (
                self.db.clone(),
                self.clock.clone(),
                self.events.clone(),
                self.health.clone(),
                stop_rx.clone(),
            );
            workers.push(spawn(
                crate::workers::watchdog::NAME.to_owned(),
                Box::new(move || {
                    Box::pin(crate::workers::watchdog::run(
                        db.clone(),
                        clock.clone(),
                        events.clone(),
                        config.clone(),
                        health.clone(),
                        stop.clone(),
                    ))
                }),
            ));
        }
        if let Some(fallback) = self.email_fallback.clone().filter(|_| self.email_worker) {
            let stop = stop_rx.clone();
            workers.push(spawn(
                crate::workers::email_fallback::NAME.to_owned(),
                Box::new(move || Box::pin(fallback.clone().run(stop.clone()))),
            ));
        }
        {
            let (db, clock, health, stop) = (
                self.db.clone(),
                self.clock.clone(),
                self.health.clone(),
                stop_rx.clone(),
            );
            workers.push(spawn(
                crate::workers::program::NAME.to_owned(),
                Box::new(move || {
                    Box::pin(crate::workers::program::run(
                        db.clone(),
                        clock.clone(),
                        health.clone(),
                        stop.clone(),
                    ))
                }),
            ));
        }
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        });
        let mut stopped = stop_rx;
        tokio::select! {
            result = server => result.context("the HTTP server failed")?,
            // Long-lived connections (WebSockets) must not hold the process up forever.
            () = async {
                let _ = stopped.wait_for(|stop| *stop).await;
                tokio::time::sleep(grace).await;
            } => tracing::warn!("connections still open after the grace period; closing them"),
        }
        // Workers finish the round they are in (dispatchers' claims are leases either way); their
        // supervisors return once they have.
        let _ = tokio::time::timeout(grace, futures_util::future::join_all(workers)).await;
        self.db.close().await.ok();
        Ok(())
    }
}

/// One run of a supervised worker.
type WorkerFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// Wakes the dispatcher when a request has just queued notifications, instead of waiting for its
/// next look.
async fn wake_on_new_notifications(events: EventBus, wake: Arc<tokio::sync::Notify>) {
    let mut receiver = events.subscribe();
    loop {
        match receiver.recv().await {
            Ok(envelope)
                if envelope.event == tomoni_schema::events::DomainEvent::NotificationsQueued =>
            {
                wake.notify_one()
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// The configured VAPID key, or the data directory's; refuses to start when the database already
/// knows another one (its subscriptions would all be refused by the push services).
pub async fn load_vapid_key(
    settings: &Settings,
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<VapidKey> {
    let configured = match (
        &settings.push.vapid_private_key,
        &settings.push.vapid_public_key,
    ) {
        (Some(private), Some(public)) => Some((private.expose(), public.as_str())),
        _ => None,
    };
    let key = VapidKey::load(configured, &settings.data_dir, &settings.push.vapid_subject)?;
    let recorded = store::instance::remember(db, VAPID_PUBLIC_KEY_SETTING, key.public_key(), now)
        .await
        .context("cannot record the VAPID public key")?;
    if recorded != key.public_key() {
        anyhow::bail!(
            "this database's push subscriptions were made for another VAPID key ({recorded}). \
             Give this server that key (configuration keys `push.vapid_private_key` and \
             `push.vapid_public_key`), or use its data directory"
        );
    }
    Ok(key)
}

pub fn build_schema(
    settings: &Settings,
    db: DatabaseConnection,
    clock: SharedClock,
    events: EventBus,
    vapid_public_key: &str,
) -> TomoniSchema {
    api::build_schema(ApiDeps {
        db,
        clock,
        events,
        config: ApiConfig {
            endpoint_policy: settings.push.endpoint_policy(),
            vapid_public_key: vapid_public_key.to_owned(),
            max_depth: settings.limits.max_depth,
            max_complexity: settings.limits.max_complexity,
            max_aliases: settings.limits.max_aliases,
            max_fields: settings.limits.max_fields,
            pairing_code_lifetime: chrono::Duration::minutes(i64::from(
                settings.pairing_code_minutes,
            )),
            redeem_attempts_per_minute: NonZeroU32::new(settings.limits.redeem_attempts_per_minute)
                .unwrap_or(NonZeroU32::MIN),
            safety: settings.safety.timings(settings.email.smtp_url.is_some()),
        },
    })
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
