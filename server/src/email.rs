//! Sending e-mail over SMTP (lettre, on rustls with ring): the relay from `email.smtp_url`, one
//! plain-text message at a time. Errors come back as a short class, never lettre's text: an SMTP
//! server's reply can quote the recipient's address.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport as _, Tokio1Executor};

use crate::config::EmailSettings;

/// Checks an `email.smtp_url` at start; the problem never quotes the URL (it may hold a password).
pub fn check_url(url: &str) -> Result<(), &'static str> {
    let parsed =
        url::Url::parse(url).map_err(|_| "is not a URL (smtp://host:port or smtps://host)")?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host");
    }
    let tls = parsed
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    let encrypted = match (parsed.scheme(), tls.as_deref()) {
        ("smtps", _) | ("smtp", Some("required")) => true,
        ("smtp", None | Some("opportunistic")) => false,
        ("smtp", Some(_)) => return Err("tls= must be required or opportunistic"),
        _ => return Err("must start with smtp:// or smtps://"),
    };
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // smtp:// is not a special scheme to the url crate: an IP address comes back as a name.
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    };
    if parsed.password().is_some() && !encrypted && !loopback {
        return Err(
            "a password over plain smtp:// would cross the network unencrypted: use smtps:// or ?tls=required",
        );
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|_| "is not a usable SMTP URL")?;
    Ok(())
}

/// Why a message did not go out, as a label safe to log and count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendFailure {
    /// The server answered 5xx (it refuses this message for good, or says so).
    Permanent,
    /// The server answered 4xx (try later).
    Transient,
    Timeout,
    Tls,
    /// Could not connect, or the conversation broke off.
    Connection,
    /// The message itself could not be built (a stored address lettre refuses).
    Message,
}

impl SendFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permanent => "permanent",
            Self::Transient => "transient",
            Self::Timeout => "timeout",
            Self::Tls => "tls",
            Self::Connection => "connection",
            Self::Message => "message",
        }
    }

    fn of(err: &lettre::transport::smtp::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_tls() {
            Self::Tls
        } else if err.is_permanent() {
            Self::Permanent
        } else if err.is_transient() {
            Self::Transient
        } else {
            Self::Connection
        }
    }
}

/// The configured relay and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailer")
    }
}

impl Mailer {
    /// The relay of `settings`, or None when `email.smtp_url` is unset. Validated settings do not
    /// fail here; the error names the key all the same.
    pub fn from_settings(settings: &EmailSettings) -> anyhow::Result<Option<Self>> {
        let Some(url) = &settings.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|_| {
                anyhow::anyhow!("configuration key `email.smtp_url`: not a usable SMTP URL")
            })?
            .timeout(Some(Duration::from_secs(settings.timeout_seconds)))
            .build();
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|_| anyhow::anyhow!("configuration key `email.from`: not an address"))?;
        Ok(Some(Self { transport, from }))
    }

    /// Sends one plain-text message; Ok once the server accepted it for delivery.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), SendFailure> {
        let to = to.parse::<Mailbox>().map_err(|_| SendFailure::Message)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| SendFailure::Message)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| SendFailure::of(&err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        check_url("smtp://127.0.0.1:2525").unwrap();
        check_url("smtp://user:pw@localhost:2525").unwrap();
        check_url("smtp://user:pw@127.0.0.1:2525").unwrap();
        assert!(check_url("smtp://user:pw@10.0.0.1:2525").is_err());
        check_url("smtps://user:pw@mail.example.org").unwrap();
        check_url("smtp://user:pw@mail.example.org:587?tls=required").unwrap();
        assert!(check_url("smtp://user:pw@mail.example.org:587").is_err());
        assert!(check_url("smtp://mail.example.org?tls=maybe").is_err());
        assert!(check_url("https://mail.example.org").is_err());
        assert!(check_url("not a url").is_err());
    }
}
