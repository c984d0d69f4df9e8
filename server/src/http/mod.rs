//! The HTTP surface: the router shared by production and tests, request logging, and health checks.

mod graphql;
mod playground;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tomoni_schema::api::TomoniSchema;
use tomoni_schema::domain::clock::SharedClock;
use tomoni_schema::store::{self, Readiness};

use crate::config::Limits;
use crate::workers::{PushMetrics, WorkerHealth};

#[derive(Clone)]
pub struct AppState {
    pub schema: TomoniSchema,
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub limits: Arc<Limits>,
    pub metrics: Arc<PushMetrics>,
    pub health: Arc<WorkerHealth>,
    /// Whose `X-Forwarded-For` names the client (for rate limits).
    pub trusted_proxies: Arc<tomoni_schema::domain::client_address::TrustedProxies>,
    /// The schema as an introspection result, computed at start, for the playground.
    pub playground_schema: axum::body::Bytes,
}

/// Every route Tomoni serves.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.body_bytes;
    Router::new()
        .route("/", get(playground::page))
        .route("/playground", get(playground::page))
        .route("/playground/assets/{file}", get(playground::asset))
        .route("/playground/schema.json", get(playground::schema))
        .route(
            "/graphql",
            get(graphql::get_query)
                .post(graphql::post)
                .fallback(graphql::method_not_allowed),
        )
        .route("/graphql/ws", get(graphql::websocket))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/healthz/workers", get(workers))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// One line per request: method, path (never the query string, which can hold variables), status
/// and duration.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied.
async fn readyz(State(state): State<AppState>) -> Response {
    match store::readiness(&state.db).await {
        Ok(Readiness::Ready) => (StatusCode::OK, "ready").into_response(),
        Ok(Readiness::PendingMigrations(count)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {count} migrations pending"),
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: database unreachable",
            )
                .into_response()
        }
    }
}

/// Each background worker of this process: whether it runs, its last tick, its last error (a
/// class), its restarts. Always 200: it reports, and readiness stays about serving requests (an
/// instance whose workers lag must still take an SOS).
async fn workers(State(state): State<AppState>) -> Response {
    let now = state.clock.now();
    let rfc3339 =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let workers: Vec<serde_json::Value> = state
        .health
        .snapshot()
        .into_iter()
        .map(|(name, worker)| {
            serde_json::json!({
                "name": name,
                "running": worker.running,
                "ticks": worker.ticks,
                "lastTickAt": worker.last_tick_at.map(rfc3339),
                "lastTickAgeSeconds": worker
                    .last_tick_at
                    .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0),
                "lastTickDurationMs": worker
                    .last_tick_duration
                    .map(|took| took.as_secs_f64() * 1000.0),
                "restarts": worker.restarts,
                "lastError": worker.last_error,
                "lastErrorAt": worker.last_error_at.map(rfc3339),
            })
        })
        .collect();
    axum::Json(serde_json::json!({ "now": rfc3339(now), "workers": workers })).into_response()
}

/// Push outcome counters, the workers' health and the backlog, in the Prometheus text format. The
/// backlog is read now, from the database (a few aggregates over indexes).
async fn metrics(State(state): State<AppState>) -> Response {
    let now = state.clock.now();
    let backlog = match store::health::backlog(&state.db, now).await {
        Ok(backlog) => Some(backlog),
        Err(err) => {
            tracing::warn!(error = %err, "metrics: cannot read the backlog");
            None
        }
    };
    let mut body = state.metrics.render();
    body.push_str(&crate::workers::metrics::render_workers(
        &state.health,
        backlog.as_ref(),
        now,
    ));
    let (refused, clients) = tomoni_schema::api::pairing_rate_limit_stats(&state.schema);
    body.push_str(&crate::workers::metrics::render_pairing_limit(
        refused, clients,
    ));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
        .into_response()
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found")
}
