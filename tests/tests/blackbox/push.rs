//! Push notifications end to end: registration, delivery to a strict local push service, retries
//! with a controllable clock, removal on 410, quiet hours, idempotency, and two dispatchers on one
//! database.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tomoni_schema::domain::clock::Clock;
use tomoni_schema::notify::{self, Message, Recipient};
use tomoni_schema::store::entities::{notifications, push_deliveries};
use tomoni_tests::push_receiver::{Mode, PushReceiver};
use tomoni_tests::{TestApp, spawn_app, spawn_app_with};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

/// An organisation with a coordinator and a participant whose phone is paired.
pub(crate) async fn participant(app: &TestApp) -> (String, String, String) {
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    let (token, _) = app.pair(&coordinator, &person).await;
    (coordinator, person, token)
}

fn manual_dispatch(settings: &mut tomoni_server::config::Settings) {
    settings.push.dispatcher = false;
}

pub(crate) async fn remind(app: &TestApp, person: &str, message: Message, key: &str) -> Uuid {
    let person_id: Uuid = person.parse().unwrap();
    let row = tomoni_schema::store::people::find(&app.db, person_id)
        .await
        .unwrap()
        .unwrap();
    notify::remind(
        &app.db,
        Recipient {
            person_id,
            organisation_id: row.organisation_id,
        },
        message,
        app.clock.now(),
        key,
        app.clock.now(),
    )
    .await
    .unwrap()
    .id()
}

pub(crate) async fn delivery_of(app: &TestApp, notification: Uuid) -> push_deliveries::Model {
    let deliveries = tomoni_schema::store::outbox::deliveries_of(&app.db, notification)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    deliveries.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_connection_check_reaches_the_phone_encrypted_signed_and_in_its_language() {
    let app = spawn_app().await;
    let receiver = PushReceiver::start().await;
    let (coordinator, person, token) = participant(&app).await;
    let key = app.graphql(None, "{ vapidPublicKey }", json!({})).await;
    assert_eq!(
        key.data()["vapidPublicKey"].as_str().unwrap().len(),
        87,
        "65 bytes, base64url"
    );
    app.register_push(&token, &receiver).await;

    let sent = app
        .graphql(
            Some(&coordinator),
            "mutation($input: SendConnectionCheckInput!) { sendConnectionCheck(input: $input) { notificationId devices } }",
            json!({ "input": { "personId": person } }),
        )
        .await;
    let sent = &sent.data()["sendConnectionCheck"];
    assert_eq!(sent["devices"], 1);

    // The running dispatcher delivers it; nothing here ticks by hand.
    let received = receiver.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1, "violations: {:?}", receiver.violations());
    let message = &received[0];
    assert_eq!(message.payload["kind"], "connection_check");
    assert_eq!(message.payload["notificationId"], sent["notificationId"]);
    assert_eq!(message.payload["title"], "Tomoni 接続テスト");
    assert_eq!(message.payload["v"], 1);
    assert_eq!(message.urgency.as_deref(), Some("normal"));
    assert_eq!(message.topic.as_deref(), Some("check"));
    assert!(message.ttl > 0 && message.ttl <= 3600);
    assert!(receiver.violations().is_empty());

    // The outcome is visible to the coordinator (after the dispatcher has recorded it).
    let query = "query($id: ID!) { person(id: $id) { isReachable pushSubscriptions { nodes { label lastOutcome lastDeliveredAt isReaching } } } }";
    for _ in 0..200 {
        let view = app
            .graphql(Some(&coordinator), query, json!({ "id": person }))
            .await;
        let node = &view.data()["person"]["pushSubscriptions"]["nodes"][0];
        if node["lastOutcome"] == "DELIVERED" {
            assert_eq!(node["label"], "Test phone");
            assert_eq!(node["isReaching"], true);
            assert_eq!(view.data()["person"]["isReachable"], true);
            let metrics = app.metrics().await;
            assert!(
                metrics.contains("tomoni_push_outcomes_total{outcome=\"sent\"} 1"),
                "{metrics}"
            );
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the delivery outcome was never recorded");
}

#[tokio::test]
async fn subscriptions_are_validated_and_the_same_endpoint_updates_one_row() {
    let app = spawn_app().await;
    let receiver = PushReceiver::start().await;
    let (_, _, token) = participant(&app).await;
    let good = receiver.subscribe();
    let register = "mutation($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { pushSubscription { id } } }";
    let before = app.snapshot().await;
    let mut bent_key = good.as_input();
    bent_key["keys"]["p256dh"] = json!(
        "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    );
    let mut short_auth = good.as_input();
    short_auth["keys"]["auth"] = json!("AAAA");
    let mut ftp = good.as_input();
    ftp["endpoint"] = json!("ftp://127.0.0.1/push");
    for (input, field) in [
        (bent_key, "keys.p256dh"),
        (short_auth, "keys.auth"),
        (ftp, "endpoint"),
    ] {
        let answer = app
            .graphql(Some(&token), register, json!({ "input": input }))
            .await;
        answer.expect_error("BAD_USER_INPUT");
        assert_eq!(answer.body["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(app.snapshot().await, before);
    let anonymous = app
        .graphql(None, register, json!({ "input": good.as_input() }))
        .await;
    anonymous.expect_error("UNAUTHENTICATED");

    let first = app
        .graphql(Some(&token), register, json!({ "input": good.as_input() }))
        .await;
    let again = app
        .graphql(Some(&token), register, json!({ "input": good.as_input() }))
        .await;
    assert_eq!(
        first.data()["registerPushSubscription"]["pushSubscription"]["id"],
        again.data()["registerPushSubscription"]["pushSubscription"]["id"]
    );
}

#[tokio::test]
async fn private_addresses_are_refused_unless_configured() {
    let app = spawn_app_with(|settings| {
        settings.push.allow_private_addresses = false;
        settings.push.allow_http = false;
    })
    .await;
    let (_, _, token) = participant(&app).await;
    let receiver = PushReceiver::start().await;
    let mut subscription = receiver.subscribe().as_input();
    for endpoint in [
        subscription["endpoint"]
            .as_str()
            .unwrap()
            .replace("http://", "https://"),
        "https://169.254.169.254/latest".to_owned(),
        "https://push.example.com/x".to_owned(),
    ] {
        subscription["endpoint"] = json!(endpoint);
        let answer = app
            .graphql(
                Some(&token),
                "mutation($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { pushSubscription { id } } }",
                json!({ "input": subscription }),
            )
            .await;
        answer.expect_error("BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn failures_are_retried_with_backoff_until_delivered() {
    let app = spawn_app_with(manual_dispatch).await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    let subscription = app.register_push(&token, &receiver).await;
    receiver.set_mode(&subscription, Mode::ServerError);
    let id = remind(
        &app,
        &person,
        Message::MatchUpdate {
            match_id: Uuid::now_v7(),
        },
        "retry-test",
    )
    .await;

    app.drain().await;
    assert_eq!(receiver.attempts(&subscription), 1);
    let delivery = delivery_of(&app, id).await;
    assert_eq!(delivery.status, "pending");
    assert_eq!(delivery.last_status, Some(500));
    let wait = delivery.next_attempt_at - app.clock.now();
    assert!(
        (12..=18).contains(&wait.num_seconds()),
        "first retry after about 15 s, got {wait}"
    );

    // Not before its time...
    app.clock.advance(chrono::Duration::seconds(5));
    app.drain().await;
    assert_eq!(receiver.attempts(&subscription), 1);
    // ...then again, twice as long the next time.
    app.clock.advance(chrono::Duration::seconds(15));
    app.drain().await;
    assert_eq!(receiver.attempts(&subscription), 2);
    let wait = delivery_of(&app, id).await.next_attempt_at - app.clock.now();
    assert!(
        (24..=36).contains(&wait.num_seconds()),
        "second retry after about 30 s, got {wait}"
    );

    receiver.set_mode(&subscription, Mode::Accept);
    app.clock.advance(chrono::Duration::seconds(40));
    app.drain().await;
    assert_eq!(receiver.received().len(), 1);
    let delivery = delivery_of(&app, id).await;
    assert_eq!(delivery.status, "delivered");
    assert_eq!(delivery.attempts, 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let app = spawn_app_with(manual_dispatch).await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    let subscription = app.register_push(&token, &receiver).await;
    receiver.set_mode(
        &subscription,
        Mode::TooManyRequests {
            retry_after_seconds: 120,
        },
    );
    let id = remind(
        &app,
        &person,
        Message::MatchUpdate {
            match_id: Uuid::now_v7(),
        },
        "429",
    )
    .await;
    app.drain().await;
    let delivery = delivery_of(&app, id).await;
    assert_eq!(delivery.last_status, Some(429));
    // PostgreSQL keeps microseconds, so the stored time can be a fraction under 120 s away.
    let wait = (delivery.next_attempt_at - app.clock.now()).num_milliseconds();
    assert!((119_990..=120_000).contains(&wait), "{wait} ms");
    app.clock.advance(chrono::Duration::seconds(60));
    app.drain().await;
    assert_eq!(receiver.attempts(&subscription), 1);
    app.clock.advance(chrono::Duration::seconds(61));
    receiver.set_mode(&subscription, Mode::Accept);
    app.drain().await;
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_push_service_that_hangs_is_timed_out_and_retried() {
    let app = spawn_app_with(|settings| {
        settings.push.dispatcher = false;
        settings.push.request_timeout_seconds = 1;
    })
    .await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    let subscription = app.register_push(&token, &receiver).await;
    receiver.set_mode(&subscription, Mode::Hang);
    let id = remind(
        &app,
        &person,
        Message::MatchUpdate {
            match_id: Uuid::now_v7(),
        },
        "hang",
    )
    .await;
    app.drain().await;
    let delivery = delivery_of(&app, id).await;
    assert_eq!(delivery.status, "pending");
    assert_eq!(delivery.last_status, None);
    assert!(delivery.next_attempt_at > app.clock.now());
}

#[tokio::test]
async fn a_gone_subscription_is_removed_and_the_person_flagged() {
    let app = spawn_app_with(manual_dispatch).await;
    let receiver = PushReceiver::start().await;
    let (coordinator, person, token) = participant(&app).await;
    let subscription = app.register_push(&token, &receiver).await;
    let flagged = "{ unreachablePeople { nodes { id } } }";
    let ids = |answer: &tomoni_tests::Answer| -> Vec<String> {
        answer.data()["unreachablePeople"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = app.graphql(Some(&coordinator), flagged, json!({})).await;
    assert!(
        !ids(&before).contains(&person),
        "reachable while the phone receives"
    );

    receiver.set_mode(&subscription, Mode::Gone);
    remind(
        &app,
        &person,
        Message::MatchUpdate {
            match_id: Uuid::now_v7(),
        },
        "gone-1",
    )
    .await;
    app.drain().await;
    let view = app
        .graphql(
            Some(&coordinator),
            "query($id: ID!) { person(id: $id) { isReachable pushSubscriptions { nodes { removedAt removedReason lastOutcome isReaching } } } }",
            json!({ "id": person }),
        )
        .await;
    let node = &view.data()["person"]["pushSubscriptions"]["nodes"][0];
    assert_eq!(node["removedReason"], "gone");
    assert_eq!(node["lastOutcome"], "GONE");
    assert_eq!(node["isReaching"], false);
    assert_eq!(view.data()["person"]["isReachable"], false);
    let after = app.graphql(Some(&coordinator), flagged, json!({})).await;
    assert!(ids(&after).contains(&person));

    // Nothing more is sent to it: the next notification finds nobody to reach.
    let next = remind(
        &app,
        &person,
        Message::MatchUpdate {
            match_id: Uuid::now_v7(),
        },
        "gone-2",
    )
    .await;
    app.drain().await;
    assert_eq!(receiver.attempts(&subscription), 1);
    use sea_orm::EntityTrait;
    let row = notifications::Entity::find_by_id(next)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "unreachable");
}

#[tokio::test]
async fn the_same_reminder_planned_twice_exists_once_and_moves() {
    let app = spawn_app_with(manual_dispatch).await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    app.register_push(&token, &receiver).await;
    let outing = Uuid::now_v7();
    let person_id: Uuid = person.parse().unwrap();
    let row = tomoni_schema::store::people::find(&app.db, person_id)
        .await
        .unwrap()
        .unwrap();
    let recipient = Recipient {
        person_id,
        organisation_id: row.organisation_id,
    };
    let now = app.clock.now();
    let plan = |at| Message::OutingReminder {
        outing_id: outing,
        starts_at: at,
    };
    let first = notify::remind(
        &app.db,
        recipient,
        plan(now + chrono::Duration::hours(2)),
        now + chrono::Duration::hours(1),
        "outing-1h",
        now,
    )
    .await
    .unwrap();
    let second = notify::remind(
        &app.db,
        recipient,
        plan(now + chrono::Duration::hours(3)),
        now + chrono::Duration::hours(2),
        "outing-1h",
        now,
    )
    .await
    .unwrap();
    assert_eq!(first.id(), second.id());
    assert!(matches!(
        second,
        tomoni_schema::store::outbox::Scheduled::Moved(_)
    ));

    app.clock.advance(chrono::Duration::minutes(90));
    app.drain().await;
    assert!(
        receiver.received().is_empty(),
        "moved to two hours from now"
    );
    app.clock.advance(chrono::Duration::minutes(31));
    app.drain().await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let starts = (now + chrono::Duration::hours(3))
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%H:%M")
        .to_string();
    assert_eq!(
        received[0].payload["title"],
        format!("外出のリマインダー: {starts}")
    );
    assert_eq!(
        received[0].topic.as_deref(),
        Some(outing.simple().to_string().as_str())
    );

    // Withdrawing after it went out changes nothing; planning again does not resend.
    assert!(!notify::withdraw(&app.db, "outing-1h").await.unwrap());
    let third = notify::remind(
        &app.db,
        recipient,
        plan(now),
        app.clock.now(),
        "outing-1h",
        app.clock.now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        third,
        tomoni_schema::store::outbox::Scheduled::AlreadyHandled(_)
    ));
    app.drain().await;
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn quiet_hours_hold_reminders_but_never_safety_messages() {
    let app = spawn_app_with(manual_dispatch).await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    app.register_push(&token, &receiver).await;
    // Quiet for the two hours around "now", in the person's own time zone (Asia/Tokyo).
    let local = app.clock.now().with_timezone(&chrono_tz::Asia::Tokyo);
    let start = (local - chrono::Duration::hours(1))
        .format("%H:%M")
        .to_string();
    let end = (local + chrono::Duration::hours(1))
        .format("%H:%M")
        .to_string();
    let settings = app
        .graphql(
            Some(&token),
            "mutation($input: UpdateNotificationSettingsInput!) { updateNotificationSettings(input: $input) { person { notificationSettings { quietHours { start end } } } } }",
            json!({ "input": { "personId": person, "quietHours": { "start": start, "end": end } } }),
        )
        .await;
    assert_eq!(
        settings.data()["updateNotificationSettings"]["person"]["notificationSettings"]["quietHours"]
            ["start"],
        start
    );

    let outing = Uuid::now_v7();
    remind(
        &app,
        &person,
        Message::OutingReminder {
            outing_id: outing,
            starts_at: Utc::now(),
        },
        "quiet-reminder",
    )
    .await;
    remind(
        &app,
        &person,
        Message::CheckInDue {
            outing_id: outing,
            due_at: Utc::now(),
        },
        "quiet-safety",
    )
    .await;
    app.drain().await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        1,
        "only the safety message goes out in quiet hours"
    );
    assert_eq!(received[0].payload["kind"], "check_in_due");
    assert_eq!(received[0].urgency.as_deref(), Some("high"));
    assert_eq!(received[0].topic, None);

    app.clock.advance(chrono::Duration::minutes(61));
    app.drain().await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        2,
        "the reminder goes out when quiet hours end"
    );
    assert_eq!(received[1].payload["kind"], "outing_reminder");

    let bad = app
        .graphql(
            Some(&token),
            "mutation($input: UpdateNotificationSettingsInput!) { updateNotificationSettings(input: $input) { person { id } } }",
            json!({ "input": { "personId": person, "quietHours": { "start": "25:00", "end": "07:00" } } }),
        )
        .await;
    bad.expect_error("BAD_USER_INPUT");
    assert_eq!(
        bad.body["errors"][0]["extensions"]["field"],
        "quietHours.start"
    );
}

#[tokio::test]
async fn a_revoked_device_stops_receiving() {
    let app = spawn_app_with(manual_dispatch).await;
    let receiver = PushReceiver::start().await;
    let (coordinator, person, _) = participant(&app).await;
    let (token, device) = app.pair(&coordinator, &person).await;
    let subscription = app.register_push(&token, &receiver).await;
    app.graphql(
        Some(&coordinator),
        "mutation($input: RevokeDeviceInput!) { revokeDevice(input: $input) { device { id } } }",
        json!({ "input": { "deviceId": device } }),
    )
    .await
    .data();
    remind(
        &app,
        &person,
        Message::MatchUpdate {
            match_id: Uuid::now_v7(),
        },
        "revoked",
    )
    .await;
    app.drain().await;
    assert_eq!(receiver.attempts(&subscription), 0);
}

#[tokio::test]
async fn two_dispatchers_on_one_database_send_everything_exactly_once() {
    // Small batches, so that the two really take turns and race for rows.
    let app = spawn_app_with(|settings| {
        settings.push.dispatcher = false;
        settings.push.batch_size = 16;
    })
    .await;
    let receiver = PushReceiver::start().await;
    let (coordinator, person, token) = participant(&app).await;
    let (second_phone, _) = app.pair(&coordinator, &person).await;
    app.register_push(&token, &receiver).await;
    app.register_push(&second_phone, &receiver).await;
    for index in 0..60 {
        remind(
            &app,
            &person,
            Message::MatchUpdate {
                match_id: Uuid::now_v7(),
            },
            &format!("pair-{index}"),
        )
        .await;
    }
    // A second dispatcher, as another server would run, on the same database.
    let other = tomoni_tests::spawn_second_dispatcher(&app).await;
    let (one, two) = tokio::join!(
        async {
            let mut total = 0;
            for _ in 0..200 {
                let report = app.dispatcher.tick().await.unwrap();
                total += report.attempts;
                if !report.did_work() {
                    break;
                }
            }
            total
        },
        async {
            let mut total = 0;
            for _ in 0..200 {
                let report = other.tick().await.unwrap();
                total += report.attempts;
                if !report.did_work() {
                    break;
                }
            }
            total
        }
    );
    app.drain().await;
    let received = receiver.received();
    assert_eq!(received.len(), 120, "{one} + {two} attempts");
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for message in &received {
        *seen
            .entry((
                message.payload["notificationId"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                message.subscription.clone(),
            ))
            .or_default() += 1;
    }
    assert_eq!(seen.len(), 120);
    assert!(seen.values().all(|count| *count == 1));
    assert!(receiver.violations().is_empty());
}

#[tokio::test]
async fn a_device_can_have_its_own_language() {
    let app = spawn_app_with(manual_dispatch).await;
    let receiver = PushReceiver::start().await;
    let (_, person, token) = participant(&app).await;
    let mut input = receiver.subscribe().as_input();
    input["locale"] = json!("EN");
    app.graphql(
        Some(&token),
        "mutation($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { pushSubscription { id } } }",
        json!({ "input": input }),
    )
    .await
    .data();
    app.register_push(&token, &receiver).await;
    remind(&app, &person, Message::ConnectionCheck, "languages").await;
    app.drain().await;
    let mut titles: Vec<String> = receiver
        .received()
        .iter()
        .map(|message| message.payload["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    assert_eq!(titles, vec!["Tomoni connection check", "Tomoni 接続テスト"]);
}
