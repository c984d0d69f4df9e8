//! Support matches: who supports whom, through proposed → active ⇄ paused → ended (or declined,
//! expired). At most one open (proposed, active or paused) match per supporter–participant pair.

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
                    .table(SupportMatches::Table)
                    .col(pk_uuid(SupportMatches::Id))
                    .col(uuid(SupportMatches::OrganisationId))
                    .col(uuid(SupportMatches::SupporterId))
                    .col(uuid(SupportMatches::ParticipantId))
                    // proposed | active | paused | declined | expired | ended
                    .col(string_len(SupportMatches::Status, 16))
                    .col(uuid(SupportMatches::ProposedBy))
                    .col(timestamp_with_time_zone(SupportMatches::ProposedAt))
                    // an unanswered proposal expires at this time
                    .col(timestamp_with_time_zone(SupportMatches::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SupportMatches::RespondedAt))
                    .col(timestamp_with_time_zone_null(SupportMatches::PausedAt))
                    .col(timestamp_with_time_zone_null(SupportMatches::EndedAt))
                    // why it was declined, paused or ended
                    .col(string_len_null(SupportMatches::EndReason, 32))
                    .col(text_null(SupportMatches::ClosingReflection))
                    .col(timestamp_with_time_zone(SupportMatches::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_support_matches_supporter")
                            .from(SupportMatches::Table, SupportMatches::SupporterId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_support_matches_participant")
                            .from(SupportMatches::Table, SupportMatches::ParticipantId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The database itself refuses a second open match for one pair, whatever races.
        manager
            .create_index(
                Index::create()
                    .name("ux_support_matches_open_pair")
                    .table(SupportMatches::Table)
                    .col(SupportMatches::SupporterId)
                    .col(SupportMatches::ParticipantId)
                    .unique()
                    .and_where(
                        Expr::col(SupportMatches::Status).is_in(["proposed", "active", "paused"]),
                    )
                    .to_owned(),
            )
            .await?;
        // Load per supporter (capacity, suggestions, workload) and per participant (visibility).
        for (name, column) in [
            ("ix_support_matches_supporter", SupportMatches::SupporterId),
            (
                "ix_support_matches_participant",
                SupportMatches::ParticipantId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SupportMatches::Table)
                        .col(column)
                        .col(SupportMatches::Status)
                        .to_owned(),
                )
                .await?;
        }
        // The expiry sweep and the organisation's list.
        manager
            .create_index(
                Index::create()
                    .name("ix_support_matches_status_expiry")
                    .table(SupportMatches::Table)
                    .col(SupportMatches::Status)
                    .col(SupportMatches::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_support_matches_organisation")
                    .table(SupportMatches::Table)
                    .col(SupportMatches::OrganisationId)
                    .col(SupportMatches::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SupportMatches::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SupportMatches {
    Table,
    Id,
    OrganisationId,
    SupporterId,
    ParticipantId,
    Status,
    ProposedBy,
    ProposedAt,
    ExpiresAt,
    RespondedAt,
    PausedAt,
    EndedAt,
    EndReason,
    ClosingReflection,
    UpdatedAt,
}
