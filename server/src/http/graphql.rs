//! GraphQL over HTTP and WebSocket. Every request is checked here before the schema sees it:
//! content type, body size, JSON shape, batch size, and the bearer token. Failures are GraphQL-shaped
//! JSON errors with an `extensions.code`, never a plain-text page.

use std::net::{IpAddr, SocketAddr};

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Request, Variables};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tomoni_schema::api::error::codes;
use tomoni_schema::api::{self, Auth, AuthError};

use super::AppState;

const JSON: &str = "application/json";

/// `POST /graphql`: one operation or a batch, as JSON.
pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::BAD_USER_INPUT,
                format!(
                    "the request body is larger than {} bytes",
                    state.limits.body_bytes
                ),
            );
        }
        Err(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                codes::BAD_USER_INPUT,
                "the request body could not be read",
            );
        }
    };
    if !is_json(&headers) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::BAD_USER_INPUT,
            "send GraphQL requests with Content-Type: application/json",
        );
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return request_error(
            StatusCode::BAD_REQUEST,
            codes::BAD_USER_INPUT,
            "the request body is empty",
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                codes::BAD_USER_INPUT,
                "the body is not a GraphQL request: expected JSON with a \"query\" string (or a list of them)",
            );
        }
    };
    let operations = batch.iter().count();
    if batch.iter().any(|request| request.query.trim().is_empty()) {
        return request_error(
            StatusCode::BAD_REQUEST,
            codes::BAD_USER_INPUT,
            "every request needs a non-empty \"query\" string",
        );
    }
    if operations == 0 {
        return request_error(
            StatusCode::BAD_REQUEST,
            codes::BAD_USER_INPUT,
            "the batch is empty",
        );
    }
    if operations > state.limits.max_batch {
        return request_error(
            StatusCode::BAD_REQUEST,
            codes::BAD_USER_INPUT,
            format!(
                "a batch may hold at most {} operations",
                state.limits.max_batch
            ),
        );
    }
    let auth = match authenticate(&state, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    let client = client_address(&state, peer, &headers);
    let batch = match batch {
        BatchRequest::Single(request) => BatchRequest::Single(api::prepare_request(
            request,
            &state.schema,
            auth,
            Some(client),
        )),
        BatchRequest::Batch(requests) => BatchRequest::Batch(
            requests
                .into_iter()
                .map(|request| api::prepare_request(request, &state.schema, auth, Some(client)))
                .collect(),
        ),
    };
    graphql_response(state.schema.execute_batch(batch).await)
}

/// The parameters of `GET /graphql`, named as the GraphQL-over-HTTP specification names them.
#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    /// JSON, URL-encoded.
    variables: Option<String>,
}

/// `GET /graphql?query=…`: queries only, so that a link or an image tag can never change data.
pub async fn get_query(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return request_error(
            StatusCode::BAD_REQUEST,
            codes::BAD_USER_INPUT,
            "the query string is not a GraphQL request (query, operationName, variables)",
        );
    };
    let Some(query) = params.query.filter(|q| !q.trim().is_empty()) else {
        return request_error(
            StatusCode::BAD_REQUEST,
            codes::BAD_USER_INPUT,
            "GET /graphql needs a `query` parameter; the playground is at /",
        );
    };
    let variables = match params
        .variables
        .as_deref()
        .map(serde_json::from_str::<Variables>)
    {
        None => Variables::default(),
        Some(Ok(variables)) => variables,
        Some(Err(_)) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                codes::BAD_USER_INPUT,
                "`variables` is not a JSON object",
            );
        }
    };
    if let Some(OperationType::Mutation | OperationType::Subscription) =
        operation_type(&query, params.operation_name.as_deref())
    {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::BAD_USER_INPUT,
            "GET runs queries only: send mutations with POST, subscriptions over /graphql/ws",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let auth = match authenticate(&state, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    let mut request = Request::new(query).variables(variables);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    let client = client_address(&state, peer, &headers);
    let request = api::prepare_request(request, &state.schema, auth, Some(client));
    graphql_response(BatchResponse::Single(state.schema.execute(request).await))
}

/// The client's address for rate limits: the peer, or behind a trusted proxy the address its
/// `X-Forwarded-For` names (`domain::client_address` decides).
fn client_address(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    tomoni_schema::domain::client_address::client_address(
        peer.ip(),
        headers
            .get_all("x-forwarded-for")
            .iter()
            .map(HeaderValue::as_bytes),
        &state.trusted_proxies,
    )
}

pub async fn method_not_allowed() -> Response {
    let mut response = request_error(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::BAD_USER_INPUT,
        "use POST (or GET for queries) on /graphql",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// `GET /graphql/ws`: graphql-transport-ws and the older graphql-ws protocol. Browsers cannot set
/// headers on a WebSocket, so the token comes in the `connection_init` payload.
pub async fn websocket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = websocket_protocol(&headers) else {
        return request_error(
            StatusCode::BAD_REQUEST,
            codes::BAD_USER_INPUT,
            "ask for the graphql-transport-ws or graphql-ws subprotocol",
        );
    };
    let limit = state.limits.body_bytes;
    let client = client_address(&state, peer, &headers);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| serve_socket(state, client, protocol, socket))
}

/// The first subprotocol the client offers that Tomoni speaks (as async-graphql-axum's
/// `GraphQLProtocol` reads it; read here because that type does not hand the protocol out).
fn websocket_protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|offered| offered.trim().parse().ok())
}

/// The close code and reason a socket gets when its device is revoked while it is open.
const REVOKED_CLOSE_CODE: u16 = 4403;
const REVOKED_CLOSE_REASON: &str = "device revoked: pair this device again";

/// Serves one WebSocket as async-graphql-axum's `GraphQLWebSocket::serve` does, and closes it
/// (4403) the moment its device is revoked: the revocation is an event on the bus, which carries
/// other servers' events too, so a phone revoked anywhere loses its sockets everywhere.
async fn serve_socket(
    state: AppState,
    client: IpAddr,
    protocol: WebSocketProtocols,
    socket: axum::extract::ws::WebSocket,
) {
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::{SinkExt as _, StreamExt as _, future};

    let schema = state.schema.clone();
    // Subscribed before the token is checked, so a revocation between the check and the watch
    // cannot slip through.
    let events = api::event_bus(&schema).map(|bus| bus.subscribe());
    let (device_tx, device_rx) = tokio::sync::oneshot::channel();
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let init_state = state.clone();
    let init_schema = schema.clone();
    let output = async_graphql::http::WebSocket::new(schema, input, protocol)
        .on_connection_init(move |payload| async move {
            let auth = authenticate_init(&init_state, &payload).await?;
            if let Auth::Viewer(viewer) = auth {
                let _socket_gone = device_tx.send(viewer.device_id);
            }
            Ok(api::connection_data(&init_schema, auth, Some(client)))
        })
        .map(|message| match message {
            async_graphql::http::WsMessage::Text(text) => Message::Text(text.into()),
            async_graphql::http::WsMessage::Close(code, reason) => {
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        });
    futures_util::pin_mut!(output);
    let revoked = watch_revocation(state.db.clone(), events, device_rx);
    tokio::pin!(revoked);
    loop {
        tokio::select! {
            message = output.next() => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            () = &mut revoked => {
                let close = Message::Close(Some(CloseFrame {
                    code: REVOKED_CLOSE_CODE,
                    reason: REVOKED_CLOSE_REASON.into(),
                }));
                let _peer_gone = sink.send(close).await;
                break;
            }
        }
    }
}

/// Resolves when the socket's device is revoked; never, for an anonymous socket. Falling behind
/// on the bus (or events lost between servers) means a revocation may have been missed: the device
/// is then looked up again.
async fn watch_revocation(
    db: sea_orm::DatabaseConnection,
    events: Option<tokio::sync::broadcast::Receiver<tomoni_schema::events::Envelope>>,
    device: tokio::sync::oneshot::Receiver<uuid::Uuid>,
) {
    use tokio::sync::broadcast::error::RecvError;
    let (Some(mut events), Ok(device_id)) = (events, device.await) else {
        return std::future::pending().await;
    };
    loop {
        let maybe_missed = match events.recv().await {
            Ok(envelope) => match envelope.event {
                tomoni_schema::events::DomainEvent::DeviceRevoked { device_id: id, .. }
                    if id == device_id =>
                {
                    return;
                }
                tomoni_schema::events::DomainEvent::EventsLost { .. } => true,
                _ => false,
            },
            Err(RecvError::Lagged(_)) => true,
            Err(RecvError::Closed) => return std::future::pending().await,
        };
        if maybe_missed {
            match tomoni_schema::store::devices::is_active(&db, device_id).await {
                Ok(false) => return,
                Ok(true) => {}
                // Every operation on the socket checks the device again, so a failed look-up here
                // lets nothing through; the next event tries again.
                Err(err) => tracing::warn!(error = %err, "cannot re-check a socket's device"),
            }
        }
    }
}

/// Checks the token of a `connection_init` payload.
async fn authenticate_init(
    state: &AppState,
    payload: &serde_json::Value,
) -> async_graphql::Result<Auth> {
    let presented = match token_from_init_payload(payload) {
        Presented::None => None,
        Presented::Token(token) => Some(token),
        Presented::Malformed => return Err(unauthenticated_init()),
    };
    match api::authenticate(&state.db, state.clock.as_ref(), presented.as_deref()).await {
        Ok(auth) => Ok(auth),
        Err(AuthError::InvalidToken) => Err(unauthenticated_init()),
        Err(AuthError::Database(err)) => {
            tracing::error!(error = %err, "cannot check a WebSocket token");
            Err(async_graphql::Error::new("internal error"))
        }
    }
}

fn unauthenticated_init() -> async_graphql::Error {
    async_graphql::Error::new("UNAUTHENTICATED: the token is not valid")
}

enum Presented {
    None,
    Token(String),
    Malformed,
}

/// GraphiQL sends its Headers tab as the payload (`{"Authorization": "Bearer …"}`); other clients
/// often send `{"token": "…"}`. Both are accepted.
fn token_from_init_payload(payload: &serde_json::Value) -> Presented {
    let Some(object) = payload.as_object() else {
        return Presented::None;
    };
    for (key, value) in object {
        let Some(value) = value.as_str() else {
            continue;
        };
        if key.eq_ignore_ascii_case("authorization") {
            return match bearer_token(value) {
                Some(token) => Presented::Token(token.to_owned()),
                None => Presented::Malformed,
            };
        }
        if key == "token" || key == "authToken" {
            return Presented::Token(value.to_owned());
        }
    }
    Presented::None
}

fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Resolves the `Authorization` header. No header: anonymous (only pairing works). A header that
/// is malformed, unknown or revoked: 401 with UNAUTHENTICATED, so the app knows to pair again.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Auth, Response> {
    let presented = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => match value.to_str().ok().and_then(bearer_token) {
            Some(token) => Some(token),
            None => {
                return Err(unauthenticated(
                    "the Authorization header must be `Bearer <token>`",
                ));
            }
        },
    };
    match api::authenticate(&state.db, state.clock.as_ref(), presented).await {
        Ok(auth) => Ok(auth),
        Err(AuthError::InvalidToken) => Err(unauthenticated(
            "the token is not valid (unknown or revoked): pair this device again",
        )),
        Err(AuthError::Database(err)) => {
            tracing::error!(error = %err, "cannot check a token");
            Err(request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL,
                "internal error",
            ))
        }
    }
}

fn unauthenticated(message: &str) -> Response {
    let mut response = request_error(StatusCode::UNAUTHORIZED, codes::UNAUTHENTICATED, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(JSON))
}

/// Which kind of operation the request would run, if the document parses.
fn operation_type(query: &str, operation_name: Option<&str>) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    match document.operations {
        DocumentOperations::Single(operation) => Some(operation.node.ty),
        DocumentOperations::Multiple(operations) => {
            let wanted = operation_name?;
            operations
                .iter()
                .find(|(name, _)| name.as_str() == wanted)
                .map(|(_, operation)| operation.node.ty)
        }
    }
}

fn graphql_response(response: BatchResponse) -> Response {
    match serde_json::to_vec(&response) {
        Ok(body) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
            body,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot serialise a GraphQL response");
            request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                "internal error",
            )
        }
    }
}

/// A GraphQL-shaped error for a request that never reached the schema.
pub(crate) fn request_error(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
) -> Response {
    let body = json!({
        "errors": [{ "message": message.into(), "extensions": { "code": code } }]
    });
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_leniently_but_not_guessed() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("abc"), None);
    }

    #[test]
    fn operation_types_are_found_by_name() {
        assert_eq!(
            operation_type("{ viewer { id } }", None),
            Some(OperationType::Query)
        );
        assert_eq!(
            operation_type("mutation { x }", None),
            Some(OperationType::Mutation)
        );
        let two = "query A { a } mutation B { b }";
        assert_eq!(
            operation_type(two, Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type(two, Some("A")), Some(OperationType::Query));
        assert_eq!(operation_type(two, None), None);
        assert_eq!(operation_type("not graphql", None), None);
    }

    #[test]
    fn init_payload_tokens() {
        assert!(matches!(
            token_from_init_payload(&json!({"Authorization": "Bearer t"})),
            Presented::Token(t) if t == "t"
        ));
        assert!(matches!(
            token_from_init_payload(&json!({"token": "t"})),
            Presented::Token(_)
        ));
        assert!(matches!(
            token_from_init_payload(&json!({"authorization": "t"})),
            Presented::Malformed
        ));
        assert!(matches!(
            token_from_init_payload(&json!(null)),
            Presented::None
        ));
        assert!(matches!(
            token_from_init_payload(&json!({})),
            Presented::None
        ));
    }
}
