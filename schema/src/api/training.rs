//! Training in the API: the curriculum, each supporter's progress and capabilities, supervision,
//! the coordinators' training overview and workload view, program settings, and the mutations
//! that record them. Capabilities always come from `domain::training::capabilities`.

use std::collections::{HashMap, HashSet};

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

use super::common::{audit, bounded_date, ensure_list_len, parse_id, valid};
use super::common::{ensure_coordinator, supporter_in};
use super::context::{loaders, state, viewer};
use super::error::{ApiError, ApiResult, reasons};
use super::pagination::{encode_cursor, page_request};
use super::types::Person;
use crate::domain::access::Viewer;
use crate::domain::clock::{today_in, zone_of};
use crate::domain::matching::{
    self as matching_rules, LimitState as DomainLimitState, ProgramSettings,
};
use crate::domain::people::Role as DomainRole;
use crate::domain::text;
use crate::domain::training::{self as rules, Capabilities, PREREQUISITES_MAX};
use crate::events::DomainEvent;
use crate::notify::{self, Recipient};
use crate::store;
use crate::store::entities::{
    certificates, course_modules, courses, module_completions, people, supervision_sessions,
};
use crate::store::training::{Curriculum, FactsScope};

const TITLE_MAX: usize = 200;
const NOTE_MAX: usize = 4000;
const MODULE_MINUTES_MAX: i32 = 100 * 60;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::CourseLevel")]
pub enum CourseLevel {
    /// 基礎研修
    Basic,
    /// 専門研修
    Specialised,
    /// フォローアップ研修
    FollowUp,
    /// The organisation's own course.
    Own,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::ModuleFormat")]
pub enum ModuleFormat {
    Lecture,
    RolePlay,
    GroupWork,
    CaseStudy,
    Ethics,
    Practicum,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::Stage")]
pub enum TrainingStage {
    NotStarted,
    BasicInProgress,
    BasicComplete,
    SpecialisedInProgress,
    SpecialisedComplete,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::Missing")]
pub enum MissingTraining {
    BasicCourse,
    SpecialisedCourse,
    FollowUpOverdue,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::matching::LimitState")]
pub enum LimitState {
    Ok,
    Near,
    Reached,
}

fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

/// A module of a course.
#[derive(SimpleObject, Clone)]
pub struct CourseModule {
    id: ID,
    course_id: ID,
    /// 1 for the first module of the course.
    position: i32,
    title_ja: String,
    title_en: String,
    format: ModuleFormat,
    duration_minutes: i32,
    /// Modules to complete before this one.
    prerequisite_module_ids: Vec<ID>,
}

/// A course of the organisation's curriculum, with its modules in order.
#[derive(SimpleObject, Clone)]
pub struct Course {
    id: ID,
    level: CourseLevel,
    title_ja: String,
    title_en: String,
    /// Courses to complete before this one starts.
    prerequisite_course_ids: Vec<ID>,
    modules: Vec<CourseModule>,
    /// All modules together.
    duration_minutes: i32,
}

fn module_object(curriculum: &Curriculum, row: &course_modules::Model) -> ApiResult<CourseModule> {
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

fn course_object(curriculum: &Curriculum, row: &courses::Model) -> ApiResult<Course> {
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

/// What a supporter may do because of their training, and what stands in the way.
#[derive(SimpleObject, Clone)]
pub struct SupporterCapabilities {
    stage: TrainingStage,
    /// Basic training complete.
    may_be_matched: bool,
    /// Basic and specialised training complete, follow-up not overdue.
    may_lead_outings: bool,
    /// Basic training started (in progress or complete).
    may_join_as_trainee: bool,
    missing_to_be_matched: Vec<MissingTraining>,
    missing_to_lead: Vec<MissingTraining>,
    /// When follow-up training falls due; none before specialised training is complete.
    follow_up_due_on: Option<NaiveDate>,
    follow_up_overdue: bool,
}

impl From<&Capabilities> for SupporterCapabilities {
    fn from(caps: &Capabilities) -> Self {
        Self {
            stage: caps.stage.into(),
            may_be_matched: caps.may_be_matched(),
            may_lead_outings: caps.may_lead_outings(),
            may_join_as_trainee: caps.may_join_as_trainee,
            missing_to_be_matched: caps
                .missing_to_be_matched
                .iter()
                .map(|m| (*m).into())
                .collect(),
            missing_to_lead: caps.missing_to_lead.iter().map(|m| (*m).into()).collect(),
            follow_up_due_on: caps.follow_up_due_on,
            follow_up_overdue: caps.follow_up_overdue(),
        }
    }
}

/// The program settings of an organisation.
#[derive(SimpleObject, Clone, Copy)]
pub struct ProgramSettingsObject {
    /// Active matches (with proposals waiting for an answer) a supporter may have at once.
    match_capacity: u32,
    /// Days after which an unanswered match proposal expires.
    proposal_expiry_days: u32,
    /// Months between follow-up trainings.
    follow_up_interval_months: u32,
    /// Outings a supporter may accompany per week.
    weekly_outing_cap: u32,
    /// Accompanied hours per week.
    weekly_hours_cap: u32,
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

/// The supporter's capabilities read inside a transaction (for the rules of a mutation).
pub(crate) async fn capabilities_in(
    db: &impl ConnectionTrait,
    supporter: &people::Model,
    now: DateTime<Utc>,
) -> ApiResult<Capabilities> {
    let facts = store::training::training_facts(db, FactsScope::Supporters(&[supporter.id]))
        .await?
        .remove(&supporter.id)
        .unwrap_or_default();
    let settings = store::program::settings(db, supporter.organisation_id).await?;
    let organisation = store::organisations::find(db, supporter.organisation_id)
        .await?
        .ok_or_else(|| ApiError::internal("person without organisation"))?;
    Ok(rules::capabilities(
        &facts,
        settings.follow_up_interval_months,
        today_in(&organisation.time_zone, now),
    ))
}

/// The supporter's capabilities through the request's loaders (for reading).
pub(crate) async fn capabilities_loaded(
    ctx: &Context<'_>,
    supporter: &people::Model,
) -> ApiResult<Capabilities> {
    let loaders = loaders(ctx)?;
    let facts = loaders
        .training_facts
        .load_one(supporter.id)
        .await?
        .unwrap_or_default();
    let settings = loaders
        .program_settings
        .load_one(supporter.organisation_id)
        .await?
        .unwrap_or_default();
    let organisation = loaders
        .organisations
        .load_one(supporter.organisation_id)
        .await?
        .ok_or_else(|| ApiError::internal("person without organisation"))?;
    let now = state(ctx)?.clock.now();
    Ok(rules::capabilities(
        &facts,
        settings.follow_up_interval_months,
        today_in(&organisation.time_zone, now),
    ))
}

/// The refusal for a supporter whose training does not allow something.
pub(crate) fn training_incomplete(what: &str, missing: &[rules::Missing]) -> ApiError {
    ApiError::refused(
        reasons::TRAINING_INCOMPLETE,
        format!("the supporter's training does not allow {what} yet"),
    )
    .with_detail(
        "missing",
        async_graphql::Value::List(
            missing
                .iter()
                .map(|m| async_graphql::Value::from(m.as_str().to_uppercase()))
                .collect(),
        ),
    )
}

/// A supporter's training: progress per course, certificates, supervision. Shown to the supporter
/// and to coordinators of their organisation.
pub struct SupporterTraining {
    supporter: people::Model,
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
    course: Course,
    modules_completed: i32,
    modules_total: i32,
    /// Minutes recorded for the completed modules.
    minutes_completed: i32,
    minutes_total: i32,
    /// Completed modules as a whole percentage of the course's modules.
    percent: i32,
    is_complete: bool,
    completed_on: Option<NaiveDate>,
    /// Every course this one requires is complete.
    course_prerequisites_met: bool,
    /// The first module in order not completed yet.
    next_module: Option<CourseModule>,
    /// The next module can be taken now: the course's and the module's prerequisites are done.
    next_module_ready: bool,
    /// Modules still to complete before the next module (ids, in any course).
    missing_prerequisite_module_ids: Vec<ID>,
}

/// A certificate: every module of a course completed.
#[derive(SimpleObject)]
pub struct Certificate {
    id: ID,
    course_id: ID,
    completed_on: NaiveDate,
    issued_at: DateTime<Utc>,
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
    row: module_completions::Model,
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
    row: supervision_sessions::Model,
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
async fn coordinator_view_of(ctx: &Context<'_>, person_id: Uuid) -> ApiResult<Option<Person>> {
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
        super::pagination::connection(
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
fn course_progress(
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

/// One supporter in the coordinators' training overview.
#[derive(SimpleObject)]
pub struct SupporterTrainingSummary {
    supporter: Person,
    capabilities: SupporterCapabilities,
    last_supervision_on: Option<NaiveDate>,
    needs_supervision_follow_up: bool,
}

/// One supporter in the coordinators' workload view.
#[derive(SimpleObject)]
pub struct SupporterWorkload {
    supporter: Person,
    stage: TrainingStage,
    may_lead_outings: bool,
    follow_up_overdue: bool,
    active_matches: u32,
    /// Proposals waiting for the supporter's answer (they hold a place).
    proposed_matches: u32,
    paused_matches: u32,
    /// The supporter's own capacity, or the organisation's.
    match_capacity: u32,
    /// How close the supporter is to their match capacity.
    match_limit: LimitState,
    is_on_break: bool,
    /// Outings accompanied (as lead or trainee, not cancelled) that started in the last 30 days.
    outings_last_30_days: u32,
    /// Their planned minutes together.
    accompanied_minutes_last_30_days: i64,
    /// Outings planned this week (Monday to Sunday, the organisation's time zone) against the cap.
    outings_this_week: u32,
    weekly_outing_limit: LimitState,
    /// Planned minutes this week against the weekly hours cap.
    accompanied_minutes_this_week: i64,
    weekly_hours_limit: LimitState,
    last_supervision_on: Option<NaiveDate>,
    needs_supervision_follow_up: bool,
    /// A limit is near or reached, follow-up is overdue, or supervision follow-up is needed.
    needs_attention: bool,
}

/// Everything the overview and the workload view read, for every supporter of the organisation,
/// in a fixed number of statements.
struct SupporterSnapshot {
    person: people::Model,
    capabilities: Capabilities,
    load: matching_rules::MatchLoad,
    capacity: u32,
    is_on_break: bool,
    needs_supervision_follow_up: bool,
}

async fn snapshots(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<SupporterSnapshot>> {
    let supporters = store::people::supporters_of(db, organisation_id).await?;
    let profiles: HashMap<Uuid, _> = store::matches::supporter_profiles_in(db, organisation_id)
        .await?
        .into_iter()
        .map(|profile| (profile.person_id, profile))
        .collect();
    let facts =
        store::training::training_facts(db, FactsScope::Organisation(organisation_id)).await?;
    let loads = store::matches::load_of(db, None, organisation_id, now).await?;
    let settings = store::program::settings(db, organisation_id).await?;
    let organisation = store::organisations::find(db, organisation_id)
        .await?
        .ok_or_else(|| ApiError::internal("organisation vanished"))?;
    let today = today_in(&organisation.time_zone, now);
    Ok(supporters
        .into_iter()
        .map(|person| {
            let profile = profiles.get(&person.id);
            SupporterSnapshot {
                capabilities: rules::capabilities(
                    &facts.get(&person.id).copied().unwrap_or_default(),
                    settings.follow_up_interval_months,
                    today,
                ),
                load: loads.get(&person.id).copied().unwrap_or_default(),
                capacity: capacity_of(profile.and_then(|p| p.match_capacity), &settings),
                is_on_break: profile.is_some_and(|p| p.on_break_since.is_some()),
                needs_supervision_follow_up: profile
                    .is_some_and(|p| p.supervision_follow_up_since.is_some()),
                person,
            }
        })
        .collect())
}

/// The supporter's match capacity: their own, or the organisation's.
pub(crate) fn capacity_of(own: Option<i32>, settings: &ProgramSettings) -> u32 {
    own.and_then(|value| u32::try_from(value).ok())
        .unwrap_or(settings.match_capacity)
}

/// Pages a filtered in-memory list of supporters (ordered by id, as everywhere).
fn page_of<T>(
    items: Vec<(Uuid, T)>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, T>>
where
    T: async_graphql::OutputType,
{
    let request = page_request(first, after.as_deref())?;
    let start = items
        .iter()
        .position(|(id, _)| request.after.is_none_or(|after| *id > after))
        .unwrap_or(items.len());
    let first = usize::try_from(request.first).unwrap_or(usize::MAX);
    let has_next = items.len() > start.saturating_add(first);
    let mut connection = Connection::new(request.after.is_some(), has_next);
    for (id, item) in items.into_iter().skip(start).take(first) {
        connection.edges.push(async_graphql::connection::Edge::new(
            encode_cursor(id),
            item,
        ));
    }
    Ok(connection)
}

#[derive(Default)]
pub struct TrainingQuery;

#[Object]
impl TrainingQuery {
    /// The organisation's curriculum: courses (oldest first) with their modules in order.
    async fn courses(&self, ctx: &Context<'_>) -> ApiResult<Vec<Course>> {
        let viewer = viewer(ctx)?;
        let curriculum = loaders(ctx)?
            .curricula
            .load_one(viewer.organisation_id)
            .await?
            .unwrap_or_default();
        curriculum
            .courses
            .iter()
            .map(|course| course_object(&curriculum, course))
            .collect()
    }

    /// Who is at which stage and who is overdue, per supporter of the organisation. Coordinators.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn training_overview(
        &self,
        ctx: &Context<'_>,
        stage: Option<TrainingStage>,
        follow_up_overdue: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, SupporterTrainingSummary>> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators see the training overview")?;
        page_request(first, after.as_deref())?;
        let state = state(ctx)?;
        let snapshots = snapshots(&state.db, viewer.organisation_id, state.clock.now()).await?;
        let ids: Vec<Uuid> = snapshots.iter().map(|s| s.person.id).collect();
        let last = store::training::last_supervision_of(&state.db, &ids).await?;
        let stage = stage.map(rules::Stage::from);
        let mut items = Vec::new();
        for snapshot in snapshots {
            if stage.is_some_and(|stage| snapshot.capabilities.stage != stage)
                || follow_up_overdue
                    .is_some_and(|overdue| snapshot.capabilities.follow_up_overdue() != overdue)
            {
                continue;
            }
            items.push((
                snapshot.person.id,
                SupporterTrainingSummary {
                    capabilities: (&snapshot.capabilities).into(),
                    last_supervision_on: last.get(&snapshot.person.id).map(|s| s.held_on),
                    needs_supervision_follow_up: snapshot.needs_supervision_follow_up,
                    supporter: Person::from_row(snapshot.person)?,
                },
            ));
        }
        page_of(items, first, after)
    }

    /// Per supporter: matches against capacity, break, training stage, last supervision, and
    /// whether anything needs attention. Coordinators.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn workload(
        &self,
        ctx: &Context<'_>,
        needs_attention: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, SupporterWorkload>> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators see the workload view")?;
        page_request(first, after.as_deref())?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let snapshots = snapshots(&state.db, viewer.organisation_id, now).await?;
        let ids: Vec<Uuid> = snapshots.iter().map(|s| s.person.id).collect();
        let last = store::training::last_supervision_of(&state.db, &ids).await?;
        let month = store::outings::supporter_totals_between(
            &state.db,
            viewer.organisation_id,
            now - chrono::Duration::days(30),
            now,
        )
        .await?;
        let organisation = store::organisations::find(&state.db, viewer.organisation_id)
            .await?
            .ok_or_else(|| ApiError::internal("organisation vanished"))?;
        let (week_start, week_end) =
            crate::domain::clock::week_of(now, zone_of(&organisation.time_zone));
        let week = store::outings::supporter_totals_between(
            &state.db,
            viewer.organisation_id,
            week_start,
            week_end,
        )
        .await?;
        let settings = store::program::settings(&state.db, viewer.organisation_id).await?;
        let mut items = Vec::new();
        for snapshot in snapshots {
            let match_limit =
                matching_rules::limit_state(snapshot.load.places_taken(), snapshot.capacity);
            let (month_outings, month_minutes) =
                month.get(&snapshot.person.id).copied().unwrap_or_default();
            let (week_outings, week_minutes) =
                week.get(&snapshot.person.id).copied().unwrap_or_default();
            let week_load = matching_rules::WeeklyLoad {
                outings: week_outings,
                minutes: week_minutes,
            };
            let weekly_outing_limit = week_load.outings_state(&settings);
            let weekly_hours_limit = week_load.hours_state(&settings);
            let attention = match_limit != DomainLimitState::Ok
                || weekly_outing_limit != DomainLimitState::Ok
                || weekly_hours_limit != DomainLimitState::Ok
                || snapshot.capabilities.follow_up_overdue()
                || snapshot.needs_supervision_follow_up;
            if needs_attention.is_some_and(|wanted| wanted != attention) {
                continue;
            }
            items.push((
                snapshot.person.id,
                SupporterWorkload {
                    stage: snapshot.capabilities.stage.into(),
                    may_lead_outings: snapshot.capabilities.may_lead_outings(),
                    follow_up_overdue: snapshot.capabilities.follow_up_overdue(),
                    active_matches: snapshot.load.active,
                    proposed_matches: snapshot.load.proposed,
                    paused_matches: snapshot.load.paused,
                    match_capacity: snapshot.capacity,
                    match_limit: match_limit.into(),
                    is_on_break: snapshot.is_on_break,
                    outings_last_30_days: month_outings,
                    accompanied_minutes_last_30_days: month_minutes,
                    outings_this_week: week_outings,
                    weekly_outing_limit: weekly_outing_limit.into(),
                    accompanied_minutes_this_week: week_minutes,
                    weekly_hours_limit: weekly_hours_limit.into(),
                    last_supervision_on: last.get(&snapshot.person.id).map(|s| s.held_on),
                    needs_supervision_follow_up: snapshot.needs_supervision_follow_up,
                    needs_attention: attention,
                    supporter: Person::from_row(snapshot.person)?,
                },
            ));
        }
        page_of(items, first, after)
    }
}

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

#[derive(Default)]
pub struct TrainingMutation;

#[Object]
impl TrainingMutation {
    /// Adds a course to the organisation's curriculum. Coordinators.
    async fn create_course(
        &self,
        ctx: &Context<'_>,
        input: CreateCourseInput,
    ) -> ApiResult<CreateCoursePayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators change the curriculum")?;
        let title_ja = valid("titleJa", text::single_line(&input.title_ja, TITLE_MAX))?;
        let title_en = valid("titleEn", text::single_line(&input.title_en, TITLE_MAX))?;
        let prerequisites = parse_ids(
            input.prerequisite_course_ids.as_deref(),
            "prerequisiteCourseIds",
        )?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let found = store::training::find_courses(&txn, &prerequisites).await?;
        if found.len() != prerequisites.len()
            || found
                .iter()
                .any(|course| course.organisation_id != viewer.organisation_id)
        {
            return Err(ApiError::bad_input(
                "prerequisiteCourseIds",
                "must be courses of your organisation",
            ));
        }
        let course = store::training::create_course(
            &txn,
            store::training::NewCourse {
                organisation_id: viewer.organisation_id,
                level: input.level.into(),
                title_ja: &title_ja,
                title_en: &title_en,
                prerequisite_course_ids: &prerequisites,
            },
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "course.created",
            "course",
            course.id,
            now,
            None,
        )
        .await?;
        txn.commit().await?;
        let curriculum = curriculum_now(&state.db, viewer.organisation_id).await?;
        let row = curriculum
            .course(course.id)
            .ok_or_else(|| ApiError::internal("course vanished"))?;
        Ok(CreateCoursePayload {
            course: course_object(&curriculum, row)?,
        })
    }

    /// Adds a module at the end of a course. Coordinators.
    async fn add_course_module(
        &self,
        ctx: &Context<'_>,
        input: AddCourseModuleInput,
    ) -> ApiResult<AddCourseModulePayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators change the curriculum")?;
        let course_id = parse_id(&input.course_id, "courseId")?;
        let title_ja = valid("titleJa", text::single_line(&input.title_ja, TITLE_MAX))?;
        let title_en = valid("titleEn", text::single_line(&input.title_en, TITLE_MAX))?;
        if !(1..=MODULE_MINUTES_MAX).contains(&input.duration_minutes) {
            return Err(ApiError::bad_input(
                "durationMinutes",
                format!("must be between 1 and {MODULE_MINUTES_MAX}"),
            ));
        }
        let prerequisites = parse_ids(
            input.prerequisite_module_ids.as_deref(),
            "prerequisiteModuleIds",
        )?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let curriculum = curriculum_now(&txn, viewer.organisation_id).await?;
        if curriculum.course(course_id).is_none() {
            return Err(ApiError::NotFound);
        }
        if prerequisites
            .iter()
            .any(|required| curriculum.module(*required).is_none())
        {
            return Err(ApiError::bad_input(
                "prerequisiteModuleIds",
                "must be modules of your organisation's curriculum",
            ));
        }
        let module = store::training::add_module(
            &txn,
            store::training::NewModule {
                course_id,
                title_ja: &title_ja,
                title_en: &title_en,
                format: input.format.into(),
                duration_minutes: input.duration_minutes,
                prerequisite_module_ids: &prerequisites,
            },
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "course.module_added",
            "course",
            course_id,
            now,
            Some(json!({ "moduleId": module.id })),
        )
        .await?;
        txn.commit().await?;
        let curriculum = curriculum_now(&state.db, viewer.organisation_id).await?;
        let (Some(course), Some(module)) =
            (curriculum.course(course_id), curriculum.module(module.id))
        else {
            return Err(ApiError::internal("module vanished"));
        };
        Ok(AddCourseModulePayload {
            course: course_object(&curriculum, course)?,
            module: module_object(&curriculum, module)?,
        })
    }

    /// Records that a supporter completed a module; completing a course's last module issues its
    /// certificate (and, for specialised and follow-up courses, moves the follow-up reminders).
    /// Coordinators and trainers (not for themselves).
    async fn record_module_completion(
        &self,
        ctx: &Context<'_>,
        input: RecordModuleCompletionInput,
    ) -> ApiResult<RecordModuleCompletionPayload> {
        let viewer = viewer(ctx)?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        let module_id = parse_id(&input.module_id, "moduleId")?;
        let assessed_by = parse_id(&input.assessed_by_id, "assessedById")?;
        let note = valid(
            "note",
            text::note(input.note.as_deref().unwrap_or(""), NOTE_MAX, false),
        )?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        ensure_trainer_or_coordinator(
            &txn,
            &viewer,
            "only coordinators and trainers record training",
        )
        .await?;
        if viewer.person_id == supporter_id && !viewer.is_coordinator() {
            return Err(ApiError::Forbidden {
                reason: "trainers do not record their own training",
            });
        }
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        // One completion per supporter at a time (PostgreSQL; SQLite's write transaction already
        // is): two trainers recording the last two modules at once would each count only their
        // own and neither would issue the certificate.
        store::matches::lock_supporter(&txn, supporter.id).await?;
        let organisation = store::organisations::find(&txn, viewer.organisation_id)
            .await?
            .ok_or_else(|| ApiError::internal("organisation vanished"))?;
        let today = today_in(&organisation.time_zone, now);
        check_past_date("completedOn", input.completed_on, today)?;
        ensure_assessor(&txn, &viewer, assessed_by, "assessedById").await?;
        let curriculum = curriculum_now(&txn, viewer.organisation_id).await?;
        let module = curriculum
            .module(module_id)
            .ok_or(ApiError::NotFound)?
            .clone();
        let minutes = input.minutes.unwrap_or(module.duration_minutes);
        if !(1..=MODULE_MINUTES_MAX).contains(&minutes) {
            return Err(ApiError::bad_input(
                "minutes",
                format!("must be between 1 and {MODULE_MINUTES_MAX}"),
            ));
        }
        // Prerequisites: the module's own, and the courses its course requires.
        let done: HashSet<Uuid> = store::training::completions_of(&txn, &[supporter.id])
            .await?
            .iter()
            .map(|completion| completion.module_id)
            .collect();
        let certified: HashSet<Uuid> = store::training::certificates_of(&txn, &[supporter.id])
            .await?
            .iter()
            .map(|certificate| certificate.course_id)
            .collect();
        let missing = curriculum
            .prerequisites_of(&module)
            .missing(|id| done.contains(id), |id| certified.contains(id));
        if !missing.is_empty() {
            return Err(ApiError::refused(
                reasons::PREREQUISITES_NOT_MET,
                "the module's prerequisites are not all completed",
            )
            .with_detail(
                "missing",
                async_graphql::Value::List(
                    missing
                        .iter()
                        .map(|m| async_graphql::Value::from(m.to_string()))
                        .collect(),
                ),
            ));
        }
        if done.contains(&module.id) {
            return Err(ApiError::Conflict {
                reason: "this module is already recorded as completed".into(),
            });
        }
        let due_before = capabilities_in(&txn, &supporter, now)
            .await?
            .follow_up_due_on;
        let completion = store::training::record_completion(
            &txn,
            store::training::NewCompletion {
                supporter_id: supporter.id,
                module_id: module.id,
                completed_on: input.completed_on,
                minutes,
                assessed_by,
                note: &note,
                recorded_by: viewer.person_id,
            },
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "training.module_completed",
            "person",
            supporter.id,
            now,
            Some(json!({ "moduleId": module.id, "completionId": completion.id })),
        )
        .await?;
        let certificate = store::training::issue_certificate_if_complete(
            &txn,
            supporter.id,
            module.course_id,
            now,
        )
        .await?;
        let mut reminders_changed = false;
        if let Some(certificate) = &certificate {
            audit(
                &txn,
                &viewer,
                "training.certificate_issued",
                "person",
                supporter.id,
                now,
                Some(json!({ "courseId": certificate.course_id, "certificateId": certificate.id })),
            )
            .await?;
            let due_after = capabilities_in(&txn, &supporter, now)
                .await?
                .follow_up_due_on;
            reminders_changed = notify::plan_follow_up(
                &txn,
                recipient(&supporter),
                due_before,
                due_after,
                zone_of(&organisation.time_zone),
                now,
            )
            .await?;
        }
        txn.commit().await?;
        if reminders_changed {
            state.events.publish(DomainEvent::NotificationsQueued);
        }
        Ok(RecordModuleCompletionPayload {
            completion: ModuleCompletion { row: completion },
            certificate: certificate.map(Certificate::from),
            supporter: Person::from_row(supporter)?,
        })
    }

    /// Logs a supervision session; it answers any supervision follow-up the supporter was flagged
    /// for. Coordinators.
    async fn record_supervision(
        &self,
        ctx: &Context<'_>,
        input: RecordSupervisionInput,
    ) -> ApiResult<RecordSupervisionPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators log supervision")?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        let supervisor_id = parse_id(&input.supervisor_id, "supervisorId")?;
        if supervisor_id == supporter_id {
            return Err(ApiError::bad_input(
                "supervisorId",
                "a supporter is supervised by someone else",
            ));
        }
        let note = valid("note", text::note(&input.note, NOTE_MAX, true))?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        ensure_assessor(&txn, &viewer, supervisor_id, "supervisorId").await?;
        let organisation = store::organisations::find(&txn, viewer.organisation_id)
            .await?
            .ok_or_else(|| ApiError::internal("organisation vanished"))?;
        check_past_date(
            "heldOn",
            input.held_on,
            today_in(&organisation.time_zone, now),
        )?;
        let session = store::training::record_supervision(
            &txn,
            store::training::NewSupervision {
                supporter_id: supporter.id,
                supervisor_id,
                held_on: input.held_on,
                note: &note,
                recorded_by: viewer.person_id,
                // A session answers the incidents before the end of its day, not later ones (a
                // session entered late must not clear a follow-up it never covered).
                answers_flags_before: input
                    .held_on
                    .succ_opt()
                    .and_then(|next_day| {
                        crate::domain::clock::at_local(
                            next_day,
                            chrono::NaiveTime::MIN,
                            zone_of(&organisation.time_zone),
                        )
                    })
                    .unwrap_or(now),
            },
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "supervision.recorded",
            "person",
            supporter.id,
            now,
            Some(json!({ "sessionId": session.id })),
        )
        .await?;
        txn.commit().await?;
        Ok(RecordSupervisionPayload {
            session: SupervisionSession { row: session },
            supporter: Person::from_row(supporter)?,
        })
    }

    /// Changes the organisation's program settings. A new follow-up interval moves every
    /// supporter's follow-up reminders. Coordinators.
    async fn update_program_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateProgramSettingsInput,
    ) -> ApiResult<UpdateProgramSettingsPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators change program settings")?;
        use matching_rules::bounds;
        let checks = [
            (
                "matchCapacity",
                input.match_capacity,
                bounds::MATCH_CAPACITY,
            ),
            (
                "proposalExpiryDays",
                input.proposal_expiry_days,
                bounds::PROPOSAL_EXPIRY_DAYS,
            ),
            (
                "followUpIntervalMonths",
                input.follow_up_interval_months,
                bounds::FOLLOW_UP_INTERVAL_MONTHS,
            ),
            (
                "weeklyOutingCap",
                input.weekly_outing_cap,
                bounds::WEEKLY_OUTING_CAP,
            ),
            (
                "weeklyHoursCap",
                input.weekly_hours_cap,
                bounds::WEEKLY_HOURS_CAP,
            ),
        ];
        for (field, value, range) in checks {
            if let Some(value) = value
                && !range.contains(&value)
            {
                return Err(ApiError::bad_input(
                    field,
                    format!("must be between {} and {}", range.start(), range.end()),
                ));
            }
        }
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let before = store::program::settings(&txn, viewer.organisation_id).await?;
        let after = ProgramSettings {
            match_capacity: input.match_capacity.unwrap_or(before.match_capacity),
            proposal_expiry_days: input
                .proposal_expiry_days
                .unwrap_or(before.proposal_expiry_days),
            follow_up_interval_months: input
                .follow_up_interval_months
                .unwrap_or(before.follow_up_interval_months),
            weekly_outing_cap: input.weekly_outing_cap.unwrap_or(before.weekly_outing_cap),
            weekly_hours_cap: input.weekly_hours_cap.unwrap_or(before.weekly_hours_cap),
        };
        let saved = store::program::save(&txn, viewer.organisation_id, after, now).await?;
        let mut reminders_changed = false;
        if before.follow_up_interval_months != after.follow_up_interval_months {
            let organisation = store::organisations::find(&txn, viewer.organisation_id)
                .await?
                .ok_or_else(|| ApiError::internal("organisation vanished"))?;
            let zone = zone_of(&organisation.time_zone);
            for (supporter_id, basis) in
                store::training::follow_up_bases(&txn, viewer.organisation_id).await?
            {
                reminders_changed |= notify::plan_follow_up(
                    &txn,
                    Recipient {
                        person_id: supporter_id,
                        organisation_id: viewer.organisation_id,
                    },
                    Some(rules::follow_up_due_on(
                        basis,
                        before.follow_up_interval_months,
                    )),
                    Some(rules::follow_up_due_on(
                        basis,
                        after.follow_up_interval_months,
                    )),
                    zone,
                    now,
                )
                .await?;
            }
        }
        audit(
            &txn,
            &viewer,
            "program_settings.updated",
            "organisation",
            viewer.organisation_id,
            now,
            Some(json!({
                "matchCapacity": saved.match_capacity,
                "proposalExpiryDays": saved.proposal_expiry_days,
                "followUpIntervalMonths": saved.follow_up_interval_months,
                "weeklyOutingCap": saved.weekly_outing_cap,
                "weeklyHoursCap": saved.weekly_hours_cap,
            })),
        )
        .await?;
        txn.commit().await?;
        if reminders_changed {
            state.events.publish(DomainEvent::NotificationsQueued);
        }
        Ok(UpdateProgramSettingsPayload {
            settings: saved.into(),
        })
    }

    /// Sets a supporter's own match capacity or trainer role. Coordinators.
    async fn update_supporter_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateSupporterSettingsInput,
    ) -> ApiResult<UpdateSupporterSettingsPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators change supporter settings")?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        let reset = input.use_organisation_capacity.unwrap_or(false);
        let match_capacity = match (input.match_capacity, reset) {
            (Some(_), true) => {
                return Err(ApiError::bad_input(
                    "useOrganisationCapacity",
                    "cannot be combined with matchCapacity",
                ));
            }
            (Some(capacity), false) => {
                let range = matching_rules::bounds::MATCH_CAPACITY;
                if !range.contains(&capacity) {
                    return Err(ApiError::bad_input(
                        "matchCapacity",
                        format!("must be between {} and {}", range.start(), range.end()),
                    ));
                }
                Some(Some(i32::try_from(capacity).unwrap_or(i32::MAX)))
            }
            (None, true) => Some(None),
            (None, false) => None,
        };
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        store::matches::update_supporter_settings(
            &txn,
            supporter.id,
            store::matches::SupporterSettings {
                match_capacity,
                is_trainer: input.is_trainer,
            },
            now,
        )
        .await?
        .ok_or_else(|| ApiError::bad_input("supporterId", "is not a supporter"))?;
        audit(
            &txn,
            &viewer,
            "supporter_settings.updated",
            "person",
            supporter.id,
            now,
            Some(json!({ "matchCapacity": match_capacity, "isTrainer": input.is_trainer })),
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateSupporterSettingsPayload {
            supporter: Person::from_row(supporter)?,
        })
    }
}

fn parse_ids(ids: Option<&[ID]>, field: &'static str) -> ApiResult<Vec<Uuid>> {
    let ids = ids.unwrap_or_default();
    ensure_list_len(field, ids.len(), PREREQUISITES_MAX)?;
    let mut parsed: Vec<Uuid> = Vec::with_capacity(ids.len());
    for value in ids {
        let uuid = parse_id(value, field)?;
        if !parsed.contains(&uuid) {
            parsed.push(uuid);
        }
    }
    Ok(parsed)
}

async fn curriculum_now(db: &impl ConnectionTrait, organisation_id: Uuid) -> ApiResult<Curriculum> {
    Ok(store::training::curricula_of(db, &[organisation_id])
        .await?
        .remove(&organisation_id)
        .unwrap_or_default())
}

async fn is_trainer(db: &impl ConnectionTrait, person_id: Uuid) -> ApiResult<bool> {
    Ok(store::profiles::supporter_profiles_of(db, &[person_id])
        .await?
        .first()
        .is_some_and(|profile| profile.is_trainer))
}

async fn ensure_trainer_or_coordinator(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    reason: &'static str,
) -> ApiResult<()> {
    if viewer.is_coordinator() || is_trainer(db, viewer.person_id).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden { reason })
    }
}

/// Training and supervision happened on a real past day: inside the dates the program handles
/// (from 1990: a mistyped year such as 0026 would make the supporter overdue at once, and
/// PostgreSQL cannot store the oldest dates at all), and not in the future.
fn check_past_date(field: &'static str, date: NaiveDate, today: NaiveDate) -> ApiResult<()> {
    bounded_date(field, date)?;
    if date > today {
        return Err(ApiError::bad_input(field, "must not be in the future"));
    }
    Ok(())
}

/// The assessor or supervisor named in an input: a coordinator or trainer of the organisation.
async fn ensure_assessor(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    field: &'static str,
) -> ApiResult<()> {
    let person = store::people::find(db, id)
        .await?
        .filter(|person| person.organisation_id == viewer.organisation_id)
        .ok_or_else(|| ApiError::bad_input(field, "must be a person of your organisation"))?;
    let allowed = person.role == DomainRole::Coordinator.as_str()
        || (person.role == DomainRole::Supporter.as_str() && is_trainer(db, person.id).await?);
    if allowed {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            field,
            "must be a coordinator or trainer",
        ))
    }
}

pub(crate) fn recipient(person: &people::Model) -> Recipient {
    Recipient {
        person_id: person.id,
        organisation_id: person.organisation_id,
    }
}
