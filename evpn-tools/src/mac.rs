//! MAC addresses and what the gateway derives from them: the EUI-64 link-local VPP does not
//! regenerate on a MAC change (operator-tools.md §2.4), and the deterministic ephemeral BVI MAC
//! of a (group, instance) pair (§3.1).

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A MAC address, printed and parsed as `02:00:00:00:01:00`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Unicast (the group bit clear).
    pub fn is_unicast(&self) -> bool {
        self.0[0] & 1 == 0
    }

    /// Locally administered (the U/L bit set), as every vMAC and ephemeral MAC is.
    pub fn is_local(&self) -> bool {
        self.0[0] & 2 != 0
    }

    /// The IPv6 link-local address with this MAC's modified EUI-64 interface identifier
    /// (RFC 4291 appendix A: flip the U/L bit, insert `ff:fe`), e.g. `02:00:00:00:01:00` ->
    /// `fe80::ff:fe00:100`.
    pub fn link_local(&self) -> Ipv6Addr {
        let m = self.0;
        let mut a = [0u8; 16];
        a[0] = 0xfe;
        a[1] = 0x80;
        a[8] = m[0] ^ 0x02;
        a[9] = m[1];
        a[10] = m[2];
        a[11] = 0xff;
        a[12] = 0xfe;
        a[13] = m[3];
        a[14] = m[4];
        a[15] = m[5];
        Ipv6Addr::from(a)
    }

    /// The deterministic ephemeral MAC of `instance` in `group`: `02:` followed by the first five
    /// bytes of `sha256(group ‖ 0x00 ‖ instance)`. A rebuilt member gets the same MAC back, so
    /// remote L2FIBs do not churn. (IPng's `plainBVIMAC` uses SHA-256 too, with an unpublished
    /// layout: ours will not match vpp-evpn's.)
    pub fn derive(group: &str, instance: &str) -> Mac {
        let mut h = Sha256::new();
        h.update(group.as_bytes());
        h.update([0u8]);
        h.update(instance.as_bytes());
        let d = h.finalize();
        Mac([0x02, d[0], d[1], d[2], d[3], d[4]])
    }
}

// Printing and parsing are the codec's (`xx:xx:xx:xx:xx:xx`, `-` accepted too).
impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&vppapi_runtime::MacAddress(self.0), f)
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<vppapi_runtime::MacAddress>()
            .map(Mac::from)
            .map_err(|e| e.to_string())
    }
}

impl serde::Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl From<vppapi_runtime::MacAddress> for Mac {
    fn from(m: vppapi_runtime::MacAddress) -> Self {
        Mac(m.0)
    }
}

impl From<Mac> for vppapi_runtime::MacAddress {
    fn from(m: Mac) -> Self {
        vppapi_runtime::MacAddress(m.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eui64_link_locals_match_vpp() {
        // Both seen on VPP 26.06 (evpn_bvi.jsonl, evpn_bind_release.jsonl).
        let m: Mac = "02:00:00:00:01:00".parse().unwrap();
        assert_eq!(m.link_local().to_string(), "fe80::ff:fe00:100");
        let v: Mac = "42:6c:fa:d6:82:98".parse().unwrap();
        assert_eq!(v.link_local().to_string(), "fe80::406c:faff:fed6:8298");
    }

    #[test]
    fn derived_macs_are_stable_local_unicast() {
        let a = Mac::derive("gw1", "dpu0-ddln0");
        assert_eq!(a, Mac::derive("gw1", "dpu0-ddln0"));
        assert_ne!(a, Mac::derive("gw1", "dpu0-ddln1"));
        // The separator matters: ("ab","c") and ("a","bc") differ.
        assert_ne!(Mac::derive("ab", "c"), Mac::derive("a", "bc"));
        assert!(a.is_local() && a.is_unicast());
        assert_eq!(a.0[0], 0x02);
    }

    #[test]
    fn parse_errors_say_what() {
        assert!("02:00:00:00:01"
            .parse::<Mac>()
            .unwrap_err()
            .contains("expected xx:xx:xx:xx:xx:xx"));
        assert!("02:00:00:00:01:zz"
            .parse::<Mac>()
            .unwrap_err()
            .contains("invalid MAC address"));
        assert_eq!(
            "02-00-00-00-01-00".parse::<Mac>().unwrap().to_string(),
            "02:00:00:00:01:00"
        );
    }
}
