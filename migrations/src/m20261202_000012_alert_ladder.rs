//! The alert ladder that never goes quiet: who each alert has reached (so a joining check-in or a
//! late answer tells exactly them), when it was last pushed (repeat pushes at most once a
//! minute), when its owner was reminded (an acknowledged alert left unresolved goes back to the
//! coordinators on duty), and when a late "OK" answered it (its paging stopped, it stays open).
//! An SOS nobody acknowledges in time tells its people to call the emergency numbers
//! (`advise_at`), and an alert that can reach nobody says so (`unreachable_since`).
//! `alerts.escalate_at` now also times an acknowledged alert's reminder. Per recipient, what their
//! phone confirmed (delivered, shown) and whether the e-mail fallback went out.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in Alerts::ADDED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alerts::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        // The watchdog finds unanswered SOS alerts by when their people must be told the
        // emergency numbers.
        manager
            .create_index(
                Index::create()
                    .name("ix_alerts_advise_at")
                    .table(Alerts::Table)
                    .col(Alerts::AdviseAt)
                    .to_owned(),
            )
            .await?;
        // Alerts raised before this step were pushed when raised.
        manager
            .exec_stmt(
                Query::update()
                    .table(Alerts::Table)
                    .value(Alerts::LastPushedAt, Expr::col(Alerts::RaisedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertRecipients::Table)
                    .col(uuid(AlertRecipients::AlertId))
                    .col(uuid(AlertRecipients::PersonId))
                    .col(timestamp_with_time_zone(AlertRecipients::FirstNotifiedAt))
                    .col(timestamp_with_time_zone(AlertRecipients::LastNotifiedAt))
                    // What their phone confirmed: the push service took it (201), the app showed it.
                    .col(timestamp_with_time_zone_null(AlertRecipients::DeliveredAt))
                    .col(timestamp_with_time_zone_null(AlertRecipients::ShownAt))
                    // The e-mail fallback went out (nobody confirmed seeing the push in time).
                    .col(timestamp_with_time_zone_null(AlertRecipients::EmailedAt))
                    .primary_key(
                        Index::create()
                            .col(AlertRecipients::AlertId)
                            .col(AlertRecipients::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_recipients_alert")
                            .from(AlertRecipients::Table, AlertRecipients::AlertId)
                            .to(Alerts::Table, Alerts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AlertRecipients::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_alerts_advise_at")
                    .table(Alerts::Table)
                    .to_owned(),
            )
            .await?;
        for column in Alerts::ADDED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alerts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Alerts {
    Table,
    Id,
    RaisedAt,
    LastPushedAt,
    OwnerRemindedAt,
    AnsweredLateAt,
    /// When an SOS still unacknowledged tells its people's apps to show the emergency numbers.
    AdviseAt,
    EmergencyAdvisedAt,
    /// Since when none of the coordinators it should reach can be reached (no device that works).
    UnreachableSince,
}

impl Alerts {
    const ADDED: [Alerts; 6] = [
        Alerts::LastPushedAt,
        Alerts::OwnerRemindedAt,
        Alerts::AnsweredLateAt,
        Alerts::AdviseAt,
        Alerts::EmergencyAdvisedAt,
        Alerts::UnreachableSince,
    ];
}

#[derive(DeriveIden)]
enum AlertRecipients {
    Table,
    AlertId,
    PersonId,
    FirstNotifiedAt,
    LastNotifiedAt,
    DeliveredAt,
    ShownAt,
    EmailedAt,
}
