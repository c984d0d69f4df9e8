//! What every area of the API shares, in one place: reading ids, dates, lists and texts from a
//! request (each a BAD_USER_INPUT naming the field), the audit entry a mutation writes, and looking
//! up people of the viewer's organisation. It imports no area of the API, so any area may use it.

use async_graphql::ID;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use crate::domain::access::Viewer;
use crate::domain::clock::{self, WindowError};
use crate::domain::people::Role as DomainRole;
use crate::domain::text::{self, InvalidText};
use crate::store;
use crate::store::audit::AuditEntry;
use crate::store::entities::people;

/// Reads an `ID` argument as one of ours, or names the field at fault.
pub fn parse_id(id: &ID, field: &'static str) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::bad_input(field, "is not a valid id"))
}

/// An input id as a span field: the parsed id, or "invalid" — a client's malformed text is never
/// written to the logs.
pub fn logged_id(id: &ID) -> String {
    Uuid::parse_str(id.as_str()).map_or_else(|_| "invalid".to_owned(), |id| id.to_string())
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

/// A text input checked by a `domain::text` rule, or BAD_USER_INPUT naming the field.
pub fn valid<T>(field: &'static str, result: Result<T, InvalidText>) -> ApiResult<T> {
    result.map_err(|InvalidText(reason)| ApiError::bad_input(field, reason))
}

/// Writes one audit entry for the viewer's action on `subject` (its kind and id), in the
/// transaction of the change it records.
pub async fn audit(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    now: DateTime<Utc>,
    action: &str,
    subject: (&str, Uuid),
) -> ApiResult<()> {
    audit_entry(txn, viewer, now, action, subject, None).await
}

/// As [`audit`], with a detail (ids and settings, never anything personal), or an optional one.
pub async fn audit_with(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    now: DateTime<Utc>,
    action: &str,
    subject: (&str, Uuid),
    detail: impl Into<Option<serde_json::Value>>,
) -> ApiResult<()> {
    audit_entry(txn, viewer, now, action, subject, detail.into()).await
}

async fn audit_entry(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    now: DateTime<Utc>,
    action: &str,
    (subject_kind, subject_id): (&str, Uuid),
    detail: Option<serde_json::Value>,
) -> ApiResult<()> {
    let entry = AuditEntry {
        organisation_id: viewer.organisation_id,
        actor_id: Some(viewer.person_id),
        action,
        subject_kind,
        subject_id: Some(subject_id),
        detail,
    };
    store::audit::record(txn, entry, now).await?;
    Ok(())
}

/// FORBIDDEN with `reason` unless the viewer is a coordinator.
pub fn ensure_coordinator(viewer: &Viewer, reason: &'static str) -> ApiResult<()> {
    if viewer.is_coordinator() {
        Ok(())
    } else {
        Err(ApiError::Forbidden { reason })
    }
}

/// A person of the viewer's organisation in `role` (NOT_FOUND for anyone of another organisation,
/// BAD_USER_INPUT naming `field` for a person in another role).
pub async fn member_in(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    role: DomainRole,
    field: &'static str,
) -> ApiResult<people::Model> {
    let person = store::people::find(db, id)
        .await?
        .filter(|person| person.organisation_id == viewer.organisation_id)
        .ok_or(ApiError::NotFound)?;
    if person.role != role.as_str() {
        return Err(ApiError::bad_input(
            field,
            format!("is not a {}", role.as_str()),
        ));
    }
    Ok(person)
}

/// A coordinator of the viewer's organisation.
pub async fn coordinator_in(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    field: &'static str,
) -> ApiResult<people::Model> {
    member_in(db, viewer, id, DomainRole::Coordinator, field).await
}

/// A supporter of the viewer's organisation.
pub async fn supporter_in(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    field: &'static str,
) -> ApiResult<people::Model> {
    member_in(db, viewer, id, DomainRole::Supporter, field).await
}
