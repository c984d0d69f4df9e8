//! Push notifications: subscriptions per device, the notification outbox, one delivery row per
//! (notification, subscription), per-person quiet hours, and instance-wide settings.

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
                    .table(PushSubscriptions::Table)
                    .col(pk_uuid(PushSubscriptions::Id))
                    .col(uuid(PushSubscriptions::OrganisationId))
                    .col(uuid(PushSubscriptions::PersonId))
                    .col(uuid_null(PushSubscriptions::DeviceId))
                    .col(text(PushSubscriptions::Endpoint))
                    // SHA-256 of the endpoint, hex: unique, so registering again updates.
                    .col(string_len_uniq(PushSubscriptions::EndpointHash, 64))
                    .col(string_len(PushSubscriptions::P256dh, 100))
                    .col(string_len(PushSubscriptions::Auth, 32))
                    .col(string_len(PushSubscriptions::Label, 100))
                    // The language this device shows notifications in; null: the person's.
                    .col(string_len_null(PushSubscriptions::Locale, 8))
                    .col(timestamp_with_time_zone(PushSubscriptions::CreatedAt))
                    .col(timestamp_with_time_zone(PushSubscriptions::UpdatedAt))
                    .col(timestamp_with_time_zone_null(PushSubscriptions::RemovedAt))
                    // unregistered | gone (the push service said 404/410)
                    .col(string_len_null(PushSubscriptions::RemovedReason, 16))
                    // delivered | retrying | failed | gone
                    .col(string_len_null(PushSubscriptions::LastOutcome, 16))
                    .col(timestamp_with_time_zone_null(
                        PushSubscriptions::LastOutcomeAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        PushSubscriptions::LastDeliveredAt,
                    ))
                    .col(integer(PushSubscriptions::ConsecutiveFailures).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_push_subscriptions_person")
                            .from(PushSubscriptions::Table, PushSubscriptions::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_push_subscriptions_person")
                    .table(PushSubscriptions::Table)
                    .col(PushSubscriptions::PersonId)
                    .col(PushSubscriptions::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::OrganisationId))
                    .col(uuid(Notifications::RecipientId))
                    .col(string_len(Notifications::Kind, 32))
                    // The typed message (ids and times only); rendered in the recipient's language
                    // when it is sent.
                    .col(json(Notifications::Message))
                    // normal | high
                    .col(string_len(Notifications::Urgency, 8))
                    .col(integer(Notifications::TtlSeconds))
                    .col(string_len_null(Notifications::Topic, 32))
                    // Safety messages ignore quiet hours and are never dropped for being late.
                    .col(boolean(Notifications::IsSafety))
                    .col(timestamp_with_time_zone(Notifications::NotBefore))
                    .col(string_len_uniq(Notifications::IdempotencyKey, 200))
                    // pending | dispatched | withdrawn | unreachable
                    .col(string_len(Notifications::Status, 16))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::DispatchedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_recipient")
                            .from(Notifications::Table, Notifications::RecipientId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The dispatcher's hot query: pending notifications by due time.
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_status_not_before")
                    .table(Notifications::Table)
                    .col(Notifications::Status)
                    .col(Notifications::NotBefore)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PushDeliveries::Table)
                    .col(pk_uuid(PushDeliveries::Id))
                    .col(uuid(PushDeliveries::NotificationId))
                    .col(uuid(PushDeliveries::SubscriptionId))
                    // pending | delivered | failed | gone | expired
                    .col(string_len(PushDeliveries::Status, 16))
                    .col(integer(PushDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(PushDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(PushDeliveries::ClaimedUntil))
                    .col(integer_null(PushDeliveries::LastStatus))
                    .col(timestamp_with_time_zone_null(PushDeliveries::DeliveredAt))
                    .col(timestamp_with_time_zone(PushDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone(PushDeliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_push_deliveries_notification")
                            .from(PushDeliveries::Table, PushDeliveries::NotificationId)
                            .to(Notifications::Table, Notifications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_push_deliveries_subscription")
                            .from(PushDeliveries::Table, PushDeliveries::SubscriptionId)
                            .to(PushSubscriptions::Table, PushSubscriptions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_push_deliveries_notification_subscription")
                    .table(PushDeliveries::Table)
                    .col(PushDeliveries::NotificationId)
                    .col(PushDeliveries::SubscriptionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The sender's hot query: pending deliveries by next attempt.
        manager
            .create_index(
                Index::create()
                    .name("ix_push_deliveries_status_next_attempt")
                    .table(PushDeliveries::Table)
                    .col(PushDeliveries::Status)
                    .col(PushDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_push_deliveries_subscription")
                    .table(PushDeliveries::Table)
                    .col(PushDeliveries::SubscriptionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotificationSettings::Table)
                    .col(pk_uuid(NotificationSettings::PersonId))
                    // Local times "HH:MM" in the person's time zone; both set or both null.
                    .col(string_len_null(NotificationSettings::QuietHoursStart, 5))
                    .col(string_len_null(NotificationSettings::QuietHoursEnd, 5))
                    .col(timestamp_with_time_zone(NotificationSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_settings_person")
                            .from(NotificationSettings::Table, NotificationSettings::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InstanceSettings::Table)
                    .col(string_len(InstanceSettings::Key, 64).primary_key())
                    .col(text(InstanceSettings::Value))
                    .col(timestamp_with_time_zone(InstanceSettings::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InstanceSettings::Table.into_iden(),
            NotificationSettings::Table.into_iden(),
            PushDeliveries::Table.into_iden(),
            Notifications::Table.into_iden(),
            PushSubscriptions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PushSubscriptions {
    Table,
    Id,
    OrganisationId,
    PersonId,
    DeviceId,
    Endpoint,
    EndpointHash,
    P256dh,
    Auth,
    Label,
    Locale,
    CreatedAt,
    UpdatedAt,
    RemovedAt,
    RemovedReason,
    LastOutcome,
    LastOutcomeAt,
    LastDeliveredAt,
    ConsecutiveFailures,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    OrganisationId,
    RecipientId,
    Kind,
    Message,
    Urgency,
    TtlSeconds,
    Topic,
    IsSafety,
    NotBefore,
    IdempotencyKey,
    Status,
    CreatedAt,
    DispatchedAt,
}

#[derive(DeriveIden)]
enum PushDeliveries {
    Table,
    Id,
    NotificationId,
    SubscriptionId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastStatus,
    DeliveredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationSettings {
    Table,
    PersonId,
    QuietHoursStart,
    QuietHoursEnd,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    Key,
    Value,
    UpdatedAt,
}
