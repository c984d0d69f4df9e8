//! The authorization rules of `domain::access`, turned into what the database must answer.
//!
//! Lists are filtered in SQL with `visible_people`, single records are checked with
//! `relationship` + `Viewer::may_see_person`. Both know about support matches: nothing else in the
//! code decides who a supporter or participant sees.

use std::collections::HashMap;

use sea_orm::sea_query::{Condition, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::{alerts, concerns, outing_members, outings, people, support_matches};
use super::matches;
use crate::domain::access::{CrisisPlanFacts, MatchStanding, Relationship, SharedOuting, Viewer};
use crate::domain::matching::MatchStatus;
use crate::domain::outings::{AlertStatus, OutingStatus};
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

/// What `Viewer::may_read_crisis_plan` needs about each of `participants`, in two statements
/// whatever their number (none for coordinators, who need no facts): the outings the viewer is a
/// member of with each participant that can still open the plan, and the alerts the viewer owns.
pub async fn crisis_plan_facts(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    participants: &[Uuid],
) -> Result<HashMap<Uuid, CrisisPlanFacts>, DbErr> {
    let mut facts: HashMap<Uuid, CrisisPlanFacts> = participants
        .iter()
        .map(|id| (*id, CrisisPlanFacts::default()))
        .collect();
    if viewer.is_coordinator() || participants.is_empty() {
        return Ok(facts);
    }
    let open_statuses = [
        OutingStatus::Planned,
        OutingStatus::InProgress,
        OutingStatus::Escalated,
    ]
    .map(OutingStatus::as_str);
    let shared = outings::Entity::find()
        .filter(outings::Column::ParticipantId.is_in(participants.iter().copied()))
        .filter(outings::Column::Status.is_in(open_statuses))
        .filter(
            outings::Column::Id.in_subquery(
                Query::select()
                    .column(outing_members::Column::OutingId)
                    .from(outing_members::Entity)
                    .and_where(outing_members::Column::PersonId.eq(viewer.person_id))
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    for outing in shared {
        let Ok(status) = OutingStatus::parse(&outing.status) else {
            continue;
        };
        if let Some(entry) = facts.get_mut(&outing.participant_id) {
            entry.shared_outings.push(SharedOuting {
                status,
                planned_start: outing.planned_start,
                planned_end: outing.planned_end,
            });
        }
    }
    let owned = alerts::Entity::find()
        .filter(alerts::Column::OwnerId.eq(viewer.person_id))
        .filter(alerts::Column::Status.eq(AlertStatus::Acknowledged.as_str()))
        .all(db)
        .await?;
    if !owned.is_empty() {
        let outing_ids: Vec<Uuid> = owned.iter().map(|alert| alert.outing_id).collect();
        for outing in outings::Entity::find()
            .filter(outings::Column::Id.is_in(outing_ids))
            .all(db)
            .await?
        {
            if let Some(entry) = facts.get_mut(&outing.participant_id) {
                entry.owns_alert = true;
            }
        }
    }
    Ok(facts)
}

/// How the matches between `supporter_id` and `participant_id` stand (`MatchStanding::of` every
/// match the pair ever had), in one statement.
pub async fn match_standing(
    db: &impl ConnectionTrait,
    supporter_id: Uuid,
    participant_id: Uuid,
) -> Result<MatchStanding, DbErr> {
    let statuses = support_matches::Entity::find()
        .filter(support_matches::Column::SupporterId.eq(supporter_id))
        .filter(support_matches::Column::ParticipantId.eq(participant_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| MatchStatus::parse(&row.status).ok());
    Ok(MatchStanding::of(statuses))
}

/// The condition on `concerns` that keeps exactly those the viewer may see
/// (`Viewer::may_see_concern`): the organisation's for coordinators, their own for a participant,
/// none for supporters.
pub fn visible_concerns(viewer: &Viewer) -> Condition {
    let same_organisation = concerns::Column::OrganisationId.eq(viewer.organisation_id);
    match viewer.role {
        Role::Coordinator => Condition::all().add(same_organisation),
        Role::Participant => Condition::all()
            .add(same_organisation)
            .add(concerns::Column::RaisedBy.eq(viewer.person_id)),
        // No row: a supporter never reads a concern, one about them least of all.
        Role::Supporter => Condition::all().add(concerns::Column::Id.is_null()),
    }
}
