//! The crisis plan's one policy (issue 11 item 4): the participant and coordinators always; the
//! members of an outing with the participant from 3 hours before its start until it ends; the
//! alert's owner while owning it. A matched supporter between outings reads nothing.

use chrono::Duration;
use serde_json::json;
use tomoni_schema::domain::clock::Clock as _;

use crate::outings::{app, world};

const PLAN: &str = "静かな場所で座る。姉に電話: 090-0000-0000";
const READ: &str = "query($id: ID!) { person(id: $id) { participantProfile { crisisPlan } } }";

/// The world's participant has a crisis plan and an active match with the world's lead.
async fn with_plan_and_match(app: &tomoni_tests::TestApp, w: &crate::outings::Outing) {
    app.graphql(
        Some(&w.coordinator),
        "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) { person { id } } }",
        json!({ "input": { "personId": w.participant, "crisisPlan": PLAN } }),
    )
    .await
    .data();
    let proposed = app.propose(&w.coordinator, &w.lead, &w.participant).await;
    let match_id = proposed.data()["proposeMatch"]["match"]["id"].clone();
    app.match_step(&w.lead_token, "acceptMatch", json!({ "matchId": match_id }))
        .await
        .data();
}

#[tokio::test]
async fn a_matched_supporter_reads_the_crisis_plan_only_around_an_outing_together() {
    let app = app().await;
    let w = world(&app).await;
    with_plan_and_match(&app, &w).await;
    let read = |token: String| {
        let app = &app;
        let participant = w.participant.clone();
        async move {
            app.graphql(Some(&token), READ, json!({ "id": participant }))
                .await
                .data()["person"]["participantProfile"]["crisisPlan"]
                .clone()
        }
    };
    // The participant and coordinators always.
    assert_eq!(read(w.participant_token.clone()).await, PLAN);
    assert_eq!(read(w.coordinator.clone()).await, PLAN);
    // Matched, but no outing: nothing.
    assert!(
        read(w.lead_token.clone()).await.is_null(),
        "no outing, no plan"
    );

    // An outing in 4 hours: not yet; 3 hours before its start: yes.
    let planned = app
        .plan_outing(&w.coordinator, &w.participant, &w.lead, 240, 60)
        .await;
    let outing = planned.data()["planOuting"]["outing"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(read(w.lead_token.clone()).await.is_null(), "4 hours ahead");
    let start = app.clock.now() + Duration::minutes(240);
    app.clock.set(start - Duration::hours(3));
    assert_eq!(read(w.lead_token.clone()).await, PLAN);
    // Under way, then ended: dropped.
    app.clock.set(start);
    app.start_planned(&w.lead_token, &outing).await;
    assert_eq!(read(w.lead_token.clone()).await, PLAN);
    app.clock.set(start + Duration::minutes(30));
    app.outing_step(
        &w.lead_token,
        "completeOuting",
        json!({ "outingId": outing, "anxietyBefore": 3, "anxietyAfter": 2, "confidenceBefore": 2, "confidenceAfter": 3, "supporterNote": "" }),
    )
    .await
    .data();
    assert!(
        read(w.lead_token.clone()).await.is_null(),
        "the outing ended"
    );
    // The coordinators still read it.
    assert_eq!(read(w.other_coordinator.clone()).await, PLAN);
}

#[tokio::test]
async fn every_read_of_a_crisis_plan_is_recorded_and_the_participant_sees_who_read_theirs() {
    let app = app().await;
    let w = world(&app).await;
    with_plan_and_match(&app, &w).await;
    const READS: &str = "query($id: ID!) { person(id: $id) { participantProfile { crisisPlanReads { readAt readerName readerRole } } } }";
    let reads = |token: String| {
        let app = &app;
        let participant = w.participant.clone();
        async move {
            app.graphql(Some(&token), READS, json!({ "id": participant }))
                .await
                .data()["person"]["participantProfile"]["crisisPlanReads"]
                .clone()
        }
    };
    assert_eq!(reads(w.participant_token.clone()).await, json!([]));

    // The coordinator reads it twice (two requests); the participant reads their own; the
    // matched supporter between outings is refused it: only the coordinator's reads count.
    for _ in 0..2 {
        app.graphql(Some(&w.coordinator), READ, json!({ "id": w.participant }))
            .await
            .data();
    }
    app.graphql(
        Some(&w.participant_token),
        READ,
        json!({ "id": w.participant }),
    )
    .await
    .data();
    let refused = app
        .graphql(Some(&w.lead_token), READ, json!({ "id": w.participant }))
        .await;
    assert!(refused.data()["person"]["participantProfile"]["crisisPlan"].is_null());

    let seen = reads(w.participant_token.clone()).await;
    let seen = seen.as_array().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for read in seen {
        assert_eq!(read["readerName"], "Coordinator");
        assert_eq!(read["readerRole"], "COORDINATOR");
        assert!(read["readAt"].is_string());
    }
    // Coordinators see the list too; the supporter does not.
    assert_eq!(
        reads(w.coordinator.clone()).await.as_array().unwrap().len(),
        2
    );
    assert!(reads(w.lead_token.clone()).await.is_null());

    // A supporter on an outing with the participant reads it: that read is recorded too, and
    // listed newest first.
    app.plan_outing(&w.coordinator, &w.participant, &w.lead, 60, 60)
        .await
        .data();
    app.clock.advance(Duration::minutes(1));
    let read = app
        .graphql(Some(&w.lead_token), READ, json!({ "id": w.participant }))
        .await;
    assert_eq!(
        read.data()["person"]["participantProfile"]["crisisPlan"],
        PLAN
    );
    let seen = reads(w.participant_token.clone()).await;
    assert_eq!(seen.as_array().unwrap().len(), 3);
    assert_eq!(seen[0]["readerName"], "Ken");
    assert_eq!(seen[0]["readerRole"], "SUPPORTER");
}
