//! The errors the API returns, and the fixed list of `extensions.code` values the app relies on.
//!
//! Policy (one error enum per layer): resolvers return [`ApiResult`]. Database and other internal
//! failures become [`ApiError::Internal`], which is logged here with its whole cause and reaches the
//! client only as "internal error". Messages never contain personal data or the values a client
//! sent. `ApiError` deliberately does not implement `Display`, so that it can only become a GraphQL
//! error through the `From` impl below, which always sets a code.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe,
};
use async_graphql::futures_util::StreamExt as _;
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{ErrorExtensions as _, Response, ServerError};
use sea_orm::DbErr;

use crate::domain::people::UnknownValue;

/// Every `extensions.code` the API can return. `mobile-contract/errors.md` documents each one, and a
/// test keeps the two lists equal.
pub mod codes {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
    /// A subscription fell behind and events were dropped; it ends (subscribe again, refetch).
    pub const EVENTS_MISSED: &str = "EVENTS_MISSED";

    pub const ALL: &[&str] = &[
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        BAD_USER_INPUT,
        CONFLICT,
        RATE_LIMITED,
        INTERNAL,
        EVENTS_MISSED,
    ];
}

/// Why a domain rule refused a change: `extensions.reason` next to `code: CONFLICT`.
/// `mobile-contract/errors.md` documents each one, and a test keeps the two lists equal.
pub mod reasons {
    /// The action is not possible from the record's current state.
    pub const INVALID_TRANSITION: &str = "INVALID_TRANSITION";
    /// A limit that protects supporters is reached; `extensions.cap` says which.
    pub const CAPACITY_FULL: &str = "CAPACITY_FULL";
    /// The supporter's training does not allow it; `extensions.missing` lists what is missing.
    pub const TRAINING_INCOMPLETE: &str = "TRAINING_INCOMPLETE";
    /// The supporter is on a break: no new proposals or outings until they return.
    pub const SUPPORTER_ON_BREAK: &str = "SUPPORTER_ON_BREAK";
    /// A module's prerequisites are not all completed yet; `extensions.missing` lists their ids.
    pub const PREREQUISITES_NOT_MET: &str = "PREREQUISITES_NOT_MET";
    /// A check-in carried a location but the participant has not consented to location sharing.
    pub const LOCATION_NOT_CONSENTED: &str = "LOCATION_NOT_CONSENTED";
    /// The support match between the outing's supporter and participant has ended: nothing new is
    /// planned, approved, replanned or started for them.
    pub const MATCH_ENDED: &str = "MATCH_ENDED";
    /// The support match is paused: its outings wait and cannot start until it resumes.
    pub const MATCH_PAUSED: &str = "MATCH_PAUSED";
    /// Another person on the outing cannot take this step or time; what stands in their way is
    /// told to them and to coordinators only.
    pub const MEMBER_UNAVAILABLE: &str = "MEMBER_UNAVAILABLE";

    pub const ALL: &[&str] = &[
        INVALID_TRANSITION,
        CAPACITY_FULL,
        TRAINING_INCOMPLETE,
        SUPPORTER_ON_BREAK,
        PREREQUISITES_NOT_MET,
        LOCATION_NOT_CONSENTED,
        MATCH_ENDED,
        MATCH_PAUSED,
        MEMBER_UNAVAILABLE,
    ];
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Clone, Debug)]
pub enum ApiError {
    /// No token, or a token that is unknown or revoked.
    Unauthenticated,
    /// The viewer knows the thing exists but may not do this to it.
    Forbidden { reason: &'static str },
    /// Does not exist, or the viewer may not know that it exists.
    NotFound,
    /// The input is wrong; `field` names the input field at fault.
    BadUserInput { field: &'static str, reason: String },
    /// The request is well formed but clashes with the current state.
    Conflict { reason: String },
    /// A domain rule refuses the change (CONFLICT with `extensions.reason`, one of [`reasons`]);
    /// `details` become further extensions (which cap, what is missing). Never personal data.
    Refused {
        reason: &'static str,
        message: String,
        details: Vec<(&'static str, async_graphql::Value)>,
    },
    /// Too many attempts from this client; try again after the given number of seconds.
    RateLimited { retry_after_seconds: u64 },
    /// The subscription fell this many events behind: they were dropped, and it ends.
    EventsMissed { missed: u64 },
    /// Something broke on our side. Logged with its cause; the client sees "internal error".
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn bad_input(field: &'static str, reason: impl Into<String>) -> Self {
        Self::BadUserInput {
            field,
            reason: reason.into(),
        }
    }

    pub fn refused(reason: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            reason,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Adds an extension to a refusal (no effect on other errors).
    pub fn with_detail(
        mut self,
        key: &'static str,
        value: impl Into<async_graphql::Value>,
    ) -> Self {
        if let Self::Refused { details, .. } = &mut self {
            details.push((key, value.into()));
        }
        self
    }

    pub fn internal(message: &'static str) -> Self {
        Self::Internal(Arc::new(InternalMessage(message)))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => codes::UNAUTHENTICATED,
            Self::Forbidden { .. } => codes::FORBIDDEN,
            Self::NotFound => codes::NOT_FOUND,
            Self::BadUserInput { .. } => codes::BAD_USER_INPUT,
            Self::Conflict { .. } | Self::Refused { .. } => codes::CONFLICT,
            Self::RateLimited { .. } => codes::RATE_LIMITED,
            Self::EventsMissed { .. } => codes::EVENTS_MISSED,
            Self::Internal(_) => codes::INTERNAL,
        }
    }
}

#[derive(Debug)]
struct InternalMessage(&'static str);

impl std::fmt::Display for InternalMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InternalMessage {}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if crate::store::is_unique_violation(&err) {
            return Self::Conflict {
                reason: "this conflicts with a record that already exists".into(),
            };
        }
        Self::Internal(Arc::new(err))
    }
}

impl From<UnknownValue> for ApiError {
    fn from(err: UnknownValue) -> Self {
        Self::Internal(Arc::new(err))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code();
        let mut refusal = None;
        let mut missed_events = None;
        let (message, field, retry_after) = match err {
            ApiError::Unauthenticated => (
                "sign in first: send a valid device token".to_owned(),
                None,
                None,
            ),
            ApiError::Forbidden { reason } => (format!("not allowed: {reason}"), None, None),
            ApiError::NotFound => ("not found".to_owned(), None, None),
            ApiError::BadUserInput { field, reason } => {
                (format!("{field}: {reason}"), Some(field), None)
            }
            ApiError::Conflict { reason } => (reason, None, None),
            ApiError::Refused {
                reason,
                message,
                details,
            } => {
                refusal = Some((reason, details));
                (message, None, None)
            }
            ApiError::RateLimited {
                retry_after_seconds,
            } => (
                "too many attempts; wait and try again".to_owned(),
                None,
                Some(retry_after_seconds),
            ),
            ApiError::EventsMissed { missed } => {
                missed_events = Some(missed);
                (
                    "this subscription fell behind and missed events: subscribe again and refetch"
                        .to_owned(),
                    None,
                    None,
                )
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = %ErrorChain(cause.as_ref()), "internal error");
                ("internal error".to_owned(), None, None)
            }
        };
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Some(field) = field {
                extensions.set("field", field);
            }
            if let Some(seconds) = retry_after {
                extensions.set("retryAfterSeconds", seconds);
            }
            if let Some(missed) = missed_events {
                extensions.set("missedEvents", missed);
            }
            if let Some((reason, details)) = &refusal {
                extensions.set("reason", *reason);
                for (key, value) in details {
                    extensions.set(*key, value.clone());
                }
            }
        })
    }
}

/// Prints an error with every `source()` behind it, for the log.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Gives every error without a code one: errors that async-graphql raises itself (a query that does
/// not parse, an unknown field, an `Int` out of range, a depth or complexity limit) are all faults in
/// the request, so they become BAD_USER_INPUT.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(with_codes).boxed()
    }
}

fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        ensure_code(error);
    }
    response
}

/// Sets `extensions.code` to BAD_USER_INPUT where no code is present yet.
pub fn ensure_code(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", codes::BAD_USER_INPUT);
    }
}
