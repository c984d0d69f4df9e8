//! The `concerns` table: something a participant told the coordinators privately (about their
//! own supporter, say), open until a coordinator closes it with a note.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "concerns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub raised_by: Uuid,
    pub about_supporter_id: Option<Uuid>,
    pub body: String,
    pub status: String,
    pub raised_at: DateTimeUtc,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    pub closing_note: Option<String>,
}

/// Hand-written so that a row printed by mistake (`{:?}` in an error) never shows what was said.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("concerns::Model")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("body", &"***")
            .field("closing_note", &"***")
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
