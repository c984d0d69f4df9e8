//! Support matches as time passes, and what their changes tell people: proposals nobody answered
//! expire (audited, the proposer told), and every change of a match is a lock-screen-safe
//! `match_update` push to whom it concerns. The API's mutations and the program sweep both use it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, DbErr};
use uuid::Uuid;

use crate::domain::matching::MatchAction;
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::entities::support_matches;

/// Plans a lock-screen-safe "your match was updated" push for each recipient but the actor.
pub async fn push_match_update(
    txn: &DatabaseTransaction,
    actor: Uuid,
    row: &support_matches::Model,
    event: &str,
    recipients: &[Uuid],
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut planned = false;
    let mut seen = HashSet::new();
    for person in recipients {
        if *person == actor || !seen.insert(*person) {
            continue;
        }
        notify::remind(
            txn,
            Recipient {
                person_id: *person,
                organisation_id: row.organisation_id,
            },
            Message::MatchUpdate { match_id: row.id },
            now,
            &format!(
                "match:{}:{event}:{}:{}",
                row.id.simple(),
                now.timestamp_micros(),
                person.simple()
            ),
            now,
        )
        .await?;
        planned = true;
    }
    Ok(planned)
}

/// Whom a change concerns: proposals go to the supporter; answers and expiry to whoever proposed
/// (and an acceptance to the participant too); pauses, resumptions and endings to both members.
pub fn concerned(row: &support_matches::Model, action: Option<MatchAction>) -> Vec<Uuid> {
    match action {
        None => vec![row.supporter_id],
        Some(MatchAction::Accept) => vec![row.participant_id, row.proposed_by],
        Some(MatchAction::Decline | MatchAction::Expire) => vec![row.proposed_by],
        Some(MatchAction::Pause | MatchAction::Resume | MatchAction::End) => {
            vec![row.supporter_id, row.participant_id]
        }
    }
}

/// Expires every proposal past its expiry: audited, and whoever proposed it is told. The server
/// runs this periodically; two servers running it at once expire each proposal once.
pub async fn expire_proposals(
    db: &sea_orm::DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let txn = store::begin_write(db).await?;
    let expired = store::matches::expire_due(&txn, now).await?;
    record_expired(&txn, &expired, now).await?;
    txn.commit().await?;
    Ok(expired.len())
}

/// Audits proposals that just expired and tells their proposers, whoever noticed the expiry (the
/// sweep, or a new proposal for the same pair).
pub async fn record_expired(
    txn: &DatabaseTransaction,
    expired: &[support_matches::Model],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for row in expired {
        store::audit::record(
            txn,
            store::audit::AuditEntry {
                organisation_id: row.organisation_id,
                actor_id: None,
                action: "match.expired",
                subject_kind: "support_match",
                subject_id: Some(row.id),
                detail: None,
            },
            now,
        )
        .await?;
        push_match_update(
            txn,
            Uuid::nil(),
            row,
            "expired",
            &concerned(row, Some(MatchAction::Expire)),
            now,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_follow_the_change() {
        let now = Utc::now();
        let row = support_matches::Model {
            id: Uuid::now_v7(),
            organisation_id: Uuid::now_v7(),
            supporter_id: Uuid::now_v7(),
            participant_id: Uuid::now_v7(),
            status: "proposed".into(),
            proposed_by: Uuid::now_v7(),
            proposed_at: now,
            expires_at: now,
            responded_at: None,
            paused_at: None,
            ended_at: None,
            end_reason: None,
            closing_reflection: None,
            updated_at: now,
        };
        assert_eq!(concerned(&row, None), vec![row.supporter_id]);
        assert_eq!(
            concerned(&row, Some(MatchAction::Accept)),
            vec![row.participant_id, row.proposed_by]
        );
        assert_eq!(
            concerned(&row, Some(MatchAction::End)),
            vec![row.supporter_id, row.participant_id]
        );
    }
}
