//! A local push service for tests, strict like a real one: it checks the VAPID JWT (ES256
//! signature, `aud` equal to the endpoint's origin, `exp` within 24 hours, a `sub`), requires
//! `Content-Encoding: aes128gcm` and a TTL, and decrypts the payload with the subscription's
//! private key. Each subscription can be told to answer 429 with Retry-After, 500, 410, or to hang.
//! [`PushRecorder`] is the same service for load: it answers 201 at once and keeps each push with
//! when it arrived, to be checked and decrypted the same way afterwards.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use p256::elliptic_curve::sec1::ToSec1Point as _;
use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{self, HKDF_SHA256, KeyType};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::{Value, json};

/// How a subscription's endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    TooManyRequests {
        retry_after_seconds: u64,
    },
    ServerError,
    Gone,
    /// Never answers (until the sender gives up).
    Hang,
    /// Accepts after a pause, like a distant push service: keeps requests in flight.
    Slow {
        millis: u64,
    },
}

/// A message the receiver accepted, decrypted.
#[derive(Clone, Debug)]
pub struct Received {
    pub subscription: String,
    pub payload: Value,
    pub ttl: u32,
    pub urgency: Option<String>,
    pub topic: Option<String>,
}

/// A browser's push keys (RFC 8291): the private key and the authentication secret it shares
/// with the server through the subscription.
pub struct BrowserKey {
    secret: p256::SecretKey,
    public: Vec<u8>,
    auth: [u8; 16],
}

impl BrowserKey {
    pub fn generate() -> Self {
        let rng = SystemRandom::new();
        let secret = loop {
            let mut bytes = [0u8; 32];
            rng.fill(&mut bytes).expect("random");
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let public = secret.public_key().to_sec1_point(false).as_bytes().to_vec();
        let mut auth = [0u8; 16];
        rng.fill(&mut auth).expect("random");
        Self {
            secret,
            public,
            auth,
        }
    }

    /// The public key as a subscription's `keys.p256dh` carries it.
    pub fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.public)
    }

    /// The authentication secret as a subscription's `keys.auth` carries it.
    pub fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }
}

struct Subscription {
    key: BrowserKey,
    mode: Mode,
    attempts: usize,
    /// The origin its endpoint names (VAPID's `aud` must be exactly this).
    origin: String,
}

#[derive(Default)]
struct Inner {
    subscriptions: HashMap<String, Subscription>,
    received: Vec<Received>,
    /// Requests refused for breaking the protocol, with why: a test that sees one has found a bug.
    violations: Vec<String>,
    /// The time VAPID expiries are checked against: the wall clock, or the test's clock when the
    /// test moves time (a push service lives in the same time as the server it serves).
    clock: Option<tomoni_schema::domain::clock::ManualClock>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    origin: String,
    changed: Arc<tokio::sync::Notify>,
}

pub struct PushReceiver {
    pub address: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for PushReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What a browser's `PushSubscription.toJSON()` would give the app.
#[derive(Clone, Debug)]
pub struct BrowserSubscription {
    pub id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

impl BrowserSubscription {
    pub fn as_input(&self) -> Value {
        json!({ "endpoint": self.endpoint, "keys": { "p256dh": self.p256dh, "auth": self.auth } })
    }
}

impl PushReceiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let address = listener.local_addr().expect("receiver address");
        let shared = Shared {
            inner: Arc::default(),
            origin: format!("http://{address}"),
            changed: Arc::new(tokio::sync::Notify::new()),
        };
        let router = Router::new()
            .route("/push/{id}", post(receive))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            address,
            shared,
            server,
        }
    }

    /// A new subscription, as a browser would create it.
    pub fn subscribe(&self) -> BrowserSubscription {
        self.subscribe_with_origin(self.shared.origin.clone())
    }

    /// A new subscription whose endpoint names this receiver by `host` (a name that resolves to
    /// loopback, such as `push.localhost`) instead of its address.
    pub fn subscribe_at_host(&self, host: &str) -> BrowserSubscription {
        self.subscribe_with_origin(format!("http://{host}:{}", self.address.port()))
    }

    fn subscribe_with_origin(&self, origin: String) -> BrowserSubscription {
        let key = BrowserKey::generate();
        let id = uuid::Uuid::now_v7().simple().to_string();
        let subscription = BrowserSubscription {
            id: id.clone(),
            endpoint: format!("{origin}/push/{id}"),
            p256dh: key.p256dh(),
            auth: key.auth(),
        };
        self.lock().subscriptions.insert(
            id,
            Subscription {
                key,
                mode: Mode::Accept,
                attempts: 0,
                origin,
            },
        );
        subscription
    }

    /// Checks VAPID expiries against the test's clock instead of the wall clock.
    pub fn follow_clock(&self, clock: &tomoni_schema::domain::clock::ManualClock) {
        self.lock().clock = Some(clock.clone());
    }

    pub fn set_mode(&self, subscription: &BrowserSubscription, mode: Mode) {
        if let Some(sub) = self.lock().subscriptions.get_mut(&subscription.id) {
            sub.mode = mode;
        }
    }

    /// Every request that reached this subscription's endpoint, whatever the answer.
    pub fn attempts(&self, subscription: &BrowserSubscription) -> usize {
        self.lock()
            .subscriptions
            .get(&subscription.id)
            .map_or(0, |sub| sub.attempts)
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Waits until `count` messages have been accepted in all (at most `limit`).
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.shared.changed.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.received();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        lock(&self.shared.inner)
    }
}

/// A push as it reached a [`PushRecorder`]: when, at which endpoint, and what was sent.
pub struct Arrival {
    pub at: DateTime<Utc>,
    /// The last segment of the endpoint's path.
    pub subscription: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A local push service for load, on its own thread: every request to `/push/{id}` is answered
/// 201 at once and kept with the time it arrived, so that taking it costs the sender's
/// measurement (almost) nothing. All its endpoints share one browser key; [`PushRecorder::check`]
/// does afterwards what [`PushReceiver`] does on arrival. Stops when dropped.
pub struct PushRecorder {
    pub address: SocketAddr,
    pub key: BrowserKey,
    origin: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl PushRecorder {
    pub fn start() -> Self {
        let arrivals: Arc<Mutex<Vec<Arrival>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind recorder");
        let address = listener.local_addr().expect("recorder address");
        listener.set_nonblocking(true).expect("nonblocking");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let kept = arrivals.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let router = Router::new().route(
                    "/push/{id}",
                    post(
                        move |Path(subscription): Path<String>, headers: HeaderMap, body: Bytes| {
                            let at = Utc::now();
                            lock(&kept).push(Arrival {
                                at,
                                subscription,
                                headers,
                                body,
                            });
                            async { StatusCode::CREATED }
                        },
                    ),
                );
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                tokio::select! {
                    _ = axum::serve(listener, router) => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            address,
            key: BrowserKey::generate(),
            origin: format!("http://{address}"),
            arrivals,
            _stop: stop,
        }
    }

    /// `http://host:port`: its endpoints are `{origin}/push/{any id}`, all with [`PushRecorder::key`].
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// How many pushes have arrived so far.
    pub fn arrived(&self) -> usize {
        lock(&self.arrivals).len()
    }

    /// The pushes that arrived so far, in order; the recorder keeps no copy.
    pub fn take(&self) -> Vec<Arrival> {
        std::mem::take(&mut *lock(&self.arrivals))
    }

    /// What [`PushReceiver`] checks on arrival (headers, VAPID as of the arrival), and the
    /// payload decrypted.
    pub fn check(&self, arrival: &Arrival) -> Result<Received, String> {
        let mut received = check_and_decrypt(
            &self.origin,
            &arrival.headers,
            &arrival.body,
            &self.key,
            arrival.at,
        )?;
        received.subscription = arrival.subscription.clone();
        Ok(received)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn receive(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let checked = {
        let mut inner = lock(&shared.inner);
        let Some(subscription) = inner.subscriptions.get_mut(&id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        subscription.attempts += 1;
        let mode = subscription.mode;
        let now = inner.clock.as_ref().map_or_else(chrono::Utc::now, |clock| {
            tomoni_schema::domain::clock::Clock::now(clock)
        });
        let Some(subscription) = inner.subscriptions.get_mut(&id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let checked = check_and_decrypt(
            &subscription.origin,
            &headers,
            &body,
            &subscription.key,
            now,
        );
        match &checked {
            Err(violation) => inner.violations.push(violation.clone()),
            Ok(received) if matches!(mode, Mode::Accept | Mode::Slow { .. }) => {
                let mut received = received.clone();
                received.subscription = id.clone();
                inner.received.push(received);
            }
            Ok(_) => {}
        }
        checked.map(|_| mode)
    };
    shared.changed.notify_waiters();
    match checked {
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
        Ok(Mode::Accept) => StatusCode::CREATED.into_response(),
        Ok(Mode::TooManyRequests {
            retry_after_seconds,
        }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("Retry-After", retry_after_seconds.to_string())],
        )
            .into_response(),
        Ok(Mode::ServerError) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Ok(Mode::Gone) => StatusCode::GONE.into_response(),
        Ok(Mode::Slow { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            StatusCode::CREATED.into_response()
        }
        Ok(Mode::Hang) => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            StatusCode::CREATED.into_response()
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn check_and_decrypt(
    origin: &str,
    headers: &HeaderMap,
    body: &[u8],
    key: &BrowserKey,
    now: DateTime<Utc>,
) -> Result<Received, String> {
    if header(headers, "content-encoding") != Some("aes128gcm") {
        return Err("Content-Encoding is not aes128gcm".into());
    }
    let ttl = header(headers, "ttl")
        .and_then(|value| value.parse::<u32>().ok())
        .ok_or("no valid TTL header")?;
    check_vapid(
        origin,
        header(headers, "authorization").ok_or("no Authorization header")?,
        now,
    )?;
    let plaintext = decrypt(body, key)?;
    let payload = serde_json::from_slice(&plaintext).map_err(|_| "the payload is not JSON")?;
    Ok(Received {
        subscription: String::new(),
        payload,
        ttl,
        urgency: header(headers, "urgency").map(str::to_owned),
        topic: header(headers, "topic").map(str::to_owned),
    })
}

/// RFC 8292: `vapid t=<jwt>, k=<public key>`, an ES256 JWT for exactly this origin.
fn check_vapid(origin: &str, authorization: &str, now: DateTime<Utc>) -> Result<(), String> {
    let rest = authorization
        .strip_prefix("vapid ")
        .ok_or("not a vapid Authorization")?;
    let mut jwt = None;
    let mut key = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(value) = part.strip_prefix("t=") {
            jwt = Some(value);
        } else if let Some(value) = part.strip_prefix("k=") {
            key = Some(value);
        }
    }
    let (jwt, key) = (jwt.ok_or("no t=")?, key.ok_or("no k=")?);
    let key = URL_SAFE_NO_PAD
        .decode(key)
        .map_err(|_| "k is not base64url")?;
    let (signed, signature) = jwt.rsplit_once('.').ok_or("the JWT has no signature")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the signature is not base64url")?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the ES256 signature does not verify")?;
    let (header, claims) = signed.split_once('.').ok_or("the JWT is malformed")?;
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).map_err(|_| "bad header")?)
            .map_err(|_| "bad header JSON")?;
    if header["alg"] != "ES256" {
        return Err("alg is not ES256".into());
    }
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).map_err(|_| "bad claims")?)
            .map_err(|_| "bad claims JSON")?;
    if claims["aud"] != origin {
        return Err(format!(
            "aud is {} but the endpoint's origin is {origin}",
            claims["aud"]
        ));
    }
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    let now = now.timestamp();
    if exp <= now || exp > now + 24 * 3600 {
        return Err("exp is not within the next 24 hours".into());
    }
    let sub = claims["sub"].as_str().ok_or("no sub")?;
    if !(sub.starts_with("mailto:") || sub.starts_with("https://")) {
        return Err("sub is not a mailto: or https: URI".into());
    }
    Ok(())
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_expand(prk: &hkdf::Prk, info: &[&[u8]], len: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; len];
    prk.expand(info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| "HKDF failed")?;
    Ok(out)
}

/// RFC 8291 / RFC 8188, as a browser does it.
fn decrypt(body: &[u8], browser: &BrowserKey) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("the body is shorter than the aes128gcm header".into());
    }
    let salt = &body[..16];
    let key_id_len = usize::from(body[20]);
    let key_id = body
        .get(21..21 + key_id_len)
        .ok_or("the key id is cut short")?;
    let ciphertext = &body[21 + key_id_len..];
    let sender =
        p256::PublicKey::from_sec1_bytes(key_id).map_err(|_| "the key id is not a P-256 key")?;
    let shared = p256::ecdh::diffie_hellman(browser.secret.to_nonzero_scalar(), sender.as_affine());
    let prk =
        hkdf::Salt::new(HKDF_SHA256, &browser.auth).extract(shared.raw_secret_bytes().as_slice());
    let ikm = hkdf_expand(&prk, &[b"WebPush: info\0", &browser.public, key_id], 32)?;
    let prk = hkdf::Salt::new(HKDF_SHA256, salt).extract(&ikm);
    let cek = hkdf_expand(&prk, &[b"Content-Encoding: aes128gcm\0"], 16)?;
    let nonce = hkdf_expand(&prk, &[b"Content-Encoding: nonce\0"], 12)?;
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).map_err(|_| "bad key")?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| "bad nonce")?;
    let mut record = ciphertext.to_vec();
    let plaintext = key
        .open_in_place(nonce, Aad::empty(), &mut record)
        .map_err(|_| "the record does not decrypt")?;
    // Strip the padding: zeros after the last-record delimiter 0x02.
    let end = plaintext
        .iter()
        .rposition(|byte| *byte != 0)
        .ok_or("no delimiter")?;
    if plaintext[end] != 0x02 {
        return Err("the last record's delimiter is not 0x02".into());
    }
    Ok(plaintext[..end].to_vec())
}
