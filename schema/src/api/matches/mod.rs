//! Support matches in the API: proposing, answering, pausing, resuming and ending them, a
//! supporter's break, the lists each role may see, and ranked suggestions for coordinators. Every
//! change is checked against `domain::matching`, audited, and pushed to the people concerned.

mod checks;
mod inputs;
mod mutations;
mod objects;
mod queries;
mod suggestions;

pub use mutations::MatchMutation;
pub use queries::MatchQuery;
