//! DataLoaders: one query per kind of record per request, whatever the number of rows that ask.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::error::ApiError;
use crate::domain::access::Viewer;
use crate::domain::clock::SharedClock;
use crate::domain::matching::ProgramSettings;
use crate::domain::training::TrainingFacts;
use crate::store::entities::{
    certificates, module_completions, notification_settings, organisations, participant_profiles,
    people, supervision_sessions, supporter_profiles,
};
use crate::store::training::{Curriculum, FactsScope};
use crate::store::{
    organisations as organisation_queries, profiles, program, push_subscriptions, training,
};

pub(crate) struct Loaders {
    pub people: DataLoader<PeopleLoader>,
    pub organisations: DataLoader<OrganisationLoader>,
    pub program_settings: DataLoader<ProgramSettingsLoader>,
    pub training_facts: DataLoader<TrainingFactsLoader>,
    pub curricula: DataLoader<CurriculumLoader>,
    pub completions: DataLoader<CompletionsLoader>,
    pub certificates: DataLoader<CertificatesLoader>,
    pub last_supervision: DataLoader<LastSupervisionLoader>,
    pub on_duty: DataLoader<OnDutyLoader>,
    pub supporter_profiles: DataLoader<SupporterProfileLoader>,
    pub participant_profiles: DataLoader<ParticipantProfileLoader>,
    pub reachability: DataLoader<ReachabilityLoader>,
    pub notification_settings: DataLoader<NotificationSettingsLoader>,
    pub alert_recipients: DataLoader<AlertRecipientsLoader>,
    pub crisis_plan_access: DataLoader<CrisisPlanAccessLoader>,
}

impl Loaders {
    pub fn new(db: DatabaseConnection, clock: SharedClock) -> Self {
        Self {
            people: DataLoader::new(PeopleLoader(db.clone()), tokio::spawn),
            organisations: DataLoader::new(OrganisationLoader(db.clone()), tokio::spawn),
            program_settings: DataLoader::new(ProgramSettingsLoader(db.clone()), tokio::spawn),
            training_facts: DataLoader::new(TrainingFactsLoader(db.clone()), tokio::spawn),
            curricula: DataLoader::new(CurriculumLoader(db.clone()), tokio::spawn),
            completions: DataLoader::new(CompletionsLoader(db.clone()), tokio::spawn),
            certificates: DataLoader::new(CertificatesLoader(db.clone()), tokio::spawn),
            last_supervision: DataLoader::new(LastSupervisionLoader(db.clone()), tokio::spawn),
            on_duty: DataLoader::new(OnDutyLoader(db.clone(), clock.clone()), tokio::spawn),
            supporter_profiles: DataLoader::new(SupporterProfileLoader(db.clone()), tokio::spawn),
            participant_profiles: DataLoader::new(
                ParticipantProfileLoader(db.clone()),
                tokio::spawn,
            ),
            reachability: DataLoader::new(ReachabilityLoader(db.clone()), tokio::spawn),
            notification_settings: DataLoader::new(
                NotificationSettingsLoader(db.clone()),
                tokio::spawn,
            ),
            alert_recipients: DataLoader::new(AlertRecipientsLoader(db.clone()), tokio::spawn),
            crisis_plan_access: DataLoader::new(CrisisPlanAccessLoader(db, clock), tokio::spawn),
        }
    }

    pub fn without_cache(db: DatabaseConnection, clock: SharedClock) -> Self {
        let loaders = Self::new(db, clock);
        loaders.people.enable_all_cache(false);
        loaders.program_settings.enable_all_cache(false);
        loaders.training_facts.enable_all_cache(false);
        loaders.curricula.enable_all_cache(false);
        loaders.completions.enable_all_cache(false);
        loaders.certificates.enable_all_cache(false);
        loaders.last_supervision.enable_all_cache(false);
        loaders.on_duty.enable_all_cache(false);
        loaders.organisations.enable_all_cache(false);
        loaders.supporter_profiles.enable_all_cache(false);
        loaders.participant_profiles.enable_all_cache(false);
        loaders.reachability.enable_all_cache(false);
        loaders.notification_settings.enable_all_cache(false);
        loaders.alert_recipients.enable_all_cache(false);
        loaders.crisis_plan_access.enable_all_cache(false);
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

pub(crate) struct PeopleLoader(DatabaseConnection);

impl Loader<Uuid> for PeopleLoader {
    type Value = people::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = crate::store::people::find_many(&self.0, keys).await?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Program settings per organisation (the defaults where it set none).
pub(crate) struct ProgramSettingsLoader(DatabaseConnection);

impl Loader<Uuid> for ProgramSettingsLoader {
    type Value = ProgramSettings;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(program::settings_of(&self.0, keys).await?)
    }
}

/// Training facts per supporter (the default, nothing done, for supporters without any).
pub(crate) struct TrainingFactsLoader(DatabaseConnection);

impl Loader<Uuid> for TrainingFactsLoader {
    type Value = TrainingFacts;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut facts = training::training_facts(&self.0, FactsScope::Supporters(keys)).await?;
        for key in keys {
            facts.entry(*key).or_default();
        }
        Ok(facts)
    }
}

/// An organisation's whole curriculum (courses, modules, prerequisites) in four statements.
pub(crate) struct CurriculumLoader(DatabaseConnection);

impl Loader<Uuid> for CurriculumLoader {
    type Value = std::sync::Arc<Curriculum>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut curricula = HashMap::new();
        for (organisation, curriculum) in training::curricula_of(&self.0, keys).await? {
            curricula.insert(organisation, std::sync::Arc::new(curriculum));
        }
        Ok(curricula)
    }
}

pub(crate) struct CompletionsLoader(DatabaseConnection);

impl Loader<Uuid> for CompletionsLoader {
    type Value = Vec<module_completions::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in training::completions_of(&self.0, keys).await? {
            grouped.entry(row.supporter_id).or_default().push(row);
        }
        Ok(grouped)
    }
}

pub(crate) struct CertificatesLoader(DatabaseConnection);

impl Loader<Uuid> for CertificatesLoader {
    type Value = Vec<certificates::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in training::certificates_of(&self.0, keys).await? {
            grouped.entry(row.supporter_id).or_default().push(row);
        }
        Ok(grouped)
    }
}

pub(crate) struct LastSupervisionLoader(DatabaseConnection);

impl Loader<Uuid> for LastSupervisionLoader {
    type Value = supervision_sessions::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(training::last_supervision_of(&self.0, keys).await?)
    }
}

/// Whether each coordinator is on duty now: by the rota, or on call by hand.
pub(crate) struct OnDutyLoader(DatabaseConnection, SharedClock);

impl Loader<Uuid> for OnDutyLoader {
    type Value = bool;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, bool>, Self::Error> {
        let mut on_duty: HashMap<Uuid, bool> = keys.iter().map(|key| (*key, false)).collect();
        for id in crate::store::rota::on_duty_among(&self.0, keys, self.1.now()).await? {
            on_duty.insert(id, true);
        }
        Ok(on_duty)
    }
}

/// Whom each alert reached, with their names, and what their phones confirmed.
pub(crate) struct AlertRecipientsLoader(DatabaseConnection);

impl Loader<Uuid> for AlertRecipientsLoader {
    type Value = Vec<(crate::store::entities::alert_recipients::Model, String)>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(crate::store::outings::recipients_of_alerts(&self.0, keys).await?)
    }
}

/// Whether a viewer may read each participant's crisis plan now (`Viewer::may_read_crisis_plan`),
/// for every profile and alert of a request in a constant number of statements.
pub(crate) struct CrisisPlanAccessLoader(DatabaseConnection, SharedClock);

impl Loader<(Viewer, Uuid)> for CrisisPlanAccessLoader {
    type Value = bool;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[(Viewer, Uuid)],
    ) -> Result<HashMap<(Viewer, Uuid), bool>, Self::Error> {
        let now = self.1.now();
        let mut by_viewer: HashMap<Viewer, Vec<Uuid>> = HashMap::new();
        for (viewer, participant) in keys {
            by_viewer.entry(*viewer).or_default().push(*participant);
        }
        let mut answers = HashMap::new();
        for (viewer, participants) in by_viewer {
            let people = crate::store::people::find_many(&self.0, &participants).await?;
            let facts =
                crate::store::access::crisis_plan_facts(&self.0, &viewer, &participants).await?;
            let mut read_by_others = Vec::new();
            for row in people {
                let target = crate::store::people::facts(&row)?;
                let may = facts
                    .get(&row.id)
                    .is_some_and(|facts| viewer.may_read_crisis_plan(&target, facts, now));
                answers.insert((viewer, row.id), may);
                if may && row.id != viewer.person_id {
                    read_by_others.push(row.id);
                }
            }
            // Asked only for plans that exist, so every granted key is a read: audited, so that
            // the participant can see who read theirs (their own reads are not recorded).
            crate::store::audit::record_crisis_plan_reads(&self.0, &viewer, &read_by_others, now)
                .await?;
        }
        Ok(answers)
    }
}
