//! Demo data for `tomoni serve --demo`: a fictional peer-support network in Itachibori, Nishi-ku,
//! Osaka. Everyone here is invented. Running the demo again reuses the data and prints a new token.
//!
//! Everything is seeded through the GraphQL schema the server serves, as the person whose step it
//! is (the demo coordinator; a supporter accepting a match), with the clock held at the moment a
//! step of the past happened: the demo shows only what the rules let happen, and a step the rules
//! refuse fails the demo. Only what has no API is written directly (see [`create`]).

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tomoni_schema::api::TomoniSchema;
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::domain::credentials::AccessToken;
use tomoni_schema::domain::people::{Locale, OrganisationKind, Role};
use tomoni_schema::store;

use crate::admin;
use api::{Actor, string_at};
pub use clock::HeldClock;

mod api;
mod clock;
mod training;

pub const DEMO_ORGANISATION: &str = "いたちぼりピアサポートネットワーク（デモ）";
/// The demo organisation's name while it is being seeded: renamed to [`DEMO_ORGANISATION`] by the
/// last step, so that a run stopped half-way is never taken for a finished demo.
const PREPARING_ORGANISATION: &str = "いたちぼりピアサポートネットワーク（デモ準備中）";
/// The demo organisation's time zone.
const TIME_ZONE: &str = "Asia/Tokyo";

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

/// Makes sure the demo organisation exists (seeding it through `schema` the first time) and
/// returns a fresh token for its first coordinator. `clock` must be the schema's clock: it is held
/// in the past while the demo's history is written, and released before this returns.
pub async fn ensure(
    db: &DatabaseConnection,
    schema: &TomoniSchema,
    clock: &HeldClock,
) -> anyhow::Result<AccessToken> {
    let organisation = match store::organisations::find_by_name(db, DEMO_ORGANISATION).await? {
        Some(existing) => existing,
        None => {
            if store::organisations::find_by_name(db, PREPARING_ORGANISATION)
                .await?
                .is_some()
            {
                bail!(
                    "an earlier `serve --demo` stopped while seeding the demo: start it on an \
                     empty data directory"
                );
            }
            let created = create(db, schema, clock).await;
            clock.release();
            created?
        }
    };
    let now = clock.now();
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

/// Seeds the demo. The organisation and its first coordinator (with the token the rest is done
/// with) are the bootstrap that has no API: they are created as `tomoni admin create-org` and
/// `create-coordinator` create them (`admin`, store functions). Everything after goes through the
/// schema.
async fn create(
    db: &DatabaseConnection,
    schema: &TomoniSchema,
    clock: &HeldClock,
) -> anyhow::Result<store::entities::organisations::Model> {
    let history = training::History::until(clock.now(), TIME_ZONE)?;
    clock.hold(history.beginning()?);
    let (first, others) = PEOPLE
        .split_first()
        .ok_or_else(|| anyhow!("the demo has nobody"))?;
    if first.role != Role::Coordinator {
        bail!("the demo's first person must be its coordinator");
    }
    let organisation = admin::create_organisation(
        db,
        PREPARING_ORGANISATION,
        OrganisationKind::CommunityGroup,
        TIME_ZONE,
        clock.now(),
    )
    .await?;
    let (first_coordinator, token) =
        admin::create_coordinator(db, organisation.id, first.name, first.locale, clock.now())
            .await?;
    let coordinator = Actor::sign_in(schema, db, clock, token.reveal()).await?;

    let mut people = vec![(first.name, first_coordinator.id.to_string())];
    for person in others {
        people.push((person.name, create_person(&coordinator, person).await?));
    }
    let demo = training::Demo {
        coordinator: &coordinator,
        coordinator_id: &people[0].1,
        schema,
        db,
        clock,
        people: &people,
    };
    training::create(&demo, &history).await?;

    // Last: the demo is complete once it has its name, and the token it was seeded with retires.
    coordinator
        .run(
            "mutation UpdateOrganisation($input: UpdateOrganisationInput!) {
                updateOrganisation(input: $input) { organisation { id } }
            }",
            json!({ "input": { "organisationId": organisation.id.to_string(), "name": DEMO_ORGANISATION } }),
        )
        .await?;
    let device = coordinator
        .device_id()
        .ok_or_else(|| anyhow!("the demo coordinator is not signed in"))?;
    coordinator
        .run(
            "mutation RevokeDevice($input: RevokeDeviceInput!) {
                revokeDevice(input: $input) { device { id } }
            }",
            json!({ "input": { "deviceId": device.to_string() } }),
        )
        .await?;
    store::organisations::find(db, organisation.id)
        .await?
        .ok_or_else(|| anyhow!("the demo organisation vanished"))
}

/// Adds one person with their profile, as a coordinator does in the playground.
async fn create_person(coordinator: &Actor<'_>, person: &DemoPerson) -> anyhow::Result<String> {
    let data = coordinator
        .run(
            "mutation CreatePerson($input: CreatePersonInput!) {
                createPerson(input: $input) { person { id } }
            }",
            json!({ "input": {
                "displayName": person.name,
                "role": role_name(person.role),
                "locale": locale_name(person.locale),
                "timeZone": TIME_ZONE,
            } }),
        )
        .await?;
    let id = string_at(&data, "/createPerson/person/id")?;
    match person.role {
        Role::Supporter => {
            coordinator
                .run(
                    "mutation UpdateSupporterProfile($input: UpdateSupporterProfileInput!) {
                        updateSupporterProfile(input: $input) { __typename }
                    }",
                    json!({ "input": {
                        "personId": id,
                        "experienceTags": person.tags,
                        "languages": person.languages,
                        "areas": person.areas,
                    } }),
                )
                .await?;
        }
        Role::Participant => {
            coordinator
                .run(
                    "mutation UpdateParticipantProfile($input: UpdateParticipantProfileInput!) {
                        updateParticipantProfile(input: $input) { __typename }
                    }",
                    json!({ "input": {
                        "personId": id,
                        "preferences": person.tags,
                        "consentsToLocationSharing": person.consents_to_location_sharing,
                        "experienceTags": person.experience,
                        "languages": person.languages,
                        "areas": person.areas,
                    } }),
                )
                .await?;
        }
        Role::Coordinator => {}
    }
    Ok(id)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Coordinator => "COORDINATOR",
        Role::Supporter => "SUPPORTER",
        Role::Participant => "PARTICIPANT",
    }
}

fn locale_name(locale: Locale) -> &'static str {
    match locale {
        Locale::Ja => "JA",
        Locale::En => "EN",
    }
}

/// The instant the demo's clock is held at for something that happened on `day` at `hour:00`
/// (local time in the demo's zone).
fn at(day: chrono::NaiveDate, hour: u32) -> anyhow::Result<DateTime<Utc>> {
    let time = chrono::NaiveTime::from_hms_opt(hour, 0, 0).ok_or_else(|| anyhow!("demo hour"))?;
    tomoni_schema::domain::clock::at_local(
        day,
        time,
        tomoni_schema::domain::clock::zone_of(TIME_ZONE),
    )
    .ok_or_else(|| anyhow!("the demo's {day} {hour}:00 does not exist in {TIME_ZONE}"))
}
