//! Contact addresses: what a stored e-mail address must look like. The shape check is lettre's
//! (the transport that later sends to it), so an address accepted here is one it can send to.

use super::text::InvalidText;

/// The longest address SMTP carries (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX: usize = 254;

/// A trimmed, well-formed e-mail address (`local@domain`, one line, at most [`EMAIL_MAX`]
/// characters). The reason never quotes the value: addresses are personal data.
pub fn email_address(value: &str) -> Result<String, InvalidText> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvalidText("must not be empty".into()));
    }
    if trimmed.chars().count() > EMAIL_MAX {
        return Err(InvalidText(format!(
            "must be at most {EMAIL_MAX} characters"
        )));
    }
    if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InvalidText("is not an e-mail address".into()));
    }
    match trimmed.parse::<lettre::Address>() {
        Ok(address) => Ok(address.to_string()),
        Err(_) => Err(InvalidText("is not an e-mail address".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_addresses_are_kept_trimmed() {
        assert_eq!(
            email_address("  coord@example.org ").as_deref(),
            Ok("coord@example.org")
        );
        assert!(email_address("山田@例え.jp").is_ok());
    }

    #[test]
    fn bad_shapes_are_refused_without_quoting_them() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "@example.org",
            "a@",
            "a b@example.org",
            "a@example.org\r\nBcc: x@example.org",
            "a@@example.org",
        ] {
            let reason = email_address(bad).expect_err(bad).0;
            assert!(!reason.contains('@'), "{reason}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(email_address(&long).is_err());
    }
}
