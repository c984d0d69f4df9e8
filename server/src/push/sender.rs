//! Sending one push: check the endpoint where the connection is made, encrypt, sign, POST with
//! reqwest, and read what the push service answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use ring::rand::SystemRandom;
use tomoni_schema::domain::push::{self, EndpointPolicy, Urgency};

use super::encrypt::encrypt;
use super::vapid::VapidKey;

/// One message to one subscription.
pub struct PushRequest<'a> {
    pub endpoint: &'a str,
    pub p256dh: &'a [u8],
    pub auth: &'a [u8],
    pub payload: &'a [u8],
    pub ttl_seconds: u32,
    pub urgency: Urgency,
    pub topic: Option<&'a str>,
}

/// What came of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    /// The push service answered with this status.
    Answered {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: a timeout or a broken connection.
    NoAnswer,
    /// The message could not even be built (bad keys, too large): a bug or bad data, never retried.
    Unsendable,
    /// The endpoint is not one this server sends to (any more): its host, port or scheme is not
    /// allowed, or its address — as written or as its name resolved just now — is internal.
    /// Nothing was sent; never retried.
    Refused,
}

pub struct PushClient {
    http: reqwest::Client,
    policy: EndpointPolicy,
    vapid: Arc<VapidKey>,
    rng: SystemRandom,
    /// Time spent encrypting and signing, for the benchmark's figure.
    crypto_nanos: AtomicU64,
}

impl PushClient {
    /// `policy` is the one subscriptions are registered under: every send checks it again.
    pub fn new(
        vapid: Arc<VapidKey>,
        timeout: Duration,
        policy: EndpointPolicy,
    ) -> anyhow::Result<Self> {
        // One TLS crypto provider for the whole process: ring, which rustls already uses for the
        // database. Installing it twice is harmless (the second attempt is refused).
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            // Push services are never reached through redirects: a redirect would be a way around
            // the endpoint checks.
            .redirect(reqwest::redirect::Policy::none())
            // The addresses checked must be the push service's: through a proxy, the resolver
            // would only see the proxy's name.
            .no_proxy()
            .dns_resolver(CheckedResolver {
                policy: policy.clone(),
            })
            .user_agent(concat!("tomoni/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            policy,
            vapid,
            rng: SystemRandom::new(),
            crypto_nanos: AtomicU64::new(0),
        })
    }

    pub fn vapid(&self) -> &VapidKey {
        &self.vapid
    }

    /// Nanoseconds spent in encryption and signing since start.
    pub fn crypto_nanos(&self) -> u64 {
        self.crypto_nanos.load(Ordering::Relaxed)
    }

    pub async fn send(&self, request: PushRequest<'_>, now: DateTime<Utc>) -> SendResult {
        let started = Instant::now();
        // Again at send, not only at registration: the policy may have tightened since, and an
        // IP-literal host never reaches the resolver below.
        let url = match push::check_endpoint(request.endpoint, &self.policy) {
            Ok(url) => url,
            Err(refusal) => {
                // The reason only: the endpoint URL is a capability and is never logged.
                tracing::warn!(reason = refusal.reason(), "a push endpoint was refused");
                return SendResult::Refused;
            }
        };
        let origin = url.origin().ascii_serialization();
        let body = match encrypt(request.payload, request.p256dh, request.auth, &self.rng) {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(error = %err, "cannot encrypt a push");
                return SendResult::Unsendable;
            }
        };
        let authorization = match self.vapid.authorization(&origin, now) {
            Ok(value) => value,
            Err(err) => {
                tracing::error!(error = %err, "cannot sign a push");
                return SendResult::Unsendable;
            }
        };
        self.crypto_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        let Ok(authorization) = HeaderValue::from_str(&authorization) else {
            return SendResult::Unsendable;
        };
        let mut builder = self
            .http
            .post(url)
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_ENCODING, "aes128gcm")
            .header(CONTENT_TYPE, "application/octet-stream")
            .header("TTL", request.ttl_seconds.to_string())
            .header("Urgency", request.urgency.header_value());
        if let Some(topic) = request.topic {
            builder = builder.header("Topic", topic);
        }
        match builder.body(body).send().await {
            Ok(response) => SendResult::Answered {
                status: response.status().as_u16(),
                retry_after: response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| parse_retry_after(value, now)),
            },
            Err(err) if is_refused_address(&err) => {
                tracing::warn!(
                    reason = push::EndpointError::PrivateAddress.reason(),
                    "a push endpoint was refused where the connection was made"
                );
                SendResult::Refused
            }
            // Never log the error itself: reqwest's message includes the URL.
            Err(err) => {
                tracing::debug!(
                    timeout = err.is_timeout(),
                    connect = err.is_connect(),
                    "a push got no answer"
                );
                SendResult::NoAnswer
            }
        }
    }
}

/// Resolves push services' names for reqwest, and refuses every name with an internal address
/// among its addresses (unless the policy allows those): the check at registration saw a name,
/// and what that name points to can change after (DNS rebinding). reqwest asks it for names only;
/// IP-literal hosts are checked by [`push::check_endpoint`] before sending.
struct CheckedResolver {
    policy: EndpointPolicy,
}

/// What [`CheckedResolver`] answers for a name it refuses; found again in reqwest's error chain.
#[derive(Debug)]
struct RefusedAddress;

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(push::EndpointError::PrivateAddress.reason())
    }
}

impl std::error::Error for RefusedAddress {}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<std::net::SocketAddr> = if push::is_loopback_name(&name) {
                vec![
                    (std::net::Ipv4Addr::LOCALHOST, 0).into(),
                    (std::net::Ipv6Addr::LOCALHOST, 0).into(),
                ]
            } else {
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect()
            };
            if addresses
                .iter()
                .any(|address| push::check_address(address.ip(), &policy).is_err())
            {
                return Err(Box::new(RefusedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// True when a request failed because [`CheckedResolver`] refused its host's addresses.
fn is_refused_address(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = source {
        if error.is::<RefusedAddress>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// `Retry-After` is either seconds or an HTTP date.
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value.trim())
        .ok()?
        .with_timezone(&Utc);
    (at - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(policy: EndpointPolicy) -> PushClient {
        let dir = std::env::temp_dir().join(format!("tomoni-sender-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let vapid = VapidKey::load(None, &dir, "mailto:test@example.org").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        PushClient::new(Arc::new(vapid), Duration::from_secs(5), policy).unwrap()
    }

    fn request(endpoint: &str) -> PushRequest<'_> {
        PushRequest {
            endpoint,
            p256dh: &[],
            auth: &[],
            payload: b"{}",
            ttl_seconds: 60,
            urgency: Urgency::Normal,
            topic: None,
        }
    }

    #[tokio::test]
    async fn endpoints_are_checked_again_at_send() {
        let strict = client(EndpointPolicy::default());
        for endpoint in [
            "https://127.0.0.1/push",
            "https://[::ffff:10.0.0.1]/push",
            "https://push.localhost/push",
            "https://fcm.googleapis.com:8443/push",
            "https://evil.example.com/push",
        ] {
            assert_eq!(
                strict.send(request(endpoint), Utc::now()).await,
                SendResult::Refused,
                "{endpoint}"
            );
        }
    }

    #[tokio::test]
    async fn names_that_resolve_to_internal_addresses_are_refused_at_connect() {
        use reqwest::dns::Resolve as _;
        let resolve = |policy: EndpointPolicy, name: &str| {
            CheckedResolver { policy }.resolve(name.parse().unwrap())
        };
        // A name on the allow-list is only as good as what it resolves to when the push goes.
        for name in [
            "localhost",
            "push.localhost",
            "127.0.0.1",
            "::1",
            "10.1.2.3",
        ] {
            let refused = resolve(EndpointPolicy::default(), name)
                .await
                .err()
                .unwrap();
            assert!(refused.is::<RefusedAddress>(), "{name}: {refused}");
        }
        let permissive = EndpointPolicy {
            allow_private_addresses: true,
            ..EndpointPolicy::default()
        };
        let addresses: Vec<_> = resolve(permissive, "push.localhost")
            .await
            .unwrap()
            .collect();
        assert!(addresses.iter().all(|address| address.ip().is_loopback()));

        // Through reqwest, the refusal is told apart from a service that does not answer.
        let strict = client(EndpointPolicy::default());
        let err = strict
            .http
            .get("http://localhost:9/")
            .send()
            .await
            .unwrap_err();
        assert!(is_refused_address(&err), "{err:?}");
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 12:05:00 GMT", now),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 11:00:00 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
