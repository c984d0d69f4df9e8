//! GraphQL object types. Built from store rows but separate from them, so the database can change
//! without changing the contract the mobile app relies on.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::api::context::{loaders, state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::pagination::{connection, page_request};
use crate::api::push::{self, NotificationSettings, PushSubscription};
use crate::api::training::{self, ProgramSettingsObject, SupporterCapabilities, SupporterTraining};
use crate::domain::people as domain;
use crate::store;
use crate::store::entities::{
    devices, organisations, participant_profiles, people, supporter_profiles,
};

/// What a person does in the program.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::people::Role")]
pub enum Role {
    Participant,
    Supporter,
    Coordinator,
}

/// The kind of organisation.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::people::OrganisationKind")]
pub enum OrganisationKind {
    Hospital,
    WardOffice,
    CommunityGroup,
    Workshop,
}

/// The language server-written texts (notifications, reasons) are shown in.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::people::Locale")]
pub enum Locale {
    Ja,
    En,
}

/// A hospital, ward office, community group or workshop taking part in the program.
pub struct Organisation {
    row: organisations::Model,
    kind: domain::OrganisationKind,
}

impl Organisation {
    pub fn from_row(row: organisations::Model) -> ApiResult<Self> {
        let kind = domain::OrganisationKind::parse(&row.kind)?;
        Ok(Self { row, kind })
    }
}

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.row.name
    }

    async fn kind(&self) -> OrganisationKind {
        self.kind.into()
    }

    /// IANA time zone the organisation plans in, e.g. `Asia/Tokyo`.
    async fn time_zone(&self) -> &str {
        &self.row.time_zone
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// Limits and intervals of the support program (defaults until a coordinator changes them).
    async fn program_settings(&self, ctx: &Context<'_>) -> ApiResult<ProgramSettingsObject> {
        Ok(loaders(ctx)?
            .program_settings
            .load_one(self.row.id)
            .await?
            .unwrap_or_default()
            .into())
    }
}

/// A participant, supporter or coordinator. Only built for people the viewer may see.
pub struct Person {
    row: people::Model,
    role: domain::Role,
    locale: domain::Locale,
}

impl Person {
    /// The person with this id through the request's loader (one statement for all asked
    /// together), or None. Callers decide first whether the viewer may see them.
    pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> ApiResult<Option<Self>> {
        loaders(ctx)?
            .people
            .load_one(id)
            .await?
            .map(Self::from_row)
            .transpose()
    }

    pub fn from_row(row: people::Model) -> ApiResult<Self> {
        let role = domain::Role::parse(&row.role)?;
        let locale = domain::Locale::parse(&row.locale)?;
        Ok(Self { row, role, locale })
    }
}

#[Object]
impl Person {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// The name shown in the app; often a nickname or given name only.
    async fn display_name(&self) -> &str {
        &self.row.display_name
    }

    async fn role(&self) -> Role {
        self.role.into()
    }

    async fn locale(&self) -> Locale {
        self.locale.into()
    }

    /// IANA time zone the app shows this person's times in.
    async fn time_zone(&self) -> &str {
        &self.row.time_zone
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        let row = loaders(ctx)?
            .organisations
            .load_one(self.row.organisation_id)
            .await?
            .ok_or_else(|| ApiError::internal("person without organisation"))?;
        Organisation::from_row(row)
    }

    /// Set for supporters, to the supporter and coordinators (it holds their lived experience and
    /// breaks); null to everyone else.
    async fn supporter_profile(&self, ctx: &Context<'_>) -> ApiResult<Option<SupporterProfile>> {
        if self.role != domain::Role::Supporter
            || !viewer(ctx)?.may_read_supporter_profile(&store::people::facts(&self.row)?)
        {
            return Ok(None);
        }
        let row = loaders(ctx)?
            .supporter_profiles
            .load_one(self.row.id)
            .await?;
        Ok(row.map(SupporterProfile::from))
    }

    /// Set for participants.
    async fn participant_profile(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<ParticipantProfile>> {
        if self.role != domain::Role::Participant {
            return Ok(None);
        }
        let row = loaders(ctx)?
            .participant_profiles
            .load_one(self.row.id)
            .await?;
        Ok(row.map(ParticipantProfile::from))
    }

    /// The devices signed in as this person, newest last. The person themselves and coordinators
    /// only.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn devices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Device>> {
        self.ensure_own_or_coordinator(ctx)?;
        let request = page_request(first, after.as_deref())?;
        let page = store::devices::list_for_person(&state(ctx)?.db, self.row.id, request).await?;
        connection(request, page, |row| row.id, |row| Ok(Device::from(row)))
    }

    /// The person's push subscriptions with what the push service last said about each, removed
    /// ones included. The person themselves and coordinators only.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn push_subscriptions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, PushSubscription>> {
        self.ensure_own_or_coordinator(ctx)?;
        push::subscriptions_of(ctx, self.row.id, first, after).await
    }

    /// False when no device currently reaches the person: none registered, all removed, or all
    /// failing. The person themselves and coordinators only.
    async fn is_reachable(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        self.ensure_own_or_coordinator(ctx)?;
        Ok(loaders(ctx)?
            .reachability
            .load_one(self.row.id)
            .await?
            .unwrap_or(false))
    }

    /// Set for supporters: what their training allows (be matched, lead outings, join as a
    /// trainee) and what is missing. The supporter and coordinators only, like `training`.
    async fn capabilities(&self, ctx: &Context<'_>) -> ApiResult<Option<SupporterCapabilities>> {
        if self.role != domain::Role::Supporter
            || !training::may_see_training(&viewer(ctx)?, &self.row)
        {
            return Ok(None);
        }
        Ok(Some(
            (&training::capabilities_loaded(ctx, &self.row).await?).into(),
        ))
    }

    /// Set for supporters: progress per course, certificates and supervision. The supporter and
    /// coordinators only.
    async fn training(&self, ctx: &Context<'_>) -> ApiResult<Option<SupporterTraining>> {
        SupporterTraining::of(&viewer(ctx)?, &self.row)
    }

    /// Coordinators: whether they are on duty now (they get alerts first): on shift by the rota,
    /// or on call by hand (`setOnDuty`).
    async fn is_on_duty(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        if self.role != domain::Role::Coordinator {
            return Ok(false);
        }
        Ok(loaders(ctx)?
            .on_duty
            .load_one(self.row.id)
            .await?
            .unwrap_or(false))
    }

    /// A coordinator's e-mail address for alerts nobody confirmed seeing; null when none is set.
    /// The person themselves and coordinators of their organisation only.
    async fn email(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        self.ensure_own_or_coordinator(ctx)?;
        if self.role != domain::Role::Coordinator {
            return Ok(None);
        }
        Ok(store::contact_addresses::email_of(&state(ctx)?.db, self.row.id).await?)
    }

    /// Quiet hours. The person themselves and coordinators only.
    async fn notification_settings(&self, ctx: &Context<'_>) -> ApiResult<NotificationSettings> {
        self.ensure_own_or_coordinator(ctx)?;
        let row = loaders(ctx)?
            .notification_settings
            .load_one(self.row.id)
            .await?;
        Ok(NotificationSettings::from_row(row.as_ref()))
    }
}

impl Person {
    fn ensure_own_or_coordinator(&self, ctx: &Context<'_>) -> ApiResult<()> {
        let viewer = viewer(ctx)?;
        if viewer.may_see_devices_of(&store::people::facts(&self.row)?) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                reason: "only the person and coordinators see this",
            })
        }
    }
}

/// What a supporter brings: matched against participants' needs.
#[derive(SimpleObject)]
pub struct SupporterProfile {
    /// Lived-experience tags the supporter chose to share, e.g. "discharge", "bus travel".
    experience_tags: Vec<String>,
    /// Languages spoken, e.g. "ja", "en", "vi".
    languages: Vec<String>,
    /// Areas the supporter can go to, e.g. "Nishi-ku".
    areas: Vec<String>,
    /// The supporter's own match capacity; null: the organisation's applies.
    match_capacity: Option<i32>,
    /// On a break: no new proposals or outings until they return.
    is_on_break: bool,
    on_break_since: Option<DateTime<Utc>>,
    /// Trainers may record module completions.
    is_trainer: bool,
    updated_at: DateTime<Utc>,
}

impl From<supporter_profiles::Model> for SupporterProfile {
    fn from(row: supporter_profiles::Model) -> Self {
        Self {
            experience_tags: row.experience_tags.0,
            languages: row.languages.0,
            areas: row.areas.0,
            match_capacity: row.match_capacity,
            is_on_break: row.on_break_since.is_some(),
            on_break_since: row.on_break_since,
            is_trainer: row.is_trainer,
            updated_at: row.updated_at,
        }
    }
}

/// A participant's stated preferences and consents.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ParticipantProfile {
    #[graphql(skip)]
    person_id: uuid::Uuid,
    /// Preferences the participant stated, e.g. "quiet places", "female supporter".
    preferences: Vec<String>,
    /// Whether check-ins during outings may carry a location.
    consents_to_location_sharing: bool,
    /// Lived-experience tags the participant is happy to share for matching.
    experience_tags: Vec<String>,
    /// Languages the participant speaks, e.g. "ja", "vi".
    languages: Vec<String>,
    /// Where the participant lives or goes, e.g. "Nishi-ku".
    areas: Vec<String>,
    #[graphql(skip)]
    crisis_plan: Option<String>,
    updated_at: DateTime<Utc>,
}

#[async_graphql::ComplexObject]
impl ParticipantProfile {
    /// What helps and whom to call in a crisis. The participant and coordinators always; the
    /// members of an outing with the participant from 3 hours before its start until it ends;
    /// the owner of an alert about them while they own it. Null for anyone else.
    async fn crisis_plan(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        crisis_plan_for(ctx, self.person_id, self.crisis_plan.clone()).await
    }

    /// Who read the crisis plan and when, newest first (at most `first`, 1–100, default 20):
    /// every read by someone other than the participant is recorded. The participant and
    /// coordinators; null to anyone else.
    async fn crisis_plan_reads(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> ApiResult<Option<Vec<CrisisPlanRead>>> {
        let viewer = viewer(ctx)?;
        let loaders = loaders(ctx)?;
        let Some(participant) = loaders.people.load_one(self.person_id).await? else {
            return Ok(None);
        };
        if !viewer.may_edit_person(&store::people::facts(&participant)?) {
            return Ok(None);
        }
        let limit = page_request(first, None)?.first;
        let reads = store::audit::crisis_plan_reads(&state(ctx)?.db, self.person_id, limit).await?;
        let readers = loaders
            .people
            .load_many(reads.iter().filter_map(|read| read.actor_id))
            .await?;
        Ok(Some(
            reads
                .into_iter()
                .filter_map(|read| {
                    let reader = readers.get(&read.actor_id?)?;
                    Some(CrisisPlanRead {
                        read_at: read.occurred_at,
                        reader_name: reader.display_name.clone(),
                        reader_role: domain::Role::parse(&reader.role).ok()?.into(),
                    })
                })
                .collect(),
        ))
    }
}

/// One read of a participant's crisis plan, as the participant sees it: who (their name and
/// role, even a coordinator they cannot otherwise look up) and when.
#[derive(SimpleObject)]
pub struct CrisisPlanRead {
    pub read_at: DateTime<Utc>,
    pub reader_name: String,
    pub reader_role: Role,
}

/// The one gate every read of a crisis plan goes through (`Viewer::may_read_crisis_plan`).
pub(crate) async fn crisis_plan_for(
    ctx: &Context<'_>,
    participant_id: uuid::Uuid,
    plan: Option<String>,
) -> ApiResult<Option<String>> {
    if plan.is_none() {
        return Ok(None);
    }
    let viewer = viewer(ctx)?;
    let may = loaders(ctx)?
        .crisis_plan_access
        .load_one((viewer, participant_id))
        .await?
        .unwrap_or(false);
    Ok(plan.filter(|_| may))
}

impl From<participant_profiles::Model> for ParticipantProfile {
    fn from(row: participant_profiles::Model) -> Self {
        Self {
            person_id: row.person_id,
            preferences: row.preferences.0,
            consents_to_location_sharing: row.consents_to_location_sharing,
            experience_tags: row.experience_tags.unwrap_or_default().0,
            languages: row.languages.unwrap_or_default().0,
            areas: row.areas.unwrap_or_default().0,
            crisis_plan: row.crisis_plan,
            updated_at: row.updated_at,
        }
    }
}

/// A phone or browser signed in as a person. Its token is never shown again after pairing.
pub struct Device {
    row: devices::Model,
}

#[Object]
impl Device {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// What the person called it when pairing, e.g. "My phone".
    async fn label(&self) -> &str {
        &self.row.label
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// Within five minutes.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_used_at
    }

    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.row.revoked_at
    }

    async fn is_revoked(&self) -> bool {
        self.row.revoked_at.is_some()
    }
}

impl From<devices::Model> for Device {
    fn from(row: devices::Model) -> Self {
        Self { row }
    }
}

/// A one-time code that pairs a person's device. Shown once, when issued.
#[derive(SimpleObject)]
pub struct PairingCode {
    /// Eight characters in two groups, e.g. `K7QM-3XPA`; case and the hyphen do not matter.
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// What happened to a device.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum DeviceEventKind {
    Paired,
    Revoked,
}

#[derive(SimpleObject)]
pub struct DeviceEvent {
    pub kind: DeviceEventKind,
    pub person_id: ID,
    pub device: Device,
}
