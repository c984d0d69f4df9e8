//! Support-match rules: the lifecycle as one state machine, the limits that protect supporters, and
//! how supporters are ranked for a participant (with the reasons shown to the coordinator).

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};

use super::people::{Locale, UnknownValue, stored_names};

/// Where a support match is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchStatus {
    Proposed,
    Active,
    Paused,
    Declined,
    Expired,
    Ended,
}

stored_names!(MatchStatus, "match status", {
    Proposed => "proposed",
    Active => "active",
    Paused => "paused",
    Declined => "declined",
    Expired => "expired",
    Ended => "ended",
});

impl MatchStatus {
    /// Open matches hold the pair: there is at most one per supporter and participant.
    pub const OPEN: [MatchStatus; 3] = [Self::Proposed, Self::Active, Self::Paused];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// Something that happens to a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchAction {
    Accept,
    Decline,
    Expire,
    Pause,
    Resume,
    End,
}

stored_names!(MatchAction, "match action", {
    Accept => "accept",
    Decline => "decline",
    Expire => "expire",
    Pause => "pause",
    Resume => "resume",
    End => "end",
});

impl MatchAction {
    pub const ALL_ACTIONS: [MatchAction; 6] = [
        Self::Accept,
        Self::Decline,
        Self::Expire,
        Self::Pause,
        Self::Resume,
        Self::End,
    ];
}

/// The action is not possible from the match's current status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: MatchStatus,
    pub action: MatchAction,
}

/// The lifecycle: proposed → active (accepted), declined or expired; active ⇄ paused; active or
/// paused → ended. Declined, expired and ended are final.
pub fn transition(
    from: MatchStatus,
    action: MatchAction,
) -> Result<MatchStatus, InvalidTransition> {
    use MatchAction as A;
    use MatchStatus as S;
    match (from, action) {
        (S::Proposed, A::Accept) => Ok(S::Active),
        (S::Proposed, A::Decline) => Ok(S::Declined),
        (S::Proposed, A::Expire) => Ok(S::Expired),
        (S::Active, A::Pause) => Ok(S::Paused),
        (S::Paused, A::Resume) => Ok(S::Active),
        (S::Active | S::Paused, A::End) => Ok(S::Ended),
        _ => Err(InvalidTransition { from, action }),
    }
}

/// Who does an action: the supporter answers a proposal, coordinators steer the rest (expiry is
/// the server's own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Coordinator,
    TheSupporter,
    Other,
}

pub fn may_act(actor: Actor, action: MatchAction) -> bool {
    match action {
        MatchAction::Accept | MatchAction::Decline => actor == Actor::TheSupporter,
        MatchAction::Pause | MatchAction::Resume | MatchAction::End => actor == Actor::Coordinator,
        MatchAction::Expire => false,
    }
}

/// Why a match was declined, paused or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// The supporter does not have room or energy now.
    SupporterUnavailable,
    /// The participant's goals were reached.
    GoalsReached,
    /// The participant chose to stop or to change supporter.
    ParticipantChoice,
    /// The supporter and participant did not fit.
    NotAGoodFit,
    /// The supporter took a break.
    SupporterBreak,
    /// The participant moved or is in hospital or otherwise out of reach.
    CircumstancesChanged,
    Other,
}

stored_names!(EndReason, "match end reason", {
    SupporterUnavailable => "supporter_unavailable",
    GoalsReached => "goals_reached",
    ParticipantChoice => "participant_choice",
    NotAGoodFit => "not_a_good_fit",
    SupporterBreak => "supporter_break",
    CircumstancesChanged => "circumstances_changed",
    Other => "other",
});

/// A limit that protects supporters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cap {
    ActiveMatches,
    WeeklyOutings,
    WeeklyHours,
}

stored_names!(Cap, "cap", {
    ActiveMatches => "active_matches",
    WeeklyOutings => "weekly_outings",
    WeeklyHours => "weekly_hours",
});

/// A supporter's current matches, as the limits count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatchLoad {
    pub active: u32,
    pub proposed: u32,
    pub paused: u32,
}

impl MatchLoad {
    /// Places taken: active matches and proposals waiting for an answer (a proposal holds its
    /// place, so concurrent proposals cannot overfill). Paused matches do not count; resuming one
    /// needs a free place again.
    pub fn places_taken(self) -> u32 {
        self.active + self.proposed
    }

    pub fn has_room(self, capacity: u32) -> bool {
        self.places_taken() < capacity
    }
}

/// How close a supporter is to a limit, for the workload view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitState {
    Ok,
    /// One place (or one outing, or 20 % of the hours) left.
    Near,
    /// Full or over (a lowered capacity can leave a supporter over it).
    Reached,
}

pub fn limit_state(used: u32, limit: u32) -> LimitState {
    if used >= limit {
        LimitState::Reached
    } else if used + 1 >= limit {
        LimitState::Near
    } else {
        LimitState::Ok
    }
}

/// Hours against an hours cap: near within 20 % of it.
pub fn hours_limit_state(hours: u32, cap: u32) -> LimitState {
    if hours >= cap {
        LimitState::Reached
    } else if hours * 5 >= cap * 4 {
        LimitState::Near
    } else {
        LimitState::Ok
    }
}

impl MatchStatus {
    /// The status as the rules see it at `now`: a proposal past its expiry is expired, even before
    /// the sweep has marked it (the store's `proposal_still_waiting` is the same rule in SQL).
    pub fn at(self, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if self == Self::Proposed && expires_at <= now {
            Self::Expired
        } else {
            self
        }
    }
}

/// A supporter's accompanied outings in one week (Monday to Monday in the organisation's zone),
/// against the weekly caps that protect them. Planning asks `refuses` with the outing added; the
/// coordinators' workload view shows `outings_state` and `hours_state`: one rule for both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WeeklyLoad {
    pub outings: u32,
    /// Planned minutes, summed over the week's outings.
    pub minutes: i64,
}

impl WeeklyLoad {
    /// The load with one more outing of `minutes`.
    pub fn with_outing(self, minutes: i64) -> Self {
        Self {
            outings: self.outings.saturating_add(1),
            minutes: self.minutes.saturating_add(minutes),
        }
    }

    /// The cap this load passes, if any: more outings than the weekly cap, or more minutes than
    /// its hours (reaching a cap exactly is allowed).
    pub fn refuses(&self, settings: &ProgramSettings) -> Option<Cap> {
        if self.outings > settings.weekly_outing_cap {
            Some(Cap::WeeklyOutings)
        } else if self.minutes > i64::from(settings.weekly_hours_cap) * 60 {
            Some(Cap::WeeklyHours)
        } else {
            None
        }
    }

    pub fn outings_state(&self, settings: &ProgramSettings) -> LimitState {
        limit_state(self.outings, settings.weekly_outing_cap)
    }

    /// Whole hours planned against the hours cap (a started hour does not count yet).
    pub fn hours_state(&self, settings: &ProgramSettings) -> LimitState {
        let hours = u32::try_from(self.minutes.div_euclid(60)).unwrap_or(u32::MAX);
        hours_limit_state(hours, settings.weekly_hours_cap)
    }
}

/// The organisation's program settings, with the defaults for an organisation that set none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramSettings {
    /// Active matches (and waiting proposals) a supporter may have at once.
    pub match_capacity: u32,
    /// Days after which an unanswered proposal expires.
    pub proposal_expiry_days: u32,
    /// Months between follow-up trainings.
    pub follow_up_interval_months: u32,
    /// Outings a supporter may accompany per week.
    pub weekly_outing_cap: u32,
    /// Accompanied hours per week.
    pub weekly_hours_cap: u32,
}

impl Default for ProgramSettings {
    fn default() -> Self {
        Self {
            match_capacity: 3,
            proposal_expiry_days: 14,
            follow_up_interval_months: 12,
            weekly_outing_cap: 5,
            weekly_hours_cap: 12,
        }
    }
}

/// Sensible ranges: the settings shape people's week, so typos must not.
pub mod bounds {
    use std::ops::RangeInclusive;
    pub const MATCH_CAPACITY: RangeInclusive<u32> = 1..=20;
    pub const PROPOSAL_EXPIRY_DAYS: RangeInclusive<u32> = 1..=90;
    pub const FOLLOW_UP_INTERVAL_MONTHS: RangeInclusive<u32> = 1..=60;
    pub const WEEKLY_OUTING_CAP: RangeInclusive<u32> = 1..=40;
    pub const WEEKLY_HOURS_CAP: RangeInclusive<u32> = 1..=60;
}

/// What the ranking knows about a candidate supporter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<Id> {
    pub id: Id,
    pub experience_tags: Vec<String>,
    pub languages: Vec<String>,
    pub areas: Vec<String>,
    pub load: MatchLoad,
    pub capacity: u32,
}

/// What the ranking knows about the participant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seeker {
    pub experience_tags: Vec<String>,
    pub languages: Vec<String>,
    pub areas: Vec<String>,
    /// Stated preferences, matched against everything the supporter lists.
    pub preferences: Vec<String>,
}

/// One ranked supporter and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion<Id> {
    pub id: Id,
    pub score: u32,
    pub shared_experience_tags: Vec<String>,
    pub shared_languages: Vec<String>,
    pub shared_areas: Vec<String>,
    pub met_preferences: Vec<String>,
    pub places_taken: u32,
    pub capacity: u32,
}

// Weights: shared experience first (the heart of peer support), then what the participant asked
// for, then language (without it nothing works, but most share Japanese), then area; load breaks
// near-ties by preferring the supporter with more room.
const EXPERIENCE_WEIGHT: u32 = 30;
const PREFERENCE_WEIGHT: u32 = 25;
const LANGUAGE_WEIGHT: u32 = 20;
const AREA_WEIGHT: u32 = 10;
const ROOM_WEIGHT: u32 = 5;

fn normalised(values: &[String]) -> HashSet<String> {
    values
        .iter()
        .map(|value| value.trim().to_lowercase())
        .collect()
}

/// Values of `mine` that the other side has too, in `mine`'s order, without repeats.
fn shared(mine: &[String], theirs: &HashSet<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    mine.iter()
        .filter(|value| {
            let key = value.trim().to_lowercase();
            theirs.contains(&key) && seen.insert(key)
        })
        .cloned()
        .collect()
}

/// Ranks the candidates who have room (callers pass only supporters who may be matched and are
/// not on a break), best first; ties go to the lighter load, then to the id for a stable order.
pub fn rank<Id: Ord + Clone>(
    seeker: &Seeker,
    candidates: Vec<Candidate<Id>>,
) -> Vec<Suggestion<Id>> {
    let mut ranked: Vec<Suggestion<Id>> = candidates
        .into_iter()
        .filter(|candidate| candidate.load.has_room(candidate.capacity))
        .map(|candidate| {
            // Each list is lowercased once; `offered` is everything the supporter lists.
            let experience = normalised(&candidate.experience_tags);
            let languages = normalised(&candidate.languages);
            let areas = normalised(&candidate.areas);
            let shared_experience_tags = shared(&seeker.experience_tags, &experience);
            let shared_languages = shared(&seeker.languages, &languages);
            let shared_areas = shared(&seeker.areas, &areas);
            let met_preferences = if seeker.preferences.is_empty() {
                Vec::new()
            } else {
                let offered: HashSet<String> = experience
                    .into_iter()
                    .chain(languages)
                    .chain(areas)
                    .collect();
                shared(&seeker.preferences, &offered)
            };
            let places_taken = candidate.load.places_taken();
            let free = candidate.capacity.saturating_sub(places_taken);
            let count = |list: &Vec<String>| u32::try_from(list.len()).unwrap_or(u32::MAX);
            let score = EXPERIENCE_WEIGHT * count(&shared_experience_tags)
                + PREFERENCE_WEIGHT * count(&met_preferences)
                + LANGUAGE_WEIGHT * u32::from(!shared_languages.is_empty())
                + AREA_WEIGHT * u32::from(!shared_areas.is_empty())
                + ROOM_WEIGHT * free.min(3);
            Suggestion {
                id: candidate.id,
                score,
                shared_experience_tags,
                shared_languages,
                shared_areas,
                met_preferences,
                places_taken,
                capacity: candidate.capacity,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.places_taken.cmp(&b.places_taken))
            .then(a.id.cmp(&b.id))
    });
    ranked
}

/// A language code as people read it, in the reader's language.
pub fn language_name(code: &str, locale: Locale) -> String {
    let ja = locale == Locale::Ja;
    let name = match (code.trim().to_lowercase().as_str(), ja) {
        ("ja", true) => "日本語",
        ("ja", false) => "Japanese",
        ("en", true) => "英語",
        ("en", false) => "English",
        ("vi", true) => "ベトナム語",
        ("vi", false) => "Vietnamese",
        ("zh", true) => "中国語",
        ("zh", false) => "Chinese",
        ("ko", true) => "韓国語",
        ("ko", false) => "Korean",
        ("tl", true) => "タガログ語",
        ("tl", false) => "Tagalog",
        ("pt", true) => "ポルトガル語",
        ("pt", false) => "Portuguese",
        _ => return code.to_owned(),
    };
    name.to_owned()
}

impl<Id> Suggestion<Id> {
    /// Why this supporter, for the coordinator, in their language, e.g. "shares 2 experience
    /// tags", "speaks Japanese", "1 of 3 places taken".
    pub fn reasons(&self, locale: Locale) -> Vec<String> {
        let ja = locale == Locale::Ja;
        let mut reasons = Vec::new();
        let tags = self.shared_experience_tags.len();
        if tags > 0 {
            reasons.push(match (ja, tags) {
                (true, n) => format!("共通の経験タグ {n} 件"),
                (false, 1) => "shares 1 experience tag".to_owned(),
                (false, n) => format!("shares {n} experience tags"),
            });
        }
        let met = self.met_preferences.len();
        if met > 0 {
            reasons.push(if ja {
                format!("本人の希望に {met} 件合う")
            } else {
                format!("meets {met} of the participant's preferences")
            });
        }
        if !self.shared_languages.is_empty() {
            let names: Vec<String> = self
                .shared_languages
                .iter()
                .map(|code| language_name(code, locale))
                .collect();
            reasons.push(if ja {
                format!("{}を話す", names.join("・"))
            } else {
                format!("speaks {}", names.join(" and "))
            });
        }
        if !self.shared_areas.is_empty() {
            reasons.push(if ja {
                format!("同じ地域: {}", self.shared_areas.join("、"))
            } else {
                format!("also in {}", self.shared_areas.join(", "))
            });
        }
        reasons.push(if ja {
            format!("{} 枠中 {} 枠使用", self.capacity, self.places_taken)
        } else {
            format!("{} of {} places taken", self.places_taken, self.capacity)
        });
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_action_pair_is_decided() {
        use MatchAction as A;
        use MatchStatus as S;
        let allowed = [
            (S::Proposed, A::Accept, S::Active),
            (S::Proposed, A::Decline, S::Declined),
            (S::Proposed, A::Expire, S::Expired),
            (S::Active, A::Pause, S::Paused),
            (S::Paused, A::Resume, S::Active),
            (S::Active, A::End, S::Ended),
            (S::Paused, A::End, S::Ended),
        ];
        for from in MatchStatus::ALL {
            for action in MatchAction::ALL_ACTIONS {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(transition(*from, action), Ok(to)),
                    None => assert_eq!(
                        transition(*from, action),
                        Err(InvalidTransition {
                            from: *from,
                            action
                        }),
                        "{from} + {action} must be refused"
                    ),
                }
            }
        }
    }

    #[test]
    fn final_states_stay_final_and_open_states_hold_the_pair() {
        for status in [
            MatchStatus::Declined,
            MatchStatus::Expired,
            MatchStatus::Ended,
        ] {
            assert!(!status.is_open());
            assert!(
                MatchAction::ALL_ACTIONS
                    .iter()
                    .all(|action| transition(status, *action).is_err())
            );
        }
        for status in MatchStatus::OPEN {
            assert!(status.is_open());
        }
    }

    #[test]
    fn supporters_answer_and_coordinators_steer() {
        for action in MatchAction::ALL_ACTIONS {
            let by_supporter = may_act(Actor::TheSupporter, action);
            let by_coordinator = may_act(Actor::Coordinator, action);
            assert!(!may_act(Actor::Other, action));
            match action {
                MatchAction::Accept | MatchAction::Decline => {
                    assert!(by_supporter && !by_coordinator)
                }
                MatchAction::Pause | MatchAction::Resume | MatchAction::End => {
                    assert!(by_coordinator && !by_supporter)
                }
                MatchAction::Expire => assert!(!by_supporter && !by_coordinator),
            }
        }
    }

    #[test]
    fn proposals_hold_places_and_paused_matches_do_not() {
        let load = MatchLoad {
            active: 2,
            proposed: 1,
            paused: 4,
        };
        assert_eq!(load.places_taken(), 3);
        assert!(!load.has_room(3));
        assert!(load.has_room(4));
        assert_eq!(limit_state(1, 3), LimitState::Ok);
        assert_eq!(limit_state(2, 3), LimitState::Near);
        assert_eq!(limit_state(3, 3), LimitState::Reached);
        assert_eq!(limit_state(5, 3), LimitState::Reached);
        assert_eq!(hours_limit_state(9, 12), LimitState::Ok);
        assert_eq!(hours_limit_state(10, 12), LimitState::Near);
        assert_eq!(hours_limit_state(12, 12), LimitState::Reached);
    }

    fn tags(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| (*value).to_owned()).collect()
    }

    fn candidate(id: u32, experience: &[&str], languages: &[&str], active: u32) -> Candidate<u32> {
        Candidate {
            id,
            experience_tags: tags(experience),
            languages: tags(languages),
            areas: tags(&[]),
            load: MatchLoad {
                active,
                proposed: 0,
                paused: 0,
            },
            capacity: 3,
        }
    }

    #[test]
    fn shared_experience_ranks_first_and_full_supporters_are_left_out() {
        let seeker = Seeker {
            experience_tags: tags(&["Depression", "hospital stay"]),
            languages: tags(&["ja"]),
            areas: tags(&["Nishi-ku"]),
            preferences: tags(&["quiet places"]),
        };
        let ranked = rank(
            &seeker,
            vec![
                candidate(1, &["depression", "Hospital stay"], &["ja"], 1),
                candidate(2, &[], &["ja"], 0),
                candidate(3, &["depression", "hospital stay"], &["ja"], 3),
                candidate(4, &["depression"], &["en"], 0),
            ],
        );
        let order: Vec<u32> = ranked.iter().map(|s| s.id).collect();
        assert_eq!(
            order,
            vec![1, 4, 2],
            "3 is full; tags compare case-insensitively"
        );
        assert_eq!(
            ranked[0].shared_experience_tags,
            tags(&["Depression", "hospital stay"])
        );
        assert_eq!(
            ranked[0].reasons(Locale::En),
            vec![
                "shares 2 experience tags".to_owned(),
                "speaks Japanese".to_owned(),
                "1 of 3 places taken".to_owned(),
            ]
        );
        assert_eq!(
            ranked[0].reasons(Locale::Ja),
            vec![
                "共通の経験タグ 2 件".to_owned(),
                "日本語を話す".to_owned(),
                "3 枠中 1 枠使用".to_owned(),
            ]
        );
    }

    #[test]
    fn preferences_count_and_lighter_load_breaks_ties() {
        let seeker = Seeker {
            preferences: tags(&["Tennoji-ku", "en"]),
            ..Seeker::default()
        };
        let mut near = candidate(7, &[], &["en"], 0);
        near.areas = tags(&["tennoji-ku"]);
        let busy = candidate(5, &[], &[], 2);
        let idle = candidate(6, &[], &[], 0);
        let ranked = rank(&seeker, vec![busy, idle, near]);
        let order: Vec<u32> = ranked.iter().map(|s| s.id).collect();
        assert_eq!(order, vec![7, 6, 5]);
        assert_eq!(ranked[0].met_preferences, tags(&["Tennoji-ku", "en"]));
        // Equal scores and loads fall back to the id, so the order is stable.
        let ranked = rank(
            &seeker,
            vec![candidate(9, &[], &[], 1), candidate(8, &[], &[], 1)],
        );
        assert_eq!(ranked[0].id, 8);
    }

    fn caps(outings: u32, hours: u32) -> ProgramSettings {
        ProgramSettings {
            weekly_outing_cap: outings,
            weekly_hours_cap: hours,
            ..ProgramSettings::default()
        }
    }

    #[test]
    fn a_weekly_load_may_reach_its_caps_but_not_pass_them() {
        let settings = caps(3, 10);
        let load = WeeklyLoad {
            outings: 2,
            minutes: 8 * 60,
        };
        assert_eq!(
            load.with_outing(120).refuses(&settings),
            None,
            "exactly at both caps"
        );
        assert_eq!(
            load.with_outing(121).refuses(&settings),
            Some(Cap::WeeklyHours)
        );
        assert_eq!(
            load.with_outing(60).with_outing(1).refuses(&settings),
            Some(Cap::WeeklyOutings)
        );
        assert_eq!(load.outings_state(&settings), LimitState::Near);
        assert_eq!(load.hours_state(&settings), LimitState::Near);
        assert_eq!(
            load.with_outing(120).hours_state(&settings),
            LimitState::Reached
        );
        assert_eq!(WeeklyLoad::default().hours_state(&settings), LimitState::Ok);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// More planned time never shows a supporter as less loaded, and whatever planning
            /// accepted never shows past the cap (Reached at most).
            #[test]
            fn the_view_and_the_planner_agree(
                outings in 0u32..40,
                minutes in 0i64..10_000,
                more in 0i64..10_000,
                outing_cap in 1u32..30,
                hours_cap in 1u32..80,
            ) {
                let settings = caps(outing_cap, hours_cap);
                let load = WeeklyLoad { outings, minutes };
                let bigger = WeeklyLoad { outings, minutes: minutes + more };
                prop_assert!(bigger.hours_state(&settings) >= load.hours_state(&settings));
                if load.refuses(&settings).is_none() {
                    prop_assert!(load.minutes <= i64::from(hours_cap) * 60);
                    prop_assert!(load.outings <= outing_cap);
                } else {
                    prop_assert_eq!(load.hours_state(&settings).max(load.outings_state(&settings)), LimitState::Reached);
                }
            }
        }
    }

    #[test]
    fn a_proposal_past_its_expiry_is_expired_and_nothing_else_changes() {
        let expires = DateTime::parse_from_rfc3339("2026-12-16T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let before = expires - chrono::Duration::seconds(1);
        assert_eq!(
            MatchStatus::Proposed.at(expires, before),
            MatchStatus::Proposed
        );
        assert_eq!(
            MatchStatus::Proposed.at(expires, expires),
            MatchStatus::Expired
        );
        for status in [
            MatchStatus::Active,
            MatchStatus::Paused,
            MatchStatus::Declined,
            MatchStatus::Ended,
        ] {
            assert_eq!(status.at(expires, expires), status);
        }
    }
}
