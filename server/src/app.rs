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
use crate::http;

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
    db: DatabaseConnection,
    shutdown_grace: Duration,
}

impl Application {
    /// Opens the database, applies migrations (under a lock on PostgreSQL), builds the schema and
    /// binds the listener. Port 0 picks a free port: see [`Application::local_addr`].
    pub async fn build(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let db = open_database(settings).await?;
        store::migrate(&db)
            .await
            .context("cannot apply migrations")?;
        let schema = build_schema(settings, db.clone(), clock.clone());
        let router = http::router(http::AppState {
            schema,
            db: db.clone(),
            clock,
            limits: Arc::new(settings.limits.clone()),
        });
        let listener = TcpListener::bind(settings.listen).await.with_context(|| {
            format!(
                "cannot listen on {} (configuration key `listen`)",
                settings.listen
            )
        })?;
        Ok(Self {
            listener,
            router,
            db,
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn database(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until `shutdown` completes, then lets open requests finish for the grace period.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let grace = self.shutdown_grace;
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
        self.db.close().await.ok();
        Ok(())
    }
}

pub fn build_schema(
    settings: &Settings,
    db: DatabaseConnection,
    clock: SharedClock,
) -> TomoniSchema {
    api::build_schema(ApiDeps {
        db,
        clock,
        events: EventBus::new(),
        config: ApiConfig {
            max_depth: settings.limits.max_depth,
            max_complexity: settings.limits.max_complexity,
            pairing_code_lifetime: chrono::Duration::minutes(i64::from(
                settings.pairing_code_minutes,
            )),
            redeem_attempts_per_minute: NonZeroU32::new(settings.limits.redeem_attempts_per_minute)
                .unwrap_or(NonZeroU32::MIN),
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
