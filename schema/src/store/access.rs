//! The authorization rules of `domain::access`, turned into what the database must answer.
//!
//! Lists are filtered in SQL with `visible_people`, single records are checked with
//! `relationship` + `Viewer::may_see_person`. When support matches arrive, both functions are the
//! places that learn about them: nothing else in the code decides who a supporter sees.

use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr};
use uuid::Uuid;

use super::entities::people;
use crate::domain::access::{Relationship, Viewer};
use crate::domain::people::Role;

/// The condition on `people` that keeps exactly the rows the viewer may see.
pub fn visible_people(viewer: &Viewer) -> Condition {
    let same_organisation = people::Column::OrganisationId.eq(viewer.organisation_id);
    match viewer.role {
        Role::Coordinator => Condition::all().add(same_organisation),
        // Supporters will also see the participants they have an active match with.
        Role::Supporter | Role::Participant => Condition::all()
            .add(same_organisation)
            .add(people::Column::Id.eq(viewer.person_id)),
    }
}

/// How the viewer relates to `target_id` in the program (today: no support matches exist yet, so
/// a supporter has no active match with anyone).
pub async fn relationship(
    _db: &impl ConnectionTrait,
    _viewer: &Viewer,
    _target_id: Uuid,
) -> Result<Relationship, DbErr> {
    Ok(Relationship::default())
}
