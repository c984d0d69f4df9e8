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
use crate::workers::PushMetrics;

#[derive(Clone)]
pub struct AppState {
    pub schema: TomoniSchema,
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub limits: Arc<Limits>,
    pub metrics: Arc<PushMetrics>,
}

/// Every route Tomoni serves.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.body_bytes;
    Router::new()
        .route("/", get(playground::page))
        .route("/playground", get(playground::page))
        .route("/playground/assets/{file}", get(playground::asset))
        .route(
            "/graphql",
            get(graphql::get_query)
                .post(graphql::post)
                .fallback(graphql::method_not_allowed),
        )
        .route("/graphql/ws", get(graphql::websocket))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
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

/// Push outcome counters in the Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found")
}
