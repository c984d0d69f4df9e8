//! Queries over the curriculum (courses, modules, prerequisites), supporters' completions and
//! certificates, supervision sessions, and the training facts the capability rules read.

use crate::domain::clock::id_at;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{
    certificates, course_modules, course_prerequisites, courses, module_completions,
    module_prerequisites, supervision_sessions, supporter_profiles,
};
use super::{Page, PageRequest, fetch_page};
use crate::domain::training::{
    CourseLevel, LevelProgress, ModuleFormat, Prerequisites, TrainingFacts,
};

pub struct NewCourse<'a> {
    pub organisation_id: Uuid,
    pub level: CourseLevel,
    pub title_ja: &'a str,
    pub title_en: &'a str,
    pub prerequisite_course_ids: &'a [Uuid],
}

pub async fn create_course(
    db: &impl ConnectionTrait,
    new: NewCourse<'_>,
    now: DateTime<Utc>,
) -> Result<courses::Model, DbErr> {
    let course = courses::ActiveModel {
        id: Set(id_at(now)),
        organisation_id: Set(new.organisation_id),
        level: Set(new.level.as_str().to_owned()),
        title_ja: Set(new.title_ja.to_owned()),
        title_en: Set(new.title_en.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    if !new.prerequisite_course_ids.is_empty() {
        course_prerequisites::Entity::insert_many(new.prerequisite_course_ids.iter().map(
            |required| course_prerequisites::ActiveModel {
                course_id: Set(course.id),
                required_course_id: Set(*required),
            },
        ))
        .exec(db)
        .await?;
    }
    Ok(course)
}

pub struct NewModule<'a> {
    pub course_id: Uuid,
    pub title_ja: &'a str,
    pub title_en: &'a str,
    pub format: ModuleFormat,
    pub duration_minutes: i32,
    pub prerequisite_module_ids: &'a [Uuid],
}

/// Adds a module at the end of its course. The course row is locked first (PostgreSQL), so two
/// modules added at once take positions one after the other instead of the same one.
pub async fn add_module(
    db: &impl ConnectionTrait,
    new: NewModule<'_>,
    now: DateTime<Utc>,
) -> Result<course_modules::Model, DbErr> {
    courses::Entity::find_by_id(new.course_id)
        .lock_exclusive()
        .one(db)
        .await?;
    let existing = course_modules::Entity::find()
        .filter(course_modules::Column::CourseId.eq(new.course_id))
        .count(db)
        .await?;
    let module = course_modules::ActiveModel {
        id: Set(id_at(now)),
        course_id: Set(new.course_id),
        position: Set(i32::try_from(existing)
            .unwrap_or(i32::MAX)
            .saturating_add(1)),
        title_ja: Set(new.title_ja.to_owned()),
        title_en: Set(new.title_en.to_owned()),
        format: Set(new.format.as_str().to_owned()),
        duration_minutes: Set(new.duration_minutes),
    }
    .insert(db)
    .await?;
    if !new.prerequisite_module_ids.is_empty() {
        module_prerequisites::Entity::insert_many(new.prerequisite_module_ids.iter().map(
            |required| module_prerequisites::ActiveModel {
                module_id: Set(module.id),
                required_module_id: Set(*required),
            },
        ))
        .exec(db)
        .await?;
    }
    Ok(module)
}

/// An organisation's curriculum: courses (oldest first) with their modules (in order) and the
/// prerequisites of both.
#[derive(Clone, Debug, Default)]
pub struct Curriculum {
    pub courses: Vec<courses::Model>,
    pub modules: Vec<course_modules::Model>,
    pub course_prerequisites: Vec<course_prerequisites::Model>,
    pub module_prerequisites: Vec<module_prerequisites::Model>,
}

impl Curriculum {
    pub fn modules_of(&self, course_id: Uuid) -> impl Iterator<Item = &course_modules::Model> {
        self.modules
            .iter()
            .filter(move |module| module.course_id == course_id)
    }

    pub fn course_prerequisites_of(&self, course_id: Uuid) -> Vec<Uuid> {
        self.course_prerequisites
            .iter()
            .filter(|row| row.course_id == course_id)
            .map(|row| row.required_course_id)
            .collect()
    }

    pub fn module_prerequisites_of(&self, module_id: Uuid) -> Vec<Uuid> {
        self.module_prerequisites
            .iter()
            .filter(|row| row.module_id == module_id)
            .map(|row| row.required_module_id)
            .collect()
    }

    /// What must be done before `module` is recorded (`domain::training::Prerequisites`).
    pub fn prerequisites_of(&self, module: &course_modules::Model) -> Prerequisites {
        Prerequisites {
            modules: self.module_prerequisites_of(module.id),
            courses: self
                .course_prerequisites_of(module.course_id)
                .into_iter()
                .map(|course| (course, self.modules_of(course).map(|m| m.id).collect()))
                .collect(),
        }
    }

    pub fn course(&self, id: Uuid) -> Option<&courses::Model> {
        self.courses.iter().find(|course| course.id == id)
    }

    pub fn module(&self, id: Uuid) -> Option<&course_modules::Model> {
        self.modules.iter().find(|module| module.id == id)
    }
}

/// The curricula of several organisations in four statements, whatever their size.
pub async fn curricula_of(
    db: &impl ConnectionTrait,
    organisation_ids: &[Uuid],
) -> Result<HashMap<Uuid, Curriculum>, DbErr> {
    let courses = courses::Entity::find()
        .filter(courses::Column::OrganisationId.is_in(organisation_ids.iter().copied()))
        .order_by_asc(courses::Column::Id)
        .all(db)
        .await?;
    let course_ids: Vec<Uuid> = courses.iter().map(|course| course.id).collect();
    let modules = modules_of(db, &course_ids).await?;
    let module_ids: Vec<Uuid> = modules.iter().map(|module| module.id).collect();
    let course_prerequisites = course_prerequisites_of(db, &course_ids).await?;
    let module_prerequisites = module_prerequisites_of(db, &module_ids).await?;
    let organisation_of: HashMap<Uuid, Uuid> = courses
        .iter()
        .map(|course| (course.id, course.organisation_id))
        .collect();
    let mut curricula: HashMap<Uuid, Curriculum> = organisation_ids
        .iter()
        .map(|id| (*id, Curriculum::default()))
        .collect();
    for module in modules {
        if let Some(curriculum) = organisation_of
            .get(&module.course_id)
            .and_then(|organisation| curricula.get_mut(organisation))
        {
            curriculum.modules.push(module);
        }
    }
    for row in course_prerequisites {
        if let Some(curriculum) = organisation_of
            .get(&row.course_id)
            .and_then(|organisation| curricula.get_mut(organisation))
        {
            curriculum.course_prerequisites.push(row);
        }
    }
    let course_of_module: HashMap<Uuid, Uuid> = curricula
        .values()
        .flat_map(|curriculum| curriculum.modules.iter())
        .map(|module| (module.id, module.course_id))
        .collect();
    for row in module_prerequisites {
        if let Some(curriculum) = course_of_module
            .get(&row.module_id)
            .and_then(|course| organisation_of.get(course))
            .and_then(|organisation| curricula.get_mut(organisation))
        {
            curriculum.module_prerequisites.push(row);
        }
    }
    for course in courses {
        if let Some(curriculum) = curricula.get_mut(&course.organisation_id) {
            curriculum.courses.push(course);
        }
    }
    Ok(curricula)
}

pub async fn find_courses(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<courses::Model>, DbErr> {
    courses::Entity::find()
        .filter(courses::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The modules of the courses, in course and position order.
pub async fn modules_of(
    db: &impl ConnectionTrait,
    course_ids: &[Uuid],
) -> Result<Vec<course_modules::Model>, DbErr> {
    course_modules::Entity::find()
        .filter(course_modules::Column::CourseId.is_in(course_ids.iter().copied()))
        .order_by_asc(course_modules::Column::CourseId)
        .order_by_asc(course_modules::Column::Position)
        .all(db)
        .await
}

pub async fn find_modules(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<course_modules::Model>, DbErr> {
    course_modules::Entity::find()
        .filter(course_modules::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn course_prerequisites_of(
    db: &impl ConnectionTrait,
    course_ids: &[Uuid],
) -> Result<Vec<course_prerequisites::Model>, DbErr> {
    course_prerequisites::Entity::find()
        .filter(course_prerequisites::Column::CourseId.is_in(course_ids.iter().copied()))
        .all(db)
        .await
}

pub async fn module_prerequisites_of(
    db: &impl ConnectionTrait,
    module_ids: &[Uuid],
) -> Result<Vec<module_prerequisites::Model>, DbErr> {
    module_prerequisites::Entity::find()
        .filter(module_prerequisites::Column::ModuleId.is_in(module_ids.iter().copied()))
        .all(db)
        .await
}

pub async fn completions_of(
    db: &impl ConnectionTrait,
    supporter_ids: &[Uuid],
) -> Result<Vec<module_completions::Model>, DbErr> {
    module_completions::Entity::find()
        .filter(module_completions::Column::SupporterId.is_in(supporter_ids.iter().copied()))
        .order_by_asc(module_completions::Column::CompletedOn)
        .order_by_asc(module_completions::Column::Id)
        .all(db)
        .await
}

pub async fn certificates_of(
    db: &impl ConnectionTrait,
    supporter_ids: &[Uuid],
) -> Result<Vec<certificates::Model>, DbErr> {
    certificates::Entity::find()
        .filter(certificates::Column::SupporterId.is_in(supporter_ids.iter().copied()))
        .order_by_asc(certificates::Column::CompletedOn)
        .order_by_asc(certificates::Column::Id)
        .all(db)
        .await
}

pub struct NewCompletion<'a> {
    pub supporter_id: Uuid,
    pub module_id: Uuid,
    pub completed_on: NaiveDate,
    pub minutes: i32,
    pub assessed_by: Uuid,
    pub note: &'a str,
    pub recorded_by: Uuid,
}

/// Records the completion. A second one for the same module is a unique violation (CONFLICT).
pub async fn record_completion(
    db: &impl ConnectionTrait,
    new: NewCompletion<'_>,
    now: DateTime<Utc>,
) -> Result<module_completions::Model, DbErr> {
    module_completions::ActiveModel {
        id: Set(id_at(now)),
        supporter_id: Set(new.supporter_id),
        module_id: Set(new.module_id),
        completed_on: Set(new.completed_on),
        minutes: Set(new.minutes),
        assessed_by: Set(new.assessed_by),
        note: Set(new.note.to_owned()),
        recorded_by: Set(new.recorded_by),
        recorded_at: Set(now),
    }
    .insert(db)
    .await
}

/// Issues the course's certificate when the supporter has now completed every module of it, dated
/// by the last module's completion. `None` when the course is not complete (or was already).
pub async fn issue_certificate_if_complete(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    course_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<certificates::Model>, DbErr> {
    let modules = modules_of(db, &[course_id]).await?;
    let module_ids: Vec<Uuid> = modules.iter().map(|module| module.id).collect();
    let done = module_completions::Entity::find()
        .filter(module_completions::Column::SupporterId.eq(supporter_id))
        .filter(module_completions::Column::ModuleId.is_in(module_ids))
        .all(db)
        .await?;
    if !crate::domain::training::course_complete(modules.len(), done.len()) {
        return Ok(None);
    }
    let already = certificates::Entity::find()
        .filter(certificates::Column::SupporterId.eq(supporter_id))
        .filter(certificates::Column::CourseId.eq(course_id))
        .one(db)
        .await?;
    if already.is_some() {
        return Ok(None);
    }
    let Some(completed_on) = done.iter().map(|completion| completion.completed_on).max() else {
        return Ok(None);
    };
    certificates::ActiveModel {
        id: Set(id_at(now)),
        supporter_id: Set(supporter_id),
        course_id: Set(course_id),
        completed_on: Set(completed_on),
        issued_at: Set(now),
    }
    .insert(db)
    .await
    .map(Some)
}

/// Whose training facts to read.
#[derive(Clone, Copy, Debug)]
pub enum FactsScope<'a> {
    Organisation(Uuid),
    Supporters(&'a [Uuid]),
}

/// The training facts of the supporters in scope, in two aggregate queries: certificates per
/// level, and levels with any completed module. Supporters with nothing done are absent.
pub async fn training_facts(
    db: &impl ConnectionTrait,
    scope: FactsScope<'_>,
) -> Result<HashMap<Uuid, TrainingFacts>, DbErr> {
    let mut certified = Query::select();
    certified
        .expr_as(
            Expr::col((certificates::Entity, certificates::Column::SupporterId)),
            "supporter_id",
        )
        .expr_as(
            Expr::col((courses::Entity, courses::Column::Level)),
            "level",
        )
        .expr_as(
            Func::min(Expr::col((
                certificates::Entity,
                certificates::Column::CompletedOn,
            ))),
            "first_on",
        )
        .expr_as(
            Func::max(Expr::col((
                certificates::Entity,
                certificates::Column::CompletedOn,
            ))),
            "last_on",
        )
        .from(certificates::Entity)
        .inner_join(
            courses::Entity,
            Expr::col((courses::Entity, courses::Column::Id))
                .equals((certificates::Entity, certificates::Column::CourseId)),
        )
        .group_by_col((certificates::Entity, certificates::Column::SupporterId))
        .group_by_col((courses::Entity, courses::Column::Level));
    match scope {
        FactsScope::Organisation(organisation_id) => certified.and_where(
            Expr::col((courses::Entity, courses::Column::OrganisationId)).eq(organisation_id),
        ),
        FactsScope::Supporters(ids) => certified.and_where(
            Expr::col((certificates::Entity, certificates::Column::SupporterId))
                .is_in(ids.iter().copied()),
        ),
    };

    let mut started = Query::select();
    started
        .distinct()
        .expr_as(
            Expr::col((
                module_completions::Entity,
                module_completions::Column::SupporterId,
            )),
            "supporter_id",
        )
        .expr_as(
            Expr::col((courses::Entity, courses::Column::Level)),
            "level",
        )
        .from(module_completions::Entity)
        .inner_join(
            course_modules::Entity,
            Expr::col((course_modules::Entity, course_modules::Column::Id)).equals((
                module_completions::Entity,
                module_completions::Column::ModuleId,
            )),
        )
        .inner_join(
            courses::Entity,
            Expr::col((courses::Entity, courses::Column::Id))
                .equals((course_modules::Entity, course_modules::Column::CourseId)),
        );
    match scope {
        FactsScope::Organisation(organisation_id) => started.and_where(
            Expr::col((courses::Entity, courses::Column::OrganisationId)).eq(organisation_id),
        ),
        FactsScope::Supporters(ids) => started.and_where(
            Expr::col((
                module_completions::Entity,
                module_completions::Column::SupporterId,
            ))
            .is_in(ids.iter().copied()),
        ),
    };

    let mut facts: HashMap<Uuid, TrainingFacts> = HashMap::new();
    for row in db.query_all(&started).await? {
        let supporter: Uuid = row.try_get("", "supporter_id")?;
        let level: String = row.try_get("", "level")?;
        let entry = facts.entry(supporter).or_default();
        match CourseLevel::parse(&level) {
            Ok(CourseLevel::Basic) => entry.basic = LevelProgress::InProgress,
            Ok(CourseLevel::Specialised) => entry.specialised = LevelProgress::InProgress,
            _ => {}
        }
    }
    for row in db.query_all(&certified).await? {
        let supporter: Uuid = row.try_get("", "supporter_id")?;
        let level: String = row.try_get("", "level")?;
        let first_on: NaiveDate = row.try_get("", "first_on")?;
        let last_on: NaiveDate = row.try_get("", "last_on")?;
        let entry = facts.entry(supporter).or_default();
        let later =
            |basis: Option<NaiveDate>| Some(basis.map_or(last_on, |b| Ord::max(b, last_on)));
        match CourseLevel::parse(&level) {
            Ok(CourseLevel::Basic) => entry.basic = LevelProgress::Complete(first_on),
            Ok(CourseLevel::Specialised) => {
                entry.specialised = LevelProgress::Complete(first_on);
                entry.follow_up_basis = later(entry.follow_up_basis);
            }
            Ok(CourseLevel::FollowUp) => entry.follow_up_basis = later(entry.follow_up_basis),
            _ => {}
        }
    }
    Ok(facts)
}

pub struct NewSupervision<'a> {
    pub supporter_id: Uuid,
    pub supervisor_id: Uuid,
    pub held_on: NaiveDate,
    pub note: &'a str,
    pub recorded_by: Uuid,
    /// The follow-up flag is cleared only when it was raised before this time.
    pub answers_flags_before: DateTime<Utc>,
}

/// Logs a supervision session; it also answers a supervision follow-up the supporter was flagged
/// for before `answers_flags_before`.
pub async fn record_supervision(
    db: &impl ConnectionTrait,
    new: NewSupervision<'_>,
    now: DateTime<Utc>,
) -> Result<supervision_sessions::Model, DbErr> {
    let session = supervision_sessions::ActiveModel {
        id: Set(id_at(now)),
        supporter_id: Set(new.supporter_id),
        supervisor_id: Set(new.supervisor_id),
        held_on: Set(new.held_on),
        note: Set(new.note.to_owned()),
        recorded_by: Set(new.recorded_by),
        recorded_at: Set(now),
    }
    .insert(db)
    .await?;
    supporter_profiles::Entity::update_many()
        .col_expr(
            supporter_profiles::Column::SupervisionFollowUpSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(supporter_profiles::Column::PersonId.eq(new.supporter_id))
        .filter(supporter_profiles::Column::SupervisionFollowUpSince.lt(new.answers_flags_before))
        .exec(db)
        .await?;
    Ok(session)
}

/// Flags a supporter for a supervision follow-up (after an alert that was a real incident).
pub async fn flag_for_supervision(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    supporter_profiles::Entity::update_many()
        .col_expr(
            supporter_profiles::Column::SupervisionFollowUpSince,
            Expr::value(now),
        )
        .filter(supporter_profiles::Column::PersonId.eq(supporter_id))
        .filter(supporter_profiles::Column::SupervisionFollowUpSince.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// A supporter's supervision sessions, oldest first, one page at a time.
pub async fn supervision_of(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    page: PageRequest,
) -> Result<Page<supervision_sessions::Model>, DbErr> {
    let select = supervision_sessions::Entity::find()
        .filter(supervision_sessions::Column::SupporterId.eq(supporter_id));
    fetch_page(db, select, supervision_sessions::Column::Id, page).await
}

/// The latest session of each supporter (by date, then by when it was logged).
pub async fn last_supervision_of(
    db: &impl ConnectionTrait,
    supporter_ids: &[Uuid],
) -> Result<HashMap<Uuid, supervision_sessions::Model>, DbErr> {
    let rows = supervision_sessions::Entity::find()
        .filter(supervision_sessions::Column::SupporterId.is_in(supporter_ids.iter().copied()))
        .order_by_asc(supervision_sessions::Column::HeldOn)
        .order_by_asc(supervision_sessions::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.supporter_id, row))
        .collect())
}

/// Supporters of the organisation whose follow-up is counted from a date (a specialised or
/// follow-up certificate), with that date: used to re-plan reminders when the interval changes.
pub async fn follow_up_bases(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<(Uuid, NaiveDate)>, DbErr> {
    let facts = training_facts(db, FactsScope::Organisation(organisation_id)).await?;
    let mut bases: Vec<(Uuid, NaiveDate)> = facts
        .into_iter()
        .filter(|(_, facts)| facts.specialised.is_complete())
        .filter_map(|(id, facts)| facts.follow_up_basis.map(|basis| (id, basis)))
        .collect();
    bases.sort();
    Ok(bases)
}
