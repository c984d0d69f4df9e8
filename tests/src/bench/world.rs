//! The generated world: sizes, deterministic ids, and every row of the history drawn from an
//! outing's index with its own seeded generator (the draws in a fixed order, so that every run and
//! both databases get the same history).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tomoni_schema::domain::outings::OutingStatus;
use tomoni_schema::store::entities::{
    alerts, check_ins, notifications, outing_members, outings, push_deliveries,
};
use tomoni_schema::store::outings::NewOuting;
use uuid::Uuid;

use super::rng::Rng;

pub(crate) const ORGANISATIONS: usize = 20;
const FULL_SUPPORTERS: usize = 2_000;
const FULL_PARTICIPANTS: usize = 20_000;
const FULL_OUTINGS: usize = 500_000;
/// Outings are spread over the days before today (in Japan), up to this many days back.
pub(crate) const HISTORY_DAYS: usize = 730;
/// Outings under way in the watchdog benchmark, and the window their deadlines fall in.
pub(crate) const IN_PROGRESS: usize = 10_000;
pub(crate) const DUE_SPREAD_MS: i64 = 60_000;
/// The outbox history covers the last this many days.
pub(crate) const OUTBOX_DAYS: usize = 30;

/// The kinds of generated rows, written into their ids (with a serial) so that ids never collide.
pub(crate) mod kind {
    pub const SUPPORTER: u8 = 1;
    pub const PARTICIPANT: u8 = 2;
    pub const MATCH: u8 = 3;
    pub const OUTING: u8 = 4;
    pub const CHECK_IN: u8 = 5;
    pub const ALERT: u8 = 6;
    pub const DEVICE: u8 = 7;
    pub const SUBSCRIPTION: u8 = 8;
    pub const UNDER_WAY: u8 = 9;
    pub const UNDER_WAY_AGAIN: u8 = 10;
    pub const NOTIFICATION: u8 = 11;
    pub const DELIVERY: u8 = 12;
}

pub(crate) const PURPOSES: [&str; 7] = [
    "shopping",
    "city_office",
    "transport_practice",
    "clinic_visit",
    "community_event",
    "work_trial",
    "other",
];
pub(crate) const PLACES: [&str; 8] = [
    "天王寺駅",
    "梅田のスーパー",
    "北区役所",
    "阿倍野の図書館",
    "大阪城公園",
    "なんばの商店街",
    "淀屋橋のクリニック",
    "鶴見緑地",
];
pub(crate) const GOALS: [&str; 6] = [
    "ひとりで切符を買う",
    "二駅だけひとりで乗る",
    "窓口で自分の名前を言う",
    "レジで支払いをする",
    "15分ベンチで休まずに歩く",
    "受付で予約を伝える",
];
pub(crate) const NOTES: [&str; 4] = [
    "落ち着いて過ごせました。",
    "少し疲れたので早めに帰りました。",
    "次は一駅先まで行ってみたいそうです。",
    "混雑で不安が強くなったが、深呼吸で落ち着いた。",
];
pub(crate) const CANCEL_REASONS: [&str; 5] = [
    "participant_unwell",
    "participant_choice",
    "supporter_unavailable",
    "weather",
    "rescheduled",
];
pub(crate) const TAGS: [&str; 8] = [
    "退院支援",
    "バスの練習",
    "区役所の手続き",
    "通院の付き添い",
    "買い物",
    "服薬管理",
    "ひきこもり",
    "住まい探し",
];
pub(crate) const WARDS: [&str; 6] = ["北区", "中央区", "天王寺区", "浪速区", "阿倍野区", "西成区"];

/// How much is generated: the full sizes times the scale, people in whole multiples of the
/// organisations (each organisation has the same share).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub(crate) scale: f64,
    pub(crate) supporters: usize,
    pub(crate) participants: usize,
    pub(crate) outings: usize,
}

impl Sizes {
    pub(crate) fn at(scale: f64) -> Self {
        let per_organisation = |full: usize| {
            ((full as f64 * scale / ORGANISATIONS as f64).round() as usize).max(2) * ORGANISATIONS
        };
        Self {
            scale,
            supporters: per_organisation(FULL_SUPPORTERS),
            participants: per_organisation(FULL_PARTICIPANTS),
            outings: ((FULL_OUTINGS as f64 * scale).round() as usize).max(1000),
        }
    }

    /// Two matches per participant: 40,000 at full size.
    pub(crate) fn matches(&self) -> usize {
        2 * self.participants
    }

    /// Participant `p` belongs to organisation `p % 20`, supporter `s` to `s % 20`; each
    /// participant's two matched supporters are of their organisation.
    pub(crate) fn first_supporter(&self, participant: usize) -> usize {
        participant % self.supporters
    }

    pub(crate) fn second_supporter(&self, participant: usize) -> usize {
        (participant + ORGANISATIONS) % self.supporters
    }

    /// Another supporter of the same organisation.
    pub(crate) fn colleague(&self, supporter: usize, rng: &mut Rng) -> usize {
        let others = self.supporters / ORGANISATIONS - 1;
        (supporter + ORGANISATIONS * (1 + rng.below(others))) % self.supporters
    }
}

/// A UUIDv7 at `at` whose other bits say what the row is and which one: unique by construction.
pub(crate) fn v7(at: DateTime<Utc>, kind: u8, serial: usize) -> Uuid {
    let mut bytes = [0u8; 10];
    bytes[1] = kind;
    // The top byte of a serial below 2^56 is zero: the variant bits set there lose nothing.
    bytes[2..10].copy_from_slice(&(serial as u64).to_be_bytes());
    let millis = u64::try_from(at.timestamp_millis()).expect("after 1970");
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// Japan has no daylight saving time: a local time there is UTC+9 all year.
pub(crate) fn japan(day: NaiveDate, hour: usize, minute: usize) -> DateTime<Utc> {
    let local = day
        .and_hms_opt(
            u32::try_from(hour).expect("hour"),
            u32::try_from(minute).expect("minute"),
            0,
        )
        .expect("a time of day");
    (local - Duration::hours(9)).and_utc()
}

pub(crate) fn japan_today(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(9)).date_naive()
}

/// Everything a row of the history is derived from.
pub(crate) struct World {
    pub(crate) sizes: Sizes,
    pub(crate) now: DateTime<Utc>,
    pub(crate) today: NaiveDate,
    pub(crate) people_created: DateTime<Utc>,
    pub(crate) organisations: Vec<Uuid>,
    pub(crate) coordinators: Vec<Uuid>,
}

/// One outing of the history, as drawn from its index.
pub(crate) struct Plan {
    pub(crate) index: usize,
    pub(crate) id: Uuid,
    pub(crate) participant: usize,
    pub(crate) lead: usize,
    pub(crate) trainee: Option<usize>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) created: DateTime<Utc>,
    /// When a completed outing really started; none for a cancelled one.
    pub(crate) started: Option<DateTime<Utc>>,
    /// When it ended, or was cancelled.
    pub(crate) ended: DateTime<Utc>,
    pub(crate) alert: bool,
    pub(crate) rng: Rng,
}

impl World {
    pub(crate) fn supporter(&self, index: usize) -> Uuid {
        v7(self.people_created, kind::SUPPORTER, index)
    }

    pub(crate) fn participant(&self, index: usize) -> Uuid {
        v7(self.people_created, kind::PARTICIPANT, index)
    }

    pub(crate) fn plan(&self, index: usize) -> Plan {
        let mut rng = Rng::seeded(index as u64);
        let sizes = &self.sizes;
        let participant = rng.below(sizes.participants);
        let lead = if rng.percent(70) {
            sizes.first_supporter(participant)
        } else {
            sizes.second_supporter(participant)
        };
        let trainee = rng.percent(20).then(|| sizes.colleague(lead, &mut rng));
        // In the order they happened (as a real table fills): index 0 is the oldest day.
        let days_back = HISTORY_DAYS - index * HISTORY_DAYS / sizes.outings.max(1);
        let day = self.today - Duration::days(i64::try_from(days_back).expect("days"));
        let start = japan(day, 9 + rng.below(8), 15 * rng.below(4));
        let end = start + Duration::minutes(60 + 30 * i64::try_from(rng.below(7)).expect("small"));
        let created = start - Duration::days(3) - rng.minutes(10 * 24 * 60);
        let completed = !rng.percent(8);
        let (started, ended) = if completed {
            (
                Some(start + rng.minutes(10)),
                end - Duration::minutes(15) + rng.minutes(40),
            )
        } else {
            (None, start - Duration::hours(2) - rng.minutes(70 * 60))
        };
        let alert = completed && rng.percent(1);
        Plan {
            index,
            id: v7(created, kind::OUTING, index),
            participant,
            lead,
            trainee,
            start,
            end,
            created,
            started,
            ended,
            alert,
            rng,
        }
    }

    pub(crate) fn outing_row(&self, plan: &Plan) -> outings::Model {
        let mut rng = plan.rng.clone();
        let organisation = plan.participant % ORGANISATIONS;
        let coordinator = self.coordinators[organisation];
        let completed = plan.started.is_some();
        let located = rng.percent(60);
        let (latitude, longitude) = (34.60 + rng.unit() * 0.15, 135.40 + rng.unit() * 0.20);
        let anxiety_before = 2 + i16::try_from(rng.below(4)).expect("small");
        let anxiety_after = (anxiety_before - i16::try_from(rng.below(3)).expect("small")).max(1);
        let confidence_before = 1 + i16::try_from(rng.below(4)).expect("small");
        let confidence_after =
            (confidence_before + i16::try_from(rng.below(2)).expect("small")).min(5);
        let proposed_by_lead = rng.percent(30);
        let note = (completed && rng.percent(30)).then(|| rng.pick(&NOTES).to_owned());
        let purpose = rng.pick(&PURPOSES);
        let place = rng.pick(&PLACES);
        let step_goal = rng.pick(&GOALS);
        let planned = NewOuting {
            organisation_id: self.organisations[organisation],
            participant_id: self.participant(plan.participant),
            lead_supporter_id: self.supporter(plan.lead),
            staff_companion_id: None,
            purpose,
            place,
            latitude: located.then_some(latitude),
            longitude: located.then_some(longitude),
            step_goal,
            planned_start: plan.start,
            planned_end: plan.end,
            check_in_interval_minutes: 30,
            grace_minutes: if rng.percent(20) { 15 } else { 10 },
            status: OutingStatus::Planned,
            created_by: if proposed_by_lead {
                self.supporter(plan.lead)
            } else {
                coordinator
            },
            approved_by: Some(coordinator),
        };
        // What happened since it was planned: history.
        outings::Model {
            status: if completed { "completed" } else { "cancelled" }.to_owned(),
            started_at: plan.started,
            ended_at: Some(plan.ended),
            cancel_reason: (!completed).then(|| rng.pick(&CANCEL_REASONS).to_owned()),
            anxiety_before: completed.then_some(anxiety_before),
            anxiety_after: completed.then_some(anxiety_after),
            confidence_before: completed.then_some(confidence_before),
            confidence_after: completed.then_some(confidence_after),
            supporter_note: note,
            // The last deadline stays on a completed outing; the watch is cleared.
            check_in_due_at: plan.started.map(|_| plan.ended),
            extensions: i32::from(completed && rng.percent(5)),
            updated_at: plan.ended,
            ..planned.row(plan.id, plan.created)
        }
    }

    pub(crate) fn member_rows(&self, plan: &Plan) -> Vec<outing_members::Model> {
        let mut rows = vec![
            outing_members::Model {
                outing_id: plan.id,
                person_id: self.participant(plan.participant),
                role: "participant".to_owned(),
                planned_start: plan.start,
                planned_end: plan.end,
            },
            outing_members::Model {
                outing_id: plan.id,
                person_id: self.supporter(plan.lead),
                role: "lead".to_owned(),
                planned_start: plan.start,
                planned_end: plan.end,
            },
        ];
        if let Some(trainee) = plan.trainee {
            rows.push(outing_members::Model {
                outing_id: plan.id,
                person_id: self.supporter(trainee),
                role: "trainee".to_owned(),
                planned_start: plan.start,
                planned_end: plan.end,
            });
        }
        rows
    }

    /// Four to nine check-ins (6.5 on average) spread over a completed outing.
    pub(crate) fn check_in_rows(&self, plan: &Plan) -> Vec<check_ins::Model> {
        let Some(started) = plan.started else {
            return Vec::new();
        };
        let mut rng = Rng::seeded(plan.index as u64 ^ 0x00C4_EC41_0000_0000);
        let count = 4 + rng.below(6);
        let span = (plan.ended - started).num_seconds().max(600);
        let located = rng.percent(50);
        (0..count)
            .map(|k| {
                let step = i64::try_from(k + 1).expect("small");
                let of = i64::try_from(count + 1).expect("small");
                let made_at = started + Duration::seconds(span * step / of);
                let person = match (k % 3, plan.trainee) {
                    (2, Some(trainee)) => self.supporter(trainee),
                    (1, _) => self.supporter(plan.lead),
                    _ => self.participant(plan.participant),
                };
                let delay = if rng.percent(5) {
                    300 + rng.below(1200)
                } else {
                    1 + rng.below(5)
                };
                let how = match rng.below(100) {
                    0..96 => "ok",
                    96..99 => "need_help",
                    _ => "separated",
                };
                let (latitude, longitude) = (34.60 + rng.unit() * 0.15, 135.40 + rng.unit() * 0.20);
                let note = if rng.percent(15) {
                    rng.pick(&NOTES).to_owned()
                } else {
                    String::new()
                };
                check_ins::Model {
                    id: v7(made_at, kind::CHECK_IN, plan.index * 16 + k),
                    outing_id: plan.id,
                    person_id: person,
                    kind: how.to_owned(),
                    made_at,
                    received_at: made_at + Duration::seconds(i64::try_from(delay).expect("small")),
                    latitude: located.then_some(latitude),
                    longitude: located.then_some(longitude),
                    note,
                }
            })
            .collect()
    }

    /// A missed check-in on one completed outing in a hundred, reached by phone and resolved.
    pub(crate) fn alert_row(&self, plan: &Plan) -> Option<alerts::Model> {
        let started = plan.started.filter(|_| plan.alert)?;
        let organisation = plan.participant % ORGANISATIONS;
        let raised_at = started + (plan.ended - started) / 2;
        Some(alerts::Model {
            id: v7(raised_at, kind::ALERT, plan.index),
            organisation_id: self.organisations[organisation],
            outing_id: plan.id,
            reason: "missed_check_in".to_owned(),
            tier: "on_duty".to_owned(),
            status: "resolved".to_owned(),
            raised_at,
            escalate_at: None,
            pushes: 1,
            owner_id: Some(self.coordinators[organisation]),
            acknowledged_at: Some(raised_at + Duration::minutes(3)),
            resolved_at: Some(raised_at + Duration::minutes(20)),
            resolution: Some("reached_by_phone".to_owned()),
            resolution_note: None,
            last_pushed_at: Some(raised_at),
            owner_reminded_at: None,
            answered_late_at: None,
            advise_at: None,
            emergency_advised_at: None,
            unreachable_since: None,
        })
    }

    /// The two reminders (a day and an hour before) to the participant and the lead of a
    /// completed outing, each with its delivery to the person's subscription.
    pub(crate) fn reminders(
        &self,
        plan: &Plan,
    ) -> Vec<(notifications::Model, push_deliveries::Model)> {
        if plan.started.is_none() {
            return Vec::new();
        }
        let organisation = self.organisations[plan.participant % ORGANISATIONS];
        let people = [
            (
                self.participant(plan.participant),
                self.sizes.supporters + plan.participant,
            ),
            (self.supporter(plan.lead), plan.lead),
        ];
        let mut rows = Vec::with_capacity(4);
        for (which, minutes) in [24 * 60, 60].into_iter().enumerate() {
            for (who, (person, subscription)) in people.iter().enumerate() {
                let serial = plan.index * 4 + which * 2 + who;
                let at = plan.start - Duration::minutes(minutes);
                let sent = at + Duration::seconds(2);
                let message = tomoni_schema::notify::Message::OutingReminder {
                    outing_id: plan.id,
                    starts_at: plan.start,
                };
                let notification = notifications::Model {
                    id: v7(plan.created, kind::NOTIFICATION, serial),
                    organisation_id: organisation,
                    recipient_id: *person,
                    kind: message.kind().to_owned(),
                    message: serde_json::to_value(&message).expect("json"),
                    urgency: message.urgency().as_str().to_owned(),
                    ttl_seconds: i32::try_from(message.ttl().as_secs()).expect("small"),
                    topic: message.topic(),
                    is_safety: message.is_safety(),
                    not_before: at,
                    idempotency_key: format!(
                        "outing:{}:{}:{minutes}",
                        plan.id.simple(),
                        person.simple()
                    ),
                    status: "dispatched".to_owned(),
                    created_at: plan.created,
                    dispatched_at: Some(sent),
                    outing_id: message.outing_id(),
                };
                let delivery = push_deliveries::Model {
                    id: v7(sent, kind::DELIVERY, serial),
                    notification_id: notification.id,
                    subscription_id: v7(self.now, kind::SUBSCRIPTION, *subscription),
                    status: "delivered".to_owned(),
                    attempts: 1,
                    next_attempt_at: sent,
                    claimed_until: None,
                    last_status: Some(201),
                    delivered_at: Some(sent),
                    created_at: sent,
                    updated_at: sent,
                };
                rows.push((notification, delivery));
            }
        }
        rows
    }
}
