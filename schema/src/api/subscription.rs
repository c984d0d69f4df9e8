//! The subscription root: live streams over WebSocket. Every event re-checks that the viewer may
//! still see it (a revoked device stops receiving at once).

use async_graphql::futures_util::Stream;
use async_graphql::{Context, ID, Subscription};
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::context::{state, viewer};
use super::error::{ApiError, ApiResult};
use super::events::DomainEvent;
use super::inputs::parse_id;
use super::lookup::visible_person;
use super::types::{Device, DeviceEvent, DeviceEventKind};
use crate::domain::access::Viewer;
use crate::store;

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// A person's devices being paired or revoked, e.g. for a coordinator waiting while a
    /// participant types the pairing code. The person themselves or a coordinator.
    async fn device_events(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ApiResult<DeviceEvent>> + use<>> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&person_id, "personId")?;
        let state = state(ctx)?;
        ensure_may_watch_devices(&state.db, &viewer, person_id).await?;
        let db = state.db.clone();
        let receiver = state.events.subscribe();
        Ok(async_graphql::futures_util::stream::unfold(
            Some(receiver),
            move |receiver| {
                let db = db.clone();
                async move {
                    let mut receiver = receiver?;
                    loop {
                        let event = match receiver.recv().await {
                            Ok(event) => event,
                            // Missed events are not replayed: the client re-reads the list.
                            Err(RecvError::Lagged(_)) => continue,
                            Err(RecvError::Closed) => return None,
                        };
                        let Some((kind, device_id)) = device_event_of(event, person_id) else {
                            continue;
                        };
                        match next_device_event(&db, &viewer, person_id, kind, device_id).await {
                            Ok(Some(event)) => return Some((Ok(event), Some(receiver))),
                            Ok(None) => continue,
                            // After an error (e.g. the viewer's device was revoked) the stream ends.
                            Err(err) => return Some((Err(err), None)),
                        }
                    }
                }
            },
        ))
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
    if !store::devices::is_active(db, viewer.device_id).await? {
        return Err(ApiError::Unauthenticated);
    }
    ensure_may_watch_devices(db, viewer, person_id).await?;
    let device = store::devices::find(db, device_id).await?;
    Ok(device.map(|device| DeviceEvent {
        kind,
        person_id: ID(person_id.to_string()),
        device: Device::from(device),
    }))
}
