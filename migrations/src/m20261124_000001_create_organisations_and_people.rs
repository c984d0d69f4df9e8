//! Organisations (the tenants) and the people who belong to exactly one of them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(pk_uuid(Organisations::Id))
                    .col(string_len(Organisations::Name, 200))
                    // hospital | ward_office | community_group | workshop
                    .col(string_len(Organisations::Kind, 32))
                    .col(string_len(Organisations::TimeZone, 64))
                    .col(timestamp_with_time_zone(Organisations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(People::Table)
                    .col(pk_uuid(People::Id))
                    .col(uuid(People::OrganisationId))
                    .col(string_len(People::DisplayName, 100))
                    // participant | supporter | coordinator
                    .col(string_len(People::Role, 16))
                    // ja | en
                    .col(string_len(People::Locale, 8))
                    .col(string_len(People::TimeZone, 64))
                    .col(timestamp_with_time_zone(People::CreatedAt))
                    .col(timestamp_with_time_zone(People::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_people_organisation")
                            .from(People::Table, People::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // Coordinators list their organisation's people, often by role, paged by id.
        manager
            .create_index(
                Index::create()
                    .name("ix_people_organisation_role_id")
                    .table(People::Table)
                    .col(People::OrganisationId)
                    .col(People::Role)
                    .col(People::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_people_organisation_id")
                    .table(People::Table)
                    .col(People::OrganisationId)
                    .col(People::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(People::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organisations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Organisations {
    Table,
    Id,
    Name,
    Kind,
    TimeZone,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum People {
    Table,
    Id,
    OrganisationId,
    DisplayName,
    Role,
    Locale,
    TimeZone,
    CreatedAt,
    UpdatedAt,
}
