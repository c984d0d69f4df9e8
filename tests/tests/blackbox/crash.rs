//! The server is killed with SIGKILL while notifications are due and pushes are in flight; after a
//! restart every notification is delivered, and the only repeats are pushes whose outcome the dead
//! server had not written down yet (Web Push is at least once: a push service may have accepted a
//! message the dead server never recorded). Outcomes are written once per claimed batch, so at
//! most one batch per dispatcher loop can repeat. And the safety watchdog, killed while outings are
//! under way, catches up after a restart on everything that fell due meanwhile.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tomoni_schema::domain::people::{Locale, OrganisationKind, Role};
use tomoni_schema::notify::{self, Message, Recipient};
use tomoni_schema::store;
use tomoni_schema::store::entities::push_deliveries;
use tomoni_tests::TestDatabase;
use tomoni_tests::push_receiver::{Mode, PushReceiver};
use uuid::Uuid;

const NOTIFICATIONS: usize = 300;
const MAX_IN_FLIGHT: usize = 16;
const BATCH: usize = 32;
const WORKERS: usize = 2;

/// The process under test, run with `args` on `database` (its data directory and, on PostgreSQL,
/// its URL) and none of this process's `TOMONI_` variables, logging warnings only; `configure`
/// adds the rest. Returns it and the lines it prints.
pub(crate) fn spawn_serve(
    database: &TestDatabase,
    args: &[&str],
    configure: impl FnOnce(&mut Command),
) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tomoni-process-under-test"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TOMONI_") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .env("TOMONI_DATA_DIR", &database.data_dir);
    configure(&mut command);
    command
        .env("TOMONI_LOG__FILTER", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = &database.url {
        command.env("TOMONI_DATABASE_URL", url);
    }
    let mut child = command.spawn().expect("start the server process");
    let stdout = child.stdout.take().expect("stdout");
    (child, BufReader::new(stdout).lines())
}

/// Starts `tomoni serve` as a process on the test database; returns once it is listening.
fn start_server(database: &TestDatabase) -> Child {
    let (mut child, mut lines) =
        spawn_serve(database, &["serve", "--listen", "127.0.0.1:0"], |command| {
            command
                .env("TOMONI_PUSH__ALLOW_HTTP", "true")
                .env("TOMONI_PUSH__ALLOW_PRIVATE_ADDRESSES", "true")
                .env("TOMONI_PUSH__ALLOW_ANY_PORT", "true")
                .env("TOMONI_PUSH__REQUEST_TIMEOUT_SECONDS", "1")
                .env("TOMONI_PUSH__LEASE_SECONDS", "2")
                .env("TOMONI_PUSH__MAX_IN_FLIGHT", MAX_IN_FLIGHT.to_string())
                .env("TOMONI_PUSH__BATCH_SIZE", BATCH.to_string())
                .env("TOMONI_PUSH__WORKERS", WORKERS.to_string());
        });
    match lines.next() {
        Some(Ok(line)) if line.starts_with("playground: ") => {}
        other => {
            let _ = child.kill();
            panic!("the server did not start: {other:?}");
        }
    }
    child
}

fn distinct_notifications(receiver: &PushReceiver) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for message in receiver.received() {
        *seen
            .entry(
                message.payload["notificationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .or_default() += 1;
    }
    seen
}

#[tokio::test]
async fn a_killed_server_loses_nothing_and_repeats_only_unrecorded_batches() {
    let database = TestDatabase::create().await;
    let db = store::connect(&database.effective_url(), 2).await.unwrap();
    store::migrate(&db).await.unwrap();
    let receiver = PushReceiver::start().await;
    let browser = receiver.subscribe();
    // Every push takes 50 ms to be accepted, so that many are in flight at any moment.
    receiver.set_mode(&browser, Mode::Slow { millis: 50 });

    let now = Utc::now();
    let organisation = store::organisations::create(
        &db,
        "Hospital",
        OrganisationKind::Hospital,
        "Asia/Tokyo",
        now,
    )
    .await
    .unwrap();
    let person = store::people::create(
        &db,
        store::people::NewPerson {
            organisation_id: organisation.id,
            display_name: "Haruka",
            role: Role::Participant,
            locale: Locale::En,
            time_zone: "Asia/Tokyo",
        },
        now,
    )
    .await
    .unwrap();
    store::push_subscriptions::register(
        &db,
        store::push_subscriptions::NewSubscription {
            person: &person,
            device_id: None,
            endpoint: &browser.endpoint,
            endpoint_hash: tomoni_schema::domain::credentials::sha256_hex(
                browser.endpoint.as_bytes(),
            ),
            p256dh: &browser.p256dh,
            auth: &browser.auth,
            label: "phone",
            locale: None,
        },
        now,
    )
    .await
    .unwrap();
    let recipient = Recipient {
        person_id: person.id,
        organisation_id: organisation.id,
    };
    for index in 0..NOTIFICATIONS {
        notify::remind(
            &db,
            recipient,
            Message::MatchUpdate {
                match_id: Uuid::now_v7(),
            },
            now,
            &format!("crash-{index}"),
            now,
        )
        .await
        .unwrap();
    }

    let mut first = start_server(&database);
    receiver
        .wait_for(NOTIFICATIONS / 4, Duration::from_secs(60))
        .await;
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    let before_restart = receiver.received().len();
    assert!(
        before_restart < NOTIFICATIONS,
        "the server finished before it could be killed"
    );

    let mut second = start_server(&database);
    // Done when the database says every delivery is delivered: pushes that were in flight at the
    // kill are sent again once their claims expire.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while undelivered(&db).await > 0 && tokio::time::Instant::now() < deadline {
        receiver
            .wait_for(receiver.received().len() + 1, Duration::from_millis(500))
            .await;
    }
    // A graceful stop this time: SIGTERM, and the process exits by itself.
    let stopped = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = second.wait().unwrap();
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );

    let seen = distinct_notifications(&receiver);
    assert_eq!(
        seen.len(),
        NOTIFICATIONS,
        "every notification is delivered after the restart"
    );
    let repeats: usize = seen.values().map(|count| count - 1).sum();
    eprintln!("crash test: {before_restart} accepted before SIGKILL, {repeats} sent twice");
    assert!(
        repeats <= WORKERS * BATCH,
        "{repeats} repeats: only unrecorded batches (at most {WORKERS} × {BATCH}) may repeat"
    );
    assert!(
        receiver.violations().is_empty(),
        "{:?}",
        receiver.violations()
    );
    assert_eq!(undelivered(&db).await, 0);
    db.close().await.unwrap();
}

/// Notifications not yet handed out, plus deliveries not yet delivered.
async fn undelivered(db: &sea_orm::DatabaseConnection) -> u64 {
    use tomoni_schema::store::entities::notifications;
    let pending_notifications = notifications::Entity::find()
        .filter(notifications::Column::Status.eq("pending"))
        .count(db)
        .await
        .unwrap();
    let open_deliveries = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::Status.ne("delivered"))
        .count(db)
        .await
        .unwrap();
    pending_notifications + open_deliveries
}

const OUTINGS: usize = 20;

/// Outings under way, created as `startOuting` leaves them, with their next deadline at `due`.
async fn outings_under_way(
    db: &sea_orm::DatabaseConnection,
    due: chrono::DateTime<Utc>,
) -> Vec<Uuid> {
    let now = Utc::now();
    let organisation = store::organisations::create(
        db,
        "Ward office",
        OrganisationKind::WardOffice,
        "Asia/Tokyo",
        now,
    )
    .await
    .unwrap();
    let person = async |role: Role, name: &str| {
        store::people::create(
            db,
            store::people::NewPerson {
                organisation_id: organisation.id,
                display_name: name,
                role,
                locale: Locale::Ja,
                time_zone: "Asia/Tokyo",
            },
            now,
        )
        .await
        .unwrap()
    };
    let lead = person(Role::Supporter, "Ken").await;
    let mut ids = Vec::new();
    for index in 0..OUTINGS {
        let participant = person(Role::Participant, &format!("P{index}")).await;
        let outing = store::outings::create(
            db,
            tomoni_schema::store::entities::outings::Model {
                status: "in_progress".into(),
                started_at: Some(now),
                check_in_due_at: Some(due),
                watch_at: Some(due),
                ..tomoni_schema::store::outings::NewOuting {
                    organisation_id: organisation.id,
                    participant_id: participant.id,
                    lead_supporter_id: lead.id,
                    staff_companion_id: None,
                    purpose: "shopping",
                    place: "スーパー",
                    latitude: None,
                    longitude: None,
                    step_goal: "",
                    planned_start: now,
                    planned_end: now + chrono::Duration::hours(6),
                    check_in_interval_minutes: 30,
                    grace_minutes: 10,
                    status: tomoni_schema::domain::outings::OutingStatus::Planned,
                    created_by: lead.id,
                    approved_by: Some(lead.id),
                }
                .row(Uuid::now_v7(), now)
            },
            &[],
        )
        .await
        .unwrap();
        ids.push(outing.id);
    }
    ids
}

/// A server is killed with SIGKILL while outings are under way; their check-ins fall due (and
/// past the grace period) while it is down. The restarted server catches up: one missed-check-in
/// alert per outing, late but none lost, none doubled.
#[tokio::test]
async fn a_killed_watchdog_catches_up_after_restart() {
    use tomoni_schema::store::entities::{alerts, outings};
    let database = TestDatabase::create().await;
    let db = store::connect(&database.effective_url(), 2).await.unwrap();
    store::migrate(&db).await.unwrap();
    let ids = outings_under_way(&db, Utc::now() + chrono::Duration::hours(1)).await;

    let mut first = start_server(&database);
    first.kill().expect("SIGKILL");
    first.wait().expect("reap");
    // Time passes while it is down: every deadline, and its grace period, goes by.
    let passed = Utc::now() - chrono::Duration::minutes(15);
    outings::Entity::update_many()
        .col_expr(
            outings::Column::CheckInDueAt,
            sea_orm::sea_query::Expr::value(passed),
        )
        .col_expr(
            outings::Column::WatchAt,
            sea_orm::sea_query::Expr::value(passed),
        )
        .exec(&db)
        .await
        .unwrap();

    let mut second = start_server(&database);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut raised = 0;
    while tokio::time::Instant::now() < deadline {
        raised = alerts::Entity::find().count(&db).await.unwrap();
        if raised >= OUTINGS as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    assert!(second.wait().unwrap().success());
    assert_eq!(raised, OUTINGS as u64, "one alert per outing");
    for id in ids {
        let per_outing = alerts::Entity::find()
            .filter(alerts::Column::OutingId.eq(id))
            .count(&db)
            .await
            .unwrap();
        assert_eq!(per_outing, 1);
        let outing = outings::Entity::find_by_id(id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(outing.status, "escalated");
        assert_eq!(outing.watch_step.as_deref(), Some("alerted"));
    }
    db.close().await.unwrap();
}
