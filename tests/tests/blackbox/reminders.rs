//! Outing reminders die with their outing, whatever offsets they were planned with: cancelling,
//! starting or replanning after `updateOutingReminders` changed the offsets leaves none of the old
//! ones to fire. And step 10 of the migrations, which records each notification's outing.

use chrono::Duration;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use sea_orm_migration::MigratorTrait;
use serde_json::json;
use tomoni_migrations::Migrator;
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::notifications;
use tomoni_tests::TestApp;
use uuid::Uuid;

use crate::outings::app;

struct World {
    coordinator: String,
    lead: String,
    lead_token: String,
    participant: String,
}

async fn world(app: &TestApp) -> World {
    let (_, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, _) = app.pair(&coordinator, &lead).await;
    World {
        coordinator,
        lead,
        lead_token,
        participant,
    }
}

async fn plan(app: &TestApp, w: &World, in_minutes: i64) -> String {
    app.plan_outing(&w.coordinator, &w.participant, &w.lead, in_minutes, 120)
        .await
        .data()["planOuting"]["outing"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn set_offsets(app: &TestApp, w: &World, minutes: &[i64]) {
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: UpdateOutingRemindersInput!) { updateOutingReminders(input: $input) { minutesBefore } }",
        json!({ "input": { "minutesBefore": minutes } }),
    )
    .await
    .data();
}

/// The outing's reminders still waiting to go out: (recipient, minutes before the start).
async fn pending_reminders(app: &TestApp, outing: &str) -> Vec<(Uuid, i64)> {
    let outing_id = Uuid::parse_str(outing).unwrap();
    let mut pending: Vec<(Uuid, i64)> = notifications::Entity::find()
        .filter(notifications::Column::Kind.eq("outing_reminder"))
        .filter(notifications::Column::Status.eq("pending"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.message["outingId"] == outing_id.to_string())
        .map(|row| {
            let starts_at: chrono::DateTime<chrono::Utc> =
                serde_json::from_value(row.message["startsAt"].clone()).unwrap();
            (row.recipient_id, (starts_at - row.not_before).num_minutes())
        })
        .collect();
    pending.sort_unstable();
    pending
}

#[tokio::test]
async fn a_cancelled_outing_keeps_no_reminder_of_offsets_changed_since_it_was_planned() {
    let app = app().await;
    let w = world(&app).await;
    let outing = plan(&app, &w, 26 * 60).await;
    assert_eq!(pending_reminders(&app, &outing).await.len(), 4);
    // The organisation moves to a single 2-hour reminder; the outing keeps the 24 h and 1 h ones
    // it was planned with (they are its reminders until it changes).
    set_offsets(&app, &w, &[120]).await;
    assert_eq!(pending_reminders(&app, &outing).await.len(), 4);

    app.outing_step(
        &w.coordinator,
        "cancelOuting",
        json!({ "outingId": outing, "reason": "WEATHER" }),
    )
    .await
    .data();
    assert_eq!(pending_reminders(&app, &outing).await, vec![]);
}

#[tokio::test]
async fn a_started_outing_keeps_no_reminder_of_old_offsets() {
    let app = app().await;
    let w = world(&app).await;
    // Three hours ahead: only the 1-hour reminder is still to come.
    let outing = plan(&app, &w, 3 * 60).await;
    assert_eq!(pending_reminders(&app, &outing).await.len(), 2);
    set_offsets(&app, &w, &[30]).await;
    app.clock.advance(Duration::minutes(2 * 60 + 55));
    app.start_planned(&w.lead_token, &outing).await;
    assert_eq!(pending_reminders(&app, &outing).await, vec![]);
}

#[tokio::test]
async fn replanning_after_new_offsets_plans_the_new_ones_and_withdraws_the_old() {
    let app = app().await;
    let w = world(&app).await;
    let outing = plan(&app, &w, 26 * 60).await;
    set_offsets(&app, &w, &[30]).await;
    let start = app.clock.now() + Duration::hours(30);
    app.outing_step(
        &w.coordinator,
        "replanOuting",
        json!({ "outingId": outing, "plannedStart": start.to_rfc3339(), "plannedEnd": (start + Duration::hours(2)).to_rfc3339() }),
    )
    .await
    .data();
    let lead = Uuid::parse_str(&w.lead).unwrap();
    let participant = Uuid::parse_str(&w.participant).unwrap();
    let mut expected = vec![(lead, 30), (participant, 30)];
    expected.sort_unstable();
    assert_eq!(pending_reminders(&app, &outing).await, expected);

    // Back to the defaults and replanned again: the 24 h and 1 h ones come back, the 30-minute
    // one goes.
    set_offsets(&app, &w, &[1440, 60]).await;
    app.outing_step(
        &w.coordinator,
        "replanOuting",
        json!({ "outingId": outing, "place": "区役所" }),
    )
    .await
    .data();
    let mut expected = vec![
        (lead, 1440),
        (lead, 60),
        (participant, 1440),
        (participant, 60),
    ];
    expected.sort_unstable();
    assert_eq!(pending_reminders(&app, &outing).await, expected);
}

fn outing_column(row: &notifications::Model) -> Option<Uuid> {
    row.outing_id
}

/// Step 10 adds `notifications.outing_id` and fills it for the reminders and check-in prompts
/// still waiting; going down removes it again.
#[tokio::test]
async fn notifications_learn_their_outing_from_the_migration() {
    let app = app().await;
    let w = world(&app).await;
    let first = plan(&app, &w, 26 * 60).await;
    let second = plan(&app, &w, 50 * 60).await;
    // A prompt waiting to go out, on an outing under way.
    let under_way = plan(&app, &w, 1).await;
    app.clock.advance(Duration::minutes(1));
    app.start_planned(&w.lead_token, &under_way).await;
    app.clock.advance(Duration::minutes(30));
    assert_eq!(app.watchdog().await.prompts, 1);

    // Back to before step 10 (every later step undone first), then up again.
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    let step_10 = names
        .iter()
        .position(|name| name == "m20261202_000010_notification_outing")
        .unwrap();
    let undo = u32::try_from(names.len() - step_10).unwrap();
    Migrator::down(&app.db, Some(undo)).await.unwrap();
    let gone = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT outing_id FROM notifications",
        ))
        .await;
    assert!(gone.is_err(), "the column is dropped going down");
    Migrator::up(&app.db, None).await.unwrap();

    let rows = notifications::Entity::find().all(&app.db).await.unwrap();
    let mut filled = 0;
    for row in &rows {
        let outing = row.message["outingId"]
            .as_str()
            .map(|id| Uuid::parse_str(id).unwrap());
        if row.status == "pending"
            && ["outing_reminder", "check_in_due"].contains(&row.kind.as_str())
        {
            assert_eq!(outing_column(row), outing, "{row:?}");
            filled += 1;
        }
    }
    // 4 reminders for each planned outing, a prompt for each member of the one under way.
    assert_eq!(filled, 10, "{rows:?}");
    for outing in [&first, &second] {
        assert_eq!(pending_reminders(&app, outing).await.len(), 4);
    }
    // And the filled column is what cancelling relies on.
    app.outing_step(
        &w.coordinator,
        "cancelOuting",
        json!({ "outingId": first, "reason": "WEATHER" }),
    )
    .await
    .data();
    assert_eq!(pending_reminders(&app, &first).await, vec![]);
    assert_eq!(pending_reminders(&app, &second).await.len(), 4);
}
