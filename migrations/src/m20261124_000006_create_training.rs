//! Training and program settings: per-organisation limits, courses and their modules with
//! prerequisites, each supporter's completions and certificates, supervision sessions, and the
//! supporter's own limits and status (capacity override, break, supervision follow-up, trainer), and
//! what matching compares on the participant's side (experience, languages, areas).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_create_organisations_and_people::{Organisations, People};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per organisation that changed a default; no row means every default applies.
        manager
            .create_table(
                Table::create()
                    .table(ProgramSettings::Table)
                    .col(pk_uuid(ProgramSettings::OrganisationId))
                    .col(integer(ProgramSettings::MatchCapacity))
                    .col(integer(ProgramSettings::ProposalExpiryDays))
                    .col(integer(ProgramSettings::FollowUpIntervalMonths))
                    .col(integer(ProgramSettings::WeeklyOutingCap))
                    .col(integer(ProgramSettings::WeeklyHoursCap))
                    .col(timestamp_with_time_zone(ProgramSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_program_settings_organisation")
                            .from(ProgramSettings::Table, ProgramSettings::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // SQLite alters one column per statement.
        for column in [
            // null: the organisation's match capacity applies
            integer_null(SupporterProfiles::MatchCapacity),
            timestamp_with_time_zone_null(SupporterProfiles::OnBreakSince),
            // set when an alert the supporter was part of turned out to be a real incident;
            // cleared by the next supervision session
            timestamp_with_time_zone_null(SupporterProfiles::SupervisionFollowUpSince),
            boolean(SupporterProfiles::IsTrainer)
                .default(false)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SupporterProfiles::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        // What matching compares with supporters; null until someone fills it in.
        for column in [
            ParticipantProfiles::ExperienceTags,
            ParticipantProfiles::Languages,
            ParticipantProfiles::Areas,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ParticipantProfiles::Table)
                        .add_column(json_null(column))
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Courses::Table)
                    .col(pk_uuid(Courses::Id))
                    .col(uuid(Courses::OrganisationId))
                    // basic | specialised | follow_up | own
                    .col(string_len(Courses::Level, 16))
                    .col(string_len(Courses::TitleJa, 200))
                    .col(string_len(Courses::TitleEn, 200))
                    .col(timestamp_with_time_zone(Courses::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_courses_organisation")
                            .from(Courses::Table, Courses::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_courses_organisation")
                    .table(Courses::Table)
                    .col(Courses::OrganisationId)
                    .col(Courses::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CoursePrerequisites::Table)
                    .col(uuid(CoursePrerequisites::CourseId))
                    .col(uuid(CoursePrerequisites::RequiredCourseId))
                    .primary_key(
                        Index::create()
                            .col(CoursePrerequisites::CourseId)
                            .col(CoursePrerequisites::RequiredCourseId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_course_prerequisites_course")
                            .from(CoursePrerequisites::Table, CoursePrerequisites::CourseId)
                            .to(Courses::Table, Courses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_course_prerequisites_required")
                            .from(
                                CoursePrerequisites::Table,
                                CoursePrerequisites::RequiredCourseId,
                            )
                            .to(Courses::Table, Courses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CourseModules::Table)
                    .col(pk_uuid(CourseModules::Id))
                    .col(uuid(CourseModules::CourseId))
                    .col(integer(CourseModules::Position))
                    .col(string_len(CourseModules::TitleJa, 200))
                    .col(string_len(CourseModules::TitleEn, 200))
                    // lecture | role_play | group_work | case_study | ethics | practicum
                    .col(string_len(CourseModules::Format, 16))
                    .col(integer(CourseModules::DurationMinutes))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_course_modules_course")
                            .from(CourseModules::Table, CourseModules::CourseId)
                            .to(Courses::Table, Courses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_course_modules_course")
                    .table(CourseModules::Table)
                    .col(CourseModules::CourseId)
                    .col(CourseModules::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModulePrerequisites::Table)
                    .col(uuid(ModulePrerequisites::ModuleId))
                    .col(uuid(ModulePrerequisites::RequiredModuleId))
                    .primary_key(
                        Index::create()
                            .col(ModulePrerequisites::ModuleId)
                            .col(ModulePrerequisites::RequiredModuleId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_module_prerequisites_module")
                            .from(ModulePrerequisites::Table, ModulePrerequisites::ModuleId)
                            .to(CourseModules::Table, CourseModules::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_module_prerequisites_required")
                            .from(
                                ModulePrerequisites::Table,
                                ModulePrerequisites::RequiredModuleId,
                            )
                            .to(CourseModules::Table, CourseModules::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModuleCompletions::Table)
                    .col(pk_uuid(ModuleCompletions::Id))
                    .col(uuid(ModuleCompletions::SupporterId))
                    .col(uuid(ModuleCompletions::ModuleId))
                    .col(date(ModuleCompletions::CompletedOn))
                    .col(integer(ModuleCompletions::Minutes))
                    .col(uuid(ModuleCompletions::AssessedBy))
                    .col(text(ModuleCompletions::Note))
                    .col(uuid(ModuleCompletions::RecordedBy))
                    .col(timestamp_with_time_zone(ModuleCompletions::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_module_completions_supporter")
                            .from(ModuleCompletions::Table, ModuleCompletions::SupporterId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_module_completions_module")
                            .from(ModuleCompletions::Table, ModuleCompletions::ModuleId)
                            .to(CourseModules::Table, CourseModules::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_module_completions_supporter_module")
                    .table(ModuleCompletions::Table)
                    .col(ModuleCompletions::SupporterId)
                    .col(ModuleCompletions::ModuleId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .col(pk_uuid(Certificates::Id))
                    .col(uuid(Certificates::SupporterId))
                    .col(uuid(Certificates::CourseId))
                    .col(date(Certificates::CompletedOn))
                    .col(timestamp_with_time_zone(Certificates::IssuedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certificates_supporter")
                            .from(Certificates::Table, Certificates::SupporterId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certificates_course")
                            .from(Certificates::Table, Certificates::CourseId)
                            .to(Courses::Table, Courses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_certificates_supporter_course")
                    .table(Certificates::Table)
                    .col(Certificates::SupporterId)
                    .col(Certificates::CourseId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupervisionSessions::Table)
                    .col(pk_uuid(SupervisionSessions::Id))
                    .col(uuid(SupervisionSessions::SupporterId))
                    .col(uuid(SupervisionSessions::SupervisorId))
                    .col(date(SupervisionSessions::HeldOn))
                    .col(text(SupervisionSessions::Note))
                    .col(uuid(SupervisionSessions::RecordedBy))
                    .col(timestamp_with_time_zone(SupervisionSessions::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_supervision_sessions_supporter")
                            .from(SupervisionSessions::Table, SupervisionSessions::SupporterId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_supervision_sessions_supporter")
                    .table(SupervisionSessions::Table)
                    .col(SupervisionSessions::SupporterId)
                    .col(SupervisionSessions::HeldOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SupervisionSessions::Table.into_iden(),
            Certificates::Table.into_iden(),
            ModuleCompletions::Table.into_iden(),
            ModulePrerequisites::Table.into_iden(),
            CourseModules::Table.into_iden(),
            CoursePrerequisites::Table.into_iden(),
            Courses::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            SupporterProfiles::IsTrainer,
            SupporterProfiles::SupervisionFollowUpSince,
            SupporterProfiles::OnBreakSince,
            SupporterProfiles::MatchCapacity,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SupporterProfiles::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            ParticipantProfiles::Areas,
            ParticipantProfiles::Languages,
            ParticipantProfiles::ExperienceTags,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ParticipantProfiles::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ProgramSettings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ProgramSettings {
    Table,
    OrganisationId,
    MatchCapacity,
    ProposalExpiryDays,
    FollowUpIntervalMonths,
    WeeklyOutingCap,
    WeeklyHoursCap,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SupporterProfiles {
    Table,
    MatchCapacity,
    OnBreakSince,
    SupervisionFollowUpSince,
    IsTrainer,
}

#[derive(DeriveIden)]
enum ParticipantProfiles {
    Table,
    ExperienceTags,
    Languages,
    Areas,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    OrganisationId,
    Level,
    TitleJa,
    TitleEn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CoursePrerequisites {
    Table,
    CourseId,
    RequiredCourseId,
}

#[derive(DeriveIden)]
enum CourseModules {
    Table,
    Id,
    CourseId,
    Position,
    TitleJa,
    TitleEn,
    Format,
    DurationMinutes,
}

#[derive(DeriveIden)]
enum ModulePrerequisites {
    Table,
    ModuleId,
    RequiredModuleId,
}

#[derive(DeriveIden)]
enum ModuleCompletions {
    Table,
    Id,
    SupporterId,
    ModuleId,
    CompletedOn,
    Minutes,
    AssessedBy,
    Note,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    SupporterId,
    CourseId,
    CompletedOn,
    IssuedAt,
}

#[derive(DeriveIden)]
enum SupervisionSessions {
    Table,
    Id,
    SupporterId,
    SupervisorId,
    HeldOn,
    Note,
    RecordedBy,
    RecordedAt,
}
