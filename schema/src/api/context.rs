//! Who is asking and what the resolvers share: authentication of tokens and the request's viewer.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::Context;
use governor::DefaultKeyedRateLimiter;
use sea_orm::{DatabaseConnection, DbErr};

use super::ApiConfig;
use super::error::{ApiError, ApiResult};
use super::events::EventBus;
use super::loaders::Loaders;
use crate::domain::access::Viewer;
use crate::domain::clock::{Clock, SharedClock};
use crate::domain::credentials::AccessToken;
use crate::domain::people::Role;
use crate::store;

/// State shared by every request, stored in the schema.
pub(crate) struct ApiState {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub events: EventBus,
    pub redeem_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    pub config: ApiConfig,
}

/// Who a request acts for. A request with a bad token never gets this far (see [`authenticate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    Viewer(Viewer),
}

/// The client's network address, for rate limits. Never logged.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientIp(pub Option<IpAddr>);

/// Why a presented token was refused.
#[derive(Debug)]
pub enum AuthError {
    /// Unknown, malformed or revoked: the client must pair again.
    InvalidToken,
    Database(DbErr),
}

/// How often a device's "last used" time is written: often enough to be useful, rarely enough that
/// reading does not turn into writing.
const LAST_USED_RESOLUTION_MINUTES: i64 = 5;

/// Resolves a presented bearer token (or none) into who the request acts for.
pub async fn authenticate(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    presented: Option<&str>,
) -> Result<Auth, AuthError> {
    let Some(presented) = presented else {
        return Ok(Auth::Anonymous);
    };
    let token = AccessToken::from_presented(presented).ok_or(AuthError::InvalidToken)?;
    let (device, person) = store::devices::find_active_by_token_hash(db, &token.hash())
        .await
        .map_err(AuthError::Database)?
        .ok_or(AuthError::InvalidToken)?;
    let role = Role::parse(&person.role).map_err(|_| AuthError::InvalidToken)?;
    store::devices::touch(
        db,
        &device,
        clock.now(),
        chrono::Duration::minutes(LAST_USED_RESOLUTION_MINUTES),
    )
    .await
    .map_err(AuthError::Database)?;
    Ok(Auth::Viewer(Viewer {
        person_id: person.id,
        organisation_id: person.organisation_id,
        role,
        device_id: device.id,
    }))
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> ApiResult<&'a ApiState> {
    ctx.data::<ApiState>()
        .map_err(|_| ApiError::internal("schema was built without its state"))
}

pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|_| ApiError::internal("request was prepared without loaders"))
}

/// The signed-in viewer, or UNAUTHENTICATED.
pub(crate) fn viewer(ctx: &Context<'_>) -> ApiResult<Viewer> {
    match ctx.data_opt::<Auth>() {
        Some(Auth::Viewer(viewer)) => Ok(*viewer),
        _ => Err(ApiError::Unauthenticated),
    }
}

pub(crate) fn client_ip(ctx: &Context<'_>) -> Option<IpAddr> {
    ctx.data_opt::<ClientIp>().and_then(|ip| ip.0)
}
