//! Each outing member row carries its outing's planned start and end, so that "my day" (a
//! person's outings in a window) is one short range scan of `(person_id, planned_start,
//! planned_end)` instead of a walk through the person's whole history of outings. The application
//! keeps the copies equal to the outing's times in the same transaction as every change to them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Only seen between adding a column and copying the outing's time into it.
const PLACEHOLDER_TIME: &str = "1970-01-01 00:00:00+00:00";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds a NOT NULL column only with a default, and one column per statement.
        for column in [OutingMembers::PlannedStart, OutingMembers::PlannedEnd] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OutingMembers::Table)
                        .add_column(
                            ColumnDef::new(column)
                                .timestamp_with_time_zone()
                                .not_null()
                                .default(PLACEHOLDER_TIME),
                        )
                        .to_owned(),
                )
                .await?;
        }
        let copy = |column: Outings| {
            SimpleExpr::SubQuery(
                None,
                Box::new(
                    Query::select()
                        .column((Outings::Table, column))
                        .from(Outings::Table)
                        .and_where(
                            Expr::col((Outings::Table, Outings::Id))
                                .equals((OutingMembers::Table, OutingMembers::OutingId)),
                        )
                        .to_owned()
                        .into_sub_query_statement(),
                ),
            )
        };
        manager
            .exec_stmt(
                Query::update()
                    .table(OutingMembers::Table)
                    .value(OutingMembers::PlannedStart, copy(Outings::PlannedStart))
                    .value(OutingMembers::PlannedEnd, copy(Outings::PlannedEnd))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            // Every insert names both columns; a forgotten one should fail, not read as 1970.
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE outing_members \
                     ALTER COLUMN planned_start DROP DEFAULT, \
                     ALTER COLUMN planned_end DROP DEFAULT",
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_outing_members_person_time")
                    .table(OutingMembers::Table)
                    .col(OutingMembers::PersonId)
                    .col(OutingMembers::PlannedStart)
                    .col(OutingMembers::PlannedEnd)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outing_members_person_time")
                    .table(OutingMembers::Table)
                    .to_owned(),
            )
            .await?;
        for column in [OutingMembers::PlannedStart, OutingMembers::PlannedEnd] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OutingMembers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OutingMembers {
    Table,
    PlannedStart,
    PlannedEnd,
    OutingId,
    PersonId,
}

#[derive(DeriveIden)]
enum Outings {
    Table,
    Id,
    PlannedStart,
    PlannedEnd,
}
