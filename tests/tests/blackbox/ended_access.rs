//! Access that ends with its reason (issue 11, items 2–3): an ended support match calls off the
//! pair's outings that have not started and lets nothing new start, a paused one keeps its outings
//! waiting, and supporters never read one another's profile, training or breaks (not in a field,
//! not in an error).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::audit_log;
use tomoni_tests::TestApp;
use tomoni_tests::program::reason;
use uuid::Uuid;

use crate::outings::{Outing, app, notifications_of, world};

/// Proposes and accepts a match between the world's lead and participant; returns its id.
async fn matched(app: &TestApp, w: &Outing) -> Value {
    let proposed = app.propose(&w.coordinator, &w.lead, &w.participant).await;
    let match_id = proposed.data()["proposeMatch"]["match"]["id"].clone();
    app.match_step(&w.lead_token, "acceptMatch", json!({ "matchId": match_id }))
        .await
        .data();
    match_id
}

async fn end_match(app: &TestApp, w: &Outing, match_id: &Value) {
    app.match_step(
        &w.coordinator,
        "endMatch",
        json!({ "matchId": match_id, "reason": "GOALS_REACHED", "closingReflection": "We closed it together." }),
    )
    .await
    .data();
}

/// `minutes` from the test clock's now, as the API's DateTime.
fn from_now(app: &TestApp, minutes: i64) -> String {
    (app.clock.now() + chrono::Duration::minutes(minutes)).to_rfc3339()
}

fn outing_id(answer: &tomoni_tests::Answer) -> Value {
    answer.data()["planOuting"]["outing"]["id"].clone()
}

async fn outing(app: &TestApp, token: &str, id: &Value) -> Value {
    app.graphql(
        Some(token),
        "query($id: ID!) { outing(id: $id) { status cancelReason } }",
        json!({ "id": id }),
    )
    .await
    .data()["outing"]
        .clone()
}

#[tokio::test]
async fn ending_a_match_calls_off_the_pairs_outings_and_nothing_new_starts() {
    let app = app().await;
    let w = world(&app).await;
    let match_id = matched(&app, &w).await;
    let planned = outing_id(
        &app.plan_outing(&w.coordinator, &w.participant, &w.lead, 30 * 60, 90)
            .await,
    );
    let proposed = outing_id(
        &app.plan_outing(&w.lead_token, &w.participant, &w.lead, 48 * 60, 90)
            .await,
    );
    let under_way = outing_id(
        &app.plan_outing(&w.coordinator, &w.participant, &w.lead, 10, 120)
            .await,
    );
    app.start_planned(&w.lead_token, under_way.as_str().unwrap())
        .await;
    assert_eq!(
        notifications_of(&app, "outing_reminder", &w.participant)
            .await
            .iter()
            .filter(|n| n.status == "pending")
            .count(),
        2,
        "the planned outing's reminders wait"
    );

    end_match(&app, &w, &match_id).await;

    for id in [&planned, &proposed] {
        let called_off = outing(&app, &w.coordinator, id).await;
        assert_eq!(called_off["status"], "CANCELLED", "{called_off}");
        assert_eq!(called_off["cancelReason"], "MATCH_ENDED");
        let audited = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("outing.cancel"))
            .filter(audit_log::Column::SubjectId.eq(Uuid::parse_str(id.as_str().unwrap()).unwrap()))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(audited.len(), 1);
        assert_eq!(
            audited[0].detail.as_ref().unwrap()["reason"],
            "match_ended",
            "audited with its reason"
        );
    }
    // Its reminders are withdrawn, and the members told with a payload that says nothing else.
    assert!(
        notifications_of(&app, "outing_reminder", &w.participant)
            .await
            .iter()
            .all(|n| n.status != "pending"),
        "no reminder announces an outing that is off"
    );
    for person in [&w.participant, &w.lead] {
        let told = notifications_of(&app, "outing_cancelled", person).await;
        assert_eq!(told.len(), 2, "one per outing called off");
        for notification in told {
            let keys: Vec<&String> = notification.message.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                ["kind", "outingId"],
                "ids only: {:?}",
                notification.message
            );
        }
    }
    assert!(
        notifications_of(&app, "outing_cancelled", &w.coordinator_id)
            .await
            .is_empty(),
        "the coordinator who ended it needs no push"
    );

    // The outing under way finishes safely: its people still check in and complete it.
    let checked = app
        .graphql(
            Some(&w.lead_token),
            "mutation($input: CheckInInput!) { checkIn(input: $input) { outing { status } } }",
            json!({ "input": { "outingId": under_way, "kind": "OK" } }),
        )
        .await;
    assert_eq!(checked.data()["checkIn"]["outing"]["status"], "IN_PROGRESS");

    // Nothing new is planned, approved, replanned or started for the pair.
    let again = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, 24 * 60, 60)
        .await;
    assert_eq!(again.error_code(), Some("CONFLICT"), "{:?}", again.body);
    assert_eq!(reason(&again), Some("MATCH_ENDED"));
    let proposal = app
        .plan_outing(&w.lead_token, &w.participant, &w.lead, 24 * 60, 60)
        .await;
    assert_eq!(proposal.error_code(), Some("NOT_FOUND"));
    let start = app
        .outing_step(&w.lead_token, "startOuting", json!({ "outingId": planned }))
        .await;
    assert_eq!(reason(&start), Some("INVALID_TRANSITION"));
    let replan = app
        .outing_step(
            &w.lead_token,
            "replanOuting",
            json!({ "outingId": planned, "place": "somewhere else" }),
        )
        .await;
    assert_eq!(reason(&replan), Some("INVALID_TRANSITION"));
    // Nobody picks MATCH_ENDED by hand.
    let by_hand = app
        .outing_step(
            &w.coordinator,
            "cancelOuting",
            json!({ "outingId": under_way, "reason": "MATCH_ENDED" }),
        )
        .await;
    assert_eq!(by_hand.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        outing(&app, &w.coordinator, &under_way).await["status"],
        "IN_PROGRESS"
    );

    // A new match of the pair opens the way again.
    matched(&app, &w).await;
    app.plan_outing(&w.coordinator, &w.participant, &w.lead, 24 * 60, 60)
        .await
        .data();
}

#[tokio::test]
async fn a_paused_match_keeps_its_outings_from_starting_until_it_resumes() {
    let app = app().await;
    let w = world(&app).await;
    let match_id = matched(&app, &w).await;
    let id = outing_id(
        &app.plan_outing(&w.coordinator, &w.participant, &w.lead, 10, 60)
            .await,
    );
    app.match_step(&w.coordinator, "pauseMatch", json!({ "matchId": match_id }))
        .await
        .data();
    let start = app
        .outing_step(&w.lead_token, "startOuting", json!({ "outingId": id }))
        .await;
    assert_eq!(start.error_code(), Some("CONFLICT"), "{:?}", start.body);
    assert_eq!(reason(&start), Some("MATCH_PAUSED"));
    // It waits: still planned, and may be moved.
    let replanned = app
        .outing_step(
            &w.coordinator,
            "replanOuting",
            json!({ "outingId": id, "place": "区役所" }),
        )
        .await;
    assert_eq!(
        replanned.data()["replanOuting"]["outing"]["status"],
        "PLANNED"
    );
    app.match_step(
        &w.coordinator,
        "resumeMatch",
        json!({ "matchId": match_id }),
    )
    .await
    .data();
    let started = app
        .outing_step(&w.lead_token, "startOuting", json!({ "outingId": id }))
        .await;
    assert_eq!(
        started.data()["startOuting"]["outing"]["status"],
        "IN_PROGRESS"
    );
}

#[tokio::test]
async fn supporters_never_read_another_supporters_profile_training_or_break() {
    let app = app().await;
    let w = world(&app).await;
    matched(&app, &w).await;
    let trainee = app
        .matchable_supporter(&w.coordinator, &w.curriculum, "Aoi")
        .await;
    let (trainee_token, _) = app.pair(&w.coordinator, &trainee).await;
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: UpdateSupporterProfileInput!) { updateSupporterProfile(input: $input) { person { id } } }",
        json!({ "input": { "personId": trainee, "experienceTags": ["discharge"] } }),
    )
    .await
    .data();

    // A trainer recording a completion gets the supporter back without their profile.
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: UpdateSupporterSettingsInput!) { updateSupporterSettings(input: $input) { supporter { id } } }",
        json!({ "input": { "supporterId": w.lead, "isTrainer": true } }),
    )
    .await
    .data();
    let lead_id = app.viewer_id(&w.lead_token).await;
    let recorded = app
        .graphql(
            Some(&w.lead_token),
            "mutation($input: RecordModuleCompletionInput!) { recordModuleCompletion(input: $input) { supporter { id supporterProfile { experienceTags isOnBreak } } } }",
            json!({ "input": { "supporterId": trainee, "moduleId": w.curriculum.specialised_modules[0], "completedOn": app.today(), "assessedById": lead_id } }),
        )
        .await;
    let supporter = &recorded.data()["recordModuleCompletion"]["supporter"];
    assert_eq!(supporter["id"], trainee.as_str());
    assert!(
        supporter["supporterProfile"].is_null(),
        "a trainer reads no profile: {supporter}"
    );
    // The matched participant sees their supporter, not the supporter's profile; the supporter
    // and coordinators read it.
    let profile_query =
        "query($id: ID!) { person(id: $id) { id supporterProfile { experienceTags } } }";
    let seen = app
        .graphql(
            Some(&w.participant_token),
            profile_query,
            json!({ "id": w.lead }),
        )
        .await;
    assert_eq!(seen.data()["person"]["id"], w.lead.as_str());
    assert!(seen.data()["person"]["supporterProfile"].is_null());
    for token in [&w.coordinator, &trainee_token] {
        let own = app
            .graphql(Some(token), profile_query, json!({ "id": trainee }))
            .await;
        assert_eq!(
            own.data()["person"]["supporterProfile"]["experienceTags"],
            json!(["discharge"])
        );
    }

    // A supporter's proposal names no trainee, whatever the trainee's state.
    let with_trainee = json!({ "input": {
        "participantId": w.participant, "leadSupporterId": w.lead,
        "traineeSupporterIds": [trainee], "purpose": "SHOPPING", "place": "スーパー",
        "plannedStart": from_now(&app, 24 * 60), "plannedEnd": from_now(&app, 25 * 60),
    } });
    let proposal = app
        .graphql(
            Some(&w.lead_token),
            tomoni_tests::program::PLAN_OUTING,
            with_trainee.clone(),
        )
        .await;
    assert_eq!(
        proposal.error_code(),
        Some("FORBIDDEN"),
        "{:?}",
        proposal.body
    );

    // The lead replanning an outing whose trainee is on a break hears only that another person
    // cannot take it; the coordinator hears why.
    let planned = app
        .graphql(
            Some(&w.coordinator),
            tomoni_tests::program::PLAN_OUTING,
            with_trainee,
        )
        .await;
    let id = outing_id(&planned);
    app.graphql(
        Some(&trainee_token),
        "mutation($input: TakeBreakInput!) { takeBreak(input: $input) { supporter { id } } }",
        json!({ "input": { "supporterId": trainee } }),
    )
    .await
    .data();
    let later = json!({ "outingId": id,
        "plannedStart": from_now(&app, 26 * 60),
        "plannedEnd": from_now(&app, 27 * 60) });
    let by_lead = app
        .outing_step(&w.lead_token, "replanOuting", later.clone())
        .await;
    assert_eq!(
        reason(&by_lead),
        Some("MEMBER_UNAVAILABLE"),
        "{:?}",
        by_lead.body
    );
    let told = by_lead.body["errors"][0].to_string();
    assert!(
        !told.contains("break") && !told.contains("missing"),
        "nothing about the trainee: {told}"
    );
    let by_coordinator = app.outing_step(&w.coordinator, "replanOuting", later).await;
    assert_eq!(reason(&by_coordinator), Some("SUPPORTER_ON_BREAK"));
}
