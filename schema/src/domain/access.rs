//! Who may see and change whom: the one place the authorization rules are written down.
//!
//! Every resolver asks these functions; the store turns the same rules into SQL conditions for lists
//! (`store::access`). Nothing here crosses organisations: a person of another organisation is simply
//! not there, whatever the role.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::outings::OutingStatus;
use super::people::Role;

/// The signed-in person a request acts for, resolved from their device token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Viewer {
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
    /// The device whose token made this request; revoking it ends the viewer's access.
    pub device_id: Uuid,
}

/// The facts about a target person that the rules need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersonFacts {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
}

/// How the viewer and the target are related in the program (read by `store::access::relationship`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relationship {
    /// The viewer and the target are the supporter and participant of an active support match.
    pub has_active_match: bool,
}

/// How long before an outing's planned start its members may read the participant's crisis plan
/// (the app fetches it while signal is still good and keeps it for that outing only).
pub const CRISIS_PLAN_LEAD_HOURS: i64 = 3;

/// One outing the viewer is a member of with the participant (read by `store::access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedOuting {
    pub status: OutingStatus,
    pub planned_start: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
}

impl SharedOuting {
    /// From three hours before the planned start until the outing ends. A planned outing nobody
    /// started closes at its planned end; one under way stays open however late it runs; a
    /// proposal (not approved), a completed or a cancelled outing opens nothing.
    pub fn opens_crisis_plan_at(&self, now: DateTime<Utc>) -> bool {
        let opened = now >= self.planned_start - Duration::hours(CRISIS_PLAN_LEAD_HOURS);
        match self.status {
            OutingStatus::Planned => opened && now < self.planned_end,
            OutingStatus::InProgress | OutingStatus::Escalated => opened,
            OutingStatus::Proposed | OutingStatus::Completed | OutingStatus::Cancelled => false,
        }
    }
}

/// What decides whether the viewer may read a participant's crisis plan besides their role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrisisPlanFacts {
    /// Outings the viewer is a member of with the participant.
    pub shared_outings: Vec<SharedOuting>,
    /// The viewer owns (acknowledged, not resolved) an alert about one of the participant's outings.
    pub owns_alert: bool,
}

impl Viewer {
    /// The one crisis-plan policy: the participant and coordinators of their organisation always;
    /// the members of an outing with the participant from three hours before its start until it
    /// ends; the owner of an alert about the participant while they own it. Nobody else, a
    /// matched supporter between outings included.
    pub fn may_read_crisis_plan(
        &self,
        participant: &PersonFacts,
        facts: &CrisisPlanFacts,
        now: DateTime<Utc>,
    ) -> bool {
        if !self.same_organisation(participant) || participant.role != Role::Participant {
            return false;
        }
        self.person_id == participant.id
            || self.is_coordinator()
            || facts.owns_alert
            || facts
                .shared_outings
                .iter()
                .any(|outing| outing.opens_crisis_plan_at(now))
    }

    pub fn is_coordinator(&self) -> bool {
        self.role == Role::Coordinator
    }

    fn same_organisation(&self, target: &PersonFacts) -> bool {
        self.organisation_id == target.organisation_id
    }

    /// Coordinators see their organisation; supporters see themselves and the participants they
    /// actively support; participants see themselves and their active supporters.
    pub fn may_see_person(&self, target: &PersonFacts, relationship: Relationship) -> bool {
        if !self.same_organisation(target) {
            return false;
        }
        if self.person_id == target.id {
            return true;
        }
        match self.role {
            Role::Coordinator => true,
            Role::Supporter => target.role == Role::Participant && relationship.has_active_match,
            Role::Participant => target.role == Role::Supporter && relationship.has_active_match,
        }
    }

    /// Creating people, issuing pairing codes, changing anyone's record: coordinators, in their own
    /// organisation.
    pub fn may_manage_person(&self, target: &PersonFacts) -> bool {
        self.is_coordinator() && self.same_organisation(target)
    }

    /// A person's own basic settings (name shown, language, time zone) and profile: themselves or a
    /// coordinator of their organisation.
    pub fn may_edit_person(&self, target: &PersonFacts) -> bool {
        self.same_organisation(target) && (self.person_id == target.id || self.is_coordinator())
    }

    /// Devices (labels, last use) and revoking them: the person themselves or a coordinator.
    pub fn may_see_devices_of(&self, target: &PersonFacts) -> bool {
        self.may_edit_person(target)
    }

    /// The organisation's own record: every member reads it; coordinators change it.
    pub fn may_see_organisation(&self, organisation_id: Uuid) -> bool {
        self.organisation_id == organisation_id
    }

    pub fn may_manage_organisation(&self, organisation_id: Uuid) -> bool {
        self.is_coordinator() && self.organisation_id == organisation_id
    }

    /// Introspecting the API over it (`__schema`, `__type`): coordinators, who use tools on it.
    /// The app is built against the committed contract; the playground gets the schema from the
    /// server without asking.
    pub fn may_introspect(&self) -> bool {
        self.is_coordinator()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, organisation_id: Uuid) -> PersonFacts {
        PersonFacts {
            id: Uuid::now_v7(),
            organisation_id,
            role,
        }
    }

    fn viewer_for(facts: &PersonFacts) -> Viewer {
        Viewer {
            person_id: facts.id,
            organisation_id: facts.organisation_id,
            role: facts.role,
            device_id: Uuid::now_v7(),
        }
    }

    const ROLES: [Role; 3] = [Role::Participant, Role::Supporter, Role::Coordinator];

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap() + Duration::hours(hours)
    }

    /// An outing planned from hour 10 to hour 12.
    fn outing(status: OutingStatus) -> SharedOuting {
        SharedOuting {
            status,
            planned_start: at(10),
            planned_end: at(12),
        }
    }

    #[test]
    fn the_crisis_plan_opens_to_outing_members_three_hours_before_until_the_outing_ends() {
        let org = Uuid::now_v7();
        let participant = person(Role::Participant, org);
        let supporter = viewer_for(&person(Role::Supporter, org));
        let facts = |status| CrisisPlanFacts {
            shared_outings: vec![outing(status)],
            owns_alert: false,
        };
        let planned = facts(OutingStatus::Planned);
        let just_before = at(7) - Duration::seconds(1);
        assert!(!supporter.may_read_crisis_plan(&participant, &planned, just_before));
        assert!(supporter.may_read_crisis_plan(&participant, &planned, at(7)));
        assert!(supporter.may_read_crisis_plan(&participant, &planned, at(11)));
        // Never started: closed at its planned end.
        assert!(!supporter.may_read_crisis_plan(&participant, &planned, at(12)));
        for status in [OutingStatus::InProgress, OutingStatus::Escalated] {
            // Under way and late: still open.
            assert!(supporter.may_read_crisis_plan(&participant, &facts(status), at(20)));
        }
        for status in [
            OutingStatus::Proposed,
            OutingStatus::Completed,
            OutingStatus::Cancelled,
        ] {
            assert!(!supporter.may_read_crisis_plan(&participant, &facts(status), at(11)));
        }
        // No outing: a matched supporter between outings does not read it.
        let none = CrisisPlanFacts::default();
        assert!(!supporter.may_read_crisis_plan(&participant, &none, at(11)));
        let owner = CrisisPlanFacts {
            shared_outings: Vec::new(),
            owns_alert: true,
        };
        assert!(supporter.may_read_crisis_plan(&participant, &owner, at(11)));
    }

    #[test]
    fn the_participant_and_coordinators_always_read_the_crisis_plan_and_nobody_elsewhere() {
        let (home, away) = (Uuid::now_v7(), Uuid::now_v7());
        let participant = person(Role::Participant, home);
        let none = CrisisPlanFacts::default();
        assert!(viewer_for(&participant).may_read_crisis_plan(&participant, &none, at(0)));
        let coordinator = viewer_for(&person(Role::Coordinator, home));
        assert!(coordinator.may_read_crisis_plan(&participant, &none, at(0)));
        let other_participant = viewer_for(&person(Role::Participant, home));
        assert!(!other_participant.may_read_crisis_plan(&participant, &none, at(0)));
        let everything = CrisisPlanFacts {
            shared_outings: vec![outing(OutingStatus::InProgress)],
            owns_alert: true,
        };
        for role in ROLES {
            let stranger = viewer_for(&person(role, away));
            assert!(!stranger.may_read_crisis_plan(&participant, &everything, at(11)));
        }
    }

    #[test]
    fn nobody_sees_or_changes_anything_in_another_organisation() {
        let (home, away) = (Uuid::now_v7(), Uuid::now_v7());
        for viewer_role in ROLES {
            let viewer = viewer_for(&person(viewer_role, home));
            for target_role in ROLES {
                let target = person(target_role, away);
                let matched = Relationship {
                    has_active_match: true,
                };
                assert!(!viewer.may_see_person(&target, matched));
                assert!(!viewer.may_manage_person(&target));
                assert!(!viewer.may_edit_person(&target));
                assert!(!viewer.may_see_devices_of(&target));
            }
            assert!(!viewer.may_see_organisation(away));
            assert!(!viewer.may_manage_organisation(away));
        }
    }

    #[test]
    fn everyone_sees_and_edits_themselves_but_only_coordinators_manage() {
        let org = Uuid::now_v7();
        for role in ROLES {
            let me = person(role, org);
            let viewer = viewer_for(&me);
            assert!(viewer.may_see_person(&me, Relationship::default()));
            assert!(viewer.may_edit_person(&me));
            assert!(viewer.may_see_devices_of(&me));
            assert_eq!(viewer.may_manage_person(&me), role == Role::Coordinator);
            assert!(viewer.may_see_organisation(org));
            assert_eq!(
                viewer.may_manage_organisation(org),
                role == Role::Coordinator
            );
        }
    }

    #[test]
    fn within_an_organisation_the_roles_see_what_the_program_allows() {
        let org = Uuid::now_v7();
        let none = Relationship::default();
        let matched = Relationship {
            has_active_match: true,
        };
        let coordinator = viewer_for(&person(Role::Coordinator, org));
        let supporter = viewer_for(&person(Role::Supporter, org));
        let participant = viewer_for(&person(Role::Participant, org));
        for target_role in ROLES {
            let target = person(target_role, org);
            assert!(coordinator.may_see_person(&target, none));
            assert!(coordinator.may_manage_person(&target));
            assert!(!participant.may_see_person(&target, none));
            assert_eq!(
                participant.may_see_person(&target, matched),
                target_role == Role::Supporter
            );
            assert!(!participant.may_manage_person(&target));
            assert!(!participant.may_see_devices_of(&target));
            assert!(!supporter.may_see_person(&target, none));
            assert_eq!(
                supporter.may_see_person(&target, matched),
                target_role == Role::Participant
            );
            assert!(!supporter.may_manage_person(&target));
            assert!(!supporter.may_see_devices_of(&target));
        }
    }
}
