//! People and profiles through the API: creating, updating, listing with cursors, validation.

use serde_json::json;
use tomoni_tests::spawn_app;

#[tokio::test]
async fn a_coordinator_creates_people_with_defaults_and_profiles() {
    let app = spawn_app().await;
    let (organisation, coordinator) = app.organisation_with_coordinator("Ward office").await;
    let answer = app
        .graphql(
            Some(&coordinator),
            "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person {
                id displayName role locale timeZone organisation { id }
                supporterProfile { experienceTags languages areas } participantProfile { preferences } } } }",
            json!({ "input": { "displayName": "  新町 陽子  ", "role": "SUPPORTER" } }),
        )
        .await;
    let person = &answer.data()["createPerson"]["person"];
    assert_eq!(person["displayName"], "新町 陽子");
    assert_eq!(person["locale"], "JA");
    assert_eq!(person["timeZone"], "Asia/Tokyo");
    assert_eq!(person["organisation"]["id"], organisation.to_string());
    assert_eq!(person["supporterProfile"]["experienceTags"], json!([]));
    assert_eq!(person["participantProfile"], json!(null));
}

#[tokio::test]
async fn profiles_are_updated_by_the_person_or_a_coordinator() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (supporter, participant) = app.supporter_and_participant(&coordinator).await;
    let (supporter_token, _) = app.pair(&coordinator, &supporter).await;
    let (participant_token, _) = app.pair(&coordinator, &participant).await;

    let updated = app
        .graphql(
            Some(&supporter_token),
            "mutation($input: UpdateSupporterProfileInput!) { updateSupporterProfile(input: $input) {
                person { supporterProfile { experienceTags languages areas } } } }",
            json!({ "input": { "personId": supporter, "experienceTags": ["bus", "bus", "discharge"], "languages": ["ja"] } }),
        )
        .await;
    assert_eq!(
        updated.data()["updateSupporterProfile"]["person"]["supporterProfile"],
        json!({ "experienceTags": ["bus", "discharge"], "languages": ["ja"], "areas": [] })
    );

    let consent = app
        .graphql(
            Some(&participant_token),
            "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) {
                person { participantProfile { consentsToLocationSharing preferences } } } }",
            json!({ "input": { "personId": participant, "consentsToLocationSharing": true } }),
        )
        .await;
    assert_eq!(
        consent.data()["updateParticipantProfile"]["person"]["participantProfile"],
        json!({ "consentsToLocationSharing": true, "preferences": [] })
    );

    // The wrong kind of profile is a clear input error, not a silent no-op.
    let wrong = app
        .graphql(
            Some(&coordinator),
            "mutation($input: UpdateSupporterProfileInput!) { updateSupporterProfile(input: $input) { person { id } } }",
            json!({ "input": { "personId": participant, "areas": ["Nishi-ku"] } }),
        )
        .await;
    wrong.expect_error("BAD_USER_INPUT");
    assert_eq!(wrong.body["errors"][0]["extensions"]["field"], "personId");
}

#[tokio::test]
async fn people_are_paged_with_stable_cursors() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    for index in 0..7 {
        app.create_person(&coordinator, "PARTICIPANT", &format!("Participant {index}"))
            .await;
    }
    let query = "query($after: String) { people(role: PARTICIPANT, first: 3, after: $after) {
        edges { cursor node { displayName } } nodes { id } pageInfo { hasNextPage endCursor } } }";
    let mut names = Vec::new();
    let mut after = serde_json::Value::Null;
    let mut pages = 0;
    loop {
        let answer = app
            .graphql(Some(&coordinator), query, json!({ "after": after }))
            .await;
        let people = &answer.data()["people"];
        for edge in people["edges"].as_array().unwrap() {
            names.push(edge["node"]["displayName"].as_str().unwrap().to_owned());
        }
        pages += 1;
        if !people["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = people["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).map(|index| format!("Participant {index}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn settings_are_validated() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    let before = app.snapshot().await;
    for (input, field) in [
        (
            json!({ "personId": person, "timeZone": "Osaka/Nishi" }),
            "timeZone",
        ),
        (
            json!({ "personId": person, "displayName": "   " }),
            "displayName",
        ),
        (
            json!({ "personId": person, "displayName": "x".repeat(101) }),
            "displayName",
        ),
        (
            json!({ "personId": person, "displayName": "a\u{0007}b" }),
            "displayName",
        ),
        (json!({ "personId": "not-an-id" }), "personId"),
    ] {
        let answer = app
            .graphql(
                Some(&coordinator),
                "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { id } } }",
                json!({ "input": input }),
            )
            .await;
        answer.expect_error("BAD_USER_INPUT");
        assert_eq!(
            answer.body["errors"][0]["extensions"]["field"], field,
            "{answer:?}"
        );
    }
    assert_eq!(app.snapshot().await, before);

    let answer = app
        .graphql(
            Some(&coordinator),
            "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { locale timeZone } } }",
            json!({ "input": { "personId": person, "locale": "EN", "timeZone": "Asia/Ho_Chi_Minh" } }),
        )
        .await;
    assert_eq!(
        answer.data()["updatePerson"]["person"],
        json!({ "locale": "EN", "timeZone": "Asia/Ho_Chi_Minh" })
    );
}
