//! Outings in the API: planning (and supporters' proposals), the lifecycle, check-ins, extensions,
//! reflections, "my day", the coordinators' list, alerts with acknowledgement and resolution, who
//! is on duty, and reminders. Rules come from `domain::outings` (lifecycle, ladder),
//! `domain::training` (who may lead) and `domain::matching` (weekly caps); alerts are raised by
//! `safety`, which the watchdog shares.

mod alerts;
mod checks;
mod enums;
mod events;
mod inputs;
mod lifecycle;
mod objects;
mod planning;
mod queries;

pub use events::OutingEvent;
pub(crate) use events::{alert_for, cancel_for_ended_match, ensure_may_watch_outing, outing_event};
pub use objects::Alert;
pub use queries::OutingQuery;

/// The outing mutations, one area per file.
#[derive(async_graphql::MergedObject, Default)]
pub struct OutingMutation(
    planning::OutingPlanningMutation,
    lifecycle::OutingLifecycleMutation,
    alerts::AlertMutation,
);
