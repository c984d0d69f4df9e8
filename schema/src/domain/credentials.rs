//! Pairing codes and device tokens: how they look, how they are made, and how they are stored.
//!
//! Both are stored only as SHA-256 hashes. Tokens carry 256 random bits, so a fast hash is enough;
//! pairing codes are short by design and are protected instead by their 15-minute life, single use,
//! and the rate limit on redeeming.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{CryptoRng, Rng as _};
use sha2::{Digest as _, Sha256};

/// Letters and digits that cannot be mistaken for each other when read aloud or typed from paper:
/// no 0/O, 1/I/L.
const PAIRING_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const PAIRING_CODE_LEN: usize = 8;
const TOKEN_PREFIX: &str = "tmn_";
const TOKEN_BYTES: usize = 32;

/// A one-time pairing code, normalised to its eight characters.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode(String);

/// Why typed text is not a pairing code. Deliberately says nothing about any person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairingCodeError {
    WrongLength,
    UnknownCharacter,
}

impl PairingCode {
    /// A new code drawn from `rng` (the caller passes the operating system's generator,
    /// `rand::rng()`; a test may pass a seeded one).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let code = (0..PAIRING_CODE_LEN)
            .map(|_| char::from(PAIRING_ALPHABET[rng.random_range(0..PAIRING_ALPHABET.len())]))
            .collect();
        Self(code)
    }

    /// Accepts what a person types: any case, with spaces or hyphens between groups.
    pub fn parse(typed: &str) -> Result<Self, PairingCodeError> {
        let mut code = String::with_capacity(PAIRING_CODE_LEN);
        for ch in typed.chars() {
            if ch == '-' || ch == ' ' || ch == '\u{3000}' {
                continue;
            }
            let upper = ch.to_ascii_uppercase();
            if !upper.is_ascii() || !PAIRING_ALPHABET.contains(&(upper as u8)) {
                return Err(PairingCodeError::UnknownCharacter);
            }
            if code.len() == PAIRING_CODE_LEN {
                return Err(PairingCodeError::WrongLength);
            }
            code.push(upper);
        }
        if code.len() != PAIRING_CODE_LEN {
            return Err(PairingCodeError::WrongLength);
        }
        Ok(Self(code))
    }

    /// Shown to people as two groups of four, easier to read out: `ABCD-EFGH`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }

    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(..)")
    }
}

/// A device's bearer token. Only its hash is stored; the token itself is shown once, at pairing.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// A new token of 32 bytes drawn from `rng` (the operating system's generator in the
    /// server, `rand::rng()`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Takes a presented token as it came; anything not shaped like one of ours is refused before
    /// it reaches the database.
    pub fn from_presented(presented: &str) -> Option<Self> {
        let body = presented.strip_prefix(TOKEN_PREFIX)?;
        let decoded = URL_SAFE_NO_PAD.decode(body).ok()?;
        (decoded.len() == TOKEN_BYTES).then(|| Self(presented.to_owned()))
    }

    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    /// The token itself, for the one response that hands it to the device.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(..)")
    }
}

/// SHA-256, as 64 lowercase hex digits: how secrets and endpoints are stored and looked up.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_use_only_unambiguous_characters() {
        for _ in 0..200 {
            let code = PairingCode::generate(&mut rand::rng());
            assert_eq!(code.0.len(), PAIRING_CODE_LEN);
            assert!(code.0.bytes().all(|b| PAIRING_ALPHABET.contains(&b)));
            assert!(!code.0.contains(['0', 'O', '1', 'I', 'L']));
        }
    }

    #[test]
    fn codes_and_tokens_come_from_the_generator_passed_in() {
        use rand::SeedableRng as _;
        let seeded = || rand::rngs::StdRng::seed_from_u64(7);
        assert_eq!(
            PairingCode::generate(&mut seeded()),
            PairingCode::generate(&mut seeded())
        );
        assert_eq!(
            AccessToken::generate(&mut seeded()),
            AccessToken::generate(&mut seeded())
        );
        let mut one = seeded();
        assert_ne!(
            AccessToken::generate(&mut one),
            AccessToken::generate(&mut one)
        );
    }

    #[test]
    fn typed_codes_are_normalised() {
        let code = PairingCode::parse("abcd-efgh").unwrap();
        assert_eq!(code.display(), "ABCD-EFGH");
        assert_eq!(PairingCode::parse(" ABCD EFGH ").unwrap(), code);
        assert_eq!(PairingCode::parse("ABCD\u{3000}EFGH").unwrap(), code);
        assert_eq!(
            PairingCode::parse(&code.display()).unwrap().hash(),
            code.hash()
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert_eq!(PairingCode::parse(""), Err(PairingCodeError::WrongLength));
        assert_eq!(
            PairingCode::parse("ABCDEFG"),
            Err(PairingCodeError::WrongLength)
        );
        assert_eq!(
            PairingCode::parse("ABCDEFGHJ"),
            Err(PairingCodeError::WrongLength)
        );
        assert_eq!(
            PairingCode::parse("ABCDEFG0"),
            Err(PairingCodeError::UnknownCharacter)
        );
        assert_eq!(
            PairingCode::parse("ABCDEFGあ"),
            Err(PairingCodeError::UnknownCharacter)
        );
    }

    #[test]
    fn tokens_are_random_and_only_well_formed_ones_are_accepted() {
        let a = AccessToken::generate(&mut rand::rng());
        let b = AccessToken::generate(&mut rand::rng());
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 64);
        assert_eq!(AccessToken::from_presented(a.reveal()), Some(a.clone()));
        assert_eq!(AccessToken::from_presented("tmn_short"), None);
        assert_eq!(AccessToken::from_presented(&a.reveal()[4..]), None);
        assert_eq!(format!("{a:?}"), "AccessToken(..)");
    }
}
