//! Support matches in the API: proposing, answering, pausing, resuming and ending them, a
//! supporter's break, the lists each role may see, and ranked suggestions for coordinators. Every
//! change is checked against `domain::matching`, audited, and pushed to the people concerned.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;
use uuid::Uuid;

use super::common::{audit, ensure_coordinator, member_in, parse_id, supporter_in, valid};
use super::context::{loaders, state, viewer};
use super::error::{ApiError, ApiResult, reasons};
use super::pagination::{connection, page_request};
use super::training::{capabilities_in, capacity_of, training_incomplete};
use super::types::Person;
use crate::domain::access::{Relationship, Viewer};
use crate::domain::matching::{
    self as rules, Actor, Candidate, Cap, MatchAction, MatchStatus as DomainStatus, Seeker,
};
use crate::domain::people::{Locale, Role as DomainRole};
use crate::domain::text;
use crate::events::DomainEvent;
use crate::jobs::matches::{concerned, push_match_update, record_expired};
use crate::store;
use crate::store::entities::{people, support_matches};

const REFLECTION_MAX: usize = 4000;
const SUGGESTIONS_MAX: i32 = 50;
const COORDINATORS_ONLY: &str = "only coordinators do this";

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::matching::MatchStatus")]
pub enum MatchStatus {
    /// Waiting for the supporter's answer; expires after the organisation's proposal expiry.
    Proposed,
    Active,
    Paused,
    Declined,
    Expired,
    Ended,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::matching::EndReason")]
pub enum MatchEndReason {
    SupporterUnavailable,
    GoalsReached,
    ParticipantChoice,
    NotAGoodFit,
    SupporterBreak,
    CircumstancesChanged,
    Other,
}

/// A supporter supporting a participant.
pub struct SupportMatch {
    row: support_matches::Model,
    status: DomainStatus,
}

impl SupportMatch {
    fn from_row(row: support_matches::Model) -> ApiResult<Self> {
        let status = DomainStatus::parse(&row.status)?;
        Ok(Self { row, status })
    }
}

#[Object]
impl SupportMatch {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn status(&self) -> MatchStatus {
        self.status.into()
    }

    async fn proposed_at(&self) -> DateTime<Utc> {
        self.row.proposed_at
    }

    /// When an unanswered proposal expires.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.row.expires_at
    }

    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.row.responded_at
    }

    async fn paused_at(&self) -> Option<DateTime<Utc>> {
        self.row.paused_at
    }

    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.row.ended_at
    }

    /// Why it was declined, paused or ended.
    async fn end_reason(&self) -> ApiResult<Option<MatchEndReason>> {
        Ok(self
            .row
            .end_reason
            .as_deref()
            .map(rules::EndReason::parse)
            .transpose()?
            .map(Into::into))
    }

    /// The closing reflection written when the match ended.
    async fn closing_reflection(&self) -> Option<&str> {
        self.row.closing_reflection.as_deref()
    }

    /// The supporter, when the viewer may see them (coordinators; the supporter; the participant
    /// while the match is active).
    async fn supporter(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        self.member(ctx, self.row.supporter_id).await
    }

    /// The participant, when the viewer may see them (coordinators; the participant; the
    /// supporter while the match is active).
    async fn participant(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        self.member(ctx, self.row.participant_id).await
    }
}

impl SupportMatch {
    async fn member(&self, ctx: &Context<'_>, person_id: Uuid) -> ApiResult<Option<Person>> {
        let viewer = viewer(ctx)?;
        let Some(row) = loaders(ctx)?.people.load_one(person_id).await? else {
            return Ok(None);
        };
        let facts = store::people::facts(&row)?;
        let in_this_match = viewer.person_id == self.row.supporter_id
            || viewer.person_id == self.row.participant_id;
        let relationship = Relationship {
            has_active_match: in_this_match && self.status == DomainStatus::Active,
        };
        if viewer.may_see_person(&facts, relationship) {
            Person::from_row(row).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Whether the viewer may see the match at all (the same rule as `store::matches::visible_matches`).
fn may_see_match(viewer: &Viewer, row: &support_matches::Model, status: DomainStatus) -> bool {
    if row.organisation_id != viewer.organisation_id {
        return false;
    }
    match viewer.role {
        DomainRole::Coordinator => true,
        DomainRole::Supporter => row.supporter_id == viewer.person_id,
        DomainRole::Participant => {
            row.participant_id == viewer.person_id
                && matches!(
                    status,
                    DomainStatus::Active | DomainStatus::Paused | DomainStatus::Ended
                )
        }
    }
}

/// A ranked supporter for a participant, with the reasons.
#[derive(SimpleObject)]
pub struct MatchSuggestion {
    supporter: Person,
    /// Higher is a better fit; only the order matters.
    score: u32,
    /// Why, in the viewer's language, e.g. "shares 2 experience tags", "1 of 3 places taken".
    reasons: Vec<String>,
    shared_experience_tags: Vec<String>,
    shared_languages: Vec<String>,
    shared_areas: Vec<String>,
    met_preferences: Vec<String>,
    places_taken: u32,
    match_capacity: u32,
}

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

async fn viewer_locale(ctx: &Context<'_>, viewer: &Viewer) -> ApiResult<Locale> {
    let row = loaders(ctx)?.people.load_one(viewer.person_id).await?;
    Ok(row
        .map(|row| Locale::parse(&row.locale))
        .transpose()?
        .unwrap_or_default())
}

/// What matching compares on the participant's side; their language falls back to the one the
/// app shows them.
async fn seeker_of(db: &impl ConnectionTrait, participant: &people::Model) -> ApiResult<Seeker> {
    let profile = store::profiles::participant_profiles_of(db, &[participant.id])
        .await?
        .into_iter()
        .next();
    let Some(profile) = profile else {
        return Ok(Seeker::default());
    };
    let mut languages = profile.languages.unwrap_or_default().0;
    if languages.is_empty() {
        languages.push(participant.locale.clone());
    }
    Ok(Seeker {
        experience_tags: profile.experience_tags.unwrap_or_default().0,
        languages,
        areas: profile.areas.unwrap_or_default().0,
        preferences: profile.preferences.0,
    })
}

/// Every eligible supporter ranked, in three statements whatever the organisation's size: the
/// eligible profiles (supporters who may be matched, not on a break, not already with the
/// participant), every supporter's load, and the settings.
pub async fn suggestions(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    participant_id: Uuid,
    seeker: &Seeker,
    now: DateTime<Utc>,
) -> ApiResult<Vec<rules::Suggestion<Uuid>>> {
    let profiles =
        store::matches::candidate_profiles(db, organisation_id, participant_id, now).await?;
    let loads = store::matches::load_of(db, None, organisation_id, now).await?;
    let settings = store::program::settings(db, organisation_id).await?;
    let candidates = profiles
        .into_iter()
        .map(|profile| Candidate {
            id: profile.person_id,
            load: loads.get(&profile.person_id).copied().unwrap_or_default(),
            capacity: capacity_of(profile.match_capacity, &settings),
            experience_tags: profile.experience_tags.0,
            languages: profile.languages.0,
            areas: profile.areas.0,
        })
        .collect();
    Ok(rules::rank(seeker, candidates))
}

/// A participant of the viewer's organisation.
async fn participant_in(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<people::Model> {
    member_in(db, viewer, id, DomainRole::Participant, "participantId").await
}

fn capacity_full(cap: Cap, limit: u32) -> ApiError {
    ApiError::refused(
        reasons::CAPACITY_FULL,
        "the supporter has no room for another match",
    )
    .with_detail("cap", cap.as_str().to_uppercase())
    .with_detail("limit", limit)
}

fn on_break() -> ApiError {
    ApiError::refused(
        reasons::SUPPORTER_ON_BREAK,
        "the supporter is on a break: no new matches until they return",
    )
}

fn invalid_transition(from: DomainStatus, action: MatchAction) -> ApiError {
    ApiError::refused(
        reasons::INVALID_TRANSITION,
        format!("a {from} match cannot be {}", past_tense(action)),
    )
    .with_detail("from", from.as_str().to_uppercase())
    .with_detail("action", action.as_str().to_uppercase())
}

fn past_tense(action: MatchAction) -> &'static str {
    match action {
        MatchAction::Accept => "accepted",
        MatchAction::Decline => "declined",
        MatchAction::Expire => "expired",
        MatchAction::Pause => "paused",
        MatchAction::Resume => "resumed",
        MatchAction::End => "ended",
    }
}

/// The supporter has room for one more place (proposal or resumed match), under the row lock.
async fn ensure_room(
    txn: &DatabaseTransaction,
    supporter: &people::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let profile = store::matches::lock_supporter(txn, supporter.id)
        .await?
        .ok_or_else(|| ApiError::bad_input("supporterId", "is not a supporter"))?;
    if profile.on_break_since.is_some() {
        return Err(on_break());
    }
    let settings = store::program::settings(txn, supporter.organisation_id).await?;
    let capacity = capacity_of(profile.match_capacity, &settings);
    let load = store::matches::load_of(txn, Some(&[supporter.id]), supporter.organisation_id, now)
        .await?
        .remove(&supporter.id)
        .unwrap_or_default();
    if !load.has_room(capacity) {
        return Err(capacity_full(Cap::ActiveMatches, capacity));
    }
    Ok(())
}

#[derive(InputObject)]
pub struct ProposeMatchInput {
    pub supporter_id: ID,
    pub participant_id: ID,
}

#[derive(InputObject)]
pub struct AcceptMatchInput {
    pub match_id: ID,
}

#[derive(InputObject)]
pub struct DeclineMatchInput {
    pub match_id: ID,
    pub reason: Option<MatchEndReason>,
}

#[derive(InputObject)]
pub struct PauseMatchInput {
    pub match_id: ID,
    pub reason: Option<MatchEndReason>,
}

#[derive(InputObject)]
pub struct ResumeMatchInput {
    pub match_id: ID,
}

#[derive(InputObject)]
pub struct EndMatchInput {
    pub match_id: ID,
    pub reason: MatchEndReason,
    /// A short closing reflection (abrupt endings hurt participants: say how it closed).
    pub closing_reflection: String,
}

/// Every match mutation returns the match as it now is (`match`).
macro_rules! match_payload {
    ($($name:ident),+) => {$(
        #[derive(SimpleObject)]
        pub struct $name {
            #[graphql(name = "match")]
            pub support_match: SupportMatch,
        }

        impl From<SupportMatch> for $name {
            fn from(support_match: SupportMatch) -> Self {
                Self { support_match }
            }
        }
    )+};
}

match_payload!(
    ProposeMatchPayload,
    AcceptMatchPayload,
    DeclineMatchPayload,
    PauseMatchPayload,
    ResumeMatchPayload,
    EndMatchPayload
);

#[derive(InputObject)]
pub struct TakeBreakInput {
    pub supporter_id: ID,
}

#[derive(SimpleObject)]
pub struct TakeBreakPayload {
    pub supporter: Person,
    /// The matches the break paused.
    pub paused_matches: Vec<SupportMatch>,
}

#[derive(InputObject)]
pub struct ReturnFromBreakInput {
    pub supporter_id: ID,
}

#[derive(SimpleObject)]
pub struct ReturnFromBreakPayload {
    pub supporter: Person,
}

#[derive(Default)]
pub struct MatchMutation;

#[Object]
impl MatchMutation {
    /// Proposes a supporter to a participant. Refused with CAPACITY_FULL when the supporter has no
    /// room, TRAINING_INCOMPLETE without basic training, SUPPORTER_ON_BREAK during a break, and
    /// CONFLICT when the pair already has an open match. Coordinators.
    async fn propose_match(
        &self,
        ctx: &Context<'_>,
        input: ProposeMatchInput,
    ) -> ApiResult<ProposeMatchPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, COORDINATORS_ONLY)?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        let participant_id = parse_id(&input.participant_id, "participantId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        let participant = participant_in(&txn, &viewer, participant_id).await?;
        // The lock comes first: everything after it is decided one proposal at a time.
        ensure_room(&txn, &supporter, now).await?;
        let capabilities = capabilities_in(&txn, &supporter, now).await?;
        if !capabilities.may_be_matched() {
            return Err(training_incomplete(
                "a support match",
                &capabilities.missing_to_be_matched,
            ));
        }
        let expired =
            store::matches::expire_stale_for_pair(&txn, supporter.id, participant.id, now).await?;
        record_expired(&txn, &expired, now).await?;
        if store::matches::open_supporters_of_participant(&txn, participant.id, now)
            .await?
            .contains(&supporter.id)
        {
            return Err(ApiError::Conflict {
                reason: "this supporter and participant already have an open match".into(),
            });
        }
        let settings = store::program::settings(&txn, viewer.organisation_id).await?;
        let row = store::matches::propose(
            &txn,
            store::matches::NewMatch {
                organisation_id: viewer.organisation_id,
                supporter_id: supporter.id,
                participant_id: participant.id,
                proposed_by: viewer.person_id,
                expires_at: now + Duration::days(i64::from(settings.proposal_expiry_days)),
            },
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "match.proposed",
            "support_match",
            row.id,
            now,
            Some(json!({ "supporterId": supporter.id, "participantId": participant.id })),
        )
        .await?;
        let pushed = push_match_update(
            &txn,
            viewer.person_id,
            &row,
            "proposed",
            &concerned(&row, None),
            now,
        )
        .await?;
        txn.commit().await?;
        if pushed {
            state.events.publish(DomainEvent::NotificationsQueued);
        }
        Ok(SupportMatch::from_row(row)?.into())
    }

    /// The supporter accepts a proposal (before it expires). The supporter only.
    async fn accept_match(
        &self,
        ctx: &Context<'_>,
        input: AcceptMatchInput,
    ) -> ApiResult<AcceptMatchPayload> {
        change(ctx, &input.match_id, MatchAction::Accept, None, None)
            .await
            .map(Into::into)
    }

    /// The supporter declines a proposal. The supporter only.
    async fn decline_match(
        &self,
        ctx: &Context<'_>,
        input: DeclineMatchInput,
    ) -> ApiResult<DeclineMatchPayload> {
        change(
            ctx,
            &input.match_id,
            MatchAction::Decline,
            input.reason.map(Into::into),
            None,
        )
        .await
        .map(Into::into)
    }

    /// Pauses an active match. Coordinators.
    async fn pause_match(
        &self,
        ctx: &Context<'_>,
        input: PauseMatchInput,
    ) -> ApiResult<PauseMatchPayload> {
        change(
            ctx,
            &input.match_id,
            MatchAction::Pause,
            input.reason.map(Into::into),
            None,
        )
        .await
        .map(Into::into)
    }

    /// Resumes a paused match, if the supporter has room and is not on a break. Coordinators.
    async fn resume_match(
        &self,
        ctx: &Context<'_>,
        input: ResumeMatchInput,
    ) -> ApiResult<ResumeMatchPayload> {
        change(ctx, &input.match_id, MatchAction::Resume, None, None)
            .await
            .map(Into::into)
    }

    /// Ends an active or paused match, with a reason and a closing reflection. Coordinators.
    async fn end_match(
        &self,
        ctx: &Context<'_>,
        input: EndMatchInput,
    ) -> ApiResult<EndMatchPayload> {
        let reflection = valid(
            "closingReflection",
            text::note(&input.closing_reflection, REFLECTION_MAX, true),
        )?;
        change(
            ctx,
            &input.match_id,
            MatchAction::End,
            Some(input.reason.into()),
            Some(&reflection),
        )
        .await
        .map(Into::into)
    }

    /// The supporter takes a break: no new proposals or outings until they return; their active
    /// matches are paused and the coordinators told. The supporter or a coordinator.
    async fn take_break(
        &self,
        ctx: &Context<'_>,
        input: TakeBreakInput,
    ) -> ApiResult<TakeBreakPayload> {
        let viewer = viewer(ctx)?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        ensure_self_or_coordinator(&viewer, supporter_id)?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        let profile = store::matches::lock_supporter(&txn, supporter.id)
            .await?
            .ok_or_else(|| ApiError::bad_input("supporterId", "is not a supporter"))?;
        if profile.on_break_since.is_some() {
            return Err(ApiError::refused(
                reasons::INVALID_TRANSITION,
                "the supporter is already on a break",
            ));
        }
        store::matches::set_break(&txn, supporter.id, Some(now), now).await?;
        let mut paused = Vec::new();
        let mut pushed = false;
        let coordinators: Vec<Uuid> = store::people::coordinators_of(&txn, viewer.organisation_id)
            .await?
            .iter()
            .map(|person| person.id)
            .collect();
        for active in store::matches::active_of_supporter(&txn, supporter.id).await? {
            let Some(row) = store::matches::apply(
                &txn,
                active.id,
                store::matches::Change {
                    from: DomainStatus::Active,
                    to: DomainStatus::Paused,
                    reason: Some(rules::EndReason::SupporterBreak),
                    closing_reflection: None,
                },
                now,
            )
            .await?
            else {
                continue;
            };
            audit(
                &txn,
                &viewer,
                "match.paused",
                "support_match",
                row.id,
                now,
                Some(json!({ "reason": rules::EndReason::SupporterBreak.as_str() })),
            )
            .await?;
            let mut recipients = concerned(&row, Some(MatchAction::Pause));
            recipients.extend(coordinators.iter().copied());
            pushed |=
                push_match_update(&txn, viewer.person_id, &row, "paused", &recipients, now).await?;
            paused.push(SupportMatch::from_row(row)?);
        }
        audit(
            &txn,
            &viewer,
            "supporter.break_started",
            "person",
            supporter.id,
            now,
            Some(json!({ "pausedMatches": paused.len() })),
        )
        .await?;
        txn.commit().await?;
        if pushed {
            state.events.publish(DomainEvent::NotificationsQueued);
        }
        Ok(TakeBreakPayload {
            supporter: Person::from_row(supporter)?,
            paused_matches: paused,
        })
    }

    /// The supporter is back: proposals and outings are possible again. Paused matches stay paused
    /// until a coordinator resumes them. The supporter or a coordinator.
    async fn return_from_break(
        &self,
        ctx: &Context<'_>,
        input: ReturnFromBreakInput,
    ) -> ApiResult<ReturnFromBreakPayload> {
        let viewer = viewer(ctx)?;
        let supporter_id = parse_id(&input.supporter_id, "supporterId")?;
        ensure_self_or_coordinator(&viewer, supporter_id)?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let supporter = supporter_in(&txn, &viewer, supporter_id, "supporterId").await?;
        let profile = store::matches::lock_supporter(&txn, supporter.id)
            .await?
            .ok_or_else(|| ApiError::bad_input("supporterId", "is not a supporter"))?;
        if profile.on_break_since.is_none() {
            return Err(ApiError::refused(
                reasons::INVALID_TRANSITION,
                "the supporter is not on a break",
            ));
        }
        store::matches::set_break(&txn, supporter.id, None, now).await?;
        audit(
            &txn,
            &viewer,
            "supporter.break_ended",
            "person",
            supporter.id,
            now,
            None,
        )
        .await?;
        txn.commit().await?;
        Ok(ReturnFromBreakPayload {
            supporter: Person::from_row(supporter)?,
        })
    }
}

fn ensure_self_or_coordinator(viewer: &Viewer, supporter_id: Uuid) -> ApiResult<()> {
    if viewer.is_coordinator() || viewer.person_id == supporter_id {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            reason: "only the supporter and coordinators do this",
        })
    }
}

/// One lifecycle step of a match: who may, whether the state allows it, the supporter's room when
/// a match resumes, then a conditional update (a concurrent change loses with INVALID_TRANSITION),
/// the audit entry and the pushes, all in one transaction.
async fn change(
    ctx: &Context<'_>,
    match_id: &ID,
    action: MatchAction,
    reason: Option<rules::EndReason>,
    closing_reflection: Option<&str>,
) -> ApiResult<SupportMatch> {
    let viewer = viewer(ctx)?;
    let match_id = parse_id(match_id, "matchId")?;
    let state = state(ctx)?;
    let now = state.clock.now();
    let txn = store::begin_write(&state.db).await?;
    let row = store::matches::find(&txn, match_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let status = DomainStatus::parse(&row.status)?;
    if !may_see_match(&viewer, &row, status) {
        return Err(ApiError::NotFound);
    }
    let actor = if viewer.is_coordinator() {
        Actor::Coordinator
    } else if viewer.person_id == row.supporter_id {
        Actor::TheSupporter
    } else {
        Actor::Other
    };
    if !rules::may_act(actor, action) {
        return Err(ApiError::Forbidden {
            reason: match action {
                MatchAction::Accept | MatchAction::Decline => {
                    "only the proposed supporter answers a proposal"
                }
                _ => COORDINATORS_ONLY,
            },
        });
    }
    let effective = status.at(row.expires_at, now);
    let to = rules::transition(effective, action)
        .map_err(|refused| invalid_transition(refused.from, refused.action))?;
    let supporter = store::people::find(&txn, row.supporter_id)
        .await?
        .ok_or_else(|| ApiError::internal("match without supporter"))?;
    match action {
        MatchAction::Resume => ensure_room(&txn, &supporter, now).await?,
        MatchAction::Accept => {
            let profile = store::matches::lock_supporter(&txn, supporter.id).await?;
            if profile.is_some_and(|profile| profile.on_break_since.is_some()) {
                return Err(on_break());
            }
        }
        _ => {}
    }
    let changed = store::matches::apply(
        &txn,
        row.id,
        store::matches::Change {
            from: status,
            to,
            reason,
            closing_reflection,
        },
        now,
    )
    .await?
    .ok_or_else(|| invalid_transition(status, action))?;
    let called_off = if action == MatchAction::End {
        super::outings::cancel_for_ended_match(
            &txn,
            &viewer,
            changed.supporter_id,
            changed.participant_id,
            now,
        )
        .await?
    } else {
        Vec::new()
    };
    let event = past_tense(action);
    audit(
        &txn,
        &viewer,
        &format!("match.{event}"),
        "support_match",
        changed.id,
        now,
        reason.map(|reason| json!({ "reason": reason.as_str() })),
    )
    .await?;
    let pushed = push_match_update(
        &txn,
        viewer.person_id,
        &changed,
        event,
        &concerned(&changed, Some(action)),
        now,
    )
    .await?;
    txn.commit().await?;
    for event in called_off {
        state.events.publish(event);
    }
    if pushed {
        state.events.publish(DomainEvent::NotificationsQueued);
    }
    SupportMatch::from_row(changed)
}
