//! Accompanied outings and their safety net: outings with their people, check-ins, alerts with
//! their escalation ladder, coordinators on duty, participants' crisis plans, and the
//! organisation's reminder offsets. `outings.watch_at` and `alerts.escalate_at` are the times the
//! watchdog must next look: indexed, so a tick reads only what is due.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_create_organisations_and_people::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // null: the default reminders (24 hours and 1 hour before)
        manager
            .alter_table(
                Table::alter()
                    .table(ProgramSettings::Table)
                    .add_column(json_null(ProgramSettings::OutingReminderMinutes))
                    .to_owned(),
            )
            .await?;
        // What helps and whom to call: shown to coordinators, matched supporters, and whoever owns
        // an alert about the participant.
        manager
            .alter_table(
                Table::alter()
                    .table(ParticipantProfiles::Table)
                    .add_column(text_null(ParticipantProfiles::CrisisPlan))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OnDuty::Table)
                    .col(pk_uuid(OnDuty::PersonId))
                    .col(uuid(OnDuty::OrganisationId))
                    .col(timestamp_with_time_zone(OnDuty::Since))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_on_duty_person")
                            .from(OnDuty::Table, OnDuty::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_on_duty_organisation")
                    .table(OnDuty::Table)
                    .col(OnDuty::OrganisationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outings::Table)
                    .col(pk_uuid(Outings::Id))
                    .col(uuid(Outings::OrganisationId))
                    .col(uuid(Outings::ParticipantId))
                    .col(uuid(Outings::LeadSupporterId))
                    .col(uuid_null(Outings::StaffCompanionId))
                    // shopping | city_office | transport_practice | clinic_visit | community_event
                    // | work_trial | other
                    .col(string_len(Outings::Purpose, 24))
                    .col(text(Outings::Place))
                    .col(double_null(Outings::Latitude))
                    .col(double_null(Outings::Longitude))
                    .col(text(Outings::StepGoal))
                    .col(timestamp_with_time_zone(Outings::PlannedStart))
                    .col(timestamp_with_time_zone(Outings::PlannedEnd))
                    .col(integer(Outings::CheckInIntervalMinutes))
                    .col(integer(Outings::GraceMinutes))
                    // proposed | planned | in_progress | escalated | completed | cancelled
                    .col(string_len(Outings::Status, 16))
                    .col(uuid(Outings::CreatedBy))
                    .col(uuid_null(Outings::ApprovedBy))
                    .col(timestamp_with_time_zone_null(Outings::StartedAt))
                    .col(timestamp_with_time_zone_null(Outings::EndedAt))
                    .col(string_len_null(Outings::CancelReason, 32))
                    .col(small_integer_null(Outings::AnxietyBefore))
                    .col(small_integer_null(Outings::AnxietyAfter))
                    .col(small_integer_null(Outings::ConfidenceBefore))
                    .col(small_integer_null(Outings::ConfidenceAfter))
                    .col(text_null(Outings::SupporterNote))
                    // The next check-in deadline while the outing is under way.
                    .col(timestamp_with_time_zone_null(Outings::CheckInDueAt))
                    // The watchdog's next look, and how far along the ladder this deadline is:
                    // due | reminded | alerted
                    .col(timestamp_with_time_zone_null(Outings::WatchAt))
                    .col(string_len_null(Outings::WatchStep, 16))
                    .col(boolean(Outings::OverdueAlerted).default(false))
                    .col(integer(Outings::Extensions).default(0))
                    .col(timestamp_with_time_zone(Outings::CreatedAt))
                    .col(timestamp_with_time_zone(Outings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outings_participant")
                            .from(Outings::Table, Outings::ParticipantId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_outings_watch_at", vec![Outings::WatchAt]),
            (
                "ix_outings_organisation_start",
                vec![Outings::OrganisationId, Outings::PlannedStart, Outings::Id],
            ),
            (
                "ix_outings_participant_start",
                vec![Outings::ParticipantId, Outings::PlannedStart],
            ),
            (
                "ix_outings_lead_start",
                vec![Outings::LeadSupporterId, Outings::PlannedStart],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Outings::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(OutingMembers::Table)
                    .col(uuid(OutingMembers::OutingId))
                    .col(uuid(OutingMembers::PersonId))
                    // participant | lead | trainee | staff
                    .col(string_len(OutingMembers::Role, 16))
                    .primary_key(
                        Index::create()
                            .col(OutingMembers::OutingId)
                            .col(OutingMembers::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outing_members_outing")
                            .from(OutingMembers::Table, OutingMembers::OutingId)
                            .to(Outings::Table, Outings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outing_members_person")
                    .table(OutingMembers::Table)
                    .col(OutingMembers::PersonId)
                    .col(OutingMembers::OutingId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CheckIns::Table)
                    .col(pk_uuid(CheckIns::Id))
                    .col(uuid(CheckIns::OutingId))
                    .col(uuid(CheckIns::PersonId))
                    // ok | need_help | separated | sos
                    .col(string_len(CheckIns::Kind, 16))
                    // When the phone made it (offline check-ins arrive later).
                    .col(timestamp_with_time_zone(CheckIns::MadeAt))
                    .col(timestamp_with_time_zone(CheckIns::ReceivedAt))
                    .col(double_null(CheckIns::Latitude))
                    .col(double_null(CheckIns::Longitude))
                    .col(text(CheckIns::Note))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_check_ins_outing")
                            .from(CheckIns::Table, CheckIns::OutingId)
                            .to(Outings::Table, Outings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_check_ins_outing_made")
                    .table(CheckIns::Table)
                    .col(CheckIns::OutingId)
                    .col(CheckIns::MadeAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .col(pk_uuid(Alerts::Id))
                    .col(uuid(Alerts::OrganisationId))
                    .col(uuid(Alerts::OutingId))
                    // missed_check_in | need_help | separated | sos | overdue
                    .col(string_len(Alerts::Reason, 16))
                    // on_duty | everyone | exhausted
                    .col(string_len(Alerts::Tier, 16))
                    // open | acknowledged | resolved
                    .col(string_len(Alerts::Status, 16))
                    .col(timestamp_with_time_zone(Alerts::RaisedAt))
                    // When the next tier (or the next exhausted repeat) is due; null once owned.
                    .col(timestamp_with_time_zone_null(Alerts::EscalateAt))
                    .col(integer(Alerts::Pushes).default(0))
                    .col(uuid_null(Alerts::OwnerId))
                    .col(timestamp_with_time_zone_null(Alerts::AcknowledgedAt))
                    .col(timestamp_with_time_zone_null(Alerts::ResolvedAt))
                    .col(string_len_null(Alerts::Resolution, 32))
                    .col(text_null(Alerts::ResolutionNote))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alerts_outing")
                            .from(Alerts::Table, Alerts::OutingId)
                            .to(Outings::Table, Outings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_alerts_escalate_at", vec![Alerts::EscalateAt]),
            ("ix_alerts_outing", vec![Alerts::OutingId, Alerts::Status]),
            (
                "ix_alerts_organisation",
                vec![Alerts::OrganisationId, Alerts::Status, Alerts::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Alerts::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Alerts::Table.into_iden(),
            CheckIns::Table.into_iden(),
            OutingMembers::Table.into_iden(),
            Outings::Table.into_iden(),
            OnDuty::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ParticipantProfiles::Table)
                    .drop_column(ParticipantProfiles::CrisisPlan)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ProgramSettings::Table)
                    .drop_column(ProgramSettings::OutingReminderMinutes)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ProgramSettings {
    Table,
    OutingReminderMinutes,
}

#[derive(DeriveIden)]
enum ParticipantProfiles {
    Table,
    CrisisPlan,
}

#[derive(DeriveIden)]
enum OnDuty {
    Table,
    PersonId,
    OrganisationId,
    Since,
}

#[derive(DeriveIden)]
enum Outings {
    Table,
    Id,
    OrganisationId,
    ParticipantId,
    LeadSupporterId,
    StaffCompanionId,
    Purpose,
    Place,
    Latitude,
    Longitude,
    StepGoal,
    PlannedStart,
    PlannedEnd,
    CheckInIntervalMinutes,
    GraceMinutes,
    Status,
    CreatedBy,
    ApprovedBy,
    StartedAt,
    EndedAt,
    CancelReason,
    AnxietyBefore,
    AnxietyAfter,
    ConfidenceBefore,
    ConfidenceAfter,
    SupporterNote,
    CheckInDueAt,
    WatchAt,
    WatchStep,
    OverdueAlerted,
    Extensions,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OutingMembers {
    Table,
    OutingId,
    PersonId,
    Role,
}

#[derive(DeriveIden)]
enum CheckIns {
    Table,
    Id,
    OutingId,
    PersonId,
    Kind,
    MadeAt,
    ReceivedAt,
    Latitude,
    Longitude,
    Note,
}

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
    OrganisationId,
    OutingId,
    Reason,
    Tier,
    Status,
    RaisedAt,
    EscalateAt,
    Pushes,
    OwnerId,
    AcknowledgedAt,
    ResolvedAt,
    Resolution,
    ResolutionNote,
}
