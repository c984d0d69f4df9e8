//! Queries over people, and the profile row each supporter and participant has from the start.

use crate::domain::clock::id_at;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{StringList, participant_profiles, people, supporter_profiles};
use super::{Page, PageRequest, access, fetch_page};
use crate::domain::access::{PersonFacts, Viewer};
use crate::domain::people::{Locale, Role, UnknownValue};

/// What a new person starts with.
pub struct NewPerson<'a> {
    pub organisation_id: Uuid,
    pub display_name: &'a str,
    pub role: Role,
    pub locale: Locale,
    pub time_zone: &'a str,
}

/// Creates the person and, for supporters and participants, their (empty) profile.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewPerson<'_>,
    now: DateTime<Utc>,
) -> Result<people::Model, DbErr> {
    let person = people::ActiveModel {
        id: Set(id_at(now)),
        organisation_id: Set(new.organisation_id),
        display_name: Set(new.display_name.to_owned()),
        role: Set(new.role.as_str().to_owned()),
        locale: Set(new.locale.as_str().to_owned()),
        time_zone: Set(new.time_zone.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    match new.role {
        Role::Supporter => {
            supporter_profiles::ActiveModel {
                person_id: Set(person.id),
                experience_tags: Set(StringList::default()),
                languages: Set(StringList::default()),
                areas: Set(StringList::default()),
                match_capacity: Set(None),
                on_break_since: Set(None),
                supervision_follow_up_since: Set(None),
                is_trainer: Set(false),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
        Role::Participant => {
            participant_profiles::ActiveModel {
                person_id: Set(person.id),
                preferences: Set(StringList::default()),
                consents_to_location_sharing: Set(false),
                experience_tags: Set(None),
                languages: Set(None),
                areas: Set(None),
                crisis_plan: Set(None),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
        Role::Coordinator => {}
    }
    Ok(person)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<people::Model>, DbErr> {
    people::Entity::find_by_id(id).one(db).await
}

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Everyone in an organisation, in id order.
pub async fn find_by_organisation(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<people::Model>, DbErr> {
    use sea_orm::QueryOrder as _;
    people::Entity::find()
        .filter(people::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(people::Column::Id)
        .all(db)
        .await
}

/// The supporters of an organisation, in id order.
pub async fn supporters_of(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<people::Model>, DbErr> {
    use sea_orm::QueryOrder as _;
    people::Entity::find()
        .filter(people::Column::OrganisationId.eq(organisation_id))
        .filter(people::Column::Role.eq(Role::Supporter.as_str()))
        .order_by_asc(people::Column::Id)
        .all(db)
        .await
}

/// The people the viewer may see, optionally of one role, one page at a time.
pub async fn list_visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    role: Option<Role>,
    page: PageRequest,
) -> Result<Page<people::Model>, DbErr> {
    let mut select = people::Entity::find().filter(access::visible_people(viewer));
    if let Some(role) = role {
        select = select.filter(people::Column::Role.eq(role.as_str()));
    }
    fetch_page(db, select, people::Column::Id, page).await
}

/// People of the viewer's organisation whom no device currently reaches (coordinators' view).
pub async fn list_unreachable(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    page: PageRequest,
) -> Result<Page<people::Model>, DbErr> {
    let select = people::Entity::find()
        .filter(access::visible_people(viewer))
        .filter(super::push_subscriptions::unreachable_people());
    fetch_page(db, select, people::Column::Id, page).await
}

/// The coordinators of an organisation (used to bootstrap and by the demo).
pub async fn coordinators_of(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
) -> Result<Vec<people::Model>, DbErr> {
    people::Entity::find()
        .filter(people::Column::OrganisationId.eq(organisation_id))
        .filter(people::Column::Role.eq(Role::Coordinator.as_str()))
        .all(db)
        .await
}

/// Changes to a person's basic settings; `None` leaves a field as it is.
#[derive(Default)]
pub struct PersonChanges {
    pub display_name: Option<String>,
    pub locale: Option<Locale>,
    pub time_zone: Option<String>,
}

pub async fn update(
    db: &impl ConnectionTrait,
    person: people::Model,
    changes: PersonChanges,
    now: DateTime<Utc>,
) -> Result<people::Model, DbErr> {
    let mut active: people::ActiveModel = person.into();
    if let Some(display_name) = changes.display_name {
        active.display_name = Set(display_name);
    }
    if let Some(locale) = changes.locale {
        active.locale = Set(locale.as_str().to_owned());
    }
    if let Some(time_zone) = changes.time_zone {
        active.time_zone = Set(time_zone);
    }
    active.updated_at = Set(now);
    active.update(db).await
}

/// The facts the authorization rules need, read from a stored row.
pub fn facts(person: &people::Model) -> Result<PersonFacts, UnknownValue> {
    Ok(PersonFacts {
        id: person.id,
        organisation_id: person.organisation_id,
        role: Role::parse(&person.role)?,
    })
}
