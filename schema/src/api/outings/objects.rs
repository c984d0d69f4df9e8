//! The outing, its members, check-ins and alerts as the API shows them, built in a constant number
//! of statements.

use std::collections::HashMap;

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::enums::{
    AlertReason, AlertResolution, AlertStatus, AlertTier, CancelReason, CheckInKind, OutingPurpose,
    OutingRole, OutingStatus, outing_role,
};
use crate::api::context::{loaders, state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::pagination::{connection, page_of, page_request};
use crate::domain::outings::{
    self as rules, AlertReason as DomainAlertReason, AlertStatus as DomainAlertStatus,
    CheckInKind as DomainCheckInKind, OutingStatus as DomainStatus,
};
use crate::store;
use crate::store::entities::{alerts, check_ins, outing_members, outings};

/// Someone on the outing, as the other members see them: a name and a part, nothing more.
#[derive(SimpleObject, Clone)]
pub struct OutingMember {
    pub(super) person_id: ID,
    pub(super) display_name: String,
    pub(super) role: OutingRole,
}

/// A check-in: from whom, how it was going, when it was made.
#[derive(SimpleObject, Clone)]
pub struct CheckIn {
    pub(super) id: ID,
    pub(super) person_id: ID,
    pub(super) kind: CheckInKind,
    /// When the phone made it (an offline check-in arrives later).
    pub(super) made_at: DateTime<Utc>,
    pub(super) received_at: DateTime<Utc>,
    /// Only when the participant consented to location sharing.
    pub(super) latitude: Option<f64>,
    pub(super) longitude: Option<f64>,
    pub(super) note: String,
}

impl CheckIn {
    pub(super) fn from_row(row: check_ins::Model) -> ApiResult<Self> {
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
    pub(super) number: String,
    pub(super) label_ja: String,
    pub(super) label_en: String,
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
    pub(super) person_id: ID,
    pub(super) display_name: String,
    pub(super) state: AlertRecipientState,
    pub(super) first_notified_at: DateTime<Utc>,
    pub(super) last_notified_at: DateTime<Utc>,
    pub(super) delivered_at: Option<DateTime<Utc>>,
    pub(super) shown_at: Option<DateTime<Utc>>,
    /// The e-mail fallback went out to them (nobody confirmed seeing the push in time).
    pub(super) emailed_at: Option<DateTime<Utc>>,
}

/// A safety alert about an outing.
pub struct Alert {
    pub(super) row: alerts::Model,
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
        crate::api::people::crisis_plan_for(ctx, outing.participant_id, plan).await
    }
}

/// An accompanied outing.
pub struct Outing {
    pub(super) row: outings::Model,
    pub(super) members: Vec<(outing_members::Model, String)>,
    pub(super) check_ins: Vec<check_ins::Model>,
    pub(super) alerts: Vec<alerts::Model>,
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
pub(super) async fn outing_objects(
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

pub(super) async fn outing_object(
    db: &impl ConnectionTrait,
    row: outings::Model,
) -> ApiResult<Outing> {
    outing_objects(db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("outing vanished"))
}
