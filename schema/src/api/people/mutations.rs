//! The mutation root. Each mutation checks who may do it, validates all input before writing, and
//! writes its change and the audit entry in one transaction: a refused request changes nothing.

use crate::api::common::logged_id;
use async_graphql::{Context, MaybeUndefined, Object};
use serde_json::json;

use super::inputs::*;
use super::objects::{Device, Organisation, PairingCode, Person};
use crate::api::common::{audit, audit_with, parse_id, valid};
use crate::api::context::{ApiState, client_ip, state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::lookup::{editable_person, managed_person, visible_device};
use crate::domain::contact;
use crate::domain::credentials::{AccessToken, PairingCode as Code, PairingCodeError};
use crate::domain::people::{DEFAULT_TIME_ZONE, Locale, Role};
use crate::domain::text::{self};
use crate::events::DomainEvent;
use crate::store;
use crate::store::audit::AuditEntry;

const DISPLAY_NAME_MAX: usize = 100;
const ORGANISATION_NAME_MAX: usize = 200;
const DEVICE_LABEL_MAX: usize = 100;

/// People, profiles, pairing and devices.
#[derive(Default)]
pub struct PeopleMutation;

#[Object]
impl PeopleMutation {
    /// Adds a participant, supporter or coordinator to the viewer's organisation. Coordinators only.
    #[tracing::instrument(name = "createPerson", skip_all)]
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        input: CreatePersonInput,
    ) -> ApiResult<CreatePersonPayload> {
        let viewer = viewer(ctx)?;
        if !viewer.is_coordinator() {
            return Err(ApiError::Forbidden {
                reason: "only coordinators add people",
            });
        }
        let display_name = valid(
            "displayName",
            text::single_line(&input.display_name, DISPLAY_NAME_MAX),
        )?;
        let time_zone = valid_time_zone("timeZone", input.time_zone.as_deref())?
            .unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned());
        let role: Role = input.role.into();
        let locale: Locale = input.locale.map(Into::into).unwrap_or_default();
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = store::people::create(
            &txn,
            store::people::NewPerson {
                organisation_id: viewer.organisation_id,
                display_name: &display_name,
                role,
                locale,
                time_zone: &time_zone,
            },
            now,
        )
        .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "person.created",
            ("person", person.id),
            json!({ "role": role.as_str() }),
        )
        .await?;
        txn.commit().await?;
        Ok(CreatePersonPayload {
            person: Person::from_row(person)?,
        })
    }

    /// Changes a person's name shown, language or time zone (the person themselves or a
    /// coordinator), or a coordinator's e-mail address (coordinators only).
    #[tracing::instrument(name = "updatePerson", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        input: UpdatePersonInput,
    ) -> ApiResult<UpdatePersonPayload> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let changes = store::people::PersonChanges {
            display_name: input
                .display_name
                .as_deref()
                .map(|name| valid("displayName", text::single_line(name, DISPLAY_NAME_MAX)))
                .transpose()?,
            locale: input.locale.map(Into::into),
            time_zone: valid_time_zone("timeZone", input.time_zone.as_deref())?,
        };
        // Some(None) removes the address.
        let email = match &input.email {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(email) => {
                Some(Some(valid("email", contact::email_address(email))?))
            }
        };
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = editable_person(&txn, &viewer, person_id).await?;
        if let Some(email) = &email {
            let facts = store::people::facts(&person)?;
            if !viewer.may_manage_person(&facts) {
                return Err(ApiError::Forbidden {
                    reason: "only coordinators change an e-mail address",
                });
            }
            // Only coordinators get alert e-mails: nobody else's address is worth keeping.
            if facts.role != Role::Coordinator {
                return Err(ApiError::bad_input(
                    "email",
                    "only coordinators have an e-mail address",
                ));
            }
            store::contact_addresses::set_email(&txn, person.id, email.as_deref(), now).await?;
        }
        let person = store::people::update(&txn, person, changes, now).await?;
        audit(&txn, &viewer, now, "person.updated", ("person", person.id)).await?;
        txn.commit().await?;
        Ok(UpdatePersonPayload {
            person: Person::from_row(person)?,
        })
    }

    /// Renames the organisation or changes its time zone. Its coordinators only.
    #[tracing::instrument(name = "updateOrganisation", skip_all, fields(organisation_id = %logged_id(&input.organisation_id)))]
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganisationInput,
    ) -> ApiResult<UpdateOrganisationPayload> {
        let viewer = viewer(ctx)?;
        let organisation_id = parse_id(&input.organisation_id, "organisationId")?;
        if !viewer.may_see_organisation(organisation_id) {
            return Err(ApiError::NotFound);
        }
        if !viewer.may_manage_organisation(organisation_id) {
            return Err(ApiError::Forbidden {
                reason: "only coordinators change the organisation",
            });
        }
        let name = input
            .name
            .as_deref()
            .map(|name| valid("name", text::single_line(name, ORGANISATION_NAME_MAX)))
            .transpose()?;
        let time_zone = valid_time_zone("timeZone", input.time_zone.as_deref())?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let organisation = store::organisations::find(&txn, organisation_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let organisation =
            store::organisations::update(&txn, organisation, name, time_zone).await?;
        audit(
            &txn,
            &viewer,
            now,
            "organisation.updated",
            ("organisation", organisation.id),
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateOrganisationPayload {
            organisation: Organisation::from_row(organisation)?,
        })
    }

    /// Changes a supporter's experience tags, languages or areas. The supporter or a coordinator.
    #[tracing::instrument(name = "updateSupporterProfile", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn update_supporter_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateSupporterProfileInput,
    ) -> ApiResult<UpdateSupporterProfilePayload> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let changes = store::profiles::SupporterProfileChanges {
            experience_tags: valid_tags("experienceTags", input.experience_tags.as_deref())?,
            languages: valid_tags("languages", input.languages.as_deref())?,
            areas: valid_tags("areas", input.areas.as_deref())?,
        };
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = editable_person(&txn, &viewer, person_id).await?;
        store::profiles::update_supporter_profile(&txn, person.id, changes, now)
            .await?
            .ok_or_else(|| ApiError::bad_input("personId", "is not a supporter"))?;
        audit(
            &txn,
            &viewer,
            now,
            "supporter_profile.updated",
            ("person", person.id),
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateSupporterProfilePayload {
            person: Person::from_row(person)?,
        })
    }

    /// Changes a participant's preferences or location-sharing consent. The participant or a
    /// coordinator (recording a consent given on paper, for example).
    #[tracing::instrument(name = "updateParticipantProfile", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn update_participant_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateParticipantProfileInput,
    ) -> ApiResult<UpdateParticipantProfilePayload> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let changes = store::profiles::ParticipantProfileChanges {
            preferences: valid_tags("preferences", input.preferences.as_deref())?,
            consents_to_location_sharing: input.consents_to_location_sharing,
            experience_tags: valid_tags("experienceTags", input.experience_tags.as_deref())?,
            languages: valid_tags("languages", input.languages.as_deref())?,
            areas: valid_tags("areas", input.areas.as_deref())?,
            crisis_plan: input
                .crisis_plan
                .as_deref()
                .map(|plan| valid("crisisPlan", text::note(plan, 4000, false)))
                .transpose()?,
        };
        let consent_changed = changes.consents_to_location_sharing;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = editable_person(&txn, &viewer, person_id).await?;
        store::profiles::update_participant_profile(&txn, person.id, changes, now)
            .await?
            .ok_or_else(|| ApiError::bad_input("personId", "is not a participant"))?;
        let detail = consent_changed.map(|consent| json!({ "consentsToLocationSharing": consent }));
        audit_with(
            &txn,
            &viewer,
            now,
            "participant_profile.updated",
            ("person", person.id),
            detail,
        )
        .await?;
        txn.commit().await?;
        Ok(UpdateParticipantProfilePayload {
            person: Person::from_row(person)?,
        })
    }

    /// Issues a one-time code the person types into the app to pair their device. It works for a
    /// short time (15 minutes by default), once; issuing a new one withdraws any earlier unused
    /// code. Coordinators only.
    #[tracing::instrument(name = "issuePairingCode", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn issue_pairing_code(
        &self,
        ctx: &Context<'_>,
        input: IssuePairingCodeInput,
    ) -> ApiResult<IssuePairingCodePayload> {
        let viewer = viewer(ctx)?;
        let person_id = parse_id(&input.person_id, "personId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let code = Code::generate(&mut rand::rng());
        let txn = store::begin_write(&state.db).await?;
        let person = managed_person(&txn, &viewer, person_id).await?;
        let stored = store::pairing::issue(
            &txn,
            &person,
            viewer.person_id,
            code.hash(),
            now,
            state.config.pairing_code_lifetime,
        )
        .await?;
        audit(
            &txn,
            &viewer,
            now,
            "pairing_code.issued",
            ("person", person.id),
        )
        .await?;
        txn.commit().await?;
        Ok(IssuePairingCodePayload {
            pairing_code: PairingCode {
                code: code.display(),
                expires_at: stored.expires_at,
            },
            person: Person::from_row(person)?,
        })
    }

    /// Exchanges a pairing code for this device's token. Needs no token itself. Whatever is wrong
    /// with a code (unknown, expired, used, replaced), the answer is the same, so that guessing
    /// reveals nothing; attempts are limited per network address.
    #[tracing::instrument(name = "redeemPairingCode", skip_all)]
    async fn redeem_pairing_code(
        &self,
        ctx: &Context<'_>,
        input: RedeemPairingCodeInput,
    ) -> ApiResult<RedeemPairingCodePayload> {
        let state = state(ctx)?;
        check_redeem_rate(state, client_ip(ctx))?;
        let label = valid(
            "deviceLabel",
            text::single_line(&input.device_label, DEVICE_LABEL_MAX),
        )?;
        let code = Code::parse(&input.code).map_err(|err| {
            ApiError::bad_input(
                "code",
                match err {
                    PairingCodeError::WrongLength => "must be 8 letters and digits",
                    PairingCodeError::UnknownCharacter => {
                        "has a character pairing codes never contain"
                    }
                },
            )
        })?;
        let now = state.clock.now();
        let token = AccessToken::generate(&mut rand::rng());
        let txn = store::begin_write(&state.db).await?;
        let Some(claimed) = store::pairing::claim(&txn, &code.hash(), now).await? else {
            return Err(ApiError::bad_input(
                "code",
                "is not valid: it may have expired or been used; ask your coordinator for a new one",
            ));
        };
        let person = store::people::find(&txn, claimed.person_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let device = store::devices::create(&txn, &person, &label, token.hash(), now).await?;
        store::pairing::attach_device(&txn, claimed, device.id).await?;
        store::audit::record(
            &txn,
            AuditEntry {
                organisation_id: person.organisation_id,
                actor_id: Some(person.id),
                action: "device.paired",
                subject_kind: "device",
                subject_id: Some(device.id),
                detail: None,
            },
            now,
        )
        .await?;
        txn.commit().await?;
        state.events.publish(DomainEvent::DevicePaired {
            organisation_id: person.organisation_id,
            person_id: person.id,
            device_id: device.id,
        });
        Ok(RedeemPairingCodePayload {
            token: token.reveal().to_owned(),
            device: Device::from(device),
            person: Person::from_row(person)?,
        })
    }

    /// Ends a device's access at once (a lost phone, a person leaving the program). The person
    /// themselves or a coordinator. Revoking an already revoked device changes nothing.
    #[tracing::instrument(name = "revokeDevice", skip_all, fields(device_id = %logged_id(&input.device_id)))]
    async fn revoke_device(
        &self,
        ctx: &Context<'_>,
        input: RevokeDeviceInput,
    ) -> ApiResult<RevokeDevicePayload> {
        let viewer = viewer(ctx)?;
        let device_id = parse_id(&input.device_id, "deviceId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let (device, person) = visible_device(&txn, &viewer, device_id).await?;
        let was_active = device.revoked_at.is_none();
        let device = store::devices::revoke(&txn, device, now).await?;
        // A revoked phone must stop receiving notifications as well.
        store::push_subscriptions::remove_of_device(
            &txn,
            device.id,
            store::push_subscriptions::removed_reason::DEVICE_REVOKED,
            now,
        )
        .await?;
        if was_active {
            audit(&txn, &viewer, now, "device.revoked", ("device", device.id)).await?;
        }
        txn.commit().await?;
        if was_active {
            state.events.publish(DomainEvent::DeviceRevoked {
                organisation_id: person.organisation_id,
                person_id: person.id,
                device_id: device.id,
            });
        }
        Ok(RevokeDevicePayload {
            device: Device::from(device),
        })
    }
}

fn valid_time_zone(field: &'static str, value: Option<&str>) -> ApiResult<Option<String>> {
    value
        .map(|zone| valid(field, text::time_zone(zone)).map(|tz| tz.name().to_owned()))
        .transpose()
}

fn valid_tags(field: &'static str, values: Option<&[String]>) -> ApiResult<Option<Vec<String>>> {
    values
        .map(|values| {
            valid(
                field,
                text::tag_list(values, text::TAGS_MAX, text::TAG_CHARS_MAX),
            )
        })
        .transpose()
}

fn check_redeem_rate(state: &ApiState, ip: Option<std::net::IpAddr>) -> ApiResult<()> {
    state
        .redeem_limiter
        .check(ip)
        .map_err(|wait| ApiError::RateLimited {
            retry_after_seconds: wait.as_secs().max(1),
        })
}
