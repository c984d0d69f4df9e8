//! Concerns a participant raises privately with the coordinators (about their own supporter,
//! say), and the index that lets a participant see who read their crisis plan (those reads are
//! rows of the audit log).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Concerns::Table)
                    .col(pk_uuid(Concerns::Id))
                    .col(uuid(Concerns::OrganisationId))
                    .col(uuid(Concerns::RaisedBy))
                    // The supporter it is about, when it is about one.
                    .col(uuid_null(Concerns::AboutSupporterId))
                    .col(string_len(Concerns::Body, 4000))
                    // "open" or "closed".
                    .col(string_len(Concerns::Status, 16))
                    .col(timestamp_with_time_zone(Concerns::RaisedAt))
                    .col(uuid_null(Concerns::ClosedBy))
                    .col(timestamp_with_time_zone_null(Concerns::ClosedAt))
                    .col(string_len_null(Concerns::ClosingNote, 2000))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_concerns_raised_by")
                            .from(Concerns::Table, Concerns::RaisedBy)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Coordinators list their organisation's concerns, open first, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_concerns_organisation_status")
                    .table(Concerns::Table)
                    .col(Concerns::OrganisationId)
                    .col(Concerns::Status)
                    .col(Concerns::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_concerns_raised_by")
                    .table(Concerns::Table)
                    .col(Concerns::RaisedBy)
                    .col(Concerns::Id)
                    .to_owned(),
            )
            .await?;
        // "Who read my crisis plan": the audit rows about one subject, by action, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_subject_action")
                    .table(AuditLog::Table)
                    .col(AuditLog::SubjectId)
                    .col(AuditLog::Action)
                    .col(AuditLog::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_audit_log_subject_action")
                    .table(AuditLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Concerns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    SubjectId,
    Action,
    OccurredAt,
}

#[derive(DeriveIden)]
enum Concerns {
    Table,
    Id,
    OrganisationId,
    RaisedBy,
    AboutSupporterId,
    Body,
    Status,
    RaisedAt,
    ClosedBy,
    ClosedAt,
    ClosingNote,
}
