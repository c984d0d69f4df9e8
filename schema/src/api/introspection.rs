//! The API's schema as an introspection result, computed once by the server for the playground:
//! over the API, introspection is for coordinators only (see `parse_cache`), and GraphiQL's own
//! introspection query nests deeper than the depth limit allows anyone.

use async_graphql::Schema;

use super::{MutationRoot, QueryRoot, SubscriptionRoot};

/// The introspection query GraphiQL would send (graphql-js's, with descriptions, `specifiedByURL`
/// and repeatable directives), type references followed eight levels deep.
pub const QUERY: &str = r"
query IntrospectionQuery {
  __schema {
    description
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives {
      name
      description
      isRepeatable
      locations
      args { ...InputValue }
    }
  }
}

fragment FullType on __Type {
  kind
  name
  description
  specifiedByURL
  fields(includeDeprecated: true) {
    name
    description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes { ...TypeRef }
}

fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}

fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType { kind name }
              }
            }
          }
        }
      }
    }
  }
}
";

/// Why the introspection result could not be computed (a bug: the server refuses to start).
#[derive(Debug, thiserror::Error)]
#[error("the schema's introspection failed: {0}")]
pub struct IntrospectionFailed(String);

/// The `data` of [`QUERY`] (`{"__schema": …}`), as GraphiQL's `schema` option takes it. Runs on a
/// schema with the same types and no limits, data or extensions: introspection reads only types.
pub async fn result() -> Result<serde_json::Value, IntrospectionFailed> {
    let schema = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .finish();
    let response = schema.execute(QUERY).await;
    if let Some(error) = response.errors.first() {
        return Err(IntrospectionFailed(error.message.clone()));
    }
    response
        .data
        .into_json()
        .map_err(|err| IntrospectionFailed(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_result_describes_the_whole_api() {
        let result = result().await.expect("introspection runs");
        let schema = &result["__schema"];
        assert_eq!(schema["queryType"]["name"], "QueryRoot");
        assert_eq!(schema["mutationType"]["name"], "MutationRoot");
        assert_eq!(schema["subscriptionType"]["name"], "SubscriptionRoot");
        let types = schema["types"].as_array().expect("a list of types");
        let query = types
            .iter()
            .find(|ty| ty["name"] == "QueryRoot")
            .expect("the query root");
        let fields: Vec<&str> = query["fields"]
            .as_array()
            .expect("the query root's fields")
            .iter()
            .filter_map(|field| field["name"].as_str())
            .collect();
        assert!(
            fields.contains(&"viewer") && fields.contains(&"myDay"),
            "{fields:?}"
        );
    }
}
