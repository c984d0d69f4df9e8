//! What can be read about outings: one outing, my day, the coordinators' list, alerts, emergency
//! numbers and the reminder times.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Duration, NaiveTime, Utc};

use super::checks::visible_outing;
use super::enums::{AlertStatus, OutingStatus};
use super::objects::{Alert, EmergencyNumber, Outing, outing_object, outing_objects};
use crate::api::common::{bounded_instant, bounded_window, ensure_coordinator, parse_id};
use crate::api::context::{state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::pagination::{connection, page_request};
use crate::domain::clock::{self, at_local, today_in, zone_of};
use crate::domain::outings::{self as rules, bounds};
use crate::store;

#[derive(Default)]
pub struct OutingQuery;

#[Object]
impl OutingQuery {
    /// An outing the viewer is part of, or any of their organisation's for coordinators.
    async fn outing(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Outing>> {
        let viewer = viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        let db = &state(ctx)?.db;
        let (row, _) = visible_outing(db, &viewer, id, false).await?;
        outing_object(db, row).await.map(Some)
    }

    /// The viewer's own outings overlapping a time window (default: today in the organisation's
    /// time zone), by planned start, with the other people's names and the check-ins.
    async fn my_day(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> ApiResult<Vec<Outing>> {
        let viewer = viewer(ctx)?;
        let state = state(ctx)?;
        let db = &state.db;
        let (from, to) = match (from, to) {
            // Bounded before any arithmetic (the store looks back from `from`).
            (Some(from), Some(to)) => bounded_window(from, to, bounds::MY_DAY_WINDOW_DAYS)?,
            (None, None) => {
                let organisation = store::organisations::find(db, viewer.organisation_id)
                    .await?
                    .ok_or_else(|| ApiError::internal("organisation vanished"))?;
                let zone = zone_of(&organisation.time_zone);
                let today = today_in(&organisation.time_zone, state.clock.now());
                let start =
                    at_local(today, NaiveTime::MIN, zone).unwrap_or_else(|| state.clock.now());
                (start, start + Duration::days(1))
            }
            _ => {
                return Err(ApiError::bad_input(
                    "to",
                    "give both from and to, or neither",
                ));
            }
        };
        let rows = store::outings::of_person_between(db, viewer.person_id, from, to).await?;
        outing_objects(db, rows).await
    }

    /// The organisation's outings, filtered by time window, status, supporter and participant,
    /// oldest first. Coordinators.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    #[expect(clippy::too_many_arguments)]
    async fn outings(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        status: Option<OutingStatus>,
        supporter_id: Option<ID>,
        participant_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Outing>> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators list the organisation's outings")?;
        let request = page_request(first, after.as_deref())?;
        let (from, to) = match (from, to) {
            (Some(from), Some(to)) => {
                let (from, to) = bounded_window(from, to, clock::WINDOW_DAYS_MAX)?;
                (Some(from), Some(to))
            }
            (from, to) => (
                from.map(|from| bounded_instant("from", from)).transpose()?,
                to.map(|to| bounded_instant("to", to)).transpose()?,
            ),
        };
        let filter = store::outings::OutingFilter {
            from,
            to,
            status: status.map(Into::into),
            supporter_id: supporter_id
                .as_ref()
                .map(|id| parse_id(id, "supporterId"))
                .transpose()?,
            participant_id: participant_id
                .as_ref()
                .map(|id| parse_id(id, "participantId"))
                .transpose()?,
        };
        let db = &state(ctx)?.db;
        let page = store::outings::list(db, viewer.organisation_id, filter, request).await?;
        let objects = outing_objects(db, page.items).await?;
        let page = store::Page {
            items: objects,
            has_next_page: page.has_next_page,
        };
        connection(request, page, |outing| outing.row.id, Ok)
    }

    /// The organisation's alerts, optionally of one status: those that can reach nobody first,
    /// then oldest first. Coordinators.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        status: Option<AlertStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Alert>> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators see alerts")?;
        let request = page_request(first, after.as_deref())?;
        let page = store::outings::list_alerts(
            &state(ctx)?.db,
            viewer.organisation_id,
            status.map(Into::into),
            request,
        )
        .await?;
        connection(request, page, |row| row.id, |row| Ok(Alert { row }))
    }

    /// The emergency numbers the app shows when an SOS goes unanswered (and at any time the person
    /// asks): needs no sign-in, and the app should keep them for when it is offline.
    async fn emergency_numbers(&self) -> Vec<EmergencyNumber> {
        rules::EMERGENCY_NUMBERS
            .iter()
            .map(|(number, ja, en)| EmergencyNumber {
                number: (*number).to_owned(),
                label_ja: (*ja).to_owned(),
                label_en: (*en).to_owned(),
            })
            .collect()
    }

    /// The outing reminders' offsets, in minutes before the start.
    async fn outing_reminder_minutes(&self, ctx: &Context<'_>) -> ApiResult<Vec<u32>> {
        let viewer = viewer(ctx)?;
        Ok(
            store::program::outing_reminder_minutes(&state(ctx)?.db, viewer.organisation_id)
                .await?,
        )
    }
}
