//! Helpers for the black-box tests: the real server on port 0 over a fresh database (SQLite by
//! default, PostgreSQL when TOMONI_TEST_POSTGRES_URL names an admin connection), a manual clock,
//! and a small GraphQL client. `push_receiver` is a local push service; `bench` holds the
//! benchmarks `scripts/bench.sh` runs.

#![expect(
    clippy::expect_used,
    reason = "test helpers fail the test loudly on setup errors"
)]

pub mod bench;
pub mod program;
pub mod push_receiver;
pub mod smtp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tomoni_schema::domain::clock::{Clock, ManualClock};
use tomoni_schema::domain::people::{Locale, OrganisationKind};
use tomoni_server::config::{Secret, Settings};
use tomoni_server::workers::Dispatcher;
use tomoni_server::{Application, admin};
use uuid::Uuid;

/// Which database the suite runs on, chosen once per run by the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The environment variable that switches the suite to PostgreSQL. Its value is a connection URL
/// with the right to create databases, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_ENV: &str = "TOMONI_TEST_POSTGRES_URL";

pub fn backend() -> Backend {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// A database made for one test and removed after it.
pub struct TestDatabase {
    /// For PostgreSQL, the URL of the test's own database; for SQLite, none (the server's data
    /// directory holds it, as in production's embedded default).
    pub url: Option<String>,
    pub data_dir: PathBuf,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        Self::create_on(backend()).await
    }

    pub async fn create_on(backend: Backend) -> Self {
        let data_dir =
            std::env::temp_dir().join(format!("tomoni-test-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&data_dir).expect("create a temporary data directory");
        match backend {
            Backend::Sqlite => Self {
                url: None,
                data_dir,
                postgres: None,
            },
            Backend::Postgres => {
                let admin_url = std::env::var(POSTGRES_ENV).expect("postgres url");
                let name = format!("tomoni_test_{}", Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|err| {
                    panic!("{POSTGRES_ENV} is set but PostgreSQL cannot be reached: {err}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                Self {
                    url: Some(with_database(&admin_url, &name)),
                    data_dir,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// The URL the server ends up using.
    pub fn effective_url(&self) -> String {
        self.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tomoni.sqlite3").display()
            )
        })
    }
}

impl TestDatabase {
    /// Settings of a server on port 0 over this database: see [`local_settings`].
    pub fn settings(&self) -> Settings {
        local_settings(self.data_dir.clone(), self.url.clone())
    }
}

/// Settings of a server on port 0 over the database at `database_url` (none: SQLite in
/// `data_dir`), the server's defaults otherwise, stopping within a second. Pushes may go to a
/// local receiver: it listens on loopback over plain HTTP, on a port the system picks.
pub fn local_settings(data_dir: PathBuf, database_url: Option<String>) -> Settings {
    let mut settings = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir,
        database_url: database_url.map(Secret::new),
        shutdown_grace_seconds: 1,
        ..Settings::default()
    };
    settings.push.allow_private_addresses = true;
    settings.push.allow_http = true;
    settings.push.allow_any_port = true;
    settings
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{database}?{query}"),
        None => format!("{host_part}/{database}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside async code: a short-lived runtime on its own thread does the work.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let admin = Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await?;
                    admin.close().await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("warning: could not drop a test database");
            }
        }
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: SocketAddr,
    pub http: reqwest::Client,
    /// A direct connection, for assertions on what was (not) written.
    pub db: DatabaseConnection,
    pub clock: ManualClock,
    pub settings: Settings,
    /// The application's push dispatcher, to drive tick by tick when `push.dispatcher` is off.
    pub dispatcher: Arc<Dispatcher>,
    /// The application's event bus, to publish on as its own requests and workers do.
    pub events: tomoni_schema::events::EventBus,
    /// The alert e-mail fallback (when `email.smtp_url` is set), to drive tick by tick when
    /// `email.worker` is off.
    pub email_fallback: Option<Arc<tomoni_server::workers::email_fallback::EmailFallback>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    // Last: dropped after the server has been told to stop.
    _database: TestDatabase,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the real application on port 0; `configure` can change settings first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::create().await;
    let mut settings = Settings {
        database_max_connections: 5,
        ..database.settings()
    };
    configure(&mut settings);
    let clock = ManualClock::new(chrono::Utc::now());
    let application = Application::build(&settings, Arc::new(clock.clone()))
        .await
        .expect("build the application");
    let address = application.local_addr().expect("local address");
    let dispatcher = application.dispatcher();
    let events = application.events();
    let email_fallback = application.email_fallback();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        application
            .run(async {
                let _ = shutdown_rx.await;
            })
            .await
            .expect("server ran");
    });
    let db = Database::connect(&database.effective_url())
        .await
        .expect("connect for assertions");
    TestApp {
        address,
        http: reqwest::Client::new(),
        db,
        clock,
        settings,
        dispatcher,
        events,
        email_fallback,
        shutdown: Some(shutdown_tx),
        server: Some(server),
        _database: database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// A GraphQL answer: the HTTP status and the JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The `data`, after checking there are no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "expected no errors, got {} {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error, if any.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// Asserts the first error has this code and returns its message.
    pub fn expect_error(&self, code: &str) -> String {
        assert_eq!(
            self.error_code(),
            Some(code),
            "expected {code}, got {} {}",
            self.status,
            self.body
        );
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// POSTs one operation, with a token if given.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Answer {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        answer(response).await
    }

    /// A new organisation with one coordinator; returns (organisation id, coordinator token).
    pub async fn organisation_with_coordinator(&self, name: &str) -> (Uuid, String) {
        let now = self.clock.now();
        let organisation = admin::create_organisation(
            &self.db,
            name,
            OrganisationKind::Hospital,
            "Asia/Tokyo",
            now,
        )
        .await
        .expect("create organisation");
        let (_, token) =
            admin::create_coordinator(&self.db, organisation.id, "Coordinator", Locale::Ja, now)
                .await
                .expect("create coordinator");
        (organisation.id, token.reveal().to_owned())
    }

    /// Creates a person through the API; returns their id.
    pub async fn create_person(&self, coordinator: &str, role: &str, name: &str) -> String {
        let answer = self
            .graphql(
                Some(coordinator),
                "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
                json!({ "input": { "displayName": name, "role": role } }),
            )
            .await;
        answer.data()["createPerson"]["person"]["id"]
            .as_str()
            .expect("person id")
            .to_owned()
    }

    /// Issues a pairing code for the person (as the coordinator); returns the code.
    pub async fn issue_code(&self, coordinator: &str, person_id: &str) -> String {
        let answer = self
            .graphql(
                Some(coordinator),
                "mutation($input: IssuePairingCodeInput!) { issuePairingCode(input: $input) { pairingCode { code expiresAt } } }",
                json!({ "input": { "personId": person_id } }),
            )
            .await;
        answer.data()["issuePairingCode"]["pairingCode"]["code"]
            .as_str()
            .expect("code")
            .to_owned()
    }

    pub async fn redeem(&self, code: &str, label: &str) -> Answer {
        self.graphql(
            None,
            "mutation($input: RedeemPairingCodeInput!) { redeemPairingCode(input: $input) { token device { id label } person { id role } } }",
            json!({ "input": { "code": code, "deviceLabel": label } }),
        )
        .await
    }

    /// Pairs a device for the person; returns (token, device id).
    pub async fn pair(&self, coordinator: &str, person_id: &str) -> (String, String) {
        let code = self.issue_code(coordinator, person_id).await;
        let answer = self.redeem(&code, "Test phone").await;
        let data = &answer.data()["redeemPairingCode"];
        (
            data["token"].as_str().expect("token").to_owned(),
            data["device"]["id"].as_str().expect("device id").to_owned(),
        )
    }

    /// A lead supporter ("Ken", trained through the organisation's curriculum) and a participant
    /// ("Haruka") under `coordinator`, neither paired; returns (curriculum, lead id, participant id).
    pub async fn lead_and_participant(
        &self,
        coordinator: &str,
    ) -> (program::Curriculum, String, String) {
        let curriculum = self.curriculum(coordinator).await;
        let lead = self.lead_supporter(coordinator, &curriculum, "Ken").await;
        let participant = self
            .create_person(coordinator, "PARTICIPANT", "Haruka")
            .await;
        (curriculum, lead, participant)
    }

    /// An untrained supporter ("Ken") and a participant ("Haruka") under `coordinator`, neither
    /// paired; returns their ids.
    pub async fn supporter_and_participant(&self, coordinator: &str) -> (String, String) {
        let supporter = self.create_person(coordinator, "SUPPORTER", "Ken").await;
        let participant = self
            .create_person(coordinator, "PARTICIPANT", "Haruka")
            .await;
        (supporter, participant)
    }

    /// Pairs a phone for the lead, then one for the participant; returns their tokens.
    pub async fn pair_both(
        &self,
        coordinator: &str,
        lead: &str,
        participant: &str,
    ) -> (String, String) {
        let (lead_token, _) = self.pair(coordinator, lead).await;
        let (participant_token, _) = self.pair(coordinator, participant).await;
        (lead_token, participant_token)
    }

    /// Plans an outing a minute from now for `minutes`, lets the minute pass and has the lead
    /// start it; returns its id.
    pub async fn start_outing(
        &self,
        coordinator: &str,
        participant: &str,
        lead: &str,
        lead_token: &str,
        minutes: i64,
    ) -> String {
        let planned = self
            .plan_outing(coordinator, participant, lead, 1, minutes)
            .await;
        let outing = planned.data()["planOuting"]["outing"]["id"]
            .as_str()
            .expect("outing id")
            .to_owned();
        self.clock.advance(chrono::Duration::minutes(1));
        self.start_planned(lead_token, &outing).await;
        outing
    }

    /// Starts the planned outing as `token` (one of its supporters), expecting no error.
    pub async fn start_planned(&self, token: &str, outing: &str) {
        self.outing_step(token, "startOuting", json!({ "outingId": outing }))
            .await
            .data();
    }

    /// Checks in on the outing as `token` with `kind` ("OK", "NEED_HELP", …).
    pub async fn check_in(&self, token: &str, outing: &str, kind: &str) -> Answer {
        self.graphql(
            Some(token),
            "mutation($input: CheckInInput!) { checkIn(input: $input) { checkIn { kind } } }",
            json!({ "input": { "outingId": outing, "kind": kind } }),
        )
        .await
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// Registers a new subscription of `receiver` for the device holding `token`.
    pub async fn register_push(
        &self,
        token: &str,
        receiver: &push_receiver::PushReceiver,
    ) -> push_receiver::BrowserSubscription {
        let subscription = receiver.subscribe();
        let answer = self
            .graphql(
                Some(token),
                "mutation($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { pushSubscription { id } } }",
                json!({ "input": subscription.as_input() }),
            )
            .await;
        answer.data();
        subscription
    }

    /// Ticks the dispatcher until a tick finds nothing to do (bounded).
    pub async fn drain(&self) -> usize {
        let mut attempts = 0;
        for _ in 0..1000 {
            let report = self.dispatcher.tick().await.expect("dispatcher tick");
            if !report.did_work() {
                return attempts;
            }
            attempts += report.attempts;
        }
        panic!("the dispatcher never ran out of work");
    }

    /// Rows in a table, for "nothing was written" assertions.
    pub async fn count<E: EntityTrait>(&self, _entity: E) -> u64
    where
        E::Model: Sync,
    {
        E::find().count(&self.db).await.expect("count rows")
    }

    /// Row counts of every table a request could write to.
    pub async fn snapshot(&self) -> Vec<u64> {
        use tomoni_schema::store::entities::*;
        vec![
            self.count(organisations::Entity).await,
            self.count(people::Entity).await,
            self.count(supporter_profiles::Entity).await,
            self.count(participant_profiles::Entity).await,
            self.count(devices::Entity).await,
            self.count(pairing_codes::Entity).await,
            self.count(audit_log::Entity).await,
            self.count(notifications::Entity).await,
            self.count(program_settings::Entity).await,
            self.count(courses::Entity).await,
            self.count(course_modules::Entity).await,
            self.count(module_completions::Entity).await,
            self.count(certificates::Entity).await,
            self.count(supervision_sessions::Entity).await,
            self.count(support_matches::Entity).await,
        ]
    }
}

/// A second server on the test app's database (same settings, same clock, its own port), as a
/// deployment runs several. Stops when dropped.
pub struct SecondInstance {
    pub address: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

pub async fn spawn_second_instance(app: &TestApp) -> SecondInstance {
    let mut settings = app.settings.clone();
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let application = Application::build(&settings, Arc::new(app.clock.clone()))
        .await
        .expect("build the second instance");
    let address = application.local_addr().expect("local address");
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        application
            .run(async {
                let _ = shutdown_rx.await;
            })
            .await
            .expect("second instance ran");
    });
    SecondInstance {
        address,
        shutdown: Some(shutdown_tx),
        server: Some(server),
    }
}

impl Drop for SecondInstance {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Another dispatcher on the test app's database, as a second server would run one.
pub async fn spawn_second_dispatcher(app: &TestApp) -> Arc<Dispatcher> {
    spawn_second_dispatcher_with(app, |_| {}).await
}

/// Another dispatcher on the test app's database, with its settings changed by `configure` (a
/// server whose push policy differs from the one subscriptions were registered under).
pub async fn spawn_second_dispatcher_with(
    app: &TestApp,
    configure: impl FnOnce(&mut Settings),
) -> Arc<Dispatcher> {
    let mut settings = app.settings.clone();
    configure(&mut settings);
    let db = Database::connect(app.settings.database_url())
        .await
        .expect("connect");
    let vapid = tomoni_server::push::VapidKey::load(
        None,
        &app.settings.data_dir,
        &app.settings.push.vapid_subject,
    )
    .expect("the same VAPID key");
    let push = tomoni_server::push::PushClient::new(
        Arc::new(vapid),
        std::time::Duration::from_secs(5),
        settings.push.endpoint_policy(),
    )
    .expect("push client");
    Arc::new(Dispatcher::new(
        db,
        Arc::new(app.clock.clone()),
        Arc::new(push),
        Arc::default(),
        tomoni_server::workers::DispatcherConfig {
            batch: 16,
            ..Default::default()
        },
    ))
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("expected a JSON body, got {status}: {text}"));
    Answer { status, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced_in_postgres_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }
}
