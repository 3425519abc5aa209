//! The client address of a request: the TCP peer, unless the peer is a trusted proxy; only then are
//! `Forwarded` / `X-Forwarded-For` read, right to left, and the first hop that is not a trusted proxy
//! is the client (SPEC §4). Anything unparseable stops the walk at the last hop we could trust.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use super::ip_filter::canonical;

/// `header` gives a request header by its lower-case name; it is asked only when the peer is a trusted
/// proxy (most requests come straight from their client, and then no header is looked up).
pub fn client_address<'h>(
    peer: IpAddr,
    trusted: &[IpNet],
    header: impl Fn(&str) -> Option<&'h str>,
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = canonical(peer);
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = match (header("forwarded"), header("x-forwarded-for")) {
        (Some(f), _) => forwarded_hops(f),
        (None, Some(x)) => x.split(',').map(parse_hop).collect(),
        (None, None) => return peer,
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Some(ip) => {
                client = canonical(ip);
                if !is_trusted(&client) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// The `for=` values of RFC 7239, in order.
fn forwarded_hops(header: &str) -> Vec<Option<IpAddr>> {
    header
        .split(',')
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_hop(v))
        })
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:443"`, `2001:db8::1`.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let v = raw.trim().trim_matches('"');
    v.parse::<IpAddr>()
        .ok()
        .or_else(|| v.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| v.strip_prefix('[')?.split(']').next()?.parse().ok())
}

/// The address a per-address bound counts (SPEC §4): an IPv4 address as itself (an IPv4-mapped IPv6
/// address as its IPv4 one), an IPv6 address by its /64 — one subscriber's whole prefix, which a single
/// host may rotate through at will.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The client address of a request from `peer` with these two headers.
    fn client(
        peer: &str,
        forwarded: Option<&str>,
        x_forwarded_for: Option<&str>,
        trusted: &[IpNet],
    ) -> IpAddr {
        client_address(ip(peer), trusted, |name| match name {
            "forwarded" => forwarded,
            "x-forwarded-for" => x_forwarded_for,
            _ => None,
        })
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client("192.0.2.7", None, Some("1.1.1.1"), &trusted), ip("192.0.2.7"));
    }

    #[test]
    fn an_untrusted_peers_headers_are_not_even_read() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let read = |name: &str| -> Option<&str> { panic!("{name} read for an untrusted peer") };
        assert_eq!(client_address(ip("192.0.2.7"), &trusted, read), ip("192.0.2.7"));
    }

    #[test]
    fn trusted_chain_yields_rightmost_untrusted_hop() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let xff = "6.6.6.6, 203.0.113.9, 10.0.0.2";
        assert_eq!(client("10.0.0.1", None, Some(xff), &trusted), ip("203.0.113.9"));
        let fwd = r#"for=6.6.6.6, for="[2001:db8::9]:1234";proto=https, for=10.0.0.3"#;
        assert_eq!(client("10.0.0.1", Some(fwd), None, &trusted), ip("2001:db8::9"));
    }

    #[test]
    fn garbage_hop_stops_at_last_trusted() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client("10.0.0.1", None, Some("1.2.3.4, junk"), &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn an_ipv6_address_counts_by_its_64_and_a_mapped_one_as_ipv4() {
        let key = |s: &str| address_key(s.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
    }
}
