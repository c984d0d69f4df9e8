//! Sending one push: encrypt, sign, POST with reqwest, and read what the push service answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use ring::rand::SystemRandom;
use tomoni_schema::domain::push::Urgency;

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
}

pub struct PushClient {
    http: reqwest::Client,
    vapid: Arc<VapidKey>,
    rng: SystemRandom,
    /// Time spent encrypting and signing, for the benchmark's figure.
    crypto_nanos: AtomicU64,
}

impl PushClient {
    pub fn new(vapid: Arc<VapidKey>, timeout: Duration) -> anyhow::Result<Self> {
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
            .user_agent(concat!("tomoni/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
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
        let Ok(url) = url::Url::parse(request.endpoint) else {
            return SendResult::Unsendable;
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
