//! The GraphQL API: types, roots, loaders, authorization checks and error codes; `build_schema()`
//! puts them together and `sdl()` prints the contract the mobile app is built against.

mod common;
mod concerns;
pub mod context;
pub mod error;
pub mod introspection;
mod loaders;
mod lookup;
mod matches;
pub(crate) mod outings;
mod pagination;
mod pairing_limit;
mod parse_cache;
mod people;
mod push;
pub mod query_limits;
mod rota;
mod subscription;
mod training;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use async_graphql::{Request, SDLExportOptions, Schema};
use chrono::Duration;
use sea_orm::DatabaseConnection;

pub use crate::events::EventBus;
use context::ApiState;
pub use context::{Auth, AuthError, authenticate};
pub use subscription::SubscriptionRoot;

/// Every query field: merged from the areas of the API.
#[derive(async_graphql::MergedObject, Default)]
pub struct QueryRoot(
    people::PeopleQuery,
    push::PushQuery,
    training::TrainingQuery,
    matches::MatchQuery,
    outings::OutingQuery,
    rota::RotaQuery,
    concerns::ConcernQuery,
);

/// Every mutation: merged from the areas of the API.
#[derive(async_graphql::MergedObject, Default)]
pub struct MutationRoot(
    people::PeopleMutation,
    push::PushMutation,
    training::TrainingMutation,
    matches::MatchMutation,
    outings::OutingMutation,
    rota::RotaMutation,
    concerns::ConcernMutation,
);
use crate::domain::clock::SharedClock;
use crate::domain::push::EndpointPolicy;

pub type TomoniSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits and lifetimes the API enforces. The server fills this from its settings.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Deepest selection nesting a query may have (the app's operations nest at most 5).
    pub max_depth: usize,
    /// Largest complexity (roughly: fields to resolve, lists counted by page size) of a query.
    pub max_complexity: usize,
    /// Most aliases one request may use, counted as its fragments expand.
    pub max_aliases: usize,
    /// Most fields one request may select, counted as its fragments expand.
    pub max_fields: usize,
    /// How long a pairing code works after it is issued.
    pub pairing_code_lifetime: Duration,
    /// Pairing-code redemption attempts allowed per client address per minute.
    pub redeem_attempts_per_minute: NonZeroU32,
    /// Where push subscriptions may point.
    pub endpoint_policy: EndpointPolicy,
    /// The VAPID application server key the app subscribes with.
    pub vapid_public_key: String,
    /// The safety net's timings (acknowledged alerts' reminders).
    pub safety: crate::safety::SafetyTimings,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_depth: 10,
            max_complexity: 1000,
            max_aliases: query_limits::DEFAULT_MAX_ALIASES,
            max_fields: query_limits::DEFAULT_MAX_FIELDS,
            pairing_code_lifetime: Duration::minutes(15),
            redeem_attempts_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            endpoint_policy: EndpointPolicy::default(),
            vapid_public_key: String::new(),
            safety: crate::safety::SafetyTimings::default(),
        }
    }
}

/// Everything the resolvers share for the life of the process.
pub struct ApiDeps {
    pub db: DatabaseConnection,
    pub clock: SharedClock,
    pub events: EventBus,
    pub config: ApiConfig,
}

/// Builds the schema with its limits, its error-code policy and its shared state.
pub fn build_schema(deps: ApiDeps) -> TomoniSchema {
    let ApiDeps {
        db,
        clock,
        events,
        config,
    } = deps;
    let limiter =
        pairing_limit::PairingLimiter::new(config.redeem_attempts_per_minute, clock.clone());
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity)
    .extension(error::ErrorCodes)
    .extension(context::SocketDeviceCheck)
    .extension(parse_cache::ParseCache::new(query_limits::DocumentLimits {
        max_aliases: config.max_aliases,
        max_fields: config.max_fields,
    }))
    .data(ApiState {
        db,
        clock,
        events,
        redeem_limiter: Arc::new(limiter),
        config,
    })
    .finish()
}

/// The schema as SDL, sorted so that it only changes when the API does.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .finish()
    .sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}

/// Adds what one request needs: who is asking, from where, and fresh per-request loaders (so a
/// cached row never outlives the request that read it).
pub fn prepare_request(
    request: Request,
    schema: &TomoniSchema,
    auth: Auth,
    client_ip: Option<IpAddr>,
) -> Request {
    let request = request.data(auth).data(context::ClientIp(client_ip));
    match schema_db(schema) {
        Some((db, clock)) => request.data(loaders::Loaders::new(db, clock)),
        None => request,
    }
}

/// The per-connection data of a WebSocket: like `prepare_request`, with loaders that do not cache,
/// because a subscription lives far longer than one request.
pub fn connection_data(
    schema: &TomoniSchema,
    auth: Auth,
    client_ip: Option<IpAddr>,
) -> async_graphql::Data {
    let mut data = async_graphql::Data::default();
    data.insert(auth);
    data.insert(context::SocketConnection);
    data.insert(context::ClientIp(client_ip));
    if let Some((db, clock)) = schema_db(schema) {
        data.insert(loaders::Loaders::without_cache(db, clock));
    }
    data
}

/// Pairing-code attempts refused by the rate limit since start, and the client keys it holds
/// now (a bounded number), for `/metrics`.
pub fn pairing_rate_limit_stats(schema: &TomoniSchema) -> (u64, usize) {
    schema.data::<ApiState>().map_or((0, 0), |state| {
        (
            state.redeem_limiter.refused(),
            state.redeem_limiter.tracked_clients(),
        )
    })
}

/// The schema's event bus, for the transport: a WebSocket watches it to close itself when its
/// device is revoked (on this server, or on another one whose events are relayed here).
pub fn event_bus(schema: &TomoniSchema) -> Option<EventBus> {
    schema.data::<ApiState>().map(|state| state.events.clone())
}

fn schema_db(schema: &TomoniSchema) -> Option<(DatabaseConnection, SharedClock)> {
    schema
        .data::<ApiState>()
        .map(|state| (state.db.clone(), state.clock.clone()))
}
