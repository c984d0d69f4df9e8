//! The GraphQL playground: GraphiQL and React served from inside the binary, so it works on a
//! hospital network with no internet. The files come from the npm registry at build time (see
//! `build.rs`); the page and its start-up script are ours. GraphiQL is given the schema the server
//! computed at start (`schema.json`): over the API, only coordinators may introspect, and
//! GraphiQL's introspection query nests deeper than the depth limit.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

macro_rules! npm_asset {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/playground/", $name))
    };
}

const PAGE: &str = include_str!("playground.html");
const START_SCRIPT: &str = include_str!("playground.js");

/// (file name, content type, bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        npm_asset!("react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        npm_asset!("react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        npm_asset!("graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        npm_asset!("graphiql.min.css"),
    ),
    (
        "tomoni-playground.js",
        "text/javascript; charset=utf-8",
        START_SCRIPT.as_bytes(),
    ),
];

/// Scripts only from Tomoni itself; GraphiQL sets inline styles and uses data: URLs for icons.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub async fn page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        PAGE,
    )
        .into_response()
}

pub async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Versions are pinned and change only with the binary; an hour is a safe cache.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        *bytes,
    )
        .into_response()
}

/// `GET /playground/schema.json`: the API's types as an introspection result, no data. Served to
/// whoever may load the playground, as the SDL is published in the mobile contract.
pub async fn schema(State(state): State<super::AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            // It changes with every upgrade of the server: never a stale one after an upgrade.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        state.playground_schema.clone(),
    )
        .into_response()
}
