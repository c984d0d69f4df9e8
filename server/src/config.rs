//! The server's settings: defaults in code, then an optional TOML file, then `TOMONI_*` environment
//! variables, then command-line flags. Loaded once at start and validated there, with errors that
//! name the bad key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables with the TOMONI_ prefix that are not settings (read elsewhere).
const NOT_SETTINGS: &[&str] = &["config", "test_postgres_url", "playground_tarballs"];

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where the embedded database (and later, keys) live. Created on first start.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; unset means SQLite in `data_dir`.
    pub database_url: Option<Secret>,
    /// Connections in the database pool (default: [`default_pool_size`]).
    pub database_max_connections: u32,
    pub log: LogSettings,
    pub limits: Limits,
    pub push: PushSettings,
    pub safety: SafetySettings,
    pub email: EmailSettings,
    /// Minutes a pairing code works after it is issued.
    pub pairing_code_minutes: u32,
    /// Seconds the server waits for open requests after SIGTERM or Ctrl-C.
    pub shutdown_grace_seconds: u64,
    /// Reverse proxies (addresses or networks, `10.0.0.0/8`) whose `X-Forwarded-For` names the
    /// client. Empty: the header is ignored and the peer is the client.
    pub trusted_proxies: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `human` (default) or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `info,tomoni_server=debug`.
    pub filter: String,
}

/// Web Push delivery.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushSettings {
    /// Who push services contact about this server: a `mailto:` or `https:` URI (RFC 8292).
    pub vapid_subject: String,
    /// The VAPID key pair, base64url (raw 32-byte private scalar, 65-byte public point). Unset:
    /// generated on first start and kept in `data_dir`. Several servers on one database must share
    /// one key: set it here for all of them.
    pub vapid_private_key: Option<Secret>,
    pub vapid_public_key: Option<String>,
    /// Push services the server sends to (exact host or `*.domain`).
    pub allowed_hosts: Vec<String>,
    /// Ports push endpoints may use (checked at registration and at every send).
    pub allowed_ports: Vec<u16>,
    /// Accept endpoints on any port. For tests only (a local receiver's port is the system's pick).
    pub allow_any_port: bool,
    /// Accept subscriptions on private, loopback or link-local addresses. For tests only.
    pub allow_private_addresses: bool,
    /// Accept plain-http subscriptions. For tests only.
    pub allow_http: bool,
    /// Run the dispatcher in this process (turn off on servers that should only answer requests).
    pub dispatcher: bool,
    /// Dispatcher loops in this process. Several overlap database work with sending; they share
    /// the work through the same claims as several servers do.
    pub workers: usize,
    /// Seconds one request to a push service may take.
    pub request_timeout_seconds: u64,
    /// Requests to push services in flight at once.
    pub max_in_flight: usize,
    /// Rows the dispatcher claims at a time.
    pub batch_size: u64,
    /// How often an idle dispatcher looks for due work, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long a dispatcher's claim on due work lasts. Work claimed by a server that dies is
    /// picked up after this; it must exceed the request timeout.
    pub lease_seconds: u64,
}

impl Default for PushSettings {
    fn default() -> Self {
        let policy = tomoni_schema::domain::push::EndpointPolicy::default();
        Self {
            vapid_subject: "mailto:tomoni-operators@example.invalid".into(),
            vapid_private_key: None,
            vapid_public_key: None,
            allowed_hosts: policy.allowed_hosts,
            allowed_ports: policy.allowed_ports,
            allow_any_port: false,
            allow_private_addresses: false,
            allow_http: false,
            dispatcher: true,
            workers: 2,
            request_timeout_seconds: 10,
            max_in_flight: 64,
            batch_size: 256,
            poll_interval_ms: 250,
            lease_seconds: 60,
        }
    }
}

impl PushSettings {
    /// Where pushes may go: one policy for registration (the API) and sending (the dispatcher).
    pub fn endpoint_policy(&self) -> tomoni_schema::domain::push::EndpointPolicy {
        tomoni_schema::domain::push::EndpointPolicy {
            allowed_hosts: self.allowed_hosts.clone(),
            allowed_ports: self.allowed_ports.clone(),
            allow_any_port: self.allow_any_port,
            allow_private_addresses: self.allow_private_addresses,
            allow_http: self.allow_http,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// The safety watchdog (check-in prompts, alerts, escalation).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafetySettings {
    /// Run the watchdog in this process (several servers share its work safely).
    pub watchdog: bool,
    /// How often it looks for due check-ins and escalations, in milliseconds.
    pub tick_ms: u64,
    /// Outings and alerts it handles per tick at most (the rest at the next, at once).
    pub batch_size: u64,
    /// An acknowledged alert left unresolved this long reminds its owner; as long again, and it
    /// goes back to the coordinators on duty.
    pub acknowledged_reminder_minutes: u32,
    /// An SOS that no coordinator has acknowledged this long tells the people on the outing to
    /// call the emergency numbers (119, 110) themselves.
    pub sos_unanswered_minutes: u32,
    /// An alert pushed to a coordinator whose app has not confirmed showing it this long is
    /// e-mailed to them (when `email.smtp_url` is set and they have an address).
    pub email_fallback_minutes: u32,
}

/// The alert e-mail fallback's SMTP relay.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// `smtps://user:password@host:465` (TLS from the start), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtp://host:25` (plain, for a relay on this machine and for tests). Unset:
    /// no e-mail fallback. May carry a password: never printed.
    pub smtp_url: Option<Secret>,
    /// The sender, e.g. `Tomoni <alerts@example.org>`.
    pub from: String,
    /// Run the fallback worker in this process when `smtp_url` is set (several servers share its
    /// work safely).
    pub worker: bool,
    /// How often it looks for alerts to e-mail, in milliseconds.
    pub poll_interval_ms: u64,
    /// Seconds one SMTP conversation may take.
    pub timeout_seconds: u64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Tomoni <tomoni-alerts@example.invalid>".into(),
            worker: true,
            poll_interval_ms: 5_000,
            timeout_seconds: 20,
        }
    }
}

impl SafetySettings {
    /// The timings the schema's rules take.
    /// The timings the schema's rules take; `email_fallback` says whether an e-mail relay is
    /// configured (then an address makes a coordinator reachable).
    pub fn timings(&self, email_fallback: bool) -> tomoni_schema::safety::SafetyTimings {
        tomoni_schema::safety::SafetyTimings {
            acknowledged_reminder: chrono::Duration::minutes(i64::from(
                self.acknowledged_reminder_minutes,
            )),
            sos_unanswered: chrono::Duration::minutes(i64::from(self.sos_unanswered_minutes)),
            email_fallback: email_fallback
                .then(|| chrono::Duration::minutes(i64::from(self.email_fallback_minutes))),
        }
    }
}

impl Default for SafetySettings {
    fn default() -> Self {
        Self {
            watchdog: true,
            tick_ms: 200,
            batch_size: 200,
            acknowledged_reminder_minutes: 15,
            sos_unanswered_minutes: 3,
            email_fallback_minutes: 5,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub body_bytes: usize,
    /// Deepest nesting of a query.
    pub max_depth: usize,
    /// Largest complexity of a query.
    pub max_complexity: usize,
    /// Most aliases in one request (counted as its fragments expand).
    pub max_aliases: usize,
    /// Most fields in one request (counted as its fragments expand).
    pub max_fields: usize,
    /// Most operations in one batched request.
    pub max_batch: usize,
    /// Pairing-code attempts per client address per minute.
    pub redeem_attempts_per_minute: u32,
    /// Events a subscription may fall behind before it is told it missed some (and resyncs).
    pub subscription_backlog: usize,
}

/// Twice the cores this server has, at least 4: more connections than the cores can serve at once
/// only queue in the database's scheduler instead of the pool's (measured: on 2 cores, "my day"
/// at concurrency 16 had a p99 about a fifth lower with 4 connections than with 10, and no stalls
/// of 100 ms while the pool grew). The watchdog and the push workers share the pool; a database on
/// a bigger machine than the server may want more (`database_max_connections`).
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4)
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("tomoni-data"),
            database_url: None,
            database_max_connections: default_pool_size(),
            log: LogSettings::default(),
            limits: Limits::default(),
            push: PushSettings::default(),
            safety: SafetySettings::default(),
            email: EmailSettings::default(),
            pairing_code_minutes: 15,
            shutdown_grace_seconds: 10,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            filter: "info".into(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            max_depth: 10,
            max_complexity: 1000,
            max_aliases: tomoni_schema::api::query_limits::DEFAULT_MAX_ALIASES,
            max_fields: tomoni_schema::api::query_limits::DEFAULT_MAX_FIELDS,
            max_batch: 10,
            redeem_attempts_per_minute: 10,
            subscription_backlog: tomoni_schema::events::DEFAULT_BACKLOG,
        }
    }
}

/// A value that must not be printed: `Debug` and `Display` show `***`.
#[derive(Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A setting that is wrong, named as the person would write it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
    #[error("configuration key `{key}` (env TOMONI_{env}): {problem}")]
    Invalid {
        key: &'static str,
        env: String,
        problem: String,
    },
}

/// Values given on the command line, which win over every other source.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Settings {
    /// Loads defaults, then `file` (if given), then the environment, then `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(SettingsError::Invalid {
                    key: "config",
                    env: "CONFIG".into(),
                    problem: format!("no such file: {}", file.display()),
                });
            }
            figment = figment.merge(Toml::file(file));
        }
        let settings: Settings = figment
            .merge(Env::prefixed("TOMONI_").ignore(NOT_SETTINGS).split("__"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|err| SettingsError::Load(Box::new(err)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        fn invalid(key: &'static str, problem: impl Into<String>) -> SettingsError {
            SettingsError::Invalid {
                key,
                env: key.to_uppercase().replace('.', "__"),
                problem: problem.into(),
            }
        }
        if !(10..=10_000).contains(&self.safety.tick_ms) {
            return Err(invalid("safety.tick_ms", "must be between 10 and 10000"));
        }
        if !(1..=10_000).contains(&self.safety.batch_size) {
            return Err(invalid("safety.batch_size", "must be between 1 and 10000"));
        }
        if !(1..=240).contains(&self.safety.acknowledged_reminder_minutes) {
            return Err(invalid(
                "safety.acknowledged_reminder_minutes",
                "must be between 1 and 240",
            ));
        }
        if !(1..=30).contains(&self.safety.sos_unanswered_minutes) {
            return Err(invalid(
                "safety.sos_unanswered_minutes",
                "must be between 1 and 30",
            ));
        }
        if !(1..=24 * 60).contains(&self.safety.email_fallback_minutes) {
            return Err(invalid(
                "safety.email_fallback_minutes",
                "must be between 1 and 1440",
            ));
        }
        if let Some(url) = &self.email.smtp_url {
            // The problem only, never the URL: it may carry a password.
            crate::email::check_url(url.expose())
                .map_err(|problem| invalid("email.smtp_url", problem))?;
        }
        if self.email.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "email.from",
                "must be an address, e.g. alerts@example.org or Tomoni <alerts@example.org>",
            ));
        }
        if !(100..=600_000).contains(&self.email.poll_interval_ms) {
            return Err(invalid(
                "email.poll_interval_ms",
                "must be between 100 and 600000",
            ));
        }
        if !(1..=300).contains(&self.email.timeout_seconds) {
            return Err(invalid(
                "email.timeout_seconds",
                "must be between 1 and 300",
            ));
        }
        if let Some(url) = &self.database_url {
            let url = url.expose();
            if !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
            {
                return Err(invalid(
                    "database_url",
                    "must start with postgres://, postgresql:// or sqlite:",
                ));
            }
        }
        if self.database_max_connections == 0 {
            return Err(invalid("database_max_connections", "must be at least 1"));
        }
        if !(1..=1_000_000).contains(&self.limits.subscription_backlog) {
            return Err(invalid(
                "limits.subscription_backlog",
                "must be between 1 and 1000000",
            ));
        }
        if self.limits.body_bytes < 1024 {
            return Err(invalid("limits.body_bytes", "must be at least 1024"));
        }
        // The app's operations nest up to 5 deep and select a few dozen fields; the playground
        // gets its schema without introspecting, so it needs neither.
        if self.limits.max_depth < 6 {
            return Err(invalid(
                "limits.max_depth",
                "must be at least 6 (the app's operations need it)",
            ));
        }
        if self.limits.max_fields < 100 {
            return Err(invalid(
                "limits.max_fields",
                "must be at least 100 (the app's operations need it)",
            ));
        }
        if self.limits.max_complexity < 300 {
            return Err(invalid("limits.max_complexity", "must be at least 300"));
        }
        if self.limits.max_batch == 0 {
            return Err(invalid("limits.max_batch", "must be at least 1"));
        }
        self.trusted_proxies()
            .map_err(|err| invalid("trusted_proxies", err.to_string()))?;
        if self.limits.redeem_attempts_per_minute == 0 {
            return Err(invalid(
                "limits.redeem_attempts_per_minute",
                "must be at least 1",
            ));
        }
        if !(self.push.vapid_subject.starts_with("mailto:")
            || self.push.vapid_subject.starts_with("https://"))
        {
            return Err(invalid(
                "push.vapid_subject",
                "must start with mailto: or https://",
            ));
        }
        if self.push.vapid_private_key.is_some() != self.push.vapid_public_key.is_some() {
            return Err(invalid(
                "push.vapid_private_key",
                "set both push.vapid_private_key and push.vapid_public_key, or neither",
            ));
        }
        if self.push.allowed_ports.contains(&0) {
            return Err(invalid("push.allowed_ports", "ports are 1 to 65535"));
        }
        if !(1..=120).contains(&self.push.request_timeout_seconds) {
            return Err(invalid(
                "push.request_timeout_seconds",
                "must be between 1 and 120",
            ));
        }
        if self.push.lease_seconds <= self.push.request_timeout_seconds {
            return Err(invalid(
                "push.lease_seconds",
                "must be longer than push.request_timeout_seconds",
            ));
        }
        if !(1..=16).contains(&self.push.workers) {
            return Err(invalid("push.workers", "must be between 1 and 16"));
        }
        if self.push.max_in_flight == 0 {
            return Err(invalid("push.max_in_flight", "must be at least 1"));
        }
        if !(1..=10_000).contains(&self.push.batch_size) {
            return Err(invalid("push.batch_size", "must be between 1 and 10000"));
        }
        if !(10..=60_000).contains(&self.push.poll_interval_ms) {
            return Err(invalid(
                "push.poll_interval_ms",
                "must be between 10 and 60000",
            ));
        }
        if !(1..=24 * 60).contains(&self.pairing_code_minutes) {
            return Err(invalid(
                "pairing_code_minutes",
                "must be between 1 and 1440",
            ));
        }
        Ok(())
    }

    /// The reverse proxies whose `X-Forwarded-For` is believed (checked at start).
    pub fn trusted_proxies(
        &self,
    ) -> Result<
        tomoni_schema::domain::client_address::TrustedProxies,
        tomoni_schema::domain::client_address::InvalidProxy,
    > {
        tomoni_schema::domain::client_address::TrustedProxies::parse(&self.trusted_proxies)
    }

    /// The database to use: the configured URL, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tomoni.sqlite3").display()
            ),
        }
    }

    pub fn uses_embedded_database(&self) -> bool {
        self.database_url.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let settings = Settings::default();
        settings.validate().unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert!(settings.database_url().starts_with("sqlite://tomoni-data/"));
    }

    #[test]
    fn invalid_values_name_their_key() {
        let mut settings = Settings::default();
        settings.limits.max_batch = 0;
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("limits.max_batch"), "{message}");
        assert!(message.contains("TOMONI_LIMITS__MAX_BATCH"), "{message}");

        let settings = Settings {
            database_url: Some(Secret::new("mysql://x")),
            ..Settings::default()
        };
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("database_url"), "{message}");
        assert!(
            !message.contains("mysql://x"),
            "the value itself may be a secret: {message}"
        );
    }

    #[test]
    fn email_settings_are_checked_without_printing_the_url() {
        let mut settings = Settings::default();
        settings.email.smtp_url = Some(Secret::new("smtp://user:hunter2@127.0.0.1:2525"));
        settings.validate().unwrap();
        settings.email.smtp_url = Some(Secret::new("smtps://user:hunter2@mail.example.org"));
        settings.validate().unwrap();
        settings.email.smtp_url = Some(Secret::new("smtp://mail.example.org:587?tls=required"));
        settings.validate().unwrap();
        for bad in [
            "http://user:hunter2@mail.example.org",
            "smtp://user:hunter2@",
            "nonsense hunter2",
        ] {
            settings.email.smtp_url = Some(Secret::new(bad));
            let message = settings.validate().unwrap_err().to_string();
            assert!(message.contains("email.smtp_url"), "{message}");
            assert!(message.contains("TOMONI_EMAIL__SMTP_URL"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        settings.email.smtp_url = None;
        settings.email.from = "not an address".into();
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("email.from"), "{message}");
        settings.email.from = "Tomoni <alerts@example.org>".into();
        settings.safety.email_fallback_minutes = 0;
        let message = settings.validate().unwrap_err().to_string();
        assert!(
            message.contains("safety.email_fallback_minutes"),
            "{message}"
        );
        assert!(format!("{settings:?}").contains("email"));
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses() {
        let mut settings = Settings::default();
        assert!(settings.trusted_proxies().unwrap().is_empty());
        settings.trusted_proxies = vec!["10.0.0.0/8".into(), "::1".into()];
        settings.validate().unwrap();
        settings.trusted_proxies = vec!["10.0.0.0/8".into(), "proxy.internal".into()];
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("trusted_proxies"), "{message}");
        assert!(message.contains("TOMONI_TRUSTED_PROXIES"), "{message}");
        assert!(message.contains("proxy.internal"), "{message}");

        let dir = std::env::temp_dir().join(format!("tomoni-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tomoni.toml");
        std::fs::write(
            &file,
            "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n[push]\nallowed_ports = [443, 8443]\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(settings.trusted_proxies, ["10.0.0.0/8", "::1"]);
        assert_eq!(settings.push.allowed_ports, [443, 8443]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn push_ports_are_checked() {
        let mut settings = Settings::default();
        assert_eq!(settings.push.allowed_ports, vec![443]);
        assert!(!settings.push.endpoint_policy().allow_any_port);
        settings.push.allowed_ports = vec![443, 0];
        let message = settings.validate().unwrap_err().to_string();
        assert!(message.contains("push.allowed_ports"), "{message}");
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("postgres://user:password@host/db");
        assert_eq!(format!("{secret:?}"), "***");
    }

    #[test]
    fn a_toml_file_is_read_and_a_typo_in_it_is_named() {
        let dir = std::env::temp_dir().join(format!("tomoni-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tomoni.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9999\"\n[limits]\nmax_batch = 3\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(settings.listen.port(), 9999);
        assert_eq!(settings.limits.max_batch, 3);

        std::fs::write(&file, "[limits]\nmax_bach = 3\n").unwrap();
        let message = Settings::load(Some(&file), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("max_bach"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
