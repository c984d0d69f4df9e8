//! The alert e-mail fallback against a real SMTP server (`tests/smtp/sink.py`, aiosmtpd): an alert
//! a coordinator's app has not confirmed showing within `safety.email_fallback_minutes` is e-mailed
//! to them once, lock-screen-safe; one whose push was shown, or that someone acknowledged, is not;
//! a relay that refuses leaves the recipient un-e-mailed and is tried again later. Coordinators'
//! addresses are set through `updatePerson` and shown only to the person and coordinators.

use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::{alert_recipients, contact_addresses};
use tomoni_server::workers::email_fallback::FallbackReport;
use tomoni_tests::smtp::SmtpSink;
use tomoni_tests::{TestApp, spawn_app_with};
use uuid::Uuid;

use super::outings::{Outing, started, world};

const CHECK_IN: &str =
    "mutation($input: CheckInInput!) { checkIn(input: $input) { alert { id } } }";
const ACKNOWLEDGE: &str = "mutation($input: AcknowledgeAlertsInput!) { acknowledgeAlerts(input: $input) { alerts { id status } } }";
const UPDATE_PERSON: &str = "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { id displayName email } } }";
const EMAIL_OF: &str = "query($id: ID!) { person(id: $id) { displayName email } }";

/// The app with the fallback pointed at `smtp_url`, its loop off (the test ticks it), 5 minutes.
async fn app_with_relay(smtp_url: &str) -> TestApp {
    let url = smtp_url.to_owned();
    spawn_app_with(move |settings| {
        settings.push.dispatcher = false;
        settings.safety.watchdog = false;
        settings.limits.redeem_attempts_per_minute = 100;
        settings.email.smtp_url = Some(tomoni_server::config::Secret::new(url));
        settings.email.from = "Tomoni <alerts@tomoni.test>".into();
        settings.email.worker = false;
        settings.safety.email_fallback_minutes = 5;
    })
    .await
}

async fn tick(app: &TestApp) -> FallbackReport {
    app.email_fallback
        .as_ref()
        .expect("the fallback exists when email.smtp_url is set")
        .tick()
        .await
        .expect("fallback tick")
}

async fn set_email(app: &TestApp, token: &str, person: &str, email: &str) {
    app.graphql(
        Some(token),
        UPDATE_PERSON,
        json!({ "input": { "personId": person, "email": email } }),
    )
    .await
    .data();
}

/// A call for help on an outing under way; returns the alert's id.
async fn help(app: &TestApp, w: &Outing) -> String {
    let outing = started(app, w).await;
    app.graphql(
        Some(&w.lead_token),
        CHECK_IN,
        json!({ "input": { "outingId": outing, "kind": "NEED_HELP" } }),
    )
    .await
    .data()["checkIn"]["alert"]["id"]
        .as_str()
        .expect("an alert was raised")
        .to_owned()
}

async fn recipient(app: &TestApp, alert: &str, person: &str) -> alert_recipients::Model {
    alert_recipients::Entity::find_by_id((
        Uuid::parse_str(alert).unwrap(),
        Uuid::parse_str(person).unwrap(),
    ))
    .one(&app.db)
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("the alert did not reach {person}"))
}

#[tokio::test]
async fn an_alert_nobody_confirmed_seeing_is_emailed_once_after_the_delay() {
    let sink = SmtpSink::start();
    let app = app_with_relay(&sink.url()).await;
    let w = world(&app).await;
    set_email(&app, &w.coordinator, &w.coordinator_id, "coord@example.org").await;
    set_email(
        &app,
        &w.coordinator,
        &w.other_coordinator_id,
        "second@example.org",
    )
    .await;
    let alert = help(&app, &w).await;
    let raised_at = app.clock.now();
    // Both coordinators were pushed; the second one's app confirmed showing it.
    recipient(&app, &alert, &w.coordinator_id).await;
    let shown = recipient(&app, &alert, &w.other_coordinator_id).await;
    let mut shown: alert_recipients::ActiveModel = shown.into();
    shown.shown_at = sea_orm::Set(Some(raised_at));
    sea_orm::ActiveModelTrait::update(shown, &app.db)
        .await
        .unwrap();

    assert_eq!(tick(&app).await, FallbackReport::default());
    app.clock
        .advance(Duration::minutes(4) + Duration::seconds(59));
    assert_eq!(
        tick(&app).await,
        FallbackReport::default(),
        "not before 5 minutes"
    );
    assert!(sink.messages().is_empty());

    app.clock.set(raised_at + Duration::minutes(5));
    assert_eq!(tick(&app).await, FallbackReport { sent: 1, failed: 0 });
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.rcpt_tos, vec!["coord@example.org".to_owned()]);
    assert_eq!(mail.mail_from, "alerts@tomoni.test");
    // The coordinator's language is Japanese.
    assert_eq!(mail.subject, "Tomoni 安全アラート");
    assert!(mail.body.contains(&alert), "{}", mail.body);
    assert!(mail.body.contains("Tomoni"), "{}", mail.body);
    for private in [
        "Haruka",
        "Ken",
        "市バス",
        "西長堀",
        "ride two stops",
        "TRANSPORT_PRACTICE",
        "Coordinator",
        "Ward office",
    ] {
        assert!(
            !mail.body.contains(private) && !mail.raw.contains(private),
            "{private} in the mail: {}",
            mail.raw
        );
    }
    assert!(
        recipient(&app, &alert, &w.coordinator_id)
            .await
            .emailed_at
            .is_some()
    );
    assert!(
        recipient(&app, &alert, &w.other_coordinator_id)
            .await
            .emailed_at
            .is_none(),
        "a shown push needs no e-mail"
    );

    // Once only.
    assert_eq!(tick(&app).await, FallbackReport::default());
    app.clock.advance(Duration::minutes(30));
    assert_eq!(tick(&app).await, FallbackReport::default());
    assert_eq!(sink.messages().len(), 1);
    assert!(
        app.metrics()
            .await
            .contains("tomoni_email_fallback_total{outcome=\"sent\"} 1")
    );
}

#[tokio::test]
async fn an_acknowledged_alert_is_not_emailed() {
    let sink = SmtpSink::start();
    let app = app_with_relay(&sink.url()).await;
    let w = world(&app).await;
    set_email(&app, &w.coordinator, &w.coordinator_id, "coord@example.org").await;
    let alert = help(&app, &w).await;
    app.graphql(
        Some(&w.other_coordinator),
        ACKNOWLEDGE,
        json!({ "input": { "alertIds": [alert] } }),
    )
    .await
    .data();
    app.clock.advance(Duration::minutes(6));
    assert_eq!(tick(&app).await, FallbackReport::default());
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_refusing_relay_leaves_the_alert_unmailed_and_is_tried_again_later() {
    let sink = SmtpSink::start();
    let app = app_with_relay(&sink.url()).await;
    let w = world(&app).await;
    set_email(&app, &w.coordinator, &w.coordinator_id, "coord@example.org").await;
    let alert = help(&app, &w).await;
    app.clock.advance(Duration::minutes(5));

    sink.refuse(true);
    assert_eq!(tick(&app).await, FallbackReport { sent: 0, failed: 1 });
    assert!(sink.messages().is_empty());
    assert!(
        recipient(&app, &alert, &w.coordinator_id)
            .await
            .emailed_at
            .is_none()
    );
    // The next try waits 30 seconds (then longer each time).
    sink.refuse(false);
    assert_eq!(tick(&app).await, FallbackReport::default());
    app.clock.advance(Duration::seconds(29));
    assert_eq!(tick(&app).await, FallbackReport::default());
    app.clock.advance(Duration::seconds(1));
    assert_eq!(tick(&app).await, FallbackReport { sent: 1, failed: 0 });
    assert_eq!(sink.messages().len(), 1);
    assert!(
        recipient(&app, &alert, &w.coordinator_id)
            .await
            .emailed_at
            .is_some()
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("tomoni_email_fallback_total{outcome=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tomoni_email_fallback_total{outcome=\"sent\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_relay_nobody_listens_on_is_a_failed_send_not_a_lost_one() {
    // A port that was free a moment ago: nothing accepts connections there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = app_with_relay(&format!("smtp://127.0.0.1:{port}")).await;
    let w = world(&app).await;
    set_email(&app, &w.coordinator, &w.coordinator_id, "coord@example.org").await;
    let alert = help(&app, &w).await;
    app.clock.advance(Duration::minutes(5));
    assert_eq!(tick(&app).await, FallbackReport { sent: 0, failed: 1 });
    assert!(
        recipient(&app, &alert, &w.coordinator_id)
            .await
            .emailed_at
            .is_none()
    );
    app.clock.advance(Duration::seconds(30));
    assert_eq!(
        tick(&app).await,
        FallbackReport { sent: 0, failed: 1 },
        "tried again"
    );
}

#[tokio::test]
async fn coordinators_set_an_email_address_that_only_they_and_its_owner_see() {
    let app = super::outings::app().await;
    let w = world(&app).await;
    set_email(
        &app,
        &w.coordinator,
        &w.other_coordinator_id,
        " second@example.org ",
    )
    .await;
    let read = |token: String, id: String| {
        let app = &app;
        async move {
            app.graphql(Some(&token), EMAIL_OF, json!({ "id": id }))
                .await
        }
    };
    let by_coordinator = read(w.coordinator.clone(), w.other_coordinator_id.clone()).await;
    assert_eq!(
        by_coordinator.data()["person"]["email"],
        "second@example.org"
    );
    let by_owner = read(w.other_coordinator.clone(), w.other_coordinator_id.clone()).await;
    assert_eq!(by_owner.data()["person"]["email"], "second@example.org");
    // Others never read it (a supporter does not even see the coordinator).
    let by_supporter = read(w.lead_token.clone(), w.other_coordinator_id.clone()).await;
    assert!(
        matches!(by_supporter.error_code(), Some("NOT_FOUND" | "FORBIDDEN")),
        "{:?}",
        by_supporter.body
    );
    assert!(!by_supporter.body.to_string().contains("second@example.org"));

    // A bad address changes nothing, not even the name given with it.
    for bad in [
        "not-an-address",
        "a@",
        "a b@example.org",
        "x@example.org\r\nBcc: y@example.org",
    ] {
        let answer = app
            .graphql(
                Some(&w.coordinator),
                UPDATE_PERSON,
                json!({ "input": { "personId": w.other_coordinator_id, "displayName": "Renamed", "email": bad } }),
            )
            .await;
        let message = answer.expect_error("BAD_USER_INPUT");
        assert_eq!(answer.body["errors"][0]["extensions"]["field"], "email");
        assert!(!message.contains('@'), "{message}");
    }
    let unchanged = read(w.coordinator.clone(), w.other_coordinator_id.clone()).await;
    assert_eq!(unchanged.data()["person"]["email"], "second@example.org");
    assert_eq!(
        unchanged.data()["person"]["displayName"],
        "Second coordinator"
    );
    // Only coordinators have one, and only coordinators set one.
    let participant = app
        .graphql(
            Some(&w.coordinator),
            UPDATE_PERSON,
            json!({ "input": { "personId": w.participant, "email": "p@example.org" } }),
        )
        .await;
    participant.expect_error("BAD_USER_INPUT");
    assert_eq!(
        participant.body["errors"][0]["extensions"]["field"],
        "email"
    );
    app.graphql(
        Some(&w.lead_token),
        UPDATE_PERSON,
        json!({ "input": { "personId": w.lead, "email": "lead@example.org" } }),
    )
    .await
    .expect_error("FORBIDDEN");
    assert_eq!(app.count(contact_addresses::Entity).await, 1);
    // Null removes it.
    app.graphql(
        Some(&w.coordinator),
        UPDATE_PERSON,
        json!({ "input": { "personId": w.other_coordinator_id, "email": null } }),
    )
    .await
    .data();
    let gone = read(w.coordinator.clone(), w.other_coordinator_id.clone()).await;
    assert!(gone.data()["person"]["email"].is_null());
    assert_eq!(
        contact_addresses::Entity::find()
            .filter(
                contact_addresses::Column::PersonId
                    .eq(Uuid::parse_str(&w.other_coordinator_id).unwrap())
            )
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        0
    );
}
