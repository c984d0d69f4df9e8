//! The benchmarks `scripts/bench.sh` runs (never the test suite), for the programs `tomoni-bench`
//! and `tomoni-outing-bench`: the scenarios, the generated history the outing ones share, how it
//! is loaded, and how load is put on the server and its cost measured.

mod copy;
mod cpu;
mod driver;
mod history;
mod load;
mod rng;
pub mod scenarios;
mod statements;
mod world;

pub use statements::count_statements;

use tomoni_server::Application;

use crate::{Backend, POSTGRES_ENV, TestDatabase};

/// The database a run is on, from its command-line name; PostgreSQL needs [`POSTGRES_ENV`].
pub fn backend_kind(backend: &str) -> Backend {
    match backend {
        "sqlite" => Backend::Sqlite,
        "postgres" => {
            if std::env::var(POSTGRES_ENV).is_err() {
                eprintln!(
                    "set {POSTGRES_ENV} (e.g. postgres://postgres@127.0.0.1:5432/postgres) for the postgres run"
                );
                std::process::exit(2);
            }
            Backend::Postgres
        }
        other => {
            eprintln!("unknown database {other}: sqlite or postgres");
            std::process::exit(2);
        }
    }
}

/// A multi-threaded runtime, as the server runs on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The application running on this runtime until [`Running::stop`].
pub(crate) struct Running {
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub(crate) fn start(application: Application) -> Self {
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(application.run(async {
            let _ = shutdown_rx.await;
        }));
        Self { shutdown, server }
    }

    /// Tells the server to stop and waits until it has; what it ran into, if anything.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.server.await.expect("the server task")
    }
}

/// With TOMONI_BENCH_KEEP set, the database stays for a look afterwards (EXPLAIN ANALYZE …).
pub(crate) fn keep(database: TestDatabase) {
    if std::env::var_os("TOMONI_BENCH_KEEP").is_some() {
        eprintln!(
            "kept: {} (data directory {})",
            database.effective_url(),
            database.data_dir.display()
        );
        std::mem::forget(database);
    }
}
