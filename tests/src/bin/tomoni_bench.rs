//! Benchmarks, run by `scripts/bench.sh` (never by the test suite): each prints one line of figures.
//!
//! `push [sqlite|postgres] [N]`: N notifications (default 20,000) go through the real dispatcher —
//! outbox rows in, encrypted and signed pushes out — to a local endpoint that counts and answers
//! 201. Prints `push: db=… pushes=… pushes_per_sec=… cpu_us_per_push=… crypto_us_per_push=…`, where
//! the CPU figure is the whole process's (dispatcher, database and the counting endpoint), and the
//! crypto figure is encryption and signing alone, measured in the same run.
//!
//! `suggestions [sqlite|postgres] [N]`: `matchSuggestions` over HTTP against the real server, for
//! an organisation of N supporters (default 2,000), 500 participants and about 0.75·N open
//! matches, generated set-wise. After 50 warm-up requests, 500 requests one after the other, each
//! for a random participant. Prints `suggestions: db=… supporters=… p50_ms=… p99_ms=…`, then the
//! medians of the store reads the resolver makes, timed directly (`profiles_ms`, `facts_ms`,
//! `loads_ms`, `open_ms`) and of the ranking in memory (`rank_ms`).

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use ring::agreement::{ECDH_P256, EphemeralPrivateKey};
use ring::rand::SystemRandom;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::json;
use tomoni_schema::domain::matching::{self as rules, Candidate, MatchStatus, Seeker};
use tomoni_schema::domain::people::{Locale, OrganisationKind, Role};
use tomoni_schema::notify::Message;
use tomoni_schema::store;
use tomoni_schema::store::entities::{
    StringList, certificates, course_modules, courses, module_completions, notifications,
    participant_profiles, people, support_matches, supporter_profiles,
};
use tomoni_server::config::{Secret, Settings};
use tomoni_server::push::{PushClient, VapidKey};
use tomoni_server::workers::{Dispatcher, DispatcherConfig, PushMetrics};
use tomoni_server::{Application, SystemClock, admin};
use tomoni_tests::{Backend, POSTGRES_ENV, TestDatabase};
use uuid::Uuid;

const RECIPIENTS: usize = 200;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("push") => {
            let db = args.get(1).map_or("sqlite", String::as_str).to_owned();
            let n = args
                .get(2)
                .map_or(Ok(20_000), |n| n.parse())
                .expect("N is a number");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(push(&db, n));
        }
        Some("suggestions") => {
            let db = args.get(1).map_or("sqlite", String::as_str).to_owned();
            let n = args
                .get(2)
                .map_or(Ok(2_000), |n| n.parse())
                .expect("N_SUPPORTERS is a number");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(suggestions(&db, n));
        }
        _ => {
            eprintln!(
                "usage: tomoni-bench push [sqlite|postgres] [N]\n       tomoni-bench suggestions [sqlite|postgres] [N_SUPPORTERS]"
            );
            std::process::exit(2);
        }
    }
}

/// The database a run is on, from its command-line name; PostgreSQL needs [`POSTGRES_ENV`].
fn backend_kind(backend: &str) -> Backend {
    match backend {
        "sqlite" => Backend::Sqlite,
        "postgres" => {
            if std::env::var(POSTGRES_ENV).is_err() {
                eprintln!(
                    "set {POSTGRES_ENV} (e.g. postgres://postgres@127.0.0.1:5432/postgres) for the postgres run"
                );
                std::process::exit(2);
            }
            Backend::Postgres
        }
        other => {
            eprintln!("unknown database {other}: sqlite or postgres");
            std::process::exit(2);
        }
    }
}

/// Time per push of what the sender does cryptographically: encrypting a typical payload for a
/// fresh browser key (RFC 8291) and producing the VAPID header (RFC 8292, cached per origin as the
/// dispatcher does).
fn calibrate_crypto(push: &PushClient, host: &str) -> Duration {
    const ROUNDS: u32 = 2000;
    let rng = SystemRandom::new();
    let browser = EphemeralPrivateKey::generate(&ECDH_P256, &rng).expect("key");
    let public = browser.compute_public_key().expect("public");
    let payload = serde_json::to_vec(&Message::ConnectionCheck.payload(
        Uuid::now_v7(),
        Locale::Ja,
        chrono_tz::Asia::Tokyo,
    ))
    .expect("payload");
    let origin = format!("http://{host}");
    let started = Instant::now();
    for _ in 0..ROUNDS {
        let body =
            tomoni_server::push::encrypt::encrypt(&payload, public.as_ref(), &[7u8; 16], &rng)
                .expect("encrypt");
        let header = push
            .vapid()
            .authorization(&origin, Utc::now())
            .expect("sign");
        std::hint::black_box((body, header));
    }
    started.elapsed() / ROUNDS
}

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after_name = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // Linux reports in USER_HZ, 100 per second on every common configuration.
    Duration::from_millis(ticks * 10)
}

async fn push(backend: &str, n: usize) {
    let database = TestDatabase::create_on(backend_kind(backend)).await;
    let db = store::connect(&database.effective_url(), 10)
        .await
        .expect("connect");
    store::migrate(&db).await.expect("migrate");

    // The counting endpoint: answers 201 to everything, on its own thread.
    let accepted = Arc::new(AtomicU64::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint_address = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("nonblocking");
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let router = axum::Router::new().route(
                "/push/{id}",
                axum::routing::post(move || {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::Relaxed);
                        axum::http::StatusCode::CREATED
                    }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, router).await;
        });
    });

    // Recipients, each with one subscription of the endpoint.
    let now = Utc::now();
    let organisation =
        store::organisations::create(&db, "Bench", OrganisationKind::Hospital, "Asia/Tokyo", now)
            .await
            .expect("organisation");
    let rng = SystemRandom::new();
    let mut recipients = Vec::with_capacity(RECIPIENTS);
    for index in 0..RECIPIENTS {
        let person = store::people::create(
            &db,
            store::people::NewPerson {
                organisation_id: organisation.id,
                display_name: &format!("P{index}"),
                role: Role::Participant,
                locale: if index % 2 == 0 {
                    Locale::Ja
                } else {
                    Locale::En
                },
                time_zone: "Asia/Tokyo",
            },
            now,
        )
        .await
        .expect("person");
        let key = EphemeralPrivateKey::generate(&ECDH_P256, &rng).expect("key");
        let public = key.compute_public_key().expect("public key");
        let endpoint = format!("http://{endpoint_address}/push/{index}");
        store::push_subscriptions::register(
            &db,
            store::push_subscriptions::NewSubscription {
                person: &person,
                device_id: None,
                endpoint: &endpoint,
                endpoint_hash: tomoni_schema::domain::credentials::sha256_hex(endpoint.as_bytes()),
                p256dh: &URL_SAFE_NO_PAD.encode(public.as_ref()),
                auth: &URL_SAFE_NO_PAD.encode([7u8; 16]),
                label: "bench",
                locale: None,
            },
            now,
        )
        .await
        .expect("subscription");
        recipients.push(person.id);
    }

    // N due notifications, inserted set-wise.
    let rows: Vec<notifications::ActiveModel> = (0..n)
        .map(|index| {
            let message = Message::MatchUpdate {
                match_id: Uuid::now_v7(),
            };
            notifications::ActiveModel {
                id: Set(Uuid::now_v7()),
                organisation_id: Set(organisation.id),
                recipient_id: Set(recipients[index % RECIPIENTS]),
                kind: Set(message.kind().to_owned()),
                message: Set(serde_json::to_value(&message).expect("json")),
                urgency: Set(message.urgency().as_str().to_owned()),
                ttl_seconds: Set(3600),
                topic: Set(None),
                is_safety: Set(false),
                not_before: Set(now),
                idempotency_key: Set(format!("bench-{index}")),
                status: Set("pending".to_owned()),
                created_at: Set(now),
                dispatched_at: Set(None),
                outing_id: Set(None),
            }
        })
        .collect();
    for chunk in rows.chunks(1000) {
        notifications::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await
            .expect("insert");
    }

    let vapid =
        VapidKey::load(None, &database.data_dir, "mailto:bench@example.invalid").expect("vapid");
    // The counting endpoint listens on loopback, over plain HTTP, on a port the system picks.
    let policy = tomoni_schema::domain::push::EndpointPolicy {
        allow_private_addresses: true,
        allow_http: true,
        allow_any_port: true,
        ..Default::default()
    };
    let push = Arc::new(
        PushClient::new(Arc::new(vapid), Duration::from_secs(10), policy).expect("client"),
    );
    let metrics = Arc::new(PushMetrics::default());
    let dispatcher = Dispatcher::new(
        db.clone(),
        Arc::new(SystemClock),
        push.clone(),
        metrics.clone(),
        DispatcherConfig {
            batch: 1024,
            max_in_flight: 128,
            ..DispatcherConfig::default()
        },
    );

    // Encryption and signing alone, on one thread with nothing else running: the figure the
    // target speaks of. (Inside the run they share two cores with everything else.)
    let crypto_calibration = calibrate_crypto(&push, &endpoint_address.to_string());

    let cpu_before = cpu_time();
    let started = Instant::now();
    // As the server runs it: `push.workers` loops sharing the work through claims (the server's
    // default unless TOMONI_BENCH_WORKERS says otherwise).
    let workers = std::env::var("TOMONI_BENCH_WORKERS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(tomoni_server::config::PushSettings::default().workers);
    let loops = (0..workers).map(|_| async {
        loop {
            let report = dispatcher.tick().await.expect("tick");
            if !report.did_work() && PushMetrics::get(&metrics.delivered) >= n as u64 {
                break;
            }
        }
    });
    futures_util::future::join_all(loops).await;
    let elapsed = started.elapsed();
    let cpu = cpu_time() - cpu_before;
    let delivered = PushMetrics::get(&metrics.delivered);
    assert_eq!(delivered, n as u64, "every push delivered");
    assert_eq!(
        accepted.load(Ordering::Relaxed),
        n as u64,
        "the endpoint counted every push"
    );
    println!(
        "push: db={backend} pushes={n} workers={workers} seconds={:.2} pushes_per_sec={:.0} cpu_us_per_push={:.1} crypto_us_per_push={:.1} crypto_wall_us_in_run={:.1}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / n as f64,
        crypto_calibration.as_secs_f64() * 1e6,
        push.crypto_nanos() as f64 / 1e3 / n as f64,
    );
    db.close().await.ok();
}

const PARTICIPANTS: usize = 500;
const WARM_UP: usize = 50;
const REQUESTS: usize = 500;
/// Timed rounds of each store read for the breakdown.
const BREAKDOWN_ROUNDS: usize = 100;
/// Rows per INSERT statement.
const CHUNK: usize = 400;

const SUGGESTIONS_QUERY: &str = "query($participant: ID!) { matchSuggestions(participantId: $participant, first: 10) { supporter { id displayName } score reasons placesTaken matchCapacity sharedExperienceTags } }";

const TAGS: [&str; 20] = [
    "退院支援",
    "バスの練習",
    "就労継続支援B型",
    "区役所の手続き",
    "通院の付き添い",
    "買い物",
    "服薬管理",
    "家族関係",
    "依存症",
    "うつ",
    "双極性障害",
    "統合失調症",
    "ひきこもり",
    "不登校",
    "子育て",
    "介護",
    "死別",
    "失業",
    "借金の相談",
    "住まい探し",
];

/// The 24 wards of Osaka.
const WARDS: [&str; 24] = [
    "北区",
    "都島区",
    "福島区",
    "此花区",
    "中央区",
    "西区",
    "港区",
    "大正区",
    "天王寺区",
    "浪速区",
    "西淀川区",
    "淀川区",
    "東淀川区",
    "東成区",
    "生野区",
    "旭区",
    "城東区",
    "鶴見区",
    "阿倍野区",
    "住之江区",
    "住吉区",
    "東住吉区",
    "平野区",
    "西成区",
];

/// A small seeded generator (SplitMix64): the same data on every run, without a dependency the
/// bench crate does not have.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is of no consequence here).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n as u64).expect("fits")
    }

    fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// `count` different entries of `pool`.
    fn pick(&mut self, pool: &[&str], count: usize) -> Vec<String> {
        let mut picked: Vec<String> = Vec::with_capacity(count);
        while picked.len() < count.min(pool.len()) {
            let candidate = pool[self.below(pool.len())];
            if !picked.iter().any(|existing| existing == candidate) {
                picked.push(candidate.to_owned());
            }
        }
        picked
    }

    fn languages(&mut self) -> Vec<String> {
        let languages: &[&str] = match self.below(100) {
            0..80 => &["ja"],
            80..92 => &["ja", "en"],
            _ => &["vi", "ja"],
        };
        languages.iter().map(|code| (*code).to_owned()).collect()
    }

    /// A day of 2025.
    fn day_in_2025(&mut self) -> NaiveDate {
        let month = u32::try_from(1 + self.below(12)).expect("month");
        let day = u32::try_from(1 + self.below(28)).expect("day");
        NaiveDate::from_ymd_opt(2025, month, day).expect("a date")
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            items.swap(index, self.below(index + 1));
        }
    }
}

/// Inserts the rows in statements of [`CHUNK`] rows.
async fn insert_chunked<A>(db: &impl sea_orm::ConnectionTrait, rows: Vec<A>)
where
    A: ActiveModelTrait + Clone,
{
    for chunk in rows.chunks(CHUNK) {
        <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("insert");
    }
}

fn person_row(
    id: Uuid,
    organisation_id: Uuid,
    display_name: String,
    role: Role,
    now: DateTime<Utc>,
) -> people::ActiveModel {
    people::ActiveModel {
        id: Set(id),
        organisation_id: Set(organisation_id),
        display_name: Set(display_name),
        role: Set(role.as_str().to_owned()),
        locale: Set(Locale::Ja.as_str().to_owned()),
        time_zone: Set("Asia/Tokyo".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// What was generated.
struct Generated {
    participants: Vec<Uuid>,
    certified: usize,
    matches: usize,
}

/// One organisation's supporters (profiles, basic training for about 90%), participants and
/// open matches, in one transaction of multi-row inserts.
async fn generate(
    db: &DatabaseConnection,
    organisation_id: Uuid,
    coordinator_id: Uuid,
    supporters: usize,
    now: DateTime<Utc>,
) -> Generated {
    let mut rng = Rng(2026);
    let supporter_ids: Vec<Uuid> = (0..supporters).map(|_| Uuid::now_v7()).collect();
    let participant_ids: Vec<Uuid> = (0..PARTICIPANTS).map(|_| Uuid::now_v7()).collect();
    let txn = store::begin_write(db).await.expect("begin");

    let people_rows: Vec<people::ActiveModel> = supporter_ids
        .iter()
        .enumerate()
        .map(|(index, id)| {
            person_row(
                *id,
                organisation_id,
                format!("支援者 {index}"),
                Role::Supporter,
                now,
            )
        })
        .chain(participant_ids.iter().enumerate().map(|(index, id)| {
            person_row(
                *id,
                organisation_id,
                format!("参加者 {index}"),
                Role::Participant,
                now,
            )
        }))
        .collect();
    insert_chunked(&txn, people_rows).await;

    let supporter_rows: Vec<supporter_profiles::ActiveModel> = supporter_ids
        .iter()
        .map(|id| {
            let tags = 2 + rng.below(3);
            let areas = 1 + rng.below(2);
            supporter_profiles::ActiveModel {
                person_id: Set(*id),
                experience_tags: Set(StringList(rng.pick(&TAGS, tags))),
                languages: Set(StringList(rng.languages())),
                areas: Set(StringList(rng.pick(&WARDS, areas))),
                match_capacity: Set(None),
                on_break_since: Set(rng.percent(5).then_some(now - chrono::Duration::days(20))),
                supervision_follow_up_since: Set(None),
                is_trainer: Set(false),
                updated_at: Set(now),
            }
        })
        .collect();
    insert_chunked(&txn, supporter_rows).await;

    let participant_rows: Vec<participant_profiles::ActiveModel> = participant_ids
        .iter()
        .map(|id| {
            let tags = 1 + rng.below(2);
            let (tag_preferences, ward_preferences) = (rng.below(2), rng.below(2));
            let mut preferences = rng.pick(&TAGS, tag_preferences);
            preferences.extend(rng.pick(&WARDS, ward_preferences));
            participant_profiles::ActiveModel {
                person_id: Set(*id),
                preferences: Set(StringList(preferences)),
                consents_to_location_sharing: Set(rng.percent(50)),
                experience_tags: Set(Some(StringList(rng.pick(&TAGS, tags)))),
                languages: Set(Some(StringList(rng.languages()))),
                areas: Set(Some(StringList(rng.pick(&WARDS, 1)))),
                crisis_plan: Set(None),
                updated_at: Set(now),
            }
        })
        .collect();
    insert_chunked(&txn, participant_rows).await;

    // The basic course, its modules, and about 90% of the supporters through it.
    let course_id = Uuid::now_v7();
    courses::ActiveModel {
        id: Set(course_id),
        organisation_id: Set(organisation_id),
        level: Set("basic".to_owned()),
        title_ja: Set("基礎研修".to_owned()),
        title_en: Set("Basic training".to_owned()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .expect("course");
    let module_ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let module_rows: Vec<course_modules::ActiveModel> = module_ids
        .iter()
        .zip(1..)
        .map(|(id, position)| course_modules::ActiveModel {
            id: Set(*id),
            course_id: Set(course_id),
            position: Set(position),
            title_ja: Set(format!("第{position}回")),
            title_en: Set(format!("Session {position}")),
            format: Set("lecture".to_owned()),
            duration_minutes: Set(90),
        })
        .collect();
    insert_chunked(&txn, module_rows).await;
    let mut certificate_rows = Vec::new();
    let mut completion_rows = Vec::new();
    for supporter in &supporter_ids {
        if !rng.percent(90) {
            continue;
        }
        let completed_on = rng.day_in_2025();
        for module in &module_ids {
            completion_rows.push(module_completions::ActiveModel {
                id: Set(Uuid::now_v7()),
                supporter_id: Set(*supporter),
                module_id: Set(*module),
                completed_on: Set(completed_on),
                minutes: Set(90),
                assessed_by: Set(coordinator_id),
                note: Set(String::new()),
                recorded_by: Set(coordinator_id),
                recorded_at: Set(now),
            });
        }
        certificate_rows.push(certificates::ActiveModel {
            id: Set(Uuid::now_v7()),
            supporter_id: Set(*supporter),
            course_id: Set(course_id),
            completed_on: Set(completed_on),
            issued_at: Set(now),
        });
    }
    let certified = certificate_rows.len();
    insert_chunked(&txn, completion_rows).await;
    insert_chunked(&txn, certificate_rows).await;

    // Open matches, about 0.75 per supporter: 13% of the supporters full (3 of the default 3),
    // 12% with two, 12% with one; 15% of the matches proposals still waiting for an answer.
    let mut order: Vec<usize> = (0..supporters).collect();
    rng.shuffle(&mut order);
    let mut match_rows = Vec::new();
    for (rank, supporter) in order.iter().enumerate() {
        let load = match rank * 100 / supporters.max(1) {
            0..13 => 3,
            13..25 => 2,
            25..37 => 1,
            _ => 0,
        };
        let mut partners: Vec<Uuid> = Vec::with_capacity(load);
        while partners.len() < load {
            let participant = participant_ids[rng.below(PARTICIPANTS)];
            if !partners.contains(&participant) {
                partners.push(participant);
            }
        }
        for participant in partners {
            let proposed = rng.percent(15);
            let proposed_at = now - chrono::Duration::days(if proposed { 2 } else { 60 });
            match_rows.push(support_matches::ActiveModel {
                id: Set(Uuid::now_v7()),
                organisation_id: Set(organisation_id),
                supporter_id: Set(supporter_ids[*supporter]),
                participant_id: Set(participant),
                status: Set(if proposed {
                    MatchStatus::Proposed
                } else {
                    MatchStatus::Active
                }
                .as_str()
                .to_owned()),
                proposed_by: Set(coordinator_id),
                proposed_at: Set(proposed_at),
                expires_at: Set(proposed_at + chrono::Duration::days(7)),
                responded_at: Set((!proposed).then_some(proposed_at + chrono::Duration::days(1))),
                paused_at: Set(None),
                ended_at: Set(None),
                end_reason: Set(None),
                closing_reflection: Set(None),
                updated_at: Set(now),
            });
        }
    }
    let matches = match_rows.len();
    insert_chunked(&txn, match_rows).await;
    txn.commit().await.expect("commit");
    Generated {
        participants: participant_ids,
        certified,
        matches,
    }
}

/// One `matchSuggestions` request; returns how many suggestions came back.
async fn ask(http: &reqwest::Client, url: &str, token: &str, participant: Uuid) -> usize {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({
            "query": SUGGESTIONS_QUERY,
            "variables": { "participant": participant.to_string() },
        }))
        .send()
        .await
        .expect("send");
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON answer");
    assert!(
        status.is_success() && body.get("errors").is_none(),
        "matchSuggestions failed: {status} {body}"
    );
    body["data"]["matchSuggestions"]
        .as_array()
        .expect("a list of suggestions")
        .len()
}

/// The value below which `percent` of the sorted durations lie, in milliseconds.
fn percentile_ms(sorted: &[Duration], percent: usize) -> f64 {
    let index = (sorted.len() * percent).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

/// Median of `rounds` runs of `step`, in milliseconds.
async fn median_ms<F, T>(rounds: usize, mut step: impl FnMut() -> F) -> f64
where
    F: Future<Output = T>,
{
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        drop(std::hint::black_box(step().await));
        times.push(started.elapsed());
    }
    times.sort();
    percentile_ms(&times, 50)
}

/// Where a request's time goes: each store read of the resolver, timed directly, and the
/// ranking in memory (as `api::matches::suggestions` does them).
async fn breakdown(
    db: &DatabaseConnection,
    organisation_id: Uuid,
    participant: Uuid,
) -> [(&'static str, f64); 3] {
    let now = Utc::now();
    let candidates_ms = median_ms(BREAKDOWN_ROUNDS, || {
        store::matches::candidate_profiles(db, organisation_id, participant, now)
    })
    .await;
    let loads_ms = median_ms(BREAKDOWN_ROUNDS, || {
        store::matches::load_of(db, None, organisation_id, now)
    })
    .await;

    let profiles = store::matches::candidate_profiles(db, organisation_id, participant, now)
        .await
        .expect("candidates");
    let loads = store::matches::load_of(db, None, organisation_id, now)
        .await
        .expect("loads");
    let settings = store::program::settings(db, organisation_id)
        .await
        .expect("settings");
    let profile = store::profiles::participant_profiles_of(db, &[participant])
        .await
        .expect("participant profile")
        .into_iter()
        .next()
        .expect("a participant profile");
    let seeker = Seeker {
        experience_tags: profile.experience_tags.unwrap_or_default().0,
        languages: profile.languages.unwrap_or_default().0,
        areas: profile.areas.unwrap_or_default().0,
        preferences: profile.preferences.0,
    };
    let rank_ms = median_ms(BREAKDOWN_ROUNDS, || {
        let candidates: Vec<Candidate<Uuid>> = profiles
            .iter()
            .map(|profile| Candidate {
                id: profile.person_id,
                load: loads.get(&profile.person_id).copied().unwrap_or_default(),
                capacity: profile
                    .match_capacity
                    .and_then(|own| u32::try_from(own).ok())
                    .unwrap_or(settings.match_capacity),
                experience_tags: profile.experience_tags.0.clone(),
                languages: profile.languages.0.clone(),
                areas: profile.areas.0.clone(),
            })
            .collect();
        let ranked = rules::rank(&seeker, candidates);
        std::future::ready(ranked)
    })
    .await;
    [
        ("candidates_ms", candidates_ms),
        ("loads_ms", loads_ms),
        ("rank_ms", rank_ms),
    ]
}

async fn suggestions(backend: &str, supporters: usize) {
    let database = TestDatabase::create_on(backend_kind(backend)).await;
    let mut settings = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: database.data_dir.clone(),
        database_url: database.url.clone().map(Secret::new),
        shutdown_grace_seconds: 1,
        ..Settings::default()
    };
    settings.push.dispatcher = false;
    let application = Application::build(&settings, Arc::new(SystemClock))
        .await
        .expect("build the application");
    let address = application.local_addr().expect("local address");
    let db = application.database().clone();

    let now = Utc::now();
    let organisation =
        admin::create_organisation(&db, "Bench", OrganisationKind::Hospital, "Asia/Tokyo", now)
            .await
            .expect("organisation");
    let (coordinator, token) =
        admin::create_coordinator(&db, organisation.id, "Coordinator", Locale::Ja, now)
            .await
            .expect("coordinator");
    let token = token.reveal().to_owned();
    let generating = Instant::now();
    let generated = generate(&db, organisation.id, coordinator.id, supporters, now).await;
    let generate_s = generating.elapsed().as_secs_f64();
    if backend == "postgres" {
        // As autovacuum would soon after a bulk load: the planner sees the real sizes.
        sea_orm::ConnectionTrait::execute_unprepared(&db, "ANALYZE")
            .await
            .expect("analyze");
    }

    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run(async {
        let _ = shutdown_rx.await;
    }));

    let http = reqwest::Client::new();
    let url = format!("http://{address}/graphql");
    let mut rng = Rng(7);
    let participants = &generated.participants;
    for _ in 0..WARM_UP {
        ask(
            &http,
            &url,
            &token,
            participants[rng.below(participants.len())],
        )
        .await;
    }
    let mut latencies = Vec::with_capacity(REQUESTS);
    let mut returned = 0;
    for _ in 0..REQUESTS {
        let participant = participants[rng.below(participants.len())];
        let started = Instant::now();
        returned += ask(&http, &url, &token, participant).await;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let breakdown = breakdown(&db, organisation.id, participants[0]).await;

    let _ = shutdown_tx.send(());
    server
        .await
        .expect("the server task")
        .expect("the server ran");
    let breakdown: Vec<String> = breakdown
        .iter()
        .map(|(name, ms)| format!("{name}={ms:.1}"))
        .collect();
    println!(
        "suggestions: db={backend} supporters={supporters} p50_ms={:.1} p99_ms={:.1} participants={} certified={} open_matches={} requests={REQUESTS} mean_returned={:.1} generate_s={generate_s:.2} {}",
        percentile_ms(&latencies, 50),
        percentile_ms(&latencies, 99),
        participants.len(),
        generated.certified,
        generated.matches,
        returned as f64 / REQUESTS as f64,
        breakdown.join(" "),
    );
}
