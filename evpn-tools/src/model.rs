//! The values the engine reconciles and their keys (operator-tools.md §5.3).
//!
//! ```text
//! bd/<id>                          Bd          (derives its members)
//! bd/<id>/member/<if>              Member      deps: bd/<id>, interface/<if>
//! bd/<id>/bvi/<if>                 Bvi         (derived from the loopback) deps: bd/<id>
//! interface/<name>                 Loopback    (derives mac, ll, up, addr/*, the BVI port)
//!                                  Iface       (an interface we do not create: pg0, a tunnel)
//! interface/<if>/mac               Mac
//! interface/<if>/ll                LinkLocal   deps: interface/<if>/mac (and the BVI port)
//! interface/<if>/up                Up          deps: interface/<if>/ll
//! interface/<if>/addr/<a>/<len>    Address     deps: interface/<if>/ll
//! l2fib/<bd>/<mac>                 L2fib       deps: bd/<bd>/member/<if> (or bvi, or bd/<bd> for a filter)
//! vxlan/<instance>                 Vxlan       (derives interface/vxlan_tunnel<instance>)
//! ```
//!
//! A parent carries everything its derived values show (a loopback value holds its MAC,
//! link-local, admin state, addresses and BD), so the state read from VPP and the desired state
//! expand the same way, and a command edits one parent value copied from what it read.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use serde::Serialize;

use crate::mac::Mac;

/// The tag prefix that marks what evpn-tools created (ownership, operator-tools.md §5.4).
pub const OWNER_TAG: &str = "evpn-tools";

/// Whether a tag marks an object as ours.
pub fn owned_tag(tag: &str) -> bool {
    tag == OWNER_TAG || tag.starts_with("evpn-tools:")
}

/// The tag of a BVI loopback: it records the ephemeral MAC, so `bvi release` can restore it
/// without being told (`evpn-tools:bvi:02:00:00:00:01:00`).
pub fn bvi_tag(ephemeral: Mac) -> String {
    format!("{OWNER_TAG}:bvi:{ephemeral}")
}

/// The ephemeral MAC recorded in a BVI tag.
pub fn ephemeral_from_tag(tag: &str) -> Option<Mac> {
    tag.strip_prefix("evpn-tools:bvi:")?.parse().ok()
}

/// An interface address with its prefix length, e.g. `172.16.0.32/24`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub len: u8,
}

impl IfAddr {
    pub fn is_v4(&self) -> bool {
        self.addr.is_ipv4()
    }
}

impl Ord for IfAddr {
    /// Numeric order, IPv4 first (operator-tools.md §1: deterministic).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        fn k(a: &IfAddr) -> (u8, u128, u8) {
            match a.addr {
                IpAddr::V4(v) => (4, u32::from(v) as u128, a.len),
                IpAddr::V6(v) => (6, u128::from(v), a.len),
            }
        }
        k(self).cmp(&k(o))
    }
}

impl PartialOrd for IfAddr {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl fmt::Display for IfAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl fmt::Debug for IfAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for IfAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| format!("invalid address {s:?}: expected ADDRESS/LENGTH"))?;
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("invalid address {s:?}: {a:?} is not an IP address"))?;
        let len: u8 = l
            .parse()
            .map_err(|_| format!("invalid address {s:?}: {l:?} is not a prefix length"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len == 0 || len > max {
            return Err(format!(
                "invalid address {s:?}: prefix length must be 1..={max}"
            ));
        }
        if let IpAddr::V6(v) = addr {
            if v.segments()[0] & 0xffc0 == 0xfe80 {
                return Err(format!(
                    "invalid address {s:?}: a link-local is set with the MAC, not as an address"
                ));
            }
        }
        if addr.is_multicast() || addr.is_unspecified() {
            return Err(format!("invalid address {s:?}: not a unicast address"));
        }
        Ok(IfAddr { addr, len })
    }
}

impl Serialize for IfAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IfAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A bridge domain's settings (`bridge_domain_add_del_v2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bd {
    pub id: u32,
    pub flood: bool,
    pub uu_flood: bool,
    pub forward: bool,
    pub learn: bool,
    pub arp_term: bool,
    pub arp_ufwd: bool,
    pub mac_age: u8,
    pub tag: String,
    /// Members other than the BVI: interface name -> split-horizon group, by name.
    pub members: std::collections::BTreeMap<String, u8>,
}

impl Bd {
    /// A new BD with VPP's defaults for the flags (learn, forward, flood, uu-flood on; ARP
    /// termination and unicast ARP forwarding off), tagged as ours.
    pub fn new(id: u32) -> Self {
        Bd {
            id,
            flood: true,
            uu_flood: true,
            forward: true,
            learn: true,
            arp_term: false,
            arp_ufwd: false,
            mac_age: 0,
            tag: OWNER_TAG.into(),
            members: Default::default(),
        }
    }

    /// The API's `bd_flags` bits that are on (LEARN=1, FWD=2, FLOOD=4, UU_FLOOD=8,
    /// ARP_TERM=16, ARP_UFWD=32).
    pub fn flag_bits(&self) -> u32 {
        [
            (self.learn, 1),
            (self.forward, 2),
            (self.flood, 4),
            (self.uu_flood, 8),
            (self.arp_term, 16),
            (self.arp_ufwd, 32),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |a, (_, b)| a | b)
    }
}

/// A loopback (a BVI candidate or primary) and everything the gateway sets on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loopback {
    /// `loop<instance>`.
    pub instance: u32,
    pub mac: Mac,
    pub tag: String,
    /// L3 MTU, when managed.
    pub mtu: Option<u32>,
    /// The link-local, when IPv6 is enabled (desired: EUI-64 of `mac` unless pinned).
    pub ll: Option<Ipv6Addr>,
    pub up: bool,
    pub addrs: Vec<IfAddr>,
    /// The BD whose BVI this loopback is.
    pub bvi_of: Option<u32>,
    /// The linux-cp host interface (a TAP) paired with this loopback, when managed.
    pub lcp: Option<String>,
}

/// A VXLAN tunnel (`vxlan_add_del_tunnel_v3`), an L2 port of a BD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vxlan {
    pub instance: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub vni: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub encap_vrf_id: u32,
}

/// A static (or filter) L2FIB entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct L2fib {
    pub iface: String,
    pub static_mac: bool,
    pub filter: bool,
    pub bvi: bool,
}

/// Every value the engine reconciles (see the module docs for keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    Bd(Bd),
    Member {
        shg: u8,
    },
    Bvi,
    Loopback(Loopback),
    /// An interface evpn-tools does not create (a PHY, a pg or memif, a tunnel's interface).
    Iface {
        name: String,
    },
    Mac {
        mac: Mac,
    },
    LinkLocal {
        ll: Ipv6Addr,
    },
    /// `after_ll`: brought up after the link-local is set (ordering only, not compared).
    Up {
        #[serde(skip)]
        after_ll: bool,
    },
    Address {
        addr: IfAddr,
        #[serde(skip)]
        after_ll: bool,
    },
    L2fib(L2fib),
    Vxlan(Vxlan),
}

/// Key builders and parsers.
pub mod key {
    use super::{IfAddr, Mac};

    pub fn bd(id: u32) -> String {
        format!("bd/{id}")
    }
    pub fn member(bd: u32, iface: &str) -> String {
        format!("bd/{bd}/member/{iface}")
    }
    pub fn bvi(bd: u32, iface: &str) -> String {
        format!("bd/{bd}/bvi/{iface}")
    }
    pub fn iface(name: &str) -> String {
        format!("interface/{name}")
    }
    pub fn mac(name: &str) -> String {
        format!("interface/{name}/mac")
    }
    pub fn ll(name: &str) -> String {
        format!("interface/{name}/ll")
    }
    pub fn up(name: &str) -> String {
        format!("interface/{name}/up")
    }
    pub fn addr(name: &str, a: &IfAddr) -> String {
        format!("interface/{name}/addr/{a}")
    }
    pub fn l2fib(bd: u32, mac: &Mac) -> String {
        format!("l2fib/{bd}/{mac}")
    }
    pub fn vxlan(instance: u32) -> String {
        format!("vxlan/{instance}")
    }
    /// The interface name a VXLAN tunnel of `instance` gets in VPP.
    pub fn vxlan_iface(instance: u32) -> String {
        format!("vxlan_tunnel{instance}")
    }

    /// Splits a key into its segments.
    pub fn parts(key: &str) -> Vec<&str> {
        key.split('/').collect()
    }
    /// The interface name of an `interface/<name>[/...]` key.
    pub fn iface_of(key: &str) -> Option<&str> {
        key.strip_prefix("interface/")?.split('/').next()
    }
    /// The BD id of a `bd/<id>[/...]` or `l2fib/<id>/...` key.
    pub fn bd_of(key: &str) -> Option<u32> {
        let mut p = key.split('/');
        match p.next()? {
            "bd" | "l2fib" => p.next()?.parse().ok(),
            _ => None,
        }
    }
}

/// The instance of a loopback name `loop<N>`.
pub fn loop_instance(name: &str) -> Option<u32> {
    let n = name.strip_prefix("loop")?;
    if n.is_empty() || (n.len() > 1 && n.starts_with('0')) {
        return None;
    }
    n.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_sort_numerically_v4_first() {
        let mut v: Vec<IfAddr> = ["fec0::32/64", "172.16.0.32/24", "10.0.0.1/8", "9.0.0.1/8"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        v.sort();
        let s: Vec<String> = v.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            s,
            ["9.0.0.1/8", "10.0.0.1/8", "172.16.0.32/24", "fec0::32/64"]
        );
        assert!("1.2.3.4"
            .parse::<IfAddr>()
            .unwrap_err()
            .contains("ADDRESS/LENGTH"));
        assert!("1.2.3.4/33"
            .parse::<IfAddr>()
            .unwrap_err()
            .contains("1..=32"));
        assert!("fe80::1/64"
            .parse::<IfAddr>()
            .unwrap_err()
            .contains("link-local"));
    }

    #[test]
    fn tags_and_names() {
        let m: Mac = "02:00:00:00:01:00".parse().unwrap();
        assert_eq!(ephemeral_from_tag(&bvi_tag(m)), Some(m));
        assert!(bvi_tag(m).len() <= 64);
        assert!(owned_tag("evpn-tools") && owned_tag(&bvi_tag(m)) && !owned_tag("bird"));
        assert_eq!(loop_instance("loop100"), Some(100));
        assert_eq!(loop_instance("loop"), None);
        assert_eq!(loop_instance("loop01"), None);
        assert_eq!(loop_instance("pg0"), None);
        assert_eq!(Bd::new(1).flag_bits(), 1 | 2 | 4 | 8);
    }
}
