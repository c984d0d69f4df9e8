//! The scenarios, one a module, each printing one line of figures last but for the outing ones,
//! which print the history's line first: `push` and `suggestions` (`tomoni-bench`), `watchdog` and
//! `myday` (`tomoni-outing-bench`, over the generated history of [`super::history`]).

#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

pub(crate) mod myday;
mod push;
mod suggestions;
mod watchdog;

pub use myday::myday;
pub use push::push;
pub use suggestions::suggestions;
pub use watchdog::watchdog;
