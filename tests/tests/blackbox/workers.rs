//! The background workers seen from outside: `/healthz/workers` lists each with its last tick,
//! `/metrics` shows the watchdog's lag, open alerts per tier and the outbox's backlog, and
//! `/readyz` ignores all of it (a server whose watchdog lags still takes an SOS).

use chrono::Duration;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::notify::{self, Message, Recipient};
use tomoni_schema::store::entities::outings;
use tomoni_tests::{TestApp, spawn_app, spawn_app_with};
use uuid::Uuid;

/// Workers off: the test decides what is due and nothing takes it away.
async fn quiet_app() -> TestApp {
    spawn_app_with(|settings| {
        settings.push.dispatcher = false;
        settings.safety.watchdog = false;
    })
    .await
}

async fn metrics(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The value of one series (`name` with its labels, exactly as written), if present.
fn series(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

fn value(body: &str, name: &str) -> f64 {
    series(body, name).unwrap_or_else(|| panic!("no series {name} in:\n{body}"))
}

fn alerts_open(body: &str, tier: &str) -> f64 {
    value(body, &format!("tomoni_alerts_open{{tier=\"{tier}\"}}"))
}

async fn workers(app: &TestApp) -> Vec<Value> {
    let response = app
        .http
        .get(app.url("/healthz/workers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["workers"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_lagging_watchdog_shows_in_the_metrics_and_the_server_still_takes_an_sos() {
    let app = quiet_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, participant_token) = app.pair_both(&coordinator, &lead, &participant).await;

    let before = metrics(&app).await;
    assert_eq!(value(&before, "tomoni_watchdog_lag_seconds"), 0.0);
    for tier in ["on_duty", "everyone", "exhausted"] {
        assert_eq!(alerts_open(&before, tier), 0.0, "{tier}");
    }
    assert_eq!(value(&before, "tomoni_watchdog_failed_rows_total"), 0.0);
    // This process runs no watchdog: no tick to report, rather than a stale one.
    assert_eq!(
        series(&before, "tomoni_watchdog_last_tick_age_seconds"),
        None
    );

    let planned = app
        .plan_outing(&coordinator, &participant, &lead, 1, 120)
        .await;
    let id = planned.data()["planOuting"]["outing"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(Duration::minutes(1));
    app.start_planned(&lead_token, &id).await;
    let outing = outings::Entity::find_by_id(Uuid::parse_str(&id).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let watch_at = outing.watch_at.expect("an outing under way is watched");
    // Not yet due: no lag.
    app.clock.set(watch_at - Duration::seconds(1));
    assert_eq!(
        value(&metrics(&app).await, "tomoni_watchdog_lag_seconds"),
        0.0
    );
    // Seven minutes past the look the watchdog never took.
    app.clock.set(watch_at + Duration::minutes(7));
    let lagging = metrics(&app).await;
    assert_eq!(value(&lagging, "tomoni_watchdog_lag_seconds"), 420.0);

    // Readiness is about serving requests, not about the watchdog.
    let readyz = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), 200);
    assert_eq!(readyz.text().await.unwrap(), "ready");
    let sos = app
        .graphql(
            Some(&participant_token),
            "mutation($input: CheckInInput!) { checkIn(input: $input) { alert { tier status } } }",
            json!({ "input": { "outingId": id, "kind": "SOS" } }),
        )
        .await;
    assert_eq!(sos.data()["checkIn"]["alert"]["tier"], "EVERYONE");

    let after = metrics(&app).await;
    assert_eq!(alerts_open(&after, "everyone"), 1.0);
    assert_eq!(alerts_open(&after, "on_duty"), 0.0);
    assert_eq!(alerts_open(&after, "exhausted"), 0.0);
    // The workers' report lists only what runs here: the program's sweep, no watchdog.
    let names: Vec<String> = workers(&app)
        .await
        .iter()
        .map(|worker| worker["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!names.iter().any(|name| name == "watchdog"), "{names:?}");
}

#[tokio::test]
async fn the_outbox_backlog_counts_pending_notifications_that_are_due() {
    let app = quiet_app().await;
    let (organisation_id, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let person_id = Uuid::parse_str(&app.viewer_id(&coordinator).await).unwrap();
    let empty = metrics(&app).await;
    assert_eq!(value(&empty, "tomoni_outbox_due"), 0.0);
    assert_eq!(value(&empty, "tomoni_outbox_oldest_due_age_seconds"), 0.0);

    let now = app.clock.now();
    let recipient = Recipient {
        person_id,
        organisation_id,
    };
    for (key, at) in [
        ("due", now - Duration::minutes(5)),
        ("later", now + Duration::minutes(10)),
    ] {
        notify::remind(&app.db, recipient, Message::ConnectionCheck, at, key, now)
            .await
            .unwrap();
    }
    let one = metrics(&app).await;
    assert_eq!(value(&one, "tomoni_outbox_due"), 1.0);
    assert_eq!(value(&one, "tomoni_outbox_oldest_due_age_seconds"), 300.0);

    app.clock.advance(Duration::minutes(10));
    let two = metrics(&app).await;
    assert_eq!(value(&two, "tomoni_outbox_due"), 2.0);
    assert_eq!(value(&two, "tomoni_outbox_oldest_due_age_seconds"), 900.0);

    // Once fanned out (here: found unreachable, the coordinator has no push subscription) they are
    // no longer waiting.
    app.drain().await;
    let drained = metrics(&app).await;
    assert_eq!(value(&drained, "tomoni_outbox_due"), 0.0);
    assert_eq!(value(&drained, "tomoni_outbox_oldest_due_age_seconds"), 0.0);
}

#[tokio::test]
async fn every_running_worker_reports_its_ticks() {
    let app = spawn_app().await;
    let expected = [
        "program",
        "push-dispatcher-0",
        "push-dispatcher-1",
        "watchdog",
    ];
    // Bounded wait for each worker's first tick (they tick at once when they start).
    let mut listed = Vec::new();
    for _ in 0..200 {
        listed = workers(&app).await;
        let ticked = expected.iter().all(|name| {
            listed
                .iter()
                .any(|worker| worker["name"] == *name && worker["lastTickAt"].is_string())
        });
        if ticked {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for name in expected {
        let worker = listed
            .iter()
            .find(|worker| worker["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {listed:?}"));
        assert_eq!(worker["running"], true, "{worker}");
        assert_eq!(worker["restarts"], 0, "{worker}");
        assert_eq!(worker["lastError"], Value::Null, "{worker}");
        assert!(worker["lastTickAt"].is_string(), "{worker}");
        assert!(worker["lastTickAgeSeconds"].as_f64().unwrap() >= 0.0);
        assert!(worker["lastTickDurationMs"].as_f64().unwrap() >= 0.0);
        assert!(worker["ticks"].as_u64().unwrap() >= 1);
    }
    let body = metrics(&app).await;
    assert!(value(&body, "tomoni_watchdog_last_tick_age_seconds") >= 0.0);
    assert!(value(&body, "tomoni_watchdog_last_tick_duration_seconds") >= 0.0);
    for name in expected {
        assert_eq!(
            value(
                &body,
                &format!("tomoni_worker_restarts_total{{worker=\"{name}\"}}")
            ),
            0.0
        );
    }
    for series in [
        "tomoni_watchdog_lag_seconds",
        "tomoni_outbox_due",
        "tomoni_watchdog_failed_rows_total",
    ] {
        assert!(
            body.contains(&format!("# TYPE {series} ")),
            "{series} has no TYPE line"
        );
    }
}
