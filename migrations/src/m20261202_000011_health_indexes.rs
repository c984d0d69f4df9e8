//! An index for `/metrics`' count of unacknowledged alerts per tier: without it that count reads
//! every alert ever raised (the existing alert indexes lead with the outing or the organisation).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_alerts_status_tier";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Alerts::Table)
                    .col(Alerts::Status)
                    .col(Alerts::Tier)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Alerts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Status,
    Tier,
}
