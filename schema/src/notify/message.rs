//! The messages Tomoni pushes, and what a lock screen may show of them: a kind, ids, and a title
//! and body that reveal nothing personal or clinical — never the purpose of an outing, never a name.
//! The app fetches details after the person unlocks.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::people::Locale;
use crate::domain::push::Urgency;

/// Version of the push payload format, sent as `v`; the app ignores payloads it does not know.
pub const PUSH_PAYLOAD_VERSION: u32 = 1;

/// What a notification is about. Stored in the outbox as JSON (ids and times only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Message {
    /// Before an outing (by default 24 hours and 1 hour before).
    OutingReminder {
        outing_id: Uuid,
        starts_at: DateTime<Utc>,
    },
    /// During an outing: a check-in is due.
    CheckInDue {
        outing_id: Uuid,
        due_at: DateTime<Utc>,
    },
    /// Someone on the outing checked in: the "check-in due" shown for `due_at` is answered, and the
    /// app closes it (the payload's `tag` is the prompt's).
    CheckInAnswered {
        outing_id: Uuid,
        due_at: DateTime<Utc>,
    },
    /// To coordinators: an outing needs attention.
    SafetyAlert { alert_id: Uuid, outing_id: Uuid },
    /// To everyone a missed-check-in alert reached: a member checked in late, so the alert
    /// stopped paging (it stays open for a coordinator to close).
    AlertAnswered { alert_id: Uuid, outing_id: Uuid },
    /// To the people on an outing: their SOS has not been acknowledged yet, so the app shows the
    /// emergency numbers (119, 110).
    SosUnanswered { alert_id: Uuid, outing_id: Uuid },
    /// A proposed or planned outing was called off (its support match ended); the app refreshes
    /// the person's day. Says nothing of why, where or with whom.
    OutingCancelled { outing_id: Uuid },
    /// A support match changed.
    MatchUpdate { match_id: Uuid },
    /// To the coordinators on duty: a participant raised a concern. Nothing of who or what.
    ConcernRaised { concern_id: Uuid },
    /// Follow-up training falls due on a date.
    TrainingDue { due_on: NaiveDate },
    /// A coordinator checks that a person's devices receive notifications.
    ConnectionCheck,
}

impl Message {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::OutingReminder { .. } => "outing_reminder",
            Self::CheckInDue { .. } => "check_in_due",
            Self::CheckInAnswered { .. } => "check_in_answered",
            Self::SafetyAlert { .. } => "safety_alert",
            Self::AlertAnswered { .. } => "alert_answered",
            Self::SosUnanswered { .. } => "sos_unanswered",
            Self::OutingCancelled { .. } => "outing_cancelled",
            Self::MatchUpdate { .. } => "match_update",
            Self::ConcernRaised { .. } => "concern_raised",
            Self::TrainingDue { .. } => "training_due",
            Self::ConnectionCheck => "connection_check",
        }
    }

    /// The outing the message is about, stored beside it so that an outing's notifications can
    /// be found (and withdrawn) together.
    pub fn outing_id(&self) -> Option<Uuid> {
        match self {
            Self::OutingReminder { outing_id, .. }
            | Self::CheckInDue { outing_id, .. }
            | Self::CheckInAnswered { outing_id, .. }
            | Self::SafetyAlert { outing_id, .. }
            | Self::AlertAnswered { outing_id, .. }
            | Self::SosUnanswered { outing_id, .. }
            | Self::OutingCancelled { outing_id } => Some(*outing_id),
            Self::MatchUpdate { .. }
            | Self::ConcernRaised { .. }
            | Self::TrainingDue { .. }
            | Self::ConnectionCheck => None,
        }
    }

    pub const KINDS: &'static [&'static str] = &[
        "outing_reminder",
        "check_in_due",
        "check_in_answered",
        "safety_alert",
        "alert_answered",
        "sos_unanswered",
        "outing_cancelled",
        "match_update",
        "concern_raised",
        "training_due",
        "connection_check",
    ];

    /// Safety messages ignore quiet hours, go out with high urgency, and are never dropped for
    /// being late.
    pub fn is_safety(&self) -> bool {
        matches!(
            self,
            Self::CheckInDue { .. }
                | Self::SafetyAlert { .. }
                | Self::AlertAnswered { .. }
                | Self::SosUnanswered { .. }
        )
    }

    /// Whether a notification of `kind` goes out during the recipient's quiet hours: safety
    /// messages do, and so does `check_in_answered`, which closes a prompt that did not wait
    /// either (it makes no sound: it replaces or closes what is already shown).
    pub fn kind_ignores_quiet_hours(kind: &str) -> bool {
        matches!(
            kind,
            "check_in_due"
                | "safety_alert"
                | "alert_answered"
                | "sos_unanswered"
                | "check_in_answered"
        )
    }

    pub fn ignores_quiet_hours(&self) -> bool {
        Self::kind_ignores_quiet_hours(self.kind())
    }

    /// The notification tag the app shows the message under (`showNotification({ tag })`): a
    /// prompt and the message that answers it share one per outing, so the answer finds and
    /// closes (or silently replaces) the prompt.
    pub fn tag(&self) -> Option<String> {
        match self {
            Self::CheckInDue { outing_id, .. } | Self::CheckInAnswered { outing_id, .. } => {
                Some(format!("check-in:{outing_id}"))
            }
            _ => None,
        }
    }

    /// `check_in_answered` is not a safety message (one never dropped for being late would keep
    /// retrying a push nobody needs once the prompt is stale): normal urgency, so it does not wake a phone that is asleep —
    /// a phone whose screen someone is looking at is awake and receives it at once, and a sleeping
    /// one gets it when it wakes, before anyone acts on the prompt.
    pub fn urgency(&self) -> Urgency {
        if self.is_safety() {
            Urgency::High
        } else {
            Urgency::Normal
        }
    }

    /// How long the push service should keep trying to reach the device. Short for safety messages
    /// (a stale "check-in due" misleads), longer for reminders.
    pub fn ttl(&self) -> Duration {
        match self {
            // As long as the prompt it answers: past that, the app shows the outing's own state.
            Self::CheckInDue { .. } | Self::CheckInAnswered { .. } => Duration::from_secs(15 * 60),
            Self::SafetyAlert { .. } | Self::AlertAnswered { .. } | Self::SosUnanswered { .. } => {
                Duration::from_secs(30 * 60)
            }
            Self::ConnectionCheck => Duration::from_secs(60 * 60),
            Self::OutingReminder { .. }
            | Self::OutingCancelled { .. }
            | Self::MatchUpdate { .. }
            | Self::ConcernRaised { .. }
            | Self::TrainingDue { .. } => Duration::from_secs(12 * 60 * 60),
        }
    }

    /// A newer message with the same topic replaces an older one still waiting at the push
    /// service. Reminders have one per subject; safety messages have none (each must arrive).
    /// At most 32 URL-safe characters (RFC 8030 §5.4): a UUID's 32 hex digits, prefixed.
    pub fn topic(&self) -> Option<String> {
        let id = match self {
            // A cancellation shares the reminders' topic: it replaces a reminder of the same
            // outing still waiting at the push service, which would announce an outing that is off.
            Self::OutingReminder { outing_id, .. } | Self::OutingCancelled { outing_id } => {
                outing_id
            }
            Self::MatchUpdate { match_id } => match_id,
            Self::ConcernRaised { concern_id } => concern_id,
            Self::TrainingDue { .. } => return Some("training".into()),
            Self::ConnectionCheck => return Some("check".into()),
            // An answer is one per prompt; the outing's id is the reminders' topic, which it must
            // not replace.
            Self::CheckInDue { .. }
            | Self::CheckInAnswered { .. }
            | Self::SafetyAlert { .. }
            | Self::AlertAnswered { .. }
            | Self::SosUnanswered { .. } => return None,
        };
        Some(id.simple().to_string())
    }

    /// The lock-screen text, in the recipient's language and time zone.
    pub fn texts(&self, locale: Locale, zone: Tz) -> (String, String) {
        let ja = locale == Locale::Ja;
        let time = |at: &DateTime<Utc>| at.with_timezone(&zone).format("%H:%M").to_string();
        let (title, body) = match self {
            Self::OutingReminder { starts_at, .. } => (
                if ja {
                    format!("外出のリマインダー: {}", time(starts_at))
                } else {
                    format!("Outing reminder: {}", time(starts_at))
                },
                if ja {
                    "詳しくはアプリで確認してください。"
                } else {
                    "Open Tomoni for details."
                },
            ),
            Self::CheckInDue { due_at, .. } => (
                if ja {
                    format!("チェックインの時間です ({})", time(due_at))
                } else {
                    format!("Check-in due ({})", time(due_at))
                },
                if ja {
                    "タップしてチェックインしてください。"
                } else {
                    "Tap to check in."
                },
            ),
            Self::CheckInAnswered { .. } => (
                if ja {
                    "チェックインが届きました".to_owned()
                } else {
                    "Check-in received".to_owned()
                },
                if ja {
                    "対応は不要です。"
                } else {
                    "No action needed."
                },
            ),
            Self::SafetyAlert { .. } => (
                if ja {
                    "安全アラート".to_owned()
                } else {
                    "Safety alert".to_owned()
                },
                if ja {
                    "対応が必要な外出があります。アプリを開いてください。"
                } else {
                    "An outing needs attention. Open Tomoni."
                },
            ),
            Self::AlertAnswered { .. } => (
                if ja {
                    "安全アラート: チェックインがありました".to_owned()
                } else {
                    "Safety alert: check-in received".to_owned()
                },
                if ja {
                    "呼び出しは止まりました。アプリで確認して閉じてください。"
                } else {
                    "Paging stopped. Open Tomoni to review and close it."
                },
            ),
            Self::SosUnanswered { .. } => (
                if ja {
                    "まだ応答がありません: 危険なときは 119 / 110 へ".to_owned()
                } else {
                    "No answer yet: call 119 or 110 if in danger".to_owned()
                },
                if ja {
                    "救急・消防 119、警察 110。アプリを開いてください。"
                } else {
                    "Ambulance and fire 119, police 110. Open Tomoni."
                },
            ),
            Self::OutingCancelled { .. } => (
                if ja {
                    "予定の外出が取り消されました".to_owned()
                } else {
                    "A planned outing was called off".to_owned()
                },
                if ja {
                    "詳しくはアプリで確認してください。"
                } else {
                    "Open Tomoni for details."
                },
            ),
            Self::MatchUpdate { .. } => (
                if ja {
                    "マッチングが更新されました".to_owned()
                } else {
                    "Your match was updated".to_owned()
                },
                if ja {
                    "詳しくはアプリで確認してください。"
                } else {
                    "Open Tomoni for details."
                },
            ),
            Self::ConcernRaised { .. } => (
                if ja {
                    "相談が届きました".to_owned()
                } else {
                    "A concern was raised".to_owned()
                },
                if ja {
                    "アプリで確認してください。"
                } else {
                    "Open Tomoni to read it."
                },
            ),
            Self::TrainingDue { due_on } => (
                if ja {
                    format!("研修のお知らせ: {}", due_on.format("%Y-%m-%d"))
                } else {
                    format!("Training reminder: {}", due_on.format("%Y-%m-%d"))
                },
                if ja {
                    "詳しくはアプリで確認してください。"
                } else {
                    "Open Tomoni for details."
                },
            ),
            Self::ConnectionCheck => (
                if ja {
                    "Tomoni 接続テスト".to_owned()
                } else {
                    "Tomoni connection check".to_owned()
                },
                if ja {
                    "この端末に通知が届いています。"
                } else {
                    "Notifications reach this device."
                },
            ),
        };
        (title, body.to_owned())
    }

    /// The JSON the device receives (encrypted) for this message.
    pub fn payload(&self, notification_id: Uuid, locale: Locale, zone: Tz) -> PushPayload {
        let (title, body) = self.texts(locale, zone);
        PushPayload {
            v: PUSH_PAYLOAD_VERSION,
            notification_id,
            message: self.clone(),
            tag: self.tag(),
            title,
            body,
        }
    }
}

/// What the app receives: `{"v":1,"notificationId":…,"kind":…, <ids>, "title":…,"body":…}`.
/// `notificationId` lets the app drop a duplicate (Web Push delivers at least once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushPayload {
    pub v: u32,
    pub notification_id: Uuid,
    #[serde(flatten)]
    pub message: Message,
    /// The notification tag to show it under (prompts and their answers); absent for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub title: String,
    pub body: String,
}

impl Message {
    /// One message of every kind, about `id` at `at`: what the unit tests and the contract test
    /// (every payload against its JSON schema in `mobile-contract/push/`) check.
    pub fn examples(id: Uuid, at: DateTime<Utc>) -> Vec<Message> {
        vec![
            Message::OutingReminder {
                outing_id: id,
                starts_at: at,
            },
            Message::CheckInDue {
                outing_id: id,
                due_at: at,
            },
            Message::CheckInAnswered {
                outing_id: id,
                due_at: at,
            },
            Message::SafetyAlert {
                alert_id: id,
                outing_id: id,
            },
            Message::AlertAnswered {
                alert_id: id,
                outing_id: id,
            },
            Message::SosUnanswered {
                alert_id: id,
                outing_id: id,
            },
            Message::OutingCancelled { outing_id: id },
            Message::MatchUpdate { match_id: id },
            Message::ConcernRaised { concern_id: id },
            Message::TrainingDue {
                due_on: at.date_naive(),
            },
            Message::ConnectionCheck,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Message> {
        let at = DateTime::parse_from_rfc3339("2026-11-24T05:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Message::examples(Uuid::now_v7(), at)
    }

    #[test]
    fn every_kind_is_listed_and_round_trips() {
        let all = every_kind();
        assert_eq!(all.len(), Message::KINDS.len());
        for message in all {
            assert!(Message::KINDS.contains(&message.kind()));
            let json = serde_json::to_value(&message).unwrap();
            assert_eq!(json["kind"], message.kind());
            assert_eq!(serde_json::from_value::<Message>(json).unwrap(), message);
        }
    }

    #[test]
    fn texts_show_local_times_and_nothing_else() {
        let reminder = &every_kind()[0];
        let (title, body) = reminder.texts(Locale::En, chrono_tz::Asia::Tokyo);
        assert_eq!(title, "Outing reminder: 14:00");
        assert_eq!(body, "Open Tomoni for details.");
        let (title, _) = reminder.texts(Locale::Ja, chrono_tz::Asia::Tokyo);
        assert_eq!(title, "外出のリマインダー: 14:00");
    }

    #[test]
    fn safety_messages_are_urgent_short_lived_and_untopiced() {
        for message in every_kind() {
            if message.is_safety() {
                assert!(message.ignores_quiet_hours());
                assert_eq!(message.urgency(), Urgency::High);
                assert!(message.ttl() <= Duration::from_secs(30 * 60));
                assert_eq!(message.topic(), None);
            } else {
                assert_eq!(message.urgency(), Urgency::Normal);
            }
            if let Some(topic) = message.topic() {
                assert!(topic.len() <= 32);
                assert!(
                    topic
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                );
            }
        }
    }

    #[test]
    fn a_prompt_and_its_answer_share_a_tag_and_the_answer_does_not_wait() {
        let all = every_kind();
        let (prompt, answer) = (&all[1], &all[2]);
        assert!(prompt.tag().is_some());
        assert_eq!(prompt.tag(), answer.tag());
        assert!(answer.ignores_quiet_hours() && !answer.is_safety());
        assert_eq!(answer.urgency(), Urgency::Normal);
        assert!(answer.ttl() <= prompt.ttl());
        let json = serde_json::to_value(answer.payload(
            Uuid::now_v7(),
            Locale::En,
            chrono_tz::Asia::Tokyo,
        ))
        .unwrap();
        assert_eq!(json["tag"], prompt.tag().unwrap());
        assert_eq!(json["title"], "Check-in received");
        // The others carry no tag at all.
        let reminder = serde_json::to_value(all[0].payload(
            Uuid::now_v7(),
            Locale::En,
            chrono_tz::Asia::Tokyo,
        ))
        .unwrap();
        assert!(reminder.get("tag").is_none());
        assert!(!Message::kind_ignores_quiet_hours("outing_reminder"));
    }

    #[test]
    fn every_safety_message_ignores_quiet_hours() {
        for message in every_kind() {
            if message.is_safety() {
                assert!(message.ignores_quiet_hours(), "{}", message.kind());
            }
        }
    }

    #[test]
    fn payloads_are_small_and_flat() {
        for message in every_kind() {
            let payload = message.payload(Uuid::now_v7(), Locale::Ja, chrono_tz::Asia::Tokyo);
            let json = serde_json::to_value(&payload).unwrap();
            assert_eq!(json["v"], 1);
            assert_eq!(json["kind"], message.kind());
            assert!(json["title"].is_string() && json["notificationId"].is_string());
            assert!(serde_json::to_vec(&payload).unwrap().len() < 1024);
        }
    }
}
