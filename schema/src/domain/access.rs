//! Who may see and change whom: the one place the authorization rules are written down.
//!
//! Every resolver asks these functions; the store turns the same rules into SQL conditions for lists
//! (`store::access`). Nothing here crosses organisations: a person of another organisation is simply
//! not there, whatever the role.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::matching::MatchStatus;
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

/// Where the support matches between an outing's lead supporter and its participant stand: the
/// match is what gives the supporter a part in the participant's outings, so its end ends that part.
/// Ordered from the least to the most binding: a pair's standing is its most binding match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchStanding {
    /// The pair was never matched: a coordinator arranged the outing with a supporter of their
    /// choosing, and the match rules do not apply.
    Unmatched,
    /// Every match of the pair has ended (a declined or expired proposal after it changes nothing).
    Ended,
    Paused,
    Active,
}

impl MatchStanding {
    /// From the statuses of every match the pair ever had: an active one wins, then a paused one,
    /// then an ended one; proposals that were never accepted do not count.
    pub fn of(statuses: impl IntoIterator<Item = MatchStatus>) -> Self {
        statuses
            .into_iter()
            .map(|status| match status {
                MatchStatus::Active => Self::Active,
                MatchStatus::Paused => Self::Paused,
                MatchStatus::Ended => Self::Ended,
                MatchStatus::Proposed | MatchStatus::Declined | MatchStatus::Expired => {
                    Self::Unmatched
                }
            })
            .max()
            .unwrap_or(Self::Unmatched)
    }
}

/// A step on an outing that needs the pair's match to allow it. Finishing an outing under way
/// (checking in, extending, completing) and cancelling are never among them: those keep a person
/// safe or take access away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairStep {
    Plan,
    Approve,
    Replan,
    Start,
}

/// Why the pair's match refuses a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchRefusal {
    Ended,
    Paused,
}

/// The one rule of how a match bounds its outings, for every role: once the pair's match has
/// ended nothing new is planned, approved, replanned or started for them; while it is paused the
/// outings wait (planned and replanned, not started).
pub fn match_allows(standing: MatchStanding, step: PairStep) -> Result<(), MatchRefusal> {
    match (standing, step) {
        (MatchStanding::Ended, _) => Err(MatchRefusal::Ended),
        (MatchStanding::Paused, PairStep::Start) => Err(MatchRefusal::Paused),
        _ => Ok(()),
    }
}

impl Viewer {
    /// A supporter's profile (lived-experience tags, break, capacity) is theirs and the
    /// coordinators': other supporters (a trainer included) and participants do not read it.
    pub fn may_read_supporter_profile(&self, supporter: &PersonFacts) -> bool {
        self.may_edit_person(supporter)
    }

    /// A supporter's training records and what they allow: the supporter and coordinators.
    pub fn may_read_training(&self, supporter: &PersonFacts) -> bool {
        self.may_edit_person(supporter)
    }

    /// Raising a concern with the coordinators: participants, in their own name.
    pub fn may_raise_concern(&self) -> bool {
        self.role == Role::Participant
    }

    /// A concern is read by the coordinators of its organisation and by the participant who
    /// raised it; never by a supporter (it may be about them) or another participant.
    pub fn may_see_concern(&self, organisation_id: Uuid, raised_by: Uuid) -> bool {
        self.organisation_id == organisation_id
            && (self.is_coordinator()
                || (self.role == Role::Participant && self.person_id == raised_by))
    }

    /// Closing a concern (with a note) and reading its note: coordinators of its organisation.
    pub fn may_close_concern(&self, organisation_id: Uuid) -> bool {
        self.is_coordinator() && self.organisation_id == organisation_id
    }

    /// Whether a refusal may say what stands in another person's way (their training, their
    /// break, their caps): to coordinators and to the person themselves; to anyone else it only
    /// says that the outing's people cannot take the step.
    pub fn may_hear_why_refused(&self, about: Uuid) -> bool {
        self.is_coordinator() || self.person_id == about
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

    #[test]
    fn an_ended_match_stops_every_new_step_and_a_paused_one_only_the_start() {
        use PairStep::*;
        for step in [Plan, Approve, Replan, Start] {
            assert_eq!(match_allows(MatchStanding::Active, step), Ok(()));
            assert_eq!(match_allows(MatchStanding::Unmatched, step), Ok(()));
            assert_eq!(
                match_allows(MatchStanding::Ended, step),
                Err(MatchRefusal::Ended)
            );
        }
        for step in [Plan, Approve, Replan] {
            assert_eq!(match_allows(MatchStanding::Paused, step), Ok(()));
        }
        assert_eq!(
            match_allows(MatchStanding::Paused, Start),
            Err(MatchRefusal::Paused)
        );
    }

    #[test]
    fn the_standing_of_a_pair_follows_its_most_binding_match() {
        use MatchStatus::*;
        assert_eq!(MatchStanding::of([]), MatchStanding::Unmatched);
        assert_eq!(
            MatchStanding::of([Declined, Expired, Proposed]),
            MatchStanding::Unmatched
        );
        assert_eq!(MatchStanding::of([Ended, Proposed]), MatchStanding::Ended);
        assert_eq!(MatchStanding::of([Ended, Paused]), MatchStanding::Paused);
        assert_eq!(
            MatchStanding::of([Paused, Ended, Active]),
            MatchStanding::Active
        );
        assert_eq!(MatchStanding::of([Active, Ended]), MatchStanding::Active);
    }

    #[test]
    fn supporter_profiles_and_reasons_about_others_stay_with_the_person_and_coordinators() {
        let org = Uuid::now_v7();
        let supporter = person(Role::Supporter, org);
        assert!(viewer_for(&supporter).may_read_supporter_profile(&supporter));
        assert!(viewer_for(&supporter).may_hear_why_refused(supporter.id));
        let coordinator = viewer_for(&person(Role::Coordinator, org));
        assert!(coordinator.may_read_supporter_profile(&supporter));
        assert!(coordinator.may_read_training(&supporter));
        assert!(viewer_for(&supporter).may_read_training(&supporter));
        assert!(coordinator.may_hear_why_refused(supporter.id));
        for role in [Role::Supporter, Role::Participant] {
            let other = viewer_for(&person(role, org));
            assert!(!other.may_read_supporter_profile(&supporter));
            assert!(!other.may_read_training(&supporter));
            assert!(!other.may_hear_why_refused(supporter.id));
        }
        let away = viewer_for(&person(Role::Coordinator, Uuid::now_v7()));
        assert!(!away.may_read_supporter_profile(&supporter));
    }

    #[test]
    fn a_concern_stays_between_the_participant_and_the_coordinators() {
        let (home, away) = (Uuid::now_v7(), Uuid::now_v7());
        let participant = viewer_for(&person(Role::Participant, home));
        let supporter = viewer_for(&person(Role::Supporter, home));
        let coordinator = viewer_for(&person(Role::Coordinator, home));
        let other_participant = viewer_for(&person(Role::Participant, home));
        assert!(participant.may_raise_concern());
        assert!(!supporter.may_raise_concern());
        assert!(!coordinator.may_raise_concern());
        let raised_by = participant.person_id;
        assert!(participant.may_see_concern(home, raised_by));
        assert!(coordinator.may_see_concern(home, raised_by));
        assert!(!supporter.may_see_concern(home, raised_by));
        assert!(!other_participant.may_see_concern(home, raised_by));
        assert!(!viewer_for(&person(Role::Coordinator, away)).may_see_concern(home, raised_by));
        assert!(coordinator.may_close_concern(home));
        assert!(!coordinator.may_close_concern(away));
        assert!(!participant.may_close_concern(home));
        // A supporter who happens to have the participant's id as theirs is still a supporter.
        let impostor = Viewer {
            role: Role::Supporter,
            ..participant
        };
        assert!(!impostor.may_see_concern(home, raised_by));
    }
}
