//! The common VPP address types (`ip_types.api`, `ethernet_types.api`, `interface_types.api`)
//! as ready-made Rust types with conversions to and from the std types. They are built with the
//! same derives as generated code, and have exactly the 26.06 layouts, so a generator can map
//! `vl_api_address_t` & co. onto them.

use crate::{VppEnum, VppRandom, VppReflect, VppTagged, VppType, VppUnion};
use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `typedef u32 interface_index;` (`~0` means "none" or "all").
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, VppType, VppReflect, VppRandom,
)]
#[vpp(name = "interface_index")]
pub struct InterfaceIndex(pub u32);

impl InterfaceIndex {
    /// `~0`: no interface / all interfaces.
    pub const NONE: InterfaceIndex = InterfaceIndex(u32::MAX);
}

impl fmt::Display for InterfaceIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `typedef u8 mac_address[6];`
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, VppType, VppReflect, VppRandom)]
#[vpp(name = "mac_address")]
pub struct MacAddress(pub [u8; 6]);

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string that is not `xx:xx:xx:xx:xx:xx`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address {0:?} (expected xx:xx:xx:xx:xx:xx)")]
pub struct ParseMacError(pub String);

impl FromStr for MacAddress {
    type Err = ParseMacError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for b in &mut out {
            let p = parts.next().ok_or_else(|| ParseMacError(s.into()))?;
            if p.len() != 2 {
                return Err(ParseMacError(s.into()));
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| ParseMacError(s.into()))?;
        }
        if parts.next().is_some() {
            return Err(ParseMacError(s.into()));
        }
        Ok(MacAddress(out))
    }
}

/// `typedef u8 ip4_address[4];` (network order bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, VppType, VppReflect, VppRandom)]
#[vpp(name = "ip4_address")]
pub struct Ip4Address(pub [u8; 4]);

/// `typedef u8 ip6_address[16];` (network order bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, VppType, VppReflect, VppRandom)]
#[vpp(name = "ip6_address")]
pub struct Ip6Address(pub [u8; 16]);

impl From<Ipv4Addr> for Ip4Address {
    fn from(a: Ipv4Addr) -> Self {
        Ip4Address(a.octets())
    }
}
impl From<Ip4Address> for Ipv4Addr {
    fn from(a: Ip4Address) -> Self {
        Ipv4Addr::from(a.0)
    }
}
impl From<Ipv6Addr> for Ip6Address {
    fn from(a: Ipv6Addr) -> Self {
        Ip6Address(a.octets())
    }
}
impl From<Ip6Address> for Ipv6Addr {
    fn from(a: Ip6Address) -> Self {
        Ipv6Addr::from(a.0)
    }
}
impl fmt::Display for Ip4Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ipv4Addr::from(*self).fmt(f)
    }
}
impl fmt::Debug for Ip4Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl fmt::Display for Ip6Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ipv6Addr::from(*self).fmt(f)
    }
}
impl fmt::Debug for Ip6Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `enum address_family : u8 { ADDRESS_IP4 = 0, ADDRESS_IP6 = 1 }`
#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(name = "address_family", values(ADDRESS_IP4 = 0, ADDRESS_IP6 = 1))]
pub struct AddressFamily(pub u8);

/// `union address_union { ip4_address ip4; ip6_address ip6; }`
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, VppUnion, VppReflect, VppRandom)]
#[vpp(name = "address_union", arms(ip4: Ip4Address, ip6: Ip6Address))]
pub struct AddressUnion(pub [u8; 16]);

impl From<Ipv4Addr> for AddressUnion {
    /// IPv4 in bytes 0..4, the rest zero (as VPP and vpp_papi write it).
    fn from(a: Ipv4Addr) -> Self {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&a.octets());
        AddressUnion(b)
    }
}
impl From<Ipv6Addr> for AddressUnion {
    fn from(a: Ipv6Addr) -> Self {
        AddressUnion(a.octets())
    }
}

/// `typedef address { address_family af; address_union un [discriminator=af]; }`: the
/// family decides the arm. `Other` keeps a family this definition does not know.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, VppTagged, VppReflect, VppRandom)]
#[vpp(name = "address", tag = af: AddressFamily, union = un: AddressUnion)]
pub enum Address {
    /// IPv4 (`af = ADDRESS_IP4`).
    #[vpp(case = AddressFamily::ADDRESS_IP4)]
    Ip4(Ip4Address),
    /// IPv6 (`af = ADDRESS_IP6`).
    #[vpp(case = AddressFamily::ADDRESS_IP6)]
    Ip6(Ip6Address),
    /// A family without a case here: the raw tag and union bytes.
    #[vpp(other)]
    Other(AddressFamily, AddressUnion),
}

/// An [`Address`] whose family is not IPv4 or IPv6.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address family {0:?} is neither IPv4 nor IPv6")]
pub struct UnknownFamily(pub AddressFamily);

impl From<IpAddr> for Address {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => Address::Ip4(a.into()),
            IpAddr::V6(a) => Address::Ip6(a.into()),
        }
    }
}
impl From<Ipv4Addr> for Address {
    fn from(a: Ipv4Addr) -> Self {
        Address::Ip4(a.into())
    }
}
impl From<Ipv6Addr> for Address {
    fn from(a: Ipv6Addr) -> Self {
        Address::Ip6(a.into())
    }
}
impl TryFrom<Address> for IpAddr {
    type Error = UnknownFamily;
    fn try_from(a: Address) -> Result<Self, UnknownFamily> {
        match a {
            Address::Ip4(a) => Ok(IpAddr::V4(a.into())),
            Address::Ip6(a) => Ok(IpAddr::V6(a.into())),
            Address::Other(af, _) => Err(UnknownFamily(af)),
        }
    }
}
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Ip4(a) => a.fmt(f),
            Address::Ip6(a) => a.fmt(f),
            Address::Other(af, un) => write!(f, "af{}:{:02x?}", af.0, un.0),
        }
    }
}

/// A string that is not `ADDRESS/LEN`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid prefix {0:?} (expected ADDRESS/LEN)")]
pub struct ParsePrefixError(pub String);

/// `typedef prefix { address address; u8 len; }`
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, VppType, VppReflect, VppRandom)]
#[vpp(name = "prefix")]
pub struct Prefix {
    /// The address (host bits are sent as given).
    pub address: Address,
    /// Prefix length.
    pub len: u8,
}

impl Prefix {
    /// `addr/len`.
    pub fn new(addr: impl Into<Address>, len: u8) -> Self {
        Prefix {
            address: addr.into(),
            len,
        }
    }
}
impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.len)
    }
}
impl FromStr for Prefix {
    type Err = ParsePrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParsePrefixError(s.into());
        let (a, l) = s.split_once('/').ok_or_else(err)?;
        let a: IpAddr = a.parse().map_err(|_| err())?;
        let l: u8 = l.parse().map_err(|_| err())?;
        if l > if a.is_ipv4() { 32 } else { 128 } {
            return Err(err());
        }
        Ok(Prefix::new(a, l))
    }
}

/// `typedef prefix address_with_prefix;` (an address with the length of its subnet).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, VppType, VppReflect, VppRandom)]
#[vpp(name = "address_with_prefix")]
pub struct AddressWithPrefix(pub Prefix);

impl fmt::Display for AddressWithPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl FromStr for AddressWithPrefix {
    type Err = ParsePrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(AddressWithPrefix)
    }
}

/// `typedef ip4_prefix { ip4_address address; u8 len; }`
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, VppType, VppReflect, VppRandom)]
#[vpp(name = "ip4_prefix")]
pub struct Ip4Prefix {
    /// Address.
    pub address: Ip4Address,
    /// Prefix length.
    pub len: u8,
}

/// `typedef ip6_prefix { ip6_address address; u8 len; }`
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, VppType, VppReflect, VppRandom)]
#[vpp(name = "ip6_prefix")]
pub struct Ip6Prefix {
    /// Address.
    pub address: Ip6Address,
    /// Prefix length.
    pub len: u8,
}

impl From<(Ipv4Addr, u8)> for Ip4Prefix {
    fn from((a, len): (Ipv4Addr, u8)) -> Self {
        Ip4Prefix {
            address: a.into(),
            len,
        }
    }
}
impl From<(Ipv6Addr, u8)> for Ip6Prefix {
    fn from((a, len): (Ipv6Addr, u8)) -> Self {
        Ip6Prefix {
            address: a.into(),
            len,
        }
    }
}
impl From<Ip4Prefix> for Prefix {
    fn from(p: Ip4Prefix) -> Self {
        Prefix {
            address: Address::Ip4(p.address),
            len: p.len,
        }
    }
}
impl From<Ip6Prefix> for Prefix {
    fn from(p: Ip6Prefix) -> Self {
        Prefix {
            address: Address::Ip6(p.address),
            len: p.len,
        }
    }
}
