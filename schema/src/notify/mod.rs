//! Which notifications go to whom and when: typed messages, their lock-screen-safe texts, and the
//! reminder API the rest of Tomoni calls ("remind this person of this thing at this time").
//!
//! A notification is a row in the outbox written in the caller's transaction, so it exists exactly
//! when the change that caused it exists. The server's dispatcher delivers it.

mod message;

pub use message::{Message, PUSH_PAYLOAD_VERSION, PushPayload};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::store::outbox::{self, NewNotification, Scheduled};

/// Who receives a notification: a person, in their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub person_id: Uuid,
    pub organisation_id: Uuid,
}

/// Plans `message` for `recipient` at `at`. The idempotency key names the reminder ("the 1-hour
/// reminder of outing X for person Y"): planning it again moves it (if not sent yet) instead of
/// adding a second one.
pub async fn remind(
    db: &impl ConnectionTrait,
    recipient: Recipient,
    message: Message,
    at: DateTime<Utc>,
    idempotency_key: &str,
    now: DateTime<Utc>,
) -> Result<Scheduled, DbErr> {
    outbox::schedule(
        db,
        NewNotification {
            organisation_id: recipient.organisation_id,
            recipient_id: recipient.person_id,
            urgency: message.urgency(),
            ttl_seconds: message.ttl().as_secs().try_into().unwrap_or(i32::MAX),
            topic: message.topic(),
            is_safety: message.is_safety(),
            kind: message.kind(),
            message: serde_json::to_value(&message).map_err(|err| DbErr::Json(err.to_string()))?,
            not_before: at,
            idempotency_key,
        },
        now,
    )
    .await
}

/// Withdraws a planned reminder that has not been sent yet (the outing was cancelled, say).
/// Returns whether there was one to withdraw.
pub async fn withdraw(db: &impl ConnectionTrait, idempotency_key: &str) -> Result<bool, DbErr> {
    outbox::withdraw(db, idempotency_key).await
}
