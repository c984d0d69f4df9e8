//! The on-duty rota: a weekly pattern puts a coordinator on duty only inside their shifts, time
//! off removes them, an alert goes to whoever is on shift, and at a shift's end the alerts its
//! coordinator acknowledged are handed to the next one on duty, who is told. Bad input changes
//! nothing.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::{audit_log, duty_exceptions, duty_shifts};
use tomoni_tests::TestApp;

use super::outings::{
    Outing, acknowledge, alert_row, app, notifications_of, on_duty, started, world,
};

const SET_PATTERN: &str = "mutation($input: SetDutyPatternInput!) { setDutyPattern(input: $input) { shifts { id personId weekday start end crossesMidnight } } }";
const ADD_EXCEPTION: &str = "mutation($input: AddDutyExceptionInput!) { addDutyException(input: $input) { exception { id personId from to kind note } } }";
const REMOVE_EXCEPTION: &str = "mutation($input: RemoveDutyExceptionInput!) { removeDutyException(input: $input) { removedExceptionId } }";
const ON_DUTY_NOW: &str = "{ onDutyNow { id isOnDuty } }";
const ROTA: &str = "query($from: DateTime!, $to: DateTime!) { dutyRota(from: $from, to: $to) { timeZone periods { personId start end } shifts { personId } exceptions { id kind } } }";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Monday 7 December 2026, 00:00 UTC (09:00 in Tokyo, the organisation's time zone).
fn monday() -> DateTime<Utc> {
    at("2026-12-07T00:00:00Z")
}

async fn set_pattern(
    app: &TestApp,
    w: &Outing,
    person: &str,
    shifts: Value,
) -> tomoni_tests::Answer {
    app.graphql(
        Some(&w.coordinator),
        SET_PATTERN,
        json!({ "input": { "personId": person, "shifts": shifts } }),
    )
    .await
}

async fn on_duty_now(app: &TestApp, w: &Outing) -> Vec<String> {
    let answer = app
        .graphql(Some(&w.coordinator), ON_DUTY_NOW, json!({}))
        .await;
    answer.data()["onDutyNow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|person| {
            assert_eq!(person["isOnDuty"], true);
            person["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn rows(app: &TestApp) -> (u64, u64) {
    (
        duty_shifts::Entity::find().count(&app.db).await.unwrap(),
        duty_exceptions::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn a_pattern_puts_a_coordinator_on_duty_only_inside_their_shift_and_time_off_removes_them() {
    let app = app().await;
    let w = world(&app).await;
    // Mondays 09:00–11:00 Tokyo (00:00–02:00 UTC), and a night shift Sunday 23:00 – Monday 01:00.
    let answer = set_pattern(
        &app,
        &w,
        &w.coordinator_id,
        json!([
            { "weekday": "MONDAY", "start": "09:00", "end": "11:00" },
            { "weekday": "SUNDAY", "start": "23:00", "end": "01:00" },
        ]),
    )
    .await;
    let shifts = answer.data()["setDutyPattern"]["shifts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(shifts.len(), 2);
    assert!(
        shifts
            .iter()
            .any(|s| s["crossesMidnight"] == true && s["weekday"] == "SUNDAY")
    );
    let me = vec![w.coordinator_id.clone()];

    app.clock
        .set(monday() - Duration::hours(1) - Duration::seconds(1));
    assert!(
        on_duty_now(&app, &w).await.is_empty(),
        "before the night shift"
    );
    // Monday 00:30 Tokyo: the night shift that began on Sunday.
    app.clock.set(monday() - Duration::minutes(510));
    assert_eq!(
        on_duty_now(&app, &w).await,
        me,
        "night shift across midnight"
    );
    app.clock.set(monday() - Duration::hours(8));
    assert!(on_duty_now(&app, &w).await.is_empty(), "between the shifts");
    app.clock.set(monday() + Duration::hours(1));
    assert_eq!(on_duty_now(&app, &w).await, me);
    app.clock.set(monday() + Duration::hours(2));
    assert!(
        on_duty_now(&app, &w).await.is_empty(),
        "the shift's end is not in it"
    );
    // A Tuesday at 10:00 Tokyo: no shift.
    app.clock.set(monday() + Duration::hours(25));
    assert!(on_duty_now(&app, &w).await.is_empty());

    // Time off in the middle of the shift wins over the pattern.
    let off = app
        .graphql(
            Some(&w.coordinator),
            ADD_EXCEPTION,
            json!({ "input": {
                "personId": w.coordinator_id,
                "from": "2026-12-07T00:30:00Z",
                "to": "2026-12-07T01:30:00Z",
                "kind": "OFF",
                "note": "通院",
            } }),
        )
        .await;
    let off_id = off.data()["addDutyException"]["exception"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.set(monday() + Duration::hours(1));
    assert!(on_duty_now(&app, &w).await.is_empty(), "off");
    app.clock.set(monday() + Duration::minutes(100));
    assert_eq!(on_duty_now(&app, &w).await, me, "back after the time off");

    // The rota of that Monday: two periods around the time off.
    let rota = app
        .graphql(
            Some(&w.coordinator),
            ROTA,
            json!({ "from": "2026-12-07T00:00:00Z", "to": "2026-12-08T00:00:00Z" }),
        )
        .await;
    let rota = &rota.data()["dutyRota"];
    assert_eq!(rota["timeZone"], "Asia/Tokyo");
    let periods: Vec<(DateTime<Utc>, DateTime<Utc>)> = rota["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["personId"], w.coordinator_id.as_str());
            (
                p["start"].as_str().unwrap().parse().unwrap(),
                p["end"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        periods,
        vec![
            (monday(), monday() + Duration::minutes(30)),
            (
                monday() + Duration::minutes(90),
                monday() + Duration::hours(2)
            ),
        ]
    );
    assert_eq!(rota["exceptions"][0]["kind"], "OFF");

    // Removing the time off puts them back on duty; the audit log has all three changes.
    app.graphql(
        Some(&w.coordinator),
        REMOVE_EXCEPTION,
        json!({ "input": { "exceptionId": off_id } }),
    )
    .await
    .data();
    app.clock.set(monday() + Duration::hours(1));
    assert_eq!(on_duty_now(&app, &w).await, me);
    for action in [
        "duty.pattern_set",
        "duty.exception_added",
        "duty.exception_removed",
    ] {
        let logged = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(logged, 1, "{action}");
    }

    // An extra shift on the Tuesday, and `setOnDuty` still puts someone on call outside the rota.
    app.graphql(
        Some(&w.coordinator),
        ADD_EXCEPTION,
        json!({ "input": {
            "personId": w.other_coordinator_id,
            "from": "2026-12-08T00:00:00Z",
            "to": "2026-12-08T03:00:00Z",
            "kind": "EXTRA",
        } }),
    )
    .await
    .data();
    app.clock.set(monday() + Duration::hours(25));
    assert_eq!(
        on_duty_now(&app, &w).await,
        vec![w.other_coordinator_id.clone()]
    );
    on_duty(&app, &w).await;
    let mut both = vec![w.coordinator_id.clone(), w.other_coordinator_id.clone()];
    both.sort();
    assert_eq!(on_duty_now(&app, &w).await, both);
}

/// The first coordinator on shift from 09:00 to 11:00 Tokyo (02:00 UTC) on Mondays.
async fn morning_shift(app: &TestApp, w: &Outing) {
    set_pattern(
        app,
        w,
        &w.coordinator_id,
        json!([{ "weekday": "MONDAY", "start": "09:00", "end": "11:00" }]),
    )
    .await
    .data();
}

/// An outing starts at 01:11 UTC; its first check-in (due 01:41, grace 10) is missed and the
/// watchdog has run. Returns the outing's id.
async fn missed_on_monday(app: &TestApp, w: &Outing) -> String {
    app.clock.set(monday() + Duration::minutes(70));
    let outing = started(app, w).await;
    app.clock.set(monday() + Duration::minutes(111));
    app.watchdog().await;
    outing
}

/// Who owns the outing's first alert.
async fn owner_of(app: &TestApp, outing: &str) -> String {
    alert_row(app, outing).await[0]
        .owner_id
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_alert_goes_to_the_coordinator_on_shift_and_is_handed_over_at_the_shift_end() {
    let app = app().await;
    let w = world(&app).await;
    // The first coordinator until 11:00 Tokyo (02:00 UTC), the second from then until 18:00.
    morning_shift(&app, &w).await;
    set_pattern(
        &app,
        &w,
        &w.other_coordinator_id,
        json!([{ "weekday": "MONDAY", "start": "11:00", "end": "18:00" }]),
    )
    .await
    .data();
    let outing = missed_on_monday(&app, &w).await;
    let alerts = alert_row(&app, &outing).await;
    assert_eq!(alerts.len(), 1);
    let alert = alerts[0].id.to_string();
    let pushes = async |person: &str| notifications_of(&app, "safety_alert", person).await.len();
    assert_eq!(pushes(&w.coordinator_id).await, 1, "on shift");
    assert_eq!(pushes(&w.other_coordinator_id).await, 0, "not on shift yet");

    let acknowledged = acknowledge(&app, &w.coordinator, &alert).await;
    assert_eq!(
        acknowledged.data()["acknowledgeAlerts"]["alerts"][0]["ownerId"],
        w.coordinator_id.as_str()
    );
    // Still their shift: nothing moves.
    app.clock.set(monday() + Duration::minutes(119));
    app.watchdog().await;
    assert_eq!(owner_of(&app, &outing).await, w.coordinator_id);

    // 11:00 Tokyo: the shift ends; the alert goes to the coordinator now on duty, who is told.
    // Two watchdogs at once hand it over once.
    app.clock.set(monday() + Duration::hours(2));
    let now = app.clock.now();
    let (first, second) = tokio::join!(
        tomoni_schema::rota_handover::hand_over(&app.db, now, 100),
        tomoni_schema::rota_handover::hand_over(&app.db, now, 100),
    );
    assert_eq!(first.unwrap() + second.unwrap(), 1, "handed over once");
    app.watchdog().await;
    let row = &alert_row(&app, &outing).await[0];
    assert_eq!(row.owner_id.unwrap().to_string(), w.other_coordinator_id);
    assert_eq!(row.status, "acknowledged");
    assert!(row.acknowledged_at.is_some(), "acknowledged_at stays");
    assert_eq!(
        pushes(&w.other_coordinator_id).await,
        1,
        "the new owner is told"
    );
    let told = notifications_of(&app, "safety_alert", &w.other_coordinator_id).await;
    assert!(
        told[0].idempotency_key.starts_with("handover:"),
        "{}",
        told[0].idempotency_key
    );
    assert_eq!(
        pushes(&w.coordinator_id).await,
        1,
        "the leaving one is not paged again"
    );
    let handed = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("alert.handed_over"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(handed.len(), 1);
    let detail = handed[0].detail.clone().unwrap();
    assert_eq!(detail["fromId"], w.coordinator_id.as_str());
    assert_eq!(detail["toId"], w.other_coordinator_id.as_str());

    // Idempotent: more ticks change nothing.
    app.watchdog().await;
    app.clock
        .set(monday() + Duration::hours(2) + Duration::seconds(1));
    app.watchdog().await;
    assert_eq!(pushes(&w.other_coordinator_id).await, 1);
    let handed = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("alert.handed_over"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(handed, 1);
}

#[tokio::test]
async fn an_alert_stays_with_its_owner_when_nobody_else_is_on_duty() {
    let app = app().await;
    let w = world(&app).await;
    morning_shift(&app, &w).await;
    let outing = missed_on_monday(&app, &w).await;
    let alert = alert_row(&app, &outing).await[0].id.to_string();
    acknowledge(&app, &w.coordinator, &alert).await.data();
    app.clock.set(monday() + Duration::hours(2));
    app.watchdog().await;
    assert_eq!(owner_of(&app, &outing).await, w.coordinator_id);
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len(),
        0
    );
}

#[tokio::test]
async fn bad_rota_input_is_refused_and_writes_nothing() {
    let app = app().await;
    let w = world(&app).await;
    let bad_patterns = [
        json!([{ "weekday": "MONDAY", "start": "09:00", "end": "09:00" }]),
        json!([{ "weekday": "MONDAY", "start": "25:00", "end": "09:00" }]),
        json!([{ "weekday": "MONDAY", "start": "9:00", "end": "10:00" }]),
        json!([{ "weekday": "MONDAY", "start": "09:00", "end": "10:60" }]),
        Value::Array(vec![
            json!({ "weekday": "MONDAY", "start": "09:00", "end": "10:00" });
            22
        ]),
    ];
    for shifts in bad_patterns {
        set_pattern(&app, &w, &w.coordinator_id, shifts.clone())
            .await
            .expect_error("BAD_USER_INPUT");
    }
    // Not a coordinator; not a person of the organisation; a supporter asking.
    set_pattern(&app, &w, &w.lead, json!([]))
        .await
        .expect_error("BAD_USER_INPUT");
    set_pattern(&app, &w, &uuid::Uuid::now_v7().to_string(), json!([]))
        .await
        .expect_error("NOT_FOUND");
    app.graphql(
        Some(&w.lead_token),
        SET_PATTERN,
        json!({ "input": { "personId": w.coordinator_id, "shifts": [] } }),
    )
    .await
    .expect_error("FORBIDDEN");
    let exception = |from: &str, to: &str, person: &str| json!({ "input": { "personId": person, "from": from, "to": to, "kind": "OFF" } });
    for input in [
        exception(
            "2026-12-07T01:00:00Z",
            "2026-12-07T01:00:00Z",
            &w.coordinator_id,
        ),
        exception(
            "2026-12-07T01:00:00Z",
            "2026-12-07T00:00:00Z",
            &w.coordinator_id,
        ),
        exception(
            "2026-12-07T01:00:00Z",
            "2027-03-07T00:00:00Z",
            &w.coordinator_id,
        ),
        exception(
            "2026-12-07T00:00:00Z",
            "2026-12-07T01:00:00Z",
            &w.participant,
        ),
    ] {
        app.graphql(Some(&w.coordinator), ADD_EXCEPTION, input)
            .await
            .expect_error("BAD_USER_INPUT");
    }
    let mut long_note = exception(
        "2026-12-07T00:00:00Z",
        "2026-12-07T01:00:00Z",
        &w.coordinator_id,
    );
    long_note["input"]["note"] = json!("x".repeat(201));
    app.graphql(Some(&w.coordinator), ADD_EXCEPTION, long_note)
        .await
        .expect_error("BAD_USER_INPUT");
    app.graphql(
        Some(&w.coordinator),
        REMOVE_EXCEPTION,
        json!({ "input": { "exceptionId": uuid::Uuid::now_v7().to_string() } }),
    )
    .await
    .expect_error("NOT_FOUND");
    // A window longer than 31 days, or backwards.
    for (from, to) in [
        ("2026-12-01T00:00:00Z", "2027-01-02T00:00:00Z"),
        ("2026-12-02T00:00:00Z", "2026-12-01T00:00:00Z"),
    ] {
        app.graphql(
            Some(&w.coordinator),
            ROTA,
            json!({ "from": from, "to": to }),
        )
        .await
        .expect_error("BAD_USER_INPUT");
    }
    app.graphql(Some(&w.lead_token), ON_DUTY_NOW, json!({}))
        .await
        .expect_error("FORBIDDEN");
    assert_eq!(rows(&app).await, (0, 0), "nothing written");
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.starts_with("duty."))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 0);
}
