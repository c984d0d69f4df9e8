//! `suggestions [sqlite|postgres] [N]`: `matchSuggestions` over HTTP against the real server, for
//! an organisation of N supporters (default 2,000), 500 participants and about 0.75·N open
//! matches, generated set-wise. After 50 warm-up requests, 500 requests one after the other, each
//! for a random participant. Prints `suggestions: db=… supporters=… p50_ms=… p99_ms=…`, then the
//! medians of the store reads the resolver makes, timed directly (`candidates_ms`, `loads_ms`)
//! and of the ranking in memory (`rank_ms`).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde_json::json;
use tomoni_schema::domain::matching::{self as rules, Candidate, MatchStatus, Seeker};
use tomoni_schema::domain::people::{Locale, OrganisationKind, Role};
use tomoni_schema::store;
use tomoni_schema::store::entities::{
    StringList, certificates, course_modules, courses, module_completions, participant_profiles,
    people, support_matches, supporter_profiles,
};
use tomoni_server::{Application, SystemClock, admin};
use uuid::Uuid;

use crate::TestDatabase;
use crate::bench::driver::{percentile, post, sorted};
use crate::bench::load::insert_chunked;
use crate::bench::rng::Rng;
use crate::bench::{Running, backend_kind};

const PARTICIPANTS: usize = 500;
const WARM_UP: usize = 50;
const REQUESTS: usize = 500;
/// Timed rounds of each store read for the breakdown.
const BREAKDOWN_ROUNDS: usize = 100;

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

fn languages(rng: &mut Rng) -> Vec<String> {
    let languages: &[&str] = match rng.below(100) {
        0..80 => &["ja"],
        80..92 => &["ja", "en"],
        _ => &["vi", "ja"],
    };
    languages.iter().map(|code| (*code).to_owned()).collect()
}

/// A day of 2025.
fn day_in_2025(rng: &mut Rng) -> NaiveDate {
    let month = u32::try_from(1 + rng.below(12)).expect("month");
    let day = u32::try_from(1 + rng.below(28)).expect("day");
    NaiveDate::from_ymd_opt(2025, month, day).expect("a date")
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
    let mut rng = Rng::at(2026);
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
                experience_tags: Set(StringList(rng.pick_distinct(&TAGS, tags))),
                languages: Set(StringList(languages(&mut rng))),
                areas: Set(StringList(rng.pick_distinct(&WARDS, areas))),
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
            let mut preferences = rng.pick_distinct(&TAGS, tag_preferences);
            preferences.extend(rng.pick_distinct(&WARDS, ward_preferences));
            participant_profiles::ActiveModel {
                person_id: Set(*id),
                preferences: Set(StringList(preferences)),
                consents_to_location_sharing: Set(rng.percent(50)),
                experience_tags: Set(Some(StringList(rng.pick_distinct(&TAGS, tags)))),
                languages: Set(Some(StringList(languages(&mut rng)))),
                areas: Set(Some(StringList(rng.pick_distinct(&WARDS, 1)))),
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
        let completed_on = day_in_2025(&mut rng);
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
    let body = json!({
        "query": SUGGESTIONS_QUERY,
        "variables": { "participant": participant.to_string() },
    });
    post(http, url, token, &body.to_string()).await["data"]["matchSuggestions"]
        .as_array()
        .expect("a list of suggestions")
        .len()
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
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    percentile(&sorted(times), 50)
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

/// The suggestions benchmark on the database named `backend`, for `supporters` supporters.
pub async fn suggestions(backend: &str, supporters: usize) {
    let database = TestDatabase::create_on(backend_kind(backend)).await;
    let mut settings = database.settings();
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

    let server = Running::start(application);

    let http = reqwest::Client::new();
    let url = format!("http://{address}/graphql");
    let mut rng = Rng::at(7);
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
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let latencies = sorted(latencies);
    let breakdown = breakdown(&db, organisation.id, participants[0]).await;

    server.stop().await.expect("the server ran");
    let breakdown: Vec<String> = breakdown
        .iter()
        .map(|(name, ms)| format!("{name}={ms:.1}"))
        .collect();
    println!(
        "suggestions: db={backend} supporters={supporters} p50_ms={:.1} p99_ms={:.1} participants={} certified={} open_matches={} requests={REQUESTS} mean_returned={:.1} generate_s={generate_s:.2} {}",
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        participants.len(),
        generated.certified,
        generated.matches,
        returned as f64 / REQUESTS as f64,
        breakdown.join(" "),
    );
}
