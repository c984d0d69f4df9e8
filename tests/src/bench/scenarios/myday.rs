//! `myday [sqlite|postgres] [--scale F] [--seconds S]`: `myDay(from:, to:)` over HTTP, each
//! request for a random supporter (with a device token) and a random day of the history, at
//! concurrency 16 for S seconds (default 30), by `wrk` when it is on the PATH (Debian's package),
//! else by 16 tasks of this program over one HTTP client (`loadgen=` says which). Statements per
//! request are counted in a second run of this program on the same database that logs sqlx's
//! statements (the server's own tracing set-up, filter `sqlx::query=debug`): requests one at a
//! time, for days with no outings, days with some and 31-day windows with the most. Prints
//! `myday: db=… rps=… p50_ms=… p99_ms=… statements_per_request=…`, then more figures.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use sea_orm::{ActiveModelTrait, DbBackend};
use serde_json::json;
use tomoni_schema::domain::credentials::AccessToken;
use tomoni_schema::store::entities::devices;
use tomoni_server::{Application, SystemClock};

use crate::bench::cpu::{backends_cpu, backends_cpu_since, cpu_time, load_average};
use crate::bench::driver::{CONCURRENCY, drive, percentile, post, sorted};
use crate::bench::history::generate;
use crate::bench::load::insert_all;
use crate::bench::rng::Rng;
use crate::bench::statements::run_count;
use crate::bench::world::{
    HISTORY_DAYS, ORGANISATIONS, Sizes, World, japan, japan_today, kind, v7,
};
use crate::bench::{Running, keep};
use crate::push_receiver::BrowserKey;
use crate::{Backend, TestDatabase};

const MYDAY_WARM_UP: usize = 300;
/// Requests the load generator cycles through (random supporter, random day).
const MYDAY_REQUEST_POOL: usize = 20_000;

const MYDAY_QUERY: &str = "query($from: DateTime, $to: DateTime) { myDay(from: $from, to: $to) { id status purpose place stepGoal plannedStart plannedEnd startedAt endedAt checkInDueAt members { personId displayName role } checkIns { nodes { id personId kind madeAt } } latestCheckIn { kind madeAt } alerts { nodes { id reason status } } } }";

/// A device (and its token) for every supporter.
fn supporter_devices(world: &World) -> (Vec<devices::ActiveModel>, Vec<String>) {
    (0..world.sizes.supporters)
        .map(|s| {
            let token = AccessToken::generate(&mut rand::rng());
            let row = devices::ActiveModel::from(devices::Model {
                id: v7(world.now, kind::DEVICE, s),
                organisation_id: world.organisations[s % ORGANISATIONS],
                person_id: world.supporter(s),
                label: "bench phone".to_owned(),
                token_hash: token.hash(),
                created_at: world.now,
                last_used_at: Some(Utc::now()),
                revoked_at: None,
            })
            .reset_all();
            (row, token.reveal().to_owned())
        })
        .unzip()
}

/// The UTC bounds of a day in Japan.
fn day_window(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = japan(day, 0, 0);
    (from, from + Duration::days(1))
}

fn myday_body(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    json!({
        "query": MYDAY_QUERY,
        "variables": {
            "from": from.to_rfc3339_opts(SecondsFormat::Secs, true),
            "to": to.to_rfc3339_opts(SecondsFormat::Secs, true),
        },
    })
    .to_string()
}

/// One request; returns how many outings came back.
pub(crate) async fn ask(http: &reqwest::Client, url: &str, token: &str, body: &str) -> usize {
    post(http, url, token, body).await["data"]["myDay"]
        .as_array()
        .expect("a list of outings")
        .len()
}

/// Requests whose statements are counted: for a few supporters, days without outings, the days
/// with the most, and the 31-day windows with the most.
fn counted_requests(
    world: &World,
    tokens: &[String],
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let sizes = &world.sizes;
    let chosen = [0, sizes.supporters / 3, 2 * sizes.supporters / 3];
    let mut days: HashMap<usize, BTreeMap<NaiveDate, usize>> = HashMap::new();
    for index in 0..sizes.outings {
        let plan = world.plan(index);
        for supporter in std::iter::once(plan.lead).chain(plan.trainee) {
            if chosen.contains(&supporter) {
                let day = japan_today(plan.start);
                *days.entry(supporter).or_default().entry(day).or_default() += 1;
            }
        }
    }
    let mut requests = Vec::new();
    for supporter in chosen {
        let token = &tokens[supporter];
        let theirs = days.remove(&supporter).unwrap_or_default();
        let first = world.today - Duration::days(i64::try_from(HISTORY_DAYS).expect("days"));
        let empty: Vec<NaiveDate> = (0..HISTORY_DAYS)
            .map(|offset| first + Duration::days(i64::try_from(offset).expect("days")))
            .filter(|day| !theirs.contains_key(day))
            .step_by(97)
            .take(3)
            .collect();
        let mut busiest: Vec<(NaiveDate, usize)> = theirs.iter().map(|(d, n)| (*d, *n)).collect();
        busiest.sort_by_key(|(day, count)| (std::cmp::Reverse(*count), *day));
        for day in empty
            .into_iter()
            .chain(busiest.iter().take(3).map(|(day, _)| *day))
        {
            let (from, to) = day_window(day);
            requests.push((token.clone(), from, to));
        }
        // The 31-day windows (the longest myDay allows) with the most outings.
        let mut windows: Vec<(usize, NaiveDate)> = (0..HISTORY_DAYS.saturating_sub(31))
            .map(|offset| {
                let start = first + Duration::days(i64::try_from(offset).expect("days"));
                let count = theirs
                    .range(start..start + Duration::days(31))
                    .map(|(_, n)| n)
                    .sum();
                (count, start)
            })
            .collect();
        windows.sort_by_key(|(count, start)| (std::cmp::Reverse(*count), *start));
        for (_, start) in windows.into_iter().step_by(40).take(2) {
            let from = japan(start, 0, 0);
            requests.push((token.clone(), from, from + Duration::days(31)));
        }
    }
    requests
}

/// The myDay benchmark on `kind_of_database` (named `backend` in the figures), over the history
/// at `scale`, the load lasting `seconds`.
pub async fn myday(backend: &str, kind_of_database: Backend, scale: f64, seconds: u64) {
    let sizes = Sizes::at(scale);
    let database = TestDatabase::create_on(kind_of_database).await;
    let application = Application::build(&database.settings(), Arc::new(SystemClock))
        .await
        .expect("build the application");
    let address = application.local_addr().expect("address");
    let db = application.database().clone();
    eprintln!("generating the history ({sizes:?})…");
    // Nothing is pushed in this benchmark: the subscriptions point at the discard port.
    let history = generate(&db, sizes, "http://127.0.0.1:9", &BrowserKey::generate()).await;
    println!("{}", history.line(backend));
    let world = history.world.clone();
    let (rows, tokens) = supporter_devices(&world);
    insert_all(&db, rows).await;

    let server = Running::start(application);

    let mut rng = Rng::seeded(0xDA7);
    let requests: Vec<(String, String)> = (0..MYDAY_REQUEST_POOL)
        .map(|_| {
            let supporter = rng.below(world.sizes.supporters);
            let back = 1 + rng.below(HISTORY_DAYS);
            let (from, to) =
                day_window(world.today - Duration::days(i64::try_from(back).expect("days")));
            (tokens[supporter].clone(), myday_body(from, to))
        })
        .collect();
    let http = reqwest::Client::new();
    let url = format!("http://{address}/graphql");
    // Warm-up, one request at a time: also the service time without queueing.
    let mut returned = 0;
    let mut one_at_a_time = Vec::with_capacity(MYDAY_WARM_UP);
    for (token, body) in requests.iter().rev().take(MYDAY_WARM_UP) {
        let sent = Instant::now();
        returned += ask(&http, &url, token, body).await;
        one_at_a_time.push(sent.elapsed().as_secs_f64() * 1e3);
    }
    let mean_outings = returned as f64 / MYDAY_WARM_UP as f64;
    let one_at_a_time = sorted(one_at_a_time);
    let is_postgres = db.get_database_backend() == DbBackend::Postgres;
    let db_cpu_before = backends_cpu(&db).await;
    let (load_before, cpu_before) = (load_average(), cpu_time("self"));
    eprintln!("loading at concurrency {CONCURRENCY} for {seconds} s…");
    let load = drive(address, &database.data_dir, requests, seconds).await;
    let server_cpu = cpu_time("self") - cpu_before;
    // Backends opened during the load count whole; those from before, from where they were.
    let db_cpu = backends_cpu_since(&db, &db_cpu_before).await;
    let load_after = load_average();
    server.stop().await.expect("the server ran");

    eprintln!("counting statements per request…");
    let counted = counted_requests(&world, &tokens);
    let list = database.data_dir.join("counted-requests.tsv");
    let mut lines = String::new();
    for (token, from, to) in &counted {
        let _ = writeln!(lines, "{token}\t{}", myday_body(*from, *to));
    }
    std::fs::write(&list, lines).expect("write the counted requests");
    let (url, dir) = (
        database.url.clone().unwrap_or_default(),
        database.data_dir.clone(),
    );
    let counted = tokio::task::spawn_blocking(move || run_count(&url, &dir, &list))
        .await
        .expect("count");
    let counts = &counted.requests;
    // Where a request's database time goes (requests one at a time, statements timed by sqlx).
    let requests_counted = counts.len().max(1) as f64;
    let sql_ms: f64 =
        counted.by_statement.values().map(|(_, ms)| ms).sum::<f64>() / requests_counted;
    let sql_breakdown: Vec<String> = counted
        .by_statement
        .iter()
        .map(|(kind, (n, ms))| format!("{}:{:.2}", kind.replace(' ', "_"), ms / *n as f64))
        .collect();
    let statements: Vec<f64> = counts.iter().map(|(_, n)| *n as f64).collect();
    let mut by_outings: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for (outings, n) in counts {
        let entry = by_outings.entry(*outings).or_insert((usize::MAX, 0));
        *entry = (entry.0.min(*n), entry.1.max(*n));
    }
    let by_outings: Vec<String> = by_outings
        .iter()
        .map(|(outings, (low, high))| {
            if low == high {
                format!("{outings}:{low}")
            } else {
                format!("{outings}:{low}-{high}")
            }
        })
        .collect();

    println!(
        "myday: db={backend} rps={:.0} p50_ms={:.2} p99_ms={:.2} statements_per_request={:.1} max_ms={:.1} requests={} errors={} concurrency={CONCURRENCY} seconds={:.0} loadgen={} mean_outings={mean_outings:.2} statements_by_outings={} counted_requests={} sql_ms_per_request={sql_ms:.2} sql_ms_per_statement={} sequential_p50_ms={:.2} server_cpu_ms_per_request={:.2} db_cpu_ms_per_request={} loadavg_before={load_before} loadavg_after={load_after} scale={} generate_s={:.1}",
        load.requests as f64 / load.seconds,
        load.p50_ms,
        load.p99_ms,
        statements.iter().sum::<f64>() / statements.len().max(1) as f64,
        load.max_ms,
        load.requests,
        load.errors,
        load.seconds,
        load.generator,
        by_outings.join(","),
        counts.len(),
        sql_breakdown.join(","),
        percentile(&one_at_a_time, 50),
        server_cpu.as_secs_f64() * 1e3 / load.requests.max(1) as f64,
        if !is_postgres {
            "n/a".to_owned()
        } else {
            format!(
                "{:.2}",
                db_cpu.as_secs_f64() * 1e3 / load.requests.max(1) as f64
            )
        },
        sizes.scale,
        history.seconds,
    );
    keep(database);
}
