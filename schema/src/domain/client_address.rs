//! Who a request comes from, for rate limits: the client's address behind trusted reverse proxies
//! (`X-Forwarded-For`), and the key a client is counted under (an IPv4 address, an IPv6 /64).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed, as networks. Empty by default: then
/// the header is ignored and the peer is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `trusted_proxies` entry that is neither an address nor a network (`10.0.0.0/8`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or a network such as 10.0.0.0/8 or fd00::/8")]
pub struct InvalidProxy(pub String);

impl TrustedProxies {
    /// Reads networks (`10.0.0.0/8`, `fd00::/8`) or single addresses (`192.0.2.7`, `::1`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, InvalidProxy> {
        entries
            .iter()
            .map(|entry| {
                let text = entry.as_ref().trim();
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| InvalidProxy(text.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `ip` (an IPv4-mapped IPv6 address counts as its IPv4 one) is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy; then `X-Forwarded-For`
/// (every such header's raw value, in order) is read from the right — each proxy appends the
/// address it got the request from — past the trusted proxies to the first address that is not
/// one. The entries left of that were written by the client and are never believed. A malformed
/// entry reached before that answer (or a header that is not text) makes the peer the answer:
/// a broken chain is not guessed at. When every entry is a trusted proxy, the leftmost is.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut entries = Vec::new();
    for value in forwarded_for {
        let Ok(value) = std::str::from_utf8(value) else {
            return peer;
        };
        entries.extend(value.split(','));
    }
    let mut nearest = peer;
    for entry in entries.into_iter().rev() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let Some(address) = parse_entry(entry) else {
            return peer;
        };
        if !trusted.contains(address) {
            return address;
        }
        nearest = address;
    }
    nearest
}

/// One `X-Forwarded-For` entry: an address, with a port or IPv6 brackets as some proxies write.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let address = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(address.to_canonical())
}

/// The key a client is rate-limited under: its IPv4 address, or the /64 its IPv6 address is in
/// (one household or phone gets a whole /64 and can rotate through it at will). An IPv4-mapped
/// IPv6 address is its IPv4 one.
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::from(u64::MAX));
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    fn client(peer: &str, headers: &[&str], trusted: &TrustedProxies) -> IpAddr {
        client_address(ip(peer), headers.iter().map(|h| h.as_bytes()), trusted)
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            client("203.0.113.5", &["198.51.100.1"], &none),
            ip("203.0.113.5")
        );
        let other = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            client("203.0.113.5", &["198.51.100.1"], &other),
            ip("203.0.113.5"),
            "the peer is not a trusted proxy: anyone can send the header"
        );
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_from_the_right_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        assert_eq!(
            client("127.0.0.1", &["198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
        // The client wrote "1.1.1.1" itself; the proxies appended the rest.
        assert_eq!(
            client("127.0.0.1", &["1.1.1.1, 198.51.100.1, 10.0.0.2"], &trusted),
            ip("198.51.100.1")
        );
        // Several headers are one list, in order.
        assert_eq!(
            client("10.0.0.3", &["1.1.1.1, 198.51.100.1", "10.0.0.2"], &trusted),
            ip("198.51.100.1")
        );
        // Ports, brackets and spaces as proxies write them.
        assert_eq!(
            client("127.0.0.1", &[" 198.51.100.1:4711 "], &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client("127.0.0.1", &["[2001:db8::1]:443"], &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            client("127.0.0.1", &["[2001:db8::1]"], &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            client("127.0.0.1", &["::ffff:198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn a_broken_chain_falls_back_to_the_peer() {
        let trusted = proxies(&["127.0.0.0/8"]);
        for header in [
            "unknown",
            "198.51.100.1, garbage",
            "not an address at all",
            ",",
        ] {
            assert_eq!(
                client("127.0.0.1", &[header], &trusted),
                ip("127.0.0.1"),
                "{header}"
            );
        }
        assert_eq!(client("127.0.0.1", &[], &trusted), ip("127.0.0.1"));
        // Garbage left of the first untrusted entry is the client's own and does not matter.
        assert_eq!(
            client("127.0.0.1", &["garbage, 198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
        let not_text: &[u8] = b"198.51.100.1\xff";
        assert_eq!(
            client_address(ip("127.0.0.1"), [not_text], &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_leftmost_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        assert_eq!(
            client("127.0.0.1", &["10.1.1.1, 10.0.0.2"], &trusted),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn an_ipv4_mapped_peer_is_its_ipv4_address() {
        let trusted = proxies(&["127.0.0.1"]);
        assert_eq!(
            client("::ffff:127.0.0.1", &["198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client("::ffff:203.0.113.5", &[], &TrustedProxies::default()),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn entries_are_networks_or_addresses() {
        let trusted = proxies(&[
            "10.0.0.0/8",
            "192.0.2.7",
            "fd00::/8",
            "::1",
            "172.16.0.9/12",
        ]);
        assert!(trusted.contains(ip("10.200.0.1")));
        assert!(trusted.contains(ip("192.0.2.7")));
        assert!(!trusted.contains(ip("192.0.2.8")));
        assert!(trusted.contains(ip("fd12::1")));
        assert!(trusted.contains(ip("::1")));
        assert!(
            trusted.contains(ip("172.31.255.255")),
            "host bits are dropped"
        );
        assert!(trusted.contains(ip("::ffff:10.0.0.1")));
        for bad in ["", "10.0.0.0/33", "localhost", "10.0.0.0/8/8"] {
            assert_eq!(
                TrustedProxies::parse(&[bad]),
                Err(InvalidProxy(bad.to_owned()))
            );
        }
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(
            rate_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            rate_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(rate_key(ip("2001:db8:1:2:ffff::1")), ip("2001:db8:1:2::"));
        assert_ne!(
            rate_key(ip("2001:db8:1:2::1")),
            rate_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(rate_key(ip("198.51.100.1")), ip("198.51.100.1"));
        assert_ne!(rate_key(ip("198.51.100.1")), rate_key(ip("198.51.100.2")));
        assert_eq!(rate_key(ip("::ffff:198.51.100.1")), ip("198.51.100.1"));
    }
}
