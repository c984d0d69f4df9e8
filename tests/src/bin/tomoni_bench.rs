//! Benchmarks, run by `scripts/bench.sh` (never by the test suite): each prints one line of figures.
//!
//! `push [sqlite|postgres] [N]`: N notifications (default 20,000) go through the real dispatcher —
//! outbox rows in, encrypted and signed pushes out — to a local endpoint that counts and answers
//! 201. Prints `push: db=… pushes=… pushes_per_sec=… cpu_us_per_push=… crypto_us_per_push=…`, where
//! the CPU figure is the whole process's (dispatcher, database and the counting endpoint), and the
//! crypto figure is encryption and signing alone, measured in the same run.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use ring::agreement::{ECDH_P256, EphemeralPrivateKey};
use ring::rand::SystemRandom;
use sea_orm::{ActiveValue::Set, EntityTrait};
use tomoni_schema::domain::people::{Locale, OrganisationKind, Role};
use tomoni_schema::notify::Message;
use tomoni_schema::store;
use tomoni_schema::store::entities::notifications;
use tomoni_server::SystemClock;
use tomoni_server::push::{PushClient, VapidKey};
use tomoni_server::workers::{Dispatcher, DispatcherConfig, PushMetrics};
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
        _ => {
            eprintln!("usage: tomoni-bench push [sqlite|postgres] [N]");
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
    let backend_kind = match backend {
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
    };
    let database = TestDatabase::create_on(backend_kind).await;
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
    let push = Arc::new(PushClient::new(Arc::new(vapid), Duration::from_secs(10)).expect("client"));
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
