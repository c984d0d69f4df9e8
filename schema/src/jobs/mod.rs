//! Background work that is not GraphQL: what the server's workers run as time passes (beside
//! `safety`, the watchdog's). Errors are the database's, never the API's: a job has no client to
//! answer.

pub mod matches;
