//! The training mutations: the curriculum, completions and certificates, supervision, program and
//! supporter settings; and who may record them.

use crate::api::common::logged_id;
use std::collections::HashSet;

use async_graphql::{Context, ID, Object};
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

use super::capabilities::capabilities_in;
use super::curriculum::{MODULE_MINUTES_MAX, NOTE_MAX, TITLE_MAX, course_object, module_object};
use super::inputs::{
    AddCourseModuleInput, AddCourseModulePayload, CreateCourseInput, CreateCoursePayload,
    RecordModuleCompletionInput, RecordModuleCompletionPayload, RecordSupervisionInput,
    RecordSupervisionPayload, UpdateProgramSettingsInput, UpdateProgramSettingsPayload,
    UpdateSupporterSettingsInput, UpdateSupporterSettingsPayload,
};
use super::progress::{Certificate, ModuleCompletion, SupervisionSession};
use crate::api::common::{
    audit, audit_with, bounded_date, ensure_coordinator, ensure_list_len, parse_id, supporter_in,
    valid,
};
use crate::api::context::{state, viewer};
use crate::api::error::{ApiError, ApiResult, reasons};
use crate::api::people::Person;
use crate::domain::access::Viewer;
use crate::domain::clock::{today_in, zone_of};
use crate::domain::matching::{self as matching_rules, ProgramSettings};
use crate::domain::people::Role as DomainRole;
use crate::domain::text;
use crate::domain::training::{self as rules, PREREQUISITES_MAX};
use crate::events::DomainEvent;
use crate::notify::{self, Recipient};
use crate::store;
use crate::store::entities::people;
use crate::store::training::Curriculum;

#[derive(Default)]
pub struct TrainingMutation;

#[Object]
impl TrainingMutation {
    /// Adds a course to the organisation's curriculum. Coordinators.
    #[tracing::instrument(name = "createCourse", skip_all)]
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
        audit(&txn, &viewer, now, "course.created", ("course", course.id)).await?;
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
    #[tracing::instrument(name = "addCourseModule", skip_all, fields(course_id = %logged_id(&input.course_id)))]
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
            now,
        )
        .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "course.module_added",
            ("course", course_id),
            json!({ "moduleId": module.id }),
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
    #[tracing::instrument(name = "recordModuleCompletion", skip_all, fields(supporter_id = %logged_id(&input.supporter_id), module_id = %logged_id(&input.module_id), assessed_by_id = %logged_id(&input.assessed_by_id)))]
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
        audit_with(
            &txn,
            &viewer,
            now,
            "training.module_completed",
            ("person", supporter.id),
            json!({ "moduleId": module.id, "completionId": completion.id }),
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
            audit_with(
                &txn,
                &viewer,
                now,
                "training.certificate_issued",
                ("person", supporter.id),
                json!({ "courseId": certificate.course_id, "certificateId": certificate.id }),
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
    #[tracing::instrument(name = "recordSupervision", skip_all, fields(supporter_id = %logged_id(&input.supporter_id), supervisor_id = %logged_id(&input.supervisor_id)))]
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
        audit_with(
            &txn,
            &viewer,
            now,
            "supervision.recorded",
            ("person", supporter.id),
            json!({ "sessionId": session.id }),
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
    #[tracing::instrument(name = "updateProgramSettings", skip_all)]
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
        audit_with(
            &txn,
            &viewer,
            now,
            "program_settings.updated",
            ("organisation", viewer.organisation_id),
            json!({
                "matchCapacity": saved.match_capacity,
                "proposalExpiryDays": saved.proposal_expiry_days,
                "followUpIntervalMonths": saved.follow_up_interval_months,
                "weeklyOutingCap": saved.weekly_outing_cap,
                "weeklyHoursCap": saved.weekly_hours_cap,
            }),
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
    #[tracing::instrument(name = "updateSupporterSettings", skip_all, fields(supporter_id = %logged_id(&input.supporter_id)))]
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
        audit_with(
            &txn,
            &viewer,
            now,
            "supporter_settings.updated",
            ("person", supporter.id),
            json!({ "matchCapacity": match_capacity, "isTrainer": input.is_trainer }),
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateSupporterSettingsPayload {
            supporter: Person::from_row(supporter)?,
        })
    }
}

pub(super) fn parse_ids(ids: Option<&[ID]>, field: &'static str) -> ApiResult<Vec<Uuid>> {
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

pub(super) async fn curriculum_now(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> ApiResult<Curriculum> {
    Ok(store::training::curricula_of(db, &[organisation_id])
        .await?
        .remove(&organisation_id)
        .unwrap_or_default())
}

pub(super) async fn is_trainer(db: &impl ConnectionTrait, person_id: Uuid) -> ApiResult<bool> {
    Ok(store::profiles::supporter_profiles_of(db, &[person_id])
        .await?
        .first()
        .is_some_and(|profile| profile.is_trainer))
}

pub(super) async fn ensure_trainer_or_coordinator(
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
pub(super) fn check_past_date(
    field: &'static str,
    date: NaiveDate,
    today: NaiveDate,
) -> ApiResult<()> {
    bounded_date(field, date)?;
    if date > today {
        return Err(ApiError::bad_input(field, "must not be in the future"));
    }
    Ok(())
}

/// The assessor or supervisor named in an input: a coordinator or trainer of the organisation.
pub(super) async fn ensure_assessor(
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
