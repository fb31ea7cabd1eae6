//! `lb.yaml`: the desired LB state of `lb sync` (operator-tools.md §4.6), read in two stages:
//! structure (serde, unknown fields refused), then meaning ([`LbFile::validate`]), each error
//! naming where it is (`vips[0].as[2]`) and what is wrong.
//!
//! ```yaml
//! conf: { ip4-src: 192.0.2.254, ip6-src: 2001:db8::fe, buckets: 1024, timeout: 40s }
//! managed-prefixes: [2001:db8:100::/64, 192.0.2.0/24]
//! vips:
//!   - prefix: 2001:db8:100::1/128
//!     protocol: tcp
//!     port: 80
//!     encap: gre6          # default: gre6 for IPv6, gre4 for IPv4
//!     new-len: 1024        # new_flows_table_length, a power of two (default 1024)
//!     sticky: false        # src_ip_sticky (immutable: a change recreates the VIP)
//!     flush: true          # evict an AS's sticky flows when it is removed (default true)
//!     as: [2001:db8:1::1, { address: 2001:db8:1::2, weight: 100 }]
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Deserialize;

use super::model::{As, Encap, IpPrefix, LbConf, Proto, Vip};

/// Default `new_flows_table_length` (`.api` default; 0 crashes VPP 26.06, §2.3).
pub const DEFAULT_NEW_LEN: u32 = 1024;
/// `lb_conf` defaults (lb.c): 1024 sticky buckets per core, 40 s flow timeout.
pub const DEFAULT_BUCKETS: u32 = 1024;
pub const DEFAULT_TIMEOUT: u32 = 40;

/// The file as written.
#[derive(Debug, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LbFile {
    pub conf: Option<ConfSpec>,
    #[serde(default)]
    pub managed_prefixes: Vec<String>,
    #[serde(default)]
    pub vips: Vec<VipSpec>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfSpec {
    pub ip4_src: Ipv4Addr,
    pub ip6_src: Ipv6Addr,
    #[serde(alias = "sticky-buckets-per-core")]
    pub buckets: Option<u32>,
    /// Seconds, or a duration (`40s`, `1m`).
    #[serde(alias = "flow-timeout")]
    pub timeout: Option<Seconds>,
}

/// A number of seconds, written as a number or a duration string.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(untagged)]
pub enum Seconds {
    Number(u64),
    Text(String),
}

impl Seconds {
    fn get(&self) -> Result<u64, String> {
        match self {
            Seconds::Number(n) => Ok(*n),
            Seconds::Text(t) => vppapi_runtime::config::parse_duration(t)
                .map(|d| d.as_secs())
                .map_err(|e| format!("{t:?}: {e}")),
        }
    }
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VipSpec {
    pub prefix: String,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub encap: Option<String>,
    #[serde(alias = "new-flows-table-length")]
    pub new_len: Option<u32>,
    #[serde(default, alias = "src-ip-sticky")]
    pub sticky: bool,
    pub flush: Option<bool>,
    #[serde(default, rename = "as")]
    pub ases: Vec<AsSpec>,
}

/// `ADDR` or `{ address: ADDR, weight: W }`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum AsSpec {
    Address(String),
    Full(AsFull),
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AsFull {
    pub address: String,
    #[serde(default = "hundred")]
    pub weight: u32,
}

fn hundred() -> u32 {
    100
}

/// The validated desired LB state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LbDesired {
    pub conf: Option<LbConf>,
    /// Where `--prune` may remove VIPs (LB VIPs carry no owner tag).
    pub managed_prefixes: Vec<IpPrefix>,
    /// In file order; each VIP's ASes in file order.
    pub vips: Vec<Vip>,
    /// Accepted but worth saying (e.g. a new-flow table too small for its ASes).
    pub warnings: Vec<String>,
    /// AS keys (`lb/vip/.../as/ADDR`) to remove without evicting their sticky flows, beside
    /// VIPs with `flush: false` (a controller's per-backend policy: a paused backend drains).
    pub no_flush: BTreeSet<String>,
}

impl LbDesired {
    /// Whether any AS asks for a weight other than 100 (needs lb.api 1.2.0).
    pub fn uses_weights(&self) -> bool {
        self.vips
            .iter()
            .any(|v| v.ases.iter().any(|a| a.weight != 100))
    }

    /// Whether any VIP is IPv4 (needs the +96 workaround on VPP 26.06).
    pub fn has_ipv4_vips(&self) -> bool {
        self.vips.iter().any(|v| v.prefix.is_ipv4())
    }

    /// Whether `prefix` lies inside a managed prefix.
    pub fn manages(&self, prefix: &IpPrefix) -> bool {
        self.managed_prefixes.iter().any(|m| m.covers(prefix))
    }
}

/// The VIPs of one prefix seen so far: the all-port VIP, the per-port ones with their encap.
type PrefixUse = (Option<usize>, Vec<(usize, Encap)>);

/// Parses YAML (stage 1: structure).
pub fn parse_yaml(text: &str) -> Result<LbFile, String> {
    serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
}

/// Whether `n` is a power of two (0 is not: VPP's `is_pow2(0)` is true and 0 crashes 26.06).
pub fn is_pow2(n: u32) -> bool {
    n != 0 && n.is_power_of_two()
}

impl LbFile {
    /// Stage 2: meaning. Fills in defaults; every error names its place.
    pub fn validate(&self) -> Result<LbDesired, String> {
        let mut out = LbDesired::default();
        if let Some(c) = &self.conf {
            let buckets = c.buckets.unwrap_or(DEFAULT_BUCKETS);
            if !is_pow2(buckets) {
                return Err(format!(
                    "conf.buckets: {buckets} is not a power of two (VPP refuses it with -70, and 0 \
                     would leave the sticky table unusable)"
                ));
            }
            let timeout = match &c.timeout {
                None => u64::from(DEFAULT_TIMEOUT),
                Some(t) => t.get().map_err(|e| format!("conf.timeout: {e}"))?,
            };
            if timeout == 0 || timeout >= u64::from(u32::MAX) {
                return Err(format!(
                    "conf.timeout: {timeout} s is out of range (1 s up to 2^32-2 s)"
                ));
            }
            out.conf = Some(LbConf {
                ip4_src: c.ip4_src,
                ip6_src: c.ip6_src,
                sticky_buckets_per_core: Some(buckets),
                flow_timeout: Some(timeout as u32),
            });
        }
        for (i, m) in self.managed_prefixes.iter().enumerate() {
            out.managed_prefixes.push(
                m.parse()
                    .map_err(|e| format!("managed-prefixes[{i}]: {e}"))?,
            );
        }
        let mut keys = BTreeSet::new();
        // Per prefix: the all-port VIP (its index), the per-port VIPs (index, encap).
        let mut per_prefix: BTreeMap<IpPrefix, PrefixUse> = BTreeMap::new();
        for (i, v) in self.vips.iter().enumerate() {
            let at = format!("vips[{i}]");
            let vip = v.validate(&at)?;
            if !keys.insert((vip.prefix, vip.protocol, vip.port)) {
                return Err(format!(
                    "{at}: {} {}/{} is listed twice",
                    vip.prefix, vip.protocol, vip.port
                ));
            }
            let e = per_prefix.entry(vip.prefix).or_default();
            if vip.port == 0 {
                if let Some((j, _)) = e.1.first() {
                    return Err(format!(
                        "{at}: an all-port VIP on {} beside the per-port VIP vips[{j}] (VPP refuses \
                         it with -81 VALUE_EXIST)",
                        vip.prefix
                    ));
                }
                e.0 = Some(i);
            } else {
                if let Some(j) = e.0 {
                    return Err(format!(
                        "{at}: a per-port VIP on {} beside the all-port VIP vips[{j}] (VPP refuses \
                         it with -81 VALUE_EXIST)",
                        vip.prefix
                    ));
                }
                if let Some((j, enc)) = e.1.iter().find(|(_, enc)| *enc != vip.encap) {
                    return Err(format!(
                        "{at}: encap {} differs from {enc} of vips[{j}] on the same prefix (VPP \
                         refuses per-port VIPs of one prefix with different encaps: -73)",
                        vip.encap
                    ));
                }
                e.1.push((i, vip.encap));
            }
            let n = vip.ases.len() as u64;
            if n > 0 && u64::from(vip.new_flows_table_length) < 100 * n {
                out.warnings.push(format!(
                    "{at}: new-len {} is under 100 x {n} ASes: a change of one AS moves many more \
                     than 1/{n} of the buckets (operator-tools.md §4.4)",
                    vip.new_flows_table_length
                ));
            }
            out.vips.push(vip);
        }
        Ok(out)
    }
}

impl VipSpec {
    fn validate(&self, at: &str) -> Result<Vip, String> {
        let prefix: IpPrefix = self
            .prefix
            .parse()
            .map_err(|e| format!("{at}.prefix: {e}"))?;
        let port = self.port.unwrap_or(0);
        let protocol = match (&self.protocol, port) {
            (None, 0) => Proto::Any,
            (None, _) => return Err(format!("{at}: port {port} needs a protocol (tcp or udp)")),
            (Some(p), _) => p.parse().map_err(|e| format!("{at}.protocol: {e}"))?,
        };
        match (protocol, port) {
            (Proto::Any, 0) => {}
            (Proto::Any, p) => {
                return Err(format!(
                    "{at}: protocol any is an all-port VIP; drop port {p} or name tcp or udp"
                ))
            }
            (p, 0) => {
                return Err(format!(
                    "{at}: protocol {p} needs a port (an all-port VIP is protocol any, no port)"
                ))
            }
            _ => {}
        }
        let v4 = prefix.is_ipv4();
        let encap = match &self.encap {
            None if v4 => Encap::Gre4,
            None => Encap::Gre6,
            Some(e) => e.parse().map_err(|e| format!("{at}.encap: {e}"))?,
        };
        // VPP 26.06 reads the encap enum without ntohl (operator-tools.md §2.2): only these
        // combinations come out as asked for.
        match (v4, encap) {
            (false, Encap::Gre6) | (false, Encap::Gre4) | (true, Encap::Gre4) => {}
            (true, Encap::Gre6) => {
                return Err(format!(
                    "{at}: IPv4 VIP with gre6: VPP 26.06's lb API fails it (-97, the encap enum is \
                     read without byte swap); use gre4"
                ))
            }
            (_, e) => {
                return Err(format!(
                    "{at}: encap {e} cannot be selected through VPP 26.06's lb API (the enum is \
                     read without byte swap, so it becomes ip6-gre6); only gre4 and gre6 are \
                     supported"
                ))
            }
        }
        let new_len = self.new_len.unwrap_or(DEFAULT_NEW_LEN);
        if !is_pow2(new_len) {
            return Err(format!(
                "{at}.new-len: {new_len} is not a power of two{}",
                if new_len == 0 {
                    " (0 makes VPP 26.06 allocate a 2^32-entry table and abort)"
                } else {
                    " (VPP refuses it with -70 INVALID_MEMORY_SIZE)"
                }
            ));
        }
        let mut ases = Vec::new();
        let mut seen = BTreeSet::new();
        for (j, a) in self.ases.iter().enumerate() {
            let (addr, weight) = match a {
                AsSpec::Address(s) => (s.as_str(), 100),
                AsSpec::Full(f) => (f.address.as_str(), f.weight),
            };
            let address: IpAddr = addr
                .trim()
                .parse()
                .map_err(|_| format!("{at}.as[{j}]: {addr:?} is not an IP address"))?;
            if weight > 100 {
                return Err(format!(
                    "{at}.as[{j}]: weight {weight} is out of range (0-100)"
                ));
            }
            let want_v4 = encap == Encap::Gre4;
            if address.is_ipv4() != want_v4 {
                return Err(format!(
                    "{at}.as[{j}]: {address} is {}, but encap {encap} carries {} to the ASes \
                     (VPP refuses it with -97)",
                    if address.is_ipv4() { "IPv4" } else { "IPv6" },
                    if want_v4 { "IPv4" } else { "IPv6" },
                ));
            }
            if !seen.insert(address) {
                return Err(format!("{at}.as[{j}]: {address} is listed twice"));
            }
            ases.push(As {
                address,
                weight: weight as u8,
            });
        }
        Ok(Vip {
            prefix,
            protocol,
            port,
            encap,
            new_flows_table_length: new_len,
            src_ip_sticky: self.sticky,
            flush: self.flush.unwrap_or(true),
            ases,
        })
    }
}

/// Reads and validates a file (`.yaml`/`.yml`).
pub fn load(path: &std::path::Path) -> Result<LbDesired, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = parse_yaml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    file.validate()
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(y: &str) -> Result<LbDesired, String> {
        parse_yaml(y)?.validate()
    }

    #[test]
    fn scenario_e_file_reads_with_defaults() {
        let d = check(
            "conf: { ip4-src: 192.0.2.254, ip6-src: 2001:db8::fe }\n\
             managed-prefixes: [2001:db8:100::/64, 192.0.2.0/24]\n\
             vips:\n  - { prefix: 2001:db8:100::1/128, protocol: tcp, port: 80, encap: gre6, new-len: 1024,\n      \
             as: [2001:db8:1::1, 2001:db8:1::2, 2001:db8:1::3] }\n",
        )
        .unwrap();
        let c = d.conf.as_ref().unwrap();
        assert_eq!(c.sticky_buckets_per_core, Some(1024));
        assert_eq!(c.flow_timeout, Some(40));
        assert_eq!(d.vips.len(), 1);
        assert_eq!(d.vips[0].ases.len(), 3);
        assert!(d.vips[0].flush);
        assert!(!d.uses_weights());
        assert!(d.manages(&"2001:db8:100::7/128".parse().unwrap()));
        assert!(!d.manages(&"2001:db8:200::7/128".parse().unwrap()));
    }

    #[test]
    fn bad_values_are_refused_with_their_place() {
        let cases = [
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, new-len: 0 }]", "vips[0].new-len: 0"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, new-len: 1000 }]", "-70"),
            ("conf: { ip4-src: 1.1.1.1, ip6-src: '::1', buckets: 1000 }", "conf.buckets"),
            ("vips: [{ prefix: 192.0.2.1/32, protocol: tcp, port: 80, encap: gre6 }]", "-97"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, encap: l3dsr }]", "only gre4 and gre6"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, as: [10.0.0.1] }]", "vips[0].as[0]"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, as: [{address: '2001:db8::9', weight: 101}] }]", "weight 101"),
            ("vips: [{ prefix: 2001:db8::1/128, port: 80 }]", "needs a protocol"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp }]", "needs a port"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80 }, { prefix: 2001:db8::1/128 }]", "all-port VIP"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80 }, { prefix: 2001:db8::1/128, protocol: tcp, port: 80 }]", "listed twice"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, encap: gre6 }, { prefix: 2001:db8::1/128, protocol: udp, port: 53, encap: gre4 }]", "-73"),
            ("managed-prefixes: [10.0.0.1/8]", "managed-prefixes[0]"),
            ("vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, as: ['2001:db8::2', '2001:db8::2'] }]", "listed twice"),
        ];
        for (y, want) in cases {
            let e = check(y).expect_err(y);
            assert!(e.contains(want), "{y}: {e}");
        }
        // Stage 1: unknown fields.
        let e = parse_yaml("vips: [{ prefix: 2001:db8::1/128, colour: red }]").unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn small_tables_warn() {
        let d = check(
            "vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, new-len: 16, as: ['2001:db8::2'] }]",
        )
        .unwrap();
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert_eq!(d.vips[0].encap, Encap::Gre6);
    }
}
