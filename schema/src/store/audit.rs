//! Writes to the audit log, always in the same transaction as the change they record.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde_json::Value;
use uuid::Uuid;

use super::entities::audit_log;

/// One audited change. `detail` holds ids and flags only: never names, notes or anything clinical.
pub struct AuditEntry<'a> {
    pub organisation_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: Option<Uuid>,
    pub detail: Option<Value>,
}

pub async fn record(
    db: &impl ConnectionTrait,
    entry: AuditEntry<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        organisation_id: Set(entry.organisation_id),
        actor_id: Set(entry.actor_id),
        action: Set(entry.action.to_owned()),
        subject_kind: Set(entry.subject_kind.to_owned()),
        subject_id: Set(entry.subject_id),
        detail: Set(entry.detail),
        occurred_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}
