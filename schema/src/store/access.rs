//! The authorization rules of `domain::access`, turned into what the database must answer.
//!
//! Lists are filtered in SQL with `visible_people`, single records are checked with
//! `relationship` + `Viewer::may_see_person`. Both know about support matches: nothing else in the
//! code decides who a supporter or participant sees.

use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr};
use uuid::Uuid;

use super::entities::people;
use super::matches;
use crate::domain::access::{Relationship, Viewer};
use crate::domain::people::Role;

/// The condition on `people` that keeps exactly the rows the viewer may see.
pub fn visible_people(viewer: &Viewer) -> Condition {
    let same_organisation = people::Column::OrganisationId.eq(viewer.organisation_id);
    match viewer.role {
        Role::Coordinator => Condition::all().add(same_organisation),
        // Supporters also see the participants they have an active match with, and participants
        // their supporters.
        Role::Supporter | Role::Participant => {
            let mut me_or_partners = Condition::any().add(people::Column::Id.eq(viewer.person_id));
            if let Some(partners) = matches::active_partners_of(viewer.person_id, viewer.role) {
                me_or_partners = me_or_partners.add(people::Column::Id.in_subquery(partners));
            }
            Condition::all().add(same_organisation).add(me_or_partners)
        }
    }
}

/// How the viewer relates to `target_id` in the program: whether they have an active support
/// match (the viewer as supporter or as participant). Coordinators need no relationship.
pub async fn relationship(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    target_id: Uuid,
) -> Result<Relationship, DbErr> {
    let has_active_match = match viewer.role {
        Role::Coordinator => false,
        _ if target_id == viewer.person_id => false,
        Role::Supporter => matches::has_active_match(db, viewer.person_id, target_id).await?,
        Role::Participant => matches::has_active_match(db, target_id, viewer.person_id).await?,
    };
    Ok(Relationship { has_active_match })
}
