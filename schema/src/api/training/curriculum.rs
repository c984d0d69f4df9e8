//! Courses and their modules as the API shows them, and the organisation's program settings.

use async_graphql::{ID, SimpleObject};
use uuid::Uuid;

use super::enums::{CourseLevel, ModuleFormat};
use crate::api::error::ApiResult;
use crate::domain::matching::ProgramSettings;
use crate::domain::training as rules;
use crate::store::entities::{course_modules, courses};
use crate::store::training::Curriculum;

pub(super) const TITLE_MAX: usize = 200;
pub(super) const NOTE_MAX: usize = 4000;
pub(super) const MODULE_MINUTES_MAX: i32 = 100 * 60;

pub(super) fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

/// A module of a course.
#[derive(SimpleObject, Clone)]
pub struct CourseModule {
    pub(super) id: ID,
    pub(super) course_id: ID,
    /// 1 for the first module of the course.
    pub(super) position: i32,
    pub(super) title_ja: String,
    pub(super) title_en: String,
    pub(super) format: ModuleFormat,
    pub(super) duration_minutes: i32,
    /// Modules to complete before this one.
    pub(super) prerequisite_module_ids: Vec<ID>,
}

/// A course of the organisation's curriculum, with its modules in order.
#[derive(SimpleObject, Clone)]
pub struct Course {
    pub(super) id: ID,
    pub(super) level: CourseLevel,
    pub(super) title_ja: String,
    pub(super) title_en: String,
    /// Courses to complete before this one starts.
    pub(super) prerequisite_course_ids: Vec<ID>,
    pub(super) modules: Vec<CourseModule>,
    /// All modules together.
    pub(super) duration_minutes: i32,
}

pub(super) fn module_object(
    curriculum: &Curriculum,
    row: &course_modules::Model,
) -> ApiResult<CourseModule> {
    Ok(CourseModule {
        id: id(row.id),
        course_id: id(row.course_id),
        position: row.position,
        title_ja: row.title_ja.clone(),
        title_en: row.title_en.clone(),
        format: rules::ModuleFormat::parse(&row.format)?.into(),
        duration_minutes: row.duration_minutes,
        prerequisite_module_ids: curriculum
            .module_prerequisites_of(row.id)
            .into_iter()
            .map(id)
            .collect(),
    })
}

pub(super) fn course_object(curriculum: &Curriculum, row: &courses::Model) -> ApiResult<Course> {
    let modules = curriculum
        .modules_of(row.id)
        .map(|module| module_object(curriculum, module))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Course {
        id: id(row.id),
        level: rules::CourseLevel::parse(&row.level)?.into(),
        title_ja: row.title_ja.clone(),
        title_en: row.title_en.clone(),
        prerequisite_course_ids: curriculum
            .course_prerequisites_of(row.id)
            .into_iter()
            .map(id)
            .collect(),
        duration_minutes: modules.iter().map(|module| module.duration_minutes).sum(),
        modules,
    })
}

/// The program settings of an organisation.
#[derive(SimpleObject, Clone, Copy)]
pub struct ProgramSettingsObject {
    /// Active matches (with proposals waiting for an answer) a supporter may have at once.
    pub(super) match_capacity: u32,
    /// Days after which an unanswered match proposal expires.
    pub(super) proposal_expiry_days: u32,
    /// Months between follow-up trainings.
    pub(super) follow_up_interval_months: u32,
    /// Outings a supporter may accompany per week.
    pub(super) weekly_outing_cap: u32,
    /// Accompanied hours per week.
    pub(super) weekly_hours_cap: u32,
}

impl From<ProgramSettings> for ProgramSettingsObject {
    fn from(settings: ProgramSettings) -> Self {
        Self {
            match_capacity: settings.match_capacity,
            proposal_expiry_days: settings.proposal_expiry_days,
            follow_up_interval_months: settings.follow_up_interval_months,
            weekly_outing_cap: settings.weekly_outing_cap,
            weekly_hours_cap: settings.weekly_hours_cap,
        }
    }
}
