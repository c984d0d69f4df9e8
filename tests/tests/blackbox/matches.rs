//! Support matches over HTTP: every lifecycle step and refusal, who sees whom once a match is
//! active, limits (also under concurrency), breaks, expiry, pushes, audit, and suggestions.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::store::entities::{audit_log, notifications, support_matches};
use tomoni_tests::program::reason;
use tomoni_tests::{TestApp, spawn_app};
use uuid::Uuid;

async fn pushes_to(app: &TestApp, person: &str) -> u64 {
    notifications::Entity::find()
        .filter(notifications::Column::RecipientId.eq(Uuid::parse_str(person).unwrap()))
        .filter(notifications::Column::Kind.eq("match_update"))
        .count(&app.db)
        .await
        .unwrap()
}

async fn audited(app: &TestApp, action: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .count(&app.db)
        .await
        .unwrap()
}

async fn sees_person(app: &TestApp, token: &str, id: &str) -> bool {
    let answer = app
        .graphql(
            Some(token),
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    match answer.error_code() {
        None => true,
        Some("NOT_FOUND") => false,
        other => panic!("unexpected {other:?}: {}", answer.body),
    }
}

async fn people_seen(app: &TestApp, token: &str) -> usize {
    app.graphql(Some(token), "{ people { nodes { id } } }", json!({}))
        .await
        .data()["people"]["nodes"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_match_goes_through_its_whole_life_and_widens_what_its_people_see() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let coordinator_id = app.viewer_id(&coordinator).await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app
        .matchable_supporter(&coordinator, &curriculum, "Ken")
        .await;
    let participant = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    let (supporter_token, _) = app.pair(&coordinator, &supporter).await;
    let (participant_token, _) = app.pair(&coordinator, &participant).await;
    assert!(!sees_person(&app, &supporter_token, &participant).await);

    let proposed = app.propose(&coordinator, &supporter, &participant).await;
    let match_id = proposed.data()["proposeMatch"]["match"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        proposed.data()["proposeMatch"]["match"]["status"],
        "PROPOSED"
    );
    assert_eq!(
        pushes_to(&app, &supporter).await,
        1,
        "the supporter is asked"
    );
    // A proposal does not yet open the participant's record to the supporter, nor the match to
    // the participant.
    assert!(!sees_person(&app, &supporter_token, &participant).await);
    let hidden = app
        .graphql(
            Some(&participant_token),
            "query($id: ID!) { supportMatch(id: $id) { id } }",
            json!({ "id": match_id }),
        )
        .await;
    hidden.expect_error("NOT_FOUND");
    // Only the supporter answers.
    app.match_step(&coordinator, "acceptMatch", json!({ "matchId": match_id }))
        .await
        .expect_error("FORBIDDEN");
    app.match_step(
        &participant_token,
        "acceptMatch",
        json!({ "matchId": match_id }),
    )
    .await
    .expect_error("NOT_FOUND");
    // Pausing a proposal is not a step of the lifecycle.
    let refused = app
        .match_step(&coordinator, "pauseMatch", json!({ "matchId": match_id }))
        .await;
    refused.expect_error("CONFLICT");
    assert_eq!(reason(&refused), Some("INVALID_TRANSITION"));
    assert_eq!(refused.body["errors"][0]["extensions"]["from"], "PROPOSED");

    let accepted = app
        .match_step(
            &supporter_token,
            "acceptMatch",
            json!({ "matchId": match_id }),
        )
        .await;
    let data = &accepted.data()["acceptMatch"]["match"];
    assert_eq!(data["status"], "ACTIVE");
    assert_eq!(data["participant"]["id"], participant.as_str());
    assert_eq!(pushes_to(&app, &participant).await, 1);
    assert_eq!(
        pushes_to(&app, &coordinator_id).await,
        1,
        "whoever proposed hears the answer"
    );
    // Active: the supporter sees the participant and the participant their supporter.
    assert!(sees_person(&app, &supporter_token, &participant).await);
    assert!(sees_person(&app, &participant_token, &supporter).await);
    assert_eq!(people_seen(&app, &supporter_token).await, 2);
    assert_eq!(people_seen(&app, &participant_token).await, 2);
    let again = app
        .match_step(
            &supporter_token,
            "acceptMatch",
            json!({ "matchId": match_id }),
        )
        .await;
    assert_eq!(reason(&again), Some("INVALID_TRANSITION"));

    // Coordinators steer the rest.
    app.match_step(
        &supporter_token,
        "pauseMatch",
        json!({ "matchId": match_id }),
    )
    .await
    .expect_error("FORBIDDEN");
    let paused = app
        .match_step(
            &coordinator,
            "pauseMatch",
            json!({ "matchId": match_id, "reason": "CIRCUMSTANCES_CHANGED" }),
        )
        .await;
    assert_eq!(paused.data()["pauseMatch"]["match"]["status"], "PAUSED");
    assert_eq!(
        paused.data()["pauseMatch"]["match"]["endReason"],
        "CIRCUMSTANCES_CHANGED"
    );
    assert!(!sees_person(&app, &supporter_token, &participant).await);
    let resumed = app
        .match_step(&coordinator, "resumeMatch", json!({ "matchId": match_id }))
        .await;
    assert_eq!(resumed.data()["resumeMatch"]["match"]["status"], "ACTIVE");
    assert!(
        resumed.data()["resumeMatch"]["match"]["endReason"].is_null(),
        "a resumed match keeps no pause reason"
    );
    let twice = app
        .match_step(&coordinator, "resumeMatch", json!({ "matchId": match_id }))
        .await;
    assert_eq!(reason(&twice), Some("INVALID_TRANSITION"));

    // Ending needs a reason and a reflection; a blank one changes nothing.
    let before = app.snapshot().await;
    app.match_step(
        &coordinator,
        "endMatch",
        json!({ "matchId": match_id, "reason": "GOALS_REACHED", "closingReflection": "   " }),
    )
    .await
    .expect_error("BAD_USER_INPUT");
    assert_eq!(app.snapshot().await, before);
    let ended = app
        .match_step(
            &coordinator,
            "endMatch",
            json!({ "matchId": match_id, "reason": "GOALS_REACHED", "closingReflection": "バスに一人で乗れるようになった。\n最後に一緒に振り返った。" }),
        )
        .await;
    let data = &ended.data()["endMatch"]["match"];
    assert_eq!(data["status"], "ENDED");
    assert_eq!(data["endReason"], "GOALS_REACHED");
    assert!(data["closingReflection"].as_str().unwrap().contains('\n'));
    let after_end = app
        .match_step(&coordinator, "resumeMatch", json!({ "matchId": match_id }))
        .await;
    assert_eq!(reason(&after_end), Some("INVALID_TRANSITION"));
    assert!(!sees_person(&app, &supporter_token, &participant).await);
    assert!(!sees_person(&app, &participant_token, &supporter).await);
    // The participant still sees the ended match itself.
    let visible = app
        .graphql(
            Some(&participant_token),
            "{ supportMatches { nodes { status } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        visible.data()["supportMatches"]["nodes"][0]["status"],
        "ENDED"
    );

    for action in [
        "match.proposed",
        "match.accepted",
        "match.paused",
        "match.resumed",
        "match.ended",
    ] {
        assert_eq!(audited(&app, action).await, 1, "{action} audited once");
    }
    // Pause, resume and end each told both members.
    assert_eq!(pushes_to(&app, &supporter).await, 4);
    assert_eq!(pushes_to(&app, &participant).await, 4);
}

#[tokio::test]
async fn declined_and_expired_proposals_free_the_pair() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let coordinator_id = app.viewer_id(&coordinator).await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app
        .matchable_supporter(&coordinator, &curriculum, "Ken")
        .await;
    let participant = app.create_person(&coordinator, "PARTICIPANT", "Yu").await;
    let (supporter_token, _) = app.pair(&coordinator, &supporter).await;

    let first = app.propose(&coordinator, &supporter, &participant).await;
    let first_id = first.data()["proposeMatch"]["match"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let duplicate = app.propose(&coordinator, &supporter, &participant).await;
    duplicate.expect_error("CONFLICT");
    let declined = app
        .match_step(
            &supporter_token,
            "declineMatch",
            json!({ "matchId": first_id, "reason": "SUPPORTER_UNAVAILABLE" }),
        )
        .await;
    assert_eq!(
        declined.data()["declineMatch"]["match"]["status"],
        "DECLINED"
    );
    assert_eq!(pushes_to(&app, &coordinator_id).await, 1);

    // A new proposal is possible; unanswered for 14 days, it expires.
    let second = app.propose(&coordinator, &supporter, &participant).await;
    let second_id = second.data()["proposeMatch"]["match"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock
        .advance(chrono::Duration::days(14) + chrono::Duration::seconds(1));
    let late = app
        .match_step(
            &supporter_token,
            "acceptMatch",
            json!({ "matchId": second_id }),
        )
        .await;
    assert_eq!(reason(&late), Some("INVALID_TRANSITION"));
    assert_eq!(late.body["errors"][0]["extensions"]["from"], "EXPIRED");
    // The sweep marks it, audits it and tells whoever proposed; running it again does nothing.
    let expired = tomoni_schema::jobs::matches::expire_proposals(&app.db, app.clock.now())
        .await
        .unwrap();
    assert_eq!(expired, 1);
    assert_eq!(
        tomoni_schema::jobs::matches::expire_proposals(&app.db, app.clock.now())
            .await
            .unwrap(),
        0
    );
    let row = support_matches::Entity::find_by_id(Uuid::parse_str(&second_id).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "expired");
    assert_eq!(audited(&app, "match.expired").await, 1);
    assert_eq!(pushes_to(&app, &coordinator_id).await, 2);
    let third = app.propose(&coordinator, &supporter, &participant).await;
    let third_id = third.data()["proposeMatch"]["match"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // One that expires before the sweep sees it, found by a new proposal for the pair instead:
    // audited and told just the same.
    app.clock
        .advance(chrono::Duration::days(14) + chrono::Duration::seconds(1));
    app.propose(&coordinator, &supporter, &participant)
        .await
        .data();
    let row = support_matches::Entity::find_by_id(Uuid::parse_str(&third_id).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "expired");
    assert_eq!(audited(&app, "match.expired").await, 2);
    assert_eq!(pushes_to(&app, &coordinator_id).await, 3);
}

#[tokio::test]
async fn limits_training_and_breaks_refuse_with_their_reasons_and_change_nothing() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Community group").await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app
        .matchable_supporter(&coordinator, &curriculum, "Ken")
        .await;
    let untrained = app.create_person(&coordinator, "SUPPORTER", "New").await;
    let mut participants = Vec::new();
    for name in ["A", "B", "C"] {
        participants.push(app.create_person(&coordinator, "PARTICIPANT", name).await);
    }

    let before = app.snapshot().await;
    let refused = app
        .propose(&coordinator, &untrained, &participants[0])
        .await;
    refused.expect_error("CONFLICT");
    assert_eq!(reason(&refused), Some("TRAINING_INCOMPLETE"));
    assert_eq!(
        refused.body["errors"][0]["extensions"]["missing"],
        json!(["BASIC_COURSE"])
    );
    assert_eq!(app.snapshot().await, before);

    let settings = app
        .graphql(
            Some(&coordinator),
            "mutation($input: UpdateSupporterSettingsInput!) { updateSupporterSettings(input: $input) { supporter { supporterProfile { matchCapacity } } } }",
            json!({ "input": { "supporterId": supporter, "matchCapacity": 1 } }),
        )
        .await;
    assert_eq!(
        settings.data()["updateSupporterSettings"]["supporter"]["supporterProfile"]["matchCapacity"],
        1
    );
    app.propose(&coordinator, &supporter, &participants[0])
        .await
        .data();
    let before = app.snapshot().await;
    let full = app
        .propose(&coordinator, &supporter, &participants[1])
        .await;
    full.expect_error("CONFLICT");
    assert_eq!(reason(&full), Some("CAPACITY_FULL"));
    assert_eq!(
        full.body["errors"][0]["extensions"]["cap"],
        "ACTIVE_MATCHES"
    );
    assert_eq!(full.body["errors"][0]["extensions"]["limit"], 1);
    assert_eq!(app.snapshot().await, before);

    // Back to the organisation's capacity (3 by default).
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateSupporterSettingsInput!) { updateSupporterSettings(input: $input) { supporter { id } } }",
        json!({ "input": { "supporterId": supporter, "useOrganisationCapacity": true } }),
    )
    .await
    .data();
    let second = app
        .propose(&coordinator, &supporter, &participants[1])
        .await;
    let second_id = second.data()["proposeMatch"]["match"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (supporter_token, _) = app.pair(&coordinator, &supporter).await;
    app.match_step(
        &supporter_token,
        "acceptMatch",
        json!({ "matchId": second_id }),
    )
    .await
    .data();

    // A break: the supporter takes it themselves; active matches pause, coordinators are told.
    let other = app.create_person(&coordinator, "SUPPORTER", "Other").await;
    let (other_token, _) = app.pair(&coordinator, &other).await;
    let take_break = "mutation($input: TakeBreakInput!) { takeBreak(input: $input) { supporter { supporterProfile { isOnBreak } } pausedMatches { id status } } }";
    app.graphql(
        Some(&other_token),
        take_break,
        json!({ "input": { "supporterId": supporter } }),
    )
    .await
    .expect_error("FORBIDDEN");
    let on_break = app
        .graphql(
            Some(&supporter_token),
            take_break,
            json!({ "input": { "supporterId": supporter } }),
        )
        .await;
    let data = &on_break.data()["takeBreak"];
    assert_eq!(data["supporter"]["supporterProfile"]["isOnBreak"], true);
    assert_eq!(data["pausedMatches"][0]["id"], second_id.as_str());
    assert_eq!(data["pausedMatches"][0]["status"], "PAUSED");
    let coordinator_id = app.viewer_id(&coordinator).await;
    assert!(
        pushes_to(&app, &coordinator_id).await >= 2,
        "coordinators told of the pause"
    );
    let twice = app
        .graphql(
            Some(&supporter_token),
            take_break,
            json!({ "input": { "supporterId": supporter } }),
        )
        .await;
    assert_eq!(reason(&twice), Some("INVALID_TRANSITION"));
    let during = app
        .propose(&coordinator, &supporter, &participants[2])
        .await;
    assert_eq!(reason(&during), Some("SUPPORTER_ON_BREAK"));
    let resume = app
        .match_step(&coordinator, "resumeMatch", json!({ "matchId": second_id }))
        .await;
    assert_eq!(reason(&resume), Some("SUPPORTER_ON_BREAK"));
    app.graphql(
        Some(&supporter_token),
        "mutation($input: ReturnFromBreakInput!) { returnFromBreak(input: $input) { supporter { supporterProfile { isOnBreak } } } }",
        json!({ "input": { "supporterId": supporter } }),
    )
    .await
    .data();
    let resumed = app
        .match_step(&coordinator, "resumeMatch", json!({ "matchId": second_id }))
        .await;
    assert_eq!(resumed.data()["resumeMatch"]["match"]["status"], "ACTIVE");
    assert_eq!(audited(&app, "supporter.break_started").await, 1);
    assert_eq!(audited(&app, "supporter.break_ended").await, 1);
}

#[tokio::test]
async fn concurrent_proposals_never_exceed_capacity() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app
        .matchable_supporter(&coordinator, &curriculum, "Ken")
        .await;
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateSupporterSettingsInput!) { updateSupporterSettings(input: $input) { supporter { id } } }",
        json!({ "input": { "supporterId": supporter, "matchCapacity": 2 } }),
    )
    .await
    .data();
    let mut participants = Vec::new();
    for index in 0..8 {
        participants.push(
            app.create_person(&coordinator, "PARTICIPANT", &format!("P{index}"))
                .await,
        );
    }
    let answers = futures_util::future::join_all(
        participants
            .iter()
            .map(|participant| app.propose(&coordinator, &supporter, participant)),
    )
    .await;
    let accepted = answers.iter().filter(|a| a.error_code().is_none()).count();
    let full = answers
        .iter()
        .filter(|a| reason(a) == Some("CAPACITY_FULL"))
        .count();
    assert_eq!((accepted, full), (2, 6), "{answers:?}");
    let open = support_matches::Entity::find()
        .filter(support_matches::Column::SupporterId.eq(Uuid::parse_str(&supporter).unwrap()))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(open, 2);
}

#[tokio::test]
async fn suggestions_rank_with_reasons_and_leave_out_who_cannot_take_the_match() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let curriculum = app.curriculum(&coordinator).await;
    let profile = |id: &str, tags: &[&str], languages: &[&str], areas: &[&str]| json!({ "input": { "personId": id, "experienceTags": tags, "languages": languages, "areas": areas } });
    let update_supporter = "mutation($input: UpdateSupporterProfileInput!) { updateSupporterProfile(input: $input) { person { id } } }";
    let close = app
        .matchable_supporter(&coordinator, &curriculum, "Close")
        .await;
    let far = app
        .matchable_supporter(&coordinator, &curriculum, "Far")
        .await;
    let full = app
        .matchable_supporter(&coordinator, &curriculum, "Full")
        .await;
    let untrained = app
        .create_person(&coordinator, "SUPPORTER", "Untrained")
        .await;
    for (id, tags) in [
        (&close, &["退院支援", "バスの練習"][..]),
        (&far, &[][..]),
        (&full, &["退院支援", "バスの練習"][..]),
        (&untrained, &["退院支援", "バスの練習"][..]),
    ] {
        app.graphql(
            Some(&coordinator),
            update_supporter,
            profile(id, tags, &["ja"], &["西区"]),
        )
        .await
        .data();
    }
    let participant = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) { person { id } } }",
        json!({ "input": { "personId": participant, "experienceTags": ["退院支援", "バスの練習"], "languages": ["ja"], "areas": ["西区"], "preferences": ["バスの練習"] } }),
    )
    .await
    .data();
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateSupporterSettingsInput!) { updateSupporterSettings(input: $input) { supporter { id } } }",
        json!({ "input": { "supporterId": full, "matchCapacity": 1 } }),
    )
    .await
    .data();
    let someone = app
        .create_person(&coordinator, "PARTICIPANT", "Someone")
        .await;
    app.propose(&coordinator, &full, &someone).await.data();

    let query = "query($id: ID!, $first: Int) { matchSuggestions(participantId: $id, first: $first) { supporter { id } score reasons sharedExperienceTags placesTaken matchCapacity } }";
    let answer = app
        .graphql(Some(&coordinator), query, json!({ "id": participant }))
        .await;
    let suggestions = answer.data()["matchSuggestions"].as_array().unwrap();
    let order: Vec<&str> = suggestions
        .iter()
        .map(|s| s["supporter"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        vec![close.as_str(), far.as_str()],
        "full and untrained are left out"
    );
    assert_eq!(
        suggestions[0]["reasons"],
        json!([
            "共通の経験タグ 2 件",
            "本人の希望に 1 件合う",
            "日本語を話す",
            "同じ地域: 西区",
            "3 枠中 0 枠使用"
        ])
    );
    // Once proposed, the supporter is no longer suggested for this participant.
    app.propose(&coordinator, &close, &participant).await.data();
    let answer = app
        .graphql(
            Some(&coordinator),
            query,
            json!({ "id": participant, "first": 5 }),
        )
        .await;
    assert_eq!(
        answer.data()["matchSuggestions"][0]["supporter"]["id"],
        far.as_str()
    );
    // Coordinators only; bounded.
    let (supporter_token, _) = app.pair(&coordinator, &far).await;
    app.graphql(Some(&supporter_token), query, json!({ "id": participant }))
        .await
        .expect_error("FORBIDDEN");
    app.graphql(
        Some(&coordinator),
        query,
        json!({ "id": participant, "first": 51 }),
    )
    .await
    .expect_error("BAD_USER_INPUT");
}

#[tokio::test]
async fn other_organisations_cannot_see_or_touch_matches() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (_, stranger) = app.organisation_with_coordinator("Elsewhere").await;
    let curriculum = app.curriculum(&coordinator).await;
    let supporter = app
        .matchable_supporter(&coordinator, &curriculum, "Ken")
        .await;
    let participant = app.create_person(&coordinator, "PARTICIPANT", "Yu").await;
    let proposed = app.propose(&coordinator, &supporter, &participant).await;
    let match_id = proposed.data()["proposeMatch"]["match"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.propose(&stranger, &supporter, &participant)
        .await
        .expect_error("NOT_FOUND");
    app.match_step(&stranger, "pauseMatch", json!({ "matchId": match_id }))
        .await
        .expect_error("NOT_FOUND");
    app.graphql(
        Some(&stranger),
        "query($id: ID!) { supportMatch(id: $id) { id } }",
        json!({ "id": match_id }),
    )
    .await
    .expect_error("NOT_FOUND");
    let listed = app
        .graphql(
            Some(&stranger),
            "{ supportMatches { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed.data()["supportMatches"]["nodes"], json!([]));
    app.graphql(
        Some(&stranger),
        "query($id: ID!) { matchSuggestions(participantId: $id) { score } }",
        json!({ "id": participant }),
    )
    .await
    .expect_error("NOT_FOUND");
}
