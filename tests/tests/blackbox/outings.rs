//! Outings over HTTP with a controllable clock: planning and proposals, reminders that move and
//! are withdrawn, the lifecycle and its refusals, check-ins (offline, location consent), the whole
//! safety ladder (due → prompt → re-prompt → alert → wider alert → exhausted → acknowledge →
//! resolve), urgent check-ins, overdue outings, first acknowledgement wins, and two watchdogs.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::domain::outings::bounds;
use tomoni_schema::store::entities::{alerts, audit_log, notifications};
use tomoni_tests::program::{Curriculum, reason};
use tomoni_tests::push_receiver::PushReceiver;
use tomoni_tests::{TestApp, spawn_app_with};
use uuid::Uuid;

/// The watchdog and the dispatcher are driven by the test, tick by tick.
pub(crate) async fn app() -> TestApp {
    spawn_app_with(|settings| {
        settings.push.dispatcher = false;
        settings.safety.watchdog = false;
        settings.limits.redeem_attempts_per_minute = 100;
    })
    .await
}

pub(crate) struct Outing {
    pub(crate) coordinator: String,
    pub(crate) coordinator_id: String,
    pub(crate) other_coordinator: String,
    pub(crate) other_coordinator_id: String,
    pub(crate) lead: String,
    pub(crate) lead_token: String,
    pub(crate) participant: String,
    pub(crate) participant_token: String,
    pub(crate) curriculum: Curriculum,
}

pub(crate) async fn world(app: &TestApp) -> Outing {
    let (_, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let coordinator_id = app.viewer_id(&coordinator).await;
    let other = app
        .create_person(&coordinator, "COORDINATOR", "Second coordinator")
        .await;
    let (other_coordinator, _) = app.pair(&coordinator, &other).await;
    let (curriculum, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, participant_token) = app.pair_both(&coordinator, &lead, &participant).await;
    Outing {
        coordinator,
        coordinator_id,
        other_coordinator,
        other_coordinator_id: other,
        lead,
        lead_token,
        participant,
        participant_token,
        curriculum,
    }
}

pub(crate) async fn notifications_of(
    app: &TestApp,
    kind: &str,
    person: &str,
) -> Vec<notifications::Model> {
    notifications::Entity::find()
        .filter(notifications::Column::Kind.eq(kind))
        .filter(notifications::Column::RecipientId.eq(Uuid::parse_str(person).unwrap()))
        .all(&app.db)
        .await
        .unwrap()
}

async fn pending(app: &TestApp, kind: &str, person: &str) -> usize {
    notifications_of(app, kind, person)
        .await
        .iter()
        .filter(|row| row.status == "pending")
        .count()
}

pub(crate) fn id_of(answer: &tomoni_tests::Answer, mutation: &str) -> String {
    answer.data()[mutation]["outing"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn outing<'a>(answer: &'a tomoni_tests::Answer, mutation: &str) -> &'a Value {
    &answer.data()[mutation]["outing"]
}

#[tokio::test]
async fn an_outing_is_planned_reminded_started_checked_extended_and_completed() {
    let app = app().await;
    let w = world(&app).await;
    let planned = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, 26 * 60, 120)
        .await;
    let id = id_of(&planned, "planOuting");
    assert_eq!(outing(&planned, "planOuting")["status"], "PLANNED");
    // 24 hours and 1 hour before, to the participant and the lead.
    assert_eq!(pending(&app, "outing_reminder", &w.participant).await, 2);
    assert_eq!(pending(&app, "outing_reminder", &w.lead).await, 2);

    // Replanning moves them (never doubles them); an hour from now leaves only the 1-hour one.
    let start = app.clock.now() + Duration::minutes(90);
    app.outing_step(
        &w.coordinator,
        "replanOuting",
        json!({ "outingId": id, "plannedStart": start.to_rfc3339(), "plannedEnd": (start + Duration::hours(2)).to_rfc3339() }),
    )
    .await
    .data();
    assert_eq!(pending(&app, "outing_reminder", &w.participant).await, 1);
    let reminder = notifications_of(&app, "outing_reminder", &w.participant)
        .await
        .into_iter()
        .find(|row| row.status == "pending")
        .unwrap();
    assert!(
        (reminder.not_before - (start - Duration::hours(1)))
            .num_seconds()
            .abs()
            <= 1
    );

    // Only the outing's supporters start it.
    app.outing_step(
        &w.participant_token,
        "startOuting",
        json!({ "outingId": id }),
    )
    .await
    .expect_error("FORBIDDEN");
    app.outing_step(&w.coordinator, "startOuting", json!({ "outingId": id }))
        .await
        .expect_error("FORBIDDEN");
    app.clock.set(start);
    let started = app
        .outing_step(&w.lead_token, "startOuting", json!({ "outingId": id }))
        .await;
    let data = outing(&started, "startOuting");
    assert_eq!(data["status"], "IN_PROGRESS");
    assert_eq!(
        pending(&app, "outing_reminder", &w.participant).await,
        0,
        "withdrawn at the start"
    );
    let again = app
        .outing_step(&w.lead_token, "startOuting", json!({ "outingId": id }))
        .await;
    assert_eq!(reason(&again), Some("INVALID_TRANSITION"));

    // A check-in moves the deadline to its time plus the interval (30 minutes by default).
    app.clock.advance(Duration::minutes(20));
    let checked = app
        .graphql(
            Some(&w.participant_token),
            "mutation($input: CheckInInput!) { checkIn(input: $input) { checkIn { kind } outing { checkInDueAt status } alert { id } } }",
            json!({ "input": { "outingId": id, "kind": "OK" } }),
        )
        .await;
    let due: chrono::DateTime<chrono::Utc> = checked.data()["checkIn"]["outing"]["checkInDueAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (due - (app.clock.now() + Duration::minutes(30)))
            .num_seconds()
            .abs()
            <= 1
    );
    assert!(checked.data()["checkIn"]["alert"].is_null());

    // The workload view counts it for the lead.
    let workload = app
        .graphql(
            Some(&w.coordinator),
            "{ workload { nodes { supporter { id } outingsLast30Days accompaniedMinutesLast30Days } } }",
            json!({}),
        )
        .await;
    let row = workload.data()["workload"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["supporter"]["id"] == w.lead.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["outingsLast30Days"], 1);
    assert_eq!(row["accompaniedMinutesLast30Days"], 120);

    // Extensions: bounded per step, audited.
    app.outing_step(
        &w.lead_token,
        "extendOuting",
        json!({ "outingId": id, "minutes": 500 }),
    )
    .await
    .expect_error("BAD_USER_INPUT");
    let extended = app
        .outing_step(
            &w.lead_token,
            "extendOuting",
            json!({ "outingId": id, "minutes": 30 }),
        )
        .await;
    assert_eq!(outing(&extended, "extendOuting")["extensions"], 1);

    // Ending needs ratings 1–5.
    let bad = app
        .outing_step(
            &w.lead_token,
            "completeOuting",
            json!({ "outingId": id, "anxietyBefore": 0, "anxietyAfter": 2, "confidenceBefore": 2, "confidenceAfter": 4, "supporterNote": "" }),
        )
        .await;
    bad.expect_error("BAD_USER_INPUT");
    let done = app
        .outing_step(
            &w.lead_token,
            "completeOuting",
            json!({ "outingId": id, "anxietyBefore": 4, "anxietyAfter": 2, "confidenceBefore": 2, "confidenceAfter": 4, "supporterNote": "二つ目の停留所まで一人で乗れた" }),
        )
        .await;
    let data = outing(&done, "completeOuting");
    assert_eq!(data["status"], "COMPLETED");
    assert_eq!(data["confidenceAfter"], 4);
    assert!(data["checkInDueAt"].is_null());
    let after = app.check_in(&w.participant_token, &id, "OK").await;
    assert_eq!(reason(&after), Some("INVALID_TRANSITION"));
    // Nothing more is watched.
    app.clock.advance(Duration::hours(5));
    assert!(!app.watchdog().await.did_work());
    for action in [
        "outing.planned",
        "outing.replanned",
        "outing.start",
        "outing.checked_in",
        "outing.extend",
        "outing.complete",
    ] {
        let count = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(count, 1, "{action}");
    }
}

#[tokio::test]
async fn proposals_training_caps_and_cancellation() {
    let app = app().await;
    let w = world(&app).await;
    // A supporter proposes only for a participant they are actively matched with.
    app.plan_outing(&w.lead_token, &w.participant, &w.lead, 120, 60)
        .await
        .expect_error("NOT_FOUND");
    let proposed = app.propose(&w.coordinator, &w.lead, &w.participant).await;
    let match_id = proposed.data()["proposeMatch"]["match"]["id"].clone();
    app.match_step(&w.lead_token, "acceptMatch", json!({ "matchId": match_id }))
        .await
        .data();
    let proposal = app
        .plan_outing(&w.lead_token, &w.participant, &w.lead, 26 * 60, 60)
        .await;
    assert_eq!(outing(&proposal, "planOuting")["status"], "PROPOSED");
    assert_eq!(
        pending(&app, "outing_reminder", &w.participant).await,
        0,
        "not before approval"
    );
    let id = id_of(&proposal, "planOuting");
    app.outing_step(&w.lead_token, "approveOuting", json!({ "outingId": id }))
        .await
        .expect_error("FORBIDDEN");
    let approved = app
        .outing_step(&w.coordinator, "approveOuting", json!({ "outingId": id }))
        .await;
    assert_eq!(outing(&approved, "approveOuting")["status"], "PLANNED");
    assert_eq!(pending(&app, "outing_reminder", &w.participant).await, 2);
    let cancelled = app
        .outing_step(
            &w.lead_token,
            "cancelOuting",
            json!({ "outingId": id, "reason": "WEATHER" }),
        )
        .await;
    assert_eq!(outing(&cancelled, "cancelOuting")["status"], "CANCELLED");
    assert_eq!(
        outing(&cancelled, "cancelOuting")["cancelReason"],
        "WEATHER"
    );
    assert_eq!(
        pending(&app, "outing_reminder", &w.participant).await,
        0,
        "withdrawn"
    );

    // Only basic training: may not lead.
    let learner = app
        .matchable_supporter(&w.coordinator, &w.curriculum, "Learner")
        .await;
    let before = app.snapshot().await;
    let refused = app
        .plan_outing(&w.coordinator, &w.participant, &learner, 120, 60)
        .await;
    assert_eq!(reason(&refused), Some("TRAINING_INCOMPLETE"));
    assert_eq!(
        refused.body["errors"][0]["extensions"]["missing"],
        json!(["SPECIALISED_COURSE"])
    );
    assert_eq!(app.snapshot().await, before);

    // Weekly cap on outings: 2.
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: UpdateProgramSettingsInput!) { updateProgramSettings(input: $input) { settings { weeklyOutingCap } } }",
        json!({ "input": { "weeklyOutingCap": 2 } }),
    )
    .await
    .data();
    // Three outings on next week's Wednesday (Tokyo), well inside one Monday–Sunday week.
    let day = {
        use chrono::{Datelike, TimeZone};
        let tokyo = app.clock.now().with_timezone(&chrono_tz::Asia::Tokyo);
        let to_wednesday = (7 + 2 - i64::from(tokyo.weekday().num_days_from_monday())) % 7 + 7;
        let wednesday = tokyo.date_naive() + Duration::days(to_wednesday);
        let ten = chrono_tz::Asia::Tokyo
            .from_local_datetime(&wednesday.and_hms_opt(10, 0, 0).unwrap())
            .unwrap();
        (ten.with_timezone(&Utc) - app.clock.now()).num_minutes()
    };
    app.plan_outing(&w.coordinator, &w.participant, &w.lead, day, 60)
        .await
        .data();
    app.plan_outing(&w.coordinator, &w.participant, &w.lead, day + 120, 60)
        .await
        .data();
    let full = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, day + 240, 60)
        .await;
    assert_eq!(reason(&full), Some("CAPACITY_FULL"));
    assert_eq!(
        full.body["errors"][0]["extensions"]["cap"],
        "WEEKLY_OUTINGS"
    );
    // Bad input changes nothing.
    let before = app.snapshot().await;
    for (field, value) in [
        ("checkInIntervalMinutes", json!(4)),
        ("gracePeriodMinutes", json!(0)),
        ("latitude", json!(91.0)),
    ] {
        let start = app.clock.now() + Duration::hours(30);
        let mut input = json!({
            "participantId": w.participant, "leadSupporterId": w.lead, "purpose": "SHOPPING",
            "place": "スーパー", "plannedStart": start.to_rfc3339(),
            "plannedEnd": (start + Duration::hours(1)).to_rfc3339(), "longitude": 135.5,
        });
        input[field] = value;
        if field != "latitude" {
            input.as_object_mut().unwrap().remove("longitude");
        }
        app.graphql(
            Some(&w.coordinator),
            tomoni_tests::program::PLAN_OUTING,
            json!({ "input": input }),
        )
        .await
        .expect_error("BAD_USER_INPUT");
    }
    let past = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, -60, 30)
        .await;
    past.expect_error("BAD_USER_INPUT");
    assert_eq!(app.snapshot().await, before);
}

pub(crate) async fn started(app: &TestApp, w: &Outing) -> String {
    app.start_outing(&w.coordinator, &w.participant, &w.lead, &w.lead_token, 120)
        .await
}

/// Puts the first coordinator on duty by hand.
pub(crate) async fn on_duty(app: &TestApp, w: &Outing) {
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: SetOnDutyInput!) { setOnDuty(input: $input) { onDutyIds } }",
        json!({ "input": { "personId": w.coordinator_id, "isOnDuty": true } }),
    )
    .await
    .data();
}

const ACKNOWLEDGE: &str = "mutation($input: AcknowledgeAlertsInput!) { acknowledgeAlerts(input: $input) { alerts { id status ownerId } } }";

/// Acknowledges the alert as `token`.
pub(crate) async fn acknowledge(app: &TestApp, token: &str, alert: &str) -> tomoni_tests::Answer {
    app.graphql(
        Some(token),
        ACKNOWLEDGE,
        json!({ "input": { "alertIds": [alert] } }),
    )
    .await
}

pub(crate) async fn alert_row(app: &TestApp, outing: &str) -> Vec<alerts::Model> {
    alerts::Entity::find()
        .filter(alerts::Column::OutingId.eq(Uuid::parse_str(outing).unwrap()))
        .order_by_asc(alerts::Column::RaisedAt)
        .order_by_asc(alerts::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_safety_ladder_climbs_until_someone_acknowledges() {
    let app = app().await;
    let w = world(&app).await;
    // One coordinator on duty: they hear first.
    on_duty(&app, &w).await;
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) { person { id } } }",
        json!({ "input": { "personId": w.participant, "crisisPlan": "静かな場所で座る。姉に電話: 090-0000-0000" } }),
    )
    .await
    .data();
    let receiver = PushReceiver::start().await;
    receiver.follow_clock(&app.clock);
    app.register_push(&w.participant_token, &receiver).await;
    let id = started(&app, &w).await;
    let start = app.clock.now();

    // Not yet due.
    app.clock.set(start + Duration::minutes(29));
    assert!(!app.watchdog().await.did_work());
    // Due: every member is prompted.
    app.clock.set(start + Duration::minutes(30));
    assert_eq!(app.watchdog().await.prompts, 1);
    assert_eq!(
        notifications_of(&app, "check_in_due", &w.participant)
            .await
            .len(),
        1
    );
    // The prompt reaches the participant's phone: the outing's id, nothing about the place, the
    // goal or the people (it shows on a lock screen).
    app.drain().await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        receiver.violations().is_empty(),
        "{:?}",
        receiver.violations()
    );
    let payload = received[0].payload.to_string();
    assert!(payload.contains(&id), "{payload}");
    for private in ["市バス", "西長堀", "ride two stops", "Haruka", "Ken"] {
        assert!(!payload.contains(private), "{private} in {payload}");
    }
    assert_eq!(
        notifications_of(&app, "check_in_due", &w.lead).await.len(),
        1
    );
    // Halfway through the grace period: prompted again.
    app.clock.set(start + Duration::minutes(35));
    assert_eq!(app.watchdog().await.prompts, 1);
    assert_eq!(
        notifications_of(&app, "check_in_due", &w.lead).await.len(),
        2
    );
    // Due + grace: an alert, to the coordinator on duty only; the outing is escalated.
    app.clock.set(start + Duration::minutes(40));
    let tick = app.watchdog().await;
    assert_eq!(tick.alerts_raised, 1);
    // Subscribers to `alerts` hear of it at once.
    assert!(
        tick.events.iter().any(|event| matches!(
            event,
            tomoni_schema::events::DomainEvent::AlertChanged { .. }
        )),
        "{:?}",
        tick.events
    );
    let alerts = alert_row(&app, &id).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].reason.as_str(), alerts[0].tier.as_str()),
        ("missed_check_in", "on_duty")
    );
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.coordinator_id)
            .await
            .len(),
        1
    );
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len(),
        0
    );
    let status = app
        .graphql(
            Some(&w.coordinator),
            "query($id: ID!) { outing(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(status.data()["outing"]["status"], "ESCALATED");
    // A repeated tick at the same time does nothing more.
    assert!(!app.watchdog().await.did_work());
    // Another grace period: every coordinator.
    app.clock.set(start + Duration::minutes(50));
    assert_eq!(app.watchdog().await.escalations, 1);
    assert_eq!(alert_row(&app, &id).await[0].tier, "everyone");
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len(),
        1
    );
    // Then exhausted: every coordinator again each grace period, until someone acknowledges.
    for (minutes, pushes) in [(60, 2), (70, 3)] {
        app.clock.set(start + Duration::minutes(minutes));
        assert_eq!(app.watchdog().await.escalations, 1);
        assert_eq!(alert_row(&app, &id).await[0].tier, "exhausted");
        assert_eq!(
            notifications_of(&app, "safety_alert", &w.other_coordinator_id)
                .await
                .len(),
            pushes
        );
    }
    // Safety pushes never wait for quiet hours and carry no names or places.
    let push = &notifications_of(&app, "safety_alert", &w.coordinator_id).await[0];
    assert!(push.is_safety);
    let text = push.message.to_string();
    assert!(
        !text.contains("Haruka") && !text.contains("西長堀"),
        "{text}"
    );

    // Two coordinators acknowledge at once: the first wins, the other sees who owns it.
    let alert_id = alerts[0].id.to_string();
    let acknowledge = "mutation($input: AcknowledgeAlertsInput!) { acknowledgeAlerts(input: $input) { alerts { id status ownerId crisisPlan } } }";
    let input = json!({ "input": { "alertIds": [alert_id] } });
    let (first, second) = tokio::join!(
        app.graphql(Some(&w.coordinator), acknowledge, input.clone()),
        app.graphql(Some(&w.other_coordinator), acknowledge, input.clone()),
    );
    let (winner, loser, winner_id) = if first.error_code().is_none() {
        (first, second, w.coordinator_id.clone())
    } else {
        (second, first, w.other_coordinator_id.clone())
    };
    let owned = &winner.data()["acknowledgeAlerts"]["alerts"][0];
    assert_eq!(owned["status"], "ACKNOWLEDGED");
    assert_eq!(owned["ownerId"], winner_id.as_str());
    assert!(
        owned["crisisPlan"].as_str().unwrap().contains("姉に電話"),
        "the owner sees the crisis plan"
    );
    loser.expect_error("CONFLICT");
    assert_eq!(
        loser.body["errors"][0]["extensions"]["ownerId"],
        winner_id.as_str()
    );
    // Escalation stops.
    app.clock.set(start + Duration::minutes(120));
    let report = app.watchdog().await;
    assert_eq!(report.escalations, 0);

    // A later check-in returns the outing to in progress; the alert stays until resolved.
    let checked = app
        .graphql(
            Some(&w.lead_token),
            "mutation($input: CheckInInput!) { checkIn(input: $input) { outing { status alerts { nodes { status } } } } }",
            json!({ "input": { "outingId": id, "kind": "OK" } }),
        )
        .await;
    assert_eq!(checked.data()["checkIn"]["outing"]["status"], "IN_PROGRESS");
    assert_eq!(
        checked.data()["checkIn"]["outing"]["alerts"]["nodes"][0]["status"],
        "ACKNOWLEDGED"
    );
    // Resolving: the owner, with a reason and a note.
    let (owner_token, other_token) = if winner_id == w.coordinator_id {
        (&w.coordinator, &w.other_coordinator)
    } else {
        (&w.other_coordinator, &w.coordinator)
    };
    let resolve = "mutation($input: ResolveAlertInput!) { resolveAlert(input: $input) { alert { status resolution resolutionNote } } }";
    app.graphql(Some(other_token), resolve, json!({ "input": { "alertId": alert_id, "resolution": "REACHED_BY_PHONE", "note": "電話で無事を確認" } }))
        .await
        .expect_error("FORBIDDEN");
    app.graphql(
        Some(owner_token),
        resolve,
        json!({ "input": { "alertId": alert_id, "resolution": "REACHED_BY_PHONE", "note": " " } }),
    )
    .await
    .expect_error("BAD_USER_INPUT");
    let resolved = app
        .graphql(Some(owner_token), resolve, json!({ "input": { "alertId": alert_id, "resolution": "MET_IN_PERSON", "note": "駅で合流した" } }))
        .await;
    assert_eq!(
        resolved.data()["resolveAlert"]["alert"]["status"],
        "RESOLVED"
    );
    // A real incident: the supporter is flagged for supervision.
    let flagged = app
        .graphql(
            Some(&w.coordinator),
            "query($id: ID!) { person(id: $id) { training { needsSupervisionFollowUp } } }",
            json!({ "id": w.lead }),
        )
        .await;
    assert_eq!(
        flagged.data()["person"]["training"]["needsSupervisionFollowUp"],
        true
    );
    // A session held before the incident (entered late) does not answer it; one held today does.
    let follow_up = || async {
        app.graphql(
            Some(&w.coordinator),
            "query($id: ID!) { person(id: $id) { training { needsSupervisionFollowUp } } }",
            json!({ "id": w.lead }),
        )
        .await
        .data()["person"]["training"]["needsSupervisionFollowUp"]
            .clone()
    };
    let today = app
        .clock
        .now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    for (held_on, still_flagged) in [(today - Duration::days(2), true), (today, false)] {
        app.graphql(
            Some(&w.coordinator),
            "mutation($input: RecordSupervisionInput!) { recordSupervision(input: $input) { session { heldOn } } }",
            json!({ "input": { "supporterId": w.lead, "supervisorId": w.coordinator_id, "heldOn": held_on.to_string(), "note": "振り返り" } }),
        )
        .await
        .data();
        assert_eq!(follow_up().await, still_flagged, "held on {held_on}");
    }
    // Members see the alert, not
    let seen = app
        .graphql(
            Some(&w.lead_token),
            "query($id: ID!) { outing(id: $id) { alerts { nodes { resolutionNote } } } }",
            json!({ "id": id }),
        )
        .await;
    // the coordinator's note on the incident (the crisis plan follows its own rule: crisis_plan.rs).
    assert!(seen.data()["outing"]["alerts"]["nodes"][0]["resolutionNote"].is_null());
}

#[tokio::test]
async fn urgent_check_ins_raise_alerts_at_once_and_overdue_outings_raise_one() {
    let app = app().await;
    let w = world(&app).await;
    let id = started(&app, &w).await;
    let check_in = "mutation($input: CheckInInput!) { checkIn(input: $input) { outing { status } alert { reason tier status } } }";
    let help = app
        .graphql(
            Some(&w.participant_token),
            check_in,
            json!({ "input": { "outingId": id, "kind": "NEED_HELP" } }),
        )
        .await;
    let data = &help.data()["checkIn"];
    assert_eq!(data["alert"]["reason"], "NEED_HELP");
    assert_eq!(data["alert"]["tier"], "ON_DUTY");
    assert_eq!(data["outing"]["status"], "ESCALATED");
    // Nobody is on duty: every coordinator is told.
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len(),
        1
    );
    // One incident, one alert: a further urgent check-in joins the open alert (recorded as a
    // check-in, the more urgent reason kept) instead of paging everyone again.
    let alert_pushes = || async {
        notifications_of(&app, "safety_alert", &w.other_coordinator_id)
            .await
            .len()
    };
    let separated = app
        .graphql(
            Some(&w.lead_token),
            check_in,
            json!({ "input": { "outingId": id, "kind": "SEPARATED" } }),
        )
        .await;
    let joined = &separated.data()["checkIn"]["alert"];
    assert_eq!(joined["reason"], "SEPARATED");
    assert_eq!(joined["tier"], "ON_DUTY");
    // Within the minute: those it reached are not paged again.
    assert_eq!(alert_pushes().await, 1);
    // A panicking thumb on SOS: it lifts the alert to the top tier, still one alert, and pages
    // those it reached at most once a minute.
    for _ in 0..5 {
        let sos = app
            .graphql(
                Some(&w.participant_token),
                check_in,
                json!({ "input": { "outingId": id, "kind": "SOS" } }),
            )
            .await;
        let alert = &sos.data()["checkIn"]["alert"];
        assert_eq!(
            (alert["reason"].as_str(), alert["tier"].as_str()),
            (Some("SOS"), Some("EVERYONE"))
        );
    }
    assert_eq!(alert_pushes().await, 1);
    app.clock.advance(Duration::seconds(61));
    app.graphql(
        Some(&w.participant_token),
        check_in,
        json!({ "input": { "outingId": id, "kind": "SOS" } }),
    )
    .await
    .data();
    assert_eq!(alert_pushes().await, 2, "paged again after a minute");
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.coordinator_id)
            .await
            .len(),
        2
    );
    let ids: Vec<String> = alert_row(&app, &id)
        .await
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one incident, one alert");
    let outing_now = app
        .graphql(
            Some(&w.coordinator),
            "query($id: ID!) { outing(id: $id) { checkIns(first: 3) { nodes { kind } pageInfo { hasNextPage } } alerts { nodes { reason } } } }",
            json!({ "id": id }),
        )
        .await;
    let checks = &outing_now.data()["outing"]["checkIns"];
    assert_eq!(
        checks["nodes"].as_array().unwrap().len(),
        3,
        "paged, newest first"
    );
    assert_eq!(checks["nodes"][0]["kind"], "SOS");
    assert_eq!(
        checks["pageInfo"]["hasNextPage"], true,
        "8 check-ins in all"
    );
    let acknowledged = app
        .graphql(
            Some(&w.coordinator),
            "mutation($input: AcknowledgeAlertsInput!) { acknowledgeAlerts(input: $input) { alerts { status } } }",
            json!({ "input": { "alertIds": ids } }),
        )
        .await;
    assert_eq!(
        acknowledged.data()["acknowledgeAlerts"]["alerts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Need help while it is acknowledged joins it too, and its owner hears of it.
    app.clock.advance(Duration::seconds(61));
    let again = app
        .graphql(
            Some(&w.lead_token),
            check_in,
            json!({ "input": { "outingId": id, "kind": "NEED_HELP" } }),
        )
        .await;
    let alert = &again.data()["checkIn"]["alert"];
    assert_eq!(
        (alert["reason"].as_str(), alert["status"].as_str()),
        (Some("SOS"), Some("ACKNOWLEDGED"))
    );
    assert_eq!(alert_row(&app, &id).await.len(), 1);
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.coordinator_id)
            .await
            .len(),
        3
    );

    // Completing an escalated outing stops its watch (its alerts stay until resolved).
    app.outing_step(
        &w.lead_token,
        "completeOuting",
        json!({ "outingId": id, "anxietyBefore": 4, "anxietyAfter": 3, "confidenceBefore": 2, "confidenceAfter": 2, "supporterNote": "" }),
    )
    .await
    .data();

    // Another outing nobody checks in on, past its end: missed check-ins and an overdue alert,
    // caught up in one tick after the server was away (late, never lost).
    let second = started(&app, &w).await;
    app.clock.advance(Duration::hours(3));
    let report = app.watchdog().await;
    assert_eq!(report.alerts_raised, 2, "{report:?}");
    let reasons: Vec<String> = alert_row(&app, &second)
        .await
        .into_iter()
        .map(|a| a.reason)
        .collect();
    assert_eq!(
        reasons,
        vec!["missed_check_in".to_owned(), "overdue".to_owned()]
    );
    assert!(!app.watchdog().await.did_work());
    // Extended after all: the new end is watched too, and overrunning it is a new overdue alert.
    app.check_in(&w.participant_token, &second, "OK")
        .await
        .data();
    let extended = app
        .outing_step(
            &w.lead_token,
            "extendOuting",
            json!({ "outingId": second, "minutes": 120 }),
        )
        .await;
    let extended_end: chrono::DateTime<Utc> = outing(&extended, "extendOuting")["plannedEnd"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(extended_end > app.clock.now());
    // Checked in throughout, so only the end is missed.
    while app.clock.now() < extended_end {
        app.clock.advance(Duration::minutes(20));
        app.check_in(&w.participant_token, &second, "OK")
            .await
            .data();
        app.watchdog().await;
    }
    app.clock.set(extended_end + Duration::minutes(15));
    app.watchdog().await;
    let overdue = alert_row(&app, &second)
        .await
        .into_iter()
        .filter(|alert| alert.reason == "overdue")
        .count();
    assert_eq!(overdue, 2, "one overdue alert for each end it overran");
}

#[tokio::test]
async fn offline_check_ins_and_location_consent() {
    let app = app().await;
    let w = world(&app).await;
    let id = started(&app, &w).await;
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(25));
    let check_in = "mutation($input: CheckInInput!) { checkIn(input: $input) { outing { checkInDueAt checkIns { nodes { madeAt latitude } } } } }";
    // Made offline 10 minutes ago, sent now: accepted, the deadline counts from when it was made.
    let made = start + Duration::minutes(15);
    let late = app
        .graphql(
            Some(&w.lead_token),
            check_in,
            json!({ "input": { "outingId": id, "kind": "OK", "madeAt": made.to_rfc3339() } }),
        )
        .await;
    let due: chrono::DateTime<chrono::Utc> = late.data()["checkIn"]["outing"]["checkInDueAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((due - (made + Duration::minutes(30))).num_seconds().abs() <= 1);
    // An even older one is kept in order but does not move the deadline back.
    let older = start + Duration::minutes(5);
    let answer = app
        .graphql(
            Some(&w.participant_token),
            check_in,
            json!({ "input": { "outingId": id, "kind": "OK", "madeAt": older.to_rfc3339() } }),
        )
        .await;
    let outing = &answer.data()["checkIn"]["outing"];
    assert_eq!(
        outing["checkInDueAt"],
        late.data()["checkIn"]["outing"]["checkInDueAt"]
    );
    let made_ats: Vec<&str> = outing["checkIns"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["madeAt"].as_str().unwrap())
        .collect();
    let mut sorted = made_ats.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(made_ats, sorted, "newest (by when they were made) first");
    // Not in the future, not before the start.
    let before = app.snapshot().await;
    for when in [
        app.clock.now() + Duration::minutes(5),
        start - Duration::minutes(5),
    ] {
        app.graphql(
            Some(&w.lead_token),
            check_in,
            json!({ "input": { "outingId": id, "kind": "OK", "madeAt": when.to_rfc3339() } }),
        )
        .await
        .expect_error("BAD_USER_INPUT");
    }
    // A location without the participant's consent is refused and nothing is stored.
    let refused = app
        .graphql(Some(&w.lead_token), check_in, json!({ "input": { "outingId": id, "kind": "OK", "latitude": 34.68, "longitude": 135.49 } }))
        .await;
    assert_eq!(reason(&refused), Some("LOCATION_NOT_CONSENTED"));
    assert_eq!(app.snapshot().await, before);
    app.graphql(
        Some(&w.participant_token),
        "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) { person { id } } }",
        json!({ "input": { "personId": w.participant, "consentsToLocationSharing": true } }),
    )
    .await
    .data();
    let located = app
        .graphql(Some(&w.lead_token), check_in, json!({ "input": { "outingId": id, "kind": "OK", "latitude": 34.68, "longitude": 135.49 } }))
        .await;
    let check_ins = located.data()["checkIn"]["outing"]["checkIns"]["nodes"]
        .as_array()
        .unwrap();
    assert_eq!(check_ins.first().unwrap()["latitude"], 34.68);

    // "Need help" escalates; an "OK" — made before it (sent late from a phone that was offline)
    // or after it — never stops a need-help alert: the outing stays escalated until it is resolved.
    let status_after = |kind: &'static str, made_at: chrono::DateTime<Utc>| {
        let app = &app;
        let token = w.participant_token.clone();
        let id = id.clone();
        async move {
            app.graphql(
                Some(&token),
                "mutation($input: CheckInInput!) { checkIn(input: $input) { outing { status } } }",
                json!({ "input": { "outingId": id, "kind": kind, "madeAt": made_at.to_rfc3339() } }),
            )
            .await
            .data()["checkIn"]["outing"]["status"]
                .clone()
        }
    };
    app.clock.advance(Duration::minutes(5));
    let now = app.clock.now();
    assert_eq!(status_after("NEED_HELP", now).await, "ESCALATED");
    assert_eq!(
        status_after("OK", now - Duration::minutes(2)).await,
        "ESCALATED"
    );
    assert_eq!(status_after("OK", now).await, "ESCALATED");
}

#[tokio::test]
async fn who_sees_outings_and_my_day() {
    let app = app().await;
    let w = world(&app).await;
    let planned = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, 60, 120)
        .await;
    let id = id_of(&planned, "planOuting");
    let stranger = app
        .create_person(&w.coordinator, "SUPPORTER", "Not on it")
        .await;
    let (stranger_token, _) = app.pair(&w.coordinator, &stranger).await;
    let (_, elsewhere) = app.organisation_with_coordinator("Elsewhere").await;
    let query = "query($id: ID!) { outing(id: $id) { id } }";
    for token in [&stranger_token, &elsewhere] {
        app.graphql(Some(token), query, json!({ "id": id }))
            .await
            .expect_error("NOT_FOUND");
        app.outing_step(
            token,
            "cancelOuting",
            json!({ "outingId": id, "reason": "OTHER" }),
        )
        .await
        .expect_error("NOT_FOUND");
    }
    let from = app.clock.now();
    let to = from + Duration::days(1);
    let my_day = "query($from: DateTime, $to: DateTime) { myDay(from: $from, to: $to) { id members { displayName role } latestCheckIn { kind } } }";
    let day = app
        .graphql(
            Some(&w.participant_token),
            my_day,
            json!({ "from": from.to_rfc3339(), "to": to.to_rfc3339() }),
        )
        .await;
    let outings = day.data()["myDay"].as_array().unwrap();
    assert_eq!(outings.len(), 1);
    let names: Vec<&str> = outings[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["displayName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Ken") && names.contains(&"Haruka"));
    let empty = app
        .graphql(
            Some(&stranger_token),
            my_day,
            json!({ "from": from.to_rfc3339(), "to": to.to_rfc3339() }),
        )
        .await;
    assert_eq!(empty.data()["myDay"], json!([]));
    let list = "query($status: OutingStatus, $supporterId: ID) { outings(status: $status, supporterId: $supporterId) { nodes { id } } }";
    let listed = app
        .graphql(
            Some(&w.coordinator),
            list,
            json!({ "status": "PLANNED", "supporterId": w.lead }),
        )
        .await;
    assert_eq!(listed.data()["outings"]["nodes"][0]["id"], id.as_str());
    let none = app
        .graphql(Some(&w.coordinator), list, json!({ "status": "COMPLETED" }))
        .await;
    assert_eq!(none.data()["outings"]["nodes"], json!([]));
    app.graphql(Some(&w.lead_token), list, json!({}))
        .await
        .expect_error("FORBIDDEN");
}

/// Outing ids in the viewer's "my day" for `[from, from + minutes)`.
async fn my_day_ids(app: &TestApp, token: &str, from: DateTime<Utc>, minutes: i64) -> Vec<String> {
    let day = app
        .graphql(
            Some(token),
            "query($from: DateTime, $to: DateTime) { myDay(from: $from, to: $to) { id } }",
            json!({ "from": from.to_rfc3339(), "to": (from + Duration::minutes(minutes)).to_rfc3339() }),
        )
        .await;
    day.data()["myDay"]
        .as_array()
        .unwrap()
        .iter()
        .map(|outing| outing["id"].as_str().unwrap().to_owned())
        .collect()
}

/// "My day" finds outings by copies of their times on the member rows: replanning and extending
/// must move them, and a window that only the middle or the extended end of the longest possible
/// outing overlaps must still find it.
#[tokio::test]
async fn my_day_follows_replanning_and_extensions() {
    let app = app().await;
    let w = world(&app).await;
    app.graphql(
        Some(&w.coordinator),
        "mutation { updateProgramSettings(input: { weeklyHoursCap: 60 }) { settings { weeklyHoursCap } } }",
        json!({}),
    )
    .await
    .data();
    let planned = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, 60, 120)
        .await;
    let id = id_of(&planned, "planOuting");
    let first_start = app.clock.now() + Duration::minutes(60);
    let mine = vec![id.clone()];
    // Inside it, touching neither its start nor its end.
    assert_eq!(
        my_day_ids(&app, &w.lead_token, first_start + Duration::minutes(30), 10).await,
        mine
    );
    assert_eq!(
        my_day_ids(
            &app,
            &w.participant_token,
            first_start + Duration::minutes(30),
            10
        )
        .await,
        mine
    );
    assert!(
        my_day_ids(
            &app,
            &w.lead_token,
            first_start + Duration::minutes(120),
            60
        )
        .await
        .is_empty()
    );

    // Replanned to tomorrow for the longest plan allowed: gone from today, there tomorrow.
    let start = app.clock.now() + Duration::hours(26);
    app.outing_step(
        &w.coordinator,
        "replanOuting",
        json!({ "outingId": id, "plannedStart": start.to_rfc3339(), "plannedEnd": (start + Duration::hours(bounds::PLANNED_HOURS_MAX)).to_rfc3339() }),
    )
    .await
    .data();
    assert!(
        my_day_ids(&app, &w.participant_token, first_start, 120)
            .await
            .is_empty()
    );
    assert_eq!(
        my_day_ids(&app, &w.participant_token, start + Duration::hours(11), 30).await,
        mine
    );

    // Extended as far as it goes: the last minutes of the extension still find it.
    app.clock.set(start);
    app.start_planned(&w.lead_token, &id).await;
    for _ in 0..bounds::EXTENSIONS_MAX {
        app.outing_step(
            &w.lead_token,
            "extendOuting",
            json!({ "outingId": id, "minutes": bounds::EXTENSION_MINUTES_MAX }),
        )
        .await
        .data();
    }
    let end = start + bounds::longest_outing();
    assert_eq!(
        my_day_ids(&app, &w.participant_token, end - Duration::minutes(1), 30).await,
        mine
    );
    assert_eq!(
        my_day_ids(&app, &w.lead_token, end - Duration::minutes(1), 30).await,
        mine
    );
    assert!(my_day_ids(&app, &w.lead_token, end, 30).await.is_empty());
}

#[tokio::test]
async fn two_watchdogs_raise_each_alert_once_and_send_each_push_once() {
    let app = app().await;
    let w = world(&app).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(started(&app, &w).await);
    }
    app.clock.advance(Duration::minutes(45));
    let now = app.clock.now();
    let (a, b) = tokio::join!(
        tomoni_schema::safety::watchdog_tick(&app.db, now, 100, Default::default()),
        tomoni_schema::safety::watchdog_tick(&app.db, now, 100, Default::default()),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.alerts_raised + b.alerts_raised, 5, "{a:?} {b:?}");
    for id in &ids {
        assert_eq!(alert_row(&app, id).await.len(), 1);
    }
    // One push per alert per coordinator.
    assert_eq!(
        notifications_of(&app, "safety_alert", &w.coordinator_id)
            .await
            .len(),
        5
    );
}

/// An outing whose planned end has passed is not started (it would be overdue at once); changing
/// only its place does not trip over its past start; new times make it startable again.
#[tokio::test]
async fn a_late_outing_is_replanned_before_it_starts() {
    let app = app().await;
    let w = world(&app).await;
    let planned = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, 60, 60)
        .await;
    let id = id_of(&planned, "planOuting");
    app.clock.advance(Duration::hours(3));
    let before = app.snapshot().await;
    let late = app
        .outing_step(&w.lead_token, "startOuting", json!({ "outingId": id }))
        .await;
    assert_eq!(reason(&late), Some("INVALID_TRANSITION"));
    assert_eq!(app.snapshot().await, before);
    let moved = app
        .outing_step(
            &w.lead_token,
            "replanOuting",
            json!({ "outingId": id, "place": "区役所 2 階" }),
        )
        .await;
    assert_eq!(outing(&moved, "replanOuting")["status"], "PLANNED");
    let start = app.clock.now() + Duration::minutes(10);
    app.outing_step(
        &w.coordinator,
        "replanOuting",
        json!({ "outingId": id, "plannedStart": start.to_rfc3339(), "plannedEnd": (start + Duration::hours(1)).to_rfc3339() }),
    )
    .await
    .data();
    app.clock.set(start);
    let started = app
        .outing_step(&w.lead_token, "startOuting", json!({ "outingId": id }))
        .await;
    assert_eq!(outing(&started, "startOuting")["status"], "IN_PROGRESS");
    // Nothing is overdue, and nothing falls due before the first check-in.
    assert!(!app.watchdog().await.did_work());
}
