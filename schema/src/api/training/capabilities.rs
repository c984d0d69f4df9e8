//! What a supporter may do because of their training: read from the facts through
//! `domain::training::capabilities`, and told as TRAINING_INCOMPLETE when it stands in the way.

use async_graphql::{Context, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

use super::enums::{MissingTraining, TrainingStage};
use crate::api::context::{loaders, state};
use crate::api::error::{ApiError, ApiResult, reasons};
use crate::domain::clock::today_in;
use crate::domain::matching::ProgramSettings;
use crate::domain::training::{self as rules, Capabilities};
use crate::store;
use crate::store::entities::people;
use crate::store::training::FactsScope;

/// What a supporter may do because of their training, and what stands in the way.
#[derive(SimpleObject, Clone)]
pub struct SupporterCapabilities {
    pub(super) stage: TrainingStage,
    /// Basic training complete.
    pub(super) may_be_matched: bool,
    /// Basic and specialised training complete, follow-up not overdue.
    pub(super) may_lead_outings: bool,
    /// Basic training started (in progress or complete).
    pub(super) may_join_as_trainee: bool,
    pub(super) missing_to_be_matched: Vec<MissingTraining>,
    pub(super) missing_to_lead: Vec<MissingTraining>,
    /// When follow-up training falls due; none before specialised training is complete.
    pub(super) follow_up_due_on: Option<NaiveDate>,
    pub(super) follow_up_overdue: bool,
}

impl From<&Capabilities> for SupporterCapabilities {
    fn from(caps: &Capabilities) -> Self {
        Self {
            stage: caps.stage.into(),
            may_be_matched: caps.may_be_matched(),
            may_lead_outings: caps.may_lead_outings(),
            may_join_as_trainee: caps.may_join_as_trainee,
            missing_to_be_matched: caps
                .missing_to_be_matched
                .iter()
                .map(|m| (*m).into())
                .collect(),
            missing_to_lead: caps.missing_to_lead.iter().map(|m| (*m).into()).collect(),
            follow_up_due_on: caps.follow_up_due_on,
            follow_up_overdue: caps.follow_up_overdue(),
        }
    }
}

/// The supporter's capabilities read inside a transaction (for the rules of a mutation).
pub(crate) async fn capabilities_in(
    db: &impl ConnectionTrait,
    supporter: &people::Model,
    now: DateTime<Utc>,
) -> ApiResult<Capabilities> {
    let facts = store::training::training_facts(db, FactsScope::Supporters(&[supporter.id]))
        .await?
        .remove(&supporter.id)
        .unwrap_or_default();
    let settings = store::program::settings(db, supporter.organisation_id).await?;
    let organisation = store::organisations::find(db, supporter.organisation_id)
        .await?
        .ok_or_else(|| ApiError::internal("person without organisation"))?;
    Ok(rules::capabilities(
        &facts,
        settings.follow_up_interval_months,
        today_in(&organisation.time_zone, now),
    ))
}

/// The supporter's capabilities through the request's loaders (for reading).
pub(crate) async fn capabilities_loaded(
    ctx: &Context<'_>,
    supporter: &people::Model,
) -> ApiResult<Capabilities> {
    let loaders = loaders(ctx)?;
    let facts = loaders
        .training_facts
        .load_one(supporter.id)
        .await?
        .unwrap_or_default();
    let settings = loaders
        .program_settings
        .load_one(supporter.organisation_id)
        .await?
        .unwrap_or_default();
    let organisation = loaders
        .organisations
        .load_one(supporter.organisation_id)
        .await?
        .ok_or_else(|| ApiError::internal("person without organisation"))?;
    let now = state(ctx)?.clock.now();
    Ok(rules::capabilities(
        &facts,
        settings.follow_up_interval_months,
        today_in(&organisation.time_zone, now),
    ))
}

/// The refusal for a supporter whose training does not allow something.
pub(crate) fn training_incomplete(what: &str, missing: &[rules::Missing]) -> ApiError {
    ApiError::refused(
        reasons::TRAINING_INCOMPLETE,
        format!("the supporter's training does not allow {what} yet"),
    )
    .with_detail(
        "missing",
        async_graphql::Value::List(
            missing
                .iter()
                .map(|m| async_graphql::Value::from(m.as_str().to_uppercase()))
                .collect(),
        ),
    )
}

/// The supporter's match capacity: their own, or the organisation's.
pub(crate) fn capacity_of(own: Option<i32>, settings: &ProgramSettings) -> u32 {
    own.and_then(|value| u32::try_from(value).ok())
        .unwrap_or(settings.match_capacity)
}
