//! Background work: loops that claim due rows from the database and act on them. Every job is a
//! row, so a crash or a second server never loses or doubles one (beyond what Web Push's
//! at-least-once delivery allows).

pub mod dispatcher;
pub mod email_fallback;
pub mod events_bridge;
pub mod health;
pub mod metrics;
pub mod program;
pub mod supervisor;
pub mod watchdog;

pub use dispatcher::{Dispatcher, DispatcherConfig, TickReport};
pub use health::WorkerHealth;
pub use metrics::PushMetrics;
