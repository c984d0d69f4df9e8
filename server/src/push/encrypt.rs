//! Message encryption for Web Push (RFC 8291) in the aes128gcm content coding (RFC 8188): one
//! record, a fresh sender key pair and salt per message.

use ring::aead::{self, AES_128_GCM, LessSafeKey, Nonce, UnboundKey};
use ring::agreement::{self, ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey};
use ring::hkdf::{self, HKDF_SHA256, KeyType};
use ring::rand::{SecureRandom, SystemRandom};

/// Record size written in the header; our payloads always fit one record.
const RECORD_SIZE: u32 = 4096;
const TAG_LEN: usize = 16;
/// salt (16) + record size (4) + key id length (1) + key id (65, the sender's public key)
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The largest plaintext one record holds: the record less header, tag and padding delimiter.
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - HEADER_LEN - TAG_LEN - 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncryptError {
    #[error("the subscription's p256dh key is not a P-256 public key")]
    BadPublicKey,
    #[error("the subscription's auth secret is not 16 bytes")]
    BadAuthSecret,
    #[error("the payload is larger than one record ({MAX_PLAINTEXT} bytes)")]
    TooLarge,
    #[error("the system random number generator failed")]
    Random,
    #[error("a cryptographic operation failed")]
    Crypto,
}

/// A length for `hkdf::Prk::expand`.
struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, info: &[&[u8]], out: &mut [u8]) -> Result<(), EncryptError> {
    prk.expand(info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| EncryptError::Crypto)
}

/// Encrypts `plaintext` for the browser whose subscription has `ua_public` (65-byte uncompressed
/// P-256 point) and `auth_secret` (16 bytes). Returns the request body.
pub fn encrypt(
    plaintext: &[u8],
    ua_public: &[u8],
    auth_secret: &[u8],
    rng: &SystemRandom,
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::TooLarge);
    }
    if auth_secret.len() != 16 {
        return Err(EncryptError::BadAuthSecret);
    }
    if ua_public.len() != 65 || ua_public[0] != 0x04 {
        return Err(EncryptError::BadPublicKey);
    }
    let as_private =
        EphemeralPrivateKey::generate(&ECDH_P256, rng).map_err(|_| EncryptError::Random)?;
    let as_public = as_private
        .compute_public_key()
        .map_err(|_| EncryptError::Crypto)?;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| EncryptError::Random)?;

    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0 || ua_public || as_public)
    let mut ikm = [0u8; 32];
    agreement::agree_ephemeral(
        as_private,
        &UnparsedPublicKey::new(&ECDH_P256, ua_public),
        |ecdh_secret| {
            let prk = hkdf::Salt::new(HKDF_SHA256, auth_secret).extract(ecdh_secret);
            expand(
                &prk,
                &[b"WebPush: info\0", ua_public, as_public.as_ref()],
                &mut ikm,
            )
        },
    )
    .map_err(|_| EncryptError::BadPublicKey)??;

    // CEK and nonce from the salt (RFC 8188 §2.2, §2.3).
    let prk = hkdf::Salt::new(HKDF_SHA256, &salt).extract(&ikm);
    let mut cek = [0u8; 16];
    expand(&prk, &[b"Content-Encoding: aes128gcm\0"], &mut cek)?;
    let mut nonce = [0u8; 12];
    expand(&prk, &[b"Content-Encoding: nonce\0"], &mut nonce)?;

    let mut body = Vec::with_capacity(HEADER_LEN + plaintext.len() + 1 + TAG_LEN);
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_ref());
    let mut record = Vec::with_capacity(plaintext.len() + 1 + TAG_LEN);
    record.extend_from_slice(plaintext);
    record.push(0x02); // the last (and only) record, no padding
    let key =
        LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek).map_err(|_| EncryptError::Crypto)?);
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        aead::Aad::empty(),
        &mut record,
    )
    .map_err(|_| EncryptError::Crypto)?;
    body.extend_from_slice(&record);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser_key(rng: &SystemRandom) -> Vec<u8> {
        let private = EphemeralPrivateKey::generate(&ECDH_P256, rng).unwrap();
        private.compute_public_key().unwrap().as_ref().to_vec()
    }

    #[test]
    fn the_body_has_the_rfc_8188_header_and_one_record() {
        let rng = SystemRandom::new();
        let body = encrypt(b"hello", &browser_key(&rng), &[7u8; 16], &rng).unwrap();
        assert_eq!(&body[16..20], &4096u32.to_be_bytes());
        assert_eq!(body[20], 65);
        assert_eq!(body[21], 0x04);
        assert_eq!(body.len(), HEADER_LEN + 5 + 1 + TAG_LEN);
    }

    #[test]
    fn bad_keys_and_sizes_are_refused() {
        let rng = SystemRandom::new();
        let key = browser_key(&rng);
        assert_eq!(
            encrypt(b"x", &key, &[0u8; 15], &rng),
            Err(EncryptError::BadAuthSecret)
        );
        assert_eq!(
            encrypt(b"x", &key[1..], &[0u8; 16], &rng),
            Err(EncryptError::BadPublicKey)
        );
        let mut off_curve = key.clone();
        off_curve[64] ^= 1;
        assert_eq!(
            encrypt(b"x", &off_curve, &[0u8; 16], &rng),
            Err(EncryptError::BadPublicKey)
        );
        let big = vec![0u8; MAX_PLAINTEXT + 1];
        assert_eq!(
            encrypt(&big, &key, &[0u8; 16], &rng),
            Err(EncryptError::TooLarge)
        );
        assert!(encrypt(&big[1..], &key, &[0u8; 16], &rng).is_ok());
    }
}
