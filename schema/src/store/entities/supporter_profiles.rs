//! The `supporter_profiles` table: what a supporter brings (experience, languages, areas) and their
//! own limits and status (capacity override, break, supervision follow-up, trainer).

use sea_orm::entity::prelude::*;

use super::StringList;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supporter_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub experience_tags: StringList,
    pub languages: StringList,
    pub areas: StringList,
    /// Overrides the organisation's match capacity; null: the organisation's applies.
    pub match_capacity: Option<i32>,
    pub on_break_since: Option<DateTimeUtc>,
    pub supervision_follow_up_since: Option<DateTimeUtc>,
    pub is_trainer: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
