//! The query root: what a signed-in person can read.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};

use super::objects::{Organisation, Person, Role};
use crate::api::common::parse_id;
use crate::api::context::{loaders, state, viewer};
use crate::api::error::{ApiError, ApiResult};
use crate::api::lookup::visible_person;
use crate::api::pagination::{connection, page_request};
use crate::store;

/// People and organisations.
#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// The signed-in person.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Person> {
        let viewer = viewer(ctx)?;
        let row = store::people::find(&state(ctx)?.db, viewer.person_id)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Person::from_row(row)
    }

    /// An organisation: the viewer's own; any other is NOT_FOUND.
    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Organisation>> {
        let viewer = viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        if !viewer.may_see_organisation(id) {
            return Err(ApiError::NotFound);
        }
        let row = loaders(ctx)?
            .organisations
            .load_one(id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Organisation::from_row(row).map(Some)
    }

    /// A person the viewer may see; anyone else is NOT_FOUND.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Person>> {
        let viewer = viewer(ctx)?;
        let id = parse_id(&id, "id")?;
        let (row, _) = visible_person(&state(ctx)?.db, &viewer, id).await?;
        Person::from_row(row).map(Some)
    }

    /// The people the viewer may see, oldest first: a coordinator sees their organisation, a
    /// supporter themselves and the participants they support, a participant themselves.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        role: Option<Role>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Person>> {
        let viewer = viewer(ctx)?;
        let request = page_request(first, after.as_deref())?;
        let page =
            store::people::list_visible(&state(ctx)?.db, &viewer, role.map(Into::into), request)
                .await?;
        connection(request, page, |row| row.id, Person::from_row)
    }
}
