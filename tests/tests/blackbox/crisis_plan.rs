//! The crisis plan's one policy (issue 11 item 4): the participant and coordinators always; the
//! members of an outing with the participant from 3 hours before its start until it ends; the
//! alert's owner while owning it. A matched supporter between outings reads nothing.

use chrono::Duration;
use serde_json::json;
use tomoni_schema::domain::clock::Clock as _;

use crate::outings::{app, world};

const PLAN: &str = "静かな場所で座る。姉に電話: 090-0000-0000";
const READ: &str = "query($id: ID!) { person(id: $id) { participantProfile { crisisPlan } } }";

#[tokio::test]
async fn a_matched_supporter_reads_the_crisis_plan_only_around_an_outing_together() {
    let app = app().await;
    let w = world(&app).await;
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
    app.outing_step(&w.lead_token, "startOuting", json!({ "outingId": outing }))
        .await
        .data();
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
