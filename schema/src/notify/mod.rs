//! Which notifications go to whom and when: typed messages, their lock-screen-safe texts, and the
//! reminder API the rest of Tomoni calls ("remind this person of this thing at this time").
//!
//! A notification is a row in the outbox written in the caller's transaction, so it exists exactly
//! when the change that caused it exists. The server's dispatcher delivers it.

pub mod email;
mod message;

pub use message::{Message, PUSH_PAYLOAD_VERSION, PushPayload};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::store::outbox::{self, NewNotification, Scheduled};

/// Who receives a notification: a person, in their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub person_id: Uuid,
    pub organisation_id: Uuid,
}

/// Plans `message` for `recipient` at `at`. The idempotency key names the reminder ("the 1-hour
/// reminder of outing X for person Y"): planning it again moves it (if not sent yet) instead of
/// adding a second one.
pub async fn remind(
    db: &impl ConnectionTrait,
    recipient: Recipient,
    message: Message,
    at: DateTime<Utc>,
    idempotency_key: &str,
    now: DateTime<Utc>,
) -> Result<Scheduled, DbErr> {
    outbox::schedule(
        db,
        NewNotification {
            organisation_id: recipient.organisation_id,
            recipient_id: recipient.person_id,
            urgency: message.urgency(),
            ttl_seconds: message.ttl().as_secs().try_into().unwrap_or(i32::MAX),
            topic: message.topic(),
            is_safety: message.is_safety(),
            kind: message.kind(),
            message: serde_json::to_value(&message).map_err(|err| DbErr::Json(err.to_string()))?,
            not_before: at,
            idempotency_key,
            outing_id: message.outing_id(),
        },
        now,
    )
    .await
}

/// Withdraws a planned reminder that has not been sent yet (the outing was cancelled, say).
/// Returns whether there was one to withdraw.
pub async fn withdraw(db: &impl ConnectionTrait, idempotency_key: &str) -> Result<bool, DbErr> {
    outbox::withdraw(db, idempotency_key).await
}

/// The local time of day follow-up reminders are planned for (quiet hours may hold them longer).
const FOLLOW_UP_REMINDER_TIME: NaiveTime = match NaiveTime::from_hms_opt(10, 0, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

fn follow_up_key(person_id: Uuid, due_on: NaiveDate, which: &str) -> String {
    format!("follow-up:{}:{due_on}:{which}", person_id.simple())
}

/// Moves a supporter's follow-up reminders (30 and 7 days before, and on the day it falls due)
/// from one due date to another: the old date's unsent reminders are withdrawn and the new date's
/// planned at 10:00 in `zone`, those still ahead of `now`. Returns whether anything was planned.
pub async fn plan_follow_up(
    db: &impl ConnectionTrait,
    recipient: Recipient,
    previous_due: Option<NaiveDate>,
    due: Option<NaiveDate>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    if previous_due == due {
        return Ok(false);
    }
    if let Some(previous) = previous_due {
        for (which, _) in crate::domain::training::follow_up_reminder_days(previous) {
            withdraw(db, &follow_up_key(recipient.person_id, previous, which)).await?;
        }
    }
    let Some(due_on) = due else {
        return Ok(false);
    };
    let mut planned = false;
    for (which, day) in crate::domain::training::follow_up_reminder_days(due_on) {
        let Some(at) = crate::domain::clock::at_local(day, FOLLOW_UP_REMINDER_TIME, zone) else {
            continue;
        };
        if at < now {
            continue;
        }
        remind(
            db,
            recipient,
            Message::TrainingDue { due_on },
            at,
            &follow_up_key(recipient.person_id, due_on, which),
            now,
        )
        .await?;
        planned = true;
    }
    Ok(planned)
}

fn reminder_key(outing_id: Uuid, person_id: Uuid, minutes: u32) -> String {
    format!(
        "outing:{}:{}:{minutes}",
        outing_id.simple(),
        person_id.simple()
    )
}

/// Plans (or moves) the outing's reminders for every member at the organisation's current
/// offsets; every other unsent reminder of the outing (offsets already past, offsets the
/// organisation no longer uses, members no longer on it) is withdrawn.
pub async fn plan_outing_reminders(
    db: &impl ConnectionTrait,
    outing: &crate::store::entities::outings::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let offsets =
        crate::store::program::outing_reminder_minutes(db, outing.organisation_id).await?;
    let members = crate::store::outings::members_of(db, &[outing.id]).await?;
    let mut planned = Vec::new();
    for member in &members {
        for minutes in &offsets {
            let at = outing.planned_start - chrono::Duration::minutes(i64::from(*minutes));
            if at < now {
                continue;
            }
            let key = reminder_key(outing.id, member.person_id, *minutes);
            remind(
                db,
                Recipient {
                    person_id: member.person_id,
                    organisation_id: outing.organisation_id,
                },
                Message::OutingReminder {
                    outing_id: outing.id,
                    starts_at: outing.planned_start,
                },
                at,
                &key,
                now,
            )
            .await?;
            planned.push(key);
        }
    }
    outbox::withdraw_of_outing(db, outing.id, OUTING_REMINDER, &planned).await?;
    Ok(!planned.is_empty())
}

const OUTING_REMINDER: &str = "outing_reminder";

/// Withdraws every unsent reminder of the outing (cancelled, or started), whatever offsets it was
/// planned with.
pub async fn withdraw_outing_reminders(
    db: &impl ConnectionTrait,
    outing: &crate::store::entities::outings::Model,
) -> Result<(), DbErr> {
    outbox::withdraw_of_outing(db, outing.id, OUTING_REMINDER, &[]).await?;
    Ok(())
}

/// Tells each of `members` but `actor` that the outing is off (`outing_cancelled`, nothing on
/// the lock screen but that). Returns whether anyone was told.
pub async fn tell_outing_cancelled(
    db: &impl ConnectionTrait,
    outing: &crate::store::entities::outings::Model,
    members: &[Uuid],
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut told = false;
    for member in members.iter().filter(|member| **member != actor) {
        remind(
            db,
            Recipient {
                person_id: *member,
                organisation_id: outing.organisation_id,
            },
            Message::OutingCancelled {
                outing_id: outing.id,
            },
            now,
            &format!(
                "outing-cancelled:{}:{}",
                outing.id.simple(),
                member.simple()
            ),
            now,
        )
        .await?;
        told = true;
    }
    Ok(told)
}

const CHECK_IN_DUE: &str = "check_in_due";

fn answered_key(outing_id: Uuid, due_at: DateTime<Utc>, person_id: Uuid) -> String {
    format!(
        "check-in-answered:{}:{}:{}",
        outing_id.simple(),
        due_at.timestamp(),
        person_id.simple()
    )
}

/// A check-in was just added to the outing: the "check-in due" prompt for the outing's current
/// deadline is answered. Prompts not sent yet are withdrawn, for everyone; every other member
/// already shown one gets a `check_in_answered` push under the same tag, so their app closes it
/// and nobody acts on an answered prompt (the one who checked in needs none: their app knows).
/// Call it before the check-in moves the deadline. A late check-in older than the newest does not
/// move the deadline, so it answers nothing. Returns how many were told.
pub async fn answer_check_in_prompts(
    db: &impl ConnectionTrait,
    outing: &crate::store::entities::outings::Model,
    check_in: &crate::store::entities::check_ins::Model,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let latest = crate::store::outings::latest_check_in_at(db, outing.id).await?;
    if latest.is_some_and(|latest| latest > check_in.made_at) {
        return Ok(0);
    }
    outbox::withdraw_of_outing(db, outing.id, CHECK_IN_DUE, &[]).await?;
    let Some(due_at) = outing.check_in_due_at else {
        return Ok(0);
    };
    let mut told: Vec<Uuid> = Vec::new();
    for prompt in outbox::dispatched_of_outing(db, outing.id, CHECK_IN_DUE).await? {
        let recipient = prompt.recipient_id;
        if recipient == check_in.person_id || told.contains(&recipient) {
            continue;
        }
        // Prompts for earlier deadlines were answered by earlier check-ins.
        let for_this_deadline = matches!(
            serde_json::from_value::<Message>(prompt.message),
            Ok(Message::CheckInDue { due_at: prompted, .. }) if prompted == due_at
        );
        if !for_this_deadline {
            continue;
        }
        remind(
            db,
            Recipient {
                person_id: recipient,
                organisation_id: outing.organisation_id,
            },
            Message::CheckInAnswered {
                outing_id: outing.id,
                due_at,
            },
            now,
            &answered_key(outing.id, due_at, recipient),
            now,
        )
        .await?;
        told.push(recipient);
    }
    Ok(told.len())
}
