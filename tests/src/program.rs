//! Helpers for the support program's tests: a curriculum, trained supporters, match steps.

use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;

use crate::{Answer, TestApp};

/// A two-course curriculum: basic (3 modules, the third requires the first) and specialised
/// (2 modules, requires basic).
pub struct Curriculum {
    pub basic: String,
    pub basic_modules: Vec<String>,
    pub specialised: String,
    pub specialised_modules: Vec<String>,
}

const CREATE_COURSE: &str =
    "mutation($input: CreateCourseInput!) { createCourse(input: $input) { course { id } } }";
const ADD_MODULE: &str = "mutation($input: AddCourseModuleInput!) { addCourseModule(input: $input) { module { id position } } }";
pub const RECORD_COMPLETION: &str = "mutation($input: RecordModuleCompletionInput!) { recordModuleCompletion(input: $input) { completion { id minutes } certificate { courseId completedOn } supporter { id } } }";

impl TestApp {
    /// The signed-in person's id.
    pub async fn viewer_id(&self, token: &str) -> String {
        self.graphql(Some(token), "{ viewer { id } }", json!({}))
            .await
            .data()["viewer"]["id"]
            .as_str()
            .expect("viewer id")
            .to_owned()
    }

    async fn course(&self, coordinator: &str, level: &str, title: &str, after: &[&str]) -> String {
        self.graphql(
            Some(coordinator),
            CREATE_COURSE,
            json!({ "input": { "level": level, "titleJa": title, "titleEn": title, "prerequisiteCourseIds": after } }),
        )
        .await
        .data()["createCourse"]["course"]["id"]
            .as_str()
            .expect("course id")
            .to_owned()
    }

    async fn module(&self, coordinator: &str, course: &str, title: &str, after: &[&str]) -> String {
        self.graphql(
            Some(coordinator),
            ADD_MODULE,
            json!({ "input": { "courseId": course, "titleJa": title, "titleEn": title, "format": "LECTURE", "durationMinutes": 90, "prerequisiteModuleIds": after } }),
        )
        .await
        .data()["addCourseModule"]["module"]["id"]
            .as_str()
            .expect("module id")
            .to_owned()
    }

    pub async fn curriculum(&self, coordinator: &str) -> Curriculum {
        let basic = self.course(coordinator, "BASIC", "基礎研修", &[]).await;
        let first = self
            .module(coordinator, &basic, "ピアサポートとは", &[])
            .await;
        let second = self
            .module(coordinator, &basic, "コミュニケーション", &[])
            .await;
        let third = self
            .module(coordinator, &basic, "ロールプレイ", &[&first])
            .await;
        let specialised = self
            .course(coordinator, "SPECIALISED", "専門研修", &[&basic])
            .await;
        let fourth = self
            .module(coordinator, &specialised, "事例検討", &[])
            .await;
        let fifth = self.module(coordinator, &specialised, "実習", &[]).await;
        Curriculum {
            basic,
            basic_modules: vec![first, second, third],
            specialised,
            specialised_modules: vec![fourth, fifth],
        }
    }

    /// Records one completion as the coordinator (who is also the assessor).
    pub async fn record_completion(
        &self,
        coordinator: &str,
        supporter: &str,
        module: &str,
        completed_on: &str,
    ) -> Answer {
        let assessor = self.viewer_id(coordinator).await;
        self.graphql(
            Some(coordinator),
            RECORD_COMPLETION,
            json!({ "input": { "supporterId": supporter, "moduleId": module, "completedOn": completed_on, "assessedById": assessor } }),
        )
        .await
    }

    /// Records every module in order, checking each succeeds.
    pub async fn complete_modules(
        &self,
        coordinator: &str,
        supporter: &str,
        modules: &[String],
        completed_on: &str,
    ) {
        for module in modules {
            self.record_completion(coordinator, supporter, module, completed_on)
                .await
                .data();
        }
    }

    /// A supporter with basic training complete (may be matched).
    pub async fn matchable_supporter(
        &self,
        coordinator: &str,
        curriculum: &Curriculum,
        name: &str,
    ) -> String {
        let supporter = self.create_person(coordinator, "SUPPORTER", name).await;
        let today = self.today();
        self.complete_modules(coordinator, &supporter, &curriculum.basic_modules, &today)
            .await;
        supporter
    }

    /// Today in Tokyo (the test organisations' zone), as the API's Date.
    pub fn today(&self) -> String {
        self.clock
            .now()
            .with_timezone(&chrono_tz::Asia::Tokyo)
            .date_naive()
            .to_string()
    }

    pub async fn propose(&self, coordinator: &str, supporter: &str, participant: &str) -> Answer {
        self.graphql(
            Some(coordinator),
            "mutation($input: ProposeMatchInput!) { proposeMatch(input: $input) { match { id status expiresAt } } }",
            json!({ "input": { "supporterId": supporter, "participantId": participant } }),
        )
        .await
    }

    /// Runs one match mutation (`acceptMatch`, `pauseMatch`, …) with `input`; returns the answer.
    pub async fn match_step(&self, token: &str, mutation: &str, input: Value) -> Answer {
        let input_type = format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]);
        self.graphql(
            Some(token),
            &format!(
                "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ match {{ id status endReason closingReflection supporter {{ id }} participant {{ id }} }} }} }}"
            ),
            json!({ "input": input }),
        )
        .await
    }
}

/// The `extensions.reason` of the first error.
pub fn reason(answer: &Answer) -> Option<&str> {
    answer.body["errors"][0]["extensions"]["reason"].as_str()
}

pub const PLAN_OUTING: &str = "mutation($input: PlanOutingInput!) { planOuting(input: $input) { outing { id status members { personId displayName role } } } }";
pub const OUTING_FIELDS: &str = "id status plannedStart plannedEnd checkInDueAt extensions startedAt endedAt anxietyBefore confidenceAfter supporterNote cancelReason members { personId role } checkIns { nodes { kind madeAt personId latitude } } latestCheckIn { kind } alerts { nodes { id reason tier status ownerId } }";

impl TestApp {
    /// A supporter who may lead outings (basic and specialised complete).
    pub async fn lead_supporter(
        &self,
        coordinator: &str,
        curriculum: &Curriculum,
        name: &str,
    ) -> String {
        let supporter = self
            .matchable_supporter(coordinator, curriculum, name)
            .await;
        let today = self.today();
        self.complete_modules(
            coordinator,
            &supporter,
            &curriculum.specialised_modules,
            &today,
        )
        .await;
        supporter
    }

    /// Plans an outing starting `in_minutes` from now for `minutes`, as `token`.
    pub async fn plan_outing(
        &self,
        token: &str,
        participant: &str,
        lead: &str,
        in_minutes: i64,
        minutes: i64,
    ) -> Answer {
        let start = self.clock.now() + chrono::Duration::minutes(in_minutes);
        let end = start + chrono::Duration::minutes(minutes);
        self.graphql(
            Some(token),
            PLAN_OUTING,
            json!({ "input": {
                "participantId": participant,
                "leadSupporterId": lead,
                "purpose": "TRANSPORT_PRACTICE",
                "place": "市バス 西長堀",
                "plannedStart": start.to_rfc3339(),
                "plannedEnd": end.to_rfc3339(),
                "stepGoal": "ride two stops alone",
            } }),
        )
        .await
    }

    /// Runs one outing mutation taking `input`, returning the outing's main fields.
    pub async fn outing_step(&self, token: &str, mutation: &str, input: Value) -> Answer {
        let input_type = format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]);
        let input_type = match mutation {
            "approveOuting" | "startOuting" => "OutingIdInput".to_owned(),
            _ => input_type,
        };
        self.graphql(
            Some(token),
            &format!(
                "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ outing {{ {OUTING_FIELDS} }} }} }}"
            ),
            json!({ "input": input }),
        )
        .await
    }

    /// One watchdog tick at the test clock's time.
    pub async fn watchdog(&self) -> tomoni_schema::safety::TickReport {
        let report = tomoni_schema::safety::watchdog_tick(
            &self.db,
            self.clock.now(),
            100,
            self.settings
                .safety
                .timings(self.settings.email.smtp_url.is_some()),
        )
        .await
        .expect("watchdog tick");
        // As the server's loop does: after the tick, the handover at shifts' ends.
        tomoni_schema::rota_handover::hand_over(&self.db, self.clock.now(), 100)
            .await
            .expect("handover");
        report
    }
}
