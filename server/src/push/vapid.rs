//! VAPID (RFC 8292): the server's P-256 key pair, and the signed JWT that proves to a push service
//! that a push comes from the server the subscription was made for. The key is generated on first
//! start and kept in the data directory (or given by configuration); it is never logged.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context as _, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

/// File in the data directory holding the generated key (PKCS#8, DER).
pub const KEY_FILE: &str = "vapid-key.p8";
/// Signatures are valid this long (RFC 8292 allows up to 24 hours).
const JWT_LIFETIME: Duration = Duration::hours(12);
/// A cached signature is renewed when less than this remains.
const JWT_RENEW_BEFORE: Duration = Duration::hours(1);

pub struct VapidKey {
    key_pair: EcdsaKeyPair,
    /// The application server key: the uncompressed public point, base64url. Public by design.
    public_key: String,
    subject: String,
    rng: SystemRandom,
    /// Signed JWTs per push-service origin, until close to their expiry.
    signatures: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

impl VapidKey {
    /// The configured key (base64url raw private scalar and public point), or the data
    /// directory's, generated there on first use.
    pub fn load(
        configured: Option<(&str, &str)>,
        data_dir: &Path,
        subject: &str,
    ) -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let key_pair = match configured {
            Some((private, public)) => {
                let private = URL_SAFE_NO_PAD
                    .decode(private.trim_end_matches('='))
                    .map_err(|_| {
                        anyhow!("configuration key `push.vapid_private_key`: not base64url")
                    })?;
                let public = URL_SAFE_NO_PAD
                    .decode(public.trim_end_matches('='))
                    .map_err(|_| {
                        anyhow!("configuration key `push.vapid_public_key`: not base64url")
                    })?;
                EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &private,
                    &public,
                    &rng,
                )
                .map_err(|_| {
                    anyhow!(
                        "configuration keys `push.vapid_private_key` and `push.vapid_public_key` \
                         are not a P-256 key pair"
                    )
                })?
            }
            None => load_or_generate(&data_dir.join(KEY_FILE), &rng)?,
        };
        let public_key = URL_SAFE_NO_PAD.encode(key_pair.public_key().as_ref());
        Ok(Self {
            key_pair,
            public_key,
            subject: subject.to_owned(),
            rng,
            signatures: Mutex::new(HashMap::new()),
        })
    }

    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for a push to `origin` (scheme, host and any non-default port:
    /// exactly the endpoint's origin, as RFC 8292 §2 requires).
    pub fn authorization(&self, origin: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
        let mut cache = self
            .signatures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let jwt = match cache.get(origin) {
            Some((jwt, expires)) if *expires - now > JWT_RENEW_BEFORE => jwt.clone(),
            _ => {
                let expires = now + JWT_LIFETIME;
                let jwt = self.sign(origin, expires)?;
                cache.insert(origin.to_owned(), (jwt.clone(), expires));
                jwt
            }
        };
        Ok(format!("vapid t={jwt}, k={}", self.public_key))
    }

    fn sign(&self, audience: &str, expires: DateTime<Utc>) -> anyhow::Result<String> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": audience,
            "exp": expires.timestamp(),
            "sub": self.subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
        let signing_input = format!("{header}.{claims}");
        let signature = self
            .key_pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| anyhow!("cannot sign the VAPID token"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

fn load_or_generate(path: &Path, rng: &SystemRandom) -> anyhow::Result<EcdsaKeyPair> {
    let pkcs8 = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, rng)
                .map_err(|_| anyhow!("cannot generate a VAPID key"))?;
            write_private(path, document.as_ref())
                .with_context(|| format!("cannot write the VAPID key to {}", path.display()))?;
            tracing::info!("generated a new VAPID key in the data directory");
            document.as_ref().to_vec()
        }
        Err(err) => {
            return Err(err)
                .with_context(|| format!("cannot read the VAPID key {}", path.display()));
        }
    };
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, rng)
        .map_err(|_| anyhow!("{} is not a P-256 private key (PKCS#8)", path.display()))
}

/// Writes a secret readable by the owner only, without ever leaving a readable copy behind.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    fn temp_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tomoni-vapid-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_key_is_generated_once_and_kept() {
        let dir = temp_dir();
        let first = VapidKey::load(None, &dir, "mailto:ops@example.org").unwrap();
        let second = VapidKey::load(None, &dir, "mailto:ops@example.org").unwrap();
        assert_eq!(first.public_key(), second.public_key());
        assert_eq!(
            URL_SAFE_NO_PAD.decode(first.public_key()).unwrap().len(),
            65
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_jwt_is_signed_for_the_exact_origin_and_cached() {
        let dir = temp_dir();
        let key = VapidKey::load(None, &dir, "mailto:ops@example.org").unwrap();
        let now = Utc::now();
        let header = key.authorization("http://127.0.0.1:4567", now).unwrap();
        let (jwt, k) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap();
        assert_eq!(k, key.public_key());
        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let public = URL_SAFE_NO_PAD.decode(k).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(
                signed.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(signed.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["aud"], "http://127.0.0.1:4567");
        assert_eq!(claims["sub"], "mailto:ops@example.org");
        assert_eq!(claims["exp"], (now + JWT_LIFETIME).timestamp());

        // Cached for the same origin until close to expiry; other origins get their own.
        assert_eq!(
            key.authorization("http://127.0.0.1:4567", now + Duration::hours(10))
                .unwrap(),
            header
        );
        assert_ne!(
            key.authorization(
                "http://127.0.0.1:4567",
                now + Duration::hours(11) + Duration::minutes(1)
            )
            .unwrap(),
            header
        );
        assert_ne!(
            key.authorization("https://fcm.googleapis.com", now)
                .unwrap(),
            header
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
