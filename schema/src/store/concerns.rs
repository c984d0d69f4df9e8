//! Queries over concerns: raising one, closing it once (a conditional update, so two coordinators
//! closing at once cannot both win), and listing what a viewer may see (`store::access`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::concerns;
use super::{Page, PageRequest, fetch_page};
use crate::domain::access::Viewer;

pub const OPEN: &str = "open";
pub const CLOSED: &str = "closed";

pub async fn insert(
    db: &impl ConnectionTrait,
    concern: concerns::Model,
) -> Result<concerns::Model, DbErr> {
    concerns::ActiveModel::from(concern).insert(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<concerns::Model>, DbErr> {
    concerns::Entity::find_by_id(id).one(db).await
}

/// Closes the concern if it is still open; `None` when someone closed it first.
pub async fn close(
    db: &impl ConnectionTrait,
    id: Uuid,
    closed_by: Uuid,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Option<concerns::Model>, DbErr> {
    let updated = concerns::Entity::update_many()
        .col_expr(concerns::Column::Status, Expr::value(CLOSED))
        .col_expr(concerns::Column::ClosedBy, Expr::value(closed_by))
        .col_expr(concerns::Column::ClosedAt, Expr::value(now))
        .col_expr(concerns::Column::ClosingNote, Expr::value(note))
        .filter(concerns::Column::Id.eq(id))
        .filter(concerns::Column::Status.eq(OPEN))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    find(db, id).await
}

/// One page of the concerns the viewer may see, optionally only open or closed ones.
pub async fn list_visible(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<concerns::Model>, DbErr> {
    let mut select = concerns::Entity::find().filter(super::access::visible_concerns(viewer));
    if let Some(status) = status {
        select = select.filter(concerns::Column::Status.eq(status));
    }
    fetch_page(db, select, concerns::Column::Id, page).await
}
