//! The `tomoni` server: configuration, HTTP, and the commands of the binary, around the schema crate.
//!
//! `main.rs` only parses the command line; everything that runs lives here so that the black-box
//! tests start exactly what production starts.

pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod email;
pub mod http;
pub mod push;
pub mod telemetry;
pub mod workers;

pub use app::{Application, SystemClock};
