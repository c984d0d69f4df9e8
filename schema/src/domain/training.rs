//! Training rules: course levels and module formats, when follow-up training falls due, and what a
//! supporter may do because of their training. `capabilities` is the one place that decides it;
//! matching and outings ask it rather than looking at courses themselves.

use std::fmt;

use chrono::{Months, NaiveDate};
use uuid::Uuid;

use super::people::{UnknownValue, stored_names};

/// Most prerequisites one course or module may name (`prerequisiteCourseIds`,
/// `prerequisiteModuleIds`).
pub const PREREQUISITES_MAX: usize = 50;

/// Where a course sits in the program (Japan's national training: basic 基礎研修, specialised
/// 専門研修, follow-up フォローアップ研修), or an organisation's own course.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CourseLevel {
    Basic,
    Specialised,
    FollowUp,
    Own,
}

stored_names!(CourseLevel, "course level", {
    Basic => "basic",
    Specialised => "specialised",
    FollowUp => "follow_up",
    Own => "own",
});

/// How a module is taught.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModuleFormat {
    Lecture,
    RolePlay,
    GroupWork,
    CaseStudy,
    Ethics,
    Practicum,
}

stored_names!(ModuleFormat, "module format", {
    Lecture => "lecture",
    RolePlay => "role_play",
    GroupWork => "group_work",
    CaseStudy => "case_study",
    Ethics => "ethics",
    Practicum => "practicum",
});

/// How far a supporter is with the courses of one level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LevelProgress {
    #[default]
    NotStarted,
    /// At least one module of a course of this level is done, no course of it is complete.
    InProgress,
    /// A course of this level is complete (the earliest certificate's date).
    Complete(NaiveDate),
}

impl LevelProgress {
    pub fn is_complete(self) -> bool {
        matches!(self, Self::Complete(_))
    }

    pub fn is_started(self) -> bool {
        !matches!(self, Self::NotStarted)
    }
}

/// What the rules need to know about one supporter's training, read from their completions and
/// certificates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrainingFacts {
    pub basic: LevelProgress,
    pub specialised: LevelProgress,
    /// The latest completed follow-up or specialised course: follow-up is counted from here.
    pub follow_up_basis: Option<NaiveDate>,
}

/// Something a supporter still needs before they may do a thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Missing {
    BasicCourse,
    SpecialisedCourse,
    FollowUpOverdue,
}

stored_names!(Missing, "missing training", {
    BasicCourse => "basic_course",
    SpecialisedCourse => "specialised_course",
    FollowUpOverdue => "follow_up_overdue",
});

/// The training stage shown to coordinators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    NotStarted,
    BasicInProgress,
    BasicComplete,
    SpecialisedInProgress,
    SpecialisedComplete,
}

/// What a supporter may do, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub stage: Stage,
    /// When follow-up training falls due (none before a specialised course is complete).
    pub follow_up_due_on: Option<NaiveDate>,
    /// What stands between the supporter and a support match (empty: they may be matched).
    pub missing_to_be_matched: Vec<Missing>,
    /// What stands between the supporter and leading an outing (empty: they may lead).
    pub missing_to_lead: Vec<Missing>,
    /// May join outings as a trainee: basic training started (in progress or complete).
    pub may_join_as_trainee: bool,
}

impl Capabilities {
    pub fn may_be_matched(&self) -> bool {
        self.missing_to_be_matched.is_empty()
    }

    pub fn may_lead_outings(&self) -> bool {
        self.missing_to_lead.is_empty()
    }

    pub fn follow_up_overdue(&self) -> bool {
        self.missing_to_lead.contains(&Missing::FollowUpOverdue)
    }
}

/// The date follow-up training falls due: `interval_months` after the basis, clamped to the end of a
/// shorter month (31 January + 1 month = 28 or 29 February).
pub fn follow_up_due_on(basis: NaiveDate, interval_months: u32) -> NaiveDate {
    basis
        .checked_add_months(Months::new(interval_months))
        .unwrap_or(NaiveDate::MAX)
}

/// The follow-up reminders for a due date: 30 and 7 days before, and the day it becomes overdue.
/// Each has a stable name, part of its idempotency key.
pub fn follow_up_reminder_days(due_on: NaiveDate) -> [(&'static str, NaiveDate); 3] {
    [
        ("d30", due_on - chrono::Days::new(30)),
        ("d7", due_on - chrono::Days::new(7)),
        ("due", due_on),
    ]
}

/// Derives the capabilities. Follow-up is overdue from its due date on (`today` in the
/// organisation's time zone).
pub fn capabilities(facts: &TrainingFacts, interval_months: u32, today: NaiveDate) -> Capabilities {
    let follow_up_due_on = facts
        .follow_up_basis
        .filter(|_| facts.specialised.is_complete())
        .map(|basis| follow_up_due_on(basis, interval_months));
    let overdue = follow_up_due_on.is_some_and(|due| today >= due);

    let mut missing_to_be_matched = Vec::new();
    if !facts.basic.is_complete() {
        missing_to_be_matched.push(Missing::BasicCourse);
    }
    let mut missing_to_lead = missing_to_be_matched.clone();
    if !facts.specialised.is_complete() {
        missing_to_lead.push(Missing::SpecialisedCourse);
    }
    if overdue {
        missing_to_lead.push(Missing::FollowUpOverdue);
    }
    let stage = match (facts.basic, facts.specialised) {
        (_, LevelProgress::Complete(_)) => Stage::SpecialisedComplete,
        (_, LevelProgress::InProgress) => Stage::SpecialisedInProgress,
        (LevelProgress::Complete(_), LevelProgress::NotStarted) => Stage::BasicComplete,
        (LevelProgress::InProgress, LevelProgress::NotStarted) => Stage::BasicInProgress,
        (LevelProgress::NotStarted, LevelProgress::NotStarted) => Stage::NotStarted,
    };
    Capabilities {
        stage,
        follow_up_due_on,
        missing_to_be_matched,
        missing_to_lead,
        may_join_as_trainee: facts.basic.is_started(),
    }
}

/// A course is complete when every one of its modules is (a course without modules never is).
pub fn course_complete(module_count: usize, completed_count: usize) -> bool {
    module_count > 0 && completed_count >= module_count
}

/// What must be done before a module is recorded: its own prerequisite modules, and the courses
/// its course requires (each with its modules, for listing what is missing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prerequisites {
    pub modules: Vec<Uuid>,
    pub courses: Vec<(Uuid, Vec<Uuid>)>,
}

impl Prerequisites {
    /// The modules still to do, given the modules `done` and the courses `certified`: the
    /// module's own prerequisites not done, then every module not done of a required course not
    /// certified yet. Empty: the module may be recorded.
    pub fn missing(
        &self,
        done: impl Fn(&Uuid) -> bool,
        certified: impl Fn(&Uuid) -> bool,
    ) -> Vec<Uuid> {
        let own = self.modules.iter().filter(|module| !done(module));
        let of_courses = self
            .courses
            .iter()
            .filter(|(course, _)| !certified(course))
            .flat_map(|(_, modules)| modules.iter())
            .filter(|module| !done(module));
        own.chain(of_courses).copied().collect()
    }

    /// Every course the module's course requires is certified.
    pub fn courses_met(&self, certified: impl Fn(&Uuid) -> bool) -> bool {
        self.courses.iter().all(|(course, _)| certified(course))
    }

    /// The module's own prerequisites not done yet (what the progress view lists).
    pub fn modules_missing(&self, done: impl Fn(&Uuid) -> bool) -> Vec<Uuid> {
        self.modules
            .iter()
            .filter(|module| !done(module))
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 11, 24);

    fn today() -> NaiveDate {
        day(TODAY.0, TODAY.1, TODAY.2)
    }

    fn facts(basic: LevelProgress, specialised: LevelProgress) -> TrainingFacts {
        TrainingFacts {
            basic,
            specialised,
            follow_up_basis: match specialised {
                LevelProgress::Complete(on) => Some(on),
                _ => None,
            },
        }
    }

    #[test]
    fn nothing_done_allows_nothing() {
        let caps = capabilities(&TrainingFacts::default(), 12, today());
        assert_eq!(caps.stage, Stage::NotStarted);
        assert!(!caps.may_be_matched());
        assert!(!caps.may_lead_outings());
        assert!(!caps.may_join_as_trainee);
        assert_eq!(caps.missing_to_be_matched, vec![Missing::BasicCourse]);
        assert_eq!(
            caps.missing_to_lead,
            vec![Missing::BasicCourse, Missing::SpecialisedCourse]
        );
        assert_eq!(caps.follow_up_due_on, None);
    }

    #[test]
    fn basic_in_progress_may_only_join_as_trainee() {
        let caps = capabilities(
            &facts(LevelProgress::InProgress, LevelProgress::NotStarted),
            12,
            today(),
        );
        assert_eq!(caps.stage, Stage::BasicInProgress);
        assert!(caps.may_join_as_trainee);
        assert!(!caps.may_be_matched());
        assert!(!caps.may_lead_outings());
    }

    #[test]
    fn basic_complete_may_be_matched_but_not_lead() {
        let caps = capabilities(
            &facts(
                LevelProgress::Complete(day(2026, 1, 10)),
                LevelProgress::NotStarted,
            ),
            12,
            today(),
        );
        assert_eq!(caps.stage, Stage::BasicComplete);
        assert!(caps.may_be_matched());
        assert!(caps.may_join_as_trainee);
        assert_eq!(caps.missing_to_lead, vec![Missing::SpecialisedCourse]);
        let caps = capabilities(
            &facts(
                LevelProgress::Complete(day(2026, 1, 10)),
                LevelProgress::InProgress,
            ),
            12,
            today(),
        );
        assert_eq!(caps.stage, Stage::SpecialisedInProgress);
        assert!(!caps.may_lead_outings());
    }

    #[test]
    fn specialised_complete_leads_until_follow_up_is_overdue() {
        let done = |on| facts(LevelProgress::Complete(day(2025, 1, 5)), on);
        let recent = capabilities(&done(LevelProgress::Complete(day(2026, 3, 1))), 12, today());
        assert_eq!(recent.stage, Stage::SpecialisedComplete);
        assert!(recent.may_lead_outings());
        assert_eq!(recent.follow_up_due_on, Some(day(2027, 3, 1)));
        // Due today: overdue from the due date on.
        let due_today = capabilities(
            &done(LevelProgress::Complete(day(2025, 11, 24))),
            12,
            today(),
        );
        assert!(due_today.follow_up_overdue());
        assert_eq!(due_today.missing_to_lead, vec![Missing::FollowUpOverdue]);
        assert!(
            due_today.may_be_matched(),
            "overdue follow-up only stops leading"
        );
        // The day before it is not.
        let due_tomorrow = capabilities(
            &done(LevelProgress::Complete(day(2025, 11, 25))),
            12,
            today(),
        );
        assert!(due_tomorrow.may_lead_outings());
        // A shorter interval makes the same history overdue.
        let six = capabilities(&done(LevelProgress::Complete(day(2026, 3, 1))), 6, today());
        assert!(six.follow_up_overdue());
    }

    #[test]
    fn a_later_follow_up_course_moves_the_due_date() {
        let mut history = facts(
            LevelProgress::Complete(day(2023, 4, 1)),
            LevelProgress::Complete(day(2024, 4, 1)),
        );
        history.follow_up_basis = Some(day(2026, 2, 1));
        let caps = capabilities(&history, 12, today());
        assert_eq!(caps.follow_up_due_on, Some(day(2027, 2, 1)));
        assert!(caps.may_lead_outings());
    }

    #[test]
    fn specialised_without_basic_still_needs_basic() {
        let caps = capabilities(
            &facts(
                LevelProgress::NotStarted,
                LevelProgress::Complete(day(2026, 1, 1)),
            ),
            12,
            today(),
        );
        assert_eq!(caps.missing_to_lead, vec![Missing::BasicCourse]);
        assert!(!caps.may_be_matched());
    }

    #[test]
    fn due_dates_clamp_to_the_end_of_short_months() {
        assert_eq!(follow_up_due_on(day(2027, 1, 31), 1), day(2027, 2, 28));
        assert_eq!(follow_up_due_on(day(2027, 8, 31), 6), day(2028, 2, 29));
        let reminders = follow_up_reminder_days(day(2027, 3, 1));
        assert_eq!(reminders[0], ("d30", day(2027, 1, 30)));
        assert_eq!(reminders[1], ("d7", day(2027, 2, 22)));
        assert_eq!(reminders[2], ("due", day(2027, 3, 1)));
    }

    #[test]
    fn a_course_needs_modules_and_all_of_them() {
        assert!(!course_complete(0, 0));
        assert!(!course_complete(3, 2));
        assert!(course_complete(3, 3));
    }

    #[test]
    fn stored_names_round_trip() {
        for level in CourseLevel::ALL {
            assert_eq!(CourseLevel::parse(level.as_str()), Ok(*level));
        }
        for format in ModuleFormat::ALL {
            assert_eq!(ModuleFormat::parse(format.as_str()), Ok(*format));
        }
        assert!(CourseLevel::parse("advanced").is_err());
    }

    #[test]
    fn what_is_missing_before_a_module_is_its_own_prerequisites_and_uncertified_courses() {
        let [a, b, c, d, course] = [(); 5].map(|()| Uuid::now_v7());
        let prerequisites = Prerequisites {
            modules: vec![a, b],
            courses: vec![(course, vec![c, d])],
        };
        let none = |_: &Uuid| false;
        assert_eq!(prerequisites.missing(none, none), vec![a, b, c, d]);
        assert!(!prerequisites.courses_met(none));
        let done = |id: &Uuid| [a, c].contains(id);
        assert_eq!(prerequisites.missing(done, none), vec![b, d]);
        assert_eq!(prerequisites.modules_missing(done), vec![b]);
        // A certified course counts whole, whatever its modules say.
        let certified = |id: &Uuid| *id == course;
        assert_eq!(prerequisites.missing(done, certified), vec![b]);
        assert!(prerequisites.courses_met(certified));
        assert!(Prerequisites::default().missing(none, none).is_empty());
    }
}
