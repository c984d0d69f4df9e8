//! Signing in without passwords: issue a code, redeem it once for a device token, expire, revoke.

use serde_json::json;
use tomoni_tests::spawn_app;

const VIEWER: &str = "{ viewer { id role } }";

#[tokio::test]
async fn a_participant_pairs_with_a_code_and_the_token_signs_them_in() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    let code = app.issue_code(&coordinator, &person).await;
    assert_eq!(code.len(), 9, "two groups of four: {code}");

    // Typed in lower case without the hyphen: still accepted.
    let typed = code.replace('-', "").to_lowercase();
    let answer = app.redeem(&typed, "Haruka's phone").await;
    let redeemed = &answer.data()["redeemPairingCode"];
    assert_eq!(redeemed["person"]["id"], person.as_str());
    assert_eq!(redeemed["device"]["label"], "Haruka's phone");
    let token = redeemed["token"].as_str().unwrap();

    let viewer = app.graphql(Some(token), VIEWER, json!({})).await;
    assert_eq!(viewer.data()["viewer"]["id"], person.as_str());
    assert_eq!(viewer.data()["viewer"]["role"], "PARTICIPANT");

    // Only the hash is stored.
    use sea_orm::EntityTrait;
    let devices = tomoni_schema::store::entities::devices::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(devices.iter().all(|device| device.token_hash != token));
    assert!(devices.iter().all(|device| device.token_hash.len() == 64));
}

#[tokio::test]
async fn a_code_works_once() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    let code = app.issue_code(&coordinator, &person).await;
    app.redeem(&code, "phone").await.data();
    let before = app.snapshot().await;
    let reused = app.redeem(&code, "second phone").await;
    let message = reused.expect_error("BAD_USER_INPUT");
    assert_eq!(reused.body["errors"][0]["extensions"]["field"], "code");
    assert_eq!(
        app.snapshot().await,
        before,
        "a refused code writes nothing"
    );

    // Unknown, reused and expired codes all get the same answer: guessing reveals nothing.
    let unknown = app.redeem("ABCD-EFGH", "phone").await;
    assert_eq!(unknown.expect_error("BAD_USER_INPUT"), message);
}

#[tokio::test]
async fn a_code_expires_after_fifteen_minutes() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "PARTICIPANT", "Taro").await;

    let code = app.issue_code(&coordinator, &person).await;
    app.clock.advance(chrono::Duration::minutes(15));
    let expired = app.redeem(&code, "phone").await;
    expired.expect_error("BAD_USER_INPUT");

    let code = app.issue_code(&coordinator, &person).await;
    app.clock.advance(chrono::Duration::minutes(14));
    app.redeem(&code, "phone").await.data();
}

#[tokio::test]
async fn a_new_code_withdraws_the_unused_one() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "PARTICIPANT", "Taro").await;
    let first = app.issue_code(&coordinator, &person).await;
    let second = app.issue_code(&coordinator, &person).await;
    app.redeem(&first, "phone")
        .await
        .expect_error("BAD_USER_INPUT");
    app.redeem(&second, "phone").await.data();
}

#[tokio::test]
async fn a_revoked_device_is_signed_out_at_once_and_others_keep_working() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    let (phone, phone_id) = app.pair(&coordinator, &person).await;
    let (tablet, _) = app.pair(&coordinator, &person).await;

    let devices = app
        .graphql(
            Some(&phone),
            "query($id: ID!) { person(id: $id) { devices { nodes { id label isRevoked lastUsedAt } } } }",
            json!({ "id": person }),
        )
        .await;
    assert_eq!(
        devices.data()["person"]["devices"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let revoked = app
        .graphql(
            Some(&tablet),
            "mutation($input: RevokeDeviceInput!) { revokeDevice(input: $input) { device { id isRevoked revokedAt } } }",
            json!({ "input": { "deviceId": phone_id } }),
        )
        .await;
    assert_eq!(revoked.data()["revokeDevice"]["device"]["isRevoked"], true);

    let signed_out = app.graphql(Some(&phone), VIEWER, json!({})).await;
    assert_eq!(signed_out.status, 401);
    signed_out.expect_error("UNAUTHENTICATED");
    app.graphql(Some(&tablet), VIEWER, json!({})).await.data();

    // Revoking again changes nothing and is not an error (a retry on a flaky connection).
    let again = app
        .graphql(
            Some(&coordinator),
            "mutation($input: RevokeDeviceInput!) { revokeDevice(input: $input) { device { revokedAt } } }",
            json!({ "input": { "deviceId": phone_id } }),
        )
        .await;
    assert_eq!(
        again.data()["revokeDevice"]["device"]["revokedAt"],
        revoked.data()["revokeDevice"]["device"]["revokedAt"]
    );
}

#[tokio::test]
async fn redeeming_is_rate_limited_per_client_address() {
    let app =
        tomoni_tests::spawn_app_with(|settings| settings.limits.redeem_attempts_per_minute = 3)
            .await;
    for _ in 0..3 {
        app.redeem("ABCD-EFGH", "phone")
            .await
            .expect_error("BAD_USER_INPUT");
    }
    let limited = app.redeem("ABCD-EFGH", "phone").await;
    limited.expect_error("RATE_LIMITED");
    assert!(
        limited.body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn two_devices_racing_with_one_code_pair_exactly_once() {
    let app = spawn_app().await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let person = app.create_person(&coordinator, "PARTICIPANT", "Taro").await;
    let code = app.issue_code(&coordinator, &person).await;
    let attempts = futures_util::future::join_all((0..6).map(|_| app.redeem(&code, "phone"))).await;
    let winners = attempts
        .iter()
        .filter(|answer| answer.body.get("errors").is_none())
        .count();
    assert_eq!(winners, 1, "{attempts:?}");
    for answer in attempts
        .iter()
        .filter(|answer| answer.body.get("errors").is_some())
    {
        answer.expect_error("BAD_USER_INPUT");
    }
}
