//! The inputs and payloads of the match mutations.

use async_graphql::{ID, InputObject, SimpleObject};

use super::objects::{MatchEndReason, SupportMatch};
use crate::api::people::Person;

#[derive(InputObject)]
pub struct ProposeMatchInput {
    pub supporter_id: ID,
    pub participant_id: ID,
}

#[derive(InputObject)]
pub struct AcceptMatchInput {
    pub match_id: ID,
}

#[derive(InputObject)]
pub struct DeclineMatchInput {
    pub match_id: ID,
    pub reason: Option<MatchEndReason>,
}

#[derive(InputObject)]
pub struct PauseMatchInput {
    pub match_id: ID,
    pub reason: Option<MatchEndReason>,
}

#[derive(InputObject)]
pub struct ResumeMatchInput {
    pub match_id: ID,
}

#[derive(InputObject)]
pub struct EndMatchInput {
    pub match_id: ID,
    pub reason: MatchEndReason,
    /// A short closing reflection (abrupt endings hurt participants: say how it closed).
    pub closing_reflection: String,
}

/// Every match mutation returns the match as it now is (`match`).
macro_rules! match_payload {
    ($($name:ident),+) => {$(
        #[derive(SimpleObject)]
        pub struct $name {
            #[graphql(name = "match")]
            pub support_match: SupportMatch,
        }

        impl From<SupportMatch> for $name {
            fn from(support_match: SupportMatch) -> Self {
                Self { support_match }
            }
        }
    )+};
}

match_payload!(
    ProposeMatchPayload,
    AcceptMatchPayload,
    DeclineMatchPayload,
    PauseMatchPayload,
    ResumeMatchPayload,
    EndMatchPayload
);

#[derive(InputObject)]
pub struct TakeBreakInput {
    pub supporter_id: ID,
}

#[derive(SimpleObject)]
pub struct TakeBreakPayload {
    pub supporter: Person,
    /// The matches the break paused.
    pub paused_matches: Vec<SupportMatch>,
}

#[derive(InputObject)]
pub struct ReturnFromBreakInput {
    pub supporter_id: ID,
}

#[derive(SimpleObject)]
pub struct ReturnFromBreakPayload {
    pub supporter: Person,
}
