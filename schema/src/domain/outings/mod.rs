//! Outing rules: purposes, the lifecycle as one state machine (who may take which step), check-in
//! kinds, the limits of what is planned, and the safety watchdog's ladder — when a check-in is
//! prompted, prompted again, and turned into an alert, and how an alert climbs from the
//! coordinators on duty to every coordinator until someone acknowledges it.

mod alerts;
mod lifecycle;
mod plans;
#[cfg(test)]
mod tests;
mod watch;

pub use alerts::*;
pub use lifecycle::*;
pub use plans::*;
pub use watch::*;
