//! DataLoaders: one query per kind of record per request, whatever the number of rows that ask.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::error::ApiError;
use crate::store::entities::{organisations, participant_profiles, supporter_profiles};
use crate::store::{organisations as organisation_queries, profiles};

pub(crate) struct Loaders {
    pub organisations: DataLoader<OrganisationLoader>,
    pub supporter_profiles: DataLoader<SupporterProfileLoader>,
    pub participant_profiles: DataLoader<ParticipantProfileLoader>,
}

impl Loaders {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            organisations: DataLoader::new(OrganisationLoader(db.clone()), tokio::spawn),
            supporter_profiles: DataLoader::new(SupporterProfileLoader(db.clone()), tokio::spawn),
            participant_profiles: DataLoader::new(ParticipantProfileLoader(db), tokio::spawn),
        }
    }

    pub fn without_cache(db: DatabaseConnection) -> Self {
        let loaders = Self::new(db);
        loaders.organisations.enable_all_cache(false);
        loaders.supporter_profiles.enable_all_cache(false);
        loaders.participant_profiles.enable_all_cache(false);
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
