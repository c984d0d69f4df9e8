//! Loaders: SQLite through multi-row INSERTs of a few hundred rows in transactions, PostgreSQL
//! through `COPY … FROM STDIN`; and the secondary indexes of the big tables, dropped while loading
//! and built again afterwards.

use std::ops::Range;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Statement,
};
use tomoni_schema::store;

use super::copy::CopyText;

/// Rows per INSERT statement (outings have 32 columns: 12,800 values, under SQLite's 32,766).
pub(crate) const CHUNK: usize = 400;
/// SQLite: rows per transaction while loading.
const ROWS_PER_TRANSACTION: usize = 20_000;
/// PostgreSQL: bytes per COPY data message.
const COPY_BUFFER: usize = 1 << 20;

/// Streams the rows of the outings in `range` into one `COPY`; returns the rows written.
pub(crate) async fn copy_rows(
    pool: &sea_orm::sqlx::PgPool,
    statement: &str,
    range: Range<usize>,
    mut write: impl FnMut(usize, &mut CopyText) -> usize,
) -> usize {
    let mut connection = pool.acquire().await.expect("a connection");
    // Foreign keys hold by construction (and are checked after loading, set-wise): the per-row
    // checks are skipped where the role may (a superuser), which is most of a COPY's cost.
    let unchecked = sea_orm::sqlx::query("SET session_replication_role = replica")
        .execute(&mut *connection)
        .await
        .is_ok();
    let mut copy = connection.copy_in_raw(statement).await.expect("begin COPY");
    let mut text = CopyText(String::with_capacity(COPY_BUFFER + 4096));
    let mut rows = 0;
    for index in range {
        rows += write(index, &mut text);
        if text.0.len() >= COPY_BUFFER {
            let data = std::mem::replace(&mut text.0, String::with_capacity(COPY_BUFFER + 4096));
            copy.send(data.into_bytes()).await.expect("COPY data");
        }
    }
    if !text.0.is_empty() {
        copy.send(text.0.into_bytes()).await.expect("COPY data");
    }
    copy.finish().await.expect("COPY done");
    if unchecked {
        sea_orm::sqlx::query("RESET session_replication_role")
            .execute(&mut *connection)
            .await
            .expect("reset");
    }
    rows
}

/// The secondary indexes of the big tables, as (name, definition): dropped while loading and
/// built again afterwards from their own definitions, as bulk loads do.
pub(crate) async fn secondary_indexes(db: &DatabaseConnection) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('outings', 'outing_members', 'check_ins') AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        }
        _ => {
            "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('outings', 'outing_members', 'check_ins') AND sql IS NOT NULL"
        }
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("indexes")
        .into_iter()
        .map(|row| {
            (
                row.try_get("", "name").expect("name"),
                row.try_get("", "definition").expect("definition"),
            )
        })
        .collect()
}

/// Inserts the rows produced for each outing of `range`, [`CHUNK`] rows per statement,
/// [`ROWS_PER_TRANSACTION`] rows per transaction.
pub(crate) async fn insert_rows<A>(
    db: &DatabaseConnection,
    range: Range<usize>,
    mut rows_of: impl FnMut(usize, &mut Vec<A>),
) -> usize
where
    A: ActiveModelTrait,
{
    let mut txn = store::begin_write(db).await.expect("begin");
    let mut pending = Vec::with_capacity(CHUNK + 8);
    let (mut total, mut in_transaction) = (0, 0);
    for index in range {
        rows_of(index, &mut pending);
        if pending.len() >= CHUNK {
            total += pending.len();
            in_transaction += pending.len();
            <A::Entity as EntityTrait>::insert_many(std::mem::take(&mut pending))
                .exec_without_returning(&txn)
                .await
                .expect("insert");
            if in_transaction >= ROWS_PER_TRANSACTION {
                txn.commit().await.expect("commit");
                txn = store::begin_write(db).await.expect("begin");
                in_transaction = 0;
            }
        }
    }
    if !pending.is_empty() {
        total += pending.len();
        <A::Entity as EntityTrait>::insert_many(pending)
            .exec_without_returning(&txn)
            .await
            .expect("insert");
    }
    txn.commit().await.expect("commit");
    total
}

/// Inserts the rows, [`CHUNK`] per statement, in one transaction.
pub(crate) async fn insert_all<A>(db: &DatabaseConnection, rows: Vec<A>)
where
    A: ActiveModelTrait + Clone,
{
    let txn = store::begin_write(db).await.expect("begin");
    insert_chunked(&txn, rows).await;
    txn.commit().await.expect("commit");
}

/// Inserts the rows in statements of [`CHUNK`] rows.
pub(crate) async fn insert_chunked<A>(db: &impl ConnectionTrait, rows: Vec<A>)
where
    A: ActiveModelTrait + Clone,
{
    for chunk in rows.chunks(CHUNK) {
        <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("insert");
    }
}
