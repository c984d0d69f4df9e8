//! sea-orm entities: one per table, mirroring the migrations. GraphQL types live in `api`, not here.

pub mod alert_emails;
pub mod alert_recipients;
pub mod alerts;
pub mod audit_log;
pub mod certificates;
pub mod check_ins;
pub mod concerns;
pub mod contact_addresses;
pub mod course_modules;
pub mod course_prerequisites;
pub mod courses;
pub mod devices;
pub mod duty_exceptions;
pub mod duty_shifts;
pub mod instance_settings;
pub mod module_completions;
pub mod module_prerequisites;
pub mod notification_settings;
pub mod notifications;
pub mod on_duty;
pub mod organisations;
pub mod outing_members;
pub mod outings;
pub mod pairing_codes;
pub mod participant_profiles;
pub mod people;
pub mod program_settings;
pub mod push_deliveries;
pub mod push_subscriptions;
pub mod supervision_sessions;
pub mod support_matches;
pub mod supporter_profiles;

use serde::{Deserialize, Serialize};

/// A JSON array of short strings (tags, languages, areas, preferences).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult,
)]
pub struct StringList(pub Vec<String>);

/// A JSON array of minute counts (reminder offsets).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult,
)]
pub struct MinutesList(pub Vec<u32>);
