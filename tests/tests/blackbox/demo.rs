//! The demo organisation: created once, reused on every later start, each start printing a token
//! that works (and retiring the previous one).

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tomoni_schema::domain::clock::Clock;
use tomoni_schema::store::entities::{organisations, people};
use tomoni_server::demo;
use tomoni_tests::spawn_app;

#[tokio::test]
async fn the_demo_is_created_once_and_reused() {
    let app = spawn_app().await;
    let first = demo::ensure(&app.db, app.clock.now()).await.unwrap();
    let people_after_first = app.count(people::Entity).await;
    let second = demo::ensure(&app.db, app.clock.now()).await.unwrap();
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
