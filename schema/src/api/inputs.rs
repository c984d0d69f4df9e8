//! Mutation inputs and payloads, one pair per mutation (`verbNoun(input: VerbNounInput!)`).

use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::types::{Device, Locale, Organisation, PairingCode, Person, Role};
use crate::domain::clock::{self, WindowError};
use crate::domain::text::{self, InvalidText};

/// Reads an `ID` argument as one of ours, or names the field at fault.
pub fn parse_id(id: &ID, field: &'static str) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::bad_input(field, "is not a valid id"))
}

#[derive(InputObject)]
pub struct CreatePersonInput {
    /// The name shown in the app (at most 100 characters).
    pub display_name: String,
    pub role: Role,
    /// Defaults to Japanese.
    pub locale: Option<Locale>,
    /// IANA time zone; defaults to Asia/Tokyo.
    pub time_zone: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreatePersonPayload {
    pub person: Person,
}

#[derive(InputObject)]
pub struct UpdatePersonInput {
    pub person_id: ID,
    pub display_name: Option<String>,
    pub locale: Option<Locale>,
    pub time_zone: Option<String>,
    /// A coordinator's e-mail address, for alerts nobody confirmed seeing (null removes it).
    /// Coordinators set it, for coordinators only.
    pub email: MaybeUndefined<String>,
}

#[derive(SimpleObject)]
pub struct UpdatePersonPayload {
    pub person: Person,
}

#[derive(InputObject)]
pub struct UpdateOrganisationInput {
    pub organisation_id: ID,
    pub name: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpdateOrganisationPayload {
    pub organisation: Organisation,
}

/// Lists replace the stored list when given; omitted lists stay as they are.
#[derive(InputObject)]
pub struct UpdateSupporterProfileInput {
    pub person_id: ID,
    pub experience_tags: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub areas: Option<Vec<String>>,
}

#[derive(SimpleObject)]
pub struct UpdateSupporterProfilePayload {
    pub person: Person,
}

#[derive(InputObject)]
pub struct UpdateParticipantProfileInput {
    pub person_id: ID,
    pub preferences: Option<Vec<String>>,
    pub consents_to_location_sharing: Option<bool>,
    pub experience_tags: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub areas: Option<Vec<String>>,
    /// What helps and whom to call in a crisis (at most 4000 characters; empty clears it).
    pub crisis_plan: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpdateParticipantProfilePayload {
    pub person: Person,
}

#[derive(InputObject)]
pub struct IssuePairingCodeInput {
    pub person_id: ID,
}

#[derive(SimpleObject)]
pub struct IssuePairingCodePayload {
    pub pairing_code: PairingCode,
    pub person: Person,
}

#[derive(InputObject)]
pub struct RedeemPairingCodeInput {
    /// The code as typed: case, spaces and hyphens do not matter.
    pub code: String,
    /// A name for this device the person will recognise, e.g. "My phone".
    pub device_label: String,
}

#[derive(SimpleObject)]
pub struct RedeemPairingCodePayload {
    /// The device's bearer token. Shown only here: store it in the device's secure storage.
    pub token: String,
    pub device: Device,
    pub person: Person,
}

#[derive(InputObject)]
pub struct RevokeDeviceInput {
    pub device_id: ID,
}

#[derive(SimpleObject)]
pub struct RevokeDevicePayload {
    pub device: Device,
}

/// An instant from a request inside the dates the program handles ([`clock::bounded_instant`]),
/// or BAD_USER_INPUT naming the field. Call it before any arithmetic with the instant.
pub fn bounded_instant(field: &'static str, at: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
    clock::bounded_instant(at).map_err(|reason| ApiError::bad_input(field, reason.to_string()))
}

/// A calendar day from a request, checked like an instant.
pub fn bounded_date(field: &'static str, day: NaiveDate) -> ApiResult<NaiveDate> {
    clock::bounded_date(day).map_err(|reason| ApiError::bad_input(field, reason.to_string()))
}

/// A window given as the arguments `from` and `to`: both bounded, `to` after `from`, at most
/// `max_days` long (and never more than [`clock::WINDOW_DAYS_MAX`]).
pub fn bounded_window(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max_days: i64,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    clock::bounded_window(from, to, max_days).map_err(|err| match err {
        WindowError::From(reason) => ApiError::bad_input("from", reason.to_string()),
        WindowError::To(reason) => ApiError::bad_input("to", reason.to_string()),
    })
}

/// A list argument no longer than `max` ([`text::list_len`]), checked before its items are read
/// and before any database access; BAD_USER_INPUT names the argument and the limit.
pub fn ensure_list_len(field: &'static str, len: usize, max: usize) -> ApiResult<()> {
    text::list_len(len, max).map_err(|InvalidText(reason)| ApiError::bad_input(field, reason))
}
