//! The client's network address, and the proxies trusted to name it.
//!
//! Behind a TLS proxy every request comes from the proxy's address; the
//! proxy names the client in `X-Forwarded-For`, appending the address it
//! saw to whatever the client sent. So the header is believed only from a
//! trusted proxy (`SOTAY_TRUSTED_PROXIES`), and read from the right: the
//! first address not itself a trusted proxy is the client. What a client
//! writes into the header itself is never believed.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The setting that lists the trusted proxies.
pub const TRUSTED_PROXIES_ENV: &str = "SOTAY_TRUSTED_PROXIES";

/// Proxies whose `X-Forwarded-For` is believed: addresses or networks
/// (`127.0.0.1`, `10.0.0.0/8`, `::1`). None by default: the peer is the
/// client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list; an empty one trusts no proxy.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut nets = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => item.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                    format!(
                        "{TRUSTED_PROXIES_ENV}: \"{item}\" is neither an IP address nor a network \
                         such as 10.0.0.0/8"
                    )
                })?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }
}

impl TrustedProxies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|n| n.contains(&addr))
    }

    /// The client behind a request from `peer` carrying `forwarded_for`
    /// (every `X-Forwarded-For` header, in order).
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(addr) => {
                    client = canonical(addr);
                    if !self.trusts(client) {
                        return client;
                    }
                }
                // A hop that is not an address ends what can be believed.
                None => return client,
            }
        }
        client
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`, as a dual-stack
/// socket reports it) is the IPv4 address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(a) = hop.parse::<IpAddr>() {
        return Some(a);
    }
    if let Ok(s) = hop.parse::<std::net::SocketAddr>() {
        return Some(s.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
}

/// What login failures are counted against for an address: the address
/// itself for IPv4; for IPv6 its /64, which one subscriber or office holds
/// whole.
pub fn throttle_key(addr: &str) -> Option<String> {
    let addr = canonical(addr.parse::<IpAddr>().ok()?);
    Some(match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => IpNet::new(IpAddr::V6(v6), 64)
            .map(|n| n.trunc().to_string())
            .unwrap_or_else(|_| v6.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn no_proxy_trusted_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.7"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let p: TrustedProxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
        // The client wrote a forged address; the proxy appended the real one.
        assert_eq!(
            p.client(ip("127.0.0.1"), ["1.1.1.1, 203.0.113.7"].into_iter()),
            ip("203.0.113.7")
        );
        // Two proxies, one header each.
        assert_eq!(
            p.client(
                ip("10.1.2.3"),
                ["1.1.1.1, 203.0.113.7", "10.9.9.9"].into_iter()
            ),
            ip("203.0.113.7")
        );
        // Ports, brackets and mapped addresses.
        assert_eq!(
            p.client(ip("::ffff:127.0.0.1"), ["203.0.113.7:5123"].into_iter()),
            ip("203.0.113.7")
        );
        assert_eq!(
            p.client(ip("127.0.0.1"), ["[2001:db8::5]:443"].into_iter()),
            ip("2001:db8::5")
        );
        // No header, or one that is not an address: the last believable hop.
        assert_eq!(
            p.client(ip("127.0.0.1"), std::iter::empty()),
            ip("127.0.0.1")
        );
        assert_eq!(
            p.client(ip("127.0.0.1"), ["203.0.113.7, unknown"].into_iter()),
            ip("127.0.0.1")
        );
        // From an untrusted peer the header is not read at all.
        assert_eq!(
            p.client(ip("198.51.100.9"), ["203.0.113.7"].into_iter()),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn a_bad_entry_is_named() {
        let e = "127.0.0.1, proxy.local"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(e.contains("\"proxy.local\""), "{e}");
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert_eq!(
            "::1".parse::<TrustedProxies>().unwrap(),
            "::1/128".parse::<TrustedProxies>().unwrap()
        );
    }

    #[test]
    fn ipv6_failures_count_per_64() {
        assert_eq!(
            throttle_key("2001:db8:1:2:aaaa::1"),
            throttle_key("2001:db8:1:2:bbbb::9")
        );
        assert_eq!(
            throttle_key("2001:db8:1:2::1").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_ne!(
            throttle_key("2001:db8:1:2::1"),
            throttle_key("2001:db8:1:3::1")
        );
        assert_eq!(throttle_key("::ffff:10.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(throttle_key("nonsense"), None);
    }
}
