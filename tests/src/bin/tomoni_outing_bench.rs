//! Outing benchmarks, run by `scripts/bench.sh` (never by the test suite), over one generated
//! history: 20 organisations, 2,000 supporters, 20,000 participants, 40,000 support matches, and
//! 500,000 outings over the two years before now (92% completed, 8% cancelled) with their members
//! (participant, lead, a trainee on one in five: about 1.1 million rows), about 3 million
//! check-ins, a few thousand resolved alerts, a push subscription per person, and the outbox of
//! the last 30 days (the reminders of each completed outing, delivered: about 80,000
//! notifications and as many deliveries; the server never deletes them). `--scale F` multiplies
//! people, matches and outings by F. One deterministic generator feeds both databases: SQLite
//! through multi-row INSERTs of a few hundred rows in transactions, PostgreSQL through
//! `COPY … FROM STDIN` for the three big tables (their secondary indexes dropped and rebuilt from
//! their own definitions, foreign keys checked set-wise afterwards). Then the database is settled
//! as it would be a while after such a load: PostgreSQL `VACUUM ANALYZE` (this machine's instance
//! runs with autovacuum off) and `CHECKPOINT`, SQLite a WAL checkpoint.
//!
//! `watchdog [sqlite|postgres] [--scale F]`: on top of the history, 10,000 outings under way whose
//! check-ins fall due over the next 60 seconds. The real server runs (system clock, watchdog and
//! push dispatcher on, default settings); every subscription points at a local endpoint that
//! keeps each push and when it arrived. Afterwards each
//! push is decrypted and its delay is its arrival minus the `dueAt` it carries: from the deadline
//! to the push leaving the server. The outbox gives the split (`watchdog_*`: deadline to
//! notification written; `fanout_*`: written to fanned out). Then, with the server stopped, the
//! watchdog's tick is called directly, in the server's loop, over another 10,000 outings falling
//! due within 60 seconds, and the CPU time of this process (and on PostgreSQL of the backend
//! serving its one connection) is divided by the ticks. Prints
//! `watchdog: db=… in_progress=10000 p50_ms=… p99_ms=… cpu_ms_per_tick=…`, then more figures.
//!
//! `myday [sqlite|postgres] [--scale F] [--seconds S]`: `myDay(from:, to:)` over HTTP, each request
//! for a random supporter (with a device token) and a random day of the history, at concurrency 16
//! for S seconds (default 30), by `wrk` when it is on the PATH (Debian's package), else by 16 tasks
//! of this program over one HTTP client (`loadgen=` says which). Statements per request are counted
//! in a second run of this program on the same database that logs sqlx's statements (the server's
//! own tracing set-up, filter `sqlx::query=debug`): requests one at a time, for days with no
//! outings, days with some and 31-day windows with the most. Prints
//! `myday: db=… rps=… p50_ms=… p99_ms=… statements_per_request=…`, then more figures.

#![expect(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use axum::body::Bytes;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use p256::elliptic_curve::sec1::ToSec1Point as _;
use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{self, HKDF_SHA256, KeyType};
use ring::rand::{SecureRandom as _, SystemRandom};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Statement,
};
use serde_json::{Value, json};
use tomoni_schema::domain::credentials::{AccessToken, sha256_hex};
use tomoni_schema::domain::outings::OutingStatus;
use tomoni_schema::domain::people::{Locale, OrganisationKind};
use tomoni_schema::store;
use tomoni_schema::store::entities::{
    StringList, alerts, check_ins, devices, notifications, outing_members, outings,
    participant_profiles, people, push_deliveries, push_subscriptions, support_matches,
    supporter_profiles,
};
use tomoni_schema::store::outings::NewOuting;
use tomoni_server::config::{LogFormat, LogSettings, Secret, Settings};
use tomoni_server::{Application, SystemClock, admin};
use tomoni_tests::{Backend, POSTGRES_ENV, TestDatabase};
use uuid::Uuid;

const ORGANISATIONS: usize = 20;
const FULL_SUPPORTERS: usize = 2_000;
const FULL_PARTICIPANTS: usize = 20_000;
const FULL_OUTINGS: usize = 500_000;
/// Outings are spread over the days before today (in Japan), up to this many days back.
const HISTORY_DAYS: usize = 730;
/// Outings under way in the watchdog benchmark, and the window their deadlines fall in.
const IN_PROGRESS: usize = 10_000;
const DUE_SPREAD_MS: i64 = 60_000;
/// The outbox history covers the last this many days.
const OUTBOX_DAYS: usize = 30;
/// Time between the last row written and the first deadline.
const START_MARGIN_MS: i64 = 5_000;
/// The server's default watchdog tick and batch (`safety.tick_ms`, `safety.batch_size`).
const TICK: StdDuration = StdDuration::from_millis(200);
const TICK_BATCH: u64 = 200;
/// Rows per INSERT statement (outings have 32 columns: 12,800 values, under SQLite's 32,766).
const CHUNK: usize = 400;
/// SQLite: rows per transaction while loading.
const ROWS_PER_TRANSACTION: usize = 20_000;
/// PostgreSQL: bytes per COPY data message.
const COPY_BUFFER: usize = 1 << 20;
const CONCURRENCY: usize = 16;
const MYDAY_WARM_UP: usize = 300;
/// Requests the load generator cycles through (random supporter, random day).
const MYDAY_REQUEST_POOL: usize = 20_000;

/// The kinds of generated rows, written into their ids (with a serial) so that ids never collide.
mod kind {
    pub const SUPPORTER: u8 = 1;
    pub const PARTICIPANT: u8 = 2;
    pub const MATCH: u8 = 3;
    pub const OUTING: u8 = 4;
    pub const CHECK_IN: u8 = 5;
    pub const ALERT: u8 = 6;
    pub const DEVICE: u8 = 7;
    pub const SUBSCRIPTION: u8 = 8;
    pub const UNDER_WAY: u8 = 9;
    pub const UNDER_WAY_AGAIN: u8 = 10;
    pub const NOTIFICATION: u8 = 11;
    pub const DELIVERY: u8 = 12;
}

const MYDAY_QUERY: &str = "query($from: DateTime, $to: DateTime) { myDay(from: $from, to: $to) { id status purpose place stepGoal plannedStart plannedEnd startedAt endedAt checkInDueAt members { personId displayName role } checkIns { nodes { id personId kind madeAt } } latestCheckIn { kind madeAt } alerts { nodes { id reason status } } } }";

const PURPOSES: [&str; 7] = [
    "shopping",
    "city_office",
    "transport_practice",
    "clinic_visit",
    "community_event",
    "work_trial",
    "other",
];
const PLACES: [&str; 8] = [
    "天王寺駅",
    "梅田のスーパー",
    "北区役所",
    "阿倍野の図書館",
    "大阪城公園",
    "なんばの商店街",
    "淀屋橋のクリニック",
    "鶴見緑地",
];
const GOALS: [&str; 6] = [
    "ひとりで切符を買う",
    "二駅だけひとりで乗る",
    "窓口で自分の名前を言う",
    "レジで支払いをする",
    "15分ベンチで休まずに歩く",
    "受付で予約を伝える",
];
const NOTES: [&str; 4] = [
    "落ち着いて過ごせました。",
    "少し疲れたので早めに帰りました。",
    "次は一駅先まで行ってみたいそうです。",
    "混雑で不安が強くなったが、深呼吸で落ち着いた。",
];
const CANCEL_REASONS: [&str; 5] = [
    "participant_unwell",
    "participant_choice",
    "supporter_unavailable",
    "weather",
    "rescheduled",
];
const TAGS: [&str; 8] = [
    "退院支援",
    "バスの練習",
    "区役所の手続き",
    "通院の付き添い",
    "買い物",
    "服薬管理",
    "ひきこもり",
    "住まい探し",
];
const WARDS: [&str; 6] = ["北区", "中央区", "天王寺区", "浪速区", "阿倍野区", "西成区"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str);
    if command == Some("count-statements") {
        // The second run of `myday`, started by the first: see `count_statements`.
        count_statements(&args[1..]);
        return;
    }
    let mut db = None;
    let mut scale = 1.0_f64;
    let mut seconds = 30_u64;
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--scale" => {
                scale = rest
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|value: &f64| *value > 0.0 && *value <= 4.0)
                    .unwrap_or_else(|| usage());
            }
            "--seconds" => {
                seconds = rest
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|value| *value > 0)
                    .unwrap_or_else(|| usage());
            }
            name if db.is_none() && !name.starts_with('-') => db = Some(name.to_owned()),
            _ => usage(),
        }
    }
    let db = db.unwrap_or_else(|| "sqlite".to_owned());
    let backend = backend_kind(&db);
    let sizes = Sizes::at(scale);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match command {
        Some("watchdog") => runtime.block_on(watchdog(&db, backend, sizes)),
        Some("myday") => runtime.block_on(myday(&db, backend, sizes, seconds)),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: tomoni-outing-bench watchdog [sqlite|postgres] [--scale F]\n       tomoni-outing-bench myday [sqlite|postgres] [--scale F] [--seconds S]"
    );
    std::process::exit(2);
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

/// Settings of a server on port 0 over the benchmark's database, with the server's defaults
/// otherwise (watchdog and dispatcher on); pushes may go to the local endpoint.
fn settings_for(database: &TestDatabase) -> Settings {
    let mut settings = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: database.data_dir.clone(),
        database_url: database.url.clone().map(Secret::new),
        shutdown_grace_seconds: 1,
        ..Settings::default()
    };
    settings.push.allow_private_addresses = true;
    settings.push.allow_http = true;
    settings.push.allow_any_port = true;
    settings
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/// A small seeded generator (SplitMix64): the same history on every run.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn seeded(seed: u64) -> Self {
        let mut rng = Self(seed.wrapping_mul(0xD134_2543_DE82_EF95) ^ 0x2026_1124_0000_0008);
        rng.next_u64();
        rng
    }

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

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.below(pool.len())]
    }

    fn minutes(&mut self, below: usize) -> Duration {
        Duration::minutes(i64::try_from(self.below(below)).expect("small"))
    }
}

/// How much is generated: the full sizes times the scale, people in whole multiples of the
/// organisations (each organisation has the same share).
#[derive(Clone, Copy, Debug)]
struct Sizes {
    scale: f64,
    supporters: usize,
    participants: usize,
    outings: usize,
}

impl Sizes {
    fn at(scale: f64) -> Self {
        let per_organisation = |full: usize| {
            ((full as f64 * scale / ORGANISATIONS as f64).round() as usize).max(2) * ORGANISATIONS
        };
        Self {
            scale,
            supporters: per_organisation(FULL_SUPPORTERS),
            participants: per_organisation(FULL_PARTICIPANTS),
            outings: ((FULL_OUTINGS as f64 * scale).round() as usize).max(1000),
        }
    }

    /// Two matches per participant: 40,000 at full size.
    fn matches(&self) -> usize {
        2 * self.participants
    }

    /// Participant `p` belongs to organisation `p % 20`, supporter `s` to `s % 20`; each
    /// participant's two matched supporters are of their organisation.
    fn first_supporter(&self, participant: usize) -> usize {
        participant % self.supporters
    }

    fn second_supporter(&self, participant: usize) -> usize {
        (participant + ORGANISATIONS) % self.supporters
    }

    /// Another supporter of the same organisation.
    fn colleague(&self, supporter: usize, rng: &mut Rng) -> usize {
        let others = self.supporters / ORGANISATIONS - 1;
        (supporter + ORGANISATIONS * (1 + rng.below(others))) % self.supporters
    }
}

/// A UUIDv7 at `at` whose other bits say what the row is and which one: unique by construction.
fn v7(at: DateTime<Utc>, kind: u8, serial: usize) -> Uuid {
    let mut bytes = [0u8; 10];
    bytes[1] = kind;
    // The top byte of a serial below 2^56 is zero: the variant bits set there lose nothing.
    bytes[2..10].copy_from_slice(&(serial as u64).to_be_bytes());
    let millis = u64::try_from(at.timestamp_millis()).expect("after 1970");
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// Japan has no daylight saving time: a local time there is UTC+9 all year.
fn japan(day: NaiveDate, hour: usize, minute: usize) -> DateTime<Utc> {
    let local = day
        .and_hms_opt(
            u32::try_from(hour).expect("hour"),
            u32::try_from(minute).expect("minute"),
            0,
        )
        .expect("a time of day");
    (local - Duration::hours(9)).and_utc()
}

fn japan_today(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(9)).date_naive()
}

/// Everything a row of the history is derived from.
struct World {
    sizes: Sizes,
    now: DateTime<Utc>,
    today: NaiveDate,
    people_created: DateTime<Utc>,
    organisations: Vec<Uuid>,
    coordinators: Vec<Uuid>,
}

/// One outing of the history, as drawn from its index.
struct Plan {
    index: usize,
    id: Uuid,
    participant: usize,
    lead: usize,
    trainee: Option<usize>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    created: DateTime<Utc>,
    /// When a completed outing really started; none for a cancelled one.
    started: Option<DateTime<Utc>>,
    /// When it ended, or was cancelled.
    ended: DateTime<Utc>,
    alert: bool,
    rng: Rng,
}

impl World {
    fn supporter(&self, index: usize) -> Uuid {
        v7(self.people_created, kind::SUPPORTER, index)
    }

    fn participant(&self, index: usize) -> Uuid {
        v7(self.people_created, kind::PARTICIPANT, index)
    }

    fn plan(&self, index: usize) -> Plan {
        let mut rng = Rng::seeded(index as u64);
        let sizes = &self.sizes;
        let participant = rng.below(sizes.participants);
        let lead = if rng.percent(70) {
            sizes.first_supporter(participant)
        } else {
            sizes.second_supporter(participant)
        };
        let trainee = rng.percent(20).then(|| sizes.colleague(lead, &mut rng));
        // In the order they happened (as a real table fills): index 0 is the oldest day.
        let days_back = HISTORY_DAYS - index * HISTORY_DAYS / sizes.outings.max(1);
        let day = self.today - Duration::days(i64::try_from(days_back).expect("days"));
        let start = japan(day, 9 + rng.below(8), 15 * rng.below(4));
        let end = start + Duration::minutes(60 + 30 * i64::try_from(rng.below(7)).expect("small"));
        let created = start - Duration::days(3) - rng.minutes(10 * 24 * 60);
        let completed = !rng.percent(8);
        let (started, ended) = if completed {
            (
                Some(start + rng.minutes(10)),
                end - Duration::minutes(15) + rng.minutes(40),
            )
        } else {
            (None, start - Duration::hours(2) - rng.minutes(70 * 60))
        };
        let alert = completed && rng.percent(1);
        Plan {
            index,
            id: v7(created, kind::OUTING, index),
            participant,
            lead,
            trainee,
            start,
            end,
            created,
            started,
            ended,
            alert,
            rng,
        }
    }

    fn outing_row(&self, plan: &Plan) -> outings::Model {
        let mut rng = plan.rng.clone();
        let organisation = plan.participant % ORGANISATIONS;
        let coordinator = self.coordinators[organisation];
        let completed = plan.started.is_some();
        let located = rng.percent(60);
        let (latitude, longitude) = (34.60 + rng.unit() * 0.15, 135.40 + rng.unit() * 0.20);
        let anxiety_before = 2 + i16::try_from(rng.below(4)).expect("small");
        let anxiety_after = (anxiety_before - i16::try_from(rng.below(3)).expect("small")).max(1);
        let confidence_before = 1 + i16::try_from(rng.below(4)).expect("small");
        let confidence_after =
            (confidence_before + i16::try_from(rng.below(2)).expect("small")).min(5);
        let proposed_by_lead = rng.percent(30);
        let note = (completed && rng.percent(30)).then(|| rng.pick(&NOTES).to_owned());
        let purpose = rng.pick(&PURPOSES);
        let place = rng.pick(&PLACES);
        let step_goal = rng.pick(&GOALS);
        let planned = NewOuting {
            organisation_id: self.organisations[organisation],
            participant_id: self.participant(plan.participant),
            lead_supporter_id: self.supporter(plan.lead),
            staff_companion_id: None,
            purpose,
            place,
            latitude: located.then_some(latitude),
            longitude: located.then_some(longitude),
            step_goal,
            planned_start: plan.start,
            planned_end: plan.end,
            check_in_interval_minutes: 30,
            grace_minutes: if rng.percent(20) { 15 } else { 10 },
            status: OutingStatus::Planned,
            created_by: if proposed_by_lead {
                self.supporter(plan.lead)
            } else {
                coordinator
            },
            approved_by: Some(coordinator),
        };
        // What happened since it was planned: history.
        outings::Model {
            status: if completed { "completed" } else { "cancelled" }.to_owned(),
            started_at: plan.started,
            ended_at: Some(plan.ended),
            cancel_reason: (!completed).then(|| rng.pick(&CANCEL_REASONS).to_owned()),
            anxiety_before: completed.then_some(anxiety_before),
            anxiety_after: completed.then_some(anxiety_after),
            confidence_before: completed.then_some(confidence_before),
            confidence_after: completed.then_some(confidence_after),
            supporter_note: note,
            // The last deadline stays on a completed outing; the watch is cleared.
            check_in_due_at: plan.started.map(|_| plan.ended),
            extensions: i32::from(completed && rng.percent(5)),
            updated_at: plan.ended,
            ..planned.row(plan.id, plan.created)
        }
    }

    fn member_rows(&self, plan: &Plan) -> Vec<outing_members::Model> {
        let mut rows = vec![
            outing_members::Model {
                outing_id: plan.id,
                person_id: self.participant(plan.participant),
                role: "participant".to_owned(),
                planned_start: plan.start,
                planned_end: plan.end,
            },
            outing_members::Model {
                outing_id: plan.id,
                person_id: self.supporter(plan.lead),
                role: "lead".to_owned(),
                planned_start: plan.start,
                planned_end: plan.end,
            },
        ];
        if let Some(trainee) = plan.trainee {
            rows.push(outing_members::Model {
                outing_id: plan.id,
                person_id: self.supporter(trainee),
                role: "trainee".to_owned(),
                planned_start: plan.start,
                planned_end: plan.end,
            });
        }
        rows
    }

    /// Four to nine check-ins (6.5 on average) spread over a completed outing.
    fn check_in_rows(&self, plan: &Plan) -> Vec<check_ins::Model> {
        let Some(started) = plan.started else {
            return Vec::new();
        };
        let mut rng = Rng::seeded(plan.index as u64 ^ 0x00C4_EC41_0000_0000);
        let count = 4 + rng.below(6);
        let span = (plan.ended - started).num_seconds().max(600);
        let located = rng.percent(50);
        (0..count)
            .map(|k| {
                let step = i64::try_from(k + 1).expect("small");
                let of = i64::try_from(count + 1).expect("small");
                let made_at = started + Duration::seconds(span * step / of);
                let person = match (k % 3, plan.trainee) {
                    (2, Some(trainee)) => self.supporter(trainee),
                    (1, _) => self.supporter(plan.lead),
                    _ => self.participant(plan.participant),
                };
                let delay = if rng.percent(5) {
                    300 + rng.below(1200)
                } else {
                    1 + rng.below(5)
                };
                let how = match rng.below(100) {
                    0..96 => "ok",
                    96..99 => "need_help",
                    _ => "separated",
                };
                let (latitude, longitude) = (34.60 + rng.unit() * 0.15, 135.40 + rng.unit() * 0.20);
                let note = if rng.percent(15) {
                    rng.pick(&NOTES).to_owned()
                } else {
                    String::new()
                };
                check_ins::Model {
                    id: v7(made_at, kind::CHECK_IN, plan.index * 16 + k),
                    outing_id: plan.id,
                    person_id: person,
                    kind: how.to_owned(),
                    made_at,
                    received_at: made_at + Duration::seconds(i64::try_from(delay).expect("small")),
                    latitude: located.then_some(latitude),
                    longitude: located.then_some(longitude),
                    note,
                }
            })
            .collect()
    }

    /// A missed check-in on one completed outing in a hundred, reached by phone and resolved.
    fn alert_row(&self, plan: &Plan) -> Option<alerts::Model> {
        let started = plan.started.filter(|_| plan.alert)?;
        let organisation = plan.participant % ORGANISATIONS;
        let raised_at = started + (plan.ended - started) / 2;
        Some(alerts::Model {
            id: v7(raised_at, kind::ALERT, plan.index),
            organisation_id: self.organisations[organisation],
            outing_id: plan.id,
            reason: "missed_check_in".to_owned(),
            tier: "on_duty".to_owned(),
            status: "resolved".to_owned(),
            raised_at,
            escalate_at: None,
            pushes: 1,
            owner_id: Some(self.coordinators[organisation]),
            acknowledged_at: Some(raised_at + Duration::minutes(3)),
            resolved_at: Some(raised_at + Duration::minutes(20)),
            resolution: Some("reached_by_phone".to_owned()),
            resolution_note: None,
            last_pushed_at: Some(raised_at),
            owner_reminded_at: None,
            answered_late_at: None,
            advise_at: None,
            emergency_advised_at: None,
            unreachable_since: None,
        })
    }

    /// The two reminders (a day and an hour before) to the participant and the lead of a
    /// completed outing, each with its delivery to the person's subscription.
    fn reminders(&self, plan: &Plan) -> Vec<(notifications::Model, push_deliveries::Model)> {
        if plan.started.is_none() {
            return Vec::new();
        }
        let organisation = self.organisations[plan.participant % ORGANISATIONS];
        let people = [
            (
                self.participant(plan.participant),
                self.sizes.supporters + plan.participant,
            ),
            (self.supporter(plan.lead), plan.lead),
        ];
        let mut rows = Vec::with_capacity(4);
        for (which, minutes) in [24 * 60, 60].into_iter().enumerate() {
            for (who, (person, subscription)) in people.iter().enumerate() {
                let serial = plan.index * 4 + which * 2 + who;
                let at = plan.start - Duration::minutes(minutes);
                let sent = at + Duration::seconds(2);
                let message = tomoni_schema::notify::Message::OutingReminder {
                    outing_id: plan.id,
                    starts_at: plan.start,
                };
                let notification = notifications::Model {
                    id: v7(plan.created, kind::NOTIFICATION, serial),
                    organisation_id: organisation,
                    recipient_id: *person,
                    kind: message.kind().to_owned(),
                    message: serde_json::to_value(&message).expect("json"),
                    urgency: message.urgency().as_str().to_owned(),
                    ttl_seconds: i32::try_from(message.ttl().as_secs()).expect("small"),
                    topic: message.topic(),
                    is_safety: message.is_safety(),
                    not_before: at,
                    idempotency_key: format!(
                        "outing:{}:{}:{minutes}",
                        plan.id.simple(),
                        person.simple()
                    ),
                    status: "dispatched".to_owned(),
                    created_at: plan.created,
                    dispatched_at: Some(sent),
                    outing_id: message.outing_id(),
                };
                let delivery = push_deliveries::Model {
                    id: v7(sent, kind::DELIVERY, serial),
                    notification_id: notification.id,
                    subscription_id: v7(self.now, kind::SUBSCRIPTION, *subscription),
                    status: "delivered".to_owned(),
                    attempts: 1,
                    next_attempt_at: sent,
                    claimed_until: None,
                    last_status: Some(201),
                    delivered_at: Some(sent),
                    created_at: sent,
                    updated_at: sent,
                };
                rows.push((notification, delivery));
            }
        }
        rows
    }

    /// Outings under way whose first check-in falls due between `first_due` and 60 seconds later
    /// (`watch_at` is the deadline, nothing of the ladder done yet, the planned end far ahead).
    fn under_way(
        &self,
        series: u8,
        first_due: DateTime<Utc>,
    ) -> (Vec<outings::ActiveModel>, Vec<outing_members::ActiveModel>) {
        let sizes = &self.sizes;
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
            let coordinator = self.coordinators[organisation];
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
                        organisation_id: self.organisations[organisation],
                        participant_id: self.participant(participant),
                        lead_supporter_id: self.supporter(lead),
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
                (self.participant(participant), "participant"),
                (self.supporter(lead), "lead"),
            ];
            if let Some(trainee) = trainee {
                people.push((self.supporter(trainee), "trainee"));
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
}

/// Rows written into `COPY … FROM STDIN` text format.
#[derive(Default)]
struct CopyText(String);

impl CopyText {
    fn uuid(&mut self, value: Uuid) -> &mut Self {
        let _ = write!(self.0, "{value}\t");
        self
    }

    fn null(&mut self) -> &mut Self {
        self.0.push_str("\\N\t");
        self
    }

    fn opt_uuid(&mut self, value: Option<Uuid>) -> &mut Self {
        match value {
            Some(value) => self.uuid(value),
            None => self.null(),
        }
    }

    fn text(&mut self, value: &str) -> &mut Self {
        for character in value.chars() {
            match character {
                '\\' => self.0.push_str("\\\\"),
                '\t' => self.0.push_str("\\t"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                other => self.0.push(other),
            }
        }
        self.0.push('\t');
        self
    }

    fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    fn time(&mut self, value: DateTime<Utc>) -> &mut Self {
        self.0
            .push_str(&value.to_rfc3339_opts(SecondsFormat::Micros, true));
        self.0.push('\t');
        self
    }

    fn opt_time(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        match value {
            Some(value) => self.time(value),
            None => self.null(),
        }
    }

    fn int(&mut self, value: i64) -> &mut Self {
        let _ = write!(self.0, "{value}\t");
        self
    }

    fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    fn opt_float(&mut self, value: Option<f64>) -> &mut Self {
        match value {
            Some(value) => {
                let _ = write!(self.0, "{value}\t");
                self
            }
            None => self.null(),
        }
    }

    fn boolean(&mut self, value: bool) -> &mut Self {
        self.0.push_str(if value { "t\t" } else { "f\t" });
        self
    }

    /// Ends the row: its last tab becomes the newline.
    fn end(&mut self) {
        self.0.pop();
        self.0.push('\n');
    }
}

const OUTINGS_COPY: &str = "COPY outings (id, organisation_id, participant_id, lead_supporter_id, staff_companion_id, purpose, place, latitude, longitude, step_goal, planned_start, planned_end, check_in_interval_minutes, grace_minutes, status, created_by, approved_by, started_at, ended_at, cancel_reason, anxiety_before, anxiety_after, confidence_before, confidence_after, supporter_note, check_in_due_at, watch_at, watch_step, overdue_alerted, extensions, created_at, updated_at) FROM STDIN";
const MEMBERS_COPY: &str =
    "COPY outing_members (outing_id, person_id, role, planned_start, planned_end) FROM STDIN";
const CHECK_INS_COPY: &str = "COPY check_ins (id, outing_id, person_id, kind, made_at, received_at, latitude, longitude, note) FROM STDIN";

const NOTIFICATIONS_COPY: &str = "COPY notifications (id, organisation_id, recipient_id, kind, message, urgency, ttl_seconds, topic, is_safety, not_before, idempotency_key, status, created_at, dispatched_at, outing_id) FROM STDIN";
const DELIVERIES_COPY: &str = "COPY push_deliveries (id, notification_id, subscription_id, status, attempts, next_attempt_at, claimed_until, last_status, delivered_at, created_at, updated_at) FROM STDIN";

impl World {
    fn copy_notifications(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.reminders(&self.plan(index));
        for (row, _) in &rows {
            out.uuid(row.id)
                .uuid(row.organisation_id)
                .uuid(row.recipient_id)
                .text(&row.kind)
                .text(&row.message.to_string())
                .text(&row.urgency)
                .int(row.ttl_seconds.into())
                .opt_text(row.topic.as_deref())
                .boolean(row.is_safety)
                .time(row.not_before)
                .text(&row.idempotency_key)
                .text(&row.status)
                .time(row.created_at)
                .opt_time(row.dispatched_at)
                .opt_uuid(row.outing_id)
                .end();
        }
        rows.len()
    }

    fn copy_deliveries(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.reminders(&self.plan(index));
        for (_, row) in &rows {
            out.uuid(row.id)
                .uuid(row.notification_id)
                .uuid(row.subscription_id)
                .text(&row.status)
                .int(row.attempts.into())
                .time(row.next_attempt_at)
                .opt_time(row.claimed_until)
                .opt_int(row.last_status.map(i64::from))
                .opt_time(row.delivered_at)
                .time(row.created_at)
                .time(row.updated_at)
                .end();
        }
        rows.len()
    }

    fn copy_outing(&self, index: usize, out: &mut CopyText) -> usize {
        let row = self.outing_row(&self.plan(index));
        out.uuid(row.id)
            .uuid(row.organisation_id)
            .uuid(row.participant_id)
            .uuid(row.lead_supporter_id)
            .opt_uuid(row.staff_companion_id)
            .text(&row.purpose)
            .text(&row.place)
            .opt_float(row.latitude)
            .opt_float(row.longitude)
            .text(&row.step_goal)
            .time(row.planned_start)
            .time(row.planned_end)
            .int(row.check_in_interval_minutes.into())
            .int(row.grace_minutes.into())
            .text(&row.status)
            .uuid(row.created_by)
            .opt_uuid(row.approved_by)
            .opt_time(row.started_at)
            .opt_time(row.ended_at)
            .opt_text(row.cancel_reason.as_deref())
            .opt_int(row.anxiety_before.map(i64::from))
            .opt_int(row.anxiety_after.map(i64::from))
            .opt_int(row.confidence_before.map(i64::from))
            .opt_int(row.confidence_after.map(i64::from))
            .opt_text(row.supporter_note.as_deref())
            .opt_time(row.check_in_due_at)
            .opt_time(row.watch_at)
            .opt_text(row.watch_step.as_deref())
            .boolean(row.overdue_alerted)
            .int(row.extensions.into())
            .time(row.created_at)
            .time(row.updated_at)
            .end();
        1
    }

    fn copy_members(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.member_rows(&self.plan(index));
        for row in &rows {
            out.uuid(row.outing_id)
                .uuid(row.person_id)
                .text(&row.role)
                .time(row.planned_start)
                .time(row.planned_end)
                .end();
        }
        rows.len()
    }

    fn copy_check_ins(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.check_in_rows(&self.plan(index));
        for row in &rows {
            out.uuid(row.id)
                .uuid(row.outing_id)
                .uuid(row.person_id)
                .text(&row.kind)
                .time(row.made_at)
                .time(row.received_at)
                .opt_float(row.latitude)
                .opt_float(row.longitude)
                .text(&row.note)
                .end();
        }
        rows.len()
    }
}

/// Streams the rows of the outings in `range` into one `COPY`; returns the rows written.
async fn copy_rows(
    pool: &sea_orm::sqlx::PgPool,
    statement: &str,
    range: Range<usize>,
    mut write: impl FnMut(usize, &mut CopyText) -> usize,
) -> usize {
    let mut connection = pool.acquire().await.expect("a connection");
    // Foreign keys hold by construction (and are checked after loading, set-wise): the per-row
    // checks are skipped where the role may (a superuser), which is most of a COPY's cost.
    let unchecked = sea_orm::sqlx::query("SET session_replication_role = replica")
        .execute(&mut *connection)
        .await
        .is_ok();
    let mut copy = connection.copy_in_raw(statement).await.expect("begin COPY");
    let mut text = CopyText(String::with_capacity(COPY_BUFFER + 4096));
    let mut rows = 0;
    for index in range {
        rows += write(index, &mut text);
        if text.0.len() >= COPY_BUFFER {
            let data = std::mem::replace(&mut text.0, String::with_capacity(COPY_BUFFER + 4096));
            copy.send(data.into_bytes()).await.expect("COPY data");
        }
    }
    if !text.0.is_empty() {
        copy.send(text.0.into_bytes()).await.expect("COPY data");
    }
    copy.finish().await.expect("COPY done");
    if unchecked {
        sea_orm::sqlx::query("RESET session_replication_role")
            .execute(&mut *connection)
            .await
            .expect("reset");
    }
    rows
}

/// The secondary indexes of the big tables, as (name, definition): dropped while loading and
/// built again afterwards from their own definitions, as bulk loads do.
async fn secondary_indexes(db: &DatabaseConnection) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('outings', 'outing_members', 'check_ins') AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        }
        _ => {
            "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('outings', 'outing_members', 'check_ins') AND sql IS NOT NULL"
        }
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("indexes")
        .into_iter()
        .map(|row| {
            (
                row.try_get("", "name").expect("name"),
                row.try_get("", "definition").expect("definition"),
            )
        })
        .collect()
}

/// Inserts the rows produced for each outing of `range`, [`CHUNK`] rows per statement,
/// [`ROWS_PER_TRANSACTION`] rows per transaction.
async fn insert_rows<A>(
    db: &DatabaseConnection,
    range: Range<usize>,
    mut rows_of: impl FnMut(usize, &mut Vec<A>),
) -> usize
where
    A: ActiveModelTrait,
{
    let mut txn = store::begin_write(db).await.expect("begin");
    let mut pending = Vec::with_capacity(CHUNK + 8);
    let (mut total, mut in_transaction) = (0, 0);
    for index in range {
        rows_of(index, &mut pending);
        if pending.len() >= CHUNK {
            total += pending.len();
            in_transaction += pending.len();
            <A::Entity as EntityTrait>::insert_many(std::mem::take(&mut pending))
                .exec_without_returning(&txn)
                .await
                .expect("insert");
            if in_transaction >= ROWS_PER_TRANSACTION {
                txn.commit().await.expect("commit");
                txn = store::begin_write(db).await.expect("begin");
                in_transaction = 0;
            }
        }
    }
    if !pending.is_empty() {
        total += pending.len();
        <A::Entity as EntityTrait>::insert_many(pending)
            .exec_without_returning(&txn)
            .await
            .expect("insert");
    }
    txn.commit().await.expect("commit");
    total
}

/// Inserts the rows, [`CHUNK`] per statement, in one transaction.
async fn insert_all<A>(db: &DatabaseConnection, rows: Vec<A>)
where
    A: ActiveModelTrait + Clone,
{
    let txn = store::begin_write(db).await.expect("begin");
    for chunk in rows.chunks(CHUNK) {
        <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .expect("insert");
    }
    txn.commit().await.expect("commit");
}

/// What was generated, and how long it took.
struct History {
    world: Arc<World>,
    matches: usize,
    outings: usize,
    members: usize,
    check_ins: usize,
    alerts: usize,
    seconds: f64,
    notifications: usize,
    deliveries: usize,
    /// The settling after loading (PostgreSQL: VACUUM ANALYZE and CHECKPOINT), not in `seconds`.
    settle_seconds: f64,
}

impl History {
    fn line(&self, backend: &str) -> String {
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

async fn generate(
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
    insert_all(db, subscriptions(&world, endpoint, key)).await;
    eprintln!(
        "  people, profiles, matches: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Outings, their members and check-ins.
    let n = sizes.outings;
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
            let tasks: Vec<_> = halves
                .iter()
                .cloned()
                .map(|range| {
                    let (pool, world) = (pool.clone(), world.clone());
                    tokio::spawn(async move {
                        copy_rows(&pool, OUTINGS_COPY, range, |index, out| {
                            world.copy_outing(index, out)
                        })
                        .await
                    })
                })
                .collect();
            let mut outings = 0;
            for task in tasks {
                outings += task.await.expect("outings COPY");
            }
            eprintln!("  outings: {:.1} s", started.elapsed().as_secs_f64());
            let members_task = {
                let (pool, world) = (pool.clone(), world.clone());
                tokio::spawn(async move {
                    copy_rows(&pool, MEMBERS_COPY, 0..n, |index, out| {
                        world.copy_members(index, out)
                    })
                    .await
                })
            };
            let check_in_tasks: Vec<_> = halves
                .iter()
                .cloned()
                .map(|range| {
                    let (pool, world) = (pool.clone(), world.clone());
                    tokio::spawn(async move {
                        copy_rows(&pool, CHECK_INS_COPY, range, |index, out| {
                            world.copy_check_ins(index, out)
                        })
                        .await
                    })
                })
                .collect();
            let mut check_ins = 0;
            for task in check_in_tasks {
                check_ins += task.await.expect("check-ins COPY");
            }
            let members = members_task.await.expect("members COPY");
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
    let alerts = insert_rows(db, 0..n, |index, rows| {
        rows.extend(
            world
                .alert_row(&world.plan(index))
                .map(|row| alerts::ActiveModel::from(row).reset_all()),
        );
    })
    .await;
    // The outbox of the last 30 days (no notification is ever deleted): each completed outing's
    // two reminders to its participant and lead, delivered.
    let recent = n - n * OUTBOX_DAYS / HISTORY_DAYS..n;
    let (notifications, deliveries) = match db.get_database_backend() {
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
    };
    eprintln!(
        "  subscriptions, outbox: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("  generated in {seconds:.1} s");
    // Settle the database as it would be a while after such a load: on PostgreSQL what autovacuum
    // does (visibility, hint bits, statistics; this instance runs with autovacuum off) and a
    // checkpoint; on SQLite the WAL folded back into the database file.
    let settling = Instant::now();
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

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// The value below which `percent` of the sorted values lie.
fn percentile(sorted: &[f64], percent: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = (sorted.len() * percent).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// User plus system CPU time of a process so far (`self` or a pid).
fn cpu_time(process: &str) -> StdDuration {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).expect("/proc stat");
    let after_name = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // Linux reports in USER_HZ, 100 per second on every common configuration.
    StdDuration::from_millis(ticks * 10)
}

/// PostgreSQL: the backends serving this database (the server's pool), to read their CPU time.
async fn database_backends(db: &DatabaseConnection) -> Vec<i32> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Vec::new();
    }
    db.query_all_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
    ))
    .await
    .expect("backends")
    .into_iter()
    .filter_map(|row| row.try_get::<i32>("", "pid").ok())
    .collect()
}

fn backends_cpu(pids: &[i32]) -> HashMap<i32, StdDuration> {
    pids.iter()
        .filter(|pid| Path::new(&format!("/proc/{pid}/stat")).exists())
        .map(|pid| (*pid, cpu_time(&pid.to_string())))
        .collect()
}

/// With TOMONI_BENCH_KEEP set, the database stays for a look afterwards (EXPLAIN ANALYZE …).
fn keep(database: TestDatabase) {
    if std::env::var_os("TOMONI_BENCH_KEEP").is_some() {
        eprintln!(
            "kept: {} (data directory {})",
            database.effective_url(),
            database.data_dir.display()
        );
        std::mem::forget(database);
    }
}

/// The one-minute load average: how busy the machine was (2 cores).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The watchdog benchmark
// ---------------------------------------------------------------------------------------------

/// A browser's push keys (RFC 8291): one pair for every subscription of the run.
struct BrowserKey {
    secret: p256::SecretKey,
    public: Vec<u8>,
    auth: [u8; 16],
}

impl BrowserKey {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let secret = loop {
            let mut bytes = [0u8; 32];
            rng.fill(&mut bytes).expect("random");
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let public = secret.public_key().to_sec1_point(false).as_bytes().to_vec();
        let mut auth = [0u8; 16];
        rng.fill(&mut auth).expect("random");
        Self {
            secret,
            public,
            auth,
        }
    }

    /// RFC 8291 / RFC 8188, as a browser does it (as `tomoni_tests::push_receiver`).
    fn decrypt(&self, body: &[u8]) -> Option<Vec<u8>> {
        struct Len(usize);
        impl KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        fn expand(prk: &hkdf::Prk, info: &[&[u8]], len: usize) -> Option<Vec<u8>> {
            let mut out = vec![0u8; len];
            prk.expand(info, Len(len)).ok()?.fill(&mut out).ok()?;
            Some(out)
        }
        let salt = body.get(..16)?;
        let key_id_len = usize::from(*body.get(20)?);
        let key_id = body.get(21..21 + key_id_len)?;
        let ciphertext = body.get(21 + key_id_len..)?;
        let sender = p256::PublicKey::from_sec1_bytes(key_id).ok()?;
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let prk =
            hkdf::Salt::new(HKDF_SHA256, &self.auth).extract(shared.raw_secret_bytes().as_slice());
        let ikm = expand(&prk, &[b"WebPush: info\0", &self.public, key_id], 32)?;
        let prk = hkdf::Salt::new(HKDF_SHA256, salt).extract(&ikm);
        let cek = expand(&prk, &[b"Content-Encoding: aes128gcm\0"], 16)?;
        let nonce = expand(&prk, &[b"Content-Encoding: nonce\0"], 12)?;
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).ok()?);
        let nonce = Nonce::try_assume_unique_for_key(&nonce).ok()?;
        let mut record = ciphertext.to_vec();
        let plaintext = key.open_in_place(nonce, Aad::empty(), &mut record).ok()?;
        let end = plaintext.iter().rposition(|byte| *byte != 0)?;
        (plaintext[end] == 0x02).then(|| plaintext[..end].to_vec())
    }
}

type Arrivals = Arc<Mutex<Vec<(DateTime<Utc>, Bytes)>>>;

/// A local push service on its own thread: answers 201 and keeps each body with its arrival time
/// (decrypted after the run, so that the measurement costs the run nothing).
fn start_endpoint() -> (SocketAddr, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("nonblocking");
    let kept = arrivals.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let router = axum::Router::new().route(
                "/push/{id}",
                axum::routing::post(move |body: Bytes| {
                    let at = Utc::now();
                    kept.lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push((at, body));
                    async { axum::http::StatusCode::CREATED }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, router).await;
        });
    });
    (address, arrivals)
}

fn arrived(arrivals: &Arrivals) -> usize {
    arrivals
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .len()
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
    let p256dh = URL_SAFE_NO_PAD.encode(&key.public);
    let auth = URL_SAFE_NO_PAD.encode(key.auth);
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
    let (rows, members) = world.under_way(kind::UNDER_WAY_AGAIN, first_due);
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

async fn watchdog(backend: &str, kind_of_database: Backend, sizes: Sizes) {
    let database = TestDatabase::create_on(kind_of_database).await;
    let settings = settings_for(&database);
    let application = Application::build(&settings, Arc::new(SystemClock))
        .await
        .expect("build the application");
    let db = application.database().clone();
    let (endpoint, arrivals) = start_endpoint();
    let key = BrowserKey::new();
    eprintln!("generating the history ({sizes:?})…");
    let history = generate(&db, sizes, &format!("http://{endpoint}"), &key).await;
    println!("{}", history.line(backend));
    let world = history.world.clone();

    let first_due = Utc::now() + Duration::milliseconds(START_MARGIN_MS);
    let (rows, members) = world.under_way(kind::UNDER_WAY, first_due);
    let expected = members.len();
    insert_all(&db, rows).await;
    insert_all(&db, members).await;

    let db_cpu_before = backends_cpu(&database_backends(&db).await);
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let (load_before, run_cpu_before, run_started) =
        (load_average(), cpu_time("self"), Instant::now());
    let server = tokio::spawn(application.run(async {
        let _ = shutdown_rx.await;
    }));
    let late_start_ms = (Utc::now() - first_due).num_milliseconds().max(0);
    if late_start_ms > 0 {
        eprintln!("warning: the server started {late_start_ms} ms after the first deadline");
    }
    eprintln!("{IN_PROGRESS} outings under way, {expected} check-in pushes expected…");
    let give_up = first_due + Duration::milliseconds(DUE_SPREAD_MS + 120_000);
    while arrived(&arrivals) < expected && Utc::now() < give_up {
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let run_cpu =
        (cpu_time("self") - run_cpu_before).as_secs_f64() / run_started.elapsed().as_secs_f64();
    let load_after = load_average();
    let run_db_cpu: StdDuration = backends_cpu(&database_backends(&db).await)
        .iter()
        .map(|(pid, after)| {
            after.saturating_sub(db_cpu_before.get(pid).copied().unwrap_or_default())
        })
        .sum();
    let run_db_cpu = run_db_cpu.as_secs_f64() / run_started.elapsed().as_secs_f64();
    // Anything else the run would send (there should be nothing) has a moment to arrive.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let _ = shutdown_tx.send(());
    server
        .await
        .expect("the server task")
        .expect("the server ran");

    // Each push's delay: its arrival minus the deadline it announces.
    let arrivals = std::mem::take(
        &mut *arrivals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    let mut delays = Vec::with_capacity(arrivals.len());
    let mut slowest: HashMap<String, f64> = HashMap::new();
    let (mut other_kinds, mut undecryptable) = (0, 0);
    let mut by_ten_seconds: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (at, body) in &arrivals {
        let Some(payload) = key
            .decrypt(body)
            .and_then(|plain| serde_json::from_slice::<Value>(&plain).ok())
        else {
            undecryptable += 1;
            continue;
        };
        if payload["kind"] != "check_in_due" {
            other_kinds += 1;
            continue;
        }
        let due: DateTime<Utc> =
            serde_json::from_value(payload["dueAt"].clone()).expect("dueAt is a time");
        let delay = (*at - due).num_microseconds().expect("small") as f64 / 1e3;
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

// ---------------------------------------------------------------------------------------------
// The myDay benchmark
// ---------------------------------------------------------------------------------------------

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
async fn ask(http: &reqwest::Client, url: &str, token: &str, body: &str) -> usize {
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    let status = response.status();
    let answer: Value = response.json().await.expect("a JSON answer");
    assert!(
        status.is_success() && answer.get("errors").is_none(),
        "myDay failed: {status} {answer}"
    );
    answer["data"]["myDay"]
        .as_array()
        .expect("a list of outings")
        .len()
}

const WRK_SCRIPT: &str = r#"-- Written by tomoni-outing-bench: POSTs the prepared requests in turn.
local prepared = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("TOMONI_WRK_REQUESTS")) do
    local tab = line:find("\t", 1, true)
    prepared[#prepared + 1] = wrk.format("POST", "/graphql", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
  position = offset % #prepared
  bad = 0
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  io.write(string.format(
    "TOMONI-WRK requests=%.0f duration_us=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f connect=%.0f read=%.0f write=%.0f status=%.0f timeout=%.0f bad=%.0f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, bad_total))
end
"#;

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

struct Load {
    generator: &'static str,
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: usize,
}

/// `wrk -t2 -c16` for `seconds`, cycling through the prepared requests.
fn load_with_wrk(
    wrk: &Path,
    dir: &Path,
    address: SocketAddr,
    requests: &[(String, String)],
    seconds: u64,
) -> Load {
    let script = dir.join("myday.lua");
    let list = dir.join("myday-requests.tsv");
    std::fs::write(&script, WRK_SCRIPT).expect("write the wrk script");
    let mut lines = String::new();
    for (token, body) in requests {
        let _ = writeln!(lines, "{token}\t{body}");
    }
    std::fs::write(&list, lines).expect("write the requests");
    let output = std::process::Command::new(wrk)
        .args(["-t2", &format!("-c{CONCURRENCY}"), &format!("-d{seconds}s")])
        .args(["--timeout", "10s", "-s"])
        .arg(&script)
        .arg(format!("http://{address}/graphql"))
        .env("TOMONI_WRK_REQUESTS", &list)
        .output()
        .expect("run wrk");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("TOMONI-WRK "))
        .unwrap_or_else(|| {
            panic!(
                "wrk said: {stdout} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let figures: HashMap<&str, f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key, value.parse().unwrap_or(f64::NAN)))
        .collect();
    let figure = |key: &str| figures.get(key).copied().unwrap_or(f64::NAN);
    let errors = ["connect", "read", "write", "status", "timeout", "bad"]
        .iter()
        .map(|key| figure(key))
        .sum::<f64>();
    Load {
        generator: "wrk",
        requests: figure("requests") as usize,
        seconds: figure("duration_us") / 1e6,
        p50_ms: figure("p50_us") / 1e3,
        p99_ms: figure("p99_us") / 1e3,
        max_ms: figure("max_us") / 1e3,
        errors: errors as usize,
    }
}

/// 16 tasks of this program over one HTTP client, when wrk is not installed.
async fn load_builtin(url: &str, requests: Arc<Vec<(String, String)>>, seconds: u64) -> Load {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let deadline = started + StdDuration::from_secs(seconds);
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|task| {
            let (http, url, requests) = (http.clone(), url.to_owned(), requests.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut position = task * 7919;
                while Instant::now() < deadline {
                    position = (position + 1) % requests.len();
                    let (token, body) = &requests[position];
                    let sent = Instant::now();
                    ask(&http, &url, token, body).await;
                    latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("load task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let latencies = sorted(latencies);
    Load {
        generator: "builtin",
        requests: latencies.len(),
        seconds: elapsed,
        p50_ms: percentile(&latencies, 50),
        p99_ms: percentile(&latencies, 99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        errors: 0,
    }
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

const COUNT_BEGIN: &str = "@@tomoni-count begin";
const COUNT_END: &str = "@@tomoni-count end outings=";

/// The second run of `myday`: the server on the same database with sqlx's statement log on
/// (through the server's own tracing set-up, to stderr), requests one at a time between markers.
/// The first run counts the `sqlx::query` lines between each pair of markers.
fn count_statements(args: &[String]) {
    let [url, data_dir, list] = args else {
        usage();
    };
    tomoni_server::telemetry::init(&LogSettings {
        format: LogFormat::Human,
        filter: "warn,sqlx::query=debug".to_owned(),
    })
    .expect("logging");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut settings = Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: PathBuf::from(data_dir),
            database_url: (!url.is_empty()).then(|| Secret::new(url.clone())),
            shutdown_grace_seconds: 1,
            ..Settings::default()
        };
        // Nothing in the background writes statements into the count.
        settings.safety.watchdog = false;
        settings.push.dispatcher = false;
        let application = Application::build(&settings, Arc::new(SystemClock))
            .await
            .expect("build the application");
        let address = application.local_addr().expect("address");
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(application.run(async {
            let _ = shutdown_rx.await;
        }));
        // The match-proposal sweep looks once at start, then every 30 seconds.
        tokio::time::sleep(StdDuration::from_secs(1)).await;
        let http = reqwest::Client::new();
        let url = format!("http://{address}/graphql");
        let requests: Vec<(String, String)> = std::fs::read_to_string(list)
            .expect("the requests")
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(token, body)| (token.to_owned(), body.to_owned()))
            .collect();
        // Once per device first, uncounted: a device's first request may record its use.
        let mut seen = HashSet::new();
        for (token, body) in &requests {
            if seen.insert(token.clone()) {
                ask(&http, &url, token, body).await;
            }
        }
        for (token, body) in &requests {
            eprintln!("{COUNT_BEGIN}");
            let outings = ask(&http, &url, token, body).await;
            eprintln!("{COUNT_END}{outings}");
        }
        let _ = shutdown_tx.send(());
        let _ = server.await;
    });
}

/// Runs `count-statements` and returns (outings returned, statements) per request.
/// What the counting run saw: per request (outings returned, statements), and per kind of
/// statement (verb and first table) how many and their time in all, in milliseconds.
struct Counted {
    requests: Vec<(usize, usize)>,
    by_statement: BTreeMap<String, (usize, f64)>,
}

/// The line without ANSI colour sequences (`ESC [ … m`).
fn without_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut in_sequence = false;
    for character in line.chars() {
        match (in_sequence, character) {
            (false, '\u{1b}') => in_sequence = true,
            (false, other) => plain.push(other),
            (true, 'm') => in_sequence = false,
            (true, _) => {}
        }
    }
    plain
}

/// The verb and first table of a logged statement, e.g. `SELECT outings`.
fn statement_kind(line: &str) -> String {
    let summary = line.split_once("summary=\"").map_or("", |(_, rest)| rest);
    let verb = summary
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .trim_matches('"');
    let table = ["FROM \\\"", "INTO \\\"", "UPDATE \\\""]
        .iter()
        .filter_map(|marker| line.split_once(marker).map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("\\\"").map(|(table, _)| table))
        .next()
        .unwrap_or("");
    format!("{verb} {table}").trim().to_owned()
}

fn run_count(url: &str, data_dir: &Path, list: &Path) -> Counted {
    let exe = std::env::current_exe().expect("this program");
    let mut child = std::process::Command::new(exe)
        .arg("count-statements")
        .arg(url)
        .arg(data_dir)
        .arg(list)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the counting run");
    let stderr = child.stderr.take().expect("stderr");
    let mut counts = Vec::new();
    let mut by_statement: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let mut current: Option<usize> = None;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = without_colours(&line.expect("a line"));
        if line.contains(COUNT_BEGIN) {
            current = Some(0);
        } else if let Some(outings) = line.split_once(COUNT_END).map(|(_, rest)| rest) {
            let outings = outings.trim().parse().expect("outings");
            counts.push((outings, current.take().expect("a begin marker")));
        } else if line.contains("sqlx::query")
            && !line.contains("support_matches")
            && let Some(count) = current.as_mut()
        {
            *count += 1;
            let seconds: f64 = line
                .split_once("elapsed_secs=")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .and_then(|value| {
                    value
                        .trim_end_matches(|c: char| !c.is_ascii_digit())
                        .parse()
                        .ok()
                })
                .unwrap_or(0.0);
            let entry = by_statement.entry(statement_kind(&line)).or_default();
            entry.0 += 1;
            entry.1 += seconds * 1e3;
        }
    }
    let status = child.wait().expect("the counting run");
    assert!(status.success(), "the counting run failed: {status}");
    Counted {
        requests: counts,
        by_statement,
    }
}

async fn myday(backend: &str, kind_of_database: Backend, sizes: Sizes, seconds: u64) {
    let database = TestDatabase::create_on(kind_of_database).await;
    let settings = settings_for(&database);
    let application = Application::build(&settings, Arc::new(SystemClock))
        .await
        .expect("build the application");
    let address = application.local_addr().expect("address");
    let db = application.database().clone();
    eprintln!("generating the history ({sizes:?})…");
    // Nothing is pushed in this benchmark: the subscriptions point at the discard port.
    let history = generate(&db, sizes, "http://127.0.0.1:9", &BrowserKey::new()).await;
    println!("{}", history.line(backend));
    let world = history.world.clone();
    let (rows, tokens) = supporter_devices(&world);
    insert_all(&db, rows).await;

    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run(async {
        let _ = shutdown_rx.await;
    }));

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
    let db_cpu_before = backends_cpu(&database_backends(&db).await);
    let (load_before, cpu_before) = (load_average(), cpu_time("self"));
    eprintln!("loading at concurrency {CONCURRENCY} for {seconds} s…");
    let load = match find_on_path("wrk") {
        Some(wrk) => {
            let (wrk, dir, requests) = (wrk, database.data_dir.clone(), requests.clone());
            tokio::task::spawn_blocking(move || {
                load_with_wrk(&wrk, &dir, address, &requests, seconds)
            })
            .await
            .expect("wrk")
        }
        None => load_builtin(&url, Arc::new(requests), seconds).await,
    };
    let server_cpu = cpu_time("self") - cpu_before;
    // Backends opened during the load count whole; those from before, from where they were.
    let db_cpu: StdDuration = backends_cpu(&database_backends(&db).await)
        .iter()
        .map(|(pid, after)| {
            after.saturating_sub(db_cpu_before.get(pid).copied().unwrap_or_default())
        })
        .sum();
    let load_after = load_average();
    let _ = shutdown_tx.send(());
    server
        .await
        .expect("the server task")
        .expect("the server ran");

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
