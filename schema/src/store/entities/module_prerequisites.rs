//! The `module_prerequisites` table: a module that must be done before another.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "module_prerequisites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub module_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub required_module_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
