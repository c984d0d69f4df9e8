//! What Tomoni's API means: domain rules, storage, notifications, GraphQL types. No HTTP, no sockets.
//!
//! `domain` holds pure rules (no I/O), `store` is the only place that builds SQL, `notify` decides
//! which notifications go out and what they say, `events` is the bus subscriptions listen on,
//! `safety`, `rota_handover` and `jobs` are the background work, and `api` is the GraphQL schema
//! the server exposes. Imports run downward: nothing here but `api` imports `api` (see
//! ARCHITECTURE.md). Time comes in as `now` from the server's clock.

pub mod api;
pub mod domain;
pub mod events;
pub mod jobs;
pub mod notify;
pub mod rota_handover;
pub mod safety;
pub mod store;
