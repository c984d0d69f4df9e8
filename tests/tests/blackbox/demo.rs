//! The demo organisation: created once, reused on every later start, each start printing a token
//! that works (and retiring the previous one); and what it shows is what the rules allow, because
//! it was seeded through the API.

use std::process::Child;
use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tomoni_schema::store::entities::{organisations, people};
use tomoni_server::demo;
use tomoni_tests::{TestDatabase, answer, spawn_app};

use crate::crash::spawn_serve;

#[tokio::test]
async fn the_demo_is_created_once_and_reused() {
    let app = spawn_app().await;
    // The demo seeds through a schema built as the server builds its own, on the app's clock.
    let clock = Arc::new(demo::HeldClock::new(Arc::new(app.clock.clone())));
    let schema = tomoni_server::app::build_schema(
        &app.settings,
        app.db.clone(),
        clock.clone(),
        app.events.clone(),
        "",
    );
    let first = demo::ensure(&app.db, &schema, &clock).await.unwrap();
    let people_after_first = app.count(people::Entity).await;
    let second = demo::ensure(&app.db, &schema, &clock).await.unwrap();
    let organisations = organisations::Entity::find()
        .filter(organisations::Column::Name.eq(demo::DEMO_ORGANISATION))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(organisations, 1);
    assert_eq!(app.count(people::Entity).await, people_after_first);

    app.graphql(Some(first.reveal()), "{ viewer { id } }", json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    let viewer = app
        .graphql(
            Some(second.reveal()),
            "{ viewer { role } people(first: 100) { nodes { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(viewer.data()["viewer"]["role"], "COORDINATOR");
    let roles: Vec<&str> = viewer.data()["people"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|node| node["role"].as_str())
        .collect();
    for role in ["COORDINATOR", "SUPPORTER", "PARTICIPANT"] {
        assert!(roles.contains(&role), "the demo has no {role}: {roles:?}");
    }
}

/// `tomoni serve --demo` as a process on `database`; returns it once it printed its playground
/// address and token.
fn start_demo(database: &TestDatabase) -> (Child, String, String) {
    let (child, mut lines) = spawn_serve(
        database,
        &["serve", "--demo", "--listen", "127.0.0.1:0"],
        |_| {},
    );
    let mut next = |prefix: &str| match lines.next() {
        Some(Ok(line)) if line.starts_with(prefix) => line[prefix.len()..].to_owned(),
        other => panic!("`serve --demo` printed {other:?}, not {prefix}…"),
    };
    let playground = next("playground: ");
    let token = next("coordinator token: ");
    (child, playground, token)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn query(playground: &str, token: &str, document: &str) -> tomoni_tests::Answer {
    let response = reqwest::Client::new()
        .post(format!("{}graphql", playground))
        .bearer_auth(token)
        .json(&json!({ "query": document }))
        .send()
        .await
        .expect("send");
    answer(response).await
}

/// What the demo shows, in three operations (each under the server's complexity limit).
const OVERVIEW: &str = "{
    viewer { displayName isOnDuty organisation { name } }
    courses { level modules { id } }
    supportMatches(first: 10) { nodes { status supporter { displayName } participant { displayName } } }
    outings(first: 5) { nodes { status purpose plannedStart leadSupporterId } }
}";
const TRAINING: &str = "{ people(first: 10) { nodes {
    displayName role
    training { certificates { courseId } lastSupervision { heldOn }
        capabilities { mayBeMatched mayLeadOutings followUpOverdue } }
    participantProfile { consentsToLocationSharing }
} } }";
const DEVICES: &str = "{ people(first: 10) { nodes { displayName devices(first: 5) { nodes { label isRevoked } } } } }";

/// The three answers' data as one object.
async fn demo_state(playground: &str, token: &str) -> Value {
    let mut state = query(playground, token, OVERVIEW).await.data().clone();
    state["people"] = query(playground, token, TRAINING).await.data()["people"].clone();
    state["devices"] = query(playground, token, DEVICES).await.data()["people"].clone();
    state
}

fn person<'a>(state: &'a Value, name: &str) -> &'a Value {
    named(&state["people"], name)
}

/// The node of a connection of people with this name.
fn named<'a>(people: &'a Value, name: &str) -> &'a Value {
    people["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["displayName"] == name)
        .unwrap_or_else(|| panic!("the demo has no {name}"))
}

/// The seeded demo, as its printed token sees it: the people, curriculum, training stages,
/// matches and tomorrow's outing the rules produced; nobody but the demo coordinator holds a live
/// token. A second start reuses it all and retires the first token.
#[tokio::test]
async fn serve_demo_seeds_a_consistent_network_once() {
    let database = TestDatabase::create().await;
    let (server, playground, first_token) = start_demo(&database);
    let state = demo_state(&playground, &first_token).await;
    stop(server);

    assert_eq!(state["viewer"]["displayName"], "堀江 美咲");
    assert_eq!(state["viewer"]["isOnDuty"], true);
    assert_eq!(
        state["viewer"]["organisation"]["name"],
        demo::DEMO_ORGANISATION
    );
    let modules: Vec<usize> = state["courses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|course| course["modules"].as_array().unwrap().len())
        .collect();
    assert_eq!(modules, [5, 4, 2]);
    assert_eq!(state["people"]["nodes"].as_array().unwrap().len(), 8);

    let capabilities = |name: &str| person(&state, name)["training"]["capabilities"].clone();
    assert_eq!(
        capabilities("新町 陽子"),
        json!({ "mayBeMatched": true, "mayLeadOutings": true, "followUpOverdue": false })
    );
    assert_eq!(
        capabilities("立売 翔"),
        json!({ "mayBeMatched": true, "mayLeadOutings": false, "followUpOverdue": false })
    );
    assert_eq!(
        capabilities("Linh Tran"),
        json!({ "mayBeMatched": true, "mayLeadOutings": false, "followUpOverdue": true })
    );
    let certificates = |name: &str| {
        person(&state, name)["training"]["certificates"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(certificates("新町 陽子"), 2);
    assert_eq!(certificates("立売 翔"), 1);
    assert!(person(&state, "新町 陽子")["training"]["lastSupervision"]["heldOn"].is_string());
    assert_eq!(
        person(&state, "江戸 はるか")["participantProfile"]["consentsToLocationSharing"],
        true
    );
    // The devices the supporters accepted their matches on were revoked again.
    for node in state["devices"]["nodes"].as_array().unwrap() {
        for device in node["devices"]["nodes"].as_array().unwrap() {
            let live = device["isRevoked"] == false;
            assert!(
                !live
                    || (node["displayName"] == "堀江 美咲" && device["label"] == "demo playground"),
                "a live token besides the demo's: {node}"
            );
        }
    }

    let mut matches: Vec<(String, String, String)> = state["supportMatches"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            (
                node["supporter"]["displayName"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                node["participant"]["displayName"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                node["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    matches.sort();
    let expected = [
        ("Linh Tran", "Sam Carter", "ACTIVE"),
        ("新町 陽子", "江戸 はるか", "ACTIVE"),
        ("立売 翔", "京町 拓海", "PROPOSED"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(matches, expected);

    let outings = state["outings"]["nodes"].as_array().unwrap();
    assert_eq!(outings.len(), 1);
    assert_eq!(outings[0]["status"], "PLANNED");
    assert_eq!(outings[0]["purpose"], "TRANSPORT_PRACTICE");
    let start =
        chrono::DateTime::parse_from_rfc3339(outings[0]["plannedStart"].as_str().unwrap()).unwrap();
    assert!(start > chrono::Utc::now());

    // Again on the same data: the same demo, a new token, the first one retired.
    let (server, playground, second_token) = start_demo(&database);
    assert_ne!(first_token, second_token);
    let refused = query(&playground, &first_token, "{ viewer { id } }").await;
    let mut again = demo_state(&playground, &second_token).await;
    stop(server);
    refused.expect_error("UNAUTHENTICATED");
    // Only the coordinator's devices changed: one more, the new token, the first one revoked.
    let coordinator_devices =
        |state: &Value| named(&state["devices"], "堀江 美咲")["devices"]["nodes"].clone();
    assert_eq!(
        coordinator_devices(&again)
            .as_array()
            .unwrap()
            .iter()
            .filter(|device| device["isRevoked"] == false)
            .count(),
        1
    );
    assert_eq!(
        coordinator_devices(&again).as_array().unwrap().len(),
        coordinator_devices(&state).as_array().unwrap().len() + 1
    );
    for node in again["devices"]["nodes"].as_array_mut().unwrap() {
        if node["displayName"] == "堀江 美咲" {
            node["devices"] = named(&state["devices"], "堀江 美咲")["devices"].clone();
        }
    }
    assert_eq!(again, state);
}
