//! Query cost limits that hold for everyone (issue 11 item 8): aliases and fields per request are
//! capped, fragment cycles and fan-out are refused before anything expands them, the depth limit
//! is 10, introspection over the API is for coordinators only (HTTP and WebSocket), and the
//! playground gets its schema from the server instead.

use serde_json::{Value, json};
use tomoni_tests::{Answer, TestApp, spawn_app};

use crate::websocket::{acknowledged, operation_over};

/// Checks the refusal's code and `extensions.limit`, and that nothing was written.
async fn refused(app: &TestApp, before: &[u64], answer: &Answer, limit: Option<&str>, what: &str) {
    assert_eq!(answer.status.as_u16(), 200, "{what}: {answer:?}");
    assert_eq!(
        answer.error_code(),
        Some("BAD_USER_INPUT"),
        "{what}: {answer:?}"
    );
    assert!(answer.body["data"].is_null(), "{what}: {answer:?}");
    if let Some(limit) = limit {
        assert_eq!(
            answer.body["errors"][0]["extensions"]["limit"], limit,
            "{what}: {answer:?}"
        );
    }
    assert_eq!(
        app.snapshot().await,
        before,
        "{what}: something was written"
    );
}

fn aliases(count: usize, field: &str) -> String {
    let aliased: Vec<String> = (0..count).map(|i| format!("a{i}: {field}")).collect();
    format!("{{ {} }}", aliased.join(" "))
}

/// `levels` fragments that each spread the next `spreads` times: spreads^levels fields once
/// expanded, from a document of a few hundred bytes.
fn fan_out(levels: usize, spreads: usize) -> String {
    let mut query = String::from("query FanOut { ...F0 }");
    for level in 0..levels {
        let next = vec![format!("...F{}", level + 1); spreads].join(" ");
        query.push_str(&format!(" fragment F{level} on QueryRoot {{ {next} }}"));
    }
    query.push_str(&format!(
        " fragment F{levels} on QueryRoot {{ __typename }}"
    ));
    query
}

/// `{ __schema { queryType { fields { type { ofType { … name } } } } } }`, `depth` fields deep.
fn introspection_of_depth(depth: usize) -> String {
    let mut inner = String::from("name");
    for _ in 0..depth - 5 {
        inner = format!("ofType {{ {inner} }}");
    }
    format!("{{ __schema {{ queryType {{ fields {{ type {{ {inner} }} }} }} }} }}")
}

#[tokio::test]
async fn five_hundred_aliases_and_too_many_fields_are_refused_with_their_limit() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let before = app.snapshot().await;

    // Cheap fields, so that the complexity limit alone would let them through.
    let answer = app
        .graphql(Some(&coordinator), &aliases(500, "__typename"), json!({}))
        .await;
    refused(&app, &before, &answer, Some("ALIASES"), "500 aliases").await;
    assert_eq!(answer.body["errors"][0]["extensions"]["max"], 50);

    let answer = app
        .graphql(Some(&coordinator), &aliases(51, "__typename"), json!({}))
        .await;
    refused(&app, &before, &answer, Some("ALIASES"), "51 aliases").await;
    let answer = app
        .graphql(Some(&coordinator), &aliases(50, "__typename"), json!({}))
        .await;
    assert_eq!(answer.data()["a49"], "QueryRoot");

    let ids = vec!["id"; 600].join(" ");
    let answer = app
        .graphql(
            Some(&coordinator),
            &format!("{{ viewer {{ {ids} }} }}"),
            json!({}),
        )
        .await;
    refused(&app, &before, &answer, Some("FIELDS"), "601 fields").await;

    // A mutation past the caps does not run either.
    let mutations: Vec<String> = (0..60)
        .map(|i| {
            format!(r#"m{i}: createPerson(input: {{ displayName: "X{i}", role: PARTICIPANT }}) {{ person {{ id }} }}"#)
        })
        .collect();
    let answer = app
        .graphql(
            Some(&coordinator),
            &format!("mutation {{ {} }}", mutations.join(" ")),
            json!({}),
        )
        .await;
    refused(
        &app,
        &before,
        &answer,
        Some("ALIASES"),
        "60 aliased mutations",
    )
    .await;
}

/// On main these documents keep a core busy for minutes before any answer (async-graphql expands
/// fragment spreads in its own checks without memory); now they are refused as soon as they parse.
#[tokio::test]
async fn fragment_fan_out_and_fragment_cycles_are_refused_without_expanding_them() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let before = app.snapshot().await;

    let answer = app
        .graphql(Some(&coordinator), &fan_out(12, 10), json!({}))
        .await;
    refused(&app, &before, &answer, Some("FIELDS"), "fragment fan-out").await;

    let cycle = "query Cycle { ...A } \
                 fragment A on QueryRoot { __typename ...B ...B ...B ...B } \
                 fragment B on QueryRoot { ...A ...A ...A ...A }";
    let answer = app.graphql(Some(&coordinator), cycle, json!({})).await;
    refused(
        &app,
        &before,
        &answer,
        None,
        "a fragment cycle that fans out",
    )
    .await;
    assert!(
        answer.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("spreads itself")),
        "{answer:?}"
    );

    // A long chain of fragments is refused at the nesting limit, whatever its length.
    let mut chain = String::from("query Chain { ...C0 }");
    for level in 0..2000 {
        chain.push_str(&format!(
            " fragment C{level} on QueryRoot {{ ...C{} }}",
            level + 1
        ));
    }
    chain.push_str(" fragment C2000 on QueryRoot { __typename }");
    let answer = app.graphql(Some(&coordinator), &chain, json!({})).await;
    refused(
        &app,
        &before,
        &answer,
        Some("NESTING"),
        "a chain of 2000 fragments",
    )
    .await;

    // A fragment spread a few times is fine.
    let answer = app
        .graphql(
            Some(&coordinator),
            "{ viewer { ...Me } again: viewer { ...Me } } fragment Me on Person { id displayName }",
            json!({}),
        )
        .await;
    assert_eq!(answer.data()["viewer"]["id"], answer.data()["again"]["id"]);
}

#[tokio::test]
async fn the_depth_limit_is_ten() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let before = app.snapshot().await;
    let answer = app
        .graphql(Some(&coordinator), &introspection_of_depth(10), json!({}))
        .await;
    assert!(answer.data()["__schema"]["queryType"]["fields"][0]["type"].is_object());
    let answer = app
        .graphql(Some(&coordinator), &introspection_of_depth(11), json!({}))
        .await;
    refused(&app, &before, &answer, None, "depth 11").await;
}

fn forbidden(answer: &Value, what: &str) {
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{what}: {answer}"
    );
    assert!(
        answer["data"].is_null() || answer.get("data").is_none(),
        "{what}: {answer}"
    );
}

const SCHEMA: &str = "{ __schema { queryType { name } } }";
const TYPE: &str = r#"{ __type(name: "Person") { name fields { name } } }"#;
const HIDDEN: &str = "query Hidden { viewer { id } ...Q } fragment Q on QueryRoot { ... on QueryRoot { __schema { description } } }";

#[tokio::test]
async fn only_coordinators_introspect_over_http_and_everyone_gets_typename() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (supporter, participant) = app.supporter_and_participant(&coordinator).await;
    let (supporter, _) = app.pair(&coordinator, &supporter).await;
    let (participant, _) = app.pair(&coordinator, &participant).await;

    for (who, token) in [
        ("anonymous", None),
        ("a supporter", Some(supporter.as_str())),
        ("a participant", Some(participant.as_str())),
    ] {
        for query in [SCHEMA, TYPE, HIDDEN] {
            let answer = app.graphql(token, query, json!({})).await;
            assert_eq!(answer.status.as_u16(), 200, "{who}: {answer:?}");
            forbidden(&answer.body, &format!("{who}: {query}"));
        }
        let answer = app.graphql(token, "{ __typename }", json!({})).await;
        assert_eq!(answer.data()["__typename"], "QueryRoot", "{who}");
    }
    let answer = app
        .graphql(
            Some(&participant),
            "{ viewer { __typename id } }",
            json!({}),
        )
        .await;
    assert_eq!(answer.data()["viewer"]["__typename"], "Person");

    let answer = app.graphql(Some(&coordinator), SCHEMA, json!({})).await;
    assert_eq!(answer.data()["__schema"]["queryType"]["name"], "QueryRoot");
    let answer = app.graphql(Some(&coordinator), TYPE, json!({})).await;
    assert_eq!(answer.data()["__type"]["name"], "Person");
    let answer = app.graphql(Some(&coordinator), HIDDEN, json!({})).await;
    assert!(answer.data()["__schema"].is_object());
}

#[tokio::test]
async fn only_coordinators_introspect_over_a_websocket() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let supporter = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    let (supporter, _) = app.pair(&coordinator, &supporter).await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut socket = acknowledged(app.address, protocol, &supporter).await;
        let answer = operation_over(&mut socket, protocol, "1", SCHEMA).await;
        forbidden(&answer, &format!("{protocol}: a supporter's __schema"));
        let answer = operation_over(&mut socket, protocol, "2", TYPE).await;
        forbidden(&answer, &format!("{protocol}: a supporter's __type"));
        let answer = operation_over(&mut socket, protocol, "3", "{ __typename }").await;
        assert_eq!(
            answer["data"]["__typename"], "QueryRoot",
            "{protocol}: {answer}"
        );
        let answer = operation_over(&mut socket, protocol, "4", &aliases(500, "__typename")).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["limit"], "ALIASES",
            "{protocol}: {answer}"
        );

        let mut socket = acknowledged(app.address, protocol, &coordinator).await;
        let answer = operation_over(&mut socket, protocol, "1", SCHEMA).await;
        assert_eq!(
            answer["data"]["__schema"]["queryType"]["name"], "QueryRoot",
            "{protocol}: {answer}"
        );
    }
}

/// The playground's schema comes from the server, computed at start: types only, the same for
/// everyone who can load the playground (the SDL is published in the mobile contract).
#[tokio::test]
async fn the_playground_gets_the_schema_from_the_server_without_introspecting() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("/playground/schema.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let result: Value = response.json().await.unwrap();
    let schema = &result["__schema"];
    assert_eq!(schema["queryType"]["name"], "QueryRoot");
    assert_eq!(schema["mutationType"]["name"], "MutationRoot");
    assert_eq!(schema["subscriptionType"]["name"], "SubscriptionRoot");
    let names: Vec<&str> = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|ty| ty["name"].as_str())
        .collect();
    for name in ["QueryRoot", "MutationRoot", "Person", "Outing", "DateTime"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}
