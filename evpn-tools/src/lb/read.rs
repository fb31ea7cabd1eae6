//! Reading the LB state of VPP 26.06 (operator-tools.md §2.2, §4.6): the API dumps
//! (`lb_vip_dump`, an unfiltered `lb_as_dump`) fixed up by the CLI scrape
//! (`show lb vips verbose`, `show lb`), because the 26.06 API cannot tell a live VIP from a
//! soft-deleted one, reads protocol and encap wrongly, and has no pool index, sticky flag,
//! bucket counts or `lb_conf` getter.
//!
//! On lb.api 1.2.0 (VPP master after 26.06, §4.2) the API is trusted for what it now reports
//! right: `lb_vip_dump` lists live VIPs only, with honest prefix, protocol, port, encap and
//! table length; `lb_as_v2_dump` gives each AS's flags, weight and buckets; `lb_conf_get`
//! gives all of `lb_conf`. The scrape of `show lb vips verbose` is still read for what no
//! master message reports: the VIP pool index (the stats index), `src_ip_sticky`, counters
//! and flows. `show lb` is not read.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lb_api_next::{LbAsV2Dump, LbConfGet};
use serde::Serialize;
use vppapi_binapi::lb::{LbAsDump, LbVipDump};
use vppapi_binapi::lb_types::LbVip;
use vppapi_binapi::vlib::CliInband;
use vppapi_runtime::{Address, AddressWithPrefix, Prefix};

use super::model::{key, Encap, IpPrefix, LbConf, Proto};
use crate::vpp::{Vpp, VppError};

/// The four per-VIP counters, in the order VPP prints and exports them (names without `/`).
pub const COUNTERS: [&str; 4] = [
    "packet from existing sessions",
    "first session packet",
    "untracked packet",
    "no server configured",
];

/// One AS line of `show lb vips verbose`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScrapedAs {
    pub address: IpAddr,
    pub buckets: u32,
    pub flows: u32,
    pub dpo: u32,
    pub used: bool,
    /// The AS's weight (lb.api 1.2.0 prints it; 26.06 has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u8>,
}

/// One VIP block of `show lb vips verbose`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScrapedVip {
    /// The VIP pool index (`[n]`): the index of its stats counters.
    pub index: u32,
    /// lb's internal type (`ip6-gre6`, `ip4-gre4`, ...).
    pub vip_type: String,
    pub prefix: IpPrefix,
    pub src_ip_sticky: bool,
    pub removed: bool,
    pub new_size: u32,
    /// IP protocol and port; `None` for an all-port VIP (VPP prints no protocol line).
    pub protocol_port: Option<(u8, u16)>,
    pub counters: BTreeMap<String, u64>,
    pub ases: Vec<ScrapedAs>,
}

impl ScrapedVip {
    pub fn protocol(&self) -> Proto {
        match self.protocol_port {
            None => Proto::Any,
            Some((p, _)) => Proto::from_number(p),
        }
    }
    pub fn port(&self) -> u16 {
        self.protocol_port.map(|p| p.1).unwrap_or(0)
    }
    pub fn encap(&self) -> Option<Encap> {
        Encap::from_vip_type(&self.vip_type).map(|e| e.1)
    }
}

/// Parses `show lb vips verbose` (lb.c `format_lb_vip_detailed`), AS lines in 26.06's format
/// (`<addr> <n> buckets   <f> flows  dpo:<d> used`) or master's (`<addr> weight:<w>
/// buckets:<n> flows:<f> dpo:<d> used`). Lines it does not know are skipped, so a newer VPP
/// that prints more still parses; a header or AS line it cannot read is an error naming the
/// line.
pub fn parse_vips(text: &str) -> Result<Vec<ScrapedVip>, String> {
    let mut out: Vec<ScrapedVip> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("show lb vips verbose, line {}: {what}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 1 {
            // ` <type> [<index>] <prefix>/<len>[ src_ip_sticky][ removed]`
            let mut w = t.split_whitespace();
            let vip_type = w.next().ok_or_else(|| bad("no VIP type"))?.to_string();
            let index = w
                .next()
                .and_then(|s| s.strip_prefix('['))
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("no [pool index]"))?;
            let prefix =
                scraped_prefix(w.next().ok_or_else(|| bad("no prefix"))?).map_err(|e| bad(&e))?;
            let mut v = ScrapedVip {
                index,
                vip_type,
                prefix,
                src_ip_sticky: false,
                removed: false,
                new_size: 0,
                protocol_port: None,
                counters: BTreeMap::new(),
                ases: Vec::new(),
            };
            for f in w {
                match f {
                    "src_ip_sticky" => v.src_ip_sticky = true,
                    "removed" => v.removed = true,
                    _ => {}
                }
            }
            out.push(v);
            continue;
        }
        let Some(v) = out.last_mut() else {
            return Err(bad("a detail line before any VIP"));
        };
        if let Some(s) = t.strip_prefix("new_size:") {
            v.new_size = s.trim().parse().map_err(|_| bad("new_size"))?;
        } else if let Some(rest) = t.strip_prefix("protocol:") {
            let (p, port) = rest
                .split_once(" port:")
                .ok_or_else(|| bad("protocol line"))?;
            let p = p.trim().parse().map_err(|_| bad("protocol"))?;
            let port = port.trim().parse().map_err(|_| bad("port"))?;
            v.protocol_port = Some((p, port));
        } else if let Some((name, value)) = t.split_once(": ").filter(|(k, _)| COUNTERS.contains(k))
        {
            v.counters.insert(
                name.to_string(),
                value.trim().parse().map_err(|_| bad("counter value"))?,
            );
        } else if t.contains(" weight:") && t.contains(" buckets:") {
            // lb.api 1.2.0: `<addr> weight:<w> buckets:<n> flows:<f> dpo:<d> used|removed`
            let w: Vec<&str> = t.split_whitespace().collect();
            if w.len() < 6 {
                return Err(bad("AS line"));
            }
            let field = |i: usize, k: &str| -> Result<u64, String> {
                w[i].strip_prefix(k)
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| bad(&format!("AS line field {k}")))
            };
            let small = |n: u64, what: &str| u32::try_from(n).map_err(|_| bad(what));
            v.ases.push(ScrapedAs {
                address: w[0].parse().map_err(|_| bad("AS address"))?,
                weight: Some(u8::try_from(field(1, "weight:")?).map_err(|_| bad("weight"))?),
                buckets: small(field(2, "buckets:")?, "bucket count")?,
                flows: small(field(3, "flows:")?, "flow count")?,
                dpo: small(field(4, "dpo:")?, "dpo")?,
                used: match w[5] {
                    "used" => true,
                    "removed" => false,
                    _ => return Err(bad("AS state (used or removed)")),
                },
            });
        } else if t.contains(" buckets ") {
            // `<addr> <n> buckets   <f> flows  dpo:<d> used|removed`
            let w: Vec<&str> = t.split_whitespace().collect();
            if w.len() < 7 || w[2] != "buckets" || w[4] != "flows" {
                return Err(bad("AS line"));
            }
            let address = w[0].parse().map_err(|_| bad("AS address"))?;
            v.ases.push(ScrapedAs {
                address,
                buckets: w[1].parse().map_err(|_| bad("bucket count"))?,
                flows: w[3].parse().map_err(|_| bad("flow count"))?,
                dpo: w[5]
                    .strip_prefix("dpo:")
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| bad("dpo"))?,
                used: match w[6] {
                    "used" => true,
                    "removed" => false,
                    _ => return Err(bad("AS state (used or removed)")),
                },
                weight: None,
            });
        }
    }
    Ok(out)
}

/// A prefix as lb prints it: any host bits are kept as printed (the VIP is what VPP has).
fn scraped_prefix(s: &str) -> Result<IpPrefix, String> {
    let (a, l) = s.split_once('/').ok_or("no /len")?;
    let addr: IpAddr = a.parse().map_err(|_| "bad address".to_string())?;
    let len: u8 = l.parse().map_err(|_| "bad length".to_string())?;
    if len > if addr.is_ipv4() { 32 } else { 128 } {
        return Err("length out of range".into());
    }
    Ok(IpPrefix { addr, len })
}

/// `show lb` (lb.c `format_lb_main`): the GRE source addresses.
pub fn parse_show_lb(text: &str) -> Result<(Ipv4Addr, Ipv6Addr), String> {
    let field = |name: &str| {
        text.split(name)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .ok_or_else(|| format!("show lb: no {name} in {text:?}"))
    };
    let v4 = field("ip4-src-address:")?;
    let v6 = field("ip6-src-address:")?;
    Ok((
        v4.parse()
            .map_err(|_| format!("show lb: bad ip4-src-address {v4:?}"))?,
        v6.parse()
            .map_err(|_| format!("show lb: bad ip6-src-address {v6:?}"))?,
    ))
}

/// A VIP as the 26.06 API reports it, mapped back to an honest prefix: IPv4 arrives with the
/// internal length (`len` 128 for a /32, so minus 96); an IPv4 address with `len <= 32` is a VIP
/// made with an honest IPv4 key, which 26.06 stored as IPv6 `::/len`.
/// An unknown address family gives `None`.
pub fn api_prefix(p: &AddressWithPrefix) -> Option<IpPrefix> {
    let len = p.0.len;
    Some(match p.0.address {
        Address::Ip4(a) if len > 32 => IpPrefix {
            addr: IpAddr::V4(Ipv4Addr::from(a.0)),
            len: len.saturating_sub(96).min(32),
        },
        Address::Ip4(_) => IpPrefix {
            addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            len,
        },
        Address::Ip6(a) => IpPrefix {
            addr: IpAddr::V6(Ipv6Addr::from(a.0)),
            len: len.min(128),
        },
        Address::Other(..) => return None,
    })
}

/// A VIP as lb.api 1.2.0's `lb_vip_dump` reports it (live VIPs only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiVip {
    pub prefix: IpPrefix,
    pub protocol: Proto,
    pub port: u16,
    /// `None` for an encap this tool does not know.
    pub encap: Option<Encap>,
    /// `flow_table_length`, a u16 on the wire: 0 for 65536 and above (then the scrape's).
    pub new_flows_table_length: u32,
}

/// An AS as lb.api 1.2.0's `lb_as_v2_dump` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiAs {
    pub address: IpAddr,
    /// `flags & 1` (LB_AS_FLAGS_USED): not removed.
    pub used: bool,
    pub weight: u8,
    /// Its buckets in the VIP's new-flow table.
    pub buckets: u32,
}

/// The LB state of one VPP, read once per plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LbRead {
    /// `show lb` (`lb_conf_get` on 1.2.0): the GRE source addresses (26.06 cannot read back
    /// buckets and timeout).
    pub src: Option<(Ipv4Addr, Ipv6Addr)>,
    /// Every VIP block of `show lb vips verbose`, removed ones included.
    pub vips: Vec<ScrapedVip>,
    /// USED ASes from the unfiltered `lb_as_dump`, per VIP (honest prefix, port).
    pub api_ases: BTreeMap<(IpPrefix, u16), Vec<IpAddr>>,
    /// (honest prefix, port) of each `lb_vip_details`.
    pub api_vips: BTreeSet<(IpPrefix, u16)>,
    /// Read through master's fixed lb API (lb.api 1.2.0, `db44addb60c` on; the fields below
    /// are filled).
    pub api_1_2: bool,
    /// ... and with `lb_as_v2_dump` (`ca870e99f61` on): real weights and buckets.
    pub weights: bool,
    /// 1.2.0: `lb_conf_get`, all four values.
    pub conf: Option<LbConf>,
    /// 1.2.0: `lb_vip_dump`, by VIP key (`lb/vip/<prefix>/<proto>/<port>`).
    pub vips_1_2: BTreeMap<String, ApiVip>,
    /// 1.2.0: `lb_as_v2_dump` (removed ASes included), by VIP key; without it (`weights`
    /// false) `lb_as_dump`'s, each of weight 100 and 0 buckets.
    pub ases_1_2: BTreeMap<String, Vec<ApiAs>>,
}

impl LbRead {
    /// The live VIPs (not marked ` removed`) that the API also lists (on 1.2.0 by prefix,
    /// protocol and port).
    pub fn live(&self) -> impl Iterator<Item = &ScrapedVip> {
        self.vips.iter().filter(|v| {
            !v.removed
                && if self.api_1_2 {
                    self.api_vip(v).is_some()
                } else {
                    self.api_vips.contains(&(v.prefix, v.port()))
                }
        })
    }

    /// 1.2.0: the `lb_vip_details` of a scraped VIP.
    pub fn api_vip(&self, v: &ScrapedVip) -> Option<&ApiVip> {
        self.vips_1_2
            .get(&key::vip(&v.prefix, v.protocol(), v.port()))
    }

    /// The encap and new-flow table length of a live VIP: on 1.2.0 from `lb_vip_dump` (the
    /// scrape's length when the u16 field cannot hold it), on 26.06 from the scrape.
    pub fn vip_fields(&self, v: &ScrapedVip) -> (Option<Encap>, u32) {
        match self.api_vip(v) {
            Some(a) if self.api_1_2 => (
                a.encap,
                match a.new_flows_table_length {
                    0 => v.new_size,
                    n => n,
                },
            ),
            _ => (v.encap(), v.new_size),
        }
    }

    /// The used ASes of a live VIP with their weights: on 1.2.0 from `lb_as_v2_dump`; on 26.06
    /// [`LbRead::used_ases`], each of weight 100 (26.06 has no weights).
    pub fn weighted_ases(&self, v: &ScrapedVip) -> Vec<(IpAddr, u8)> {
        if self.api_1_2 {
            return self
                .ases_1_2
                .get(&key::vip(&v.prefix, v.protocol(), v.port()))
                .map(|l| {
                    l.iter()
                        .filter(|a| a.used)
                        .map(|a| (a.address, a.weight))
                        .collect()
                })
                .unwrap_or_default();
        }
        self.used_ases(v).into_iter().map(|a| (a, 100)).collect()
    }

    /// The used ASes of a live VIP: the API's list, unless two live VIPs share the prefix and
    /// port (the 26.06 dump reads protocol 0, so their ASes cannot be told apart): then the
    /// scrape's. On 1.2.0 the dump's protocol is right: always the API's.
    pub fn used_ases(&self, v: &ScrapedVip) -> Vec<IpAddr> {
        if self.api_1_2 {
            return self.weighted_ases(v).into_iter().map(|a| a.0).collect();
        }
        // Only VIPs of this prefix can be twins: a scan of the blocks, not of `live()` (which
        // would make reading N VIPs cost N^2 set lookups).
        let twins = self
            .vips
            .iter()
            .filter(|o| !o.removed && o.prefix == v.prefix && o.port() == v.port())
            .count();
        match self.api_ases.get(&(v.prefix, v.port())) {
            Some(a) if twins == 1 => a.clone(),
            None if twins == 1 => Vec::new(),
            _ => v
                .ases
                .iter()
                .filter(|a| a.used)
                .map(|a| a.address)
                .collect(),
        }
    }

    /// The live VIP with this key.
    pub fn find(&self, prefix: &IpPrefix, protocol: Proto, port: u16) -> Option<&ScrapedVip> {
        self.live()
            .find(|v| v.prefix == *prefix && v.protocol() == protocol && v.port() == port)
    }
}

/// Sends `cmd` through `cli_inband` and returns VPP's text.
pub async fn cli(vpp: &mut Vpp, cmd: &str) -> Result<String, VppError> {
    let r = vpp
        .read(CliInband {
            cmd: cmd.to_string(),
        })
        .await?;
    Ok(r.reply)
}

/// A VIP prefix as lb.api 1.2.0 reports it: honest for both families.
/// An unknown address family gives `None`.
pub fn api_prefix_1_2(p: &AddressWithPrefix) -> Option<IpPrefix> {
    Some(match p.0.address {
        Address::Ip4(a) => IpPrefix {
            addr: IpAddr::V4(Ipv4Addr::from(a.0)),
            len: p.0.len.min(32),
        },
        Address::Ip6(a) => IpPrefix {
            addr: IpAddr::V6(Ipv6Addr::from(a.0)),
            len: p.0.len.min(128),
        },
        Address::Other(..) => return None,
    })
}

fn ip_of(a: &Address) -> Option<IpAddr> {
    match a {
        Address::Ip4(a) => Some(IpAddr::V4(Ipv4Addr::from(a.0))),
        Address::Ip6(a) => Some(IpAddr::V6(Ipv6Addr::from(a.0))),
        Address::Other(..) => None,
    }
}

/// `LB_API_ENCAP_TYPE_*` as lb.api 1.2.0's `lb_vip_details` reports it.
fn api_encap(e: u32) -> Option<Encap> {
    [
        Encap::Gre4,
        Encap::Gre6,
        Encap::L3dsr,
        Encap::Nat4,
        Encap::Nat6,
    ]
    .into_iter()
    .find(|x| x.wire() == e)
}

/// Reads the whole LB state: `lb_vip_dump`, `lb_as_dump` (all), `show lb vips verbose`,
/// `show lb`; on lb.api 1.2.0 `lb_vip_dump`, `lb_as_v2_dump` (all), `lb_conf_get` and
/// `show lb vips verbose`.
pub async fn read(vpp: &mut Vpp) -> Result<LbRead, VppError> {
    let caps = super::sync::capabilities(vpp);
    if caps.lb_fixed {
        return read_1_2(vpp, caps.lb_1_2).await;
    }
    let mut r = LbRead::default();
    for d in vpp.dump(LbVipDump::default()).await? {
        let Some(p) = api_prefix(&d.vip.pfx) else {
            continue;
        };
        r.api_vips.insert((p, d.vip.port));
    }
    // An all-zero prefix dumps everything (the filtered form is broken on 26.06).
    for d in vpp.dump(LbAsDump::default()).await? {
        if d.flags & 1 == 0 {
            continue; // removed, not yet garbage-collected
        }
        let a = match d.app_srv {
            Address::Ip4(a) => IpAddr::V4(Ipv4Addr::from(a.0)),
            Address::Ip6(a) => IpAddr::V6(Ipv6Addr::from(a.0)),
            Address::Other(..) => continue,
        };
        let Some(p) = api_prefix(&d.vip.pfx) else {
            continue;
        };
        let k = (p, d.vip.port);
        let list = r.api_ases.entry(k).or_default();
        if !list.contains(&a) {
            list.push(a);
        }
    }
    let text = cli(vpp, "show lb vips verbose").await?;
    r.vips = parse_vips(&text).map_err(VppError::Other)?;
    let text = cli(vpp, "show lb").await?;
    r.src = Some(parse_show_lb(&text).map_err(VppError::Other)?);
    Ok(r)
}

/// [`read`] on lb.api 1.2.0; `weights`: with `lb_as_v2_dump` (else `lb_as_dump`, fixed
/// there too).
async fn read_1_2(vpp: &mut Vpp, weights: bool) -> Result<LbRead, VppError> {
    let mut r = LbRead {
        api_1_2: true,
        weights,
        ..Default::default()
    };
    for d in vpp.dump(LbVipDump::default()).await? {
        let Some(prefix) = api_prefix_1_2(&d.vip.pfx) else {
            continue;
        };
        let v = ApiVip {
            prefix,
            protocol: Proto::from_number(d.vip.protocol.0),
            port: d.vip.port,
            encap: api_encap(d.encap.0),
            new_flows_table_length: u32::from(d.flow_table_length),
        };
        r.api_vips.insert((prefix, v.port));
        r.vips_1_2.insert(key::vip(&prefix, v.protocol, v.port), v);
    }
    // An all-zero prefix dumps everything (the filter still compares raw union bytes).
    let ases: Vec<(LbVip, Address, u8, u8, u32)> = if weights {
        vpp.dump(LbAsV2Dump::default())
            .await?
            .into_iter()
            .map(|d| (d.vip, d.app_srv, d.flags, d.weight, d.num_buckets))
            .collect()
    } else {
        vpp.dump(LbAsDump::default())
            .await?
            .into_iter()
            .map(|d| (d.vip, d.app_srv, d.flags, 100, 0))
            .collect()
    };
    for (vip, app_srv, flags, weight, buckets) in ases {
        let (Some(prefix), Some(address)) = (api_prefix_1_2(&vip.pfx), ip_of(&app_srv)) else {
            continue;
        };
        let used = flags & 1 == 1;
        let vk = key::vip(&prefix, Proto::from_number(vip.protocol.0), vip.port);
        r.ases_1_2.entry(vk).or_default().push(ApiAs {
            address,
            used,
            weight,
            buckets,
        });
        if used {
            let list = r.api_ases.entry((prefix, vip.port)).or_default();
            if !list.contains(&address) {
                list.push(address);
            }
        }
    }
    let c = vpp.read(LbConfGet {}).await?;
    let (a4, a6) = (
        Ipv4Addr::from(c.ip4_src_address.0),
        Ipv6Addr::from(c.ip6_src_address.0),
    );
    r.src = Some((a4, a6));
    r.conf = Some(LbConf {
        ip4_src: a4,
        ip6_src: a6,
        sticky_buckets_per_core: Some(c.sticky_buckets_per_core),
        flow_timeout: Some(c.flow_timeout),
    });
    // Still needed on master: pool index, src_ip_sticky, counters, flows.
    let text = cli(vpp, "show lb vips verbose").await?;
    r.vips = parse_vips(&text).map_err(VppError::Other)?;
    Ok(r)
}

/// A VIP prefix on the wire: IPv4 with `len + 96` when `compat_v4` (VPP 26.06's plugin stores
/// IPv4 at +96 and its handler does not add it, operator-tools.md §2.2).
pub fn wire_prefix(prefix: &IpPrefix, compat_v4: bool) -> AddressWithPrefix {
    let len = if prefix.is_ipv4() && compat_v4 {
        prefix.len + 96
    } else {
        prefix.len
    };
    AddressWithPrefix(Prefix {
        address: crate::vpp::address(prefix.addr),
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDED: &str = " ip6-gre6 [1] 2001:db8:100::1/128\n  new_size:1024\n  protocol:6 port:80\n  counters:\n    packet from existing sessions: 2\n    first session packet: 1\n    untracked packet: 0\n    no server configured: 0\n  #as:3\n    2001:db8:1::1 342 buckets   0 flows  dpo:9 used\n    2001:db8:1::2 341 buckets   1 flows  dpo:10 used\n    2001:db8:1::3 0 buckets   0 flows  dpo:11  removed\n\n ip4-gre4 [2] 192.0.2.1/32 src_ip_sticky removed\n  new_size:1024\n  protocol:6 port:80\n  counters:\n    packet from existing sessions: 0\n    first session packet: 0\n    untracked packet: 0\n    no server configured: 0\n  #as:1\n    10.0.0.2 1024 buckets   0 flows  dpo:13 used\n\n ip6-gre4 [3] ::/32\n  new_size:1024\n  counters:\n    packet from existing sessions: 0\n    first session packet: 0\n    untracked packet: 0\n    no server configured: 1\n  #as:0\n\n";

    #[test]
    fn parses_the_recorded_verbose_listing() {
        let v = parse_vips(RECORDED).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].index, 1);
        assert_eq!(v[0].prefix.to_string(), "2001:db8:100::1/128");
        assert_eq!(v[0].protocol(), Proto::Tcp);
        assert_eq!(v[0].port(), 80);
        assert_eq!(v[0].encap(), Some(Encap::Gre6));
        assert_eq!(v[0].counters["first session packet"], 1);
        assert_eq!(v[0].counters["packet from existing sessions"], 2);
        assert_eq!(
            v[0].ases
                .iter()
                .map(|a| (a.buckets, a.flows, a.used))
                .collect::<Vec<_>>(),
            vec![(342, 0, true), (341, 1, true), (0, 0, false)]
        );
        assert!(v[1].removed && v[1].src_ip_sticky);
        assert_eq!(v[1].prefix.to_string(), "192.0.2.1/32");
        assert_eq!(v[2].protocol(), Proto::Any);
        assert_eq!(v[2].counters["no server configured"], 1);
    }

    /// lb.api 1.2.0's `format_lb_vip_detailed` (master's lb.c): the weight and `key:value`
    /// counts on each AS line.
    const MASTER: &str = " ip6-gre6 [1] 2001:db8:100::1/128\n  new_size:1024\n  protocol:6 port:80\n  counters:\n    packet from existing sessions: 0\n    first session packet: 1\n    untracked packet: 0\n    no server configured: 0\n  #as:3\n    2001:db8:1::1 weight:100 buckets:412 flows:1 dpo:9 used\n    2001:db8:1::2 weight:50 buckets:206 flows:0 dpo:10 used\n    2001:db8:1::3 weight:0 buckets:0 flows:0 dpo:11  removed\n\n";

    #[test]
    fn parses_master_s_verbose_listing() {
        let v = parse_vips(MASTER).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].ases
                .iter()
                .map(|a| (a.weight, a.buckets, a.flows, a.dpo, a.used))
                .collect::<Vec<_>>(),
            vec![
                (Some(100), 412, 1, 9, true),
                (Some(50), 206, 0, 10, true),
                (Some(0), 0, 0, 11, false)
            ]
        );
        assert_eq!(v[0].counters["first session packet"], 1);
        let e = parse_vips(
            " ip6-gre6 [1] ::/0\n    2001:db8::1 weight:300 buckets:1 flows:0 dpo:1 used\n",
        )
        .unwrap_err();
        assert!(e.contains("line 2") && e.contains("weight"), "{e}");
        let e = parse_vips(
            " ip6-gre6 [1] ::/0\n    2001:db8::1 weight:1 buckets:x flows:0 dpo:1 used\n",
        )
        .unwrap_err();
        assert!(e.contains("buckets:"), "{e}");
    }

    #[test]
    fn api_prefixes_of_1_2_0_are_honest() {
        use vppapi_runtime::Ip4Address;
        let v4 = AddressWithPrefix(Prefix {
            address: Address::Ip4(Ip4Address([192, 0, 2, 0])),
            len: 24,
        });
        assert_eq!(api_prefix_1_2(&v4).unwrap().to_string(), "192.0.2.0/24");
        assert_eq!(api_encap(1), Some(Encap::Gre6));
        assert_eq!(api_encap(9), None);
    }

    #[test]
    fn bad_scrapes_name_the_line() {
        let e = parse_vips(" ip6-gre6 [x] ::/0\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("pool index"), "{e}");
        let e = parse_vips("    2001:db8::1 1 buckets 0 flows dpo:1 used\n").unwrap_err();
        assert!(e.contains("before any VIP"), "{e}");
        let e = parse_vips(" ip6-gre6 [1] ::/0\n    2001:db8::1 1 buckets 0 flows dpo:1 maybe\n")
            .unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert_eq!(parse_vips("").unwrap(), vec![]);
    }

    #[test]
    fn show_lb_gives_the_source_addresses() {
        let t = "lb_main ip4-src-address: 192.0.2.254 \n ip6-src-address: 2001:db8::fe \n #vips: 1\n #ass: 0\n";
        let (a, b) = parse_show_lb(t).unwrap();
        assert_eq!(a.to_string(), "192.0.2.254");
        assert_eq!(b.to_string(), "2001:db8::fe");
        assert!(parse_show_lb("garbage").is_err());
    }

    #[test]
    fn api_prefixes_undo_the_26_06_offsets() {
        use vppapi_runtime::{Ip4Address, Ip6Address};
        let v4 = AddressWithPrefix(Prefix {
            address: Address::Ip4(Ip4Address([192, 0, 2, 1])),
            len: 128,
        });
        assert_eq!(api_prefix(&v4).unwrap().to_string(), "192.0.2.1/32");
        let honest = AddressWithPrefix(Prefix {
            address: Address::Ip4(Ip4Address([0, 0, 0, 0])),
            len: 32,
        });
        assert_eq!(api_prefix(&honest).unwrap().to_string(), "::/32");
        let v6 = AddressWithPrefix(Prefix {
            address: Address::Ip6(Ip6Address(
                "2001:db8::1".parse::<Ipv6Addr>().unwrap().octets(),
            )),
            len: 128,
        });
        assert_eq!(api_prefix(&v6).unwrap().to_string(), "2001:db8::1/128");
        let w = wire_prefix(&"192.0.2.1/32".parse().unwrap(), true);
        assert_eq!(w.0.len, 128);
    }
}
