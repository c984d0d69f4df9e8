//! What can be read about matches: one match, the lists each role may see, and ranked suggestions
//! for coordinators.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use super::checks::{COORDINATORS_ONLY, SUGGESTIONS_MAX, participant_in};
use super::objects::{MatchStatus, MatchSuggestion, SupportMatch, may_see_match};
use super::suggestions::{seeker_of, suggestions, viewer_locale};
use crate::api::common::{ensure_coordinator, parse_id};
use crate::api::context::{state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::pagination::{connection, page_request};
use crate::api::people::Person;
use crate::store;

#[derive(Default)]
pub struct MatchQuery;

#[Object]
impl MatchQuery {
    /// A support match the viewer may see; anything else is NOT_FOUND.
    async fn support_match(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<SupportMatch>> {
        let viewer = viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        let row = store::matches::find(&state(ctx)?.db, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let found = SupportMatch::from_row(row)?;
        if !may_see_match(&viewer, &found.row, found.status) {
            return Err(ApiError::NotFound);
        }
        Ok(Some(found))
    }

    /// The matches the viewer may see, oldest first: coordinators their organisation's, supporters
    /// their own, participants their own once accepted.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn support_matches(
        &self,
        ctx: &Context<'_>,
        status: Option<MatchStatus>,
        supporter_id: Option<ID>,
        participant_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, SupportMatch>> {
        let viewer = viewer(ctx)?;
        let request = page_request(first, after.as_deref())?;
        let filter = store::matches::MatchFilter {
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
        let page = store::matches::list_visible(&state(ctx)?.db, &viewer, filter, request).await?;
        connection(request, page, |row| row.id, SupportMatch::from_row)
    }

    /// Supporters of the organisation who may be matched with the participant and have room,
    /// best fit first: shared experience, the participant's preferences, shared language, shared
    /// area, then lighter load. Supporters on a break, without basic training, or already matched
    /// with (or proposed to) the participant are left out. `first`: 1–50, default 10. Coordinators.
    async fn match_suggestions(
        &self,
        ctx: &Context<'_>,
        participant_id: ID,
        first: Option<i32>,
    ) -> ApiResult<Vec<MatchSuggestion>> {
        let first = first.unwrap_or(10);
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, COORDINATORS_ONLY)?;
        if !(1..=SUGGESTIONS_MAX).contains(&first) {
            return Err(ApiError::bad_input(
                "first",
                format!("must be between 1 and {SUGGESTIONS_MAX}"),
            ));
        }
        let participant_id = parse_id(&participant_id, "participantId")?;
        let state = state(ctx)?;
        let db = &state.db;
        let now = state.clock.now();
        let participant = participant_in(db, &viewer, participant_id).await?;
        let seeker = seeker_of(db, &participant).await?;
        let ranked = suggestions(db, viewer.organisation_id, participant.id, &seeker, now).await?;
        let top: Vec<_> = ranked
            .into_iter()
            .take(usize::try_from(first).unwrap_or(10))
            .collect();
        let ids: Vec<Uuid> = top.iter().map(|suggestion| suggestion.id).collect();
        let people = store::people::find_many(db, &ids).await?;
        let locale = viewer_locale(ctx, &viewer).await?;
        let mut result = Vec::with_capacity(top.len());
        for suggestion in top {
            let Some(person) = people.iter().find(|person| person.id == suggestion.id) else {
                continue;
            };
            result.push(MatchSuggestion {
                supporter: Person::from_row(person.clone())?,
                score: suggestion.score,
                reasons: suggestion.reasons(locale),
                shared_experience_tags: suggestion.shared_experience_tags,
                shared_languages: suggestion.shared_languages,
                shared_areas: suggestion.shared_areas,
                met_preferences: suggestion.met_preferences,
                places_taken: suggestion.places_taken,
                match_capacity: suggestion.capacity,
            });
        }
        Ok(result)
    }
}
