//! The supporter and participant profiles: one row per person of that role, keyed by the person.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_create_organisations_and_people::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupporterProfiles::Table)
                    .col(pk_uuid(SupporterProfiles::PersonId))
                    // JSON arrays of short strings
                    .col(json(SupporterProfiles::ExperienceTags))
                    .col(json(SupporterProfiles::Languages))
                    .col(json(SupporterProfiles::Areas))
                    .col(timestamp_with_time_zone(SupporterProfiles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_supporter_profiles_person")
                            .from(SupporterProfiles::Table, SupporterProfiles::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ParticipantProfiles::Table)
                    .col(pk_uuid(ParticipantProfiles::PersonId))
                    .col(json(ParticipantProfiles::Preferences))
                    .col(boolean(ParticipantProfiles::ConsentsToLocationSharing).default(false))
                    .col(timestamp_with_time_zone(ParticipantProfiles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_participant_profiles_person")
                            .from(ParticipantProfiles::Table, ParticipantProfiles::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ParticipantProfiles::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SupporterProfiles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SupporterProfiles {
    Table,
    PersonId,
    ExperienceTags,
    Languages,
    Areas,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ParticipantProfiles {
    Table,
    PersonId,
    Preferences,
    ConsentsToLocationSharing,
    UpdatedAt,
}
