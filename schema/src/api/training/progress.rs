//! A supporter's training: progress per course, certificates, module completions and supervision.

use std::collections::HashMap;

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::capabilities::{SupporterCapabilities, capabilities_loaded};
use super::curriculum::{Course, CourseModule, course_object, id, module_object};
use crate::api::context::{loaders, state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::pagination::page_request;
use crate::api::people::Person;
use crate::domain::access::Viewer;
use crate::domain::people::Role as DomainRole;
use crate::store;
use crate::store::entities::{
    certificates, course_modules, module_completions, people, supervision_sessions,
};
use crate::store::training::Curriculum;

/// A supporter's training: progress per course, certificates, supervision. Shown to the supporter
/// and to coordinators of their organisation.
pub struct SupporterTraining {
    pub(super) supporter: people::Model,
}

impl SupporterTraining {
    /// The supporter's training if the viewer may see it: `None` for people who are not
    /// supporters, FORBIDDEN for viewers other than the supporter and coordinators.
    pub(crate) fn of(viewer: &Viewer, supporter: &people::Model) -> ApiResult<Option<Self>> {
        if supporter.role != DomainRole::Supporter.as_str() {
            return Ok(None);
        }
        if !may_see_training(viewer, supporter) {
            return Err(ApiError::Forbidden {
                reason: "only the supporter and coordinators see training records",
            });
        }
        Ok(Some(Self {
            supporter: supporter.clone(),
        }))
    }
}

pub(crate) fn may_see_training(viewer: &Viewer, supporter: &people::Model) -> bool {
    store::people::facts(supporter).is_ok_and(|facts| viewer.may_read_training(&facts))
}

/// One course as one supporter has done it.
#[derive(SimpleObject)]
pub struct CourseProgress {
    pub(super) course: Course,
    pub(super) modules_completed: i32,
    pub(super) modules_total: i32,
    /// Minutes recorded for the completed modules.
    pub(super) minutes_completed: i32,
    pub(super) minutes_total: i32,
    /// Completed modules as a whole percentage of the course's modules.
    pub(super) percent: i32,
    pub(super) is_complete: bool,
    pub(super) completed_on: Option<NaiveDate>,
    /// Every course this one requires is complete.
    pub(super) course_prerequisites_met: bool,
    /// The first module in order not completed yet.
    pub(super) next_module: Option<CourseModule>,
    /// The next module can be taken now: the course's and the module's prerequisites are done.
    pub(super) next_module_ready: bool,
    /// Modules still to complete before the next module (ids, in any course).
    pub(super) missing_prerequisite_module_ids: Vec<ID>,
}

/// A certificate: every module of a course completed.
#[derive(SimpleObject)]
pub struct Certificate {
    pub(super) id: ID,
    pub(super) course_id: ID,
    pub(super) completed_on: NaiveDate,
    pub(super) issued_at: DateTime<Utc>,
}

impl From<certificates::Model> for Certificate {
    fn from(row: certificates::Model) -> Self {
        Self {
            id: id(row.id),
            course_id: id(row.course_id),
            completed_on: row.completed_on,
            issued_at: row.issued_at,
        }
    }
}

/// A module a supporter completed.
pub struct ModuleCompletion {
    pub(super) row: module_completions::Model,
}

#[Object]
impl ModuleCompletion {
    async fn id(&self) -> ID {
        id(self.row.id)
    }

    async fn module_id(&self) -> ID {
        id(self.row.module_id)
    }

    async fn completed_on(&self) -> NaiveDate {
        self.row.completed_on
    }

    async fn minutes(&self) -> i32 {
        self.row.minutes
    }

    async fn note(&self) -> &str {
        &self.row.note
    }

    async fn recorded_at(&self) -> DateTime<Utc> {
        self.row.recorded_at
    }

    /// Who assessed it: shown to coordinators.
    async fn assessed_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        coordinator_view_of(ctx, self.row.assessed_by).await
    }
}

/// A supervision session (スーパービジョン). Its note is for the supporter and coordinators only.
pub struct SupervisionSession {
    pub(super) row: supervision_sessions::Model,
}

#[Object]
impl SupervisionSession {
    async fn id(&self) -> ID {
        id(self.row.id)
    }

    async fn held_on(&self) -> NaiveDate {
        self.row.held_on
    }

    async fn note(&self) -> &str {
        &self.row.note
    }

    async fn recorded_at(&self) -> DateTime<Utc> {
        self.row.recorded_at
    }

    /// Who supervised: shown to coordinators.
    async fn supervisor(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        coordinator_view_of(ctx, self.row.supervisor_id).await
    }
}

/// A person of the viewer's organisation, for coordinators; `None` for everyone else.
pub(super) async fn coordinator_view_of(
    ctx: &Context<'_>,
    person_id: Uuid,
) -> ApiResult<Option<Person>> {
    let viewer = viewer(ctx)?;
    if !viewer.is_coordinator() {
        return Ok(None);
    }
    match loaders(ctx)?.people.load_one(person_id).await? {
        Some(row) if row.organisation_id == viewer.organisation_id => {
            Person::from_row(row).map(Some)
        }
        _ => Ok(None),
    }
}

#[Object]
impl SupporterTraining {
    async fn capabilities(&self, ctx: &Context<'_>) -> ApiResult<SupporterCapabilities> {
        Ok((&capabilities_loaded(ctx, &self.supporter).await?).into())
    }

    /// Every course of the organisation's curriculum, with this supporter's progress in it.
    async fn courses(&self, ctx: &Context<'_>) -> ApiResult<Vec<CourseProgress>> {
        let loaders = loaders(ctx)?;
        let curriculum = loaders
            .curricula
            .load_one(self.supporter.organisation_id)
            .await?
            .unwrap_or_default();
        let completions = loaders
            .completions
            .load_one(self.supporter.id)
            .await?
            .unwrap_or_default();
        let certificates = loaders
            .certificates
            .load_one(self.supporter.id)
            .await?
            .unwrap_or_default();
        course_progress(&curriculum, &completions, &certificates)
    }

    async fn certificates(&self, ctx: &Context<'_>) -> ApiResult<Vec<Certificate>> {
        let rows = loaders(ctx)?
            .certificates
            .load_one(self.supporter.id)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Certificate::from).collect())
    }

    /// Completed modules, oldest first.
    async fn completions(&self, ctx: &Context<'_>) -> ApiResult<Vec<ModuleCompletion>> {
        let rows = loaders(ctx)?
            .completions
            .load_one(self.supporter.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|row| ModuleCompletion { row })
            .collect())
    }

    async fn last_supervision(&self, ctx: &Context<'_>) -> ApiResult<Option<SupervisionSession>> {
        Ok(loaders(ctx)?
            .last_supervision
            .load_one(self.supporter.id)
            .await?
            .map(|row| SupervisionSession { row }))
    }

    /// Supervision sessions, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn supervision_sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, SupervisionSession>> {
        let request = page_request(first, after.as_deref())?;
        let page =
            store::training::supervision_of(&state(ctx)?.db, self.supporter.id, request).await?;
        crate::api::pagination::connection(
            request,
            page,
            |row| row.id,
            |row| Ok(SupervisionSession { row }),
        )
    }

    /// Set after an alert the supporter was part of turned out to be a real incident, until the
    /// next supervision session.
    async fn needs_supervision_follow_up(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(loaders(ctx)?
            .supporter_profiles
            .load_one(self.supporter.id)
            .await?
            .is_some_and(|profile| profile.supervision_follow_up_since.is_some()))
    }
}

/// Progress per course from the curriculum and the supporter's records.
pub(super) fn course_progress(
    curriculum: &Curriculum,
    completions: &[module_completions::Model],
    certificates: &[certificates::Model],
) -> ApiResult<Vec<CourseProgress>> {
    let done: HashMap<Uuid, &module_completions::Model> = completions
        .iter()
        .map(|completion| (completion.module_id, completion))
        .collect();
    let certified: HashMap<Uuid, NaiveDate> = certificates
        .iter()
        .map(|certificate| (certificate.course_id, certificate.completed_on))
        .collect();
    let mut progress = Vec::with_capacity(curriculum.courses.len());
    for course in &curriculum.courses {
        let modules: Vec<&course_modules::Model> = curriculum.modules_of(course.id).collect();
        let completed: Vec<&&course_modules::Model> = modules
            .iter()
            .filter(|module| done.contains_key(&module.id))
            .collect();
        let total = i32::try_from(modules.len()).unwrap_or(i32::MAX);
        let count = i32::try_from(completed.len()).unwrap_or(i32::MAX);
        let next = modules.iter().find(|module| !done.contains_key(&module.id));
        // The course's own prerequisites are the same for each of its modules.
        let course_prerequisites_met = curriculum
            .course_prerequisites_of(course.id)
            .iter()
            .all(|required| certified.contains_key(required));
        let missing: Vec<Uuid> = next
            .map(|module| {
                curriculum
                    .prerequisites_of(module)
                    .modules_missing(|id| done.contains_key(id))
            })
            .unwrap_or_default();
        progress.push(CourseProgress {
            course: course_object(curriculum, course)?,
            modules_completed: count,
            modules_total: total,
            minutes_completed: completed
                .iter()
                .filter_map(|module| done.get(&module.id))
                .map(|completion| completion.minutes)
                .sum(),
            minutes_total: modules.iter().map(|module| module.duration_minutes).sum(),
            percent: if total == 0 { 0 } else { count * 100 / total },
            is_complete: certified.contains_key(&course.id),
            completed_on: certified.get(&course.id).copied(),
            course_prerequisites_met,
            next_module_ready: next.is_some() && course_prerequisites_met && missing.is_empty(),
            next_module: next
                .map(|module| module_object(curriculum, module))
                .transpose()?,
            missing_prerequisite_module_ids: missing.into_iter().map(id).collect(),
        });
    }
    Ok(progress)
}
