//! Coordinators' e-mail addresses and the e-mail fallback's work. Addresses live in their own
//! table (`contact_addresses`), not on `people`, so that no query of people ever carries one by
//! accident; only coordinators have one. `alert_emails` is the fallback's claim and retry state per
//! alert recipient (attempts, when to try next, the lease of the worker sending it now); the fact
//! that it went out is `alert_recipients.emailed_at`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContactAddresses::Table)
                    .col(uuid(ContactAddresses::PersonId).primary_key())
                    .col(string_len(ContactAddresses::Email, 254))
                    .col(timestamp_with_time_zone(ContactAddresses::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_contact_addresses_person")
                            .from(ContactAddresses::Table, ContactAddresses::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertEmails::Table)
                    .col(uuid(AlertEmails::AlertId))
                    .col(uuid(AlertEmails::PersonId))
                    .col(integer(AlertEmails::Attempts).default(0))
                    .col(timestamp_with_time_zone(AlertEmails::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(AlertEmails::ClaimedUntil))
                    .primary_key(
                        Index::create()
                            .col(AlertEmails::AlertId)
                            .col(AlertEmails::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_emails_alert")
                            .from(AlertEmails::Table, AlertEmails::AlertId)
                            .to(Alerts::Table, Alerts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AlertEmails::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ContactAddresses::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ContactAddresses {
    Table,
    PersonId,
    Email,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AlertEmails {
    Table,
    AlertId,
    PersonId,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
}
