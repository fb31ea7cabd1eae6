//! Reading the LB state of VPP 26.06 (operator-tools.md §2.2, §4.6): the API dumps
//! (`lb_vip_dump`, an unfiltered `lb_as_dump`) fixed up by the CLI scrape
//! (`show lb vips verbose`, `show lb`), because the 26.06 API cannot tell a live VIP from a
//! soft-deleted one, reads protocol and encap wrongly, and has no pool index, sticky flag,
//! bucket counts or `lb_conf` getter.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use vppapi_binapi::lb::{LbAsDump, LbVipDump};
use vppapi_binapi::vlib::CliInband;
use vppapi_runtime::{Address, AddressWithPrefix, Prefix};

use super::model::{Encap, IpPrefix, Proto};
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

/// Parses `show lb vips verbose` (lb.c `format_lb_vip_detailed`). Lines it does not know are
/// skipped, so a newer VPP that prints more still parses; a header or AS line it cannot read is
/// an error naming the line.
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

/// The LB state of one VPP, read once per plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LbRead {
    /// `show lb`: the GRE source addresses (26.06 cannot read back buckets and timeout).
    pub src: Option<(Ipv4Addr, Ipv6Addr)>,
    /// Every VIP block of `show lb vips verbose`, removed ones included.
    pub vips: Vec<ScrapedVip>,
    /// USED ASes from the unfiltered `lb_as_dump`, per VIP (honest prefix, port).
    pub api_ases: BTreeMap<(IpPrefix, u16), Vec<IpAddr>>,
    /// (honest prefix, port) of each `lb_vip_details`.
    pub api_vips: BTreeSet<(IpPrefix, u16)>,
}

impl LbRead {
    /// The live VIPs (not marked ` removed`) that the API also lists.
    pub fn live(&self) -> impl Iterator<Item = &ScrapedVip> {
        self.vips
            .iter()
            .filter(|v| !v.removed && self.api_vips.contains(&(v.prefix, v.port())))
    }

    /// The used ASes of a live VIP: the API's list, unless two live VIPs share the prefix and
    /// port (the 26.06 dump reads protocol 0, so their ASes cannot be told apart): then the
    /// scrape's.
    pub fn used_ases(&self, v: &ScrapedVip) -> Vec<IpAddr> {
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

/// Reads the whole LB state: `lb_vip_dump`, `lb_as_dump` (all), `show lb vips verbose`,
/// `show lb`.
pub async fn read(vpp: &mut Vpp) -> Result<LbRead, VppError> {
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
