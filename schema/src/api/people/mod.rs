//! People in the API: persons and their profiles, organisations, pairing codes and devices — the
//! objects, the inputs, the queries and the mutations.

mod inputs;
mod mutations;
mod objects;
mod queries;

pub use mutations::PeopleMutation;
pub(crate) use objects::crisis_plan_for;
pub use objects::{Device, DeviceEvent, DeviceEventKind, Locale, Person};
pub use queries::PeopleQuery;
