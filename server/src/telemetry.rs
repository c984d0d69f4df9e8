//! Logging through tracing: human-readable by default, JSON on request. Log lines carry ids, never
//! names, notes, tokens or push endpoints.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Quietens what is noise in production whatever the filter asks for: PostgreSQL's NOTICE about the
/// migrations table on every start.
const ALWAYS: &str = "sqlx::postgres::notice=warn";

pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(format!("{},{ALWAYS}", settings.filter)).map_err(|err| {
        anyhow::anyhow!("configuration key `log.filter` (env TOMONI_LOG__FILTER): {err}")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match settings.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|err| anyhow::anyhow!("cannot start logging: {err}"))
}
