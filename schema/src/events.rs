//! Events that subscriptions stream to clients: a broadcast channel per server. With PostgreSQL the
//! server also forwards its own events to the other servers (LISTEN/NOTIFY) and republishes
//! theirs here, so a subscriber connected to one instance sees what happened on another.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Something happened that a subscriber may want to see. Carries ids only; subscribers load the
/// current state (and re-check what the viewer may see) when they receive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
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
    /// An outing changed: a check-in, a step of its lifecycle, an alert about it.
    OutingChanged {
        organisation_id: Uuid,
        outing_id: Uuid,
    },
    /// An alert was raised, escalated, acknowledged or resolved.
    AlertChanged {
        organisation_id: Uuid,
        alert_id: Uuid,
        outing_id: Uuid,
    },
    /// Notifications were committed to the outbox: the dispatcher may have work now.
    NotificationsQueued,
    /// Events between servers were lost (the relay fell behind, or lost its connection to the
    /// database for a while): every subscriber is told it missed events, as if it had fallen
    /// behind itself, and re-reads the current state.
    EventsLost { count: u64 },
}

impl DomainEvent {
    /// Whether other servers need to hear of it (subscribers may be connected there).
    pub fn is_shared(&self) -> bool {
        !matches!(self, Self::NotificationsQueued)
    }
}

/// An event and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub event: DomainEvent,
    /// Published by another server and relayed here (never forwarded again).
    pub from_elsewhere: bool,
}

/// Fan-out of domain events to every subscription of this process.
#[derive(Clone, Debug)]
pub struct EventBus {
    sender: broadcast::Sender<Envelope>,
}

/// How many events a subscriber may fall behind by default before it is told it missed some.
pub const DEFAULT_BACKLOG: usize = 1024;

impl EventBus {
    pub fn new() -> Self {
        Self::with_backlog(DEFAULT_BACKLOG)
    }

    /// A bus whose subscribers may fall `backlog` events behind (at least 1): a slow subscriber
    /// that falls further misses events rather than slowing the others, and is told so (see
    /// `api::subscription`).
    pub fn with_backlog(backlog: usize) -> Self {
        let (sender, _) = broadcast::channel(backlog.max(1));
        Self { sender }
    }

    /// Publishes after the change is committed; nobody listening is fine.
    pub fn publish(&self, event: DomainEvent) {
        let _nobody_listening = self.sender.send(Envelope {
            event,
            from_elsewhere: false,
        });
    }

    /// Publishes an event another server relayed.
    pub fn publish_from_elsewhere(&self, event: DomainEvent) {
        let _nobody_listening = self.sender.send(Envelope {
            event,
            from_elsewhere: true,
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.sender.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
