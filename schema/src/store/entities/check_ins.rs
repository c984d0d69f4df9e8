//! The `check_ins` table: how an outing is going, from any of its members.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "check_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub outing_id: Uuid,
    pub person_id: Uuid,
    pub kind: String,
    pub made_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
