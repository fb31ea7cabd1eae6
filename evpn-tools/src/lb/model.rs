//! LB values and keys (operator-tools.md §5.3):
//!
//! ```text
//! lb/conf                                   deps: -
//! lb/vip/<prefix>/<proto>/<port>            deps: lb/conf   (immutable: encap, new-len, sticky)
//! lb/vip/<prefix>/<proto>/<port>/as/<addr>  derived from the VIP (mutable: weight)
//! ```
//!
//! Prefixes and addresses are written honestly (`192.0.2.1/32`): the +96 of VPP 26.06's lb API
//! is a wire detail of the descriptors, never part of a key.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::Serialize;

/// An IP prefix with its host bits clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpPrefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl IpPrefix {
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// Whether `a` lies inside this prefix (same family).
    pub fn contains(&self, a: IpAddr) -> bool {
        match (self.addr, a) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                let m = mask32(self.len);
                u32::from(p) & m == u32::from(a) & m
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => {
                let m = mask128(self.len);
                u128::from(p) & m == u128::from(a) & m
            }
            _ => false,
        }
    }

    /// Whether `other` lies entirely inside this prefix.
    pub fn covers(&self, other: &IpPrefix) -> bool {
        other.len >= self.len && self.contains(other.addr)
    }
}

fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for IpPrefix {
    type Err = String;
    /// `ADDR/LEN`, or a bare address (a host prefix: /32 or /128).
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP prefix (ADDR/LEN)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
        };
        let masked = match addr {
            IpAddr::V4(v) => IpAddr::V4(Ipv4Addr::from(u32::from(v) & mask32(len))),
            IpAddr::V6(v) => IpAddr::V6(Ipv6Addr::from(u128::from(v) & mask128(len))),
        };
        if masked != addr {
            return Err(format!(
                "{s:?} has host bits set (did you mean {masked}/{len}?)"
            ));
        }
        Ok(IpPrefix { addr, len })
    }
}

impl Serialize for IpPrefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A VIP's protocol: TCP, UDP, another IP protocol number, or any (an all-port VIP, port 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
    Other(u8),
    Any,
}

impl Proto {
    /// The IP protocol number on the wire (255 for an all-port VIP, as lb's handler forces it).
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Other(n) => n,
            Proto::Any => 255,
        }
    }
    pub fn from_number(n: u8) -> Proto {
        match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            255 => Proto::Any,
            n => Proto::Other(n),
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proto::Tcp => f.write_str("tcp"),
            Proto::Udp => f.write_str("udp"),
            Proto::Any => f.write_str("any"),
            Proto::Other(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "any" | "all" => Ok(Proto::Any),
            n => n
                .parse::<u8>()
                .map(Proto::from_number)
                .map_err(|_| format!("unknown protocol {s:?}: tcp, udp, any or a number")),
        }
    }
}

impl Serialize for Proto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The encapsulation towards the ASes (lb_types.api `lb_encap_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encap {
    Gre4,
    Gre6,
    L3dsr,
    Nat4,
    Nat6,
}

impl Encap {
    /// `LB_API_ENCAP_TYPE_*`.
    pub fn wire(self) -> u32 {
        match self {
            Encap::Gre4 => 0,
            Encap::Gre6 => 1,
            Encap::L3dsr => 2,
            Encap::Nat4 => 3,
            Encap::Nat6 => 4,
        }
    }

    /// Family and encap of one of lb's internal VIP types, as `show lb vips` prints them.
    pub fn from_vip_type(t: &str) -> Option<(bool, Encap)> {
        Some(match t {
            "ip6-gre6" => (false, Encap::Gre6),
            "ip6-gre4" => (false, Encap::Gre4),
            "ip4-gre6" => (true, Encap::Gre6),
            "ip4-gre4" => (true, Encap::Gre4),
            "ip4-l3dsr" => (true, Encap::L3dsr),
            "ip4-nat4" => (true, Encap::Nat4),
            "ip6-nat6" => (false, Encap::Nat6),
            _ => return None,
        })
    }
}

impl fmt::Display for Encap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encap::Gre4 => "gre4",
            Encap::Gre6 => "gre6",
            Encap::L3dsr => "l3dsr",
            Encap::Nat4 => "nat4",
            Encap::Nat6 => "nat6",
        })
    }
}

impl FromStr for Encap {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "gre4" => Ok(Encap::Gre4),
            "gre6" => Ok(Encap::Gre6),
            "l3dsr" => Ok(Encap::L3dsr),
            "nat4" => Ok(Encap::Nat4),
            "nat6" => Ok(Encap::Nat6),
            _ => Err(format!(
                "unknown encap {s:?}: gre4, gre6, l3dsr, nat4 or nat6"
            )),
        }
    }
}

/// `lb_conf`: the GRE source addresses, sticky buckets per core and flow timeout.
/// `None` in an actual value: VPP 26.06 cannot read it back (`show lb` prints only the
/// addresses).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LbConf {
    pub ip4_src: Ipv4Addr,
    pub ip6_src: Ipv6Addr,
    pub sticky_buckets_per_core: Option<u32>,
    pub flow_timeout: Option<u32>,
}

/// One VIP. `ases` are its derived values (each its own key); they are not compared here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vip {
    pub prefix: IpPrefix,
    pub protocol: Proto,
    pub port: u16,
    pub encap: Encap,
    pub new_flows_table_length: u32,
    pub src_ip_sticky: bool,
    /// Evict the sticky entries of an AS when it is removed (`lb_add_del_as.is_flush`).
    #[serde(skip)]
    pub flush: bool,
    #[serde(skip)]
    pub ases: Vec<As>,
}

/// One application server of a VIP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct As {
    pub address: IpAddr,
    /// 0-100; VPP 26.06 (lb.api 1.1.0) has no weights: every AS counts as 100.
    pub weight: u8,
}

/// A value of the LB reconcile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LbItem {
    Conf(LbConf),
    Vip(Vip),
    As(As),
}

/// Key builders and parsers.
pub mod key {
    use super::*;

    pub const CONF: &str = "lb/conf";
    pub const VIP_PREFIX: &str = "lb/vip/";

    pub fn vip(prefix: &IpPrefix, protocol: Proto, port: u16) -> String {
        format!("lb/vip/{prefix}/{protocol}/{port}")
    }

    pub fn of_vip(v: &Vip) -> String {
        vip(&v.prefix, v.protocol, v.port)
    }

    pub fn as_(vip_key: &str, addr: IpAddr) -> String {
        format!("{vip_key}/as/{addr}")
    }

    pub fn is_vip(k: &str) -> bool {
        k.starts_with(VIP_PREFIX) && k.split('/').count() == 6
    }

    pub fn is_as(k: &str) -> bool {
        k.starts_with(VIP_PREFIX) && k.split('/').count() == 8 && k.split('/').nth(6) == Some("as")
    }

    /// The VIP key of an AS key.
    pub fn vip_of_as(k: &str) -> Option<&str> {
        k.rfind("/as/").map(|i| &k[..i])
    }

    /// The prefix of a VIP (or AS) key.
    pub fn prefix_of(k: &str) -> Option<IpPrefix> {
        let mut s = k.strip_prefix(VIP_PREFIX)?.split('/');
        let (a, l) = (s.next()?, s.next()?);
        format!("{a}/{l}").parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_strictly() {
        let p: IpPrefix = "2001:db8:100::1/128".parse().unwrap();
        assert_eq!(p.to_string(), "2001:db8:100::1/128");
        assert_eq!(
            "192.0.2.1".parse::<IpPrefix>().unwrap().to_string(),
            "192.0.2.1/32"
        );
        let e = "192.0.2.1/24".parse::<IpPrefix>().unwrap_err();
        assert!(e.contains("did you mean 192.0.2.0/24"), "{e}");
        assert!("10.0.0.0/33".parse::<IpPrefix>().is_err());
        assert!("nonsense".parse::<IpPrefix>().is_err());
        let m: IpPrefix = "2001:db8:100::/64".parse().unwrap();
        assert!(m.covers(&p));
        assert!(!m.covers(&"2001:db8:101::1/128".parse().unwrap()));
        assert!(!m.covers(&"192.0.2.1/32".parse().unwrap()));
        assert!("192.0.2.0/24"
            .parse::<IpPrefix>()
            .unwrap()
            .covers(&"192.0.2.1/32".parse().unwrap()));
    }

    #[test]
    fn keys_round_trip() {
        let p: IpPrefix = "2001:db8:100::1/128".parse().unwrap();
        let k = key::vip(&p, Proto::Tcp, 80);
        assert_eq!(k, "lb/vip/2001:db8:100::1/128/tcp/80");
        assert!(key::is_vip(&k));
        let a = key::as_(&k, "2001:db8:1::1".parse().unwrap());
        assert!(key::is_as(&a) && !key::is_vip(&a));
        assert_eq!(key::vip_of_as(&a), Some(k.as_str()));
        assert_eq!(key::prefix_of(&a), Some(p));
        assert_eq!("any".parse::<Proto>().unwrap().number(), 255);
        assert_eq!("17".parse::<Proto>().unwrap(), Proto::Udp);
    }
}
