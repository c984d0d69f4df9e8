//! The coordinators' training overview and workload view: every supporter of the organisation, read
//! in a fixed number of statements.

use std::collections::HashMap;

use async_graphql::SimpleObject;
use async_graphql::connection::Connection;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::capabilities::{SupporterCapabilities, capacity_of};
use super::enums::{LimitState, TrainingStage};
use crate::api::error::{ApiError, ApiResult};
use crate::api::pagination::{encode_cursor, page_request};
use crate::api::people::Person;
use crate::domain::clock::today_in;
use crate::domain::matching as matching_rules;
use crate::domain::training::{self as rules, Capabilities};
use crate::store;
use crate::store::entities::people;
use crate::store::training::FactsScope;

/// One supporter in the coordinators' training overview.
#[derive(SimpleObject)]
pub struct SupporterTrainingSummary {
    pub(super) supporter: Person,
    pub(super) capabilities: SupporterCapabilities,
    pub(super) last_supervision_on: Option<NaiveDate>,
    pub(super) needs_supervision_follow_up: bool,
}

/// One supporter in the coordinators' workload view.
#[derive(SimpleObject)]
pub struct SupporterWorkload {
    pub(super) supporter: Person,
    pub(super) stage: TrainingStage,
    pub(super) may_lead_outings: bool,
    pub(super) follow_up_overdue: bool,
    pub(super) active_matches: u32,
    /// Proposals waiting for the supporter's answer (they hold a place).
    pub(super) proposed_matches: u32,
    pub(super) paused_matches: u32,
    /// The supporter's own capacity, or the organisation's.
    pub(super) match_capacity: u32,
    /// How close the supporter is to their match capacity.
    pub(super) match_limit: LimitState,
    pub(super) is_on_break: bool,
    /// Outings accompanied (as lead or trainee, not cancelled) that started in the last 30 days.
    pub(super) outings_last_30_days: u32,
    /// Their planned minutes together.
    pub(super) accompanied_minutes_last_30_days: i64,
    /// Outings planned this week (Monday to Sunday, the organisation's time zone) against the cap.
    pub(super) outings_this_week: u32,
    pub(super) weekly_outing_limit: LimitState,
    /// Planned minutes this week against the weekly hours cap.
    pub(super) accompanied_minutes_this_week: i64,
    pub(super) weekly_hours_limit: LimitState,
    pub(super) last_supervision_on: Option<NaiveDate>,
    pub(super) needs_supervision_follow_up: bool,
    /// A limit is near or reached, follow-up is overdue, or supervision follow-up is needed.
    pub(super) needs_attention: bool,
}

/// Everything the overview and the workload view read, for every supporter of the organisation,
/// in a fixed number of statements.
pub(super) struct SupporterSnapshot {
    pub(super) person: people::Model,
    pub(super) capabilities: Capabilities,
    pub(super) load: matching_rules::MatchLoad,
    pub(super) capacity: u32,
    pub(super) is_on_break: bool,
    pub(super) needs_supervision_follow_up: bool,
}

pub(super) async fn snapshots(
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

/// Pages a filtered in-memory list of supporters (ordered by id, as everywhere).
pub(super) fn page_of<T>(
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
