//! Subscriptions over WebSocket, in both protocols, with the token in `connection_init`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tomoni_tests::{Backend, TestApp, backend, spawn_app, spawn_second_instance};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const DEVICE_EVENTS: &str = "subscription($personId: ID!) { deviceEvents(personId: $personId) { kind personId device { id label } } }";

async fn connect(app: &TestApp, protocol: &str) -> Socket {
    connect_to(app.address, protocol).await
}

async fn connect_to(address: std::net::SocketAddr, protocol: &str) -> Socket {
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next JSON message, skipping keep-alives; `None` when the socket closes or nothing arrives
/// within `wait`.
pub(crate) async fn next_message(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(wait, socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if matches!(value["type"].as_str(), Some("ka" | "ping" | "pong")) {
                    continue;
                }
                return Some(value);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Sends `connection_init` with `payload` and checks the acknowledgement.
async fn initialise(socket: &mut Socket, payload: Value) {
    send(
        socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    let ack = next_message(socket, Duration::from_secs(10)).await.unwrap();
    assert_eq!(ack["type"], "connection_ack");
}

/// Opens a graphql-transport-ws connection with `init` as the connection_init payload, checks the
/// acknowledgement, and subscribes (id "1") to the person's device events.
async fn subscribe_device_events(app: &TestApp, init: Value, person: &str) -> Socket {
    let mut socket = connect(app, "graphql-transport-ws").await;
    initialise(&mut socket, init).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": DEVICE_EVENTS, "variables": { "personId": person } } }),
    )
    .await;
    socket
}

/// Pairs devices for the person until the subscription reports one, proving it is live (a
/// subscription starts asynchronously, and the protocol has no acknowledgement for it). Bounded.
async fn first_event(app: &TestApp, socket: &mut Socket, coordinator: &str, person: &str) -> Value {
    for _ in 0..40 {
        app.pair(coordinator, person).await;
        if let Some(message) = next_message(socket, Duration::from_millis(250)).await {
            return message;
        }
    }
    panic!("no subscription event arrived");
}

#[tokio::test]
async fn graphql_transport_ws_streams_device_events_to_a_coordinator() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;

    let mut socket = subscribe_device_events(
        &app,
        json!({ "Authorization": format!("Bearer {coordinator}") }),
        &person,
    )
    .await;
    let event = first_event(&app, &mut socket, &coordinator, &person).await;
    assert_eq!(event["type"], "next", "{event}");
    assert_eq!(event["id"], "1");
    let payload = &event["payload"]["data"]["deviceEvents"];
    assert_eq!(payload["kind"], "PAIRED");
    assert_eq!(payload["personId"], person.as_str());
    assert_eq!(payload["device"]["label"], "Test phone");
}

#[tokio::test]
async fn the_older_graphql_ws_protocol_works_too() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "SUPPORTER", "Ken").await;

    let mut socket = connect(&app, "graphql-ws").await;
    initialise(&mut socket, json!({ "token": coordinator })).await;
    send(
        &mut socket,
        json!({ "id": "7", "type": "start", "payload": { "query": DEVICE_EVENTS, "variables": { "personId": person } } }),
    )
    .await;
    let event = first_event(&app, &mut socket, &coordinator, &person).await;
    assert_eq!(event["type"], "data", "{event}");
    assert_eq!(event["payload"]["data"]["deviceEvents"]["kind"], "PAIRED");
}

#[tokio::test]
async fn a_bad_token_in_connection_init_is_refused() {
    let app = spawn_app().await;
    let mut socket = connect(&app, "graphql-transport-ws").await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer tmn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } }),
    )
    .await;
    let answer = next_message(&mut socket, Duration::from_secs(10)).await;
    assert!(
        answer
            .as_ref()
            .is_none_or(|message| message["type"] != "connection_ack"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn anonymous_and_unauthorised_subscriptions_get_codes() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (_, other_coordinator) = app.organisation_with_coordinator("Other").await;
    let person = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;

    for (payload, code) in [
        (json!({}), "UNAUTHENTICATED"),
        (
            json!({ "Authorization": format!("Bearer {other_coordinator}") }),
            "NOT_FOUND",
        ),
    ] {
        let mut socket = subscribe_device_events(&app, payload, &person).await;
        assert_eq!(refusal_code(&mut socket).await, code);
    }
}

#[tokio::test]
async fn a_revoked_viewer_stops_receiving_at_the_next_event() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    let (own_token, own_device) = app.pair(&coordinator, &person).await;

    let mut socket = subscribe_device_events(
        &app,
        json!({ "Authorization": format!("Bearer {own_token}") }),
        &person,
    )
    .await;
    let live = first_event(&app, &mut socket, &coordinator, &person).await;
    assert_eq!(live["payload"]["data"]["deviceEvents"]["kind"], "PAIRED");

    revoke(&app, &coordinator, &own_device).await;
    // The socket is closed (4403); the subscription's own UNAUTHENTICATED answer may come first.
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(10)).await,
        Some(4403)
    );
}

/// Subscribes (graphql-transport-ws, id "1") on the server at `address` as the token's holder.
pub(crate) async fn subscribe_at(
    address: std::net::SocketAddr,
    token: &str,
    query: &str,
    variables: Value,
) -> Socket {
    let mut socket = connect_to(address, "graphql-transport-ws").await;
    initialise(
        &mut socket,
        json!({ "Authorization": format!("Bearer {token}") }),
    )
    .await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
    socket
}

/// Repeats `act` until the socket delivers an event (a subscription, and on PostgreSQL the relay
/// between servers, start asynchronously with no acknowledgement). Bounded.
pub(crate) async fn event_after<F, Fut>(socket: &mut Socket, mut act: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..40 {
        act().await;
        if let Some(message) = next_message(socket, Duration::from_millis(250)).await {
            return message;
        }
    }
    panic!("no subscription event arrived");
}

/// On PostgreSQL the subscribers sit on a second server and the changes happen on the first
/// (events cross between servers); on SQLite, the embedded single-server store, both are on the
/// one server.
#[tokio::test]
async fn outing_events_and_alerts_stream_live_and_across_servers_on_postgresql() {
    let app = crate::outings::app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, participant_token) = app.pair_both(&coordinator, &lead, &participant).await;
    let outing = app
        .start_outing(&coordinator, &participant, &lead, &lead_token, 120)
        .await;

    let second = spawn_second_instance(&app).await;
    let subscribers_at = if backend() == Backend::Postgres {
        second.address
    } else {
        app.address
    };

    // The participant follows their outing; the supporter's check-ins arrive.
    let mut outing_socket = subscribe_at(
        subscribers_at,
        &participant_token,
        "subscription($id: ID!) { outingEvents(outingId: $id) { outing { id status latestCheckIn { kind } } alert { reason } } }",
        json!({ "id": outing }),
    )
    .await;
    let event = event_after(&mut outing_socket, || async {
        app.check_in(&lead_token, &outing, "OK").await.data();
    })
    .await;
    assert_eq!(event["type"], "next", "{event}");
    let data = &event["payload"]["data"]["outingEvents"];
    assert_eq!(data["outing"]["id"], outing.as_str());
    assert_eq!(data["outing"]["latestCheckIn"]["kind"], "OK");

    // A coordinator follows the organisation's alerts.
    let mut alert_socket = subscribe_at(
        subscribers_at,
        &coordinator,
        "subscription { alerts { id reason tier status outingId } }",
        json!({}),
    )
    .await;
    let event = event_after(&mut alert_socket, || async {
        app.check_in(&lead_token, &outing, "NEED_HELP").await.data();
    })
    .await;
    let alert = &event["payload"]["data"]["alerts"];
    assert_eq!(alert["reason"], "NEED_HELP", "{event}");
    assert_eq!(alert["outingId"], outing.as_str());

    // Someone not on the outing cannot follow it; a supporter cannot follow alerts.
    let outsider = app
        .create_person(&coordinator, "PARTICIPANT", "Other")
        .await;
    let (outsider_token, _) = app.pair(&coordinator, &outsider).await;
    let mut refused = subscribe_at(
        subscribers_at,
        &outsider_token,
        "subscription($id: ID!) { outingEvents(outingId: $id) { outing { id } } }",
        json!({ "id": outing }),
    )
    .await;
    assert_eq!(refusal_code(&mut refused).await, "NOT_FOUND");
    let mut refused = subscribe_at(
        subscribers_at,
        &lead_token,
        "subscription { alerts { id } }",
        json!({}),
    )
    .await;
    assert_eq!(refusal_code(&mut refused).await, "FORBIDDEN");
}

/// The code of the error a refused subscription answers with (as `error`, or as `next` with
/// errors, depending on where it was refused).
async fn refusal_code(socket: &mut Socket) -> String {
    let message = next_message(socket, Duration::from_secs(10)).await.unwrap();
    let errors = if message["type"] == "error" {
        &message["payload"]
    } else {
        &message["payload"]["errors"]
    };
    errors[0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {message}"))
        .to_owned()
}

/// Sends `query` over an open socket as operation `id` (graphql-transport-ws `subscribe`, or the
/// older protocol's `start`) and returns its first answer's payload.
pub(crate) async fn operation_over(
    socket: &mut Socket,
    protocol: &str,
    id: &str,
    query: &str,
) -> Value {
    let kind = if protocol == "graphql-ws" {
        "start"
    } else {
        "subscribe"
    };
    send(
        socket,
        json!({ "id": id, "type": kind, "payload": { "query": query } }),
    )
    .await;
    loop {
        let message = next_message(socket, Duration::from_secs(10))
            .await
            .expect("an answer to the operation");
        if message["id"] == id && matches!(message["type"].as_str(), Some("next" | "data")) {
            return message["payload"].clone();
        }
        if message["id"] == id && message["type"] == "error" {
            return json!({ "errors": message["payload"] });
        }
    }
}

/// A stolen phone revoked while its socket is open, on a server that never heard of it (the
/// revocation is written to the database with no event, as when the relay between servers lost
/// it): the queries, mutations and subscriptions it sends over that socket afterwards are refused,
/// on both protocols. The token was checked once, at `connection_init`; every operation now checks
/// the device again.
#[tokio::test]
async fn a_revoked_device_cannot_run_operations_over_a_socket_it_opened_before() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let (token, device) = app.pair(&coordinator, &person).await;
        let mut socket = acknowledged(app.address, protocol, &token).await;

        let before = operation_over(&mut socket, protocol, "1", "{ viewer { id } }").await;
        assert_eq!(before["data"]["viewer"]["id"], person.as_str(), "{before}");

        revoke_behind_the_servers_back(&app, &device).await;

        let query = operation_over(&mut socket, protocol, "2", "{ viewer { id } }").await;
        assert_eq!(
            query["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{protocol}: {query}"
        );
        assert!(
            query["data"].is_null() || query.get("data").is_none(),
            "{query}"
        );
        let mutation = operation_over(
            &mut socket,
            protocol,
            "3",
            &format!(
                r#"mutation {{ updateNotificationSettings(input: {{ personId: "{person}", quietHours: null }}) {{ __typename }} }}"#
            ),
        )
        .await;
        assert_eq!(
            mutation["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{protocol}: {mutation}"
        );
        let subscription = operation_over(
            &mut socket,
            protocol,
            "4",
            &format!(r#"subscription {{ deviceEvents(personId: "{person}") {{ kind }} }}"#),
        )
        .await;
        assert_eq!(
            subscription["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{protocol}: {subscription}"
        );
    }
}

/// Marks the device revoked in the database only: no event is published.
async fn revoke_behind_the_servers_back(app: &TestApp, device: &str) {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
    use tomoni_schema::store::entities::devices;
    let device: uuid::Uuid = device.parse().unwrap();
    let revoked = devices::Entity::update_many()
        .col_expr(devices::Column::RevokedAt, Expr::value(chrono::Utc::now()))
        .filter(devices::Column::Id.eq(device))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(revoked.rows_affected, 1);
}

/// The coordinator revokes the device through the API.
async fn revoke(app: &TestApp, coordinator: &str, device: &str) {
    app.graphql(
        Some(coordinator),
        "mutation($input: RevokeDeviceInput!) { revokeDevice(input: $input) { device { id } } }",
        json!({ "input": { "deviceId": device } }),
    )
    .await
    .data();
}

/// Reads the socket until the server closes it, and returns the close code (`None` if the
/// socket stays open for `wait` or ends without a close frame).
async fn close_code(socket: &mut Socket, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match message.ok()? {
            Message::Close(frame) => return frame.map(|frame| frame.code.into()),
            _ => continue,
        }
    }
}

/// Revoking a device closes the sockets it has open (4403, with a reason), on both protocols, even
/// a socket that runs no subscription: nothing more is sent to a stolen phone.
#[tokio::test]
async fn revoking_a_device_closes_its_open_sockets() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let (token, device) = app.pair(&coordinator, &person).await;
        let (_, other_device) = app.pair(&coordinator, &person).await;
        let mut socket = acknowledged(app.address, protocol, &token).await;
        let live = operation_over(&mut socket, protocol, "1", "{ viewer { id } }").await;
        assert_eq!(live["data"]["viewer"]["id"], person.as_str(), "{live}");

        // Revoking another of the person's devices leaves this socket open.
        revoke(&app, &coordinator, &other_device).await;
        let still = operation_over(&mut socket, protocol, "2", "{ viewer { id } }").await;
        assert_eq!(still["data"]["viewer"]["id"], person.as_str(), "{still}");

        revoke(&app, &coordinator, &device).await;
        assert_eq!(
            close_code(&mut socket, Duration::from_secs(10)).await,
            Some(4403),
            "{protocol}"
        );
    }
}

/// A device revoked through one server loses the socket it holds on another: on PostgreSQL the
/// revocation is relayed between servers as every event is (on SQLite, one server serves both).
#[tokio::test]
async fn revoking_a_device_on_one_server_closes_its_socket_on_another() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    let (token, device) = app.pair(&coordinator, &person).await;
    let second = spawn_second_instance(&app).await;
    let socket_at = if backend() == Backend::Postgres {
        second.address
    } else {
        app.address
    };
    let mut socket = acknowledged(socket_at, "graphql-transport-ws", &token).await;
    // Events from the first server reach this socket: the relay between them is listening.
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": DEVICE_EVENTS, "variables": { "personId": person } } }),
    )
    .await;
    let live = first_event(&app, &mut socket, &coordinator, &person).await;
    assert_eq!(live["payload"]["data"]["deviceEvents"]["kind"], "PAIRED");

    revoke(&app, &coordinator, &device).await;
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(20)).await,
        Some(4403)
    );
}

/// A socket to the server at `address`, initialised with the token and acknowledged.
pub(crate) async fn acknowledged(
    address: std::net::SocketAddr,
    protocol: &str,
    token: &str,
) -> Socket {
    let mut socket = connect_to(address, protocol).await;
    initialise(&mut socket, json!({ "token": token })).await;
    socket
}
