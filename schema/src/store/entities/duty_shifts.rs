//! The `duty_shifts` table: one shift of a coordinator's weekly on-duty pattern.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "duty_shifts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub person_id: Uuid,
    /// ISO weekday, 1 = Monday.
    pub weekday: i16,
    /// "HH:MM", local to the organisation.
    pub start_time: String,
    pub end_time: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
