//! Outings in the API: planning (and supporters' proposals), the lifecycle, check-ins, extensions,
//! reflections, "my day", the coordinators' list, alerts with acknowledgement and resolution, who
//! is on duty, and reminders. Rules come from `domain::outings` (lifecycle, ladder),
//! `domain::training` (who may lead) and `domain::matching` (weekly caps); alerts are raised by
//! `safety`, which the watchdog shares.

use std::collections::HashMap;

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;
use uuid::Uuid;

use super::common::{
    audit, bounded_instant, bounded_window, ensure_coordinator, ensure_list_len, member_in,
    parse_id, supporter_in, valid,
};
use super::context::{ApiState, loaders, state, viewer};
use super::error::{ApiError, ApiResult, reasons};
use super::pagination::{connection, page_of, page_request};
use super::training::{capabilities_in, training_incomplete};
use crate::domain::access::{MatchRefusal, PairStep, Viewer, match_allows};
use crate::domain::clock::week_of;
use crate::domain::clock::{self, at_local, day_bounds};
use crate::domain::clock::{today_in, zone_of};
use crate::domain::matching::{Cap, WeeklyLoad};
use crate::domain::outings::{
    self as rules, AlertReason as DomainAlertReason, AlertStatus as DomainAlertStatus,
    CheckInKind as DomainCheckInKind, OutingAction, OutingActor, OutingStatus as DomainStatus,
    bounds,
};
use crate::domain::people::Role as DomainRole;
use crate::domain::text;
use crate::events::DomainEvent;
use crate::notify;
use crate::safety;
use crate::store;
use crate::store::entities::{alerts, check_ins, outing_members, outings, people};
use crate::store::outings::member_role;

const PLACE_MAX: usize = 200;
const GOAL_MAX: usize = 500;
const NOTE_MAX: usize = 2000;
const OUTINGS_ONLY_OF_MEMBERS: &str = "only the outing's supporters do this";

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::Purpose")]
pub enum OutingPurpose {
    Shopping,
    CityOffice,
    TransportPractice,
    ClinicVisit,
    CommunityEvent,
    WorkTrial,
    Other,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::OutingStatus")]
pub enum OutingStatus {
    Proposed,
    Planned,
    InProgress,
    Escalated,
    Completed,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::CheckInKind")]
pub enum CheckInKind {
    Ok,
    NeedHelp,
    Separated,
    Sos,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::AlertReason")]
pub enum AlertReason {
    MissedCheckIn,
    NeedHelp,
    Separated,
    Sos,
    Overdue,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::AlertTier")]
pub enum AlertTier {
    OnDuty,
    Everyone,
    Exhausted,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::AlertStatus")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outings::Resolution")]
pub enum AlertResolution {
    FalseAlarm,
    ReachedByPhone,
    MetInPerson,
    EmergencyServicesCalled,
    Other,
}

/// Why an outing was cancelled.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum CancelReason {
    ParticipantUnwell,
    ParticipantChoice,
    SupporterUnavailable,
    Weather,
    Rescheduled,
    Other,
    /// The support match between the outing's supporter and participant ended (set by Tomoni
    /// when a coordinator ends the match; not one a person picks).
    MatchEnded,
}

impl CancelReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::ParticipantUnwell => "participant_unwell",
            Self::ParticipantChoice => "participant_choice",
            Self::SupporterUnavailable => "supporter_unavailable",
            Self::Weather => "weather",
            Self::Rescheduled => "rescheduled",
            Self::Other => "other",
            Self::MatchEnded => "match_ended",
        }
    }

    fn parse(value: &str) -> Self {
        [
            Self::ParticipantUnwell,
            Self::ParticipantChoice,
            Self::SupporterUnavailable,
            Self::Weather,
            Self::Rescheduled,
            Self::MatchEnded,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == value)
        .unwrap_or(Self::Other)
    }
}

/// Someone's part in an outing.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum OutingRole {
    Participant,
    LeadSupporter,
    TraineeSupporter,
    StaffCompanion,
}

fn outing_role(stored: &str) -> OutingRole {
    match stored {
        member_role::PARTICIPANT => OutingRole::Participant,
        member_role::LEAD => OutingRole::LeadSupporter,
        member_role::TRAINEE => OutingRole::TraineeSupporter,
        _ => OutingRole::StaffCompanion,
    }
}

/// Someone on the outing, as the other members see them: a name and a part, nothing more.
#[derive(SimpleObject, Clone)]
pub struct OutingMember {
    person_id: ID,
    display_name: String,
    role: OutingRole,
}

/// A check-in: from whom, how it was going, when it was made.
#[derive(SimpleObject, Clone)]
pub struct CheckIn {
    id: ID,
    person_id: ID,
    kind: CheckInKind,
    /// When the phone made it (an offline check-in arrives later).
    made_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    /// Only when the participant consented to location sharing.
    latitude: Option<f64>,
    longitude: Option<f64>,
    note: String,
}

impl CheckIn {
    fn from_row(row: check_ins::Model) -> ApiResult<Self> {
        Ok(Self {
            id: ID(row.id.to_string()),
            person_id: ID(row.person_id.to_string()),
            kind: DomainCheckInKind::parse(&row.kind)?.into(),
            made_at: row.made_at,
            received_at: row.received_at,
            latitude: row.latitude,
            longitude: row.longitude,
            note: row.note,
        })
    }
}

/// A number to call in an emergency, with what it is for.
#[derive(SimpleObject, Clone)]
pub struct EmergencyNumber {
    number: String,
    label_ja: String,
    label_en: String,
}

/// How far an alert got with one coordinator, furthest first.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum AlertRecipientState {
    /// Pushed; no phone has confirmed it yet.
    Sent,
    /// A push service took it for one of their devices.
    Delivered,
    /// Their app showed it.
    Shown,
    /// They acknowledged it (and own it).
    Acknowledged,
}

/// One coordinator an alert reached.
#[derive(SimpleObject, Clone)]
pub struct AlertRecipient {
    person_id: ID,
    display_name: String,
    state: AlertRecipientState,
    first_notified_at: DateTime<Utc>,
    last_notified_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    shown_at: Option<DateTime<Utc>>,
    /// The e-mail fallback went out to them (nobody confirmed seeing the push in time).
    emailed_at: Option<DateTime<Utc>>,
}

/// A safety alert about an outing.
pub struct Alert {
    row: alerts::Model,
}

#[Object]
impl Alert {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn outing_id(&self) -> ID {
        ID(self.row.outing_id.to_string())
    }

    async fn reason(&self) -> ApiResult<AlertReason> {
        Ok(DomainAlertReason::parse(&self.row.reason)?.into())
    }

    /// Who it reaches now: the coordinators on duty, every coordinator, or (exhausted) every
    /// coordinator again each grace period.
    async fn tier(&self) -> ApiResult<AlertTier> {
        Ok(rules::AlertTier::parse(&self.row.tier)?.into())
    }

    async fn status(&self) -> ApiResult<AlertStatus> {
        Ok(DomainAlertStatus::parse(&self.row.status)?.into())
    }

    async fn raised_at(&self) -> DateTime<Utc> {
        self.row.raised_at
    }

    /// When the watchdog next acts on it: open, it climbs to the next tier (or is pushed again);
    /// acknowledged, its owner is reminded (and later it goes back to the coordinators on duty).
    /// None once a late check-in answered it or it is resolved.
    async fn escalates_at(&self) -> Option<DateTime<Utc>> {
        self.row.escalate_at
    }

    /// The coordinator who acknowledged it and owns it.
    async fn owner_id(&self) -> Option<ID> {
        self.row.owner_id.map(|id| ID(id.to_string()))
    }

    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.row.acknowledged_at
    }

    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.row.resolved_at
    }

    /// When the people on the outing were told to call the emergency numbers themselves: an SOS
    /// nobody acknowledged in time. While it is set and the alert is open, the app shows
    /// `emergencyNumbers` and never leaves them waiting.
    async fn emergency_advised_at(&self) -> Option<DateTime<Utc>> {
        self.row.emergency_advised_at
    }

    /// No coordinator it should reach can be reached (no device that works): somebody must fix
    /// it now. Such alerts come first in `alerts`.
    async fn nobody_reachable(&self) -> bool {
        self.row.unreachable_since.is_some()
    }

    /// Whom it reached and how far each got: sent, delivered to a phone, shown on it, and who
    /// acknowledged it. Coordinators only (empty for anyone else).
    async fn recipients(&self, ctx: &Context<'_>) -> ApiResult<Vec<AlertRecipient>> {
        if !viewer(ctx)?.is_coordinator() {
            return Ok(Vec::new());
        }
        let rows = loaders(ctx)?
            .alert_recipients
            .load_one(self.row.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|(row, display_name)| {
                let acknowledged =
                    self.row.owner_id == Some(row.person_id) && self.row.acknowledged_at.is_some();
                let state = if acknowledged {
                    AlertRecipientState::Acknowledged
                } else if row.shown_at.is_some() {
                    AlertRecipientState::Shown
                } else if row.delivered_at.is_some() {
                    AlertRecipientState::Delivered
                } else {
                    AlertRecipientState::Sent
                };
                AlertRecipient {
                    person_id: ID(row.person_id.to_string()),
                    display_name,
                    state,
                    first_notified_at: row.first_notified_at,
                    last_notified_at: row.last_notified_at,
                    delivered_at: row.delivered_at,
                    shown_at: row.shown_at,
                    emailed_at: row.emailed_at,
                }
            })
            .collect())
    }

    /// When a member's late "OK" answered this missed-check-in alert: it stopped paging, and
    /// stays open until a coordinator resolves it.
    async fn answered_late_at(&self) -> Option<DateTime<Utc>> {
        self.row.answered_late_at
    }

    async fn resolution(&self) -> ApiResult<Option<AlertResolution>> {
        Ok(self
            .row
            .resolution
            .as_deref()
            .map(rules::Resolution::parse)
            .transpose()?
            .map(Into::into))
    }

    /// What the coordinator who resolved it wrote: coordinators only (the outing's members see
    /// the alert, not the incident notes).
    async fn resolution_note(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        Ok(viewer(ctx)?
            .is_coordinator()
            .then_some(self.row.resolution_note.as_deref())
            .flatten())
    }

    /// The participant's crisis plan (what helps, whom to call), by the same rule as
    /// `ParticipantProfile.crisisPlan`: coordinators, the alert's owner while they own it, and the
    /// outing's members until it ends.
    async fn crisis_plan(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let db = &state(ctx)?.db;
        let Some(outing) = store::outings::find(db, self.row.outing_id).await? else {
            return Ok(None);
        };
        let plan = loaders(ctx)?
            .participant_profiles
            .load_one(outing.participant_id)
            .await?
            .and_then(|profile| profile.crisis_plan);
        super::types::crisis_plan_for(ctx, outing.participant_id, plan).await
    }
}

/// An accompanied outing.
pub struct Outing {
    row: outings::Model,
    members: Vec<(outing_members::Model, String)>,
    check_ins: Vec<check_ins::Model>,
    alerts: Vec<alerts::Model>,
}

#[Object]
impl Outing {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn status(&self) -> ApiResult<OutingStatus> {
        Ok(DomainStatus::parse(&self.row.status)?.into())
    }

    async fn purpose(&self) -> ApiResult<OutingPurpose> {
        Ok(rules::Purpose::parse(&self.row.purpose)?.into())
    }

    async fn place(&self) -> &str {
        &self.row.place
    }

    async fn latitude(&self) -> Option<f64> {
        self.row.latitude
    }

    async fn longitude(&self) -> Option<f64> {
        self.row.longitude
    }

    /// A small step goal, e.g. "ride two stops alone".
    async fn step_goal(&self) -> &str {
        &self.row.step_goal
    }

    async fn planned_start(&self) -> DateTime<Utc> {
        self.row.planned_start
    }

    async fn planned_end(&self) -> DateTime<Utc> {
        self.row.planned_end
    }

    async fn check_in_interval_minutes(&self) -> i32 {
        self.row.check_in_interval_minutes
    }

    async fn grace_period_minutes(&self) -> i32 {
        self.row.grace_minutes
    }

    async fn members(&self) -> Vec<OutingMember> {
        self.members
            .iter()
            .map(|(member, name)| OutingMember {
                person_id: ID(member.person_id.to_string()),
                display_name: name.clone(),
                role: outing_role(&member.role),
            })
            .collect()
    }

    async fn participant_id(&self) -> ID {
        ID(self.row.participant_id.to_string())
    }

    async fn lead_supporter_id(&self) -> ID {
        ID(self.row.lead_supporter_id.to_string())
    }

    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.row.started_at
    }

    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.row.ended_at
    }

    /// The next check-in deadline while the outing is under way.
    async fn check_in_due_at(&self) -> Option<DateTime<Utc>> {
        self.row
            .check_in_due_at
            .filter(|_| self.row.watch_at.is_some() || self.row.watch_step.is_some())
    }

    /// Check-ins, newest (by when they were made) first.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn check_ins(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, CheckIn>> {
        let request = page_request(first, after.as_deref())?;
        let newest_first: Vec<&check_ins::Model> = self.check_ins.iter().rev().collect();
        let page = page_of(&newest_first, request, |row| row.id)?;
        connection(
            request,
            page,
            |row| row.id,
            |row| CheckIn::from_row(row.clone()),
        )
    }

    async fn latest_check_in(&self) -> ApiResult<Option<CheckIn>> {
        self.check_ins
            .last()
            .cloned()
            .map(CheckIn::from_row)
            .transpose()
    }

    /// Alerts about this outing, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn alerts(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Alert>> {
        let request = page_request(first, after.as_deref())?;
        let newest_first: Vec<&alerts::Model> = self.alerts.iter().rev().collect();
        let page = page_of(&newest_first, request, |row| row.id)?;
        connection(
            request,
            page,
            |row| row.id,
            |row| Ok(Alert { row: row.clone() }),
        )
    }

    async fn extensions(&self) -> i32 {
        self.row.extensions
    }

    async fn cancel_reason(&self) -> Option<CancelReason> {
        self.row.cancel_reason.as_deref().map(CancelReason::parse)
    }

    /// The participant's self-rating before and after (1–5), set when the outing ends.
    async fn anxiety_before(&self) -> Option<i16> {
        self.row.anxiety_before
    }

    async fn anxiety_after(&self) -> Option<i16> {
        self.row.anxiety_after
    }

    async fn confidence_before(&self) -> Option<i16> {
        self.row.confidence_before
    }

    async fn confidence_after(&self) -> Option<i16> {
        self.row.confidence_after
    }

    async fn supporter_note(&self) -> Option<&str> {
        self.row.supporter_note.as_deref()
    }
}

/// Builds outings with their members, check-ins and alerts in four statements, whatever their
/// number.
async fn outing_objects(
    db: &impl ConnectionTrait,
    rows: Vec<outings::Model>,
) -> ApiResult<Vec<Outing>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let members = store::outings::members_with_names_of(db, &ids).await?;
    let mut check_ins: HashMap<Uuid, Vec<check_ins::Model>> = HashMap::new();
    for row in store::outings::check_ins_of(db, &ids).await? {
        check_ins.entry(row.outing_id).or_default().push(row);
    }
    let mut alerts: HashMap<Uuid, Vec<alerts::Model>> = HashMap::new();
    for row in store::outings::alerts_of_outings(db, &ids).await? {
        alerts.entry(row.outing_id).or_default().push(row);
    }
    let mut by_outing: HashMap<Uuid, Vec<(outing_members::Model, String)>> = HashMap::new();
    for (member, name) in members {
        by_outing
            .entry(member.outing_id)
            .or_default()
            .push((member, name));
    }
    Ok(rows
        .into_iter()
        .map(|row| Outing {
            members: by_outing.remove(&row.id).unwrap_or_default(),
            check_ins: check_ins.remove(&row.id).unwrap_or_default(),
            alerts: alerts.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

async fn outing_object(db: &impl ConnectionTrait, row: outings::Model) -> ApiResult<Outing> {
    outing_objects(db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("outing vanished"))
}

/// How the viewer stands to the outing.
async fn actor_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    outing: &outings::Model,
) -> ApiResult<OutingActor> {
    if outing.organisation_id != viewer.organisation_id {
        return Ok(OutingActor {
            is_coordinator: false,
            is_supporter_of_outing: false,
            is_member: false,
        });
    }
    let members = store::outings::members_of(db, &[outing.id]).await?;
    let mine = members
        .iter()
        .find(|member| member.person_id == viewer.person_id);
    Ok(OutingActor {
        is_coordinator: viewer.is_coordinator(),
        is_supporter_of_outing: mine.is_some_and(|member| {
            member.role == member_role::LEAD || member.role == member_role::TRAINEE
        }),
        is_member: mine.is_some(),
    })
}

/// The outing if the viewer may see it (coordinators of its organisation, its members), locked
/// when `lock` (for a change); NOT_FOUND otherwise.
async fn visible_outing(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    lock: bool,
) -> ApiResult<(outings::Model, OutingActor)> {
    let outing = if lock {
        store::outings::lock(db, id).await?
    } else {
        store::outings::find(db, id).await?
    }
    .ok_or(ApiError::NotFound)?;
    let actor = actor_of(db, viewer, &outing).await?;
    if !(actor.is_coordinator || actor.is_member) {
        return Err(ApiError::NotFound);
    }
    Ok((outing, actor))
}

fn invalid_transition(from: DomainStatus, action: OutingAction) -> ApiError {
    ApiError::refused(
        reasons::INVALID_TRANSITION,
        format!("an outing that is {from} cannot take the step {action}"),
    )
    .with_detail("from", from.as_str().to_uppercase())
    .with_detail("action", action.as_str().to_uppercase())
}

/// Checks that the viewer may take `action` and that the state allows it; returns the new status.
fn step(
    outing: &outings::Model,
    actor: OutingActor,
    action: OutingAction,
) -> ApiResult<DomainStatus> {
    let status = DomainStatus::parse(&outing.status)?;
    if !rules::may_act(actor, action) {
        return Err(ApiError::Forbidden {
            reason: match action {
                OutingAction::Approve => "only coordinators approve outings",
                OutingAction::CheckIn => "only the outing's people check in",
                _ => OUTINGS_ONLY_OF_MEMBERS,
            },
        });
    }
    rules::transition(status, action)
        .map_err(|refused| invalid_transition(refused.from, refused.action))
}

/// The supporter may lead (or join as a trainee), is not on a break, and the outing fits their
/// weekly caps. What stands in their way is told to them and to coordinators; anyone else (the
/// lead replanning an outing with a trainee, say) hears only MEMBER_UNAVAILABLE.
#[expect(clippy::too_many_arguments)]
async fn check_supporter(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    supporter: &people::Model,
    as_lead: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    supporter_fits(txn, supporter, as_lead, start, end, except, now)
        .await
        .map_err(|refusal| told_to(viewer, supporter.id, refusal))
}

/// A refusal about `about` as `viewer` may hear it: whole, or (a domain refusal about somebody
/// else, to a non-coordinator) as MEMBER_UNAVAILABLE with no detail.
fn told_to(viewer: &Viewer, about: Uuid, refusal: ApiError) -> ApiError {
    match refusal {
        ApiError::Refused { .. } if !viewer.may_hear_why_refused(about) => ApiError::refused(
            reasons::MEMBER_UNAVAILABLE,
            "another person on the outing cannot take this; a coordinator can tell why",
        ),
        other => other,
    }
}

/// The pair's support match allows the step (`domain::access::match_allows`).
async fn ensure_match_allows(
    db: &impl ConnectionTrait,
    outing_lead: Uuid,
    participant: Uuid,
    step: PairStep,
) -> ApiResult<()> {
    let standing = store::access::match_standing(db, outing_lead, participant).await?;
    match_allows(standing, step).map_err(|refusal| match refusal {
        MatchRefusal::Ended => ApiError::refused(
            reasons::MATCH_ENDED,
            "the support match between the outing's supporter and participant has ended",
        ),
        MatchRefusal::Paused => ApiError::refused(
            reasons::MATCH_PAUSED,
            "the support match is paused: its outings start once it resumes",
        ),
    })
}

async fn supporter_fits(
    txn: &DatabaseTransaction,
    supporter: &people::Model,
    as_lead: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let capabilities = capabilities_in(txn, supporter, now).await?;
    if as_lead && !capabilities.may_lead_outings() {
        return Err(training_incomplete(
            "leading an outing",
            &capabilities.missing_to_lead,
        ));
    }
    if !as_lead && !capabilities.may_join_as_trainee {
        return Err(training_incomplete(
            "joining an outing",
            &capabilities.missing_to_be_matched,
        ));
    }
    let profile = store::matches::lock_supporter(txn, supporter.id)
        .await?
        .ok_or_else(|| ApiError::bad_input("leadSupporterId", "is not a supporter"))?;
    if profile.on_break_since.is_some() {
        return Err(ApiError::refused(
            reasons::SUPPORTER_ON_BREAK,
            "the supporter is on a break: no outings until they return",
        ));
    }
    let settings = store::program::settings(txn, supporter.organisation_id).await?;
    let organisation = store::organisations::find(txn, supporter.organisation_id)
        .await?
        .ok_or_else(|| ApiError::internal("organisation vanished"))?;
    let (week_start, week_end) = week_of(start, zone_of(&organisation.time_zone));
    let week =
        store::outings::supporter_outings_between(txn, supporter.id, week_start, week_end, except)
            .await?;
    let load = WeeklyLoad {
        outings: u32::try_from(week.len()).unwrap_or(u32::MAX),
        minutes: week
            .iter()
            .map(|outing| (outing.planned_end - outing.planned_start).num_minutes())
            .sum(),
    };
    match load
        .with_outing((end - start).num_minutes())
        .refuses(&settings)
    {
        Some(Cap::WeeklyOutings) => Err(cap_full(Cap::WeeklyOutings, settings.weekly_outing_cap)),
        Some(cap) => Err(cap_full(cap, settings.weekly_hours_cap)),
        None => Ok(()),
    }
}

fn cap_full(cap: Cap, limit: u32) -> ApiError {
    ApiError::refused(
        reasons::CAPACITY_FULL,
        "the supporter's weekly limit would be passed",
    )
    .with_detail("cap", cap.as_str().to_uppercase())
    .with_detail("limit", limit)
}

/// A plan's times: bounded dates (checked first: the week, the reminders and the watchdog all
/// compute from them), not in the past, in order, not too long.
fn check_times(start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>) -> ApiResult<()> {
    rules::check_planned_times(start, end, now).map_err(plan_refused)
}

fn check_coordinates(latitude: Option<f64>, longitude: Option<f64>) -> ApiResult<()> {
    rules::check_coordinates(latitude, longitude).map_err(plan_refused)
}

fn plan_refused(refusal: rules::InvalidPlan) -> ApiError {
    ApiError::bad_input(refusal.field, refusal.reason)
}

fn in_range(
    value: i32,
    range: std::ops::RangeInclusive<i32>,
    field: &'static str,
) -> ApiResult<i32> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::bad_input(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        ))
    }
}

#[derive(InputObject)]
pub struct PlanOutingInput {
    pub participant_id: ID,
    /// Must be allowed to lead outings (basic and specialised training, follow-up not overdue).
    /// A supporter proposing an outing leads it themselves.
    pub lead_supporter_id: ID,
    pub trainee_supporter_ids: Option<Vec<ID>>,
    /// A coordinator of the organisation going along (staff + peer supporter + participant).
    pub staff_companion_id: Option<ID>,
    pub purpose: OutingPurpose,
    pub place: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub planned_start: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    /// 5–120, default 30.
    pub check_in_interval_minutes: Option<i32>,
    /// 2–60, default 10.
    pub grace_period_minutes: Option<i32>,
    pub step_goal: Option<String>,
}

#[derive(SimpleObject)]
pub struct PlanOutingPayload {
    pub outing: Outing,
}

#[derive(InputObject)]
pub struct OutingIdInput {
    pub outing_id: ID,
}

#[derive(InputObject)]
pub struct ReplanOutingInput {
    pub outing_id: ID,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub step_goal: Option<String>,
}

#[derive(InputObject)]
pub struct CancelOutingInput {
    pub outing_id: ID,
    pub reason: CancelReason,
}

#[derive(InputObject)]
pub struct CheckInInput {
    pub outing_id: ID,
    pub kind: CheckInKind,
    /// When the check-in was made, for one sent late from a phone that was offline: not in the
    /// future, not before the outing started. Defaults to now.
    pub made_at: Option<DateTime<Utc>>,
    /// Only accepted when the participant consented to location sharing.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub note: Option<String>,
}

#[derive(SimpleObject)]
pub struct CheckInPayload {
    pub check_in: CheckIn,
    pub outing: Outing,
    /// The alert the check-in raised, for need help, separated and SOS.
    pub alert: Option<Alert>,
}

#[derive(InputObject)]
pub struct ExtendOutingInput {
    pub outing_id: ID,
    /// Minutes to add to the planned end (1–180; at most 4 extensions).
    pub minutes: i32,
}

#[derive(InputObject)]
pub struct CompleteOutingInput {
    pub outing_id: ID,
    /// The participant's self-ratings, 1–5.
    pub anxiety_before: i32,
    pub anxiety_after: i32,
    pub confidence_before: i32,
    pub confidence_after: i32,
    pub supporter_note: String,
}

#[derive(SimpleObject)]
pub struct OutingPayload {
    pub outing: Outing,
}

#[derive(InputObject)]
pub struct AcknowledgeAlertsInput {
    /// Several open alerts (of one outing, say) are acknowledged together, or none is.
    pub alert_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct AcknowledgeAlertsPayload {
    pub alerts: Vec<Alert>,
}

#[derive(InputObject)]
pub struct ResolveAlertInput {
    pub alert_id: ID,
    pub resolution: AlertResolution,
    pub note: String,
}

#[derive(SimpleObject)]
pub struct ResolveAlertPayload {
    pub alert: Alert,
}

#[derive(InputObject)]
pub struct SetOnDutyInput {
    /// A coordinator of the organisation.
    pub person_id: ID,
    pub is_on_duty: bool,
}

#[derive(SimpleObject)]
pub struct SetOnDutyPayload {
    pub on_duty_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct UpdateOutingRemindersInput {
    /// Minutes before the start, e.g. [1440, 60]; at most 3, each at most 7 days; empty: none.
    pub minutes_before: Vec<i32>,
}

#[derive(SimpleObject)]
pub struct UpdateOutingRemindersPayload {
    pub minutes_before: Vec<u32>,
}

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

#[derive(Default)]
pub struct OutingMutation;

#[Object]
impl OutingMutation {
    /// Plans an outing (coordinators), or proposes one for a participant the supporter is
    /// actively matched with, led by themselves (a coordinator approves it). Refused with
    /// TRAINING_INCOMPLETE when the lead may not lead (or a trainee may not join), CAPACITY_FULL
    /// past a weekly cap, SUPPORTER_ON_BREAK during a break.
    async fn plan_outing(
        &self,
        ctx: &Context<'_>,
        input: PlanOutingInput,
    ) -> ApiResult<PlanOutingPayload> {
        let viewer = viewer(ctx)?;
        let participant_id = parse_id(&input.participant_id, "participantId")?;
        let lead_id = parse_id(&input.lead_supporter_id, "leadSupporterId")?;
        let trainees = input.trainee_supporter_ids.as_deref().unwrap_or_default();
        ensure_list_len("traineeSupporterIds", trainees.len(), bounds::TRAINEES_MAX)?;
        let mut trainee_ids = Vec::new();
        for id in trainees {
            let id = parse_id(id, "traineeSupporterIds")?;
            if id == lead_id || trainee_ids.contains(&id) {
                return Err(ApiError::bad_input(
                    "traineeSupporterIds",
                    "must be different people, other than the lead",
                ));
            }
            trainee_ids.push(id);
        }
        let staff_id = input
            .staff_companion_id
            .as_ref()
            .map(|id| parse_id(id, "staffCompanionId"))
            .transpose()?;
        let place = valid("place", text::single_line(&input.place, PLACE_MAX))?;
        let step_goal = valid(
            "stepGoal",
            text::note(input.step_goal.as_deref().unwrap_or(""), GOAL_MAX, false),
        )?;
        check_coordinates(input.latitude, input.longitude)?;
        let interval = in_range(
            input
                .check_in_interval_minutes
                .unwrap_or(bounds::DEFAULT_CHECK_IN_INTERVAL_MINUTES),
            bounds::CHECK_IN_INTERVAL_MINUTES,
            "checkInIntervalMinutes",
        )?;
        let grace = in_range(
            input
                .grace_period_minutes
                .unwrap_or(bounds::DEFAULT_GRACE_MINUTES),
            bounds::GRACE_MINUTES,
            "gracePeriodMinutes",
        )?;
        let state = state(ctx)?;
        let now = state.clock.now();
        check_times(input.planned_start, input.planned_end, now)?;
        let status = match viewer.role {
            DomainRole::Coordinator => DomainStatus::Planned,
            DomainRole::Supporter if viewer.person_id == lead_id => {
                // Whom a supporter may train with is the coordinators' call, and checking a named
                // trainee would tell the supporter about another supporter's training and break.
                if !trainee_ids.is_empty() {
                    return Err(ApiError::Forbidden {
                        reason: "trainees are added by coordinators",
                    });
                }
                DomainStatus::Proposed
            }
            DomainRole::Supporter => {
                return Err(ApiError::Forbidden {
                    reason: "a supporter proposes outings they lead themselves",
                });
            }
            DomainRole::Participant => {
                return Err(ApiError::Forbidden {
                    reason: "coordinators and supporters plan outings",
                });
            }
        };
        let txn = store::begin_write(&state.db).await?;
        let participant = member_in(
            &txn,
            &viewer,
            participant_id,
            DomainRole::Participant,
            "participantId",
        )
        .await?;
        if status == DomainStatus::Proposed
            && !store::matches::has_active_match(&txn, viewer.person_id, participant.id).await?
        {
            return Err(ApiError::NotFound);
        }
        // The supporters' profiles are locked one by one in `check_supporter`; taking them in id
        // order first keeps two plans with the same people in swapped roles from deadlocking.
        let mut supporter_ids: Vec<Uuid> = std::iter::once(lead_id)
            .chain(trainee_ids.iter().copied())
            .collect();
        supporter_ids.sort_unstable();
        for id in supporter_ids {
            store::matches::lock_supporter(&txn, id).await?;
        }
        let lead = supporter_in(&txn, &viewer, lead_id, "leadSupporterId").await?;
        ensure_match_allows(&txn, lead.id, participant.id, PairStep::Plan).await?;
        check_supporter(
            &txn,
            &viewer,
            &lead,
            true,
            input.planned_start,
            input.planned_end,
            None,
            now,
        )
        .await?;
        for trainee in &trainee_ids {
            let trainee = supporter_in(&txn, &viewer, *trainee, "traineeSupporterIds").await?;
            check_supporter(
                &txn,
                &viewer,
                &trainee,
                false,
                input.planned_start,
                input.planned_end,
                None,
                now,
            )
            .await?;
        }
        if let Some(staff) = staff_id {
            member_in(
                &txn,
                &viewer,
                staff,
                DomainRole::Coordinator,
                "staffCompanionId",
            )
            .await?;
        }
        let purpose = rules::Purpose::from(input.purpose);
        let outing = store::outings::create(
            &txn,
            store::outings::NewOuting {
                organisation_id: viewer.organisation_id,
                participant_id: participant.id,
                lead_supporter_id: lead.id,
                staff_companion_id: staff_id,
                purpose: purpose.as_str(),
                place: &place,
                latitude: input.latitude,
                longitude: input.longitude,
                step_goal: &step_goal,
                planned_start: input.planned_start,
                planned_end: input.planned_end,
                check_in_interval_minutes: interval,
                grace_minutes: grace,
                status,
                created_by: viewer.person_id,
                approved_by: (status == DomainStatus::Planned).then_some(viewer.person_id),
            }
            .row(Uuid::now_v7(), now),
            &trainee_ids,
        )
        .await?;
        let planned = if status == DomainStatus::Planned {
            notify::plan_outing_reminders(&txn, &outing, now).await?
        } else {
            false
        };
        audit(
            &txn,
            &viewer,
            if status == DomainStatus::Planned {
                "outing.planned"
            } else {
                "outing.proposed"
            },
            "outing",
            outing.id,
            now,
            None,
        )
        .await?;
        let outing = commit_outing(txn, state, outing, planned).await?;
        Ok(PlanOutingPayload { outing })
    }

    /// Approves a supporter's proposed outing. Coordinators.
    async fn approve_outing(
        &self,
        ctx: &Context<'_>,
        input: OutingIdInput,
    ) -> ApiResult<OutingPayload> {
        lifecycle(ctx, &input.outing_id, OutingAction::Approve, |_| Ok(())).await
    }

    /// Starts a planned outing: check-ins are due from now on. A supporter of the outing.
    async fn start_outing(
        &self,
        ctx: &Context<'_>,
        input: OutingIdInput,
    ) -> ApiResult<OutingPayload> {
        lifecycle(ctx, &input.outing_id, OutingAction::Start, |_| Ok(())).await
    }

    /// Cancels a proposed or planned outing; its reminders are withdrawn. Coordinators and the
    /// outing's supporters.
    async fn cancel_outing(
        &self,
        ctx: &Context<'_>,
        input: CancelOutingInput,
    ) -> ApiResult<OutingPayload> {
        let reason = input.reason;
        if reason == CancelReason::MatchEnded {
            return Err(ApiError::bad_input(
                "reason",
                "MATCH_ENDED is set by Tomoni when a match ends",
            ));
        }
        lifecycle(ctx, &input.outing_id, OutingAction::Cancel, move |outing| {
            outing.cancel_reason = Some(reason.as_str().to_owned());
            Ok(())
        })
        .await
    }

    /// Ends an outing with its reflection. A supporter of the outing.
    async fn complete_outing(
        &self,
        ctx: &Context<'_>,
        input: CompleteOutingInput,
    ) -> ApiResult<OutingPayload> {
        let rating = |value: i32, field: &'static str| -> ApiResult<i16> {
            in_range(value, 1..=5, field).map(|value| i16::try_from(value).unwrap_or(1))
        };
        let ratings = [
            rating(input.anxiety_before, "anxietyBefore")?,
            rating(input.anxiety_after, "anxietyAfter")?,
            rating(input.confidence_before, "confidenceBefore")?,
            rating(input.confidence_after, "confidenceAfter")?,
        ];
        let note = valid(
            "supporterNote",
            text::note(&input.supporter_note, NOTE_MAX, false),
        )?;
        lifecycle(
            ctx,
            &input.outing_id,
            OutingAction::Complete,
            move |outing| {
                outing.anxiety_before = Some(ratings[0]);
                outing.anxiety_after = Some(ratings[1]);
                outing.confidence_before = Some(ratings[2]);
                outing.confidence_after = Some(ratings[3]);
                outing.supporter_note = Some(note.clone());
                Ok(())
            },
        )
        .await
    }

    /// Moves the planned end later (an outing that overruns). A supporter of the outing.
    async fn extend_outing(
        &self,
        ctx: &Context<'_>,
        input: ExtendOutingInput,
    ) -> ApiResult<OutingPayload> {
        let minutes = in_range(
            input.minutes,
            1..=i32::try_from(bounds::EXTENSION_MINUTES_MAX).unwrap_or(180),
            "minutes",
        )?;
        lifecycle(ctx, &input.outing_id, OutingAction::Extend, move |outing| {
            if outing.extensions >= bounds::EXTENSIONS_MAX {
                return Err(ApiError::refused(
                    reasons::INVALID_TRANSITION,
                    format!(
                        "an outing is extended at most {} times; end it and plan another",
                        bounds::EXTENSIONS_MAX
                    ),
                ));
            }
            outing.extensions += 1;
            outing.planned_end += Duration::minutes(i64::from(minutes));
            Ok(())
        })
        .await
    }

    /// Changes a proposed or planned outing's time, place or goal; its reminders move with it.
    /// Coordinators and the outing's supporters.
    async fn replan_outing(
        &self,
        ctx: &Context<'_>,
        input: ReplanOutingInput,
    ) -> ApiResult<OutingPayload> {
        let viewer = viewer(ctx)?;
        let outing_id = parse_id(&input.outing_id, "outingId")?;
        let place = input
            .place
            .as_deref()
            .map(|place| valid("place", text::single_line(place, PLACE_MAX)))
            .transpose()?;
        let goal = input
            .step_goal
            .as_deref()
            .map(|goal| valid("stepGoal", text::note(goal, GOAL_MAX, false)))
            .transpose()?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let (mut outing, actor) = visible_outing(&txn, &viewer, outing_id, true).await?;
        // Replanning is allowed where cancelling is: before the outing starts.
        step(&outing, actor, OutingAction::Cancel)?;
        ensure_match_allows(
            &txn,
            outing.lead_supporter_id,
            outing.participant_id,
            PairStep::Replan,
        )
        .await?;
        let start = input.planned_start.unwrap_or(outing.planned_start);
        let end = input.planned_end.unwrap_or(outing.planned_end);
        // New times are checked as a plan's are, for everyone they count against; a change of
        // place or goal alone leaves the times (even a start that has just passed) alone.
        if start != outing.planned_start || end != outing.planned_end {
            check_times(start, end, now)?;
            let mut supporters: Vec<(Uuid, bool)> = store::outings::members_of(&txn, &[outing.id])
                .await?
                .into_iter()
                .filter_map(|member| match member.role.as_str() {
                    member_role::LEAD => Some((member.person_id, true)),
                    member_role::TRAINEE => Some((member.person_id, false)),
                    _ => None,
                })
                .collect();
            supporters.sort_unstable();
            for (supporter_id, as_lead) in supporters {
                let supporter = store::people::find(&txn, supporter_id)
                    .await?
                    .ok_or_else(|| ApiError::internal("outing member without a person"))?;
                check_supporter(
                    &txn,
                    &viewer,
                    &supporter,
                    as_lead,
                    start,
                    end,
                    Some(outing.id),
                    now,
                )
                .await?;
            }
        }
        outing.planned_start = start;
        outing.planned_end = end;
        if let Some(place) = place {
            outing.place = place;
        }
        if let Some(goal) = goal {
            outing.step_goal = goal;
        }
        let outing = store::outings::save_retimed(&txn, outing, now).await?;
        let planned = if DomainStatus::parse(&outing.status)? == DomainStatus::Planned {
            notify::plan_outing_reminders(&txn, &outing, now).await?
        } else {
            false
        };
        audit(
            &txn,
            &viewer,
            "outing.replanned",
            "outing",
            outing.id,
            now,
            None,
        )
        .await?;
        let outing = commit_outing(txn, state, outing, planned).await?;
        Ok(OutingPayload { outing })
    }

    /// A check-in by anyone on the outing: OK, need help, separated or SOS. The newest one moves
    /// the next deadline to its time plus the interval. Need help and separated raise an alert at
    /// once, SOS one at the top tier — or join the alert of the outing already open (one incident,
    /// one alert). A late "OK" answers a missed-check-in alert (its paging stops; it stays for a
    /// coordinator to close) but never any other. An SOS is accepted on an outing under way,
    /// planned for today, or ended within the hour, and never refused for its `madeAt`.
    async fn check_in(&self, ctx: &Context<'_>, input: CheckInInput) -> ApiResult<CheckInPayload> {
        let viewer = viewer(ctx)?;
        let outing_id = parse_id(&input.outing_id, "outingId")?;
        let note = valid(
            "note",
            text::note(input.note.as_deref().unwrap_or(""), NOTE_MAX, false),
        )?;
        check_coordinates(input.latitude, input.longitude)?;
        let kind = DomainCheckInKind::from(input.kind);
        // Bounded before the rule below computes with it. An SOS is never refused for its
        // `madeAt`: one outside the dates the program handles counts as sent now.
        let sent_at = match input.made_at {
            Some(at) if kind == DomainCheckInKind::Sos => clock::bounded_instant(at).ok(),
            Some(at) => Some(bounded_instant("madeAt", at)?),
            None => None,
        };
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let (mut outing, actor) = visible_outing(&txn, &viewer, outing_id, true).await?;
        let status = DomainStatus::parse(&outing.status)?;
        if kind == DomainCheckInKind::Sos && !status.is_under_way() {
            // Never refused while it can matter: on the day, or just after the outing.
            if !rules::may_act(actor, OutingAction::CheckIn) {
                return Err(ApiError::Forbidden {
                    reason: "only the outing's people check in",
                });
            }
            let zone = match store::organisations::find(&txn, outing.organisation_id).await? {
                Some(organisation) => zone_of(&organisation.time_zone),
                None => chrono_tz::Asia::Tokyo,
            };
            let (day_start, day_end) = day_bounds(now, zone);
            let planned_for_today =
                outing.planned_start < day_end && outing.planned_end >= day_start;
            if !rules::sos_counts(status, planned_for_today, outing.ended_at, now) {
                return Err(invalid_transition(status, OutingAction::CheckIn));
            }
        } else {
            step(&outing, actor, OutingAction::CheckIn)?;
        }
        let made_at =
            rules::check_in_made_at(sent_at, kind, outing.started_at, now).ok_or_else(|| {
                ApiError::bad_input(
                    "madeAt",
                    "is too far in the future or before the outing started",
                )
            })?;
        if input.latitude.is_some() {
            let consents = store::profiles::participant_profiles_of(&txn, &[outing.participant_id])
                .await?
                .first()
                .is_some_and(|profile| profile.consents_to_location_sharing);
            if !consents {
                return Err(ApiError::refused(
                    reasons::LOCATION_NOT_CONSENTED,
                    "the participant has not consented to location sharing: send the check-in without a location",
                ));
            }
        }
        let latest = store::outings::latest_check_in_at(&txn, outing.id).await?;
        let check_in = store::outings::add_check_in(
            &txn,
            store::outings::NewCheckIn {
                outing_id: outing.id,
                person_id: viewer.person_id,
                kind: kind.as_str(),
                made_at,
                latitude: input.latitude,
                longitude: input.longitude,
                note: &note,
            },
            now,
        )
        .await?;
        notify::answer_check_in_prompts(&txn, &outing, &check_in, now).await?;
        // The newest check-in sets the next deadline; a late one from before it does not, and
        // neither does it answer an alert.
        let is_newest = latest.is_none_or(|latest| made_at >= latest);
        if is_newest && let Some(watch) = safety::watch_of(&outing) {
            let interval = Duration::minutes(i64::from(outing.check_in_interval_minutes));
            safety::apply_watch(&mut outing, Some(watch.rearmed(made_at, interval)));
        }
        let alerts = safety::alerts_after_check_in(
            &txn,
            &mut outing,
            kind,
            is_newest,
            viewer.person_id,
            state.config.safety,
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "outing.checked_in",
            "outing",
            outing.id,
            now,
            Some(json!({ "checkInId": check_in.id, "kind": kind.as_str(), "late": made_at < now - Duration::minutes(1) })),
        )
        .await?;
        let outing = store::outings::save(&txn, outing, now).await?;
        let object = commit_outing(txn, state, outing, !alerts.changed.is_empty()).await?;
        for alert in &alerts.changed {
            state.events.publish(safety::alert_changed(alert));
        }
        Ok(CheckInPayload {
            check_in: CheckIn::from_row(check_in)?,
            outing: object,
            alert: alerts.alert.map(|row| Alert { row }),
        })
    }

    /// Takes ownership of open alerts: the first acknowledgement wins, escalation stops, and the
    /// owner sees the participant's crisis plan. All of them or none: one already owned by someone
    /// else is CONFLICT (with `extensions.ownerId`). Coordinators.
    async fn acknowledge_alerts(
        &self,
        ctx: &Context<'_>,
        input: AcknowledgeAlertsInput,
    ) -> ApiResult<AcknowledgeAlertsPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators acknowledge alerts")?;
        ensure_list_len(
            "alertIds",
            input.alert_ids.len(),
            bounds::ACKNOWLEDGED_ALERTS_MAX,
        )?;
        if input.alert_ids.is_empty() {
            return Err(ApiError::bad_input("alertIds", "must name an alert"));
        }
        let mut ids = Vec::new();
        for id in &input.alert_ids {
            let id = parse_id(id, "alertIds")?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let found = store::outings::find_alerts(&txn, &ids).await?;
        if found.len() != ids.len()
            || found
                .iter()
                .any(|alert| alert.organisation_id != viewer.organisation_id)
        {
            return Err(ApiError::NotFound);
        }
        let reminder = state.config.safety.acknowledged_reminder;
        for alert in &found {
            // An alert a late check-in answered pages nobody, its owner included.
            let remind_at = alert.answered_late_at.is_none().then(|| now + reminder);
            if !store::outings::acknowledge(&txn, alert.id, viewer.person_id, remind_at, now)
                .await?
            {
                let current = store::outings::find_alerts(&txn, &[alert.id]).await?;
                let owner = current.first().and_then(|alert| alert.owner_id);
                let mut refusal = ApiError::refused(
                    reasons::INVALID_TRANSITION,
                    "this alert is already acknowledged or resolved",
                );
                if let Some(owner) = owner {
                    refusal = refusal.with_detail("ownerId", owner.to_string());
                }
                return Err(refusal);
            }
            audit(
                &txn,
                &viewer,
                "alert.acknowledged",
                "alert",
                alert.id,
                now,
                None,
            )
            .await?;
        }
        let alerts = store::outings::find_alerts(&txn, &ids).await?;
        txn.commit().await?;
        for alert in &alerts {
            state.events.publish(safety::alert_changed(alert));
        }
        Ok(AcknowledgeAlertsPayload {
            alerts: alerts.into_iter().map(|row| Alert { row }).collect(),
        })
    }

    /// Resolves an acknowledged alert with a reason and a note. Its owner. A real incident flags
    /// the outing's supporters for a supervision follow-up.
    async fn resolve_alert(
        &self,
        ctx: &Context<'_>,
        input: ResolveAlertInput,
    ) -> ApiResult<ResolveAlertPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators resolve alerts")?;
        let alert_id = parse_id(&input.alert_id, "alertId")?;
        let note = valid("note", text::note(&input.note, NOTE_MAX, true))?;
        let resolution = rules::Resolution::from(input.resolution);
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        // The outing is locked before its alert, as check-ins lock them (no deadlock).
        let outing_id = store::outings::find_alerts(&txn, &[alert_id])
            .await?
            .pop()
            .filter(|alert| alert.organisation_id == viewer.organisation_id)
            .ok_or(ApiError::NotFound)?
            .outing_id;
        store::outings::lock(&txn, outing_id).await?;
        let mut alert = store::outings::lock_alert(&txn, alert_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let status = DomainAlertStatus::parse(&alert.status)?;
        if status != DomainAlertStatus::Acknowledged {
            return Err(ApiError::refused(
                reasons::INVALID_TRANSITION,
                "only an acknowledged alert is resolved: acknowledge it first",
            ));
        }
        if alert.owner_id != Some(viewer.person_id) {
            return Err(ApiError::Forbidden {
                reason: "the alert's owner resolves it",
            });
        }
        alert.status = DomainAlertStatus::Resolved.as_str().to_owned();
        alert.resolved_at = Some(now);
        alert.resolution = Some(resolution.as_str().to_owned());
        alert.resolution_note = Some(note);
        let alert = store::outings::save_alert(&txn, alert).await?;
        if resolution.was_real_incident() {
            for member in store::outings::members_of(&txn, &[alert.outing_id]).await? {
                if member.role == member_role::LEAD || member.role == member_role::TRAINEE {
                    store::training::flag_for_supervision(&txn, member.person_id, now).await?;
                }
            }
        }
        audit(
            &txn,
            &viewer,
            "alert.resolved",
            "alert",
            alert.id,
            now,
            Some(json!({ "resolution": resolution.as_str() })),
        )
        .await?;
        // An outing still under way is watched again from now on.
        let rearmed = safety::after_resolution(&txn, alert.outing_id, now).await?;
        txn.commit().await?;
        state.events.publish(safety::alert_changed(&alert));
        if let Some(outing) = &rearmed {
            state.events.publish(outing_changed(outing));
        }
        Ok(ResolveAlertPayload {
            alert: Alert { row: alert },
        })
    }

    /// Puts a coordinator on call outside the rota (they get alerts first) until turned off, or
    /// takes them off call; their rota shifts still count (see `onDutyNow`). Coordinators.
    async fn set_on_duty(
        &self,
        ctx: &Context<'_>,
        input: SetOnDutyInput,
    ) -> ApiResult<SetOnDutyPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators set who is on duty")?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = member_in(
            &txn,
            &viewer,
            person_id,
            DomainRole::Coordinator,
            "personId",
        )
        .await?;
        store::outings::set_on_duty(
            &txn,
            person.id,
            viewer.organisation_id,
            input.is_on_duty,
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "duty.changed",
            "person",
            person.id,
            now,
            Some(json!({ "isOnDuty": input.is_on_duty })),
        )
        .await?;
        let on_duty = store::rota::on_duty_now(&txn, viewer.organisation_id, now).await?;
        txn.commit().await?;
        Ok(SetOnDutyPayload {
            on_duty_ids: on_duty.into_iter().map(|id| ID(id.to_string())).collect(),
        })
    }

    /// Sets when outing reminders go out, for outings planned from now on. Coordinators.
    async fn update_outing_reminders(
        &self,
        ctx: &Context<'_>,
        input: UpdateOutingRemindersInput,
    ) -> ApiResult<UpdateOutingRemindersPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators change reminders")?;
        ensure_list_len(
            "minutesBefore",
            input.minutes_before.len(),
            bounds::REMINDERS_MAX,
        )?;
        let mut minutes = Vec::new();
        for value in &input.minutes_before {
            let value = u32::try_from(*value)
                .ok()
                .filter(|value| (1..=bounds::REMINDER_MINUTES_MAX).contains(value))
                .ok_or_else(|| {
                    ApiError::bad_input("minutesBefore", "each must be 1 minute to 7 days")
                })?;
            if !minutes.contains(&value) {
                minutes.push(value);
            }
        }
        minutes.sort_unstable_by(|a, b| b.cmp(a));
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        store::program::save_outing_reminder_minutes(
            &txn,
            viewer.organisation_id,
            minutes.clone(),
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            "outing_reminders.updated",
            "organisation",
            viewer.organisation_id,
            now,
            Some(json!({ "minutesBefore": minutes })),
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateOutingRemindersPayload {
            minutes_before: minutes,
        })
    }
}

/// One lifecycle step on an outing: visible, allowed, possible, then `change`, the watchdog state,
/// reminders, audit — in one transaction.
async fn lifecycle(
    ctx: &Context<'_>,
    outing_id: &ID,
    action: OutingAction,
    change: impl FnOnce(&mut outings::Model) -> ApiResult<()>,
) -> ApiResult<OutingPayload> {
    let viewer = viewer(ctx)?;
    let outing_id = parse_id(outing_id, "outingId")?;
    let state = state(ctx)?;
    let now = state.clock.now();
    let txn = store::begin_write(&state.db).await?;
    let (mut outing, actor) = visible_outing(&txn, &viewer, outing_id, true).await?;
    let to = step(&outing, actor, action)?;
    let pair_step = match action {
        OutingAction::Approve => Some(PairStep::Approve),
        OutingAction::Start => Some(PairStep::Start),
        _ => None,
    };
    if let Some(pair_step) = pair_step {
        ensure_match_allows(
            &txn,
            outing.lead_supporter_id,
            outing.participant_id,
            pair_step,
        )
        .await?;
    }
    let times_before = (outing.planned_start, outing.planned_end);
    change(&mut outing)?;
    let retimed = (outing.planned_start, outing.planned_end) != times_before;
    let mut queued = false;
    match action {
        OutingAction::Approve => {
            outing.approved_by = Some(viewer.person_id);
        }
        OutingAction::Start => {
            // Started after its planned end, the outing would be overdue at once and raise a
            // false alarm to the coordinators.
            if now >= outing.planned_end {
                return Err(ApiError::refused(
                    reasons::INVALID_TRANSITION,
                    "the outing's planned end has passed: replan it before starting",
                ));
            }
            let lead = store::people::find(&txn, outing.lead_supporter_id)
                .await?
                .ok_or_else(|| ApiError::internal("outing without lead"))?;
            let capabilities = capabilities_in(&txn, &lead, now).await?;
            if !capabilities.may_lead_outings() {
                return Err(told_to(
                    &viewer,
                    lead.id,
                    training_incomplete("leading an outing", &capabilities.missing_to_lead),
                ));
            }
            outing.started_at = Some(now);
            // Already now: the watch below is only kept for an outing under way.
            outing.status = to.as_str().to_owned();
            let interval = Duration::minutes(i64::from(outing.check_in_interval_minutes));
            outing.check_in_due_at = Some(rules::next_deadline(now, interval));
            outing.watch_step = None;
            outing.overdue_alerted = false;
            let watch = safety::watch_of(&outing);
            safety::apply_watch(&mut outing, watch);
            notify::withdraw_outing_reminders(&txn, &outing).await?;
        }
        OutingAction::Complete => {
            outing.ended_at = Some(now);
            safety::apply_watch(&mut outing, None);
        }
        OutingAction::Cancel => {
            outing.ended_at = Some(now);
            notify::withdraw_outing_reminders(&txn, &outing).await?;
        }
        OutingAction::Extend => {
            // The new end gets its own overdue alert if the outing overruns it too.
            outing.overdue_alerted = false;
            let watch = safety::watch_of(&outing);
            safety::apply_watch(&mut outing, watch);
        }
        _ => {}
    }
    outing.status = to.as_str().to_owned();
    let outing = if retimed {
        store::outings::save_retimed(&txn, outing, now).await?
    } else {
        store::outings::save(&txn, outing, now).await?
    };
    if action == OutingAction::Approve {
        queued = notify::plan_outing_reminders(&txn, &outing, now).await?;
    }
    audit(
        &txn,
        &viewer,
        &format!("outing.{}", action.as_str()),
        "outing",
        outing.id,
        now,
        None,
    )
    .await?;
    let outing = commit_outing(txn, state, outing, queued).await?;
    Ok(OutingPayload { outing })
}

/// What `outingEvents` sends: the outing as it now is, and the alert when one changed.
#[derive(SimpleObject)]
pub struct OutingEvent {
    pub outing: Outing,
    pub alert: Option<Alert>,
    /// Set when this subscriber fell behind and events were dropped: how many. The outing is as
    /// it now is; refetch whatever else is shown of it (its alerts, say). Null on every other event.
    pub missed_events: Option<i32>,
}

/// The viewer may follow the outing (its people and coordinators); NOT_FOUND otherwise.
pub(crate) async fn ensure_may_watch_outing(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    outing_id: Uuid,
) -> ApiResult<()> {
    visible_outing(db, viewer, outing_id, false)
        .await
        .map(|_| ())
}

/// The event for one change, loaded fresh and checked against the viewer again.
pub(crate) async fn outing_event(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    outing_id: Uuid,
    alert_id: Option<Uuid>,
) -> ApiResult<OutingEvent> {
    let (row, _) = visible_outing(db, viewer, outing_id, false).await?;
    let alert = match alert_id {
        Some(id) => store::outings::find_alerts(db, &[id]).await?.pop(),
        None => None,
    };
    Ok(OutingEvent {
        outing: outing_object(db, row).await?,
        alert: alert.map(|row| Alert { row }),
        missed_events: None,
    })
}

/// An alert of the coordinator's organisation, as it now is.
pub(crate) async fn alert_for(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    alert_id: Uuid,
) -> ApiResult<Option<Alert>> {
    if !viewer.is_coordinator() {
        return Err(ApiError::Forbidden {
            reason: "only coordinators follow alerts",
        });
    }
    Ok(store::outings::find_alerts(db, &[alert_id])
        .await?
        .pop()
        .filter(|alert| alert.organisation_id == viewer.organisation_id)
        .map(|row| Alert { row }))
}

/// Loads the changed outing for the payload, commits, then tells subscribers (and the dispatcher,
/// when notifications were queued).
/// Ending a support match calls off the pair's outings its supporter leads that have not started:
/// each is cancelled (`MATCH_ENDED`), its reminders withdrawn, the cancellation audited and its
/// other members told. One under way goes on to its end: its safety net stays. Runs in the
/// transaction that ends the match; returns the events to publish once it commits.
pub(crate) async fn cancel_for_ended_match(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    supporter_id: Uuid,
    participant_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<DomainEvent>> {
    let mut events = Vec::new();
    let mut queued = false;
    let called_off =
        store::outings::lock_not_started_of_pair(txn, supporter_id, participant_id).await?;
    let ids: Vec<Uuid> = called_off.iter().map(|outing| outing.id).collect();
    let mut members_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for member in store::outings::members_of(txn, &ids).await? {
        members_of
            .entry(member.outing_id)
            .or_default()
            .push(member.person_id);
    }
    for mut outing in called_off {
        outing.status = DomainStatus::Cancelled.as_str().to_owned();
        outing.cancel_reason = Some(CancelReason::MatchEnded.as_str().to_owned());
        outing.ended_at = Some(now);
        notify::withdraw_outing_reminders(txn, &outing).await?;
        let outing = store::outings::save(txn, outing, now).await?;
        audit(
            txn,
            viewer,
            "outing.cancel",
            "outing",
            outing.id,
            now,
            Some(json!({ "reason": CancelReason::MatchEnded.as_str() })),
        )
        .await?;
        let members = members_of.remove(&outing.id).unwrap_or_default();
        queued |=
            notify::tell_outing_cancelled(txn, &outing, &members, viewer.person_id, now).await?;
        events.push(outing_changed(&outing));
    }
    if queued {
        events.push(DomainEvent::NotificationsQueued);
    }
    Ok(events)
}

async fn commit_outing(
    txn: DatabaseTransaction,
    state: &ApiState,
    outing: outings::Model,
    queued: bool,
) -> ApiResult<Outing> {
    let changed = outing_changed(&outing);
    let object = outing_object(&txn, outing).await?;
    txn.commit().await?;
    state.events.publish(changed);
    if queued {
        state.events.publish(DomainEvent::NotificationsQueued);
    }
    Ok(object)
}

fn outing_changed(outing: &outings::Model) -> DomainEvent {
    DomainEvent::OutingChanged {
        organisation_id: outing.organisation_id,
        outing_id: outing.id,
    }
}
