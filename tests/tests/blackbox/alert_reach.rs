//! An alert reaches a human: per recipient it shows sent, delivered, shown and acknowledged (the
//! app confirms what it showed); an alert that can reach nobody says so, comes first and is
//! counted in `/metrics`; an SOS nobody acknowledges in time tells the people on the outing to
//! call the emergency numbers.

use chrono::Duration;
use serde_json::json;
use tomoni_schema::domain::clock::Clock as _;
use tomoni_tests::TestApp;
use tomoni_tests::push_receiver::PushReceiver;

use super::outings::{Outing, alert_row, app, notifications_of, started, world};

const CHECK_IN: &str = "mutation($input: CheckInInput!) { checkIn(input: $input) { alert { id reason tier status nobodyReachable } } }";
const RECIPIENTS: &str = "query($id: ID!) { outing(id: $id) { alerts { nodes { id recipients { personId state deliveredAt shownAt } } } } }";
const CONFIRM: &str = "mutation($input: ConfirmNotificationShownInput!) { confirmNotificationShown(input: $input) { recorded } }";

async fn raise(app: &TestApp, w: &Outing, outing: &str, kind: &str) -> serde_json::Value {
    app.graphql(
        Some(&w.participant_token),
        CHECK_IN,
        json!({ "input": { "outingId": outing, "kind": kind } }),
    )
    .await
    .data()["checkIn"]["alert"]
        .clone()
}

async fn states(app: &TestApp, w: &Outing, outing: &str) -> Vec<(String, String)> {
    let answer = app
        .graphql(Some(&w.coordinator), RECIPIENTS, json!({ "id": outing }))
        .await;
    let mut states: Vec<(String, String)> =
        answer.data()["outing"]["alerts"]["nodes"][0]["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row["personId"].as_str().unwrap().to_owned(),
                    row["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    states.sort();
    states
}

#[tokio::test]
async fn each_recipient_shows_sent_delivered_shown_and_acknowledged() {
    let app = app().await;
    let w = world(&app).await;
    let receiver = PushReceiver::start().await;
    receiver.follow_clock(&app.clock);
    app.register_push(&w.other_coordinator, &receiver).await;
    let id = started(&app, &w).await;
    let alert = raise(&app, &w, &id, "NEED_HELP").await;
    let alert_id = alert["id"].as_str().unwrap().to_owned();
    let mut expected = vec![
        (w.coordinator_id.clone(), "SENT".to_owned()),
        (w.other_coordinator_id.clone(), "SENT".to_owned()),
    ];
    expected.sort();
    assert_eq!(states(&app, &w, &id).await, expected);
    // The push service takes it for the second coordinator's phone: delivered.
    app.drain().await;
    let delivered = states(&app, &w, &id).await;
    assert!(
        delivered.contains(&(w.other_coordinator_id.clone(), "DELIVERED".to_owned())),
        "{delivered:?}"
    );
    assert!(
        delivered.contains(&(w.coordinator_id.clone(), "SENT".to_owned())),
        "{delivered:?}"
    );
    // Their app shows it and says so with the payload's notification id.
    let received = receiver.received();
    let shown = received
        .iter()
        .find(|push| push.payload["kind"] == "safety_alert")
        .expect("the alert reached the phone");
    let notification = shown.payload["notificationId"].as_str().unwrap().to_owned();
    // Nobody else can confirm it for them.
    app.graphql(
        Some(&w.participant_token),
        CONFIRM,
        json!({ "input": { "notificationId": notification } }),
    )
    .await
    .expect_error("NOT_FOUND");
    for _ in 0..2 {
        let confirmed = app
            .graphql(
                Some(&w.other_coordinator),
                CONFIRM,
                json!({ "input": { "notificationId": notification } }),
            )
            .await;
        assert_eq!(
            confirmed.data()["confirmNotificationShown"]["recorded"],
            true
        );
    }
    assert!(
        states(&app, &w, &id)
            .await
            .contains(&(w.other_coordinator_id.clone(), "SHOWN".to_owned()))
    );
    app.graphql(
        Some(&w.other_coordinator),
        "mutation($input: AcknowledgeAlertsInput!) { acknowledgeAlerts(input: $input) { alerts { id } } }",
        json!({ "input": { "alertIds": [alert_id] } }),
    )
    .await
    .data();
    assert!(
        states(&app, &w, &id)
            .await
            .contains(&(w.other_coordinator_id.clone(), "ACKNOWLEDGED".to_owned()))
    );
    // Members see the alert, not who was paged.
    let seen = app
        .graphql(Some(&w.participant_token), RECIPIENTS, json!({ "id": id }))
        .await;
    assert_eq!(
        seen.data()["outing"]["alerts"]["nodes"][0]["recipients"],
        json!([])
    );
}

async fn metric(app: &TestApp, name: &str) -> String {
    let text = app.metrics().await;
    text.lines()
        .find(|line| line.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .to_owned()
}

#[tokio::test]
async fn an_alert_that_can_reach_nobody_says_so_comes_first_and_is_counted() {
    let app = app().await;
    let w = world(&app).await;
    // No coordinator has a phone that receives pushes.
    let first = started(&app, &w).await;
    let unreachable = raise(&app, &w, &first, "NEED_HELP").await;
    assert_eq!(unreachable["nobodyReachable"], true);
    assert_eq!(
        metric(&app, "tomoni_alerts_nobody_reachable").await,
        "tomoni_alerts_nobody_reachable 1"
    );
    // A coordinator's phone is registered: the next alert can reach someone.
    let receiver = PushReceiver::start().await;
    app.register_push(&w.other_coordinator, &receiver).await;
    let second = started(&app, &w).await;
    let reachable = raise(&app, &w, &second, "SEPARATED").await;
    assert_eq!(reachable["nobodyReachable"], false);
    // The one that reaches nobody is listed first, the others follow in id order, and the cursor
    // carries on from the first group into the second.
    let listed = app
        .graphql(
            Some(&w.coordinator),
            "{ alerts(first: 1) { nodes { id nobodyReachable } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    let page = &listed.data()["alerts"];
    assert_eq!(page["nodes"][0]["id"], unreachable["id"]);
    let cursor = page["pageInfo"]["endCursor"].as_str().unwrap();
    let next = app
        .graphql(
            Some(&w.coordinator),
            "query($after: String) { alerts(first: 5, after: $after) { nodes { id } pageInfo { hasNextPage } } }",
            json!({ "after": cursor }),
        )
        .await;
    assert_eq!(
        next.data()["alerts"]["nodes"],
        json!([{ "id": reachable["id"] }])
    );
    // When it climbs and can now reach someone, it says so.
    app.clock.advance(Duration::minutes(10));
    app.watchdog().await;
    let rows = alert_row(&app, &first).await;
    assert!(rows[0].unreachable_since.is_none(), "{rows:?}");
    assert_eq!(
        metric(&app, "tomoni_alerts_nobody_reachable").await,
        "tomoni_alerts_nobody_reachable 0"
    );
}

#[tokio::test]
async fn an_sos_nobody_acknowledges_tells_the_outing_to_call_the_emergency_numbers() {
    let app = app().await;
    let w = world(&app).await;
    let numbers = app
        .graphql(
            None,
            "{ emergencyNumbers { number labelJa labelEn } }",
            json!({}),
        )
        .await;
    let numbers: Vec<&str> = numbers.data()["emergencyNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, vec!["119", "110"]);

    let id = started(&app, &w).await;
    raise(&app, &w, &id, "SOS").await;
    let sent = app.clock.now();
    app.clock
        .set(sent + Duration::minutes(3) - Duration::seconds(1));
    assert_eq!(app.watchdog().await.emergency_advice, 0);
    app.clock.set(sent + Duration::minutes(3));
    assert_eq!(app.watchdog().await.emergency_advice, 1);
    for person in [&w.participant, &w.lead] {
        let told = notifications_of(&app, "sos_unanswered", person).await;
        assert_eq!(told.len(), 1, "{person}");
        assert!(told[0].is_safety);
        let text = told[0].message.to_string();
        assert!(
            !text.contains("Haruka") && !text.contains("西長堀"),
            "{text}"
        );
    }
    let seen = app
        .graphql(
            Some(&w.participant_token),
            "query($id: ID!) { outing(id: $id) { alerts { nodes { emergencyAdvisedAt } } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(seen.data()["outing"]["alerts"]["nodes"][0]["emergencyAdvisedAt"].is_string());
    // Once only.
    app.clock.advance(Duration::minutes(5));
    assert_eq!(app.watchdog().await.emergency_advice, 0);
    assert_eq!(
        notifications_of(&app, "sos_unanswered", &w.participant)
            .await
            .len(),
        1
    );

    // An SOS a coordinator acknowledges in time sends nobody to the emergency numbers.
    let other = started(&app, &w).await;
    let alert = raise(&app, &w, &other, "SOS").await;
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: AcknowledgeAlertsInput!) { acknowledgeAlerts(input: $input) { alerts { id } } }",
        json!({ "input": { "alertIds": [alert["id"]] } }),
    )
    .await
    .data();
    app.clock.advance(Duration::minutes(4));
    assert_eq!(app.watchdog().await.emergency_advice, 0);
    assert_eq!(
        notifications_of(&app, "sos_unanswered", &w.participant)
            .await
            .len(),
        1
    );
}
