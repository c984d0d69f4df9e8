//! Events that subscriptions stream to clients. In-process for now: a broadcast channel per server.

use tokio::sync::broadcast;
use uuid::Uuid;

/// Something happened that a subscriber may want to see. Carries ids only; subscribers load the
/// current state (and re-check what the viewer may see) when they receive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainEvent {
    DevicePaired {
        organisation_id: Uuid,
        person_id: Uuid,
        device_id: Uuid,
    },
    DeviceRevoked {
        organisation_id: Uuid,
        person_id: Uuid,
        device_id: Uuid,
    },
    /// Notifications were committed to the outbox: the dispatcher may have work now.
    NotificationsQueued,
}

/// Fan-out of domain events to every subscription of this process.
#[derive(Clone, Debug)]
pub struct EventBus {
    sender: broadcast::Sender<DomainEvent>,
}

impl EventBus {
    pub fn new() -> Self {
        // A slow subscriber that falls this far behind misses events rather than slowing others.
        let (sender, _) = broadcast::channel(1024);
        Self { sender }
    }

    /// Publishes after the change is committed; nobody listening is fine.
    pub fn publish(&self, event: DomainEvent) {
        let _nobody_listening = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
