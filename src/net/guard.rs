//! The rule for URLs that customers give (SPEC §4): `http`/`https` only, and no address a customer
//! could use to reach inside our network — loopback, private (RFC 1918, CGNAT, IPv6 ULA), link-local
//! (the cloud metadata address among them), multicast, unspecified, broadcast, deprecated site-local
//! `fec0::/10`, or an IPv6 form that embeds one of these IPv4 addresses (`embedded_ipv4`) — unless
//! `outbound.allow_networks` lists it. Checked when a URL is set
//! ([`AddressPolicy::check_url`]) and again at every connection ([`GuardedResolver`], which refuses
//! forbidden addresses as it resolves, so no second lookup can be rebound). IP literals never reach a
//! resolver, so a sender checks them itself with [`AddressPolicy::permits_literal`].
//!
//! Connector base URLs (Telegram, WhatsApp) are operator configuration and do not go through this.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which addresses outbound requests to customers' URLs may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("not an absolute http or https URL")]
    NotHttp,
    #[error("the host does not resolve")]
    Unresolvable,
    #[error("the host resolves to an address that may not be reached: {0}")]
    Forbidden(IpAddr),
}

/// A name every address of which is forbidden, as the resolver reports it.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to addresses that may not be reached")]
struct ForbiddenName(String);

/// Whether a request failed because its host resolves only to forbidden addresses (a permanent
/// refusal, unlike a network error).
pub fn refused_by_policy(e: &reqwest::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<ForbiddenName>() {
            return true;
        }
        cause = c.source();
    }
    false
}

impl AddressPolicy {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    /// Whether `ip` may be reached: listed in `allow_networks`, or in none of the forbidden classes.
    /// An IPv6 address that embeds an IPv4 one is judged as that IPv4 address; one whose embedding
    /// cannot be read for certain (Teredo, local-use NAT64) only if `allow_networks` lists it.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let listed = |ip: IpAddr| self.allow.iter().any(|net| net.contains(&ip));
        match ip {
            IpAddr::V6(v6) => match embedded_ipv4(v6) {
                Embedded::Ipv4(v4) => listed(ip) || listed(IpAddr::V4(v4)) || !forbidden(IpAddr::V4(v4)),
                Embedded::Unreadable => listed(ip),
                Embedded::None => listed(ip) || !forbidden(ip),
            },
            v4 => listed(v4) || !forbidden(v4),
        }
    }

    /// For a URL whose host is an IP literal: whether it may be reached (names are judged when
    /// resolved). `None` when the URL has no host.
    pub fn permits_literal(&self, url: &url::Url) -> Option<bool> {
        match url.host()? {
            url::Host::Ipv4(v4) => Some(self.permits(IpAddr::V4(v4))),
            url::Host::Ipv6(v6) => Some(self.permits(IpAddr::V6(v6))),
            url::Host::Domain(_) => Some(true),
        }
    }

    /// The check when a URL is set: an absolute http(s) URL whose host resolves, every address of it
    /// permitted.
    pub async fn check_url(&self, text: &str) -> Result<url::Url, UrlRefusal> {
        let url = url::Url::parse(text).map_err(|_| UrlRefusal::NotHttp)?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(UrlRefusal::NotHttp);
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(UrlRefusal::NotHttp)?;
        // `host_str` keeps IPv6 literals in brackets; the resolver wants them bare.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((host, port)).await.map_err(|_| UrlRefusal::Unresolvable)?.collect();
        if addrs.is_empty() {
            return Err(UrlRefusal::Unresolvable);
        }
        match addrs.iter().map(SocketAddr::ip).find(|ip| !self.permits(*ip)) {
            Some(ip) => Err(UrlRefusal::Forbidden(ip)),
            None => Ok(url),
        }
    }
}

#[async_trait::async_trait]
impl crate::domain::webhook_ports::UrlGuard for AddressPolicy {
    async fn check(&self, url: &str) -> Result<(), String> {
        self.check_url(url).await.map(drop).map_err(|e| e.to_string())
    }
}

/// What an IPv6 address says of an IPv4 one inside it.
enum Embedded {
    Ipv4(Ipv4Addr),
    /// A form that carries an IPv4 address in a place its prefix decides (RFC 8215's local-use
    /// `64:ff9b:1::/48`) or obfuscated (Teredo's client): refused unless listed.
    Unreadable,
    None,
}

/// The IPv4 address an IPv6 one stands for, in the forms that carry one: IPv4-mapped `::ffff:0:0/96`,
/// SIIT's `::ffff:0:0:0/96`, IPv4-compatible `::/96` (`::` and `::1` included: they read as
/// `0.0.0.0` and `0.0.0.1`, both forbidden), NAT64's well-known `64:ff9b::/96`, and 6to4's
/// `2002::/16`.
fn embedded_ipv4(v6: std::net::Ipv6Addr) -> Embedded {
    let s = v6.segments();
    let low = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] | [0, 0, 0, 0, 0, 0, _, _] => {
            Embedded::Ipv4(low)
        }
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Embedded::Ipv4(low),
        [0x64, 0xff9b, 1, ..] | [0x2001, 0, ..] => Embedded::Unreadable,
        [0x2002, hi, lo, ..] => Embedded::Ipv4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        _ => Embedded::None,
    }
}

/// The forbidden classes of SPEC §4.
fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let cgnat = u32::from(v4) & 0xffc0_0000 == u32::from(Ipv4Addr::new(100, 64, 0, 0));
            let this_network = v4.octets()[0] == 0;
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || cgnat
                || this_network
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            let unique_local = first & 0xfe00 == 0xfc00;
            let link_local = first & 0xffc0 == 0xfe80;
            let site_local = first & 0xffc0 == 0xfec0;
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || unique_local
                || link_local
                || site_local
        }
    }
}

/// A DNS resolver that keeps only the addresses the policy permits, so that the address a connection
/// is made to is the one that was checked (no window for DNS rebinding between check and connect).
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let permitted: Vec<SocketAddr> = found.filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(Box::new(ForbiddenName(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_forbidden_class_is_refused_and_public_addresses_pass() {
        let policy = AddressPolicy::default();
        for bad in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "224.0.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "fec0::1",
            "feff::1",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "2002:a00:1::1",
            "2002:7f00:1::",
            "::10.0.0.1",
            "::127.0.0.1",
            "::ffff:0:10.0.0.1",
            "::ffff:0:127.0.0.1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!policy.permits(ip(bad)), "{bad} must be refused");
        }
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::8.8.8.8",
            "::ffff:0:8.8.8.8",
            "2001:db9::1",
        ] {
            assert!(policy.permits(ip(good)), "{good} must pass");
        }
    }

    #[test]
    fn allow_networks_lift_the_rule_for_their_ranges_only() {
        let policy = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("::ffff:127.0.0.1")), "judged as its IPv4 address");
        assert!(policy.permits(ip("64:ff9b::7f00:1")) && policy.permits(ip("2002:7f00:1::")));
        assert!(!policy.permits(ip("64:ff9b::a00:1")));
        assert!(!policy.permits(ip("2001:0:4136:e378:8000:63bf:3fff:fdd2")), "Teredo: only if listed");
        assert!(!policy.permits(ip("::1")));
        assert!(!policy.permits(ip("10.0.0.1")));
    }

    #[tokio::test]
    async fn urls_are_checked_by_scheme_and_resolved_address() {
        let policy = AddressPolicy::default();
        for (url, want) in [
            ("ftp://example.com/x", UrlRefusal::NotHttp),
            ("/relative", UrlRefusal::NotHttp),
            ("mailto:a@example.com", UrlRefusal::NotHttp),
            ("http://127.0.0.1:9/hook", UrlRefusal::Forbidden(ip("127.0.0.1"))),
            ("http://[::1]/hook", UrlRefusal::Forbidden(ip("::1"))),
            (
                "http://[::ffff:a9fe:a9fe]/latest/meta-data",
                UrlRefusal::Forbidden(ip("::ffff:169.254.169.254")),
            ),
            ("http://localhost:9/hook", UrlRefusal::Forbidden(ip("127.0.0.1"))),
        ] {
            match policy.check_url(url).await {
                Err(UrlRefusal::Forbidden(_)) if matches!(want, UrlRefusal::Forbidden(_)) => {}
                got => assert_eq!(got.err(), Some(want), "{url}"),
            }
        }
        let allowed = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(allowed.check_url("http://127.0.0.1:9/hook").await.is_ok());
    }

    #[tokio::test]
    async fn the_guarded_resolver_never_connects_to_a_forbidden_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = |policy: AddressPolicy| {
            reqwest::Client::builder()
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver::new(Arc::new(policy))))
                .build()
                .unwrap()
        };
        let refused = client(AddressPolicy::default()).get(format!("http://localhost:{port}/")).send().await;
        assert!(refused.is_err(), "a name resolving to loopback is refused at connect time");
        let allowed = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]);
        let accepting = tokio::spawn(async move { listener.accept().await.is_ok() });
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            client(allowed).get(format!("http://localhost:{port}/")).send(),
        )
        .await;
        assert!(accepting.await.unwrap(), "with the range allowed, the connection is made");
    }
}
