//! Which upstream targets a tunnel may reach: pure functions, no I/O.
//!
//! Deny by default: a target passes only if its port is listed, its name is allowed (a pattern or
//! "any public host"), and EVERY address the name resolved to is public or inside a range the
//! configuration allows explicitly. The caller connects to one of those checked addresses, never
//! to the name again, so a second DNS answer cannot slip a private address in (DNS rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::config::Config;

/// Why a target is refused. The message goes to the client as is, so it names only what the
/// client itself sent or what the name resolved to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("port {0} is not allowed")]
    Port(u16),
    #[error("host {0:?} is not allowed")]
    Host(String),
    #[error("address {0} is {1} and not allowed")]
    Address(IpAddr, AddrClass),
}

/// The kind of an IP address, as far as relaying to it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    Public,
    Loopback,
    Private,
    LinkLocal,
    Cgnat,
    UniqueLocal,
    Multicast,
    Unspecified,
    Broadcast,
    Documentation,
    CloudMetadata,
    /// Other special-purpose ranges (this-network, benchmarking, reserved, discard, ...).
    Reserved,
}

impl std::fmt::Display for AddrClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            AddrClass::Public => "public",
            AddrClass::Loopback => "loopback",
            AddrClass::Private => "private",
            AddrClass::LinkLocal => "link-local",
            AddrClass::Cgnat => "carrier-grade NAT",
            AddrClass::UniqueLocal => "unique-local",
            AddrClass::Multicast => "multicast",
            AddrClass::Unspecified => "unspecified",
            AddrClass::Broadcast => "broadcast",
            AddrClass::Documentation => "documentation",
            AddrClass::CloudMetadata => "a cloud metadata address",
            AddrClass::Reserved => "reserved",
        };
        f.write_str(s)
    }
}

/// Classifies an address. IPv4-mapped and NAT64 (64:ff9b::/96) IPv6 addresses are judged by the
/// IPv4 address inside them: they reach it.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        AddrClass::CloudMetadata
    } else if ip.is_unspecified() || a == 0 {
        AddrClass::Unspecified
    } else if ip.is_loopback() {
        AddrClass::Loopback
    } else if ip.is_private() {
        AddrClass::Private
    } else if ip.is_link_local() {
        AddrClass::LinkLocal
    } else if a == 100 && (64..128).contains(&b) {
        AddrClass::Cgnat
    } else if ip.is_broadcast() {
        AddrClass::Broadcast
    } else if ip.is_multicast() {
        AddrClass::Multicast
    } else if ip.is_documentation() {
        AddrClass::Documentation
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (b == 18 || b == 19)) || a >= 240 {
        // IETF protocol assignments, benchmarking, reserved (240/4).
        AddrClass::Reserved
    } else {
        AddrClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return classify_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        AddrClass::CloudMetadata
    } else if ip.is_unspecified() {
        AddrClass::Unspecified
    } else if ip.is_loopback() {
        AddrClass::Loopback
    } else if s[0] & 0xfe00 == 0xfc00 {
        AddrClass::UniqueLocal
    } else if s[0] & 0xffc0 == 0xfe80 {
        AddrClass::LinkLocal
    } else if s[0] & 0xff00 == 0xff00 {
        AddrClass::Multicast
    } else if s[0] == 0x2001 && s[1] == 0x0db8 || s[0] == 0x3fff && s[1] & 0xf000 == 0 {
        AddrClass::Documentation
    } else if s[0] & 0xe000 != 0x2000 || (s[0] == 0x2001 && s[1] < 0x0200) || s[0] == 0x2002 {
        // Outside global unicast 2000::/3, the IETF special block 2001::/23 (Teredo,
        // benchmarking, ORCHID), and 6to4 (which can reach any IPv4 address).
        AddrClass::Reserved
    } else {
        AddrClass::Public
    }
}

/// The checks, built once from the configuration.
#[derive(Debug, Clone)]
pub struct Policy {
    ports: Vec<u16>,
    hosts: Vec<String>,
    any_public_host: bool,
    private_allowed: Vec<IpNet>,
}

impl Policy {
    pub fn new(config: &Config) -> Policy {
        Policy {
            ports: config.allow_ports.clone(),
            hosts: config.allow_hosts.iter().map(|h| normalise(h)).collect(),
            any_public_host: config.allow_any_public_host,
            private_allowed: config.allow_private_cidrs.clone(),
        }
    }

    /// Checks what the client asked for, before any DNS query. An empty port list allows no
    /// port: deny by default has no "any" spelled as nothing.
    pub fn check_request(&self, host: &str, port: u16) -> Result<(), Denied> {
        if !self.ports.contains(&port) {
            return Err(Denied::Port(port));
        }
        let name = normalise(host);
        if self.any_public_host || self.hosts.iter().any(|p| host_matches(p, &name)) {
            Ok(())
        } else {
            Err(Denied::Host(host.to_string()))
        }
    }

    /// Checks one resolved address. Cloud metadata endpoints are refused even inside an allowed
    /// private range: a range such as `169.254.0.0/16` must not hand out the host's credentials.
    pub fn check_addr(&self, ip: IpAddr) -> Result<(), Denied> {
        let ip = canonical(ip);
        let class = classify(ip);
        if class == AddrClass::CloudMetadata {
            return Err(Denied::Address(ip, class));
        }
        if class == AddrClass::Public || self.private_allowed.iter().any(|n| n.contains(&ip)) {
            Ok(())
        } else {
            Err(Denied::Address(ip, class))
        }
    }
}

/// IPv4-mapped IPv6 addresses are compared with IPv4 ranges as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `*.example.com` matches names below example.com (any depth), not example.com itself.
fn host_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            name.len() > suffix.len() + 1
                && name.ends_with(suffix)
                && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
        }
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(addr: &str, expected: AddrClass) {
        let ip: IpAddr = addr.parse().unwrap();
        assert_eq!(classify(ip), expected, "{addr}");
    }

    #[test]
    fn address_classes() {
        for (addr, class) in [
            ("8.8.8.8", AddrClass::Public),
            ("1.1.1.1", AddrClass::Public),
            ("127.0.0.1", AddrClass::Loopback),
            ("127.255.0.9", AddrClass::Loopback),
            ("10.0.0.1", AddrClass::Private),
            ("172.16.5.4", AddrClass::Private),
            ("172.32.0.1", AddrClass::Public),
            ("192.168.1.1", AddrClass::Private),
            ("169.254.1.1", AddrClass::LinkLocal),
            ("169.254.169.254", AddrClass::CloudMetadata),
            ("100.64.0.1", AddrClass::Cgnat),
            ("100.127.255.255", AddrClass::Cgnat),
            ("100.128.0.1", AddrClass::Public),
            ("224.0.0.1", AddrClass::Multicast),
            ("255.255.255.255", AddrClass::Broadcast),
            ("0.0.0.0", AddrClass::Unspecified),
            ("0.1.2.3", AddrClass::Unspecified),
            ("192.0.2.1", AddrClass::Documentation),
            ("198.51.100.1", AddrClass::Documentation),
            ("203.0.113.1", AddrClass::Documentation),
            ("198.18.0.1", AddrClass::Reserved),
            ("240.0.0.1", AddrClass::Reserved),
            ("2a00:1450:4001::1", AddrClass::Public),
            ("::1", AddrClass::Loopback),
            ("::", AddrClass::Unspecified),
            ("fc00::1", AddrClass::UniqueLocal),
            ("fd12:3456::1", AddrClass::UniqueLocal),
            ("fd00:ec2::254", AddrClass::CloudMetadata),
            ("fe80::1", AddrClass::LinkLocal),
            ("ff02::1", AddrClass::Multicast),
            ("2001:db8::1", AddrClass::Documentation),
            ("::ffff:127.0.0.1", AddrClass::Loopback),
            ("::ffff:169.254.169.254", AddrClass::CloudMetadata),
            ("::ffff:8.8.8.8", AddrClass::Public),
            ("64:ff9b::10.0.0.1", AddrClass::Private),
            ("2002:7f00:1::", AddrClass::Reserved),
            ("2001::1", AddrClass::Reserved),
            ("100::1", AddrClass::Reserved),
        ] {
            check(addr, class);
        }
    }

    fn policy(f: impl FnOnce(&mut Config)) -> Policy {
        let mut c = Config::default();
        f(&mut c);
        Policy::new(&c)
    }

    #[test]
    fn ports_are_denied_unless_listed() {
        let p = policy(|_| {});
        assert_eq!(p.check_request("pop.example.com", 995), Ok(()));
        assert_eq!(p.check_request("pop.example.com", 110), Ok(()));
        assert_eq!(
            p.check_request("pop.example.com", 25),
            Err(Denied::Port(25))
        );
    }

    #[test]
    fn an_empty_port_list_denies_every_port() {
        let p = policy(|c| c.allow_ports.clear());
        for port in [1, 110, 995, 65535] {
            assert_eq!(
                p.check_request("pop.example.com", port),
                Err(Denied::Port(port))
            );
        }
    }

    #[test]
    fn host_patterns() {
        let p = policy(|c| {
            c.allow_any_public_host = false;
            c.allow_hosts = vec!["pop.example.org".into(), "*.Example.com".into()];
        });
        for (host, ok) in [
            ("pop.example.org", true),
            ("POP.example.org.", true),
            ("x.pop.example.org", false),
            ("a.example.com", true),
            ("a.b.example.com", true),
            ("example.com", false),
            ("badexample.com", false),
            ("a.example.com.evil", false),
        ] {
            assert_eq!(p.check_request(host, 995).is_ok(), ok, "{host}");
        }
    }

    #[test]
    fn private_addresses_need_an_explicit_range() {
        let p = policy(|_| {});
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            p.check_addr(loopback),
            Err(Denied::Address(loopback, AddrClass::Loopback))
        );
        assert!(p.check_addr("::ffff:10.1.1.1".parse().unwrap()).is_err());
        assert!(p.check_addr("8.8.4.4".parse().unwrap()).is_ok());

        let p = policy(|c| c.allow_private_cidrs = vec!["127.0.0.0/8".parse().unwrap()]);
        assert_eq!(p.check_addr(loopback), Ok(()));
        assert!(p.check_addr("::ffff:127.0.0.2".parse().unwrap()).is_ok());
        assert!(p.check_addr("::1".parse().unwrap()).is_err());
        assert!(p.check_addr("169.254.169.254".parse().unwrap()).is_err());
    }

    #[test]
    fn metadata_addresses_stay_denied_inside_an_allowed_range() {
        let p = policy(|c| {
            c.allow_private_cidrs = vec![
                "169.254.0.0/16".parse().unwrap(),
                "0.0.0.0/0".parse().unwrap(),
                "::/0".parse().unwrap(),
            ]
        });
        assert!(p.check_addr("169.254.1.1".parse().unwrap()).is_ok());
        for meta in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"] {
            let ip: IpAddr = meta.parse().unwrap();
            assert!(
                matches!(
                    p.check_addr(ip),
                    Err(Denied::Address(_, AddrClass::CloudMetadata))
                ),
                "{meta}"
            );
        }
    }
}
