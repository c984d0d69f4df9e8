//! The push part of the API: the VAPID key, registering a device's push subscription, quiet hours,
//! connection checks, and who cannot currently be reached.

use crate::api::common::logged_id;
use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, NaiveTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::common::{audit, audit_with, parse_id, valid};
use super::context::{state, viewer};
use super::error::{ApiError, ApiResult};
use super::lookup::editable_person;
use super::pagination::{connection, page_request};
use crate::api::people::{Locale, Person};
use crate::domain::credentials::sha256_hex;
use crate::domain::push::{KeyError, SubscriptionKeys, check_endpoint};
use crate::domain::quiet_hours::QuietHours;
use crate::domain::text;
use crate::events::DomainEvent;
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::entities::{notification_settings, push_subscriptions};

const LABEL_MAX: usize = 100;

#[derive(Default)]
pub struct PushQuery;

#[Object]
impl PushQuery {
    /// The application server key (VAPID public key, base64url) to pass to
    /// `pushManager.subscribe({ applicationServerKey })`. Needs no token.
    async fn vapid_public_key(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(state(ctx)?.config.vapid_public_key.clone())
    }

    /// People of the viewer's organisation whom no device currently reaches: none registered, all
    /// removed, or all failing. A supporter whose phone silently stopped receiving shows up here.
    /// Coordinators only.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn unreachable_people(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Person>> {
        let viewer = viewer(ctx)?;
        if !viewer.is_coordinator() {
            return Err(ApiError::Forbidden {
                reason: "only coordinators see who cannot be reached",
            });
        }
        let request = page_request(first, after.as_deref())?;
        let page = store::people::list_unreachable(&state(ctx)?.db, &viewer, request).await?;
        connection(request, page, |row| row.id, Person::from_row)
    }
}

#[derive(InputObject)]
pub struct PushSubscriptionKeysInput {
    /// The browser's P-256 public key, base64url (`subscription.toJSON().keys.p256dh`).
    #[graphql(name = "p256dh")]
    pub p256dh: String,
    /// The 16-byte auth secret, base64url (`subscription.toJSON().keys.auth`).
    pub auth: String,
}

/// `PushSubscription.toJSON()` from the browser, and a label.
#[derive(InputObject)]
pub struct RegisterPushSubscriptionInput {
    pub endpoint: String,
    pub keys: PushSubscriptionKeysInput,
    /// Defaults to the label the device was paired with.
    pub label: Option<String>,
    /// The language this device shows notifications in; defaults to the person's.
    pub locale: Option<Locale>,
}

#[derive(SimpleObject)]
pub struct RegisterPushSubscriptionPayload {
    pub push_subscription: PushSubscription,
}

#[derive(InputObject)]
pub struct RemovePushSubscriptionInput {
    /// The endpoint the device registered (it stops receiving at once).
    pub endpoint: String,
}

#[derive(SimpleObject)]
pub struct RemovePushSubscriptionPayload {
    /// False when the viewer had no such subscription (removing twice is not an error).
    pub removed: bool,
}

/// A daily window in the person's own time zone, `HH:MM` to `HH:MM`; it may cross midnight.
#[derive(InputObject)]
pub struct QuietHoursInput {
    pub start: String,
    pub end: String,
}

#[derive(InputObject)]
pub struct UpdateNotificationSettingsInput {
    pub person_id: ID,
    /// Reminders wait until quiet hours end; safety messages never wait. `null` clears them;
    /// leaving the field out keeps them.
    pub quiet_hours: MaybeUndefined<QuietHoursInput>,
    /// The language notifications are written in (the person's locale).
    pub locale: Option<Locale>,
}

#[derive(SimpleObject)]
pub struct UpdateNotificationSettingsPayload {
    pub person: Person,
}

#[derive(InputObject)]
pub struct SendConnectionCheckInput {
    pub person_id: ID,
}

#[derive(SimpleObject)]
pub struct SendConnectionCheckPayload {
    /// The notification sent; its outcome shows on the person's push subscriptions.
    pub notification_id: ID,
    /// Devices it was sent to (0: the person cannot currently be reached).
    pub devices: i32,
}

#[derive(InputObject)]
pub struct ConfirmNotificationShownInput {
    /// The `notificationId` of the push payload.
    pub notification_id: ID,
}

#[derive(SimpleObject)]
pub struct ConfirmNotificationShownPayload {
    pub notification_id: ID,
    /// Whether it was kept (safety alerts are; other kinds need no confirmation).
    pub recorded: bool,
}

#[derive(Default)]
pub struct PushMutation;

#[Object]
impl PushMutation {
    /// Registers this device's push subscription for the signed-in person. Registering the same
    /// endpoint again updates it.
    #[tracing::instrument(name = "registerPushSubscription", skip_all)]
    async fn register_push_subscription(
        &self,
        ctx: &Context<'_>,
        input: RegisterPushSubscriptionInput,
    ) -> ApiResult<RegisterPushSubscriptionPayload> {
        let viewer = viewer(ctx)?;
        let state = state(ctx)?;
        let endpoint = input.endpoint.trim();
        check_endpoint(endpoint, &state.config.endpoint_policy)
            .map_err(|err| ApiError::bad_input("endpoint", err.reason()))?;
        let keys = SubscriptionKeys::parse(&input.keys.p256dh, &input.keys.auth).map_err(
            |err| match err {
                KeyError::P256dh => {
                    ApiError::bad_input("keys.p256dh", "must be a P-256 public key, base64url")
                }
                KeyError::Auth => ApiError::bad_input("keys.auth", "must be 16 bytes, base64url"),
            },
        )?;
        let label = input
            .label
            .as_deref()
            .map(|label| valid("label", text::single_line(label, LABEL_MAX)))
            .transpose()?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = store::people::find(&txn, viewer.person_id)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let label = match label {
            Some(label) => label,
            None => store::devices::find(&txn, viewer.device_id)
                .await?
                .map_or_else(|| "Device".to_owned(), |device| device.label),
        };
        use base64::Engine as _;
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let subscription = store::push_subscriptions::register(
            &txn,
            store::push_subscriptions::NewSubscription {
                person: &person,
                device_id: Some(viewer.device_id),
                endpoint,
                endpoint_hash: sha256_hex(endpoint.as_bytes()),
                p256dh: &encode(&keys.p256dh),
                auth: &encode(&keys.auth),
                label: &label,
                locale: input.locale.map(Into::into),
            },
            now,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            now,
            "push_subscription.registered",
            ("push_subscription", subscription.id),
        )
        .await?;
        txn.commit().await?;
        Ok(RegisterPushSubscriptionPayload {
            push_subscription: PushSubscription::from(subscription),
        })
    }

    /// Removes one of the signed-in person's push subscriptions (the app unsubscribed).
    #[tracing::instrument(name = "removePushSubscription", skip_all)]
    async fn remove_push_subscription(
        &self,
        ctx: &Context<'_>,
        input: RemovePushSubscriptionInput,
    ) -> ApiResult<RemovePushSubscriptionPayload> {
        let viewer = viewer(ctx)?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let hash = sha256_hex(input.endpoint.trim().as_bytes());
        let txn = store::begin_write(&state.db).await?;
        let Some(subscription) = store::push_subscriptions::find_by_endpoint_hash(&txn, &hash)
            .await?
            .filter(|subscription| subscription.person_id == viewer.person_id)
        else {
            return Ok(RemovePushSubscriptionPayload { removed: false });
        };
        let removed = store::push_subscriptions::remove_by_ids(
            &txn,
            &[subscription.id],
            store::push_subscriptions::removed_reason::UNREGISTERED,
            now,
        )
        .await?;
        if removed > 0 {
            audit(
                &txn,
                &viewer,
                now,
                "push_subscription.removed",
                ("push_subscription", subscription.id),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(RemovePushSubscriptionPayload {
            removed: removed > 0,
        })
    }

    /// Sets a person's quiet hours and notification language. The person or a coordinator.
    #[tracing::instrument(name = "updateNotificationSettings", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn update_notification_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateNotificationSettingsInput,
    ) -> ApiResult<UpdateNotificationSettingsPayload> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let quiet_hours = match input.quiet_hours {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(window) => Some(Some(parse_quiet_hours(&window)?)),
        };
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let mut person = editable_person(&txn, &viewer, person_id).await?;
        if let Some(quiet_hours) = quiet_hours {
            store::notification_settings::set_quiet_hours(&txn, person.id, quiet_hours, now)
                .await?;
        }
        if let Some(locale) = input.locale {
            person = store::people::update(
                &txn,
                person,
                store::people::PersonChanges {
                    locale: Some(locale.into()),
                    ..Default::default()
                },
                now,
            )
            .await?;
        }
        audit(
            &txn,
            &viewer,
            now,
            "notification_settings.updated",
            ("person", person.id),
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateNotificationSettingsPayload {
            person: Person::from_row(person)?,
        })
    }

    /// The app showed a notification (its service worker calls this after `showNotification`,
    /// with the payload's `notificationId`). For a safety alert it is recorded on the alert, so
    /// coordinators see who has seen it and the e-mail fallback skips them. Only the person the
    /// notification was for; a repeat changes nothing.
    #[tracing::instrument(name = "confirmNotificationShown", skip_all, fields(notification_id = %logged_id(&input.notification_id)))]
    async fn confirm_notification_shown(
        &self,
        ctx: &Context<'_>,
        input: ConfirmNotificationShownInput,
    ) -> ApiResult<ConfirmNotificationShownPayload> {
        let viewer = viewer(ctx)?;
        let id = parse_id(&input.notification_id, "notificationId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let notification = store::outbox::notifications_by_id(&txn, &[id])
            .await?
            .pop()
            .filter(|row| row.recipient_id == viewer.person_id)
            .ok_or(ApiError::NotFound)?;
        let mut recorded = false;
        let mut changed = None;
        if let Ok(Message::SafetyAlert {
            alert_id,
            outing_id,
        }) = serde_json::from_value::<Message>(notification.message)
        {
            recorded = store::outings::confirm_alert_reached(
                &txn,
                alert_id,
                viewer.person_id,
                store::outings::Confirmed::Shown,
                now,
            )
            .await?;
            changed = Some(DomainEvent::AlertChanged {
                organisation_id: notification.organisation_id,
                alert_id,
                outing_id,
            });
        }
        txn.commit().await?;
        if let Some(event) = changed.filter(|_| recorded) {
            state.events.publish(event);
        }
        Ok(ConfirmNotificationShownPayload {
            notification_id: input.notification_id,
            recorded,
        })
    }

    /// Sends a test notification to every device of a person, to check that their phone receives
    /// (the outcome shows on `Person.pushSubscriptions`). The person or a coordinator.
    #[tracing::instrument(name = "sendConnectionCheck", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn send_connection_check(
        &self,
        ctx: &Context<'_>,
        input: SendConnectionCheckInput,
    ) -> ApiResult<SendConnectionCheckPayload> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = editable_person(&txn, &viewer, person_id).await?;
        let devices = store::push_subscriptions::active_for_people(&txn, &[person.id]).await?;
        let scheduled = notify::remind(
            &txn,
            Recipient {
                person_id: person.id,
                organisation_id: person.organisation_id,
            },
            Message::ConnectionCheck,
            now,
            &format!("connection_check:{}:{}", person.id, Uuid::now_v7()),
            now,
        )
        .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "connection_check.sent",
            ("person", person.id),
            json!({ "devices": devices.len() }),
        )
        .await?;
        txn.commit().await?;
        state.events.publish(DomainEvent::NotificationsQueued);
        Ok(SendConnectionCheckPayload {
            notification_id: ID(scheduled.id().to_string()),
            devices: i32::try_from(devices.len()).unwrap_or(i32::MAX),
        })
    }
}

fn parse_quiet_hours(window: &QuietHoursInput) -> ApiResult<QuietHours> {
    let time = |value: &str, field: &'static str| {
        NaiveTime::parse_from_str(value.trim(), "%H:%M")
            .map_err(|_| ApiError::bad_input(field, "must be a time of day as HH:MM, e.g. 22:00"))
    };
    let start = time(&window.start, "quietHours.start")?;
    let end = time(&window.end, "quietHours.end")?;
    QuietHours::new(start, end)
        .map_err(|_| ApiError::bad_input("quietHours.end", "must differ from the start"))
}

/// What the push service last said about a subscription.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum PushOutcome {
    Delivered,
    Retrying,
    Failed,
    Gone,
}

/// A device's push subscription, as coordinators and the person see it: never its endpoint.
pub struct PushSubscription {
    row: push_subscriptions::Model,
}

impl From<push_subscriptions::Model> for PushSubscription {
    fn from(row: push_subscriptions::Model) -> Self {
        Self { row }
    }
}

#[Object]
impl PushSubscription {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn label(&self) -> &str {
        &self.row.label
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    async fn last_outcome(&self) -> Option<PushOutcome> {
        use store::push_subscriptions::outcome;
        match self.row.last_outcome.as_deref()? {
            outcome::DELIVERED => Some(PushOutcome::Delivered),
            outcome::RETRYING => Some(PushOutcome::Retrying),
            outcome::FAILED => Some(PushOutcome::Failed),
            outcome::GONE => Some(PushOutcome::Gone),
            _ => None,
        }
    }

    async fn last_outcome_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_outcome_at
    }

    async fn last_delivered_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_delivered_at
    }

    /// Set when the subscription no longer receives: unregistered, gone (the push service said
    /// so) or its device was revoked.
    async fn removed_at(&self) -> Option<DateTime<Utc>> {
        self.row.removed_at
    }

    async fn removed_reason(&self) -> Option<&str> {
        self.row.removed_reason.as_deref()
    }

    /// Not removed and not failing repeatedly.
    async fn is_reaching(&self) -> bool {
        store::push_subscriptions::is_reaching(&self.row)
    }
}

/// A person's notification settings.
#[derive(SimpleObject)]
pub struct NotificationSettings {
    pub quiet_hours: Option<QuietHoursWindow>,
}

#[derive(SimpleObject)]
pub struct QuietHoursWindow {
    /// `HH:MM`, the person's local time.
    pub start: String,
    pub end: String,
}

impl NotificationSettings {
    pub fn from_row(row: Option<&notification_settings::Model>) -> Self {
        let quiet_hours = row
            .and_then(store::notification_settings::quiet_hours)
            .map(|window| QuietHoursWindow {
                start: window.start().format("%H:%M").to_string(),
                end: window.end().format("%H:%M").to_string(),
            });
        Self { quiet_hours }
    }
}

/// The push fields of a person; called from `Person`'s resolvers after its access checks.
pub(crate) async fn subscriptions_of(
    ctx: &Context<'_>,
    person_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, PushSubscription>> {
    let request = page_request(first, after.as_deref())?;
    let page =
        store::push_subscriptions::list_for_person(&state(ctx)?.db, person_id, request).await?;
    connection(
        request,
        page,
        |row| row.id,
        |row| Ok(PushSubscription::from(row)),
    )
}
