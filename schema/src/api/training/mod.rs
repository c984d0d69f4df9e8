//! Training in the API: the curriculum, each supporter's progress and capabilities, supervision,
//! the coordinators' training overview and workload view, program settings, and the mutations
//! that record them. Capabilities always come from `domain::training::capabilities`.

mod capabilities;
mod curriculum;
mod enums;
mod inputs;
mod mutations;
mod overview;
mod progress;
mod queries;

pub use capabilities::SupporterCapabilities;
pub(crate) use capabilities::{
    capabilities_in, capabilities_loaded, capacity_of, training_incomplete,
};
pub use curriculum::ProgramSettingsObject;
pub use mutations::TrainingMutation;
pub use progress::SupporterTraining;
pub(crate) use progress::may_see_training;
pub use queries::TrainingQuery;
