//! The demo acts through the GraphQL schema the server serves, as the person a step belongs to:
//! whatever the rules refuse fails the demo, with the errors' codes, instead of being written
//! around.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{anyhow, bail};
use async_graphql::{Request, Variables};
use serde_json::Value;
use tomoni_schema::api::{self, Auth, TomoniSchema};
use tomoni_schema::domain::clock::Clock;

/// Someone signed in to the schema: the demo coordinator, or a supporter on their paired device.
pub struct Actor<'a> {
    schema: &'a TomoniSchema,
    auth: Auth,
}

impl<'a> Actor<'a> {
    /// Signs in with a device token, as `POST /graphql` does with a bearer token.
    pub async fn sign_in(
        schema: &'a TomoniSchema,
        db: &sea_orm::DatabaseConnection,
        clock: &dyn Clock,
        token: &str,
    ) -> anyhow::Result<Self> {
        let auth = api::authenticate(db, clock, Some(token))
            .await
            .map_err(|err| anyhow!("the demo's token was refused: {err:?}"))?;
        Ok(Self { schema, auth })
    }

    /// No token: what a phone sends before it is paired.
    pub fn anonymous(schema: &'a TomoniSchema) -> Self {
        Self {
            schema,
            auth: Auth::Anonymous,
        }
    }

    /// The id of the device this actor signed in with.
    pub fn device_id(&self) -> Option<uuid::Uuid> {
        match self.auth {
            Auth::Viewer(viewer) => Some(viewer.device_id),
            Auth::Anonymous => None,
        }
    }

    /// Runs one operation; any error (with its `extensions.code` and `reason`) fails the demo.
    pub async fn run(&self, document: &str, variables: Value) -> anyhow::Result<Value> {
        let request = Request::new(document).variables(Variables::from_json(variables));
        let request = api::prepare_request(
            request,
            self.schema,
            self.auth,
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        );
        let response = self.schema.execute(request).await;
        if !response.errors.is_empty() {
            let errors: Vec<String> = response
                .errors
                .iter()
                .map(|error| {
                    let extension = |key: &str| {
                        error
                            .extensions
                            .as_ref()
                            .and_then(|extensions| extensions.get(key))
                            .map(|value| match value {
                                async_graphql::Value::String(text) => text.clone(),
                                other => other.to_string(),
                            })
                            .unwrap_or_default()
                    };
                    format!(
                        "{} (code {}{}{})",
                        error.message,
                        extension("code"),
                        if extension("reason").is_empty() {
                            ""
                        } else {
                            ", reason "
                        },
                        extension("reason"),
                    )
                })
                .collect();
            bail!(
                "the API refused a demo step {}: {}",
                operation_name(document),
                errors.join("; ")
            );
        }
        Ok(response.data.into_json()?)
    }
}

/// `mutation ProposeMatch(…)` → `ProposeMatch`, to say which step failed.
fn operation_name(document: &str) -> &str {
    document
        .split_whitespace()
        .nth(1)
        .and_then(|name| name.split('(').next())
        .unwrap_or("")
}

/// The string at `pointer` (e.g. `/createPerson/person/id`) of an answer.
pub fn string_at(data: &Value, pointer: &str) -> anyhow::Result<String> {
    data.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the API's answer has no {pointer}"))
}
