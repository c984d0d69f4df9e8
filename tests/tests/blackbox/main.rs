//! Black-box tests: the real server, over HTTP and WebSocket, on SQLite or PostgreSQL (see
//! `tomoni_tests::backend`). One binary, so the suite links once.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers of a test binary fail their test loudly"
)]

mod alert_reach;
mod authorization;
mod bad_input;
mod check_in_answered;
mod concerns;
mod contract;
mod crash;
mod crisis_plan;
mod demo;
mod email_fallback;
mod ended_access;
mod health;
mod layers;
mod matches;
mod migrations;
mod outings;
mod pairing;
mod pairing_limits;
mod people;
mod push;
mod push_endpoints;
mod query_limits;
mod reminders;
mod rota;
mod safety_net;
mod statements;
mod subscriptions_lag;
mod training;
mod websocket;
mod workers;
