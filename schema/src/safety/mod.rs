//! The safety net's writes: raising an alert (and pushing it to the right coordinators), what a
//! check-in does to the outing's alerts (a late "OK" answers a missed check-in, an urgent one joins
//! the alert already open), the ladder re-armed when an alert is resolved, and the watchdog's tick,
//! which takes the check-in ladder's due steps and moves active alerts along theirs. The rules are
//! `domain::outings`; the server only calls `watchdog_tick` in a loop. All state is in the
//! database, so a restarted or second server carries on where the first stopped.

mod alerts;
mod watch;
mod watchdog;

pub(crate) use alerts::coordinators_on_duty;
pub use alerts::{CheckInAlerts, after_resolution, alerts_after_check_in, raise_alert};
pub use watch::{SafetyTimings, apply_watch, grace_of, watch_of};
pub use watchdog::{TickReport, alert_changed, watchdog_tick};
