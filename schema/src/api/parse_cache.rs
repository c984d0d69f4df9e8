//! Remembers parsed GraphQL documents by their text. The app sends the same few operations over and
//! over, and parsing one (a PEG parser) was about a seventh of the server's CPU per "my day"
//! request; validation, limits and execution still run on every request.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::ServerResult;
use async_graphql::Variables;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

/// Documents kept: far more than the operations the app and the playground send, few enough that
/// a client sending endless distinct queries only churns a bounded cache.
const DOCUMENTS: usize = 256;
/// Longer query texts are parsed every time: the app's operations are a few hundred bytes.
const QUERY_BYTES_MAX: usize = 8 * 1024;

type Cache = Arc<Mutex<LruCache<String, ExecutableDocument>>>;

/// Installs the cache on a schema: `.extension(ParseCache::default())`.
pub struct ParseCache {
    documents: Cache,
}

impl Default for ParseCache {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(DOCUMENTS).unwrap_or(NonZeroUsize::MIN);
        Self {
            documents: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }
}

impl ExtensionFactory for ParseCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ParseCacheExtension {
            documents: self.documents.clone(),
        })
    }
}

struct ParseCacheExtension {
    documents: Cache,
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParseCacheExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > QUERY_BYTES_MAX {
            return next.run(ctx, query, variables).await;
        }
        // A poisoned lock only means another request panicked while holding it; the cache holds
        // nothing that could be half-written, so it is used as it is.
        let cached = self
            .documents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(query)
            .cloned();
        if let Some(document) = cached {
            return Ok(document);
        }
        // Only documents that parsed and passed the parser's own limits are kept.
        let document = next.run(ctx, query, variables).await?;
        self.documents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .put(query.to_owned(), document.clone());
        Ok(document)
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
        let cache = ParseCache::default();
        let schema = schema(&cache);
        let query = "query($name: String!) { greeting(name: $name) }";
        for name in ["Ken", "Haruka"] {
            let request = async_graphql::Request::new(query)
                .variables(Variables::from_json(serde_json::json!({ "name": name })));
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
        let cache = ParseCache::default();
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
}
