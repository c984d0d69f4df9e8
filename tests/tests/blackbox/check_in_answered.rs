//! An answered prompt disappears: when one member checks in, the prompts still waiting to go out
//! are withdrawn, and everyone else who was already shown "check-in due" gets a small
//! `check_in_answered` push with the prompt's tag, so their app closes it. Driven tick by tick.

use std::collections::BTreeSet;

use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::notifications;
use tomoni_tests::TestApp;
use tomoni_tests::push_receiver::{PushReceiver, Received};
use uuid::Uuid;

use crate::outings::app;

async fn prompts_of(app: &TestApp, outing: &str, status: &str) -> Vec<notifications::Model> {
    notifications::Entity::find()
        .filter(notifications::Column::Kind.eq("check_in_due"))
        .filter(notifications::Column::Status.eq(status))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.message["outingId"] == outing)
        .collect()
}

fn to<'a>(received: &'a [Received], subscription: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|message| message.subscription == subscription)
        .collect()
}

fn keys(payload: &Value) -> BTreeSet<String> {
    payload.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn a_check_in_withdraws_waiting_prompts_and_closes_the_shown_ones_of_the_others() {
    let app = app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, participant_token) = app.pair_both(&coordinator, &lead, &participant).await;
    let receiver = PushReceiver::start().await;
    receiver.follow_clock(&app.clock);
    let lead_phone = app.register_push(&lead_token, &receiver).await;
    let participant_phone = app.register_push(&participant_token, &receiver).await;
    // The lead is in quiet hours for the whole test: the "answered" push must not wait for them
    // to end (it closes a safety prompt that did not wait either).
    let local = app.clock.now().with_timezone(&chrono_tz::Asia::Tokyo);
    let quiet = |offset: i64| {
        (local + Duration::hours(offset))
            .format("%H:%M")
            .to_string()
    };
    app.graphql(
        Some(&lead_token),
        "mutation($input: UpdateNotificationSettingsInput!) { updateNotificationSettings(input: $input) { person { id } } }",
        json!({ "input": { "personId": lead, "quietHours": { "start": quiet(-1), "end": quiet(3) } } }),
    )
    .await
    .data();

    let outing = app
        .start_outing(&coordinator, &participant, &lead, &lead_token, 120)
        .await;
    let start = app.clock.now();

    // Due: both are prompted, and both phones show the prompt under the outing's tag.
    app.clock.set(start + Duration::minutes(30));
    assert_eq!(app.watchdog().await.prompts, 1);
    app.drain().await;
    let received = receiver.received();
    assert_eq!(received.len(), 2, "{received:?}");
    let tag = format!("check-in:{outing}");
    for phone in [&lead_phone, &participant_phone] {
        let prompts = to(&received, &phone.id);
        assert_eq!(prompts.len(), 1);
        assert_eq!(prompts[0].payload["kind"], "check_in_due");
        assert_eq!(prompts[0].payload["tag"], tag.as_str());
    }
    // Halfway through the grace period the re-prompts are queued, not yet sent.
    app.clock.set(start + Duration::minutes(35));
    assert_eq!(app.watchdog().await.prompts, 1);
    assert_eq!(prompts_of(&app, &outing, "pending").await.len(), 2);

    // The participant checks in.
    app.clock
        .set(start + Duration::minutes(35) + Duration::seconds(20));
    app.check_in(&participant_token, &outing, "OK").await.data();
    // Nobody is asked again for what is answered.
    assert_eq!(prompts_of(&app, &outing, "pending").await, vec![]);
    assert_eq!(prompts_of(&app, &outing, "withdrawn").await.len(), 2);

    app.drain().await;
    assert!(
        receiver.violations().is_empty(),
        "{:?}",
        receiver.violations()
    );
    let received = receiver.received();
    assert_eq!(received.len(), 3, "{received:?}");
    // The participant's app knows: nothing more for them.
    assert_eq!(to(&received, &participant_phone.id).len(), 1);
    let to_lead = to(&received, &lead_phone.id);
    assert_eq!(to_lead.len(), 2);
    let answered = to_lead[1];
    assert_eq!(answered.payload["kind"], "check_in_answered");
    assert_eq!(answered.payload["tag"], to_lead[0].payload["tag"]);
    assert_eq!(answered.payload["outingId"], outing.as_str());
    assert_eq!(answered.payload["dueAt"], to_lead[0].payload["dueAt"]);
    assert_eq!(
        keys(&answered.payload),
        [
            "body",
            "dueAt",
            "kind",
            "notificationId",
            "outingId",
            "tag",
            "title",
            "v"
        ]
        .map(str::to_owned)
        .into(),
    );
    let text = answered.payload.to_string();
    for private in ["市バス", "西長堀", "ride two stops", "Haruka", "Ken"] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    // Short-lived and not urgent enough to wake a sleeping phone.
    assert!(answered.ttl <= 15 * 60, "{}", answered.ttl);
    assert_eq!(answered.urgency.as_deref(), Some("normal"));

    // Another check-in before the next deadline closes nothing more: that prompt is answered.
    app.check_in(&lead_token, &outing, "OK").await.data();
    app.drain().await;
    assert_eq!(receiver.received().len(), 3);
    let answered_rows = notifications::Entity::find()
        .filter(notifications::Column::Kind.eq("check_in_answered"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(answered_rows.len(), 1);
    assert_eq!(
        answered_rows[0].recipient_id,
        Uuid::parse_str(&lead).unwrap()
    );
}

/// A late check-in from a phone that was offline (older than the newest one) does not move the
/// deadline, so it does not answer the prompt either: the ladder goes on.
#[tokio::test]
async fn a_late_offline_check_in_answers_no_prompt() {
    let app = app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, participant_token) = app.pair_both(&coordinator, &lead, &participant).await;
    let outing = app
        .start_outing(&coordinator, &participant, &lead, &lead_token, 180)
        .await;
    let start = app.clock.now();
    let check_in =
        "mutation($input: CheckInInput!) { checkIn(input: $input) { checkIn { kind } } }";
    // A check-in at +10 (deadline now +40), prompted at +40.
    app.clock.set(start + Duration::minutes(10));
    app.check_in(&lead_token, &outing, "OK").await.data();
    app.clock.set(start + Duration::minutes(40));
    assert_eq!(app.watchdog().await.prompts, 1);
    assert_eq!(prompts_of(&app, &outing, "pending").await.len(), 2);
    // The participant's phone sends a check-in it made offline at +5.
    app.graphql(
        Some(&participant_token),
        check_in,
        json!({ "input": { "outingId": outing, "kind": "OK", "madeAt": (start + Duration::minutes(5)).to_rfc3339() } }),
    )
    .await
    .data();
    assert_eq!(prompts_of(&app, &outing, "pending").await.len(), 2);
}
