//! The safety net never goes quiet: a resolved alert re-arms the ladder of an outing still under
//! way, an acknowledged alert left unresolved reminds its owner and then goes back to the
//! coordinators on duty, a late "OK" stops a missed-check-in alert's paging (and only that kind),
//! phone clocks that drift both ways, an SOS that is never refused while it can matter, and a
//! watchdog that skips a bad row instead of failing every tick.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::{alerts, audit_log, check_ins, outings};
use tomoni_tests::TestApp;
use uuid::Uuid;

use super::outings::{
    Outing, acknowledge, alert_row, app, id_of, notifications_of, on_duty, started, world,
};

const CHECK_IN: &str = "mutation($input: CheckInInput!) { checkIn(input: $input) { checkIn { madeAt } outing { status checkInDueAt } alert { id reason tier status } } }";
const RESOLVE: &str =
    "mutation($input: ResolveAlertInput!) { resolveAlert(input: $input) { alert { status } } }";
const ALERT: &str = "query($id: ID!) { outing(id: $id) { status checkInDueAt alerts { nodes { id reason tier status ownerId answeredLateAt escalatesAt } } } }";

async fn check_in(
    app: &TestApp,
    token: &str,
    outing: &str,
    kind: &str,
    made_at: Option<DateTime<Utc>>,
) -> tomoni_tests::Answer {
    let mut input = json!({ "outingId": outing, "kind": kind });
    if let Some(made_at) = made_at {
        input["madeAt"] = json!(made_at.to_rfc3339());
    }
    app.graphql(Some(token), CHECK_IN, json!({ "input": input }))
        .await
}

async fn outing_state(app: &TestApp, w: &Outing, id: &str) -> Value {
    app.graphql(Some(&w.coordinator), ALERT, json!({ "id": id }))
        .await
        .data()["outing"]
        .clone()
}

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// The same instant, to the microsecond PostgreSQL keeps.
#[track_caller]
fn assert_same_time(value: &Value, expected: DateTime<Utc>) {
    let got = at(value);
    assert!(
        (got - expected).num_microseconds().unwrap().abs() < 1,
        "{got} is not {expected}"
    );
}

/// Starts an outing and lets its first check-in be missed: a missed-check-in alert is open
/// (interval 30, grace 10). Returns the outing's id, its start and the alert's id.
async fn missed(app: &TestApp, w: &Outing) -> (String, DateTime<Utc>, String) {
    let id = started(app, w).await;
    let start = app.clock.now();
    app.clock.set(start + Duration::minutes(40));
    assert_eq!(app.watchdog().await.alerts_raised, 1);
    let alert = alert_row(app, &id).await[0].id.to_string();
    (id, start, alert)
}

#[tokio::test]
async fn resolving_an_alert_of_an_outing_under_way_rearms_the_ladder() {
    let app = app().await;
    let w = world(&app).await;
    let (id, start, alert) = missed(&app, &w).await;
    acknowledge(&app, &w.coordinator, &alert).await.data();
    app.clock.set(start + Duration::minutes(45));
    app.graphql(
        Some(&w.coordinator),
        RESOLVE,
        json!({ "input": { "alertId": alert, "resolution": "REACHED_BY_PHONE", "note": "電話で確認" } }),
    )
    .await
    .data();
    // Back in progress, and the next check-in is due an interval after the resolution.
    let state = outing_state(&app, &w, &id).await;
    assert_eq!(state["status"], "IN_PROGRESS");
    assert_same_time(&state["checkInDueAt"], start + Duration::minutes(75));
    // The ladder runs again: prompted at the new deadline, alerted at its grace.
    app.clock.set(start + Duration::minutes(74));
    assert!(!app.watchdog().await.did_work());
    app.clock.set(start + Duration::minutes(75));
    assert_eq!(app.watchdog().await.prompts, 1);
    app.clock.set(start + Duration::minutes(85));
    assert_eq!(app.watchdog().await.alerts_raised, 1);
    assert_eq!(outing_state(&app, &w, &id).await["status"], "ESCALATED");

    // Resolving it while another alert of the outing still pages keeps the outing escalated.
    app.clock.set(start + Duration::minutes(131));
    assert_eq!(app.watchdog().await.alerts_raised, 1, "overdue");
    let [_, second, overdue] = &alert_row(&app, &id).await[..] else {
        panic!("three alerts");
    };
    assert_eq!(overdue.reason, "overdue");
    for alert in [second, overdue] {
        acknowledge(&app, &w.coordinator, &alert.id.to_string())
            .await
            .data();
    }
    let resolve = |alert: String| {
        app.graphql(
            Some(&w.coordinator),
            RESOLVE,
            json!({ "input": { "alertId": alert, "resolution": "FALSE_ALARM", "note": "確認済み" } }),
        )
    };
    resolve(second.id.to_string()).await.data();
    assert_eq!(outing_state(&app, &w, &id).await["status"], "ESCALATED");
    resolve(overdue.id.to_string()).await.data();
    assert_eq!(outing_state(&app, &w, &id).await["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn an_acknowledged_alert_left_unresolved_reminds_its_owner_then_goes_back_on_duty() {
    let app = app().await;
    let w = world(&app).await;
    on_duty(&app, &w).await;
    let (id, start, alert) = missed(&app, &w).await;
    // The other coordinator takes it, then loses contact.
    acknowledge(&app, &w.other_coordinator, &alert).await.data();
    let owner_pushes = || async {
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len()
    };
    let on_duty_pushes = || async {
        notifications_of(&app, "safety_alert", &w.coordinator_id)
            .await
            .len()
    };
    assert_eq!((owner_pushes().await, on_duty_pushes().await), (0, 1));
    let acknowledged = start + Duration::minutes(40);
    app.clock.set(acknowledged + Duration::minutes(14));
    assert_eq!(app.watchdog().await.owner_reminders, 0);
    // After 15 minutes: the owner is reminded.
    app.clock.set(acknowledged + Duration::minutes(15));
    let tick = app.watchdog().await;
    assert_eq!((tick.owner_reminders, tick.returned_to_duty), (1, 0));
    assert_eq!(owner_pushes().await, 1);
    let state = outing_state(&app, &w, &id).await;
    assert_eq!(state["alerts"]["nodes"][0]["status"], "ACKNOWLEDGED");
    // Another 15: it goes back to the coordinators on duty, open, without an owner.
    app.clock.set(acknowledged + Duration::minutes(30));
    let tick = app.watchdog().await;
    assert_eq!(tick.returned_to_duty, 1);
    let state = outing_state(&app, &w, &id).await;
    let node = &state["alerts"]["nodes"][0];
    assert_eq!(
        (node["status"].as_str(), node["tier"].as_str()),
        (Some("OPEN"), Some("ON_DUTY"))
    );
    assert!(node["ownerId"].is_null());
    assert_eq!(on_duty_pushes().await, 2);
    // And it climbs again from there until someone else takes it.
    app.clock.set(acknowledged + Duration::minutes(40));
    assert_eq!(app.watchdog().await.escalations, 1);
    assert_eq!(alert_row(&app, &id).await[0].tier, "everyone");
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.is_in(["alert.owner_reminded", "alert.returned_to_duty"]))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
}

#[tokio::test]
async fn a_late_ok_stops_a_missed_check_in_alert_but_never_a_call_for_help() {
    let app = app().await;
    let w = world(&app).await;
    let (id, start, alert) = missed(&app, &w).await;
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len(),
        1
    );
    app.clock.set(start + Duration::minutes(43));
    let ok = check_in(&app, &w.participant_token, &id, "OK", None).await;
    assert_eq!(ok.data()["checkIn"]["outing"]["status"], "IN_PROGRESS");
    let state = outing_state(&app, &w, &id).await;
    let node = &state["alerts"]["nodes"][0];
    assert_eq!(node["id"], alert.as_str());
    assert_eq!(
        node["status"], "OPEN",
        "it stays for a coordinator to close"
    );
    assert!(node["answeredLateAt"].is_string());
    assert!(node["escalatesAt"].is_null());
    // Everyone it reached is told, once; nobody is paged again.
    for coordinator in [&w.coordinator_id, &w.other_coordinator_id] {
        let answered = notifications_of(&app, "alert_answered", coordinator).await;
        assert_eq!(answered.len(), 1);
        let text = answered[0].message.to_string();
        assert!(
            !text.contains("Haruka") && !text.contains("西長堀"),
            "{text}"
        );
    }
    app.clock.set(start + Duration::minutes(60));
    let tick = app.watchdog().await;
    assert_eq!(tick.escalations, 0);
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len(),
        1
    );
    // A second OK does not tell them again.
    check_in(&app, &w.lead_token, &id, "OK", None).await.data();
    assert_eq!(
        notifications_of(&app, "alert_answered", &w.coordinator_id)
            .await
            .len(),
        1
    );

    // A call for help is never stopped by an OK: it keeps climbing.
    let help = check_in(&app, &w.lead_token, &id, "NEED_HELP", None).await;
    assert_eq!(help.data()["checkIn"]["alert"]["reason"], "NEED_HELP");
    assert_eq!(
        help.data()["checkIn"]["alert"]["id"],
        alert.as_str(),
        "it joined the open alert"
    );
    let joined_at = app.clock.now();
    app.clock.advance(Duration::minutes(1));
    let ok = check_in(&app, &w.participant_token, &id, "OK", None).await;
    assert_eq!(ok.data()["checkIn"]["outing"]["status"], "ESCALATED");
    let state = outing_state(&app, &w, &id).await;
    assert!(state["alerts"]["nodes"][0]["answeredLateAt"].is_null());
    app.clock.set(joined_at + Duration::minutes(10));
    assert_eq!(
        app.watchdog().await.escalations,
        1,
        "need help still climbs"
    );
}

#[tokio::test]
async fn phone_clocks_may_drift_a_little_both_ways() {
    let app = app().await;
    let w = world(&app).await;
    let id = started(&app, &w).await;
    let start = app.clock.now();
    // Started by the server at `start`; a phone 90 s behind stamps its first check-in before it.
    let early = check_in(
        &app,
        &w.lead_token,
        &id,
        "OK",
        Some(start - Duration::seconds(90)),
    )
    .await;
    assert_same_time(&early.data()["checkIn"]["checkIn"]["madeAt"], start);
    app.clock.advance(Duration::minutes(10));
    let now = app.clock.now();
    // A phone 90 s ahead: taken as now.
    let ahead = check_in(
        &app,
        &w.participant_token,
        &id,
        "OK",
        Some(now + Duration::seconds(90)),
    )
    .await;
    assert_same_time(&ahead.data()["checkIn"]["checkIn"]["madeAt"], now);
    assert_same_time(
        &ahead.data()["checkIn"]["outing"]["checkInDueAt"],
        now + Duration::minutes(30),
    );
    // Further off is refused and writes nothing.
    let before = app.count(check_ins::Entity).await;
    for when in [now + Duration::minutes(3), start - Duration::minutes(3)] {
        check_in(&app, &w.lead_token, &id, "OK", Some(when))
            .await
            .expect_error("BAD_USER_INPUT");
        check_in(&app, &w.lead_token, &id, "NEED_HELP", Some(when))
            .await
            .expect_error("BAD_USER_INPUT");
    }
    assert_eq!(app.count(check_ins::Entity).await, before);
    // An SOS is never refused for its time: taken as now.
    let sos = check_in(
        &app,
        &w.participant_token,
        &id,
        "SOS",
        Some(now + Duration::days(1)),
    )
    .await;
    assert_same_time(&sos.data()["checkIn"]["checkIn"]["madeAt"], now);
    assert_eq!(sos.data()["checkIn"]["alert"]["tier"], "EVERYONE");
}

/// Plans an outing of the world's pair starting `in_minutes` from now, for an hour.
async fn planned(app: &TestApp, w: &Outing, in_minutes: i64) -> String {
    let answer = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, in_minutes, 60)
        .await;
    id_of(&answer, "planOuting")
}

#[tokio::test]
async fn an_sos_counts_on_the_day_of_the_outing_and_for_an_hour_after_it() {
    let app = app().await;
    // 10:00 in Tokyo, so that "later today" stays today.
    let tomorrow = (Utc::now() + Duration::days(1)).date_naive();
    app.clock
        .set(tomorrow.and_hms_opt(1, 0, 0).unwrap().and_utc());
    let w = world(&app).await;
    // Planned for this afternoon, not started: the SOS raises a top-tier alert.
    let today = planned(&app, &w, 240).await;
    let sos = check_in(&app, &w.participant_token, &today, "SOS", None).await;
    let alert = &sos.data()["checkIn"]["alert"];
    assert_eq!(
        (alert["reason"].as_str(), alert["tier"].as_str()),
        (Some("SOS"), Some("EVERYONE"))
    );
    assert_eq!(sos.data()["checkIn"]["outing"]["status"], "PLANNED");
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len(),
        1
    );
    // Other check-ins still need the outing under way.
    let ok = check_in(&app, &w.participant_token, &today, "OK", None).await;
    ok.expect_error("CONFLICT");
    // Planned for tomorrow: refused, nothing raised.
    let later = planned(&app, &w, 24 * 60).await;
    check_in(&app, &w.participant_token, &later, "SOS", None)
        .await
        .expect_error("CONFLICT");
    assert!(alert_row(&app, &later).await.is_empty());

    // Completed a moment ago: still counts, for an hour.
    let id = started(&app, &w).await;
    app.outing_step(
        &w.lead_token,
        "completeOuting",
        json!({ "outingId": id, "anxietyBefore": 3, "anxietyAfter": 2, "confidenceBefore": 2, "confidenceAfter": 3, "supporterNote": "" }),
    )
    .await
    .data();
    app.clock.advance(Duration::minutes(59));
    let after = check_in(&app, &w.lead_token, &id, "SOS", None).await;
    assert_eq!(after.data()["checkIn"]["alert"]["tier"], "EVERYONE");
    assert_eq!(after.data()["checkIn"]["outing"]["status"], "COMPLETED");
    app.clock.advance(Duration::minutes(2));
    let too_late = check_in(&app, &w.lead_token, &id, "SOS", None).await;
    too_late.expect_error("CONFLICT");
    // Nobody outside the outing sends one.
    let stranger = app
        .create_person(&w.coordinator, "PARTICIPANT", "Someone else")
        .await;
    let (stranger_token, _) = app.pair(&w.coordinator, &stranger).await;
    check_in(&app, &stranger_token, &today, "SOS", None)
        .await
        .expect_error("NOT_FOUND");
}

#[tokio::test]
async fn a_bad_row_is_skipped_and_counted_and_the_others_are_watched() {
    let app = app().await;
    let w = world(&app).await;
    let (broken, start, alert) = missed(&app, &w).await;
    let healthy = started(&app, &w).await;
    let healthy_start = app.clock.now();
    // Someone wrote a tier this version does not know, and an outing status likewise.
    let row = alerts::Entity::find_by_id(Uuid::parse_str(&alert).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: alerts::ActiveModel = row.into();
    row.tier = Set("galactic".to_owned());
    row.update(&app.db).await.unwrap();
    let outing = outings::Entity::find_by_id(Uuid::parse_str(&broken).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut outing: outings::ActiveModel = outing.into();
    outing.status = Set("wandering".to_owned());
    outing.watch_at = Set(Some(start + Duration::minutes(41)));
    outing.update(&app.db).await.unwrap();
    // Both are due now, with the healthy outing's first prompt.
    app.clock.set(healthy_start + Duration::minutes(30));
    let tick = app.watchdog().await;
    assert_eq!(tick.failed_rows, 2, "{tick:?}");
    assert_eq!(
        tick.prompts, 1,
        "the healthy outing was still prompted: {tick:?}"
    );
    // The bad rows are put off for a minute, not retried at every tick.
    let again = app.watchdog().await;
    assert_eq!(again.failed_rows, 0, "{again:?}");
    app.clock.advance(Duration::seconds(61));
    assert_eq!(app.watchdog().await.failed_rows, 2);
    let prompts = notifications_of(&app, "check_in_due", &w.participant).await;
    assert!(
        prompts
            .iter()
            .any(|row| row.message.to_string().contains(&healthy))
    );
}
