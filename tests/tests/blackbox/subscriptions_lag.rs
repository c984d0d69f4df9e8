//! Subscribers never miss an event silently. A subscriber that falls more than
//! `limits.subscription_backlog` events behind gets `outingEvents` with `missedEvents` set (the
//! outing as it now is: the app refetches the rest) and then live events again; `alerts` and
//! `deviceEvents` end with `EVENTS_MISSED` (the app subscribes again and refetches).
//!
//! Deterministic: the test runtime has one thread, so events published here in one go (no await
//! between them) all land in the bus before the server's subscription task can read one.

use std::time::Duration;

use serde_json::{Value, json};
use tomoni_schema::events::DomainEvent;
use tomoni_tests::{TestApp, spawn_app_with};
use uuid::Uuid;

use crate::websocket::{Socket, event_after, next_message, subscribe_at};

const BACKLOG: usize = 4;
const FLOOD: usize = 10;

async fn app() -> TestApp {
    spawn_app_with(|settings| {
        settings.push.dispatcher = false;
        settings.safety.watchdog = false;
        settings.limits.redeem_attempts_per_minute = 100;
        settings.limits.subscription_backlog = BACKLOG;
    })
    .await
}

struct World {
    coordinator: String,
    lead_token: String,
    participant: String,
    participant_token: String,
    organisation: Uuid,
    outing: String,
}

async fn outing_under_way(app: &TestApp) -> World {
    let (organisation, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, participant_token) = app.pair_both(&coordinator, &lead, &participant).await;
    let outing = app
        .start_outing(&coordinator, &participant, &lead, &lead_token, 120)
        .await;
    World {
        coordinator,
        lead_token,
        participant,
        participant_token,
        organisation,
        outing,
    }
}

const CHECK_IN: &str =
    "mutation($input: CheckInInput!) { checkIn(input: $input) { checkIn { id } } }";

async fn check_in(app: &TestApp, w: &World, kind: &str) -> String {
    app.graphql(
        Some(&w.lead_token),
        CHECK_IN,
        json!({ "input": { "outingId": w.outing, "kind": kind } }),
    )
    .await
    .data()["checkIn"]["checkIn"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// More events than the backlog holds, all at once (no await: nothing else runs meanwhile).
fn flood(app: &TestApp, organisation_id: Uuid, outing: &str) {
    let outing_id = Uuid::parse_str(outing).unwrap();
    for _ in 0..FLOOD {
        app.events.publish(DomainEvent::OutingChanged {
            organisation_id,
            outing_id,
        });
    }
}

/// The next message that is not an ordinary event of `field` (a subscription's liveness probe may
/// have sent one more than it waited for). Bounded.
async fn next_unusual(socket: &mut Socket, field: &str) -> Value {
    for _ in 0..10 {
        let message = next_message(socket, Duration::from_secs(10))
            .await
            .expect("a message");
        let data = &message["payload"]["data"][field];
        let ordinary = message["type"] == "next"
            && message["payload"].get("errors").is_none()
            && data.is_object()
            && data.get("missedEvents").is_none_or(Value::is_null);
        if !ordinary {
            return message;
        }
    }
    panic!("only ordinary events arrived");
}

/// Subscribes the participant to their outing's events with `query` and sees a check-in arrive
/// live; returns the socket and that event.
async fn follow_live(app: &TestApp, w: &World, query: &str) -> (Socket, Value) {
    let mut socket = subscribe_at(
        app.address,
        &w.participant_token,
        query,
        json!({ "id": w.outing }),
    )
    .await;
    let live = event_after(&mut socket, || async {
        check_in(app, w, "OK").await;
    })
    .await;
    assert_eq!(live["type"], "next", "{live}");
    (socket, live)
}

#[tokio::test]
async fn an_outing_subscriber_that_fell_behind_is_told_and_then_follows_live_again() {
    let app = app().await;
    let w = outing_under_way(&app).await;
    let (mut socket, live) = follow_live(
        &app,
        &w,
        "subscription($id: ID!) { outingEvents(outingId: $id) { outing { id status latestCheckIn { id kind } } alert { id } missedEvents } }",
    )
    .await;
    assert_eq!(
        live["payload"]["data"]["outingEvents"]["missedEvents"],
        Value::Null
    );

    flood(&app, w.organisation, &w.outing);
    let resync = next_unusual(&mut socket, "outingEvents").await;
    assert_eq!(resync["type"], "next", "{resync}");
    let data = &resync["payload"]["data"]["outingEvents"];
    let missed = data["missedEvents"]
        .as_u64()
        .unwrap_or_else(|| panic!("{resync}"));
    assert!(missed >= (FLOOD - BACKLOG) as u64, "{resync}");
    // The outing as it now is; no alert (the app refetches what it shows of those).
    assert_eq!(data["outing"]["id"], w.outing.as_str());
    assert_eq!(data["outing"]["status"], "IN_PROGRESS");
    assert_eq!(data["outing"]["latestCheckIn"]["kind"], "OK");
    assert_eq!(data["alert"], Value::Null);

    // The stream goes on: the next change arrives as an ordinary event.
    let id = check_in(&app, &w, "OK").await;
    let next = next_message(&mut socket, Duration::from_secs(10))
        .await
        .expect("a live event after the resync");
    assert_eq!(next["type"], "next", "{next}");
    let data = &next["payload"]["data"]["outingEvents"];
    assert_eq!(data["missedEvents"], Value::Null, "{next}");
    assert_eq!(data["outing"]["latestCheckIn"]["id"], id.as_str(), "{next}");
}

#[tokio::test]
async fn alert_and_device_subscribers_that_fell_behind_end_with_events_missed() {
    let app = app().await;
    let w = outing_under_way(&app).await;
    let mut alerts = subscribe_at(
        app.address,
        &w.coordinator,
        "subscription { alerts { id reason } }",
        json!({}),
    )
    .await;
    let live = event_after(&mut alerts, || async {
        check_in(&app, &w, "NEED_HELP").await;
    })
    .await;
    assert_eq!(
        live["payload"]["data"]["alerts"]["reason"], "NEED_HELP",
        "{live}"
    );
    let mut devices = subscribe_at(
        app.address,
        &w.coordinator,
        "subscription($personId: ID!) { deviceEvents(personId: $personId) { kind } }",
        json!({ "personId": w.participant }),
    )
    .await;
    let live = event_after(&mut devices, || async {
        app.pair(&w.coordinator, &w.participant).await;
    })
    .await;
    assert_eq!(
        live["payload"]["data"]["deviceEvents"]["kind"], "PAIRED",
        "{live}"
    );

    flood(&app, w.organisation, &w.outing);
    for (socket, field) in [(&mut alerts, "alerts"), (&mut devices, "deviceEvents")] {
        let told = next_unusual(socket, field).await;
        assert_eq!(told["type"], "next", "{told}");
        let error = &told["payload"]["errors"][0];
        assert_eq!(error["extensions"]["code"], "EVENTS_MISSED", "{told}");
        let missed = error["extensions"]["missedEvents"]
            .as_u64()
            .unwrap_or_else(|| panic!("{told}"));
        assert!(missed >= (FLOOD - BACKLOG) as u64, "{told}");
        let end = next_message(socket, Duration::from_secs(10))
            .await
            .expect("complete");
        assert_eq!(end["type"], "complete", "{end}");
    }
}

#[tokio::test]
async fn events_lost_between_servers_are_told_to_subscribers_as_missed() {
    let app = app().await;
    let w = outing_under_way(&app).await;
    let (mut socket, _) = follow_live(
        &app,
        &w,
        "subscription($id: ID!) { outingEvents(outingId: $id) { outing { id } missedEvents } }",
    )
    .await;
    // What the relay publishes when it fell behind or lost its connection to the database.
    app.events
        .publish_from_elsewhere(DomainEvent::EventsLost { count: 3 });
    let resync = next_unusual(&mut socket, "outingEvents").await;
    assert_eq!(
        resync["payload"]["data"]["outingEvents"]["missedEvents"], 3,
        "{resync}"
    );
}
