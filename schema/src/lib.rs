//! What Tomoni's API means: domain rules, storage, GraphQL types. No HTTP, no sockets, no clock reads.
//!
//! `domain` holds pure rules (no I/O), `store` is the only place that builds SQL, `events` is the
//! bus subscriptions listen on, `safety` and `jobs` are the background work, and `api` is the
//! GraphQL schema the server exposes (the only module that imports `api` is the server). The server crate wires these to HTTP and to the real clock.

pub mod api;
pub mod domain;
pub mod events;
pub mod jobs;
pub mod notify;
pub mod rota_handover;
pub mod safety;
pub mod store;
