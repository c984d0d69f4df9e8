//! The `outing_members` table: everyone on an outing, with their part in it and a copy of the
//! outing's planned times (kept equal by `store::outings`), which "my day" looks up by person.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outing_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub outing_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub role: String,
    pub planned_start: DateTimeUtc,
    pub planned_end: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::people::Entity",
        from = "Column::PersonId",
        to = "super::people::Column::Id"
    )]
    Person,
}

impl ActiveModelBehavior for ActiveModel {}
