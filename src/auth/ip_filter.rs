//! IP allow-lists: a request passes when its address is in every non-empty list that applies.

use std::net::IpAddr;

use ipnet::IpNet;

/// IPv4 peers may reach a dual-stack socket as `::ffff:a.b.c.d`; lists name them as IPv4.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

pub fn allows(client: IpAddr, lists: &[&[IpNet]]) -> bool {
    let client = canonical(client);
    lists.iter().all(|list| list.is_empty() || list.iter().any(|net| net.contains(&client)))
}

/// Parses a CIDR, or a bare address as its single-host network.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| format!("not an IP network: {s}"))
}

/// Deserializes a list of CIDRs (or bare addresses) given as a list or as one comma-separated string,
/// as environment variables give them.
pub fn cidr_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split([',', ' ']).map(str::to_string).collect(),
        OneOrMany::Many(v) => v,
    };
    items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_cidr(s).map_err(serde::de::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_non_empty_list_must_match() {
        let a = [parse_cidr("10.0.0.0/8").unwrap()];
        let b = [parse_cidr("10.1.0.0/16").unwrap(), parse_cidr("2001:db8::/32").unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(allows(ip("10.1.2.3"), &[&a, &b]));
        assert!(!allows(ip("10.2.0.1"), &[&a, &b]));
        assert!(allows(ip("192.0.2.1"), &[&[], &[]]));
        assert!(allows(ip("::ffff:10.1.0.9"), &[&a, &b]));
        assert!(allows(ip("2001:db8::5"), &[&[], &b]));
    }
}
