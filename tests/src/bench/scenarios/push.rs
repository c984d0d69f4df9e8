//! `push [sqlite|postgres] [N]`: N notifications (default 20,000) go through the real dispatcher —
//! outbox rows in, encrypted and signed pushes out — to a local endpoint that keeps them and
//! answers 201. Prints `push: db=… pushes=… pushes_per_sec=… cpu_us_per_push=… crypto_us_per_push=…`,
//! where the CPU figure is the whole process's (dispatcher, database and the endpoint), and the
//! crypto figure is encryption and signing alone, measured in the same run.

use std::sync::Arc;
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
use uuid::Uuid;

use crate::TestDatabase;
use crate::bench::backend_kind;
use crate::bench::cpu::cpu_time;
use crate::push_receiver::PushRecorder;

const RECIPIENTS: usize = 200;

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
/// The push benchmark on the database named `backend`, with `n` notifications.
pub async fn push(backend: &str, n: usize) {
    let database = TestDatabase::create_on(backend_kind(backend)).await;
    let db = store::connect(&database.effective_url(), 10)
        .await
        .expect("connect");
    store::migrate(&db).await.expect("migrate");

    // The endpoint: answers 201 to everything, on its own thread.
    let recorder = PushRecorder::start();
    let endpoint_address = recorder.address;

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
        let endpoint = format!("{}/push/{index}", recorder.origin());
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

    let cpu_before = cpu_time("self");
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
    let cpu = cpu_time("self") - cpu_before;
    let delivered = PushMetrics::get(&metrics.delivered);
    assert_eq!(delivered, n as u64, "every push delivered");
    assert_eq!(
        recorder.arrived() as u64,
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
