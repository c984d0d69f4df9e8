//! sea-orm entities: one per table, mirroring the migrations. GraphQL types live in `api`, not here.

pub mod audit_log;
pub mod devices;
pub mod instance_settings;
pub mod notification_settings;
pub mod notifications;
pub mod organisations;
pub mod pairing_codes;
pub mod participant_profiles;
pub mod people;
pub mod push_deliveries;
pub mod push_subscriptions;
pub mod supporter_profiles;

use serde::{Deserialize, Serialize};

/// A JSON array of short strings (tags, languages, areas, preferences).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult,
)]
pub struct StringList(pub Vec<String>);
