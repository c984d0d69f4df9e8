//! Demo data for `tomoni serve --demo`: a fictional peer-support network in Itachibori, Nishi-ku,
//! Osaka. Everyone here is invented. Running the demo again reuses the data and prints a new token.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tomoni_schema::domain::credentials::AccessToken;
use tomoni_schema::domain::people::{Locale, OrganisationKind, Role};
use tomoni_schema::store;
use tomoni_schema::store::profiles::{ParticipantProfileChanges, SupporterProfileChanges};

use crate::admin;

mod training;

pub const DEMO_ORGANISATION: &str = "いたちぼりピアサポートネットワーク（デモ）";
/// The label of the demo's playground token; a new run revokes the previous one.
const DEMO_TOKEN_LABEL: &str = "demo playground";

struct DemoPerson {
    name: &'static str,
    role: Role,
    locale: Locale,
    tags: &'static [&'static str],
    languages: &'static [&'static str],
    areas: &'static [&'static str],
    /// Participants: experience tags they share for matching (supporters' are in `tags`).
    experience: &'static [&'static str],
    consents_to_location_sharing: bool,
}

const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        name: "堀江 美咲",
        role: Role::Coordinator,
        locale: Locale::Ja,
        tags: &[],
        languages: &[],
        areas: &[],
        experience: &[],
        consents_to_location_sharing: false,
    },
    DemoPerson {
        name: "Daniel Okafor",
        role: Role::Coordinator,
        locale: Locale::En,
        tags: &[],
        languages: &[],
        areas: &[],
        experience: &[],
        consents_to_location_sharing: false,
    },
    DemoPerson {
        name: "新町 陽子",
        role: Role::Supporter,
        locale: Locale::Ja,
        tags: &["退院支援", "バスの練習"],
        languages: &["ja"],
        areas: &["西区", "北区"],
        experience: &[],
        consents_to_location_sharing: false,
    },
    DemoPerson {
        name: "立売 翔",
        role: Role::Supporter,
        locale: Locale::Ja,
        tags: &["就労継続支援B型", "区役所の手続き"],
        languages: &["ja", "en"],
        areas: &["西区"],
        experience: &[],
        consents_to_location_sharing: false,
    },
    DemoPerson {
        name: "Linh Tran",
        role: Role::Supporter,
        locale: Locale::En,
        tags: &["shopping", "clinic visits"],
        languages: &["vi", "en", "ja"],
        areas: &["Nishi-ku", "Naniwa-ku"],
        experience: &[],
        consents_to_location_sharing: false,
    },
    DemoPerson {
        name: "江戸 はるか",
        role: Role::Participant,
        locale: Locale::Ja,
        tags: &["静かな場所", "午前中"],
        languages: &["ja"],
        areas: &["西区"],
        experience: &["退院支援"],
        consents_to_location_sharing: true,
    },
    DemoPerson {
        name: "京町 拓海",
        role: Role::Participant,
        locale: Locale::Ja,
        tags: &["ゆっくりのペース"],
        languages: &["ja"],
        areas: &["西区"],
        experience: &["区役所の手続き"],
        consents_to_location_sharing: false,
    },
    DemoPerson {
        name: "Sam Carter",
        role: Role::Participant,
        locale: Locale::En,
        tags: &["en"],
        languages: &["en"],
        areas: &["Naniwa-ku"],
        experience: &["clinic visits"],
        consents_to_location_sharing: false,
    },
];

/// Makes sure the demo organisation exists and returns a fresh token for its first coordinator.
pub async fn ensure(db: &DatabaseConnection, now: DateTime<Utc>) -> anyhow::Result<AccessToken> {
    let organisation = match store::organisations::find_by_name(db, DEMO_ORGANISATION).await? {
        Some(existing) => existing,
        None => create(db, now).await?,
    };
    let coordinator = store::people::coordinators_of(db, organisation.id)
        .await?
        .into_iter()
        .min_by_key(|person| person.id)
        .ok_or_else(|| anyhow!("the demo organisation has no coordinator"))?;
    let txn = store::begin_write(db).await?;
    store::devices::revoke_labelled(&txn, coordinator.id, DEMO_TOKEN_LABEL, now).await?;
    let token = admin::issue_token(&txn, &coordinator, DEMO_TOKEN_LABEL, now).await?;
    txn.commit().await?;
    Ok(token)
}

async fn create(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<tomoni_schema::store::entities::organisations::Model> {
    let organisation = admin::create_organisation(
        db,
        DEMO_ORGANISATION,
        OrganisationKind::CommunityGroup,
        "Asia/Tokyo",
        now,
    )
    .await?;
    let txn = store::begin_write(db).await?;
    for person in PEOPLE {
        let created = store::people::create(
            &txn,
            store::people::NewPerson {
                organisation_id: organisation.id,
                display_name: person.name,
                role: person.role,
                locale: person.locale,
                time_zone: "Asia/Tokyo",
            },
            now,
        )
        .await?;
        let list = |items: &[&str]| Some(items.iter().map(|item| (*item).to_owned()).collect());
        match person.role {
            Role::Supporter => {
                let changes = SupporterProfileChanges {
                    experience_tags: list(person.tags),
                    languages: list(person.languages),
                    areas: list(person.areas),
                };
                store::profiles::update_supporter_profile(&txn, created.id, changes, now).await?;
            }
            Role::Participant => {
                let changes = ParticipantProfileChanges {
                    preferences: list(person.tags),
                    consents_to_location_sharing: Some(person.consents_to_location_sharing),
                    experience_tags: list(person.experience),
                    languages: list(person.languages),
                    areas: list(person.areas),
                    crisis_plan: None,
                };
                store::profiles::update_participant_profile(&txn, created.id, changes, now).await?;
            }
            Role::Coordinator => {}
        }
    }
    training::create(&txn, &organisation, now).await?;
    txn.commit().await?;
    Ok(organisation)
}
