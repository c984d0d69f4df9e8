//! The on-duty rota's API, for coordinators: each coordinator's weekly pattern of shifts, dated
//! exceptions (an extra shift or time off), the rota expanded over a window, and who is on duty
//! now (the rota plus anyone on call by hand with `setOnDuty`).

use crate::api::common::logged_id;
use crate::domain::clock::id_at;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::common::{
    audit_with, bounded_instant, coordinator_in, ensure_coordinator, ensure_list_len, parse_id,
    valid,
};
use super::context::{state, viewer};
use super::error::{ApiError, ApiResult};
use crate::api::people::Person;
use crate::domain::rota::{
    self as rules, ExceptionKind, MAX_SHIFTS_PER_PATTERN, RotaError, WeeklyShift, parse_time,
};
use crate::domain::text;
use crate::store;
use crate::store::entities::{duty_exceptions, duty_shifts};

const NOTE_MAX: usize = 200;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    fn to_chrono(self) -> chrono::Weekday {
        match self {
            Self::Monday => chrono::Weekday::Mon,
            Self::Tuesday => chrono::Weekday::Tue,
            Self::Wednesday => chrono::Weekday::Wed,
            Self::Thursday => chrono::Weekday::Thu,
            Self::Friday => chrono::Weekday::Fri,
            Self::Saturday => chrono::Weekday::Sat,
            Self::Sunday => chrono::Weekday::Sun,
        }
    }

    fn from_chrono(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Self::Monday,
            chrono::Weekday::Tue => Self::Tuesday,
            chrono::Weekday::Wed => Self::Wednesday,
            chrono::Weekday::Thu => Self::Thursday,
            chrono::Weekday::Fri => Self::Friday,
            chrono::Weekday::Sat => Self::Saturday,
            chrono::Weekday::Sun => Self::Sunday,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DutyExceptionKind {
    /// On duty over the range, whatever the pattern says.
    Extra,
    /// Not on duty over the range: wins over the pattern and over extra shifts.
    Off,
}

impl From<DutyExceptionKind> for ExceptionKind {
    fn from(kind: DutyExceptionKind) -> Self {
        match kind {
            DutyExceptionKind::Extra => Self::Extra,
            DutyExceptionKind::Off => Self::Off,
        }
    }
}

#[derive(InputObject)]
pub struct DutyShiftInput {
    pub weekday: Weekday,
    /// Local "HH:MM" in the organisation's time zone.
    pub start: String,
    /// Local "HH:MM"; not after `start`: the shift ends on the next day (a night shift).
    pub end: String,
}

#[derive(InputObject)]
pub struct SetDutyPatternInput {
    /// A coordinator of the organisation.
    pub person_id: ID,
    /// Replaces the whole pattern; at most 21 shifts; empty: no weekly shifts.
    pub shifts: Vec<DutyShiftInput>,
}

#[derive(SimpleObject)]
pub struct SetDutyPatternPayload {
    pub shifts: Vec<DutyShift>,
}

#[derive(InputObject)]
pub struct AddDutyExceptionInput {
    /// A coordinator of the organisation.
    pub person_id: ID,
    pub from: DateTime<Utc>,
    /// After `from`, at most 62 days later.
    pub to: DateTime<Utc>,
    pub kind: DutyExceptionKind,
    /// At most 200 characters; shown to coordinators only.
    pub note: Option<String>,
}

#[derive(SimpleObject)]
pub struct AddDutyExceptionPayload {
    pub exception: DutyException,
}

#[derive(InputObject)]
pub struct RemoveDutyExceptionInput {
    pub exception_id: ID,
}

#[derive(SimpleObject)]
pub struct RemoveDutyExceptionPayload {
    pub removed_exception_id: ID,
}

/// One shift of a coordinator's weekly pattern.
pub struct DutyShift {
    row: duty_shifts::Model,
    shift: WeeklyShift,
}

#[Object]
impl DutyShift {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn person_id(&self) -> ID {
        ID(self.row.person_id.to_string())
    }

    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        Person::load(ctx, self.row.person_id).await
    }

    async fn weekday(&self) -> Weekday {
        Weekday::from_chrono(self.shift.weekday)
    }

    /// Local "HH:MM".
    async fn start(&self) -> String {
        rules::format_time(self.shift.start)
    }

    /// Local "HH:MM"; on the next day when `crossesMidnight`.
    async fn end(&self) -> String {
        rules::format_time(self.shift.end)
    }

    async fn crosses_midnight(&self) -> bool {
        self.shift.end < self.shift.start
    }
}

/// A dated exception to the pattern.
pub struct DutyException {
    row: duty_exceptions::Model,
}

#[Object]
impl DutyException {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    async fn person_id(&self) -> ID {
        ID(self.row.person_id.to_string())
    }

    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        Person::load(ctx, self.row.person_id).await
    }

    async fn from(&self) -> DateTime<Utc> {
        self.row.starts_at
    }

    async fn to(&self) -> DateTime<Utc> {
        self.row.ends_at
    }

    async fn kind(&self) -> ApiResult<DutyExceptionKind> {
        match ExceptionKind::parse(&self.row.kind)? {
            ExceptionKind::Extra => Ok(DutyExceptionKind::Extra),
            ExceptionKind::Off => Ok(DutyExceptionKind::Off),
        }
    }

    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }
}

/// A stretch of time a coordinator is on duty by the rota (pattern and exceptions applied).
pub struct DutyPeriod(rules::DutyPeriod);

#[Object]
impl DutyPeriod {
    async fn person_id(&self) -> ID {
        ID(self.0.person_id.to_string())
    }

    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        Person::load(ctx, self.0.person_id).await
    }

    async fn start(&self) -> DateTime<Utc> {
        self.0.start
    }

    async fn end(&self) -> DateTime<Utc> {
        self.0.end
    }
}

/// The rota over a window of at most 31 days. The lists are bounded by the window, so they are
/// plain lists, ordered (periods by start then person).
#[derive(SimpleObject)]
pub struct DutyRota {
    /// The organisation's time zone: the shifts' local times are in it.
    pub time_zone: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Who is on duty when in the window, by the rota (not counting anyone on call by hand).
    pub periods: Vec<DutyPeriod>,
    /// Everyone's weekly pattern.
    pub shifts: Vec<DutyShift>,
    /// The exceptions overlapping the window.
    pub exceptions: Vec<DutyException>,
}

fn rota_error(field: &'static str, err: RotaError) -> ApiError {
    ApiError::bad_input(field, err.to_string())
}

fn shifts_of(rows: Vec<duty_shifts::Model>) -> Vec<DutyShift> {
    rows.into_iter()
        .filter_map(|row| store::rota::shift_of(&row).map(|shift| DutyShift { row, shift }))
        .collect()
}

#[derive(Default)]
pub struct RotaQuery;

#[Object]
impl RotaQuery {
    /// The on-duty rota between `from` and `to` (at most 31 days): who is on duty when, the
    /// weekly patterns and the exceptions. Coordinators.
    async fn duty_rota(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<DutyRota> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators see the rota")?;
        // Bounded before the rota is expanded (it looks days beyond both ends).
        bounded_instant("from", from)?;
        bounded_instant("to", to)?;
        rules::check_window(from, to).map_err(|err| rota_error("to", err))?;
        let state = state(ctx)?;
        let organisation_id = viewer.organisation_id;
        let rota = store::rota::rota_of(&state.db, organisation_id, from, to).await?;
        let shifts = store::rota::shifts_in(&state.db, organisation_id).await?;
        let exceptions = store::rota::exceptions_in(&state.db, organisation_id, from, to).await?;
        Ok(DutyRota {
            time_zone: rota.zone.name().to_owned(),
            from,
            to,
            periods: rota.periods(from, to).into_iter().map(DutyPeriod).collect(),
            shifts: shifts_of(shifts),
            exceptions: exceptions
                .into_iter()
                .map(|row| DutyException { row })
                .collect(),
        })
    }

    /// The coordinators on duty now: on shift by the rota, or on call outside the rota by hand
    /// (`setOnDuty`, until turned off). Ordered by id. Coordinators.
    async fn on_duty_now(&self, ctx: &Context<'_>) -> ApiResult<Vec<Person>> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators see who is on duty")?;
        let state = state(ctx)?;
        let ids =
            store::rota::on_duty_now(&state.db, viewer.organisation_id, state.clock.now()).await?;
        let mut people = store::people::find_many(&state.db, &ids).await?;
        people.sort_by_key(|person| person.id);
        people.into_iter().map(Person::from_row).collect()
    }
}

#[derive(Default)]
pub struct RotaMutation;

#[Object]
impl RotaMutation {
    /// Replaces a coordinator's weekly pattern of shifts. Coordinators.
    #[tracing::instrument(name = "setDutyPattern", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn set_duty_pattern(
        &self,
        ctx: &Context<'_>,
        input: SetDutyPatternInput,
    ) -> ApiResult<SetDutyPatternPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators set the rota")?;
        let person_id = parse_id(&input.person_id, "personId")?;
        ensure_list_len("shifts", input.shifts.len(), MAX_SHIFTS_PER_PATTERN)?;
        let mut shifts = Vec::with_capacity(input.shifts.len());
        for shift in &input.shifts {
            let start = parse_time(&shift.start).map_err(|err| rota_error("start", err))?;
            let end = parse_time(&shift.end).map_err(|err| rota_error("end", err))?;
            shifts.push(
                WeeklyShift::new(person_id, shift.weekday.to_chrono(), start, end)
                    .map_err(|err| rota_error("end", err))?,
            );
        }
        rules::check_pattern(&shifts).map_err(|err| rota_error("shifts", err))?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = coordinator_in(&txn, &viewer, person_id, "personId").await?;
        let saved =
            store::rota::replace_pattern(&txn, viewer.organisation_id, person.id, &shifts, now)
                .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "duty.pattern_set",
            ("person", person.id),
            json!({ "shifts": saved.len() }),
        )
        .await?;
        txn.commit().await?;
        Ok(SetDutyPatternPayload {
            shifts: shifts_of(saved),
        })
    }

    /// Adds a dated exception to a coordinator's pattern: an extra shift, or time off (which wins
    /// over the pattern and over extra shifts). Coordinators.
    #[tracing::instrument(name = "addDutyException", skip_all, fields(person_id = %logged_id(&input.person_id)))]
    async fn add_duty_exception(
        &self,
        ctx: &Context<'_>,
        input: AddDutyExceptionInput,
    ) -> ApiResult<AddDutyExceptionPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators set the rota")?;
        let person_id = parse_id(&input.person_id, "personId")?;
        bounded_instant("from", input.from)?;
        bounded_instant("to", input.to)?;
        rules::check_exception(input.from, input.to).map_err(|err| rota_error("to", err))?;
        let note = input
            .note
            .as_deref()
            .map(|note| valid("note", text::note(note, NOTE_MAX, false)))
            .transpose()?
            .filter(|note| !note.is_empty());
        let kind = ExceptionKind::from(input.kind);
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let person = coordinator_in(&txn, &viewer, person_id, "personId").await?;
        let row = store::rota::insert_exception(
            &txn,
            duty_exceptions::Model {
                id: id_at(now),
                organisation_id: viewer.organisation_id,
                person_id: person.id,
                starts_at: input.from,
                ends_at: input.to,
                kind: kind.as_str().to_owned(),
                note,
                created_by: viewer.person_id,
                created_at: now,
            },
        )
        .await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "duty.exception_added",
            ("duty_exception", row.id),
            json!({
                "personId": person.id,
                "kind": kind.as_str(),
                "from": input.from,
                "to": input.to,
            }),
        )
        .await?;
        txn.commit().await?;
        Ok(AddDutyExceptionPayload {
            exception: DutyException { row },
        })
    }

    /// Removes an exception. Coordinators of its organisation.
    #[tracing::instrument(name = "removeDutyException", skip_all, fields(exception_id = %logged_id(&input.exception_id)))]
    async fn remove_duty_exception(
        &self,
        ctx: &Context<'_>,
        input: RemoveDutyExceptionInput,
    ) -> ApiResult<RemoveDutyExceptionPayload> {
        let viewer = viewer(ctx)?;
        ensure_coordinator(&viewer, "only coordinators set the rota")?;
        let id = parse_id(&input.exception_id, "exceptionId")?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let row = store::rota::find_exception(&txn, id)
            .await?
            .filter(|row| row.organisation_id == viewer.organisation_id)
            .ok_or(ApiError::NotFound)?;
        store::rota::delete_exception(&txn, row.id).await?;
        audit_with(
            &txn,
            &viewer,
            now,
            "duty.exception_removed",
            ("duty_exception", row.id),
            json!({ "personId": row.person_id, "kind": row.kind }),
        )
        .await?;
        txn.commit().await?;
        Ok(RemoveDutyExceptionPayload {
            removed_exception_id: ID(row.id.to_string()),
        })
    }
}
