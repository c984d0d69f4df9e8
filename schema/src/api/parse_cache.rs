//! Parses each GraphQL document once and checks it before anything else reads it: its cost
//! (aliases, fields, fragment cycles and fan-out, see `query_limits`) and whether it introspects
//! the API, which only coordinators may. The app sends the same few operations over and over, and
//! parsing one (a PEG parser) was about a seventh of the server's CPU per "my day" request, so
//! checked documents are remembered by their text; validation, limits and execution still run on
//! every request.

use std::any::TypeId;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ErrorExtensions as _, IntrospectionMode, Request, ServerError, ServerResult};
use lru::LruCache;

use super::context::Auth;
use super::error::{ApiError, codes};
use super::query_limits::{self, DocumentLimits, Exceeded};

/// Documents kept: far more than the operations the app and the playground send, few enough that
/// a client sending endless distinct queries only churns a bounded cache.
const DOCUMENTS: usize = 256;
/// Longer query texts are parsed every time: the app's operations are a few hundred bytes.
const QUERY_BYTES_MAX: usize = 8 * 1024;

/// A document that parsed and is within the limits.
#[derive(Clone)]
struct Checked {
    document: ExecutableDocument,
    introspection: bool,
}

type Cache = Arc<Mutex<LruCache<String, Checked>>>;

/// Installs the checks and the cache on a schema: `.extension(ParseCache::new(limits))`.
pub struct ParseCache {
    documents: Cache,
    limits: DocumentLimits,
}

impl ParseCache {
    pub fn new(limits: DocumentLimits) -> Self {
        let capacity = NonZeroUsize::new(DOCUMENTS).unwrap_or(NonZeroUsize::MIN);
        Self {
            documents: Arc::new(Mutex::new(LruCache::new(capacity))),
            limits,
        }
    }
}

impl ExtensionFactory for ParseCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ParseCacheExtension {
            documents: self.documents.clone(),
            limits: self.limits,
        })
    }
}

struct ParseCacheExtension {
    documents: Cache,
    limits: DocumentLimits,
}

impl ParseCacheExtension {
    fn checked(&self, query: &str) -> ServerResult<Checked> {
        // A poisoned lock only means another request panicked while holding it; the cache holds
        // nothing that could be half-written, so it is used as it is.
        let cached = self
            .documents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(query)
            .cloned();
        if let Some(checked) = cached {
            return Ok(checked);
        }
        let document = async_graphql::parser::parse_query(query).map_err(ServerError::from)?;
        query_limits::check(&document, self.limits).map_err(|exceeded| self.refusal(exceeded))?;
        let checked = Checked {
            introspection: query_limits::asks_for_introspection(&document),
            document,
        };
        // Only documents that parsed and are within the limits are kept.
        if query.len() <= QUERY_BYTES_MAX {
            self.documents
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .put(query.to_owned(), checked.clone());
        }
        Ok(checked)
    }

    fn refusal(&self, exceeded: Exceeded) -> ServerError {
        let (message, limit, max) = match exceeded {
            Exceeded::Aliases => (
                format!(
                    "the query has more than {} aliases (counted as its fragments expand)",
                    self.limits.max_aliases
                ),
                Some("ALIASES"),
                Some(self.limits.max_aliases),
            ),
            Exceeded::Fields => (
                format!(
                    "the query selects more than {} fields (counted as its fragments expand)",
                    self.limits.max_fields
                ),
                Some("FIELDS"),
                Some(self.limits.max_fields),
            ),
            Exceeded::Nesting => (
                format!(
                    "the query nests fields and fragments more than {} levels deep",
                    query_limits::MAX_NESTING
                ),
                Some("NESTING"),
                Some(query_limits::MAX_NESTING),
            ),
            Exceeded::FragmentCycle => (
                "a fragment spreads itself (directly or through other fragments)".to_owned(),
                None,
                None,
            ),
        };
        async_graphql::Error::new(message)
            .extend_with(|_, extensions| {
                extensions.set("code", codes::BAD_USER_INPUT);
                if let Some(limit) = limit {
                    extensions.set("limit", limit);
                }
                if let Some(max) = max {
                    extensions.set("max", max);
                }
            })
            .into_server_error(async_graphql::Pos::default())
    }
}

/// Whether the request's viewer may introspect: an HTTP request carries its `Auth` in its own data,
/// an operation over a WebSocket in the connection's.
fn may_introspect(request: &Request, ctx: &ExtensionContext<'_>) -> bool {
    let auth = request
        .data
        .get(&TypeId::of::<Auth>())
        .and_then(|data| data.downcast_ref::<Auth>())
        .or_else(|| ctx.data_opt::<Auth>());
    matches!(auth, Some(Auth::Viewer(viewer)) if viewer.may_introspect())
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParseCacheExtension {
    // `prepare_request`, not `parse_query`: async-graphql's own parse-stage checks expand fragment
    // spreads without memory, so the document must be within the limits before they see it. It is
    // handed on parsed, and the parse hook of other extensions still runs.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let checked = self.checked(&request.query)?;
        if !may_introspect(&request, ctx) {
            if checked.introspection {
                let refusal = ApiError::Forbidden {
                    reason: "only coordinators may introspect the API; the schema is in the mobile contract and the playground",
                };
                return Err(async_graphql::Error::from(refusal)
                    .into_server_error(async_graphql::Pos::default()));
            }
            // Belt and braces: whatever the document holds, nothing introspects for this viewer.
            request.introspection_mode = IntrospectionMode::Disabled;
        }
        request.set_parsed_query(checked.document);
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn greeting(&self, name: String) -> String {
            format!("hello {name}")
        }
    }

    fn schema(cache: &ParseCache) -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(ParseCache {
                documents: cache.documents.clone(),
                limits: DocumentLimits::default(),
            })
            .limit_depth(3)
            .finish()
    }

    fn kept(cache: &ParseCache) -> usize {
        cache
            .documents
            .lock()
            .map(|documents| documents.len())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn a_repeated_query_is_parsed_once_and_still_answers_with_its_own_variables() {
        let cache = ParseCache::new(DocumentLimits::default());
        let schema = schema(&cache);
        let query = "query($name: String!) { greeting(name: $name) }";
        for name in ["Ken", "Haruka"] {
            let request = async_graphql::Request::new(query).variables(
                async_graphql::Variables::from_json(serde_json::json!({ "name": name })),
            );
            let response = schema.execute(request).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            assert_eq!(
                response.data.into_json().ok(),
                Some(serde_json::json!({ "greeting": format!("hello {name}") }))
            );
        }
        assert_eq!(kept(&cache), 1);
    }

    #[tokio::test]
    async fn queries_that_fail_to_parse_or_validate_are_refused_every_time() {
        let cache = ParseCache::new(DocumentLimits::default());
        let schema = schema(&cache);
        for _ in 0..2 {
            let broken = schema.execute("{ greeting(name: ").await;
            assert!(!broken.errors.is_empty());
            let unknown = schema.execute("{ farewell }").await;
            assert!(!unknown.errors.is_empty());
        }
        // The broken one was never kept; the unknown field parses (and is kept) but still fails
        // validation on every request.
        assert_eq!(kept(&cache), 1);
        let long = format!("{{ greeting(name: \"{}\") }}", "x".repeat(QUERY_BYTES_MAX));
        assert!(schema.execute(long.as_str()).await.errors.is_empty());
        assert_eq!(kept(&cache), 1, "long queries are not kept");
    }

    fn viewer(role: crate::domain::people::Role) -> Auth {
        Auth::Viewer(crate::domain::access::Viewer {
            person_id: uuid::Uuid::now_v7(),
            organisation_id: uuid::Uuid::now_v7(),
            role,
            device_id: uuid::Uuid::now_v7(),
        })
    }

    fn code(response: &async_graphql::Response) -> Option<String> {
        let error = response.errors.first()?;
        match error.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn only_coordinators_introspect_and_everyone_gets_typename() {
        use crate::domain::people::Role;
        let cache = ParseCache::new(DocumentLimits::default());
        let schema = schema(&cache);
        let introspect = "{ __schema { queryType { name } } }";
        for auth in [
            Auth::Anonymous,
            viewer(Role::Participant),
            viewer(Role::Supporter),
        ] {
            for query in [introspect, r#"{ __type(name: "Query") { name } }"#] {
                let response = schema
                    .execute(async_graphql::Request::new(query).data(auth))
                    .await;
                assert_eq!(code(&response).as_deref(), Some("FORBIDDEN"), "{auth:?}");
                assert_eq!(response.data, async_graphql::Value::Null);
            }
            let response = schema
                .execute(async_graphql::Request::new("{ __typename }").data(auth))
                .await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
        }
        let response = schema
            .execute(async_graphql::Request::new(introspect).data(viewer(Role::Coordinator)))
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(
            response.data.into_json().ok(),
            Some(serde_json::json!({ "__schema": { "queryType": { "name": "Query" } } }))
        );
    }

    #[tokio::test]
    async fn documents_past_the_limits_are_refused_every_time_and_never_kept() {
        let cache = ParseCache::new(DocumentLimits::default());
        let schema = schema(&cache);
        let aliases: Vec<String> = (0..500).map(|i| format!("a{i}: __typename")).collect();
        let aliases = format!("{{ {} }}", aliases.join(" "));
        let mut fan_out = String::from("{ ...F0 }");
        for level in 0..10 {
            let spreads = vec![format!("...F{}", level + 1); 10].join(" ");
            fan_out.push_str(&format!(" fragment F{level} on Query {{ {spreads} }}"));
        }
        fan_out.push_str(" fragment F10 on Query { __typename }");
        let cycle = "{ ...A } fragment A on Query { __typename ...B ...B } fragment B on Query { ...A ...A }";
        for _ in 0..2 {
            for query in [aliases.as_str(), fan_out.as_str(), cycle] {
                let response = schema.execute(query).await;
                assert_eq!(code(&response).as_deref(), Some("BAD_USER_INPUT"));
            }
        }
        assert_eq!(kept(&cache), 0);
    }
}
