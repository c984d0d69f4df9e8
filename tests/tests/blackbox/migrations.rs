//! The real migrations: up, down to nothing, and up again; readiness notices a missing step.

use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::MigratorTrait;
use tomoni_migrations::Migrator;
use tomoni_tests::{TestDatabase, spawn_app};

async fn table_names(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn migrations_go_up_down_to_nothing_and_up_again() {
    let database = TestDatabase::create().await;
    let db = tomoni_schema::store::connect(&database.effective_url(), 2)
        .await
        .unwrap();
    tomoni_schema::store::migrate(&db).await.unwrap();
    let tables = table_names(&db).await;
    for expected in [
        "organisations",
        "people",
        "supporter_profiles",
        "participant_profiles",
        "devices",
        "pairing_codes",
        "audit_log",
    ] {
        assert!(
            tables.iter().any(|t| t == expected),
            "{expected} missing from {tables:?}"
        );
    }
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(table_names(&db).await, vec!["seaql_migrations".to_owned()]);
    tomoni_schema::store::migrate(&db).await.unwrap();
    assert_eq!(table_names(&db).await, tables);
    // Migrating again is a no-op.
    tomoni_schema::store::migrate(&db).await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn readiness_reports_a_database_behind_the_code() {
    let app = spawn_app().await;
    Migrator::down(&app.db, Some(1)).await.unwrap();
    let readyz = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), 503);
    assert!(
        readyz
            .text()
            .await
            .unwrap()
            .contains("1 migrations pending")
    );
}

/// Step 9 copies each outing's planned times onto its member rows: a database that already holds
/// outings keeps finding them in "my day" after the upgrade.
#[tokio::test]
async fn outing_member_times_are_copied_from_existing_outings() {
    use sea_orm::EntityTrait;
    use tomoni_schema::store::entities::{outing_members, outings};

    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    for hours in [2, 30] {
        app.plan_outing(&coordinator, &participant, &lead, hours * 60, 90)
            .await
            .data();
    }
    // Back to before step 9 (its columns dropped, and every later step undone first), then up
    // again: the copies are rebuilt.
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    let step_9 = names
        .iter()
        .position(|name| name == "m20261124_000009_outing_member_times")
        .unwrap();
    let undo = u32::try_from(names.len() - step_9).unwrap();
    Migrator::down(&app.db, Some(undo)).await.unwrap();
    Migrator::up(&app.db, None).await.unwrap();
    let times: std::collections::HashMap<_, _> = outings::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|outing| (outing.id, (outing.planned_start, outing.planned_end)))
        .collect();
    assert_eq!(times.len(), 2);
    let members = outing_members::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(members.len(), 4, "a participant and a lead on each");
    for member in members {
        assert_eq!(
            times[&member.outing_id],
            (member.planned_start, member.planned_end)
        );
    }
}
