//! Who may see and change whom: the one place the authorization rules are written down.
//!
//! Every resolver asks these functions; the store turns the same rules into SQL conditions for lists
//! (`store::access`). Nothing here crosses organisations: a person of another organisation is simply
//! not there, whatever the role.

use uuid::Uuid;

use super::people::Role;

/// The signed-in person a request acts for, resolved from their device token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl Viewer {
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
