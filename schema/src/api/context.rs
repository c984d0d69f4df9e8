//! Who is asking and what the resolvers share: authentication of tokens and the request's viewer.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::Context;
use sea_orm::{DatabaseConnection, DbErr};

use super::ApiConfig;
use super::error::{ApiError, ApiResult};
use super::loaders::Loaders;
use crate::domain::access::Viewer;
use crate::domain::clock::{Clock, SharedClock};
use crate::domain::credentials::AccessToken;
use crate::domain::people::Role;
use crate::events::EventBus;
use crate::store;

/// State shared by every request, stored in the schema.
pub(crate) struct ApiState {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub events: EventBus,
    pub redeem_limiter: Arc<super::pairing_limit::PairingLimiter>,
    pub config: ApiConfig,
}

/// Who a request acts for. A request with a bad token never gets this far (see [`authenticate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    Viewer(Viewer),
}

/// Marks the data of a WebSocket connection: its token was checked once, at `connection_init`, so
/// every operation sent over it checks again that the device has not been revoked since
/// (see [`SocketDeviceCheck`]). HTTP requests check their token on every request already.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SocketConnection;

/// Re-checks the device of a WebSocket connection before each query or mutation it sends: a phone
/// revoked after it connected (on this server or another one sharing the database) gets
/// UNAUTHENTICATED and nothing runs. Costs one statement per operation on a socket only.
pub(crate) struct SocketDeviceCheck;

impl async_graphql::extensions::ExtensionFactory for SocketDeviceCheck {
    fn create(&self) -> Arc<dyn async_graphql::extensions::Extension> {
        Arc::new(SocketDeviceCheck)
    }
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for SocketDeviceCheck {
    // `execute`, not `request`: operations sent over a socket run through the schema's stream
    // entry point, which calls the execute hook for queries and mutations but never the request
    // hook. Subscriptions check the device as they start and at every event
    // (`api::subscription`).
    async fn execute(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: async_graphql::extensions::NextExecute<'_>,
    ) -> async_graphql::Response {
        if ctx.data_opt::<SocketConnection>().is_some()
            && let Some(Auth::Viewer(viewer)) = ctx.data_opt::<Auth>()
            && let Some(state) = ctx.data_opt::<ApiState>()
        {
            let refusal = match store::devices::is_active(&state.db, viewer.device_id).await {
                Ok(true) => None,
                Ok(false) => Some(ApiError::Unauthenticated),
                Err(err) => Some(ApiError::from(err)),
            };
            if let Some(refusal) = refusal {
                let error = async_graphql::Error::from(refusal)
                    .into_server_error(async_graphql::Pos::default());
                return async_graphql::Response::from_errors(vec![error]);
            }
        }
        next.run(ctx, operation_name).await
    }
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
