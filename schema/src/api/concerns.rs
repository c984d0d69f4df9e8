//! Concerns in the API: a participant tells the coordinators something privately (about their own
//! supporter, say) with `raiseConcern`; the coordinators on duty get a push that names nobody; a
//! coordinator closes it with a note. Supporters never see a concern. Who sees what is
//! `domain::access` (`may_raise_concern`, `may_see_concern`, `may_close_concern`).

use crate::api::common::logged_id;
use crate::domain::clock::id_at;
use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::common::{audit, parse_id, valid};
use super::context::{state, viewer};
use super::error::{ApiError, ApiResult, reasons};
use super::pagination::{connection, page_request};
use crate::api::people::Person;
use crate::domain::access::MatchStanding;
use crate::domain::people::Role as DomainRole;
use crate::domain::text;
use crate::events::DomainEvent;
use crate::notify::{self, Message, Recipient};
use crate::store;
use crate::store::entities::concerns;

/// How long a concern may be: enough to explain, short enough to read on a phone.
const CONCERN_MAX: usize = 4000;
const CLOSING_NOTE_MAX: usize = 2000;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ConcernStatus {
    /// Waiting for a coordinator.
    Open,
    /// A coordinator closed it with a note.
    Closed,
}

impl ConcernStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => store::concerns::OPEN,
            Self::Closed => store::concerns::CLOSED,
        }
    }
}

/// Something a participant told the coordinators privately. Read by the coordinators of the
/// organisation and by the participant who raised it; never by a supporter.
pub struct Concern {
    row: concerns::Model,
}

#[Object]
impl Concern {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn status(&self) -> ConcernStatus {
        if self.row.status == store::concerns::CLOSED {
            ConcernStatus::Closed
        } else {
            ConcernStatus::Open
        }
    }

    /// What the participant wrote.
    async fn text(&self) -> &str {
        &self.row.body
    }

    async fn raised_at(&self) -> DateTime<Utc> {
        self.row.raised_at
    }

    /// The participant who raised it.
    async fn raised_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        Person::load(ctx, self.row.raised_by).await
    }

    /// The supporter it is about, if the participant named one. Coordinators only (the
    /// participant knows whom they named); null to anyone else.
    async fn about_supporter(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        match self.row.about_supporter_id {
            Some(id) if viewer(ctx)?.may_close_concern(self.row.organisation_id) => {
                Person::load(ctx, id).await
            }
            _ => Ok(None),
        }
    }

    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.row.closed_at
    }

    /// The coordinator's note on closing it. Coordinators only; null to the participant.
    async fn closing_note(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        Ok(self
            .row
            .closing_note
            .as_deref()
            .filter(|_| viewer(ctx).is_ok_and(|v| v.may_close_concern(self.row.organisation_id))))
    }
}

#[derive(Default)]
pub struct ConcernQuery;

#[Object]
impl ConcernQuery {
    /// Concerns, oldest first: a coordinator's organisation's, or a participant's own. Supporters
    /// are FORBIDDEN.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn concerns(
        &self,
        ctx: &Context<'_>,
        status: Option<ConcernStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Concern>> {
        let viewer = viewer(ctx)?;
        if viewer.role == DomainRole::Supporter {
            return Err(ApiError::Forbidden {
                reason: "concerns are for the participant who raised them and coordinators",
            });
        }
        let request = page_request(first, after.as_deref())?;
        let page = store::concerns::list_visible(
            &state(ctx)?.db,
            &viewer,
            status.map(ConcernStatus::as_str),
            request,
        )
        .await?;
        connection(request, page, |row| row.id, |row| Ok(Concern { row }))
    }
}

#[derive(InputObject)]
pub struct RaiseConcernInput {
    /// What the participant wants the coordinators to know (1–4000 characters).
    pub text: String,
    /// The supporter it is about: one the participant is or was matched with.
    pub about_supporter_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CloseConcernInput {
    pub concern_id: ID,
    /// What was done (1–2000 characters); for the coordinators' record.
    pub note: String,
}

#[derive(SimpleObject)]
pub struct ConcernPayload {
    pub concern: Concern,
}

#[derive(Default)]
pub struct ConcernMutation;

#[Object]
impl ConcernMutation {
    /// A participant tells the coordinators something privately. The coordinators on duty (all of
    /// them when nobody is) get a push that names nobody; audited. Participants only.
    #[tracing::instrument(name = "raiseConcern", skip_all)]
    async fn raise_concern(
        &self,
        ctx: &Context<'_>,
        input: RaiseConcernInput,
    ) -> ApiResult<ConcernPayload> {
        let viewer = viewer(ctx)?;
        if !viewer.may_raise_concern() {
            return Err(ApiError::Forbidden {
                reason: "participants raise concerns; coordinators read them",
            });
        }
        let body = valid("text", text::note(&input.text, CONCERN_MAX, true))?;
        let about = input
            .about_supporter_id
            .as_ref()
            .map(|id| parse_id(id, "aboutSupporterId"))
            .transpose()?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        if let Some(supporter) = about {
            // Only a supporter the participant has known through a match: any other is not
            // there for them.
            let standing = store::access::match_standing(&txn, supporter, viewer.person_id).await?;
            if standing == MatchStanding::Unmatched {
                return Err(ApiError::NotFound);
            }
        }
        let concern = store::concerns::insert(
            &txn,
            concerns::Model {
                id: id_at(now),
                organisation_id: viewer.organisation_id,
                raised_by: viewer.person_id,
                about_supporter_id: about,
                body,
                status: store::concerns::OPEN.to_owned(),
                raised_at: now,
                closed_by: None,
                closed_at: None,
                closing_note: None,
            },
        )
        .await?;
        audit(
            &txn,
            &viewer,
            now,
            "concern.raised",
            ("concern", concern.id),
        )
        .await?;
        let coordinators =
            crate::safety::coordinators_on_duty(&txn, viewer.organisation_id, now).await?;
        for coordinator in &coordinators {
            notify::remind(
                &txn,
                Recipient {
                    person_id: *coordinator,
                    organisation_id: viewer.organisation_id,
                },
                Message::ConcernRaised {
                    concern_id: concern.id,
                },
                now,
                &format!("concern:{}:{}", concern.id.simple(), coordinator.simple()),
                now,
            )
            .await?;
        }
        txn.commit().await?;
        if !coordinators.is_empty() {
            state.events.publish(DomainEvent::NotificationsQueued);
        }
        Ok(ConcernPayload {
            concern: Concern { row: concern },
        })
    }

    /// Closes an open concern with a note. Coordinators of its organisation.
    #[tracing::instrument(name = "closeConcern", skip_all, fields(concern_id = %logged_id(&input.concern_id)))]
    async fn close_concern(
        &self,
        ctx: &Context<'_>,
        input: CloseConcernInput,
    ) -> ApiResult<ConcernPayload> {
        let viewer = viewer(ctx)?;
        let id = parse_id(&input.concern_id, "concernId")?;
        let note = valid("note", text::note(&input.note, CLOSING_NOTE_MAX, true))?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let concern = store::concerns::find(&txn, id)
            .await?
            .filter(|row| viewer.may_see_concern(row.organisation_id, row.raised_by))
            .ok_or(ApiError::NotFound)?;
        if !viewer.may_close_concern(concern.organisation_id) {
            return Err(ApiError::Forbidden {
                reason: "coordinators close concerns",
            });
        }
        let closed = store::concerns::close(&txn, concern.id, viewer.person_id, &note, now)
            .await?
            .ok_or_else(|| {
                ApiError::refused(reasons::INVALID_TRANSITION, "the concern is already closed")
            })?;
        audit(&txn, &viewer, now, "concern.closed", ("concern", closed.id)).await?;
        txn.commit().await?;
        Ok(ConcernPayload {
            concern: Concern { row: closed },
        })
    }
}
