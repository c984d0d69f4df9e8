//! The demo's training and matches: a curriculum shaped like Japan's peer-supporter training
//! (basic 基礎研修 → specialised 専門研修, then follow-up フォローアップ研修) with invented content,
//! each supporter at a different stage, a trainer, supervision, three matches, a coordinator on
//! duty, a crisis plan and tomorrow's outing.

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::DatabaseTransaction;
use tomoni_schema::domain::matching::{MatchStatus, ProgramSettings};
use tomoni_schema::domain::people::Role;
use tomoni_schema::domain::training::{CourseLevel, ModuleFormat, capabilities};
use tomoni_schema::notify::{self, Recipient};
use tomoni_schema::store;
use tomoni_schema::store::entities::{organisations, people};
use tomoni_schema::store::training::FactsScope;
use uuid::Uuid;

struct DemoModule {
    title_ja: &'static str,
    title_en: &'static str,
    format: ModuleFormat,
    minutes: i32,
    /// Positions (1-based) of earlier modules of the same course that must come first.
    after: &'static [usize],
}

struct DemoCourse {
    level: CourseLevel,
    title_ja: &'static str,
    title_en: &'static str,
    modules: &'static [DemoModule],
}

const fn module(
    title_ja: &'static str,
    title_en: &'static str,
    format: ModuleFormat,
    minutes: i32,
    after: &'static [usize],
) -> DemoModule {
    DemoModule {
        title_ja,
        title_en,
        format,
        minutes,
        after,
    }
}

/// Each course requires the one before it.
const CURRICULUM: &[DemoCourse] = &[
    DemoCourse {
        level: CourseLevel::Basic,
        title_ja: "ピアサポーター基礎研修",
        title_en: "Peer supporter basic training",
        modules: &[
            module(
                "ピアサポートとは",
                "What peer support is",
                ModuleFormat::Lecture,
                90,
                &[],
            ),
            module(
                "コミュニケーションの基本",
                "Communication basics",
                ModuleFormat::Lecture,
                90,
                &[],
            ),
            module(
                "病気と障害の理解",
                "Understanding illness and disability",
                ModuleFormat::Lecture,
                90,
                &[],
            ),
            module(
                "傾聴のロールプレイ",
                "Listening role-play",
                ModuleFormat::RolePlay,
                120,
                &[2],
            ),
            module(
                "倫理と守秘義務",
                "Ethics and confidentiality",
                ModuleFormat::Ethics,
                90,
                &[],
            ),
        ],
    },
    DemoCourse {
        level: CourseLevel::Specialised,
        title_ja: "ピアサポーター専門研修",
        title_en: "Peer supporter specialised training",
        modules: &[
            module(
                "リカバリーとストレングス",
                "Recovery and strengths",
                ModuleFormat::Lecture,
                90,
                &[],
            ),
            module(
                "事例検討",
                "Case studies",
                ModuleFormat::CaseStudy,
                120,
                &[],
            ),
            module(
                "セルフケアと境界線（グループワーク）",
                "Self-care and boundaries (group work)",
                ModuleFormat::GroupWork,
                120,
                &[],
            ),
            module(
                "同行支援の実習",
                "Practicum: an accompanied outing",
                ModuleFormat::Practicum,
                180,
                &[2, 3],
            ),
        ],
    },
    DemoCourse {
        level: CourseLevel::FollowUp,
        title_ja: "フォローアップ研修",
        title_en: "Follow-up training",
        modules: &[
            module(
                "活動の振り返り",
                "Looking back on the work",
                ModuleFormat::GroupWork,
                120,
                &[],
            ),
            module(
                "倫理の再確認",
                "Ethics refresher",
                ModuleFormat::Ethics,
                60,
                &[],
            ),
        ],
    },
];

/// How far each demo supporter got: modules done per course (in order), and the first date.
struct DemoProgress {
    supporter: &'static str,
    modules_done: [usize; 3],
    from: (i32, u32, u32),
}

const PROGRESS: &[DemoProgress] = &[
    // Basic and specialised complete, follow-up due in March 2027: may lead outings.
    DemoProgress {
        supporter: "新町 陽子",
        modules_done: [5, 4, 0],
        from: (2025, 10, 1),
    },
    // Basic complete, specialised under way: may be matched, may not lead yet.
    DemoProgress {
        supporter: "立売 翔",
        modules_done: [5, 2, 0],
        from: (2026, 5, 11),
    },
    // Specialised complete in 2025: follow-up is overdue, so she may not lead until she does it.
    DemoProgress {
        supporter: "Linh Tran",
        modules_done: [5, 4, 0],
        from: (2024, 8, 1),
    },
];

pub async fn create(
    txn: &DatabaseTransaction,
    organisation: &organisations::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let everyone = store::people::find_by_organisation(txn, organisation.id).await?;
    let person = |name: &str| {
        everyone
            .iter()
            .find(|person| person.display_name == name)
            .ok_or_else(|| anyhow!("demo person {name} is missing"))
    };
    let coordinator = everyone
        .iter()
        .find(|person| person.role == Role::Coordinator.as_str())
        .ok_or_else(|| anyhow!("the demo has no coordinator"))?;

    let mut courses: Vec<Vec<Uuid>> = Vec::new();
    let mut previous_course: Option<Uuid> = None;
    for course in CURRICULUM {
        let prerequisites: Vec<Uuid> = previous_course.into_iter().collect();
        let created = store::training::create_course(
            txn,
            store::training::NewCourse {
                organisation_id: organisation.id,
                level: course.level,
                title_ja: course.title_ja,
                title_en: course.title_en,
                prerequisite_course_ids: &prerequisites,
            },
            now,
        )
        .await?;
        let mut modules: Vec<Uuid> = Vec::new();
        for demo in course.modules {
            let required: Vec<Uuid> = demo
                .after
                .iter()
                .filter_map(|position| modules.get(position - 1).copied())
                .collect();
            let added = store::training::add_module(
                txn,
                store::training::NewModule {
                    course_id: created.id,
                    title_ja: demo.title_ja,
                    title_en: demo.title_en,
                    format: demo.format,
                    duration_minutes: demo.minutes,
                    prerequisite_module_ids: &required,
                },
                now,
            )
            .await?;
            modules.push(added.id);
        }
        courses.push(modules);
        previous_course = Some(created.id);
    }

    for progress in PROGRESS {
        let supporter = person(progress.supporter)?;
        let (year, month, day) = progress.from;
        let mut on = NaiveDate::from_ymd_opt(year, month, day).context("demo date")?;
        for (course_index, done) in progress.modules_done.iter().enumerate() {
            let modules = &courses[course_index];
            for (position, module_id) in modules.iter().take(*done).enumerate() {
                store::training::record_completion(
                    txn,
                    store::training::NewCompletion {
                        supporter_id: supporter.id,
                        module_id: *module_id,
                        completed_on: on,
                        minutes: CURRICULUM[course_index].modules[position].minutes,
                        assessed_by: coordinator.id,
                        note: "",
                        recorded_by: coordinator.id,
                    },
                    now,
                )
                .await?;
                on += Duration::days(14);
            }
            if let Some(first) = modules.first() {
                let course = store::training::find_modules(txn, &[*first])
                    .await?
                    .first()
                    .map(|module| module.course_id)
                    .context("demo module")?;
                store::training::issue_certificate_if_complete(txn, supporter.id, course, now)
                    .await?;
            }
        }
        plan_follow_up(txn, supporter, organisation, now).await?;
    }

    let yoko = person("新町 陽子")?;
    store::matches::update_supporter_settings(
        txn,
        yoko.id,
        store::matches::SupporterSettings {
            match_capacity: None,
            is_trainer: Some(true),
        },
        now,
    )
    .await?;
    store::training::record_supervision(
        txn,
        store::training::NewSupervision {
            supporter_id: yoko.id,
            supervisor_id: coordinator.id,
            held_on: NaiveDate::from_ymd_opt(2026, 10, 20).context("demo date")?,
            note: "外出同行の振り返り。次回は境界線について話す。",
            recorded_by: coordinator.id,
            // The demo's supporters carry no follow-up flag.
            answers_flags_before: now,
        },
        now,
    )
    .await?;

    let settings = ProgramSettings::default();
    for (supporter, participant, status) in [
        ("新町 陽子", "江戸 はるか", MatchStatus::Active),
        ("Linh Tran", "Sam Carter", MatchStatus::Active),
        ("立売 翔", "京町 拓海", MatchStatus::Proposed),
    ] {
        let proposal = store::matches::propose(
            txn,
            store::matches::NewMatch {
                organisation_id: organisation.id,
                supporter_id: person(supporter)?.id,
                participant_id: person(participant)?.id,
                proposed_by: coordinator.id,
                expires_at: now + Duration::days(i64::from(settings.proposal_expiry_days)),
            },
            now,
        )
        .await?;
        if status == MatchStatus::Active {
            store::matches::apply(
                txn,
                proposal.id,
                store::matches::Change {
                    from: MatchStatus::Proposed,
                    to: MatchStatus::Active,
                    reason: None,
                    closing_reflection: None,
                },
                now,
            )
            .await?;
        }
    }

    // The first coordinator is on duty; はるか has a crisis plan and an outing tomorrow morning.
    store::outings::set_on_duty(txn, coordinator.id, organisation.id, true, now).await?;
    let haruka = person("江戸 はるか")?;
    store::profiles::update_participant_profile(
        txn,
        haruka.id,
        store::profiles::ParticipantProfileChanges {
            crisis_plan: Some(
                "静かな場所で座って深呼吸。落ち着かないときは姉（デモ: 090-0000-0000）に電話。"
                    .into(),
            ),
            ..Default::default()
        },
        now,
    )
    .await?;
    let zone: chrono_tz::Tz = organisation
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let tomorrow = now.with_timezone(&zone).date_naive() + chrono::Days::new(1);
    let start = tomorrow
        .and_hms_opt(10, 0, 0)
        .and_then(|naive| naive.and_local_timezone(zone).earliest())
        .map_or(now + Duration::days(1), |local| {
            local.with_timezone(&chrono::Utc)
        });
    let outing = store::outings::create(
        txn,
        store::outings::NewOuting {
            organisation_id: organisation.id,
            participant_id: haruka.id,
            lead_supporter_id: yoko.id,
            staff_companion_id: None,
            purpose: "transport_practice",
            place: "市バス 西長堀バス停",
            latitude: None,
            longitude: None,
            step_goal: "二つ目の停留所まで一人で乗る",
            planned_start: start,
            planned_end: start + Duration::hours(2),
            check_in_interval_minutes: 30,
            grace_minutes: 10,
            status: tomoni_schema::domain::outings::OutingStatus::Planned,
            created_by: coordinator.id,
            approved_by: Some(coordinator.id),
        }
        .row(Uuid::now_v7(), now),
        &[],
    )
    .await?;
    notify::plan_outing_reminders(txn, &outing, now).await?;
    Ok(())
}

/// Plans the supporter's follow-up reminders, as recording their certificates through the API
/// would have.
async fn plan_follow_up(
    txn: &DatabaseTransaction,
    supporter: &people::Model,
    organisation: &organisations::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let facts = store::training::training_facts(txn, FactsScope::Supporters(&[supporter.id]))
        .await?
        .remove(&supporter.id)
        .unwrap_or_default();
    let settings = store::program::settings(txn, organisation.id).await?;
    let zone: chrono_tz::Tz = organisation
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let today = now.with_timezone(&zone).date_naive();
    let due = capabilities(&facts, settings.follow_up_interval_months, today).follow_up_due_on;
    notify::plan_follow_up(
        txn,
        Recipient {
            person_id: supporter.id,
            organisation_id: organisation.id,
        },
        None,
        due,
        zone,
        now,
    )
    .await?;
    Ok(())
}
