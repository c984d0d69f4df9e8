//! Signed-in devices (each holds one access token, stored as a hash) and one-time pairing codes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_create_organisations_and_people::{Organisations, People};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .col(pk_uuid(Devices::Id))
                    .col(uuid(Devices::OrganisationId))
                    .col(uuid(Devices::PersonId))
                    .col(string_len(Devices::Label, 100))
                    // SHA-256 of the access token, hex: the token itself is never stored.
                    .col(string_len_uniq(Devices::TokenHash, 64))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone_null(Devices::LastUsedAt))
                    .col(timestamp_with_time_zone_null(Devices::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_devices_person")
                            .from(Devices::Table, Devices::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_devices_organisation")
                            .from(Devices::Table, Devices::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_devices_person_id")
                    .table(Devices::Table)
                    .col(Devices::PersonId)
                    .col(Devices::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PairingCodes::Table)
                    .col(pk_uuid(PairingCodes::Id))
                    .col(uuid(PairingCodes::OrganisationId))
                    .col(uuid(PairingCodes::PersonId))
                    // SHA-256 of the normalised code, hex.
                    .col(string_len_uniq(PairingCodes::CodeHash, 64))
                    .col(uuid(PairingCodes::IssuedBy))
                    .col(timestamp_with_time_zone(PairingCodes::CreatedAt))
                    .col(timestamp_with_time_zone(PairingCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PairingCodes::RedeemedAt))
                    .col(timestamp_with_time_zone_null(PairingCodes::WithdrawnAt))
                    .col(uuid_null(PairingCodes::DeviceId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pairing_codes_person")
                            .from(PairingCodes::Table, PairingCodes::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pairing_codes_issuer")
                            .from(PairingCodes::Table, PairingCodes::IssuedBy)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_pairing_codes_person")
                    .table(PairingCodes::Table)
                    .col(PairingCodes::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PairingCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Devices::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    OrganisationId,
    PersonId,
    Label,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum PairingCodes {
    Table,
    Id,
    OrganisationId,
    PersonId,
    CodeHash,
    IssuedBy,
    CreatedAt,
    ExpiresAt,
    RedeemedAt,
    WithdrawnAt,
    DeviceId,
}
