//! The audit log: who did what to which record, and when. Ids and action names only, never content.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_create_organisations_and_people::Organisations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_uuid(AuditLog::Id))
                    .col(uuid(AuditLog::OrganisationId))
                    // Null when the actor is the operator's command line or the system itself.
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::SubjectKind, 32))
                    .col(uuid_null(AuditLog::SubjectId))
                    .col(json_null(AuditLog::Detail))
                    .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_log_organisation")
                            .from(AuditLog::Table, AuditLog::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_organisation_id")
                    .table(AuditLog::Table)
                    .col(AuditLog::OrganisationId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OrganisationId,
    ActorId,
    Action,
    SubjectKind,
    SubjectId,
    Detail,
    OccurredAt,
}
