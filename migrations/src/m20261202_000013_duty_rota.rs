//! The on-duty rota: each coordinator's weekly pattern of shifts (local times in the
//! organisation's time zone) and dated exceptions (an extra shift, or time off).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DutyShifts::Table)
                    .col(pk_uuid(DutyShifts::Id))
                    .col(uuid(DutyShifts::OrganisationId))
                    .col(uuid(DutyShifts::PersonId))
                    // ISO weekday, 1 = Monday.
                    .col(small_integer(DutyShifts::Weekday))
                    // "HH:MM", local; an end not after the start is on the next day.
                    .col(string_len(DutyShifts::StartTime, 5))
                    .col(string_len(DutyShifts::EndTime, 5))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_duty_shifts_person")
                            .from(DutyShifts::Table, DutyShifts::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_duty_shifts_organisation")
                    .table(DutyShifts::Table)
                    .col(DutyShifts::OrganisationId)
                    .col(DutyShifts::PersonId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DutyExceptions::Table)
                    .col(pk_uuid(DutyExceptions::Id))
                    .col(uuid(DutyExceptions::OrganisationId))
                    .col(uuid(DutyExceptions::PersonId))
                    .col(timestamp_with_time_zone(DutyExceptions::StartsAt))
                    .col(timestamp_with_time_zone(DutyExceptions::EndsAt))
                    // "extra" or "off".
                    .col(string_len(DutyExceptions::Kind, 16))
                    .col(string_len_null(DutyExceptions::Note, 500))
                    .col(uuid(DutyExceptions::CreatedBy))
                    .col(timestamp_with_time_zone(DutyExceptions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_duty_exceptions_person")
                            .from(DutyExceptions::Table, DutyExceptions::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The rota reads an organisation's exceptions that end after the window starts.
        manager
            .create_index(
                Index::create()
                    .name("ix_duty_exceptions_organisation_end")
                    .table(DutyExceptions::Table)
                    .col(DutyExceptions::OrganisationId)
                    .col(DutyExceptions::EndsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DutyExceptions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DutyShifts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DutyShifts {
    Table,
    Id,
    OrganisationId,
    PersonId,
    Weekday,
    StartTime,
    EndTime,
}

#[derive(DeriveIden)]
enum DutyExceptions {
    Table,
    Id,
    OrganisationId,
    PersonId,
    StartsAt,
    EndsAt,
    Kind,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}
