//! The `participant_profiles` table: a participant's stated preferences, consents, and what matching
//! compares with supporters (experience, languages, areas; null until filled in).

use sea_orm::entity::prelude::*;

use super::StringList;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "participant_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub preferences: StringList,
    pub consents_to_location_sharing: bool,
    pub experience_tags: Option<StringList>,
    pub languages: Option<StringList>,
    pub areas: Option<StringList>,
    /// What helps and whom to call in a crisis: coordinators, matched supporters, alert owners.
    pub crisis_plan: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
