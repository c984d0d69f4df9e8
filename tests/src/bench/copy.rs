//! Rows of the history in `COPY … FROM STDIN` text format, for PostgreSQL's bulk load.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use super::world::World;

/// Rows written into `COPY … FROM STDIN` text format.
#[derive(Default)]
pub(crate) struct CopyText(pub(crate) String);

impl CopyText {
    fn uuid(&mut self, value: Uuid) -> &mut Self {
        let _ = write!(self.0, "{value}\t");
        self
    }

    fn null(&mut self) -> &mut Self {
        self.0.push_str("\\N\t");
        self
    }

    fn opt_uuid(&mut self, value: Option<Uuid>) -> &mut Self {
        match value {
            Some(value) => self.uuid(value),
            None => self.null(),
        }
    }

    fn text(&mut self, value: &str) -> &mut Self {
        for character in value.chars() {
            match character {
                '\\' => self.0.push_str("\\\\"),
                '\t' => self.0.push_str("\\t"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                other => self.0.push(other),
            }
        }
        self.0.push('\t');
        self
    }

    fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    fn time(&mut self, value: DateTime<Utc>) -> &mut Self {
        self.0
            .push_str(&value.to_rfc3339_opts(SecondsFormat::Micros, true));
        self.0.push('\t');
        self
    }

    fn opt_time(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        match value {
            Some(value) => self.time(value),
            None => self.null(),
        }
    }

    fn int(&mut self, value: i64) -> &mut Self {
        let _ = write!(self.0, "{value}\t");
        self
    }

    fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    fn opt_float(&mut self, value: Option<f64>) -> &mut Self {
        match value {
            Some(value) => {
                let _ = write!(self.0, "{value}\t");
                self
            }
            None => self.null(),
        }
    }

    fn boolean(&mut self, value: bool) -> &mut Self {
        self.0.push_str(if value { "t\t" } else { "f\t" });
        self
    }

    /// Ends the row: its last tab becomes the newline.
    fn end(&mut self) {
        self.0.pop();
        self.0.push('\n');
    }
}

pub(crate) const OUTINGS_COPY: &str = "COPY outings (id, organisation_id, participant_id, lead_supporter_id, staff_companion_id, purpose, place, latitude, longitude, step_goal, planned_start, planned_end, check_in_interval_minutes, grace_minutes, status, created_by, approved_by, started_at, ended_at, cancel_reason, anxiety_before, anxiety_after, confidence_before, confidence_after, supporter_note, check_in_due_at, watch_at, watch_step, overdue_alerted, extensions, created_at, updated_at) FROM STDIN";
pub(crate) const MEMBERS_COPY: &str =
    "COPY outing_members (outing_id, person_id, role, planned_start, planned_end) FROM STDIN";
pub(crate) const CHECK_INS_COPY: &str = "COPY check_ins (id, outing_id, person_id, kind, made_at, received_at, latitude, longitude, note) FROM STDIN";

pub(crate) const NOTIFICATIONS_COPY: &str = "COPY notifications (id, organisation_id, recipient_id, kind, message, urgency, ttl_seconds, topic, is_safety, not_before, idempotency_key, status, created_at, dispatched_at, outing_id) FROM STDIN";
pub(crate) const DELIVERIES_COPY: &str = "COPY push_deliveries (id, notification_id, subscription_id, status, attempts, next_attempt_at, claimed_until, last_status, delivered_at, created_at, updated_at) FROM STDIN";

impl World {
    pub(crate) fn copy_notifications(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.reminders(&self.plan(index));
        for (row, _) in &rows {
            out.uuid(row.id)
                .uuid(row.organisation_id)
                .uuid(row.recipient_id)
                .text(&row.kind)
                .text(&row.message.to_string())
                .text(&row.urgency)
                .int(row.ttl_seconds.into())
                .opt_text(row.topic.as_deref())
                .boolean(row.is_safety)
                .time(row.not_before)
                .text(&row.idempotency_key)
                .text(&row.status)
                .time(row.created_at)
                .opt_time(row.dispatched_at)
                .opt_uuid(row.outing_id)
                .end();
        }
        rows.len()
    }

    pub(crate) fn copy_deliveries(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.reminders(&self.plan(index));
        for (_, row) in &rows {
            out.uuid(row.id)
                .uuid(row.notification_id)
                .uuid(row.subscription_id)
                .text(&row.status)
                .int(row.attempts.into())
                .time(row.next_attempt_at)
                .opt_time(row.claimed_until)
                .opt_int(row.last_status.map(i64::from))
                .opt_time(row.delivered_at)
                .time(row.created_at)
                .time(row.updated_at)
                .end();
        }
        rows.len()
    }

    pub(crate) fn copy_outing(&self, index: usize, out: &mut CopyText) -> usize {
        let row = self.outing_row(&self.plan(index));
        out.uuid(row.id)
            .uuid(row.organisation_id)
            .uuid(row.participant_id)
            .uuid(row.lead_supporter_id)
            .opt_uuid(row.staff_companion_id)
            .text(&row.purpose)
            .text(&row.place)
            .opt_float(row.latitude)
            .opt_float(row.longitude)
            .text(&row.step_goal)
            .time(row.planned_start)
            .time(row.planned_end)
            .int(row.check_in_interval_minutes.into())
            .int(row.grace_minutes.into())
            .text(&row.status)
            .uuid(row.created_by)
            .opt_uuid(row.approved_by)
            .opt_time(row.started_at)
            .opt_time(row.ended_at)
            .opt_text(row.cancel_reason.as_deref())
            .opt_int(row.anxiety_before.map(i64::from))
            .opt_int(row.anxiety_after.map(i64::from))
            .opt_int(row.confidence_before.map(i64::from))
            .opt_int(row.confidence_after.map(i64::from))
            .opt_text(row.supporter_note.as_deref())
            .opt_time(row.check_in_due_at)
            .opt_time(row.watch_at)
            .opt_text(row.watch_step.as_deref())
            .boolean(row.overdue_alerted)
            .int(row.extensions.into())
            .time(row.created_at)
            .time(row.updated_at)
            .end();
        1
    }

    pub(crate) fn copy_members(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.member_rows(&self.plan(index));
        for row in &rows {
            out.uuid(row.outing_id)
                .uuid(row.person_id)
                .text(&row.role)
                .time(row.planned_start)
                .time(row.planned_end)
                .end();
        }
        rows.len()
    }

    pub(crate) fn copy_check_ins(&self, index: usize, out: &mut CopyText) -> usize {
        let rows = self.check_in_rows(&self.plan(index));
        for row in &rows {
            out.uuid(row.id)
                .uuid(row.outing_id)
                .uuid(row.person_id)
                .text(&row.kind)
                .time(row.made_at)
                .time(row.received_at)
                .opt_float(row.latitude)
                .opt_float(row.longitude)
                .text(&row.note)
                .end();
        }
        rows.len()
    }
}
