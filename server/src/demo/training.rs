//! The demo's training and matches: a curriculum shaped like Japan's peer-supporter training
//! (basic 基礎研修 → specialised 専門研修, then follow-up フォローアップ研修) with invented content,
//! each supporter at a different stage, a trainer, supervision, three matches, a coordinator on
//! duty, a crisis plan and tomorrow's outing. Dates are counted back from the day the demo is
//! seeded, so its supporters are at the same stages whenever it runs.

use anyhow::{anyhow, bail};
use chrono::{DateTime, Days, Duration, Months, NaiveDate, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tomoni_schema::api::TomoniSchema;
use tomoni_schema::domain::clock::today_in;

use super::api::{Actor, string_at};
use super::{HeldClock, at};

struct DemoModule {
    title_ja: &'static str,
    title_en: &'static str,
    /// `ModuleFormat` as the API names it.
    format: &'static str,
    minutes: i32,
    /// Positions (1-based) of earlier modules of the same course that must come first.
    after: &'static [usize],
}

struct DemoCourse {
    /// `CourseLevel` as the API names it.
    level: &'static str,
    title_ja: &'static str,
    title_en: &'static str,
    modules: &'static [DemoModule],
}

const fn module(
    title_ja: &'static str,
    title_en: &'static str,
    format: &'static str,
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
        level: "BASIC",
        title_ja: "ピアサポーター基礎研修",
        title_en: "Peer supporter basic training",
        modules: &[
            module(
                "ピアサポートとは",
                "What peer support is",
                "LECTURE",
                90,
                &[],
            ),
            module(
                "コミュニケーションの基本",
                "Communication basics",
                "LECTURE",
                90,
                &[],
            ),
            module(
                "病気と障害の理解",
                "Understanding illness and disability",
                "LECTURE",
                90,
                &[],
            ),
            module(
                "傾聴のロールプレイ",
                "Listening role-play",
                "ROLE_PLAY",
                120,
                &[2],
            ),
            module(
                "倫理と守秘義務",
                "Ethics and confidentiality",
                "ETHICS",
                90,
                &[],
            ),
        ],
    },
    DemoCourse {
        level: "SPECIALISED",
        title_ja: "ピアサポーター専門研修",
        title_en: "Peer supporter specialised training",
        modules: &[
            module(
                "リカバリーとストレングス",
                "Recovery and strengths",
                "LECTURE",
                90,
                &[],
            ),
            module("事例検討", "Case studies", "CASE_STUDY", 120, &[]),
            module(
                "セルフケアと境界線（グループワーク）",
                "Self-care and boundaries (group work)",
                "GROUP_WORK",
                120,
                &[],
            ),
            module(
                "同行支援の実習",
                "Practicum: an accompanied outing",
                "PRACTICUM",
                180,
                &[2, 3],
            ),
        ],
    },
    DemoCourse {
        level: "FOLLOW_UP",
        title_ja: "フォローアップ研修",
        title_en: "Follow-up training",
        modules: &[
            module(
                "活動の振り返り",
                "Looking back on the work",
                "GROUP_WORK",
                120,
                &[],
            ),
            module("倫理の再確認", "Ethics refresher", "ETHICS", 60, &[]),
        ],
    },
];

/// How far each demo supporter got: modules done per course (in order), one every two weeks from
/// the first, which is `months_ago` months before the demo is seeded.
struct DemoProgress {
    supporter: &'static str,
    modules_done: [usize; 3],
    months_ago: u32,
}

const PROGRESS: &[DemoProgress] = &[
    // Basic and specialised complete about ten months ago, follow-up due in two months: may lead
    // outings.
    DemoProgress {
        supporter: "新町 陽子",
        modules_done: [5, 4, 0],
        months_ago: 14,
    },
    // Basic complete, specialised under way: may be matched, may not lead yet.
    DemoProgress {
        supporter: "立売 翔",
        modules_done: [5, 2, 0],
        months_ago: 7,
    },
    // Specialised complete two years ago: follow-up is overdue, so she may not lead until she
    // does it.
    DemoProgress {
        supporter: "Linh Tran",
        modules_done: [5, 4, 0],
        months_ago: 28,
    },
];

/// 陽子's last supervision session, this many days before the demo is seeded.
const SUPERVISION_DAYS_AGO: u64 = 42;
const SUPERVISION_NOTE: &str = "外出同行の振り返り。次回は境界線について話す。";
const CRISIS_PLAN: &str =
    "静かな場所で座って深呼吸。落ち着かないときは姉（デモ: 090-0000-0000）に電話。";

/// One module completed: by whom, which (course and module positions, 0-based), on which day.
struct Completion {
    on: NaiveDate,
    supporter: &'static str,
    course: usize,
    module: usize,
}

/// The demo's past, in the order it happened.
pub struct History {
    today: NaiveDate,
    completions: Vec<Completion>,
}

impl History {
    /// The history of a demo seeded at `now`, counted back from its day in `time_zone`.
    pub fn until(now: DateTime<Utc>, time_zone: &str) -> anyhow::Result<Self> {
        let today = today_in(time_zone, now);
        let mut completions = Vec::new();
        for progress in PROGRESS {
            let mut on = today
                .checked_sub_months(Months::new(progress.months_ago))
                .ok_or_else(|| anyhow!("demo date"))?;
            for (course, done) in progress.modules_done.iter().enumerate() {
                for module in 0..*done {
                    completions.push(Completion {
                        on,
                        supporter: progress.supporter,
                        course,
                        module,
                    });
                    on += Duration::days(14);
                }
            }
        }
        if completions.iter().any(|completion| completion.on >= today) {
            bail!("the demo's training history reaches today");
        }
        // Stable: each supporter's modules keep their order.
        completions.sort_by_key(|completion| completion.on);
        Ok(Self { today, completions })
    }

    /// When the organisation, its people and its curriculum were set up: a week before the first
    /// module anyone completed.
    pub fn beginning(&self) -> anyhow::Result<DateTime<Utc>> {
        let first = self
            .completions
            .first()
            .map_or(self.today, |completion| completion.on);
        at(first - Days::new(7), 9)
    }
}

/// What the demo's steps share: the coordinator acting, and the people created so far.
pub struct Demo<'a> {
    pub coordinator: &'a Actor<'a>,
    pub coordinator_id: &'a str,
    pub schema: &'a TomoniSchema,
    pub db: &'a DatabaseConnection,
    pub clock: &'a HeldClock,
    /// Each demo person's name and id.
    pub people: &'a [(&'static str, String)],
}

impl Demo<'_> {
    fn person(&self, name: &str) -> anyhow::Result<&str> {
        self.people
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, id)| id.as_str())
            .ok_or_else(|| anyhow!("demo person {name} is missing"))
    }
}

/// Writes the curriculum and the history with the clock held at the time of each step, then
/// releases the clock and does today's steps: matches, duty, a crisis plan, tomorrow's outing.
pub async fn create(demo: &Demo<'_>, history: &History) -> anyhow::Result<()> {
    let coordinator = demo.coordinator;
    let modules = create_curriculum(coordinator).await?;

    for completion in &history.completions {
        demo.clock.hold(at(completion.on, 17)?);
        coordinator
            .run(
                "mutation RecordModuleCompletion($input: RecordModuleCompletionInput!) {
                    recordModuleCompletion(input: $input) { completion { id } }
                }",
                json!({ "input": {
                    "supporterId": demo.person(completion.supporter)?,
                    "moduleId": modules[completion.course][completion.module],
                    "completedOn": completion.on.to_string(),
                    "assessedById": demo.coordinator_id,
                } }),
            )
            .await?;
    }
    let yoko = demo.person("新町 陽子")?;
    let held_on = history.today - Days::new(SUPERVISION_DAYS_AGO);
    demo.clock.hold(at(held_on, 15)?);
    coordinator
        .run(
            "mutation RecordSupervision($input: RecordSupervisionInput!) {
                recordSupervision(input: $input) { __typename }
            }",
            json!({ "input": {
                "supporterId": yoko,
                "supervisorId": demo.coordinator_id,
                "heldOn": held_on.to_string(),
                "note": SUPERVISION_NOTE,
            } }),
        )
        .await?;

    demo.clock.release();
    coordinator
        .run(
            "mutation UpdateSupporterSettings($input: UpdateSupporterSettingsInput!) {
                updateSupporterSettings(input: $input) { __typename }
            }",
            json!({ "input": { "supporterId": yoko, "isTrainer": true } }),
        )
        .await?;
    for (supporter, participant, accepted) in [
        ("新町 陽子", "江戸 はるか", true),
        ("Linh Tran", "Sam Carter", true),
        ("立売 翔", "京町 拓海", false),
    ] {
        let data = coordinator
            .run(
                "mutation ProposeMatch($input: ProposeMatchInput!) {
                    proposeMatch(input: $input) { match { id } }
                }",
                json!({ "input": {
                    "supporterId": demo.person(supporter)?,
                    "participantId": demo.person(participant)?,
                } }),
            )
            .await?;
        if accepted {
            let match_id = string_at(&data, "/proposeMatch/match/id")?;
            accept_on_a_paired_device(demo, demo.person(supporter)?, &match_id).await?;
        }
    }

    // The first coordinator is on duty; はるか has a crisis plan and an outing tomorrow morning.
    coordinator
        .run(
            "mutation SetOnDuty($input: SetOnDutyInput!) {
                setOnDuty(input: $input) { __typename }
            }",
            json!({ "input": { "personId": demo.coordinator_id, "isOnDuty": true } }),
        )
        .await?;
    let haruka = demo.person("江戸 はるか")?;
    coordinator
        .run(
            "mutation UpdateParticipantProfile($input: UpdateParticipantProfileInput!) {
                updateParticipantProfile(input: $input) { __typename }
            }",
            json!({ "input": { "personId": haruka, "crisisPlan": CRISIS_PLAN } }),
        )
        .await?;
    let start = at(history.today + Days::new(1), 10)?;
    coordinator
        .run(
            "mutation PlanOuting($input: PlanOutingInput!) {
                planOuting(input: $input) { outing { id } }
            }",
            json!({ "input": {
                "participantId": haruka,
                "leadSupporterId": yoko,
                "purpose": "TRANSPORT_PRACTICE",
                "place": "市バス 西長堀バス停",
                "stepGoal": "二つ目の停留所まで一人で乗る",
                "plannedStart": start.to_rfc3339(),
                "plannedEnd": (start + Duration::hours(2)).to_rfc3339(),
                "checkInIntervalMinutes": 30,
                "gracePeriodMinutes": 10,
            } }),
        )
        .await?;
    Ok(())
}

/// Creates the courses and their modules; returns each course's module ids, in order.
async fn create_curriculum(coordinator: &Actor<'_>) -> anyhow::Result<Vec<Vec<String>>> {
    let mut courses: Vec<Vec<String>> = Vec::new();
    let mut previous_course: Option<String> = None;
    for course in CURRICULUM {
        let data = coordinator
            .run(
                "mutation CreateCourse($input: CreateCourseInput!) {
                    createCourse(input: $input) { course { id } }
                }",
                json!({ "input": {
                    "level": course.level,
                    "titleJa": course.title_ja,
                    "titleEn": course.title_en,
                    // Each course requires the one before it.
                    "prerequisiteCourseIds": previous_course.iter().collect::<Vec<_>>(),
                } }),
            )
            .await?;
        let course_id = string_at(&data, "/createCourse/course/id")?;
        let mut modules: Vec<String> = Vec::new();
        for module in course.modules {
            let required: Vec<&String> = module
                .after
                .iter()
                .filter_map(|position| modules.get(position - 1))
                .collect();
            let data = coordinator
                .run(
                    "mutation AddCourseModule($input: AddCourseModuleInput!) {
                        addCourseModule(input: $input) { module { id } }
                    }",
                    json!({ "input": {
                        "courseId": course_id,
                        "titleJa": module.title_ja,
                        "titleEn": module.title_en,
                        "format": module.format,
                        "durationMinutes": module.minutes,
                        "prerequisiteModuleIds": required,
                    } }),
                )
                .await?;
            modules.push(string_at(&data, "/addCourseModule/module/id")?);
        }
        courses.push(modules);
        previous_course = Some(course_id);
    }
    Ok(courses)
}

/// Only the supporter accepts a proposal: the coordinator pairs a device for them (as a phone
/// pairs: a code, redeemed without a token), the supporter accepts on it, and the coordinator
/// revokes the device again, so that the demo leaves no token behind but the one it prints.
async fn accept_on_a_paired_device(
    demo: &Demo<'_>,
    supporter_id: &str,
    match_id: &str,
) -> anyhow::Result<()> {
    let data = demo
        .coordinator
        .run(
            "mutation IssuePairingCode($input: IssuePairingCodeInput!) {
                issuePairingCode(input: $input) { pairingCode { code } }
            }",
            json!({ "input": { "personId": supporter_id } }),
        )
        .await?;
    let code = string_at(&data, "/issuePairingCode/pairingCode/code")?;
    let data = Actor::anonymous(demo.schema)
        .run(
            "mutation RedeemPairingCode($input: RedeemPairingCodeInput!) {
                redeemPairingCode(input: $input) { token device { id } }
            }",
            json!({ "input": { "code": code, "deviceLabel": "demo setup" } }),
        )
        .await?;
    let token = string_at(&data, "/redeemPairingCode/token")?;
    let device_id = string_at(&data, "/redeemPairingCode/device/id")?;
    let supporter = Actor::sign_in(demo.schema, demo.db, demo.clock, &token).await?;
    supporter
        .run(
            "mutation AcceptMatch($input: AcceptMatchInput!) {
                acceptMatch(input: $input) { __typename }
            }",
            json!({ "input": { "matchId": match_id } }),
        )
        .await?;
    demo.coordinator
        .run(
            "mutation RevokeDevice($input: RevokeDeviceInput!) {
                revokeDevice(input: $input) { device { id } }
            }",
            json!({ "input": { "deviceId": device_id } }),
        )
        .await?;
    Ok(())
}
