//! The HTTP surface: the router shared by production and tests, request logging, panics answered
//! as errors, and health checks.

mod graphql;
mod playground;

use std::any::Any;
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
use tower_http::catch_panic::CatchPanicLayer;

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
        // Inside the request log, so a request that panicked is logged with its 500.
        .layer(catch_panics())
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// A panic while answering a request (a bug: every input is checked before it can cause one)
/// becomes the GraphQL error every client already handles instead of a dropped connection. 500,
/// not 200: nothing was executed to completion, and proxies and monitoring should count it as
/// the server's fault. The panic's message is not logged here: it may quote what was sent.
fn catch_panics() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(internal_error_for_panic)
}

fn internal_error_for_panic(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request panicked; answered INTERNAL");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({
            "errors": [{
                "message": "internal error",
                "extensions": { "code": tomoni_schema::api::error::codes::INTERNAL },
            }]
        })),
    )
        .into_response()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_graphql_internal_error() {
        let app: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    let window: Vec<i64> = Vec::new();
                    // An out-of-bounds index, as a forgotten bound would make.
                    axum::Json(window[usize::from(window.is_empty())])
                }),
            )
            .route("/fine", get(|| async { "ok" }))
            .layer(catch_panics());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();

        let response = client
            .get(format!("http://{address}/boom"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }]
            })
        );
        // The server goes on serving.
        let response = client
            .get(format!("http://{address}/fine"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        server.abort();
    }
}
