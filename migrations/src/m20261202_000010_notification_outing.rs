//! Each notification about an outing names it in a column (`notifications.outing_id`), so that an
//! outing's unsent reminders and prompts can be withdrawn in one statement whatever they were
//! planned with — not only those whose idempotency keys the current reminder settings would
//! rebuild. Rows still waiting to go out are filled from their stored message's `outingId`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::Uuid;
use sea_orm_migration::sea_orm::{FromQueryResult, JsonValue};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_notifications_outing_status";

/// The kinds that were about an outing when this step was written, and the status of the rows
/// that may still be withdrawn (sent ones are history).
const OUTING_KINDS: [&str; 2] = ["outing_reminder", "check_in_due"];
const PENDING: &str = "pending";

#[derive(FromQueryResult)]
struct Row {
    id: Uuid,
    message: JsonValue,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(ColumnDef::new(Notifications::OutingId).uuid().null())
                    .to_owned(),
            )
            .await?;
        // Read and written through the connection, not as SQL over JSON: the two databases store
        // the message (json vs text) and uuids (uuid vs blob) differently.
        let db = manager.get_connection();
        let select = Query::select()
            .columns([Notifications::Id, Notifications::Message])
            .from(Notifications::Table)
            .and_where(Expr::col(Notifications::Kind).is_in(OUTING_KINDS))
            .and_where(Expr::col(Notifications::Status).eq(PENDING))
            .to_owned();
        let rows = Row::find_by_statement(db.get_database_backend().build(&select))
            .all(db)
            .await?;
        for row in rows {
            let Some(outing_id) = row
                .message
                .get("outingId")
                .and_then(JsonValue::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
            else {
                continue;
            };
            manager
                .exec_stmt(
                    Query::update()
                        .table(Notifications::Table)
                        .value(Notifications::OutingId, outing_id)
                        .and_where(Expr::col(Notifications::Id).eq(row.id))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Notifications::Table)
                    .col(Notifications::OutingId)
                    .col(Notifications::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite drops an indexed column only once its index is gone.
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Notifications::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .drop_column(Notifications::OutingId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    Kind,
    Message,
    Status,
    OutingId,
}
