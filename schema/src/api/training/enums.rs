//! The GraphQL mirrors of the training enums of `domain::training` and `domain::matching`.

use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::CourseLevel")]
pub enum CourseLevel {
    /// 基礎研修
    Basic,
    /// 専門研修
    Specialised,
    /// フォローアップ研修
    FollowUp,
    /// The organisation's own course.
    Own,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::ModuleFormat")]
pub enum ModuleFormat {
    Lecture,
    RolePlay,
    GroupWork,
    CaseStudy,
    Ethics,
    Practicum,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::Stage")]
pub enum TrainingStage {
    NotStarted,
    BasicInProgress,
    BasicComplete,
    SpecialisedInProgress,
    SpecialisedComplete,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::training::Missing")]
pub enum MissingTraining {
    BasicCourse,
    SpecialisedCourse,
    FollowUpOverdue,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::matching::LimitState")]
pub enum LimitState {
    Ok,
    Near,
    Reached,
}
