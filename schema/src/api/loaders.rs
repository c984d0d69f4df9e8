//! DataLoaders: one query per kind of record per request, whatever the number of rows that ask.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::error::ApiError;
use crate::store::entities::{
    notification_settings, organisations, participant_profiles, supporter_profiles,
};
use crate::store::{organisations as organisation_queries, profiles, push_subscriptions};

pub(crate) struct Loaders {
    pub organisations: DataLoader<OrganisationLoader>,
    pub supporter_profiles: DataLoader<SupporterProfileLoader>,
    pub participant_profiles: DataLoader<ParticipantProfileLoader>,
    pub reachability: DataLoader<ReachabilityLoader>,
    pub notification_settings: DataLoader<NotificationSettingsLoader>,
}

impl Loaders {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            organisations: DataLoader::new(OrganisationLoader(db.clone()), tokio::spawn),
            supporter_profiles: DataLoader::new(SupporterProfileLoader(db.clone()), tokio::spawn),
            participant_profiles: DataLoader::new(
                ParticipantProfileLoader(db.clone()),
                tokio::spawn,
            ),
            reachability: DataLoader::new(ReachabilityLoader(db.clone()), tokio::spawn),
            notification_settings: DataLoader::new(NotificationSettingsLoader(db), tokio::spawn),
        }
    }

    pub fn without_cache(db: DatabaseConnection) -> Self {
        let loaders = Self::new(db);
        loaders.organisations.enable_all_cache(false);
        loaders.supporter_profiles.enable_all_cache(false);
        loaders.participant_profiles.enable_all_cache(false);
        loaders.reachability.enable_all_cache(false);
        loaders.notification_settings.enable_all_cache(false);
        loaders
    }
}

pub(crate) struct OrganisationLoader(DatabaseConnection);

impl Loader<Uuid> for OrganisationLoader {
    type Value = organisations::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = organisation_queries::find_many(&self.0, keys).await?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

pub(crate) struct SupporterProfileLoader(DatabaseConnection);

impl Loader<Uuid> for SupporterProfileLoader {
    type Value = supporter_profiles::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = profiles::supporter_profiles_of(&self.0, keys).await?;
        Ok(rows.into_iter().map(|row| (row.person_id, row)).collect())
    }
}

pub(crate) struct ParticipantProfileLoader(DatabaseConnection);

impl Loader<Uuid> for ParticipantProfileLoader {
    type Value = participant_profiles::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = profiles::participant_profiles_of(&self.0, keys).await?;
        Ok(rows.into_iter().map(|row| (row.person_id, row)).collect())
    }
}

/// Whether any device currently reaches each person.
pub(crate) struct ReachabilityLoader(DatabaseConnection);

impl Loader<Uuid> for ReachabilityLoader {
    type Value = bool;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, bool>, Self::Error> {
        let mut reachable: HashMap<Uuid, bool> = keys.iter().map(|key| (*key, false)).collect();
        for subscription in push_subscriptions::active_for_people(&self.0, keys).await? {
            if push_subscriptions::is_reaching(&subscription) {
                reachable.insert(subscription.person_id, true);
            }
        }
        Ok(reachable)
    }
}

pub(crate) struct NotificationSettingsLoader(DatabaseConnection);

impl Loader<Uuid> for NotificationSettingsLoader {
    type Value = notification_settings::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = crate::store::notification_settings::for_people(&self.0, keys).await?;
        Ok(rows.into_iter().map(|row| (row.person_id, row)).collect())
    }
}
