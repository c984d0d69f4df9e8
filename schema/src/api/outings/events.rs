//! Outing events: what `outingEvents` sends, re-checked against the viewer at each change, and how
//! a change is committed and announced.

use std::collections::HashMap;

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;
use uuid::Uuid;

use super::checks::visible_outing;
use super::enums::CancelReason;
use super::objects::{Alert, Outing, outing_object};
use crate::api::common::audit_with;
use crate::api::context::ApiState;
use crate::api::error::{ApiError, ApiResult};
use crate::domain::access::Viewer;
use crate::domain::outings::OutingStatus as DomainStatus;
use crate::events::DomainEvent;
use crate::store::entities::outings;
use crate::{notify, store};

/// What `outingEvents` sends: the outing as it now is, and the alert when one changed.
#[derive(SimpleObject)]
pub struct OutingEvent {
    pub outing: Outing,
    pub alert: Option<Alert>,
    /// Set when this subscriber fell behind and events were dropped: how many. The outing is as
    /// it now is; refetch whatever else is shown of it (its alerts, say). Null on every other event.
    pub missed_events: Option<i32>,
}

/// The viewer may follow the outing (its people and coordinators); NOT_FOUND otherwise.
pub(crate) async fn ensure_may_watch_outing(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    outing_id: Uuid,
) -> ApiResult<()> {
    visible_outing(db, viewer, outing_id, false)
        .await
        .map(|_| ())
}

/// The event for one change, loaded fresh and checked against the viewer again.
pub(crate) async fn outing_event(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    outing_id: Uuid,
    alert_id: Option<Uuid>,
) -> ApiResult<OutingEvent> {
    let (row, _) = visible_outing(db, viewer, outing_id, false).await?;
    let alert = match alert_id {
        Some(id) => store::outings::find_alerts(db, &[id]).await?.pop(),
        None => None,
    };
    Ok(OutingEvent {
        outing: outing_object(db, row).await?,
        alert: alert.map(|row| Alert { row }),
        missed_events: None,
    })
}

/// An alert of the coordinator's organisation, as it now is.
pub(crate) async fn alert_for(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    alert_id: Uuid,
) -> ApiResult<Option<Alert>> {
    if !viewer.is_coordinator() {
        return Err(ApiError::Forbidden {
            reason: "only coordinators follow alerts",
        });
    }
    Ok(store::outings::find_alerts(db, &[alert_id])
        .await?
        .pop()
        .filter(|alert| alert.organisation_id == viewer.organisation_id)
        .map(|row| Alert { row }))
}

/// Loads the changed outing for the payload, commits, then tells subscribers (and the dispatcher,
/// when notifications were queued).
/// Ending a support match calls off the pair's outings its supporter leads that have not started:
/// each is cancelled (`MATCH_ENDED`), its reminders withdrawn, the cancellation audited and its
/// other members told. One under way goes on to its end: its safety net stays. Runs in the
/// transaction that ends the match; returns the events to publish once it commits.
pub(crate) async fn cancel_for_ended_match(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    supporter_id: Uuid,
    participant_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<DomainEvent>> {
    let mut events = Vec::new();
    let mut queued = false;
    let called_off =
        store::outings::lock_not_started_of_pair(txn, supporter_id, participant_id).await?;
    let ids: Vec<Uuid> = called_off.iter().map(|outing| outing.id).collect();
    let mut members_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for member in store::outings::members_of(txn, &ids).await? {
        members_of
            .entry(member.outing_id)
            .or_default()
            .push(member.person_id);
    }
    for mut outing in called_off {
        outing.status = DomainStatus::Cancelled.as_str().to_owned();
        outing.cancel_reason = Some(CancelReason::MatchEnded.as_str().to_owned());
        outing.ended_at = Some(now);
        notify::withdraw_outing_reminders(txn, &outing).await?;
        let outing = store::outings::save(txn, outing, now).await?;
        audit_with(
            txn,
            viewer,
            now,
            "outing.cancel",
            ("outing", outing.id),
            json!({ "reason": CancelReason::MatchEnded.as_str() }),
        )
        .await?;
        let members = members_of.remove(&outing.id).unwrap_or_default();
        queued |=
            notify::tell_outing_cancelled(txn, &outing, &members, viewer.person_id, now).await?;
        events.push(outing_changed(&outing));
    }
    if queued {
        events.push(DomainEvent::NotificationsQueued);
    }
    Ok(events)
}

pub(super) async fn commit_outing(
    txn: DatabaseTransaction,
    state: &ApiState,
    outing: outings::Model,
    queued: bool,
) -> ApiResult<Outing> {
    let changed = outing_changed(&outing);
    let object = outing_object(&txn, outing).await?;
    txn.commit().await?;
    state.events.publish(changed);
    if queued {
        state.events.publish(DomainEvent::NotificationsQueued);
    }
    Ok(object)
}

pub(super) fn outing_changed(outing: &outings::Model) -> DomainEvent {
    DomainEvent::OutingChanged {
        organisation_id: outing.organisation_id,
        outing_id: outing.id,
    }
}
