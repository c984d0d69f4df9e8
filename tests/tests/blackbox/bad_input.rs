//! What confused users, flaky connections and hostile clients send: each gets a clear error with an
//! `extensions.code`, never a 500, and nothing is written.

use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use tomoni_schema::domain::clock::Clock as _;
use tomoni_tests::{Answer, TestApp, answer, spawn_app};

const CREATE: &str =
    "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }";

async fn post_raw(app: &TestApp, token: &str, content_type: Option<&str>, body: Vec<u8>) -> Answer {
    let mut request = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    answer(request.send().await.unwrap()).await
}

/// Checks the answer's status and code, and that nothing changed in the database.
async fn refused(
    app: &TestApp,
    before: &[u64],
    answer: &Answer,
    status: u16,
    code: &str,
    what: &str,
) {
    assert_eq!(answer.status.as_u16(), status, "{what}: {answer:?}");
    assert_eq!(answer.error_code(), Some(code), "{what}: {answer:?}");
    assert_eq!(
        app.snapshot().await,
        before,
        "{what}: something was written"
    );
}

#[tokio::test]
async fn malformed_http_requests_are_refused_with_codes() {
    let app = spawn_app().await;
    let (_, token) = app.organisation_with_coordinator("Hospital").await;
    let before = app.snapshot().await;
    let assert_refused = async |answer: &Answer, status: u16, code: &str, what: &str| {
        refused(&app, &before, answer, status, code, what).await;
    };
    let valid = serde_json::to_vec(&json!({
        "query": CREATE,
        "variables": { "input": { "displayName": "X", "role": "PARTICIPANT" } }
    }))
    .unwrap();

    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16)> = vec![
        (
            "malformed JSON",
            Some("application/json"),
            b"{\"query\": \"mutation {".to_vec(),
            400,
        ),
        (
            "JSON that is not a request",
            Some("application/json"),
            b"{\"nope\": 1}".to_vec(),
            400,
        ),
        ("wrong content type", Some("text/plain"), valid.clone(), 415),
        (
            "form content type",
            Some("application/x-www-form-urlencoded"),
            valid.clone(),
            415,
        ),
        ("no content type", None, valid.clone(), 415),
        ("empty body", Some("application/json"), Vec::new(), 400),
        ("empty batch", Some("application/json"), b"[]".to_vec(), 400),
    ];
    for (what, content_type, body, status) in cases {
        let answer = post_raw(&app, &token, content_type, body).await;
        assert_refused(&answer, status, "BAD_USER_INPUT", what).await;
    }

    // Over the body limit (1 MiB by default): 413, still a JSON error.
    let padding = "#".repeat(1024 * 1024 + 1);
    let huge = serde_json::to_vec(&json!({ "query": format!("{padding}\n{CREATE}") })).unwrap();
    let answer = post_raw(&app, &token, Some("application/json"), huge).await;
    assert_refused(&answer, 413, "BAD_USER_INPUT", "body over the limit").await;

    // A batch over the cap (10 by default) runs nothing.
    let batch: Vec<_> = (0..11)
        .map(|i| json!({ "query": CREATE, "variables": { "input": { "displayName": format!("P{i}"), "role": "PARTICIPANT" } } }))
        .collect();
    let answer = post_raw(
        &app,
        &token,
        Some("application/json"),
        serde_json::to_vec(&batch).unwrap(),
    )
    .await;
    assert_refused(&answer, 400, "BAD_USER_INPUT", "batch over the cap").await;

    // A malformed Authorization header is refused, not treated as anonymous.
    let answer = answer_of(
        app.http
            .post(app.url("/graphql"))
            .header("Authorization", "Token abc")
            .json(&json!({ "query": "{ viewer { id } }" })),
    )
    .await;
    assert_refused(&answer, 401, "UNAUTHENTICATED", "malformed Authorization").await;
    let answer = answer_of(
        app.http
            .post(app.url("/graphql"))
            .bearer_auth("tmn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .json(&json!({ "query": "{ viewer { id } }" })),
    )
    .await;
    assert_refused(&answer, 401, "UNAUTHENTICATED", "unknown token").await;
}

async fn answer_of(request: reqwest::RequestBuilder) -> Answer {
    answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_mutation_sent_with_get_is_refused_and_queries_work() {
    let app = spawn_app().await;
    let (_, token) = app.organisation_with_coordinator("Hospital").await;
    let before = app.snapshot().await;
    let assert_refused = async |answer: &Answer, status: u16, code: &str, what: &str| {
        refused(&app, &before, answer, status, code, what).await;
    };
    let mutation = r#"mutation { createPerson(input: {displayName: "X", role: PARTICIPANT}) { person { id } } }"#;
    let answer = answer_of(
        app.http
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&[("query", mutation)]),
    )
    .await;
    assert_refused(&answer, 405, "BAD_USER_INPUT", "mutation over GET").await;

    // Named operations: the one that would run decides.
    let two = r#"query Q { viewer { id } } mutation M { createPerson(input: {displayName: "X", role: PARTICIPANT}) { person { id } } }"#;
    let answer = answer_of(
        app.http
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&[("query", two), ("operationName", "M")]),
    )
    .await;
    assert_refused(&answer, 405, "BAD_USER_INPUT", "named mutation over GET").await;

    let answer = answer_of(
        app.http
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&[("query", two), ("operationName", "Q")]),
    )
    .await;
    assert!(answer.data()["viewer"]["id"].is_string());

    let answer = answer_of(app.http.get(app.url("/graphql"))).await;
    assert_refused(&answer, 400, "BAD_USER_INPUT", "GET without a query").await;
    let answer = answer_of(app.http.put(app.url("/graphql")).body("{}")).await;
    assert_refused(&answer, 405, "BAD_USER_INPUT", "PUT").await;
}

#[tokio::test]
async fn bad_graphql_documents_and_values_get_codes_and_write_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.organisation_with_coordinator("Hospital").await;
    let before = app.snapshot().await;
    // Nesting a type in itself again and again is the classic way to make a query expensive.
    let mut deep = String::from("name");
    for _ in 0..20 {
        deep = format!("ofType {{ {deep} }}");
    }
    let cases: Vec<(&str, String, serde_json::Value, Option<&str>)> = vec![
        (
            "a document that does not parse",
            "mutation { createPerson(".into(),
            json!({}),
            None,
        ),
        (
            "an unknown field",
            "{ viewer { id password } }".into(),
            json!({}),
            None,
        ),
        (
            "an unknown input field",
            CREATE.into(),
            json!({ "input": { "displayName": "X", "role": "PARTICIPANT", "isAdmin": true } }),
            None,
        ),
        (
            "an unknown enum value",
            CREATE.into(),
            json!({ "input": { "displayName": "X", "role": "ADMIN" } }),
            None,
        ),
        (
            "an Int outside 32 bits",
            "{ people(first: 4294967296) { nodes { id } } }".into(),
            json!({}),
            None,
        ),
        (
            "first above the maximum",
            "{ people(first: 101) { nodes { id } } }".into(),
            json!({}),
            Some("first"),
        ),
        (
            "first of zero",
            "{ people(first: 0) { nodes { id } } }".into(),
            json!({}),
            Some("first"),
        ),
        (
            "a forged cursor",
            r#"{ people(after: "bm90LWEtY3Vyc29y") { nodes { id } } }"#.into(),
            json!({}),
            Some("after"),
        ),
        (
            "an invalid id",
            r#"{ person(id: "42") { id } }"#.into(),
            json!({}),
            Some("id"),
        ),
        (
            "a query past the depth limit",
            format!("{{ __schema {{ queryType {{ fields {{ type {{ {deep} }} }} }} }} }}"),
            json!({}),
            None,
        ),
        (
            "aliases past the complexity limit",
            format!(
                "{{ {} }}",
                (0..600)
                    .map(|i| format!("a{i}: viewer {{ id displayName }}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            json!({}),
            None,
        ),
        (
            "a name too long",
            CREATE.into(),
            json!({ "input": { "displayName": "長".repeat(101), "role": "PARTICIPANT" } }),
            Some("displayName"),
        ),
        (
            "an unknown time zone",
            CREATE.into(),
            json!({ "input": { "displayName": "X", "role": "PARTICIPANT", "timeZone": "Mars/Olympus" } }),
            Some("timeZone"),
        ),
    ];
    for (what, query, variables, field) in cases {
        let answer = app.graphql(Some(&token), &query, variables).await;
        assert_ne!(answer.status.as_u16(), 500, "{what}");
        refused(
            &app,
            &before,
            &answer,
            answer.status.as_u16(),
            "BAD_USER_INPUT",
            what,
        )
        .await;
        if let Some(field) = field {
            assert_eq!(
                answer.body["errors"][0]["extensions"]["field"], field,
                "{what}: {answer:?}"
            );
        }
    }
}

#[tokio::test]
async fn unknown_ids_and_unknown_routes_are_not_found() {
    let app = spawn_app().await;
    let (_, token) = app.organisation_with_coordinator("Hospital").await;
    let answer = app
        .graphql(
            Some(&token),
            r#"{ person(id: "0195a4b8-0000-7000-8000-000000000000") { id } }"#,
            json!({}),
        )
        .await;
    answer.expect_error("NOT_FOUND");
    assert_eq!(answer.body["data"]["person"], json!(null));
    let response = app.http.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .http
        .get(app.url("/playground/assets/../../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// Row counts of the snapshot's tables and of the outing and rota tables too.
async fn everything(app: &TestApp) -> Vec<u64> {
    use tomoni_schema::store::entities::*;
    let mut counts = app.snapshot().await;
    counts.extend([
        app.count(outings::Entity).await,
        app.count(outing_members::Entity).await,
        app.count(check_ins::Entity).await,
        app.count(alerts::Entity).await,
        app.count(duty_shifts::Entity).await,
        app.count(duty_exceptions::Entity).await,
    ]);
    counts
}

/// The earliest and nearly the latest instants chrono represents.
const MIN: &str = "-262143-01-01T00:00:00Z";
const MIN_NEXT_DAY: &str = "-262143-01-02T00:00:00Z";
const MAX: &str = "+262142-12-30T10:00:00Z";
const MAX_LATER: &str = "+262142-12-30T11:00:00Z";

const MY_DAY: &str = "query($from: DateTime, $to: DateTime) { myDay(from: $from, to: $to) { id } }";
const OUTINGS: &str =
    "query($from: DateTime, $to: DateTime) { outings(from: $from, to: $to) { nodes { id } } }";

/// Every date a request carries is bounded (1990 to 2100, windows at most 92 days or the query's
/// own tighter limit) before any arithmetic: chrono's extreme dates used to panic in date
/// arithmetic and drop the connection with no answer.
#[tokio::test]
async fn dates_out_of_bounds_are_bad_user_input_before_any_arithmetic() {
    let app = crate::outings::app().await;
    let w = crate::outings::world(&app).await;
    let planned = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, 10, 60)
        .await;
    let outing_id = planned.data()["planOuting"]["outing"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = everything(&app).await;

    let plan = |start: &str, end: &str| {
        json!({ "input": {
            "participantId": w.participant, "leadSupporterId": w.lead, "purpose": "TRANSPORT_PRACTICE",
            "place": "市バス 西長堀", "plannedStart": start, "plannedEnd": end,
        } })
    };
    let cases: Vec<(&str, &str, &str, serde_json::Value, &str)> = vec![
        (
            "myDay from chrono's first day",
            &w.lead_token,
            MY_DAY,
            json!({ "from": MIN, "to": MIN_NEXT_DAY }),
            "from",
        ),
        (
            "myDay to chrono's last year",
            &w.lead_token,
            MY_DAY,
            json!({ "from": "2026-01-01T00:00:00Z", "to": MAX }),
            "to",
        ),
        (
            "myDay from before 1990",
            &w.lead_token,
            MY_DAY,
            json!({ "from": "1989-12-31T23:00:00Z", "to": "1990-01-01T01:00:00Z" }),
            "from",
        ),
        (
            "myDay over 31 days",
            &w.lead_token,
            MY_DAY,
            json!({ "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:01Z" }),
            "to",
        ),
        (
            "outings over 500,000 years",
            &w.coordinator,
            OUTINGS,
            json!({ "from": "-250000-01-01T00:00:00Z", "to": "+250000-01-01T00:00:00Z" }),
            "from",
        ),
        (
            "outings over 92 days",
            &w.coordinator,
            OUTINGS,
            json!({ "from": "2026-01-01T00:00:00Z", "to": "2026-04-03T00:00:01Z" }),
            "to",
        ),
        (
            "outings to chrono's last year",
            &w.coordinator,
            OUTINGS,
            json!({ "to": MAX }),
            "to",
        ),
        (
            "dutyRota from chrono's first day",
            &w.coordinator,
            "query($from: DateTime!, $to: DateTime!) { dutyRota(from: $from, to: $to) { from } }",
            json!({ "from": MIN, "to": MIN_NEXT_DAY }),
            "from",
        ),
        (
            "addDutyException in chrono's last year",
            &w.coordinator,
            "mutation($input: AddDutyExceptionInput!) { addDutyException(input: $input) { exception { id } } }",
            json!({ "input": { "personId": w.coordinator_id, "from": MAX, "to": MAX_LATER, "kind": "OFF" } }),
            "from",
        ),
        (
            "planOuting in chrono's last year",
            &w.coordinator,
            tomoni_tests::program::PLAN_OUTING,
            plan(MAX, MAX_LATER),
            "plannedStart",
        ),
        (
            "planOuting ending after 2100",
            &w.coordinator,
            tomoni_tests::program::PLAN_OUTING,
            plan("2099-12-31T23:30:00Z", "2100-01-01T00:30:00Z"),
            "plannedEnd",
        ),
        (
            "replanOuting to chrono's last year",
            &w.coordinator,
            "mutation($input: ReplanOutingInput!) { replanOuting(input: $input) { outing { id } } }",
            json!({ "input": { "outingId": outing_id, "plannedStart": MAX, "plannedEnd": MAX_LATER } }),
            "plannedStart",
        ),
        (
            "checkIn made in chrono's first year",
            &w.lead_token,
            "mutation($input: CheckInInput!) { checkIn(input: $input) { checkIn { id } } }",
            json!({ "input": { "outingId": outing_id, "kind": "OK", "madeAt": MIN } }),
            "madeAt",
        ),
        (
            "recordModuleCompletion in chrono's first year",
            &w.coordinator,
            tomoni_tests::program::RECORD_COMPLETION,
            json!({ "input": { "supporterId": w.lead, "moduleId": w.curriculum.basic_modules[0], "completedOn": "-262143-01-01", "assessedById": w.coordinator_id } }),
            "completedOn",
        ),
    ];
    for (what, token, query, variables, field) in cases {
        let answer = app.graphql(Some(token), query, variables).await;
        assert_eq!(answer.status.as_u16(), 200, "{what}: {answer:?}");
        assert_eq!(
            answer.error_code(),
            Some("BAD_USER_INPUT"),
            "{what}: {answer:?}"
        );
        assert_eq!(
            answer.body["errors"][0]["extensions"]["field"], field,
            "{what}: {answer:?}"
        );
        assert_eq!(
            everything(&app).await,
            before,
            "{what}: something was written"
        );
    }

    // Inside the bounds, the same queries answer.
    app.graphql(
        Some(&w.coordinator),
        OUTINGS,
        json!({ "from": "2026-01-01T00:00:00Z", "to": "2026-04-03T00:00:00Z" }),
    )
    .await
    .data();

    // An SOS is never refused for its `madeAt`: one out of bounds counts as sent now.
    app.clock.advance(chrono::Duration::minutes(10));
    app.start_planned(&w.lead_token, &outing_id).await;
    let sos = app
        .graphql(
            Some(&w.participant_token),
            "mutation($input: CheckInInput!) { checkIn(input: $input) { checkIn { kind madeAt } } }",
            json!({ "input": { "outingId": outing_id, "kind": "SOS", "madeAt": MIN } }),
        )
        .await;
    let made_at: chrono::DateTime<chrono::Utc> = sos.data()["checkIn"]["checkIn"]["madeAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((made_at - app.clock.now()).num_seconds().abs() <= 1);
}

/// Every list argument is bounded on its length before its items are read and before the
/// database is touched: each list below is one item too long, of items that are all wrong, and
/// the refusal names the argument and the limit, runs no SQL statement and changes nothing.
#[tokio::test]
async fn over_long_lists_are_refused_on_their_length_before_any_work() {
    let app = spawn_app().await;
    let (_, token) = app.organisation_with_coordinator("Hospital").await;
    let someone = "0195a4b8-0000-7000-8000-000000000000";
    let before = everything(&app).await;
    let bad_ids = |n: usize| vec!["not-an-id"; n];
    let cases: Vec<(&str, &str, serde_json::Value, usize)> = vec![
        (
            "traineeSupporterIds",
            tomoni_tests::program::PLAN_OUTING,
            json!({ "input": {
                "participantId": someone, "leadSupporterId": someone, "purpose": "TRANSPORT_PRACTICE",
                "place": "x", "plannedStart": "2026-12-01T10:00:00Z", "plannedEnd": "2026-12-01T11:00:00Z",
                "traineeSupporterIds": bad_ids(6),
            } }),
            5,
        ),
        (
            "alertIds",
            "mutation($input: AcknowledgeAlertsInput!) { acknowledgeAlerts(input: $input) { alerts { id } } }",
            json!({ "input": { "alertIds": bad_ids(21) } }),
            20,
        ),
        (
            "prerequisiteCourseIds",
            "mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }",
            json!({ "input": { "level": "BASIC", "titleJa": "x", "titleEn": "x", "prerequisiteCourseIds": bad_ids(51) } }),
            50,
        ),
        (
            "prerequisiteModuleIds",
            "mutation($input: AddCourseModuleInput!) { addCourseModule(input: $input) { module { id } } }",
            json!({ "input": { "courseId": someone, "titleJa": "x", "titleEn": "x", "format": "LECTURE", "durationMinutes": 90, "prerequisiteModuleIds": bad_ids(51) } }),
            50,
        ),
        (
            "shifts",
            "mutation($input: SetDutyPatternInput!) { setDutyPattern(input: $input) { shifts { id } } }",
            json!({ "input": { "personId": someone, "shifts": vec![json!({ "weekday": "MONDAY", "start": "99:99", "end": "99:99" }); 22] } }),
            21,
        ),
        (
            "minutesBefore",
            "mutation($input: UpdateOutingRemindersInput!) { updateOutingReminders(input: $input) { minutesBefore } }",
            json!({ "input": { "minutesBefore": [-1, -1, -1, -1] } }),
            3,
        ),
        (
            "experienceTags",
            "mutation($input: UpdateSupporterProfileInput!) { updateSupporterProfile(input: $input) { person { id } } }",
            json!({ "input": { "personId": someone, "experienceTags": vec!["\u{7}"; 31] } }),
            30,
        ),
        (
            "preferences",
            "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) { person { id } } }",
            json!({ "input": { "personId": someone, "preferences": vec!["\u{7}"; 31] } }),
            30,
        ),
    ];
    for (field, query, variables, limit) in cases {
        let answer = app.graphql(Some(&token), query, variables.clone()).await;
        assert_eq!(answer.status.as_u16(), 200, "{field}: {answer:?}");
        let message = answer.expect_error("BAD_USER_INPUT");
        assert_eq!(
            answer.body["errors"][0]["extensions"]["field"], field,
            "{answer:?}"
        );
        assert_eq!(message, format!("{field}: must have at most {limit} items"));
        assert_eq!(
            everything(&app).await,
            before,
            "{field}: something was written"
        );

        let (statements, response) =
            crate::statements::statements_of(&app, &token, query, variables).await;
        let errors = response.errors;
        assert_eq!(errors.len(), 1, "{field}: {errors:?}");
        assert_eq!(
            statements, 0,
            "{field}: refused only after touching the database"
        );
    }
}
