//! Training over HTTP: the curriculum, recording completions (prerequisites, certificates,
//! refusals), capabilities, who sees training records, supervision, the coordinators' overview and
//! workload view, and follow-up reminders moved by a controllable clock and by the settings.

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::notifications;
use tomoni_tests::program::reason;
use tomoni_tests::push_receiver::PushReceiver;
use tomoni_tests::{TestApp, spawn_app, spawn_app_with};
use uuid::Uuid;

const TRAINING: &str = "query($id: ID!) { person(id: $id) { capabilities { stage mayBeMatched mayLeadOutings mayJoinAsTrainee missingToBeMatched missingToLead followUpDueOn followUpOverdue } training { courses { course { id } modulesCompleted modulesTotal minutesCompleted minutesTotal percent isComplete completedOn coursePrerequisitesMet nextModule { id } nextModuleReady missingPrerequisiteModuleIds } certificates { courseId completedOn } lastSupervision { heldOn note } needsSupervisionFollowUp } } }";

async fn training(app: &TestApp, token: &str, supporter: &str) -> serde_json::Value {
    app.graphql(Some(token), TRAINING, json!({ "id": supporter }))
        .await
        .data()["person"]
        .clone()
}

#[tokio::test]
async fn completions_follow_prerequisites_and_certificates_unlock_capabilities() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    let today = app.today();
    let complete = async |module: &str, on: &str| {
        app.record_completion(&coordinator, &supporter, module, on)
            .await
    };

    let person = training(&app, &coordinator, &supporter).await;
    assert_eq!(person["capabilities"]["stage"], "NOT_STARTED");
    assert_eq!(person["capabilities"]["mayJoinAsTrainee"], false);
    let basic = &person["training"]["courses"][0];
    assert_eq!(
        basic["nextModule"]["id"],
        curriculum.basic_modules[0].as_str()
    );
    assert_eq!(basic["nextModuleReady"], true);
    let specialised = &person["training"]["courses"][1];
    assert_eq!(specialised["coursePrerequisitesMet"], false);
    assert_eq!(specialised["nextModuleReady"], false);

    // The third basic module requires the first.
    let before = app.snapshot().await;
    let early = complete(&curriculum.basic_modules[2], &today).await;
    early.expect_error("CONFLICT");
    assert_eq!(reason(&early), Some("PREREQUISITES_NOT_MET"));
    assert_eq!(
        early.body["errors"][0]["extensions"]["missing"],
        json!([curriculum.basic_modules[0]])
    );
    // Specialised modules require the basic course.
    let specialised_early = complete(&curriculum.specialised_modules[0], &today).await;
    assert_eq!(reason(&specialised_early), Some("PREREQUISITES_NOT_MET"));
    // Future dates, unknown modules, bad ids.
    let tomorrow = (app.clock.now() + Duration::days(2))
        .date_naive()
        .to_string();
    complete(&curriculum.basic_modules[0], &tomorrow)
        .await
        .expect_error("BAD_USER_INPUT");
    complete(&Uuid::now_v7().to_string(), &today)
        .await
        .expect_error("NOT_FOUND");
    assert_eq!(app.snapshot().await, before);

    let first = complete(&curriculum.basic_modules[0], &today).await;
    assert_eq!(
        first.data()["recordModuleCompletion"]["completion"]["minutes"],
        90
    );
    assert!(first.data()["recordModuleCompletion"]["certificate"].is_null());
    complete(&curriculum.basic_modules[0], &today)
        .await
        .expect_error("CONFLICT");
    let person = training(&app, &coordinator, &supporter).await;
    assert_eq!(person["capabilities"]["stage"], "BASIC_IN_PROGRESS");
    assert_eq!(person["capabilities"]["mayJoinAsTrainee"], true);
    assert_eq!(person["capabilities"]["mayBeMatched"], false);
    let basic = &person["training"]["courses"][0];
    assert_eq!(basic["modulesCompleted"], 1);
    assert_eq!(basic["percent"], 33);
    assert_eq!(basic["minutesCompleted"], 90);
    assert_eq!(basic["minutesTotal"], 270);

    complete(&curriculum.basic_modules[1], &today).await.data();
    let last = complete(&curriculum.basic_modules[2], &today).await;
    let certificate = &last.data()["recordModuleCompletion"]["certificate"];
    assert_eq!(certificate["courseId"], curriculum.basic.as_str());
    assert_eq!(certificate["completedOn"], today.as_str());
    let person = training(&app, &coordinator, &supporter).await;
    assert_eq!(person["capabilities"]["stage"], "BASIC_COMPLETE");
    assert_eq!(person["capabilities"]["mayBeMatched"], true);
    assert_eq!(person["capabilities"]["mayLeadOutings"], false);
    assert_eq!(
        person["capabilities"]["missingToLead"],
        json!(["SPECIALISED_COURSE"])
    );
    assert_eq!(person["training"]["courses"][0]["isComplete"], true);
    assert_eq!(person["training"]["courses"][1]["nextModuleReady"], true);

    app.complete_modules(
        &coordinator,
        &supporter,
        &curriculum.specialised_modules,
        &today,
    )
    .await;
    let person = training(&app, &coordinator, &supporter).await;
    assert_eq!(person["capabilities"]["stage"], "SPECIALISED_COMPLETE");
    assert_eq!(person["capabilities"]["mayLeadOutings"], true);
    assert_eq!(
        person["training"]["certificates"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn training_records_are_for_the_supporter_coordinators_and_trainers() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (_, stranger) = app.organisation_with_coordinator("Elsewhere").await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    let trainer = app
        .create_person(&coordinator, "SUPPORTER", "Trainer")
        .await;
    let participant = app.create_person(&coordinator, "PARTICIPANT", "Yu").await;
    let (supporter_token, _) = app.pair(&coordinator, &supporter).await;
    let (trainer_token, _) = app.pair(&coordinator, &trainer).await;
    let (participant_token, _) = app.pair(&coordinator, &participant).await;
    let today = app.today();

    // Their own record: yes. Somebody else's: not even the person.
    let own = training(&app, &supporter_token, &supporter).await;
    assert_eq!(own["training"]["courses"].as_array().unwrap().len(), 2);
    for token in [&trainer_token, &participant_token, &stranger] {
        app.graphql(Some(token), TRAINING, json!({ "id": supporter }))
            .await
            .expect_error("NOT_FOUND");
    }
    // Recording: not a plain supporter, not for themselves as a trainer, yes for others.
    let module = curriculum.basic_modules[0].as_str();
    let record = async |token: &str, who: &str, assessor: &str| {
        app.graphql(
            Some(token),
            tomoni_tests::program::RECORD_COMPLETION,
            json!({ "input": { "supporterId": who, "moduleId": module, "completedOn": today, "assessedById": assessor } }),
        )
        .await
    };
    record(&trainer_token, &supporter, &trainer)
        .await
        .expect_error("FORBIDDEN");
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateSupporterSettingsInput!) { updateSupporterSettings(input: $input) { supporter { supporterProfile { isTrainer } } } }",
        json!({ "input": { "supporterId": trainer, "isTrainer": true } }),
    )
    .await
    .data();
    record(&trainer_token, &trainer, &trainer)
        .await
        .expect_error("FORBIDDEN");
    // The assessor must be a coordinator or trainer of the organisation.
    record(&trainer_token, &supporter, &participant)
        .await
        .expect_error("BAD_USER_INPUT");
    record(&trainer_token, &supporter, &trainer).await.data();
    record(&stranger, &supporter, &trainer)
        .await
        .expect_error("NOT_FOUND");
    // The curriculum itself: coordinators change it, everyone of the organisation reads it.
    app.graphql(
        Some(&supporter_token),
        "mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }",
        json!({ "input": { "level": "OWN", "titleJa": "独自", "titleEn": "Own" } }),
    )
    .await
    .expect_error("FORBIDDEN");
    let courses = app
        .graphql(
            Some(&participant_token),
            "{ courses { id modules { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(courses.data()["courses"].as_array().unwrap().len(), 2);
    let elsewhere = app
        .graphql(Some(&stranger), "{ courses { id } }", json!({}))
        .await;
    assert_eq!(elsewhere.data()["courses"], json!([]));
    // Overview and workload are for coordinators.
    for query in [
        "{ trainingOverview { nodes { supporter { id } } } }",
        "{ workload { nodes { supporter { id } } } }",
    ] {
        app.graphql(Some(&supporter_token), query, json!({}))
            .await
            .expect_error("FORBIDDEN");
    }
}

#[tokio::test]
async fn supervision_overview_and_workload_show_each_supporter() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let coordinator_id = app.viewer_id(&coordinator).await;
    let curriculum = app.curriculum(&coordinator).await;
    let trained = app
        .matchable_supporter(&coordinator, &curriculum, "Trained")
        .await;
    let new = app.create_person(&coordinator, "SUPPORTER", "New").await;
    let participant = app.create_person(&coordinator, "PARTICIPANT", "Yu").await;
    let (participant_token, _) = app.pair(&coordinator, &participant).await;
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateProgramSettingsInput!) { updateProgramSettings(input: $input) { settings { matchCapacity } } }",
        json!({ "input": { "matchCapacity": 2 } }),
    )
    .await
    .data();
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateProgramSettingsInput!) { updateProgramSettings(input: $input) { settings { matchCapacity } } }",
        json!({ "input": { "matchCapacity": 0 } }),
    )
    .await
    .expect_error("BAD_USER_INPUT");
    app.propose(&coordinator, &trained, &participant)
        .await
        .data();

    let yesterday = (app.clock.now() - Duration::days(1))
        .date_naive()
        .to_string();
    // A mistyped year is refused, not stored (and writes nothing: the last session stays empty).
    for held_on in ["0026-05-11", "-5000-01-01"] {
        app.graphql(
            Some(&coordinator),
            "mutation($input: RecordSupervisionInput!) { recordSupervision(input: $input) { session { heldOn } } }",
            json!({ "input": { "supporterId": trained, "supervisorId": coordinator_id, "heldOn": held_on, "note": "x" } }),
        )
        .await
        .expect_error("BAD_USER_INPUT");
    }
    assert!(training(&app, &coordinator, &trained).await["training"]["lastSupervision"].is_null());
    let session = app
        .graphql(
            Some(&coordinator),
            "mutation($input: RecordSupervisionInput!) { recordSupervision(input: $input) { session { heldOn note supervisor { id } } } }",
            json!({ "input": { "supporterId": trained, "supervisorId": coordinator_id, "heldOn": yesterday, "note": "境界線について話した" } }),
        )
        .await;
    assert_eq!(
        session.data()["recordSupervision"]["session"]["supervisor"]["id"],
        coordinator_id.as_str()
    );
    let person = training(&app, &coordinator, &trained).await;
    assert_eq!(
        person["training"]["lastSupervision"]["heldOn"],
        yesterday.as_str()
    );

    let overview = app
        .graphql(
            Some(&coordinator),
            "{ all: trainingOverview { nodes { supporter { id } capabilities { stage } lastSupervisionOn } } basic: trainingOverview(stage: BASIC_COMPLETE) { nodes { supporter { id } } } page: trainingOverview(first: 1) { pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    let data = overview.data();
    assert_eq!(data["all"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(
        data["basic"]["nodes"],
        json!([{ "supporter": { "id": trained } }])
    );
    assert_eq!(data["page"]["pageInfo"]["hasNextPage"], true);
    let cursor = data["page"]["pageInfo"]["endCursor"].as_str().unwrap();
    let next = app
        .graphql(
            Some(&coordinator),
            "query($after: String) { trainingOverview(first: 1, after: $after) { nodes { supporter { id } } pageInfo { hasNextPage } } }",
            json!({ "after": cursor }),
        )
        .await;
    assert_eq!(
        next.data()["trainingOverview"]["pageInfo"]["hasNextPage"],
        false
    );

    let workload = app
        .graphql(
            Some(&coordinator),
            "{ workload { nodes { supporter { id } proposedMatches matchCapacity matchLimit lastSupervisionOn needsAttention stage } } }",
            json!({}),
        )
        .await;
    let nodes = workload.data()["workload"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let row = |id: &str| {
        nodes
            .iter()
            .find(|n| n["supporter"]["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(row(&trained)["proposedMatches"], 1);
    assert_eq!(row(&trained)["matchCapacity"], 2);
    assert_eq!(row(&trained)["matchLimit"], "NEAR");
    assert_eq!(row(&trained)["needsAttention"], true);
    assert_eq!(row(&trained)["lastSupervisionOn"], yesterday.as_str());
    assert_eq!(row(&new)["stage"], "NOT_STARTED");
    assert_eq!(row(&new)["matchLimit"], "OK");
    // Participants never see supervision notes (nor the supporter, without an active match).
    app.graphql(Some(&participant_token), TRAINING, json!({ "id": trained }))
        .await
        .expect_error("NOT_FOUND");
}

fn at_ten_tokyo(day: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Asia::Tokyo
        .with_ymd_and_hms(day.year(), day.month(), day.day(), 10, 0, 0)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// When a follow-up due on `due` is reminded: 30 days and 7 days before, and on the day.
fn reminders_before(due: NaiveDate) -> Vec<chrono::DateTime<chrono::Utc>> {
    vec![
        at_ten_tokyo(due - Duration::days(30)),
        at_ten_tokyo(due - Duration::days(7)),
        at_ten_tokyo(due),
    ]
}

async fn pending_follow_ups(app: &TestApp) -> Vec<chrono::DateTime<chrono::Utc>> {
    notifications::Entity::find()
        .filter(notifications::Column::Kind.eq("training_due"))
        .filter(notifications::Column::Status.eq("pending"))
        .order_by_asc(notifications::Column::NotBefore)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.not_before)
        .collect()
}

#[tokio::test]
async fn follow_up_falls_due_with_reminders_that_move_with_the_interval() {
    let app = spawn_app_with(|settings| settings.push.dispatcher = false).await;
    let receiver = PushReceiver::start().await;
    receiver.follow_clock(&app.clock);
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app
        .matchable_supporter(&coordinator, &curriculum, "Ken")
        .await;
    let (supporter_token, _) = app.pair(&coordinator, &supporter).await;
    app.register_push(&supporter_token, &receiver).await;
    assert!(
        pending_follow_ups(&app).await.is_empty(),
        "basic alone sets no follow-up"
    );

    let today = app
        .clock
        .now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    app.complete_modules(
        &coordinator,
        &supporter,
        &curriculum.specialised_modules,
        &today.to_string(),
    )
    .await;
    let due = today.checked_add_months(chrono::Months::new(12)).unwrap();
    let person = training(&app, &coordinator, &supporter).await;
    assert_eq!(person["capabilities"]["followUpDueOn"], due.to_string());
    assert_eq!(pending_follow_ups(&app).await, reminders_before(due));

    // Six months instead of twelve: the reminders move, none is doubled.
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateProgramSettingsInput!) { updateProgramSettings(input: $input) { settings { followUpIntervalMonths } } }",
        json!({ "input": { "followUpIntervalMonths": 6 } }),
    )
    .await
    .data();
    let due = today.checked_add_months(chrono::Months::new(6)).unwrap();
    assert_eq!(pending_follow_ups(&app).await, reminders_before(due));

    // The clock reaches the first reminder: it is pushed, in the supporter's language.
    app.clock
        .set(at_ten_tokyo(due - Duration::days(30)) + Duration::minutes(1));
    app.drain().await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].payload["kind"], "training_due");
    assert_eq!(received[0].payload["dueOn"], due.to_string());
    app.clock
        .set(at_ten_tokyo(due - Duration::days(7)) + Duration::minutes(1));
    app.drain().await;
    assert_eq!(receiver.received().len(), 2);
    // On the due date it is overdue: leading stops, matching does not.
    app.clock.set(at_ten_tokyo(due) + Duration::minutes(1));
    let person = training(&app, &coordinator, &supporter).await;
    assert_eq!(person["capabilities"]["followUpOverdue"], true);
    assert_eq!(person["capabilities"]["mayLeadOutings"], false);
    assert_eq!(person["capabilities"]["mayBeMatched"], true);
    assert_eq!(
        person["capabilities"]["missingToLead"],
        json!(["FOLLOW_UP_OVERDUE"])
    );
    app.drain().await;
    assert_eq!(
        receiver.received().len(),
        3,
        "30 days, 7 days, and the day itself"
    );
    let overdue = app
        .graphql(
            Some(&coordinator),
            "{ trainingOverview(followUpOverdue: true) { nodes { supporter { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        overdue.data()["trainingOverview"]["nodes"],
        json!([{ "supporter": { "id": supporter } }])
    );
}
