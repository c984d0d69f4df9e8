//! The history the outing benchmarks run over: 20 organisations, 2,000 supporters, 20,000
//! participants, 40,000 support matches, and 500,000 outings over the two years before now (92%
//! completed, 8% cancelled) with their members (participant, lead, a trainee on one in five: about
//! 1.1 million rows), about 3 million check-ins, a few thousand resolved alerts, a push
//! subscription per person, and the outbox of the last 30 days (the reminders of each completed
//! outing, delivered: about 80,000 notifications and as many deliveries; the server never deletes
//! them). `--scale F` multiplies people, matches and outings by F. One deterministic generator
//! ([`super::world`]) feeds both databases: SQLite through multi-row INSERTs of a few hundred rows
//! in transactions, PostgreSQL through `COPY … FROM STDIN` for the three big tables (their
//! secondary indexes dropped and rebuilt from their own definitions, foreign keys checked
//! set-wise afterwards). Then the database is settled as it would be a while after such a load:
//! PostgreSQL `VACUUM ANALYZE` (this machine's instance runs with autovacuum off) and
//! `CHECKPOINT`, SQLite a WAL checkpoint.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use sea_orm::sqlx::PgPool;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::task::JoinHandle;
use tomoni_schema::domain::credentials::sha256_hex;
use tomoni_schema::domain::people::{Locale, OrganisationKind};
use tomoni_schema::store::entities::{
    StringList, alerts, check_ins, notifications, outing_members, outings, participant_profiles,
    people, push_deliveries, push_subscriptions, support_matches, supporter_profiles,
};
use tomoni_server::admin;
use uuid::Uuid;

use super::copy::{
    CHECK_INS_COPY, CopyText, DELIVERIES_COPY, MEMBERS_COPY, NOTIFICATIONS_COPY, OUTINGS_COPY,
};
use super::load::{copy_rows, insert_all, insert_rows, secondary_indexes};
use super::rng::Rng;
use super::world::{
    HISTORY_DAYS, ORGANISATIONS, OUTBOX_DAYS, Sizes, TAGS, WARDS, World, japan_today, kind, v7,
};
use crate::push_receiver::BrowserKey;

/// What was generated, and how long it took.
pub(crate) struct History {
    pub(crate) world: Arc<World>,
    matches: usize,
    outings: usize,
    members: usize,
    check_ins: usize,
    alerts: usize,
    pub(crate) seconds: f64,
    notifications: usize,
    deliveries: usize,
    /// The settling after loading (PostgreSQL: VACUUM ANALYZE and CHECKPOINT), not in `seconds`.
    settle_seconds: f64,
}

impl History {
    pub(crate) fn line(&self, backend: &str) -> String {
        let sizes = &self.world.sizes;
        let rows = ORGANISATIONS * 2
            + sizes.supporters * 2
            + sizes.participants * 2
            + self.matches
            + self.outings
            + self.members
            + self.check_ins
            + self.alerts
            + self.notifications
            + self.deliveries;
        format!(
            "history: db={backend} scale={} organisations={ORGANISATIONS} supporters={} participants={} matches={} outings={} members={} check_ins={} alerts={} subscriptions={} notifications={} push_deliveries={} generate_s={:.1} rows_per_s={:.0} settle_s={:.1} loader={}",
            sizes.scale,
            sizes.supporters,
            sizes.participants,
            self.matches,
            self.outings,
            self.members,
            self.check_ins,
            self.alerts,
            sizes.supporters + sizes.participants,
            self.notifications,
            self.deliveries,
            self.seconds,
            rows as f64 / self.seconds,
            self.settle_seconds,
            if backend == "postgres" {
                "copy"
            } else {
                "insert_many"
            },
        )
    }
}

/// Generates the history into `db`: every person gets a subscription to `endpoint`
/// (`http://host:port`) with `key`.
pub(crate) async fn generate(
    db: &DatabaseConnection,
    sizes: Sizes,
    endpoint: &str,
    key: &BrowserKey,
) -> History {
    let started = Instant::now();
    let now = Utc::now();
    // Organisations and their first coordinators, as an operator creates them.
    let mut organisations = Vec::with_capacity(ORGANISATIONS);
    let mut coordinators = Vec::with_capacity(ORGANISATIONS);
    for index in 0..ORGANISATIONS {
        let organisation = admin::create_organisation(
            db,
            &format!("Bench {index}"),
            OrganisationKind::Hospital,
            "Asia/Tokyo",
            now,
        )
        .await
        .expect("organisation");
        let (coordinator, _) = admin::create_coordinator(
            db,
            organisation.id,
            &format!("Coordinator {index}"),
            Locale::Ja,
            now,
        )
        .await
        .expect("coordinator");
        organisations.push(organisation.id);
        coordinators.push(coordinator.id);
    }
    let world = Arc::new(World {
        sizes,
        now,
        today: japan_today(now),
        people_created: now - Duration::days(800),
        organisations,
        coordinators,
    });

    let matches = people_and_matches(db, &world, started).await;
    insert_all(db, subscriptions(&world, endpoint, key)).await;
    eprintln!(
        "  people, profiles, matches: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (outings, members, check_ins) = outings_members_check_ins(db, &world, started).await;
    let alerts = insert_rows(db, 0..sizes.outings, |index, rows| {
        rows.extend(
            world
                .alert_row(&world.plan(index))
                .map(|row| alerts::ActiveModel::from(row).reset_all()),
        );
    })
    .await;
    let (notifications, deliveries) = outbox(db, &world).await;
    eprintln!(
        "  subscriptions, outbox: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("  generated in {seconds:.1} s");
    let settling = Instant::now();
    settle(db).await;
    History {
        world,
        matches,
        outings,
        members,
        check_ins,
        alerts,
        seconds,
        settle_seconds: settling.elapsed().as_secs_f64(),
        notifications,
        deliveries,
    }
}

/// People (supporters first), their profiles and support matches; returns the matches.
async fn people_and_matches(db: &DatabaseConnection, world: &World, started: Instant) -> usize {
    let (sizes, now) = (&world.sizes, world.now);
    // People, profiles and matches.
    let created = world.people_created;
    let person = |id: Uuid, index: usize, name: String, role: &str| people::ActiveModel {
        id: sea_orm::Set(id),
        organisation_id: sea_orm::Set(world.organisations[index % ORGANISATIONS]),
        display_name: sea_orm::Set(name),
        role: sea_orm::Set(role.to_owned()),
        locale: sea_orm::Set(if index.is_multiple_of(10) { "en" } else { "ja" }.to_owned()),
        time_zone: sea_orm::Set("Asia/Tokyo".to_owned()),
        created_at: sea_orm::Set(created),
        updated_at: sea_orm::Set(created),
    };
    let mut rows: Vec<people::ActiveModel> = (0..sizes.supporters)
        .map(|s| person(world.supporter(s), s, format!("支援者 {s}"), "supporter"))
        .collect();
    rows.extend((0..sizes.participants).map(|p| {
        person(
            world.participant(p),
            p,
            format!("参加者 {p}"),
            "participant",
        )
    }));
    insert_all(db, rows).await;
    eprintln!(
        "  organisations, people: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut rng = Rng::seeded(0x5EED);
    let supporter_rows: Vec<supporter_profiles::ActiveModel> = (0..sizes.supporters)
        .map(|s| {
            supporter_profiles::ActiveModel::from(supporter_profiles::Model {
                person_id: world.supporter(s),
                experience_tags: StringList(vec![
                    rng.pick(&TAGS).to_owned(),
                    rng.pick(&TAGS).to_owned(),
                ]),
                languages: StringList(vec!["ja".to_owned()]),
                areas: StringList(vec![rng.pick(&WARDS).to_owned()]),
                match_capacity: None,
                on_break_since: None,
                supervision_follow_up_since: None,
                is_trainer: s % 50 == 0,
                updated_at: created,
            })
            .reset_all()
        })
        .collect();
    insert_all(db, supporter_rows).await;
    let participant_rows: Vec<participant_profiles::ActiveModel> = (0..sizes.participants)
        .map(|p| {
            participant_profiles::ActiveModel::from(participant_profiles::Model {
                person_id: world.participant(p),
                preferences: StringList(vec![rng.pick(&WARDS).to_owned()]),
                consents_to_location_sharing: rng.percent(50),
                experience_tags: Some(StringList(vec![rng.pick(&TAGS).to_owned()])),
                languages: Some(StringList(vec!["ja".to_owned()])),
                areas: Some(StringList(vec![rng.pick(&WARDS).to_owned()])),
                crisis_plan: rng
                    .percent(40)
                    .then(|| "不安が強いときは静かな場所で休む。連絡先: 主治医".to_owned()),
                updated_at: created,
            })
            .reset_all()
        })
        .collect();
    insert_all(db, participant_rows).await;
    eprintln!("  profiles: {:.1} s", started.elapsed().as_secs_f64());
    // Each participant's first match is active; the second ended for 70% of them.
    let match_rows: Vec<support_matches::ActiveModel> = (0..sizes.matches())
        .map(|k| {
            let participant = k % sizes.participants;
            let second = k >= sizes.participants;
            let ended = second && rng.percent(70);
            let supporter = if second {
                sizes.second_supporter(participant)
            } else {
                sizes.first_supporter(participant)
            };
            let proposed_at = created + Duration::days(10) + rng.minutes(30 * 24 * 60);
            let id = v7(proposed_at, kind::MATCH, k);
            support_matches::ActiveModel::from(support_matches::Model {
                id,
                organisation_id: world.organisations[participant % ORGANISATIONS],
                supporter_id: world.supporter(supporter),
                participant_id: world.participant(participant),
                status: if ended { "ended" } else { "active" }.to_owned(),
                proposed_by: world.coordinators[participant % ORGANISATIONS],
                proposed_at,
                expires_at: proposed_at + Duration::days(7),
                responded_at: Some(proposed_at + Duration::days(1)),
                paused_at: None,
                ended_at: ended.then(|| now - Duration::days(30) - rng.minutes(300 * 24 * 60)),
                end_reason: ended.then(|| "goals_reached".to_owned()),
                closing_reflection: None,
                updated_at: now - Duration::days(20),
            })
            .reset_all()
        })
        .collect();
    let matches = match_rows.len();
    insert_all(db, match_rows).await;
    matches
}

/// Outings, their members and check-ins, the secondary indexes dropped meanwhile; returns how
/// many of each.
async fn outings_members_check_ins(
    db: &DatabaseConnection,
    world: &Arc<World>,
    started: Instant,
) -> (usize, usize, usize) {
    let n = world.sizes.outings;
    let indexes = secondary_indexes(db).await;
    for (name, _) in &indexes {
        db.execute_unprepared(&format!("DROP INDEX \"{name}\""))
            .await
            .expect("drop index");
    }
    let (outings, members, check_ins) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool().clone();
            // Outings first (members and check-ins refer to them), in two streams at once.
            let halves = [0..n / 2, n / 2..n];
            let outings = total(
                copy_tasks(&pool, world, OUTINGS_COPY, &halves, World::copy_outing),
                "outings COPY",
            )
            .await;
            eprintln!("  outings: {:.1} s", started.elapsed().as_secs_f64());
            let members_task = copy_tasks(
                &pool,
                world,
                MEMBERS_COPY,
                std::slice::from_ref(&(0..n)),
                World::copy_members,
            );
            let check_ins = total(
                copy_tasks(&pool, world, CHECK_INS_COPY, &halves, World::copy_check_ins),
                "check-ins COPY",
            )
            .await;
            let members = total(members_task, "members COPY").await;
            eprintln!(
                "  members, check-ins: {:.1} s",
                started.elapsed().as_secs_f64()
            );
            (outings, members, check_ins)
        }
        _ => {
            let outings = insert_rows(db, 0..n, |index, rows| {
                rows.push(
                    outings::ActiveModel::from(world.outing_row(&world.plan(index))).reset_all(),
                );
            })
            .await;
            let members = insert_rows(db, 0..n, |index, rows| {
                rows.extend(
                    world
                        .member_rows(&world.plan(index))
                        .into_iter()
                        .map(|row| outing_members::ActiveModel::from(row).reset_all()),
                );
            })
            .await;
            let check_ins = insert_rows(db, 0..n, |index, rows| {
                rows.extend(
                    world
                        .check_in_rows(&world.plan(index))
                        .into_iter()
                        .map(|row| check_ins::ActiveModel::from(row).reset_all()),
                );
            })
            .await;
            (outings, members, check_ins)
        }
    };
    let indexing = Instant::now();
    for (_, definition) in &indexes {
        db.execute_unprepared(definition)
            .await
            .expect("create index");
    }
    eprintln!(
        "  {} secondary indexes built in {:.1} s",
        indexes.len(),
        indexing.elapsed().as_secs_f64()
    );
    if db.get_database_backend() == DbBackend::Postgres {
        // The foreign keys the COPY did not check row by row, checked set-wise.
        let orphans = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT (SELECT count(*) FROM outing_members m WHERE NOT EXISTS (SELECT 1 FROM outings o WHERE o.id = m.outing_id)) + (SELECT count(*) FROM check_ins c WHERE NOT EXISTS (SELECT 1 FROM outings o WHERE o.id = c.outing_id)) + (SELECT count(*) FROM outings o WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = o.participant_id)) AS orphans",
            ))
            .await
            .expect("foreign key check")
            .expect("a row")
            .try_get::<i64>("", "orphans")
            .expect("a count");
        assert_eq!(orphans, 0, "rows without their outing or participant");
        eprintln!(
            "  foreign keys checked: {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    (outings, members, check_ins)
}

/// One `COPY` of `statement` for each range of outings, all at once, each outing's rows written by
/// `write`.
fn copy_tasks(
    pool: &PgPool,
    world: &Arc<World>,
    statement: &'static str,
    ranges: &[Range<usize>],
    write: fn(&World, usize, &mut CopyText) -> usize,
) -> Vec<JoinHandle<usize>> {
    ranges
        .iter()
        .cloned()
        .map(|range| {
            let (pool, world) = (pool.clone(), world.clone());
            tokio::spawn(async move {
                copy_rows(&pool, statement, range, |index, out| {
                    write(&world, index, out)
                })
                .await
            })
        })
        .collect()
}

/// The rows the tasks wrote, in all.
async fn total(tasks: Vec<JoinHandle<usize>>, what: &str) -> usize {
    let mut rows = 0;
    for task in tasks {
        rows += task.await.expect(what);
    }
    rows
}

/// The outbox of the last 30 days (no notification is ever deleted): each completed outing's
/// two reminders to its participant and lead, delivered. Returns the notifications and deliveries.
async fn outbox(db: &DatabaseConnection, world: &World) -> (usize, usize) {
    let n = world.sizes.outings;
    let recent = n - n * OUTBOX_DAYS / HISTORY_DAYS..n;
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            let notifications =
                copy_rows(pool, NOTIFICATIONS_COPY, recent.clone(), |index, out| {
                    world.copy_notifications(index, out)
                })
                .await;
            let deliveries = copy_rows(pool, DELIVERIES_COPY, recent, |index, out| {
                world.copy_deliveries(index, out)
            })
            .await;
            let orphans = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT (SELECT count(*) FROM push_deliveries d WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = d.notification_id) OR NOT EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.id = d.subscription_id)) + (SELECT count(*) FROM notifications n WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = n.recipient_id)) AS orphans",
                ))
                .await
                .expect("foreign key check")
                .expect("a row")
                .try_get::<i64>("", "orphans")
                .expect("a count");
            assert_eq!(
                orphans, 0,
                "outbox rows without their notification, subscription or person"
            );
            (notifications, deliveries)
        }
        _ => {
            let notifications = insert_rows(db, recent.clone(), |index, rows| {
                rows.extend(
                    world
                        .reminders(&world.plan(index))
                        .into_iter()
                        .map(|(row, _)| notifications::ActiveModel::from(row).reset_all()),
                );
            })
            .await;
            let deliveries = insert_rows(db, recent, |index, rows| {
                rows.extend(
                    world
                        .reminders(&world.plan(index))
                        .into_iter()
                        .map(|(_, row)| push_deliveries::ActiveModel::from(row).reset_all()),
                );
            })
            .await;
            (notifications, deliveries)
        }
    }
}

/// Settles the database as it would be a while after such a load: on PostgreSQL what autovacuum
/// does (visibility, hint bits, statistics; this instance runs with autovacuum off) and a
/// checkpoint; on SQLite the WAL folded back into the database file.
async fn settle(db: &DatabaseConnection) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            db.execute_unprepared("VACUUM ANALYZE")
                .await
                .expect("vacuum analyze");
            db.execute_unprepared("CHECKPOINT")
                .await
                .expect("checkpoint");
        }
        _ => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .expect("checkpoint");
        }
    }
}

/// One subscription for every supporter and participant (serials: supporters first), to the
/// endpoint at `endpoint` (`http://host:port`).
fn subscriptions(
    world: &World,
    endpoint: &str,
    key: &BrowserKey,
) -> Vec<push_subscriptions::ActiveModel> {
    let sizes = &world.sizes;
    let people = (0..sizes.supporters)
        .map(|s| (world.supporter(s), s))
        .chain((0..sizes.participants).map(|p| (world.participant(p), p)));
    let (p256dh, auth) = (key.p256dh(), key.auth());
    people
        .enumerate()
        .map(|(serial, (person, index))| {
            let endpoint = format!("{endpoint}/push/{serial}");
            push_subscriptions::ActiveModel::from(push_subscriptions::Model {
                id: v7(world.now, kind::SUBSCRIPTION, serial),
                organisation_id: world.organisations[index % ORGANISATIONS],
                person_id: person,
                device_id: None,
                endpoint_hash: sha256_hex(endpoint.as_bytes()),
                endpoint,
                p256dh: p256dh.clone(),
                auth: auth.clone(),
                label: "bench".to_owned(),
                locale: None,
                created_at: world.now,
                updated_at: world.now,
                removed_at: None,
                removed_reason: None,
                last_outcome: None,
                last_outcome_at: None,
                last_delivered_at: None,
                consecutive_failures: 0,
            })
            .reset_all()
        })
        .collect()
}
