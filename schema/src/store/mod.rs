//! Storage: the sea-orm entities and every query over them. The only place in Tomoni that builds SQL.
//!
//! Functions take the time as an argument (`now`) rather than reading a clock, and take any
//! `ConnectionTrait` so that callers can run several of them in one transaction.

pub mod access;
pub mod audit;
pub mod concerns;
pub mod contact_addresses;
pub mod devices;
pub mod email_fallback;
pub mod entities;
pub mod health;
pub mod instance;
pub mod matches;
pub mod notification_settings;
pub mod organisations;
pub mod outbox;
pub mod outings;
pub mod pairing;
pub mod people;
pub mod profiles;
pub mod program;
pub mod push_subscriptions;
pub mod rota;
pub mod training;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqlErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tomoni_migrations::Migrator;

/// Key of the PostgreSQL advisory lock held while migrating, so that instances starting together
/// migrate one after another instead of racing. Any constant works; this one spells "tomoni".
const MIGRATION_LOCK_KEY: i64 = 0x746f_6d6f_6e69;

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`), tuned for the backend.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A connection in steady use is not pinged before each statement (that doubled the
        // round trips of every read); one idle long enough to have been dropped by the server or
        // a firewall still is.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        // Statements are traced at debug level only: they are useful when tuning, noise otherwise.
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug)
        .map_sqlx_sqlite_opts(tune_sqlite);
    Database::connect(options).await
}

fn tune_sqlite(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .foreign_keys(true)
        // WAL lets readers go on while the one writer writes; NORMAL is durable in WAL mode.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
}

/// Applies every pending migration. On PostgreSQL this holds an advisory lock for the whole run,
/// inside one transaction, so a second instance waits and then finds nothing left to do.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [MIGRATION_LOCK_KEY.into()],
            ))
            .await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        }
        _ => Migrator::up(db, None).await,
    }
}

/// What `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    PendingMigrations(usize),
}

/// Checks that the database answers and that every migration this build knows has been applied.
pub async fn readiness(db: &DatabaseConnection) -> Result<Readiness, DbErr> {
    let pending = Migrator::get_pending_migrations_read_only(db).await?;
    Ok(if pending.is_empty() {
        Readiness::Ready
    } else {
        Readiness::PendingMigrations(pending.len())
    })
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (BEGIN
/// IMMEDIATE): a transaction that read first and then tried to write after another writer had
/// committed would fail at once with SQLITE_BUSY instead of waiting its turn.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}

/// True when the error is a unique-constraint violation (someone else wrote the same thing first).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// One page of a list ordered by id (UUIDv7, so creation order with a unique tie-breaker built in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<uuid::Uuid>,
    pub first: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

/// Runs `select` for one page: rows after the cursor, in id order, one extra to learn whether
/// another page follows.
pub async fn fetch_page<E, C>(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<E>,
    id_column: C,
    page: PageRequest,
) -> Result<Page<E::Model>, DbErr>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ColumnTrait,
{
    use sea_orm::{QueryFilter as _, QueryOrder as _, QuerySelect as _};
    let mut select = select.order_by_asc(id_column).limit(page.first + 1);
    if let Some(after) = page.after {
        select = select.filter(id_column.gt(after));
    }
    let mut items = select.all(db).await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page {
        items,
        has_next_page,
    })
}
