//! Rules of push delivery: what a push service's answer means, and when to try again.

use std::time::Duration;

/// The Web Push `Urgency` header (RFC 8030 §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

impl Urgency {
    pub fn header_value(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::High => "high",
        }
    }

    pub fn as_str(self) -> &'static str {
        self.header_value()
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "normal" => Some(Self::Normal),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

/// What to do after one attempt to hand a message to a push service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (201): the push service will deliver it.
    Delivered,
    /// 429, 5xx, a timeout or a broken connection: try again later, after `retry_after` if the
    /// service said so.
    Retry { retry_after: Option<Duration> },
    /// 404 or 410: the subscription no longer exists; remove it.
    Gone,
    /// 400 or 413 (and other 4xx): the request was wrong. A bug on our side: never retried.
    Rejected,
    /// 401 or 403: the VAPID signature was refused. A configuration problem: never retried.
    AuthRefused,
}

/// Reads a push service's answer. `status` is `None` when no answer came (timeout, connection).
pub fn classify(status: Option<u16>, retry_after: Option<Duration>) -> Outcome {
    match status {
        None => Outcome::Retry { retry_after: None },
        Some(200..=299) => Outcome::Delivered,
        Some(404 | 410) => Outcome::Gone,
        Some(401 | 403) => Outcome::AuthRefused,
        Some(429 | 500..=599) => Outcome::Retry { retry_after },
        Some(_) => Outcome::Rejected,
    }
}

/// How many times one delivery is attempted before it is marked failed.
pub const MAX_ATTEMPTS: u32 = 8;
const FIRST_RETRY: Duration = Duration::from_secs(15);
const LONGEST_RETRY: Duration = Duration::from_secs(60 * 60);

/// The wait before attempt `attempts + 1`, after `attempts` failed ones: exponential from 15 s,
/// at most an hour, spread by `jitter` (a number in [0, 1) the caller draws) over ±20 % so that
/// retries from many deliveries do not arrive together. A `Retry-After` from the service is
/// honoured when it asks for longer.
pub fn retry_delay(attempts: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    let exponent = attempts.saturating_sub(1).min(16);
    let base = FIRST_RETRY
        .saturating_mul(1u32 << exponent)
        .min(LONGEST_RETRY);
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    let jittered = base.mul_f64(spread);
    match retry_after {
        Some(asked) if asked > jittered => asked.min(LONGEST_RETRY * 6),
        _ => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_what_to_do_next() {
        assert_eq!(classify(Some(201), None), Outcome::Delivered);
        assert_eq!(classify(Some(404), None), Outcome::Gone);
        assert_eq!(classify(Some(410), None), Outcome::Gone);
        for status in [400, 413, 418] {
            assert_eq!(classify(Some(status), None), Outcome::Rejected);
        }
        for status in [401, 403] {
            assert_eq!(classify(Some(status), None), Outcome::AuthRefused);
        }
        let asked = Some(Duration::from_secs(120));
        assert_eq!(
            classify(Some(429), asked),
            Outcome::Retry { retry_after: asked }
        );
        assert_eq!(
            classify(Some(503), None),
            Outcome::Retry { retry_after: None }
        );
        assert_eq!(classify(None, None), Outcome::Retry { retry_after: None });
    }

    #[test]
    fn retries_back_off_exponentially_within_bounds() {
        let middle = 0.5; // no spread
        assert_eq!(retry_delay(1, None, middle), Duration::from_secs(15));
        assert_eq!(retry_delay(2, None, middle), Duration::from_secs(30));
        assert_eq!(retry_delay(3, None, middle), Duration::from_secs(60));
        assert_eq!(retry_delay(20, None, middle), Duration::from_secs(3600));
        assert_eq!(retry_delay(1, None, 0.0), Duration::from_secs(12));
        assert_eq!(retry_delay(1, None, 0.999_999).as_secs(), 17);
    }

    #[test]
    fn retry_after_is_honoured_when_longer() {
        let asked = Some(Duration::from_secs(600));
        assert_eq!(retry_delay(1, asked, 0.5), Duration::from_secs(600));
        assert_eq!(
            retry_delay(1, Some(Duration::from_secs(1)), 0.5),
            Duration::from_secs(15)
        );
        let absurd = Some(Duration::from_secs(10_000_000));
        assert_eq!(retry_delay(1, absurd, 0.5), Duration::from_secs(6 * 3600));
    }
}

/// Where the server may send pushes. The server makes requests to URLs that clients give it, so
/// these rules guard against server-side request forgery: only known push services on port 443 by
/// default, and never internal addresses unless configured (the test suite does). They are checked
/// at registration and again at every send, where the addresses a name resolves to are checked too
/// ([`check_address`]), so a name that later resolves inside the network (DNS rebinding) gets
/// nowhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// Host names, exact (`fcm.googleapis.com`) or with a leading wildcard (`*.push.apple.com`).
    pub allowed_hosts: Vec<String>,
    /// Ports endpoints may use (the scheme's default counts: 443 for https).
    pub allowed_ports: Vec<u16>,
    /// Accept any port (for a local test receiver on a port the system picks; never in production).
    pub allow_any_port: bool,
    /// Accept internal addresses ([`is_internal`]) and IP-literal hosts on them.
    pub allow_private_addresses: bool,
    /// Accept `http://` endpoints (for a local test receiver; never in production).
    pub allow_http: bool,
}

impl Default for EndpointPolicy {
    fn default() -> Self {
        Self {
            allowed_hosts: [
                "fcm.googleapis.com",
                "android.googleapis.com",
                "*.push.services.mozilla.com",
                "*.notify.windows.com",
                "*.push.apple.com",
            ]
            .map(String::from)
            .to_vec(),
            allowed_ports: vec![443],
            allow_any_port: false,
            allow_private_addresses: false,
            allow_http: false,
        }
    }
}

impl EndpointPolicy {
    fn allows_port(&self, port: Option<u16>) -> bool {
        self.allow_any_port || port.is_some_and(|port| self.allowed_ports.contains(&port))
    }
}

const ENDPOINT_MAX_LEN: usize = 2048;

/// Why an endpoint was refused; safe to show (it never echoes the URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointError {
    NotAUrl,
    TooLong,
    NotHttps,
    Credentials,
    HostNotAllowed,
    PortNotAllowed,
    PrivateAddress,
}

impl EndpointError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotAUrl => "is not a URL",
            Self::TooLong => "is too long",
            Self::NotHttps => "must be an https URL",
            Self::Credentials => "must not contain a user name or password",
            Self::HostNotAllowed => "is not on a push service this server sends to",
            Self::PortNotAllowed => "uses a port this server does not send to",
            Self::PrivateAddress => "points to a private, loopback or link-local address",
        }
    }
}

/// Checks a subscription endpoint against the policy; returns the parsed URL. Registration and
/// every send run this same check.
pub fn check_endpoint(endpoint: &str, policy: &EndpointPolicy) -> Result<url::Url, EndpointError> {
    use std::net::IpAddr;
    if endpoint.len() > ENDPOINT_MAX_LEN {
        return Err(EndpointError::TooLong);
    }
    let url = url::Url::parse(endpoint).map_err(|_| EndpointError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        _ => return Err(EndpointError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(name)) if is_loopback_name(name) => {
            IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        }
        Some(url::Host::Domain(name)) => {
            let name = name.to_ascii_lowercase();
            let name = name.trim_end_matches('.');
            if !policy
                .allowed_hosts
                .iter()
                .any(|pattern| host_matches(pattern, name))
            {
                return Err(EndpointError::HostNotAllowed);
            }
            return check_port(url, policy);
        }
        None => return Err(EndpointError::NotAUrl),
    };
    if !policy.allow_private_addresses {
        // A public IP literal is no push service's address either: those have names.
        check_address(ip, policy)?;
        return Err(EndpointError::HostNotAllowed);
    }
    check_port(url, policy)
}

fn check_port(url: url::Url, policy: &EndpointPolicy) -> Result<url::Url, EndpointError> {
    if policy.allows_port(url.port_or_known_default()) {
        Ok(url)
    } else {
        Err(EndpointError::PortNotAllowed)
    }
}

/// Checks an address a push is about to be sent to (an IP-literal host, or one that a host name
/// resolved to at connect time): internal addresses only when the policy allows them.
pub fn check_address(ip: std::net::IpAddr, policy: &EndpointPolicy) -> Result<(), EndpointError> {
    if is_internal(ip) && !policy.allow_private_addresses {
        Err(EndpointError::PrivateAddress)
    } else {
        Ok(())
    }
}

/// `localhost` and every name under it, which resolve to loopback (RFC 6761 §6.3) whatever DNS
/// says; the resolver that sends pushes answers them so itself.
pub fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1),
        None => pattern == host,
    }
}

/// Addresses that outside requests must never reach: this host, private networks and the ranges
/// that are not the public internet (link-local, unique-local, carrier-grade NAT, documentation,
/// benchmarking, reserved, multicast, broadcast, unspecified), and IPv6 forms that carry an IPv4
/// address (mapped, compatible, NAT64) when that address is one of these.
pub fn is_internal(ip: std::net::IpAddr) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0 // "this network"
                || a == 100 && (64..128).contains(&b) // carrier-grade NAT
                || a == 192 && b == 0 && c == 0 // IETF protocol assignments
                || a == 198 && (18..20).contains(&b) // benchmarking
                || a >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let embedded_v4 =
                Ipv4Addr::from((u32::from(segments[6]) << 16) | u32::from(segments[7]));
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local
                || (segments[0] & 0xffc0) == 0xfe80 // link-local
                || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
                // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::a.b.c.d)
                || (segments[..6] == [0; 6] || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
                    && is_internal(IpAddr::V4(embedded_v4))
        }
    }
}

/// A subscription's keys, decoded and checked: the browser's P-256 public key (uncompressed, on
/// the curve) and its 16-byte auth secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SubscriptionKeys {
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    P256dh,
    Auth,
}

impl SubscriptionKeys {
    /// Decodes the base64url strings of `PushSubscription.toJSON().keys` (padding tolerated).
    pub fn parse(p256dh: &str, auth: &str) -> Result<Self, KeyError> {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('='));
        let p256dh = decode(p256dh).map_err(|_| KeyError::P256dh)?;
        let auth = decode(auth).map_err(|_| KeyError::Auth)?;
        if auth.len() != 16 {
            return Err(KeyError::Auth);
        }
        if !is_p256_public_key(&p256dh) {
            return Err(KeyError::P256dh);
        }
        Ok(Self { p256dh, auth })
    }
}

/// True for an uncompressed P-256 point on the curve, checked by one key agreement with it.
fn is_p256_public_key(key: &[u8]) -> bool {
    use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
    if key.len() != 65 || key[0] != 0x04 {
        return false;
    }
    let rng = ring::rand::SystemRandom::new();
    let Ok(private) = EphemeralPrivateKey::generate(&ECDH_P256, &rng) else {
        return false;
    };
    agree_ephemeral(private, &UnparsedPublicKey::new(&ECDH_P256, key), |_| ()).is_ok()
}

#[cfg(test)]
mod endpoint_tests {
    use super::*;

    fn check(url: &str, policy: &EndpointPolicy) -> Result<(), EndpointError> {
        check_endpoint(url, policy).map(|_| ())
    }

    #[test]
    fn the_big_push_services_are_allowed_by_default() {
        let policy = EndpointPolicy::default();
        for url in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
            "https://web.push.apple.com/QGuQyavXutnMH",
            "https://db5p.notify.windows.com/w/?token=BQYAAA",
        ] {
            assert_eq!(check(url, &policy), Ok(()), "{url}");
        }
    }

    #[test]
    fn everything_else_is_refused_by_default() {
        let policy = EndpointPolicy::default();
        let cases = [
            (
                "http://fcm.googleapis.com/fcm/send/x",
                EndpointError::NotHttps,
            ),
            (
                "https://evil.example.com/push",
                EndpointError::HostNotAllowed,
            ),
            (
                "https://push.apple.com.evil.example/x",
                EndpointError::HostNotAllowed,
            ),
            ("https://xpush.apple.com/x", EndpointError::HostNotAllowed),
            ("https://127.0.0.1/push", EndpointError::PrivateAddress),
            ("https://localhost/push", EndpointError::PrivateAddress),
            ("https://10.1.2.3/push", EndpointError::PrivateAddress),
            (
                "https://169.254.169.254/latest/meta-data",
                EndpointError::PrivateAddress,
            ),
            ("https://[::1]/push", EndpointError::PrivateAddress),
            ("https://[fe80::1]/push", EndpointError::PrivateAddress),
            (
                "https://[::ffff:192.168.0.1]/push",
                EndpointError::PrivateAddress,
            ),
            ("https://8.8.8.8/push", EndpointError::HostNotAllowed),
            (
                "https://user:pw@fcm.googleapis.com/x",
                EndpointError::Credentials,
            ),
            ("file:///etc/passwd", EndpointError::NotHttps),
            ("not a url", EndpointError::NotAUrl),
        ];
        for (url, expected) in cases {
            assert_eq!(check(url, &policy), Err(expected), "{url}");
        }
        let long = format!("https://fcm.googleapis.com/{}", "a".repeat(2100));
        assert_eq!(check(&long, &policy), Err(EndpointError::TooLong));
    }

    #[test]
    fn a_test_receiver_can_be_allowed_explicitly() {
        let policy = EndpointPolicy {
            allow_private_addresses: true,
            allow_http: true,
            ..EndpointPolicy::default()
        };
        assert_eq!(
            check("http://127.0.0.1:4000/push/1", &policy),
            Err(EndpointError::PortNotAllowed)
        );
        let policy = EndpointPolicy {
            allow_any_port: true,
            ..policy
        };
        assert_eq!(check("http://127.0.0.1:4000/push/1", &policy), Ok(()));
        assert_eq!(check("http://push.localhost:4000/push/1", &policy), Ok(()));
    }

    #[test]
    fn only_port_443_unless_configured() {
        let policy = EndpointPolicy::default();
        assert_eq!(check("https://fcm.googleapis.com:443/x", &policy), Ok(()));
        for url in [
            "https://fcm.googleapis.com:8443/x",
            "https://fcm.googleapis.com:22/x",
            "https://web.push.apple.com:80/x",
        ] {
            assert_eq!(
                check(url, &policy),
                Err(EndpointError::PortNotAllowed),
                "{url}"
            );
        }
        let policy = EndpointPolicy {
            allowed_ports: vec![443, 8443],
            ..EndpointPolicy::default()
        };
        assert_eq!(check("https://fcm.googleapis.com:8443/x", &policy), Ok(()));
        // http's default port is 80: not allowed just because http is.
        let policy = EndpointPolicy {
            allow_http: true,
            allowed_hosts: vec!["push.example.org".into()],
            ..EndpointPolicy::default()
        };
        assert_eq!(
            check("http://push.example.org/x", &policy),
            Err(EndpointError::PortNotAllowed)
        );
    }

    #[test]
    fn names_under_localhost_are_loopback() {
        let policy = EndpointPolicy {
            allowed_hosts: vec!["*.localhost".into(), "localhost".into()],
            ..EndpointPolicy::default()
        };
        for url in [
            "https://push.localhost/x",
            "https://a.b.LOCALHOST./x",
            "https://localhost./x",
        ] {
            assert_eq!(
                check(url, &policy),
                Err(EndpointError::PrivateAddress),
                "{url}"
            );
        }
        assert!(is_loopback_name("localhost"));
        assert!(!is_loopback_name("localhost.example.com"));
        assert!(!is_loopback_name("notlocalhost"));
    }

    #[test]
    fn internal_addresses_are_recognised_in_every_form() {
        use std::net::IpAddr;
        for internal in [
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            let ip: IpAddr = internal.parse().unwrap();
            assert!(is_internal(ip), "{internal}");
            assert_eq!(
                check_address(ip, &EndpointPolicy::default()),
                Err(EndpointError::PrivateAddress),
                "{internal}"
            );
            let permissive = EndpointPolicy {
                allow_private_addresses: true,
                ..EndpointPolicy::default()
            };
            assert_eq!(check_address(ip, &permissive), Ok(()), "{internal}");
        }
        for public in [
            "8.8.8.8",
            "142.250.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "198.20.0.1",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(!is_internal(ip), "{public}");
            assert_eq!(check_address(ip, &EndpointPolicy::default()), Ok(()));
        }
    }

    #[test]
    fn subscription_keys_must_be_a_curve_point_and_16_bytes() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let rng = ring::rand::SystemRandom::new();
        let private =
            ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng)
                .unwrap();
        let public = private.compute_public_key().unwrap();
        let p256dh = URL_SAFE_NO_PAD.encode(public.as_ref());
        let auth = URL_SAFE_NO_PAD.encode([9u8; 16]);
        assert!(SubscriptionKeys::parse(&p256dh, &auth).is_ok());
        assert!(SubscriptionKeys::parse(&format!("{p256dh}="), &format!("{auth}==")).is_ok());
        assert_eq!(
            SubscriptionKeys::parse(&p256dh, &URL_SAFE_NO_PAD.encode([9u8; 15])).err(),
            Some(KeyError::Auth)
        );
        let mut bent = public.as_ref().to_vec();
        bent[40] ^= 0x55;
        assert_eq!(
            SubscriptionKeys::parse(&URL_SAFE_NO_PAD.encode(bent), &auth).err(),
            Some(KeyError::P256dh)
        );
        assert_eq!(
            SubscriptionKeys::parse("!!", &auth).err(),
            Some(KeyError::P256dh)
        );
    }
}
