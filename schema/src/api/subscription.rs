//! The subscription root: live streams over WebSocket. Every event re-checks that the viewer may
//! still see it (a revoked device stops receiving at once).

use async_graphql::futures_util::Stream;
use async_graphql::{Context, ID, Subscription};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::common::parse_id;
use super::context::{ApiState, state, viewer};
use super::error::{ApiError, ApiResult};
use super::lookup::visible_person;
use super::outings::{self, Alert, OutingEvent};
use crate::api::people::{Device, DeviceEvent, DeviceEventKind};
use crate::domain::access::Viewer;
use crate::events::DomainEvent;
use crate::store;

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// A person's devices being paired or revoked, e.g. for a coordinator waiting while a
    /// participant types the pairing code. The person themselves or a coordinator. A subscriber
    /// that fell behind gets `EVENTS_MISSED` and the stream ends.
    async fn device_events(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ApiResult<DeviceEvent>> + use<>> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&person_id, "personId")?;
        let state = state(ctx)?;
        ensure_device_active(&state.db, &viewer).await?;
        ensure_may_watch_devices(&state.db, &viewer, person_id).await?;
        let db = state.db.clone();
        Ok(events_of(state, move |next| {
            let db = db.clone();
            async move {
                let event = match next {
                    Next::Event(event) => event,
                    Next::Missed(missed) => return Err(ApiError::EventsMissed { missed }),
                };
                let Some((kind, device_id)) = device_event_of(event, person_id) else {
                    return Ok(None);
                };
                next_device_event(&db, &viewer, person_id, kind, device_id).await
            }
        }))
    }

    /// An outing as it happens: each check-in, lifecycle step and alert sends the outing as it now
    /// is (and the alert, for alert changes). Its people and the organisation's coordinators; the
    /// viewer's access is checked again at every event. A subscriber that fell behind gets one
    /// event with `missedEvents` set (the outing as it now is), then live events again.
    async fn outing_events(
        &self,
        ctx: &Context<'_>,
        outing_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ApiResult<OutingEvent>> + use<>> {
        let viewer = viewer(ctx)?;
        let outing_id = parse_id(&outing_id, "outingId")?;
        let state = state(ctx)?;
        ensure_device_active(&state.db, &viewer).await?;
        outings::ensure_may_watch_outing(&state.db, &viewer, outing_id).await?;
        let db = state.db.clone();
        Ok(events_of(state, move |next| {
            let db = db.clone();
            async move {
                let event = match next {
                    Next::Event(event) => event,
                    Next::Missed(missed) => {
                        ensure_device_active(&db, &viewer).await?;
                        let mut resync =
                            outings::outing_event(&db, &viewer, outing_id, None).await?;
                        resync.missed_events = Some(i32::try_from(missed).unwrap_or(i32::MAX));
                        return Ok(Some(resync));
                    }
                };
                let alert_id = match event {
                    DomainEvent::OutingChanged { outing_id: id, .. } if id == outing_id => None,
                    DomainEvent::AlertChanged {
                        outing_id: id,
                        alert_id,
                        ..
                    } if id == outing_id => Some(alert_id),
                    _ => return Ok(None),
                };
                ensure_device_active(&db, &viewer).await?;
                outings::outing_event(&db, &viewer, outing_id, alert_id)
                    .await
                    .map(Some)
            }
        }))
    }

    /// The organisation's alerts as they are raised, climb a tier, are acknowledged or resolved.
    /// Coordinators. A subscriber that fell behind gets `EVENTS_MISSED` and the stream ends:
    /// subscribe again and refetch `alerts`.
    async fn alerts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = ApiResult<Alert>> + use<>> {
        let viewer = viewer(ctx)?;
        super::common::ensure_coordinator(&viewer, "only coordinators follow alerts")?;
        let state = state(ctx)?;
        ensure_device_active(&state.db, &viewer).await?;
        let db = state.db.clone();
        Ok(events_of(state, move |next| {
            let db = db.clone();
            async move {
                let event = match next {
                    Next::Event(event) => event,
                    Next::Missed(missed) => return Err(ApiError::EventsMissed { missed }),
                };
                let DomainEvent::AlertChanged {
                    organisation_id,
                    alert_id,
                    ..
                } = event
                else {
                    return Ok(None);
                };
                if organisation_id != viewer.organisation_id {
                    return Ok(None);
                }
                ensure_device_active(&db, &viewer).await?;
                outings::alert_for(&db, &viewer, alert_id).await
            }
        }))
    }
}

/// What a subscription hears from the bus.
enum Next {
    Event(DomainEvent),
    /// The subscriber fell behind and this many events were dropped (the bus keeps a bounded
    /// backlog per subscriber, so a slow one cannot slow the others). Whatever it makes of this,
    /// it says so: a resync event, or an error that ends the stream.
    Missed(u64),
}

/// A stream of what `next` makes of each event of this server's bus (`None`: not for this
/// subscriber). After an error (e.g. the viewer's device was revoked, or events were missed) the
/// stream ends. Missed events are not replayed: the rest of the backlog is dropped too (it is as
/// stale), and the subscriber re-reads the current state.
fn events_of<T, F, Fut>(
    state: &ApiState,
    next: F,
) -> impl Stream<Item = ApiResult<T>> + use<T, F, Fut>
where
    T: Send + 'static,
    F: Fn(Next) -> Fut + Send + 'static,
    Fut: Future<Output = ApiResult<Option<T>>> + Send,
{
    let receiver = state.events.subscribe();
    async_graphql::futures_util::stream::unfold(Some((receiver, next)), |current| async move {
        let (mut receiver, next) = current?;
        loop {
            let heard = match receiver.recv().await {
                Ok(envelope) => match envelope.event {
                    DomainEvent::EventsLost { count } => Next::Missed(count),
                    event => Next::Event(event),
                },
                Err(RecvError::Lagged(dropped)) => {
                    // From now on: what is still queued would only be re-read as current state,
                    // so it is skipped too, and counted.
                    let queued = u64::try_from(receiver.len()).unwrap_or(u64::MAX);
                    receiver = receiver.resubscribe();
                    Next::Missed(dropped.saturating_add(queued))
                }
                Err(RecvError::Closed) => return None,
            };
            match next(heard).await {
                Ok(Some(item)) => return Some((Ok(item), Some((receiver, next)))),
                Ok(None) => continue,
                Err(err) => return Some((Err(err), None)),
            }
        }
    })
}

async fn ensure_device_active(db: &DatabaseConnection, viewer: &Viewer) -> ApiResult<()> {
    if store::devices::is_active(db, viewer.device_id).await? {
        Ok(())
    } else {
        Err(ApiError::Unauthenticated)
    }
}

fn device_event_of(event: DomainEvent, watched: Uuid) -> Option<(DeviceEventKind, Uuid)> {
    match event {
        DomainEvent::DevicePaired {
            person_id,
            device_id,
            ..
        } if person_id == watched => Some((DeviceEventKind::Paired, device_id)),
        DomainEvent::DeviceRevoked {
            person_id,
            device_id,
            ..
        } if person_id == watched => Some((DeviceEventKind::Revoked, device_id)),
        _ => None,
    }
}

async fn ensure_may_watch_devices(
    db: &DatabaseConnection,
    viewer: &Viewer,
    person_id: Uuid,
) -> ApiResult<()> {
    let (_, facts) = visible_person(db, viewer, person_id).await?;
    if !viewer.may_see_devices_of(&facts) {
        return Err(ApiError::Forbidden {
            reason: "only the person and coordinators see their devices",
        });
    }
    Ok(())
}

async fn next_device_event(
    db: &DatabaseConnection,
    viewer: &Viewer,
    person_id: Uuid,
    kind: DeviceEventKind,
    device_id: Uuid,
) -> ApiResult<Option<DeviceEvent>> {
    ensure_device_active(db, viewer).await?;
    ensure_may_watch_devices(db, viewer, person_id).await?;
    let device = store::devices::find(db, device_id).await?;
    Ok(device.map(|device| DeviceEvent {
        kind,
        person_id: ID(person_id.to_string()),
        device: Device::from(device),
    }))
}
