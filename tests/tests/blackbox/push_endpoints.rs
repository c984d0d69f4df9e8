//! Where pushes may go, checked where the connection is made: the port at registration, and at
//! every send the endpoint again and the addresses its name resolves to (issue 11 item 10).

use chrono::Duration;
use serde_json::json;
use tomoni_schema::notify::Message;
use tomoni_tests::push_receiver::PushReceiver;
use tomoni_tests::{TestApp, spawn_app_with, spawn_second_dispatcher_with};
use uuid::Uuid;

use crate::push::{delivery_of, participant};

const REGISTER: &str = "mutation($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { pushSubscription { id } } }";

/// A push that names nothing, for `person`, planned now.
async fn remind(app: &TestApp, person: &str, key: &str) -> Uuid {
    let message = Message::MatchUpdate {
        match_id: Uuid::now_v7(),
    };
    crate::push::remind(app, person, message, key).await
}

#[tokio::test]
async fn only_port_443_is_accepted_at_registration_unless_configured() {
    let strict = spawn_app_with(|settings| {
        settings.push.allow_any_port = false;
        settings.push.allow_private_addresses = false;
        settings.push.allow_http = false;
    })
    .await;
    let (_, _, token) = participant(&strict).await;
    let receiver = PushReceiver::start().await;
    let mut input = receiver.subscribe().as_input();
    let before = strict.snapshot().await;
    for endpoint in [
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://web.push.apple.com:22/QGuQyavXutnMH",
    ] {
        input["endpoint"] = json!(endpoint);
        let answer = strict
            .graphql(Some(&token), REGISTER, json!({ "input": input }))
            .await;
        answer.expect_error("BAD_USER_INPUT");
        assert_eq!(answer.body["errors"][0]["extensions"]["field"], "endpoint");
        assert!(
            !answer.body.to_string().contains("fcm.googleapis"),
            "the endpoint is never echoed: {}",
            answer.body
        );
    }
    assert_eq!(strict.snapshot().await, before, "nothing was written");
    input["endpoint"] = json!("https://fcm.googleapis.com:443/fcm/send/abc");
    strict
        .graphql(Some(&token), REGISTER, json!({ "input": input }))
        .await
        .data();

    let configured = spawn_app_with(|settings| {
        settings.push.allow_any_port = false;
        settings.push.allowed_ports = vec![443, 8443];
    })
    .await;
    let (_, _, token) = participant(&configured).await;
    input["endpoint"] = json!("https://fcm.googleapis.com:8443/fcm/send/abc");
    configured
        .graphql(Some(&token), REGISTER, json!({ "input": input }))
        .await
        .data();
}

/// A subscription registered while its address was allowed (or by a name that pointed elsewhere
/// then) is refused by a server whose policy refuses it now: at the send, with no retry.
#[tokio::test]
async fn an_internal_address_is_refused_at_send_and_never_retried() {
    let app = spawn_app_with(|settings| settings.push.dispatcher = false).await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    // Registered on the permissive test server: 127.0.0.1 as an IP literal.
    let subscription = app.register_push(&token, &receiver).await;
    let strict = spawn_second_dispatcher_with(&app, |settings| {
        settings.push.allow_private_addresses = false
    })
    .await;
    let id = remind(&app, &person, "internal-address").await;
    let report = strict.tick().await.unwrap();
    assert!(report.did_work());
    assert_eq!(receiver.attempts(&subscription), 0, "nothing was sent");
    let delivery = delivery_of(&app, id).await;
    assert_eq!(delivery.status, "failed");
    assert_eq!(delivery.last_status, None);

    app.clock.advance(Duration::hours(2));
    for _ in 0..3 {
        strict.tick().await.unwrap();
    }
    assert_eq!(receiver.attempts(&subscription), 0, "and never retried");
    assert_eq!(delivery_of(&app, id).await.status, "failed");
}

/// Names under `localhost` are loopback whatever DNS says: the server resolves them itself, and
/// sends to them only when internal addresses are allowed.
#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_unless_allowed() {
    let app = spawn_app_with(|settings| settings.push.dispatcher = false).await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    let subscription = receiver.subscribe_at_host("push.localhost");
    app.graphql(
        Some(&token),
        REGISTER,
        json!({ "input": subscription.as_input() }),
    )
    .await
    .data();

    let strict = spawn_second_dispatcher_with(&app, |settings| {
        settings.push.allow_private_addresses = false
    })
    .await;
    let refused = remind(&app, &person, "loopback-name-refused").await;
    strict.tick().await.unwrap();
    assert_eq!(receiver.attempts(&subscription), 0);
    assert_eq!(delivery_of(&app, refused).await.status, "failed");

    // The permissive test server's own dispatcher resolves the name to loopback and delivers.
    let allowed = remind(&app, &person, "loopback-name-allowed").await;
    app.drain().await;
    assert_eq!(receiver.received().len(), 1, "{:?}", receiver.violations());
    assert_eq!(delivery_of(&app, allowed).await.status, "delivered");
}
