//! A participant raises a concern privately (issue 11 item 5): the coordinators on duty get a push
//! that names nobody, a coordinator closes it with a note, and no supporter ever sees it — not the
//! one it is about, not any other.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tomoni_schema::store::entities::{audit_log, concerns};
use tomoni_tests::TestApp;
use tomoni_tests::program::reason;

use crate::outings::{app, notifications_of, on_duty, world};

const RAISE: &str = "mutation($input: RaiseConcernInput!) { raiseConcern(input: $input) { concern { id status text raisedBy { id } aboutSupporter { id } closingNote } } }";
const LIST: &str = "query($status: ConcernStatus) { concerns(status: $status) { nodes { id status text aboutSupporter { id } closingNote } } }";
const CLOSE: &str = "mutation($input: CloseConcernInput!) { closeConcern(input: $input) { concern { id status closedAt closingNote } } }";
const WORDS: &str = "担当の方の言葉がきつくて、次の外出が不安です。";

async fn listed(app: &TestApp, token: &str) -> tomoni_tests::Answer {
    app.graphql(Some(token), LIST, json!({})).await
}

async fn rows(app: &TestApp) -> usize {
    concerns::Entity::find().all(&app.db).await.unwrap().len()
}

#[tokio::test]
async fn a_participant_tells_the_coordinators_privately_and_a_coordinator_closes_it() {
    let app = app().await;
    let w = world(&app).await;
    let proposed = app.propose(&w.coordinator, &w.lead, &w.participant).await;
    let match_id = proposed.data()["proposeMatch"]["match"]["id"].clone();
    app.match_step(&w.lead_token, "acceptMatch", json!({ "matchId": match_id }))
        .await
        .data();
    // One coordinator on duty: only they are told at once.
    on_duty(&app, &w).await;

    let raised = app
        .graphql(
            Some(&w.participant_token),
            RAISE,
            json!({ "input": { "text": WORDS, "aboutSupporterId": w.lead } }),
        )
        .await;
    let concern = raised.data()["raiseConcern"]["concern"].clone();
    assert_eq!(concern["status"], "OPEN");
    assert_eq!(concern["text"], WORDS);
    assert_eq!(concern["raisedBy"]["id"], w.participant.as_str());
    // The participant knows whom they named; the answer does not repeat it.
    assert!(concern["aboutSupporter"].is_null());
    let id = concern["id"].clone();

    let pushed = notifications_of(&app, "concern_raised", &w.coordinator_id).await;
    assert_eq!(pushed.len(), 1);
    let keys: Vec<&String> = pushed[0].message.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["concernId", "kind"],
        "ids only: {:?}",
        pushed[0].message
    );
    assert!(
        notifications_of(&app, "concern_raised", &w.other_coordinator_id)
            .await
            .is_empty(),
        "off duty: reads it in the list"
    );
    assert!(
        notifications_of(&app, "concern_raised", &w.lead)
            .await
            .is_empty()
    );

    // The supporter it is about sees nothing of it, anywhere.
    let by_lead = listed(&app, &w.lead_token).await;
    assert_eq!(by_lead.error_code(), Some("FORBIDDEN"));
    assert!(!by_lead.body.to_string().contains(WORDS));
    // Another participant sees none of it.
    let other = app
        .create_person(&w.coordinator, "PARTICIPANT", "Other")
        .await;
    let (other_token, _) = app.pair(&w.coordinator, &other).await;
    assert_eq!(
        listed(&app, &other_token).await.data()["concerns"]["nodes"],
        json!([])
    );
    // The participant sees their own; the coordinators see it with whom it is about.
    let own = listed(&app, &w.participant_token).await;
    assert_eq!(own.data()["concerns"]["nodes"][0]["text"], WORDS);
    for token in [&w.coordinator, &w.other_coordinator] {
        let seen = listed(&app, token).await;
        let node = &seen.data()["concerns"]["nodes"][0];
        assert_eq!(node["id"], id);
        assert_eq!(node["aboutSupporter"]["id"], w.lead.as_str());
    }

    // Only coordinators close it, once, with a note the participant does not read.
    let by_participant = app
        .graphql(
            Some(&w.participant_token),
            CLOSE,
            json!({ "input": { "concernId": id, "note": "done" } }),
        )
        .await;
    assert_eq!(by_participant.error_code(), Some("FORBIDDEN"));
    let by_supporter = app
        .graphql(
            Some(&w.lead_token),
            CLOSE,
            json!({ "input": { "concernId": id, "note": "done" } }),
        )
        .await;
    assert_eq!(by_supporter.error_code(), Some("NOT_FOUND"));
    let empty_note = app
        .graphql(
            Some(&w.coordinator),
            CLOSE,
            json!({ "input": { "concernId": id, "note": "  " } }),
        )
        .await;
    assert_eq!(empty_note.error_code(), Some("BAD_USER_INPUT"));
    let closed = app
        .graphql(
            Some(&w.coordinator),
            CLOSE,
            json!({ "input": { "concernId": id, "note": "Talked with both; new supporter from next week." } }),
        )
        .await;
    assert_eq!(closed.data()["closeConcern"]["concern"]["status"], "CLOSED");
    let again = app
        .graphql(
            Some(&w.other_coordinator),
            CLOSE,
            json!({ "input": { "concernId": id, "note": "again" } }),
        )
        .await;
    assert_eq!(reason(&again), Some("INVALID_TRANSITION"));
    let own = listed(&app, &w.participant_token).await;
    let node = &own.data()["concerns"]["nodes"][0];
    assert_eq!(node["status"], "CLOSED");
    assert!(
        node["closingNote"].is_null(),
        "the note is the coordinators'"
    );
    let open = app
        .graphql(Some(&w.coordinator), LIST, json!({ "status": "OPEN" }))
        .await;
    assert_eq!(open.data()["concerns"]["nodes"], json!([]));

    // Audited without a word of what was said.
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::SubjectKind.eq("concern"))
        .all(&app.db)
        .await
        .unwrap();
    let actions: Vec<&str> = audited.iter().map(|row| row.action.as_str()).collect();
    assert_eq!(actions, ["concern.raised", "concern.closed"]);
    assert!(audited.iter().all(|row| row.detail.is_none()));
}

#[tokio::test]
async fn a_concern_nobody_may_raise_or_about_a_stranger_changes_nothing() {
    let app = app().await;
    let w = world(&app).await;
    let attempts: [(&str, Value, &str); 4] = [
        // Supporters and coordinators do not raise concerns.
        (&w.lead_token, json!({ "text": WORDS }), "FORBIDDEN"),
        (&w.coordinator, json!({ "text": WORDS }), "FORBIDDEN"),
        // Empty, or about a supporter the participant was never matched with.
        (
            &w.participant_token,
            json!({ "text": " " }),
            "BAD_USER_INPUT",
        ),
        (
            &w.participant_token,
            json!({ "text": WORDS, "aboutSupporterId": w.lead }),
            "NOT_FOUND",
        ),
    ];
    for (token, input, code) in attempts {
        let answer = app
            .graphql(Some(token), RAISE, json!({ "input": input }))
            .await;
        assert_eq!(
            answer.error_code(),
            Some(code),
            "{input}: {:?}",
            answer.body
        );
    }
    assert_eq!(rows(&app).await, 0);
    assert!(
        notifications_of(&app, "concern_raised", &w.coordinator_id)
            .await
            .is_empty()
    );
    // Nobody on duty: every coordinator hears of a concern.
    app.graphql(
        Some(&w.participant_token),
        RAISE,
        json!({ "input": { "text": WORDS } }),
    )
    .await
    .data();
    for coordinator in [&w.coordinator_id, &w.other_coordinator_id] {
        assert_eq!(
            notifications_of(&app, "concern_raised", coordinator)
                .await
                .len(),
            1
        );
    }
}
