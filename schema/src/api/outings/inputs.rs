//! The inputs and payloads of the outing mutations.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::enums::{AlertResolution, CancelReason, CheckInKind, OutingPurpose};
use super::objects::{Alert, CheckIn, Outing};

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
