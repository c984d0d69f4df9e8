//! The pairing-code rate limit behind a reverse proxy: the client's address comes from
//! `X-Forwarded-For` only when the peer is a trusted proxy, IPv6 clients count by their /64, and
//! refusals show in `/metrics` (issue 11 item 9).

use serde_json::json;
use tomoni_tests::{Answer, TestApp, spawn_app_with};

const REDEEM: &str =
    "mutation($input: RedeemPairingCodeInput!) { redeemPairingCode(input: $input) { token } }";

/// One redemption attempt with a wrong code, as sent through a proxy that says it came from
/// `forwarded_for`.
async fn attempt(app: &TestApp, forwarded_for: &str) -> Answer {
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({
            "query": REDEEM,
            "variables": { "input": { "code": "ABCD-EFGH", "deviceLabel": "phone" } },
        }))
        .send()
        .await
        .unwrap();
    tomoni_tests::answer(response).await
}

/// Sends one attempt per `(forwarded_for, expected code)` in order, checking each answer.
async fn attempts(app: &TestApp, expected: &[(&str, &str)]) {
    for (forwarded_for, code) in expected {
        attempt(app, forwarded_for).await.expect_error(code);
    }
}

async fn behind_the_local_proxy(per_minute: u32) -> TestApp {
    spawn_app_with(|settings| {
        settings.limits.redeem_attempts_per_minute = per_minute;
        // The tests' requests come from 127.0.0.1: here that is the reverse proxy.
        settings.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    let app = behind_the_local_proxy(2).await;
    attempts(
        &app,
        &[
            ("198.51.100.1", "BAD_USER_INPUT"),
            ("198.51.100.1", "BAD_USER_INPUT"),
            ("198.51.100.1", "RATE_LIMITED"),
            // Another client behind the same proxy is not held back by the first one.
            ("198.51.100.2", "BAD_USER_INPUT"),
            // An address the client wrote itself, left of what the proxy appended, buys nothing.
            ("203.0.113.9, 198.51.100.1", "RATE_LIMITED"),
        ],
    )
    .await;
}

#[tokio::test]
async fn without_a_trusted_proxy_a_forwarded_address_is_ignored() {
    let app = spawn_app_with(|settings| settings.limits.redeem_attempts_per_minute = 2).await;
    attempts(
        &app,
        &[
            ("198.51.100.1", "BAD_USER_INPUT"),
            ("198.51.100.2", "BAD_USER_INPUT"),
            // A new made-up address each time is still the same peer.
            ("198.51.100.3", "RATE_LIMITED"),
        ],
    )
    .await;
}

#[tokio::test]
async fn addresses_in_one_ipv6_64_share_an_allowance() {
    let app = behind_the_local_proxy(2).await;
    attempts(
        &app,
        &[
            ("2001:db8:1:2::1", "BAD_USER_INPUT"),
            ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "BAD_USER_INPUT"),
            ("2001:db8:1:2::ffff", "RATE_LIMITED"),
            ("2001:db8:1:3::1", "BAD_USER_INPUT"),
        ],
    )
    .await;
}

#[tokio::test]
async fn refusals_are_counted_in_metrics() {
    let app = behind_the_local_proxy(1).await;
    let refusals = || async {
        let body = app.metrics().await;
        assert!(
            body.contains("# TYPE tomoni_pairing_rate_limited_total counter"),
            "{body}"
        );
        body.lines()
            .find(|line| line.starts_with("tomoni_pairing_rate_limited_total "))
            .map(str::to_owned)
    };
    assert_eq!(
        refusals().await.as_deref(),
        Some("tomoni_pairing_rate_limited_total 0")
    );
    attempts(
        &app,
        &[
            ("198.51.100.1", "BAD_USER_INPUT"),
            ("198.51.100.1", "RATE_LIMITED"),
            ("198.51.100.1", "RATE_LIMITED"),
        ],
    )
    .await;
    assert_eq!(
        refusals().await.as_deref(),
        Some("tomoni_pairing_rate_limited_total 2")
    );
}
