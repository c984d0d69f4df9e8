//! The inputs and payloads of the training mutations.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::NaiveDate;

use super::curriculum::{Course, CourseModule, ProgramSettingsObject};
use super::enums::{CourseLevel, ModuleFormat};
use super::progress::{Certificate, ModuleCompletion, SupervisionSession};
use crate::api::people::Person;

#[derive(InputObject)]
pub struct CreateCourseInput {
    pub level: CourseLevel,
    pub title_ja: String,
    pub title_en: String,
    /// Courses of the organisation to complete first.
    pub prerequisite_course_ids: Option<Vec<ID>>,
}

#[derive(SimpleObject)]
pub struct CreateCoursePayload {
    pub course: Course,
}

#[derive(InputObject)]
pub struct AddCourseModuleInput {
    pub course_id: ID,
    pub title_ja: String,
    pub title_en: String,
    pub format: ModuleFormat,
    /// 1 to 6000.
    pub duration_minutes: i32,
    /// Modules of the organisation's curriculum to complete first.
    pub prerequisite_module_ids: Option<Vec<ID>>,
}

#[derive(SimpleObject)]
pub struct AddCourseModulePayload {
    pub course: Course,
    pub module: CourseModule,
}

#[derive(InputObject)]
pub struct RecordModuleCompletionInput {
    pub supporter_id: ID,
    pub module_id: ID,
    /// Not in the future (in the organisation's time zone).
    pub completed_on: NaiveDate,
    /// Minutes attended; defaults to the module's duration.
    pub minutes: Option<i32>,
    /// A coordinator or trainer of the organisation.
    pub assessed_by_id: ID,
    pub note: Option<String>,
}

#[derive(SimpleObject)]
pub struct RecordModuleCompletionPayload {
    pub completion: ModuleCompletion,
    /// Set when this completion finished the course.
    pub certificate: Option<Certificate>,
    pub supporter: Person,
}

#[derive(InputObject)]
pub struct RecordSupervisionInput {
    pub supporter_id: ID,
    /// A coordinator or trainer of the organisation.
    pub supervisor_id: ID,
    /// Not in the future.
    pub held_on: NaiveDate,
    pub note: String,
}

#[derive(SimpleObject)]
pub struct RecordSupervisionPayload {
    pub session: SupervisionSession,
    pub supporter: Person,
}

/// Omitted values stay as they are.
#[derive(InputObject)]
pub struct UpdateProgramSettingsInput {
    pub match_capacity: Option<u32>,
    pub proposal_expiry_days: Option<u32>,
    pub follow_up_interval_months: Option<u32>,
    pub weekly_outing_cap: Option<u32>,
    pub weekly_hours_cap: Option<u32>,
}

#[derive(SimpleObject)]
pub struct UpdateProgramSettingsPayload {
    pub settings: ProgramSettingsObject,
}

#[derive(InputObject)]
pub struct UpdateSupporterSettingsInput {
    pub supporter_id: ID,
    /// The supporter's own match capacity (1–20).
    pub match_capacity: Option<u32>,
    /// True: the organisation's capacity applies again (cannot be combined with matchCapacity).
    pub use_organisation_capacity: Option<bool>,
    /// Trainers may record module completions and supervise.
    pub is_trainer: Option<bool>,
}

#[derive(SimpleObject)]
pub struct UpdateSupporterSettingsPayload {
    pub supporter: Person,
}
