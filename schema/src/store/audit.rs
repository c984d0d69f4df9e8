//! Writes to the audit log, always in the same transaction as the change they record.

use crate::domain::clock::id_at;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};
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
        id: Set(id_at(now)),
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

/// What the audit log calls a read of a participant's crisis plan (its subject: the participant).
pub const CRISIS_PLAN_READ: &str = "crisis_plan.read";

/// Records that `reader` read the crisis plans of `participants`, in one statement.
pub async fn record_crisis_plan_reads(
    db: &impl ConnectionTrait,
    reader: &crate::domain::access::Viewer,
    participants: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if participants.is_empty() {
        return Ok(());
    }
    audit_log::Entity::insert_many(
        participants
            .iter()
            .map(|participant| audit_log::ActiveModel {
                id: Set(id_at(now)),
                organisation_id: Set(reader.organisation_id),
                actor_id: Set(Some(reader.person_id)),
                action: Set(CRISIS_PLAN_READ.to_owned()),
                subject_kind: Set("person".to_owned()),
                subject_id: Set(Some(*participant)),
                detail: Set(None),
                occurred_at: Set(now),
            }),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// The newest reads of the participant's crisis plan, newest first, at most `limit`.
pub async fn crisis_plan_reads(
    db: &impl ConnectionTrait,
    participant_id: Uuid,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    use sea_orm::{ColumnTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _};
    audit_log::Entity::find()
        .filter(audit_log::Column::SubjectId.eq(participant_id))
        .filter(audit_log::Column::Action.eq(CRISIS_PLAN_READ))
        .order_by_desc(audit_log::Column::OccurredAt)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
