//! The `contact_addresses` table: a coordinator's e-mail address, for the alert e-mail fallback.
//! Kept apart from `people` so that no query of people carries it; never logged.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_addresses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    pub email: String,
    pub updated_at: DateTimeUtc,
}

/// Hand-written so that a row printed by mistake (`{:?}` in an error) never shows the address.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("contact_addresses::Model")
            .field("person_id", &self.person_id)
            .field("email", &"***")
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
