//! What can be read about training: the curriculum, a supporter's training, the overview, the
//! workload view and the program settings.

use async_graphql::connection::Connection;
use async_graphql::{Context, Object};
use uuid::Uuid;

use super::curriculum::{Course, course_object};
use super::enums::TrainingStage;
use super::overview::{SupporterTrainingSummary, SupporterWorkload, page_of, snapshots};
use crate::api::common::ensure_coordinator;
use crate::api::context::{loaders, state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::pagination::page_request;
use crate::api::people::Person;
use crate::domain::clock::zone_of;
use crate::domain::matching::{self as matching_rules, LimitState as DomainLimitState};
use crate::domain::training as rules;
use crate::store;

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
