//! What confused users, flaky connections and hostile clients send: each gets a clear error with an
//! `extensions.code`, never a 500, and nothing is written.

use reqwest::header::CONTENT_TYPE;
use serde_json::json;
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
        refused(&app, &before, &answer, status, "BAD_USER_INPUT", what).await;
    }

    // Over the body limit (1 MiB by default): 413, still a JSON error.
    let padding = "#".repeat(1024 * 1024 + 1);
    let huge = serde_json::to_vec(&json!({ "query": format!("{padding}\n{CREATE}") })).unwrap();
    let answer = post_raw(&app, &token, Some("application/json"), huge).await;
    refused(
        &app,
        &before,
        &answer,
        413,
        "BAD_USER_INPUT",
        "body over the limit",
    )
    .await;

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
    refused(
        &app,
        &before,
        &answer,
        400,
        "BAD_USER_INPUT",
        "batch over the cap",
    )
    .await;

    // A malformed Authorization header is refused, not treated as anonymous.
    let answer = answer_of(
        app.http
            .post(app.url("/graphql"))
            .header("Authorization", "Token abc")
            .json(&json!({ "query": "{ viewer { id } }" })),
    )
    .await;
    refused(
        &app,
        &before,
        &answer,
        401,
        "UNAUTHENTICATED",
        "malformed Authorization",
    )
    .await;
    let answer = answer_of(
        app.http
            .post(app.url("/graphql"))
            .bearer_auth("tmn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .json(&json!({ "query": "{ viewer { id } }" })),
    )
    .await;
    refused(
        &app,
        &before,
        &answer,
        401,
        "UNAUTHENTICATED",
        "unknown token",
    )
    .await;
}

async fn answer_of(request: reqwest::RequestBuilder) -> Answer {
    answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_mutation_sent_with_get_is_refused_and_queries_work() {
    let app = spawn_app().await;
    let (_, token) = app.organisation_with_coordinator("Hospital").await;
    let before = app.snapshot().await;
    let mutation = r#"mutation { createPerson(input: {displayName: "X", role: PARTICIPANT}) { person { id } } }"#;
    let answer = answer_of(
        app.http
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&[("query", mutation)]),
    )
    .await;
    refused(
        &app,
        &before,
        &answer,
        405,
        "BAD_USER_INPUT",
        "mutation over GET",
    )
    .await;

    // Named operations: the one that would run decides.
    let two = r#"query Q { viewer { id } } mutation M { createPerson(input: {displayName: "X", role: PARTICIPANT}) { person { id } } }"#;
    let answer = answer_of(
        app.http
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&[("query", two), ("operationName", "M")]),
    )
    .await;
    refused(
        &app,
        &before,
        &answer,
        405,
        "BAD_USER_INPUT",
        "named mutation over GET",
    )
    .await;

    let answer = answer_of(
        app.http
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&[("query", two), ("operationName", "Q")]),
    )
    .await;
    assert!(answer.data()["viewer"]["id"].is_string());

    let answer = answer_of(app.http.get(app.url("/graphql"))).await;
    refused(
        &app,
        &before,
        &answer,
        400,
        "BAD_USER_INPUT",
        "GET without a query",
    )
    .await;
    let answer = answer_of(app.http.put(app.url("/graphql")).body("{}")).await;
    refused(&app, &before, &answer, 405, "BAD_USER_INPUT", "PUT").await;
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
