//! Operator tasks from the command line: creating organisations and their first coordinators, who
//! get a token to sign in to the playground with. Shared by `tomoni admin` and the demo.

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use tomoni_schema::domain::contact;
use tomoni_schema::domain::credentials::AccessToken;
use tomoni_schema::domain::people::{Locale, OrganisationKind, Role};
use tomoni_schema::domain::text;
use tomoni_schema::store::audit::AuditEntry;
use tomoni_schema::store::entities::{organisations, people};
use tomoni_schema::store::{self};
use uuid::Uuid;

/// The label of tokens printed on the command line, so they can be told apart from phones.
pub const COMMAND_LINE_LABEL: &str = "command line";

pub async fn create_organisation(
    db: &DatabaseConnection,
    name: &str,
    kind: OrganisationKind,
    time_zone: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<organisations::Model> {
    let name = text::single_line(name, 200).map_err(|err| anyhow!("--name {}", err.0))?;
    let time_zone = text::time_zone(time_zone).map_err(|err| anyhow!("--time-zone {}", err.0))?;
    let txn = store::begin_write(db).await?;
    let organisation =
        store::organisations::create(&txn, &name, kind, time_zone.name(), now).await?;
    store::audit::record(
        &txn,
        AuditEntry {
            organisation_id: organisation.id,
            actor_id: None,
            action: "organisation.created",
            subject_kind: "organisation",
            subject_id: Some(organisation.id),
            detail: Some(json!({ "kind": kind.as_str() })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(organisation)
}

/// Creates a coordinator and a token for them, in one transaction.
pub async fn create_coordinator(
    db: &DatabaseConnection,
    organisation_id: Uuid,
    display_name: &str,
    locale: Locale,
    now: DateTime<Utc>,
) -> anyhow::Result<(people::Model, AccessToken)> {
    create_coordinator_with_email(db, organisation_id, display_name, locale, None, now).await
}

/// [`create_coordinator`], with the e-mail address alerts fall back to (`--email`).
pub async fn create_coordinator_with_email(
    db: &DatabaseConnection,
    organisation_id: Uuid,
    display_name: &str,
    locale: Locale,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<(people::Model, AccessToken)> {
    let display_name =
        text::single_line(display_name, 100).map_err(|err| anyhow!("--name {}", err.0))?;
    let email = email
        .map(|email| contact::email_address(email).map_err(|err| anyhow!("--email {}", err.0)))
        .transpose()?;
    let txn = store::begin_write(db).await?;
    let organisation = store::organisations::find(&txn, organisation_id)
        .await?
        .ok_or_else(|| anyhow!("--organisation: no organisation has this id"))?;
    let person = store::people::create(
        &txn,
        store::people::NewPerson {
            organisation_id: organisation.id,
            display_name: &display_name,
            role: Role::Coordinator,
            locale,
            time_zone: &organisation.time_zone,
        },
        now,
    )
    .await?;
    store::audit::record(
        &txn,
        AuditEntry {
            organisation_id: organisation.id,
            actor_id: None,
            action: "person.created",
            subject_kind: "person",
            subject_id: Some(person.id),
            detail: Some(json!({ "role": "coordinator", "via": "command line" })),
        },
        now,
    )
    .await?;
    if let Some(email) = &email {
        store::contact_addresses::set_email(&txn, person.id, Some(email), now).await?;
    }
    let token = issue_token(&txn, &person, COMMAND_LINE_LABEL, now).await?;
    txn.commit().await?;
    Ok((person, token))
}

/// Creates a device for `person` and returns its token (shown once, stored hashed).
pub async fn issue_token(
    db: &impl ConnectionTrait,
    person: &people::Model,
    label: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<AccessToken> {
    let token = AccessToken::generate(&mut rand::rng());
    let device = store::devices::create(db, person, label, token.hash(), now)
        .await
        .context("cannot store the token")?;
    store::audit::record(
        db,
        AuditEntry {
            organisation_id: person.organisation_id,
            actor_id: None,
            action: "device.paired",
            subject_kind: "device",
            subject_id: Some(device.id),
            detail: Some(json!({ "via": "command line" })),
        },
        now,
    )
    .await?;
    Ok(token)
}
