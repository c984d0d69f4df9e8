//! Mutation inputs and payloads, one pair per mutation (`verbNoun(input: VerbNounInput!)`).

use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};

use super::objects::{Device, Locale, Organisation, PairingCode, Person, Role};

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
