//! Loading one record for a viewer: absent and not-yours look the same (NOT_FOUND).

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use crate::domain::access::{PersonFacts, Viewer};
use crate::store;
use crate::store::entities::{devices, people};

/// The person, if the viewer may see them; NOT_FOUND otherwise, so that ids of other
/// organisations' people reveal nothing.
pub async fn visible_person(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<(people::Model, PersonFacts)> {
    let person = store::people::find(db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let facts = store::people::facts(&person)?;
    let relationship = store::access::relationship(db, viewer, id).await?;
    if !viewer.may_see_person(&facts, relationship) {
        return Err(ApiError::NotFound);
    }
    Ok((person, facts))
}

/// A person the viewer may edit (themselves, or anyone of theirs if a coordinator).
pub async fn editable_person(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<people::Model> {
    let (person, facts) = visible_person(db, viewer, id).await?;
    if !viewer.may_edit_person(&facts) {
        return Err(ApiError::Forbidden {
            reason: "only the person and coordinators change this",
        });
    }
    Ok(person)
}

/// A person the viewer manages as a coordinator.
pub async fn managed_person(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<people::Model> {
    let (person, facts) = visible_person(db, viewer, id).await?;
    if !viewer.may_manage_person(&facts) {
        return Err(ApiError::Forbidden {
            reason: "only coordinators do this",
        });
    }
    Ok(person)
}

/// A device (and its person) whose list the viewer may see.
pub async fn visible_device(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<(devices::Model, people::Model)> {
    let device = store::devices::find(db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let (person, facts) = visible_person(db, viewer, device.person_id).await?;
    if !viewer.may_see_devices_of(&facts) {
        return Err(ApiError::NotFound);
    }
    Ok((device, person))
}
