//! `watchdog [sqlite|postgres] [--scale F]`: on top of the history, 10,000 outings under way whose
//! check-ins fall due over the next 60 seconds. The real server runs (system clock, watchdog and
//! push dispatcher on, default settings); every subscription points at a local endpoint that
//! keeps each push and when it arrived. Afterwards each push is decrypted and its delay is its
//! arrival minus the `dueAt` it carries: from the deadline to the push leaving the server. The
//! outbox gives the split (`watchdog_*`: deadline to notification written; `fanout_*`: written to
//! fanned out). Then, with the server stopped, the watchdog's tick is called directly, in the
//! server's loop, over another 10,000 outings falling due within 60 seconds, and the CPU time of
//! this process (and on PostgreSQL of the backend serving its one connection) is divided by the
//! ticks. Prints `watchdog: db=… in_progress=10000 p50_ms=… p99_ms=… cpu_ms_per_tick=…`, then
//! more figures.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
};
use tomoni_schema::domain::outings::OutingStatus;
use tomoni_schema::store;
use tomoni_schema::store::entities::{notifications, outing_members, outings};
use tomoni_schema::store::outings::NewOuting;
use tomoni_server::{Application, SystemClock};

use crate::bench::cpu::{backends_cpu, backends_cpu_since, cpu_time, load_average};
use crate::bench::driver::{percentile, sorted};
use crate::bench::history::generate;
use crate::bench::load::insert_all;
use crate::bench::rng::Rng;
use crate::bench::world::{
    DUE_SPREAD_MS, GOALS, IN_PROGRESS, ORGANISATIONS, PLACES, PURPOSES, Sizes, World, kind, v7,
};
use crate::bench::{Running, keep};
use crate::push_receiver::{PushRecorder, Received};
use crate::{Backend, TestDatabase};

/// Time between the last row written and the first deadline.
const START_MARGIN_MS: i64 = 5_000;
/// The server's default watchdog tick and batch (`safety.tick_ms`, `safety.batch_size`).
const TICK: StdDuration = StdDuration::from_millis(200);
const TICK_BATCH: u64 = 200;

/// Outings under way whose first check-in falls due between `first_due` and 60 seconds later
/// (`watch_at` is the deadline, nothing of the ladder done yet, the planned end far ahead).
fn under_way(
    world: &World,
    series: u8,
    first_due: DateTime<Utc>,
) -> (Vec<outings::ActiveModel>, Vec<outing_members::ActiveModel>) {
    let sizes = &world.sizes;
    let mut rng = Rng::seeded(u64::from(series) << 40);
    let mut rows = Vec::with_capacity(IN_PROGRESS);
    let mut members = Vec::with_capacity(IN_PROGRESS * 2 + IN_PROGRESS / 5);
    for index in 0..IN_PROGRESS {
        let participant = index % sizes.participants;
        let organisation = participant % ORGANISATIONS;
        let lead = sizes.first_supporter(participant);
        let trainee = rng.percent(20).then(|| sizes.colleague(lead, &mut rng));
        let offset = i64::try_from(index).expect("small") * DUE_SPREAD_MS
            / i64::try_from(IN_PROGRESS).expect("small");
        let due = first_due + Duration::milliseconds(offset);
        let started = due - Duration::minutes(30);
        let created = started - Duration::days(3);
        let id = v7(created, series, index);
        let coordinator = world.coordinators[organisation];
        let (planned_start, planned_end) =
            (started - Duration::minutes(5), started + Duration::hours(6));
        rows.push(
            outings::ActiveModel::from(outings::Model {
                status: "in_progress".to_owned(),
                started_at: Some(started),
                check_in_due_at: Some(due),
                watch_at: Some(due),
                updated_at: started,
                ..NewOuting {
                    organisation_id: world.organisations[organisation],
                    participant_id: world.participant(participant),
                    lead_supporter_id: world.supporter(lead),
                    staff_companion_id: None,
                    purpose: rng.pick(&PURPOSES),
                    place: rng.pick(&PLACES),
                    latitude: None,
                    longitude: None,
                    step_goal: rng.pick(&GOALS),
                    planned_start,
                    planned_end,
                    check_in_interval_minutes: 30,
                    grace_minutes: 10,
                    status: OutingStatus::Planned,
                    created_by: coordinator,
                    approved_by: Some(coordinator),
                }
                .row(id, created)
            })
            .reset_all(),
        );
        let mut people = vec![
            (world.participant(participant), "participant"),
            (world.supporter(lead), "lead"),
        ];
        if let Some(trainee) = trainee {
            people.push((world.supporter(trainee), "trainee"));
        }
        members.extend(people.into_iter().map(|(person, role)| {
            outing_members::ActiveModel::from(outing_members::Model {
                outing_id: id,
                person_id: person,
                role: role.to_owned(),
                planned_start,
                planned_end,
            })
            .reset_all()
        }));
    }
    (rows, members)
}

/// The watchdog's ticks called directly, as the server's loop calls them, over 10,000 outings
/// falling due within 60 seconds; the server is stopped.
struct TickFigures {
    ticks: usize,
    busy_ticks: usize,
    prompts: usize,
    app_cpu: StdDuration,
    /// The PostgreSQL backend's CPU (none on SQLite, which runs in this process).
    db_cpu: Option<StdDuration>,
    busy_tick_ms: Vec<f64>,
}

async fn tick_cost(url: &str, world: &World) -> TickFigures {
    let db = store::connect(url, 1).await.expect("connect");
    // The first run's outings are done with: none of their later steps falls due during this one.
    db.execute_unprepared("UPDATE outings SET watch_at = NULL WHERE watch_at IS NOT NULL")
        .await
        .expect("clear the first run's watches");
    let first_due = Utc::now() + Duration::milliseconds(3_000);
    let (rows, members) = under_way(world, kind::UNDER_WAY_AGAIN, first_due);
    insert_all(&db, rows).await;
    insert_all(&db, members).await;
    let backend_pid: Option<i32> = match db.get_database_backend() {
        DbBackend::Postgres => Some(
            db.query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_backend_pid() AS pid",
            ))
            .await
            .expect("backend pid")
            .expect("a row")
            .try_get("", "pid")
            .expect("pid"),
        ),
        _ => None,
    };
    let db_cpu = || backend_pid.map(|pid| cpu_time(&pid.to_string()));
    let wait = (first_due - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait.saturating_sub(StdDuration::from_millis(500))).await;

    let last_due = first_due + Duration::milliseconds(DUE_SPREAD_MS);
    let (app_before, db_before) = (cpu_time("self"), db_cpu());
    let mut figures = TickFigures {
        ticks: 0,
        busy_ticks: 0,
        prompts: 0,
        app_cpu: StdDuration::ZERO,
        db_cpu: None,
        busy_tick_ms: Vec::new(),
    };
    loop {
        let started = Instant::now();
        let report =
            tomoni_schema::safety::watchdog_tick(&db, Utc::now(), TICK_BATCH, Default::default())
                .await
                .expect("tick");
        figures.ticks += 1;
        figures.prompts += report.prompts;
        if report.did_work() {
            figures.busy_ticks += 1;
            figures
                .busy_tick_ms
                .push(started.elapsed().as_secs_f64() * 1e3);
            continue;
        }
        if Utc::now() > last_due + Duration::milliseconds(500) {
            break;
        }
        tokio::time::sleep(TICK).await;
    }
    figures.app_cpu = cpu_time("self") - app_before;
    figures.db_cpu = db_cpu()
        .zip(db_before)
        .map(|(after, before)| after - before);
    db.close().await.ok();
    figures
}

/// The watchdog benchmark on `kind_of_database` (named `backend` in the figures), over the history
/// at `scale`.
pub async fn watchdog(backend: &str, kind_of_database: Backend, scale: f64) {
    let sizes = Sizes::at(scale);
    let database = TestDatabase::create_on(kind_of_database).await;
    let application = Application::build(&database.settings(), Arc::new(SystemClock))
        .await
        .expect("build the application");
    let db = application.database().clone();
    let recorder = PushRecorder::start();
    eprintln!("generating the history ({sizes:?})…");
    let history = generate(&db, sizes, recorder.origin(), &recorder.key).await;
    println!("{}", history.line(backend));
    let world = history.world.clone();

    let first_due = Utc::now() + Duration::milliseconds(START_MARGIN_MS);
    let (rows, members) = under_way(&world, kind::UNDER_WAY, first_due);
    let expected = members.len();
    insert_all(&db, rows).await;
    insert_all(&db, members).await;

    let db_cpu_before = backends_cpu(&db).await;
    let (load_before, run_cpu_before, run_started) =
        (load_average(), cpu_time("self"), Instant::now());
    let server = Running::start(application);
    let late_start_ms = (Utc::now() - first_due).num_milliseconds().max(0);
    if late_start_ms > 0 {
        eprintln!("warning: the server started {late_start_ms} ms after the first deadline");
    }
    eprintln!("{IN_PROGRESS} outings under way, {expected} check-in pushes expected…");
    let give_up = first_due + Duration::milliseconds(DUE_SPREAD_MS + 120_000);
    while recorder.arrived() < expected && Utc::now() < give_up {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let run_cpu =
        (cpu_time("self") - run_cpu_before).as_secs_f64() / run_started.elapsed().as_secs_f64();
    let load_after = load_average();
    let run_db_cpu = backends_cpu_since(&db, &db_cpu_before).await;
    let run_db_cpu = run_db_cpu.as_secs_f64() / run_started.elapsed().as_secs_f64();
    // Anything else the run would send (there should be nothing) has a moment to arrive.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    server.stop().await.expect("the server ran");

    // Each push's delay: its arrival minus the deadline it announces.
    let arrivals = recorder.take();
    let mut delays = Vec::with_capacity(arrivals.len());
    let mut slowest: HashMap<String, f64> = HashMap::new();
    let (mut other_kinds, mut undecryptable) = (0, 0);
    let mut by_ten_seconds: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for arrival in &arrivals {
        let Ok(Received { payload, .. }) = recorder.check(arrival) else {
            undecryptable += 1;
            continue;
        };
        if payload["kind"] != "check_in_due" {
            other_kinds += 1;
            continue;
        }
        let due: DateTime<Utc> =
            serde_json::from_value(payload["dueAt"].clone()).expect("dueAt is a time");
        let delay = (arrival.at - due).num_microseconds().expect("small") as f64 / 1e3;
        delays.push(delay);
        let bucket = usize::try_from((due - first_due).num_seconds().max(0) / 10).unwrap_or(0);
        by_ten_seconds.entry(bucket).or_default().push(delay);
        let outing = payload["outingId"].as_str().unwrap_or_default().to_owned();
        let entry = slowest.entry(outing).or_insert(f64::MIN);
        *entry = entry.max(delay);
    }
    let pushes = delays.len();
    let delays = sorted(delays);
    let per_outing = sorted(slowest.into_values().collect());
    // How the delay went over the run: p99 of the pushes for deadlines in each 10 seconds.
    let over_time: Vec<String> = by_ten_seconds
        .into_values()
        .map(|delays| format!("{:.0}", percentile(&sorted(delays), 99)))
        .collect();

    // The outbox's view: deadline → notification written (watchdog), written → fanned out.
    let db = store::connect(&database.effective_url(), 2)
        .await
        .expect("connect");
    let written = notifications::Entity::find()
        .filter(notifications::Column::Kind.eq("check_in_due"))
        .all(&db)
        .await
        .expect("notifications");
    let mut watchdog_ms = Vec::with_capacity(written.len());
    let mut fanout_ms = Vec::with_capacity(written.len());
    for row in &written {
        let Ok(due) = serde_json::from_value::<DateTime<Utc>>(row.message["dueAt"].clone()) else {
            continue;
        };
        watchdog_ms.push((row.created_at - due).num_microseconds().expect("small") as f64 / 1e3);
        if let Some(dispatched) = row.dispatched_at {
            fanout_ms.push(
                (dispatched - row.created_at)
                    .num_microseconds()
                    .expect("small") as f64
                    / 1e3,
            );
        }
    }
    let (watchdog_ms, fanout_ms) = (sorted(watchdog_ms), sorted(fanout_ms));
    db.close().await.ok();

    eprintln!("timing the watchdog's ticks directly…");
    let ticks = tick_cost(&database.effective_url(), &world).await;
    let ticks_f = ticks.ticks.max(1) as f64;
    let app_ms = ticks.app_cpu.as_secs_f64() * 1e3;
    let db_ms = ticks.db_cpu.map_or(0.0, |cpu| cpu.as_secs_f64() * 1e3);
    let busy_tick_ms = sorted(ticks.busy_tick_ms.clone());

    println!(
        "watchdog: db={backend} in_progress={IN_PROGRESS} p50_ms={:.1} p99_ms={:.1} cpu_ms_per_tick={:.2} max_ms={:.1} pushes={pushes} expected={expected} other_pushes={other_kinds} undecryptable={undecryptable} outing_last_push_p99_ms={:.1} watchdog_p50_ms={:.1} watchdog_p99_ms={:.1} fanout_p99_ms={:.1} late_start_ms={late_start_ms} ticks={} busy_ticks={} prompts={} app_cpu_ms_per_tick={:.2} db_cpu_ms_per_tick={} cpu_ms_per_prompt={:.3} busy_tick_p50_ms={:.1} busy_tick_p99_ms={:.1} p99_ms_by_10s={} run_cpu_cores={run_cpu:.2} run_db_cpu_cores={run_db_cpu:.2} loadavg_before={load_before} loadavg_after={load_after} scale={} generate_s={:.1}",
        percentile(&delays, 50),
        percentile(&delays, 99),
        (app_ms + db_ms) / ticks_f,
        delays.last().copied().unwrap_or(f64::NAN),
        percentile(&per_outing, 99),
        percentile(&watchdog_ms, 50),
        percentile(&watchdog_ms, 99),
        percentile(&fanout_ms, 99),
        ticks.ticks,
        ticks.busy_ticks,
        ticks.prompts,
        app_ms / ticks_f,
        ticks
            .db_cpu
            .map_or("n/a".to_owned(), |_| format!("{:.2}", db_ms / ticks_f)),
        (app_ms + db_ms) / ticks.prompts.max(1) as f64,
        percentile(&busy_tick_ms, 50),
        percentile(&busy_tick_ms, 99),
        over_time.join("/"),
        sizes.scale,
        history.seconds,
    );
    keep(database);
}
