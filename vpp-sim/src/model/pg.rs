//! The packet generator (VPP 26.06 `src/vnet/pg`) as far as LB traffic needs it, and the IP
//! input the generated packets enter:
//!
//! * `packet-generator new { name N limit L size A-B interface IF node ip4-input|ip6-input
//!   [source pgN] data { PROTO: SRC -> DST [TCP|UDP: SPORT -> DPORT] [payload...] } }`:
//!   addresses and ports may be ranges (`A-B`, `A - B`: incremented per packet, wrapping;
//!   `A+B`, random in VPP, is incremented too). As in `pg_stream_add`, the stream gets its own
//!   pg interface (`pg-1` without `source`), created if missing; a stream of the same name is
//!   replaced. Other nodes and pcap streams are not modelled.
//! * `packet-generator enable[-stream] [NAME...]` / `disable[-stream]` / `delete NAME`:
//!   enabling sets the stream's pg interface up and, at once, sends `limit` packets (VPP's
//!   pg-input does so on its next main-loop pass); the stream is then disabled, as VPP does
//!   when it reaches its limit. A stream without a limit (VPP: endless) sends nothing here;
//!   one above [`MAX_LIMIT`] packets is refused (`VNET_API_ERROR_UNIMPLEMENTED`).
//! * Every packet counts on the RX interface's `/if/rx` (packets, bytes) and, in ip4-input or
//!   ip6-input, on `/if/ip4` or `/if/ip6`; it is dropped unless the interface has that family
//!   enabled (an address; `ip4-not-enabled` / `ip6-not-enabled`), else it goes through the
//!   LB plugin's node when it hits a VIP ([`super::lb_node`]). Nothing else is forwarded.
//! * `set interface ip address [del] IF A/L` and `set interface ip address del IF all`.

use std::net::IpAddr;

use vppapi_binapi::interface::SwInterfaceAddDelAddress;
use vppapi_codec::api_errno::{ADDRESS_NOT_FOUND_FOR_INTERFACE, UNIMPLEMENTED};
use vppapi_codec::net::{
    Address, AddressWithPrefix, InterfaceIndex, Ip4Address, Ip6Address, Prefix,
};

use super::cli::{cli_error, Input};
use super::lb::Pool;
use super::lb_node::{LbVerdict, Packet};
use super::{mask_prefix, Model};

/// The largest `limit` the simulator runs (a run is processed at once).
pub const MAX_LIMIT: u64 = 1_000_000;

/// A field of the packet template: fixed, or incremented per packet over `lo..=hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    lo: u128,
    hi: u128,
}

impl Edit {
    fn at(&self, k: u64) -> u128 {
        if self.hi <= self.lo {
            return self.lo;
        }
        let span = self.hi - self.lo;
        match span.checked_add(1) {
            Some(n) => self.lo + u128::from(k) % n,
            None => self.lo.wrapping_add(u128::from(k)),
        }
    }
}

/// One packet-generator stream.
#[derive(Debug, Clone)]
pub struct PgStream {
    pub name: String,
    /// Packets per run (0: endless in VPP, nothing here).
    pub limit: u64,
    pub rx_sw_if_index: u32,
    /// The stream's own pg interface (`pg_interface_add_or_get`).
    pub pg_sw_if_index: u32,
    pub enabled: bool,
    ip6: bool,
    protocol: u8,
    src: Edit,
    dst: Edit,
    sport: Edit,
    dport: Edit,
    size: Edit,
    /// Packets generated so far (the increments go on across runs).
    generated: u64,
}

impl PgStream {
    fn packet(&self, k: u64) -> Packet {
        let addr = |v: u128| -> IpAddr {
            if self.ip6 {
                IpAddr::from(v.to_be_bytes())
            } else {
                IpAddr::from((v as u32).to_be_bytes())
            }
        };
        Packet {
            src: addr(self.src.at(k)),
            dst: addr(self.dst.at(k)),
            protocol: self.protocol,
            sport: self.sport.at(k) as u16,
            dport: self.dport.at(k) as u16,
            len: self.size.at(k) as u16,
        }
    }
}

/// The packet generator's streams (`pg_main.streams`, a pool).
#[derive(Debug, Clone, Default)]
pub struct PgMain {
    pub streams: Pool<PgStream>,
}

/// `unformat_pg_edit`: `A`, `A-B`, `A - B`, `A+B`, with `f` parsing one value.
fn edit(i: &mut Input, f: impl Fn(&str) -> Option<u128>) -> Option<Edit> {
    let t = i.next()?;
    let split = t
        .find(['-', '+'])
        .filter(|&p| p > 0)
        .map(|p| (&t[..p], &t[p + 1..]));
    match split {
        Some((a, b)) if !b.is_empty() => {
            let (lo, hi) = (f(a)?, f(b)?);
            Some(Edit { lo, hi })
        }
        Some((a, _)) => {
            // `A- B` / `A+ B`
            let lo = f(a)?;
            let hi = i.value(&f)?;
            Some(Edit { lo, hi })
        }
        None => {
            let lo = f(t)?;
            if let Some(op) = i.peek().filter(|p| *p == "-" || *p == "+") {
                let _ = op;
                i.next();
                let hi = i.value(&f)?;
                return Some(Edit { lo, hi });
            }
            if let Some(hi) = i.value(|s| s.strip_prefix(['-', '+']).and_then(&f)) {
                return Some(Edit { lo, hi });
            }
            Some(Edit { lo, hi: lo })
        }
    }
}

fn ip6_value(s: &str) -> Option<u128> {
    s.parse::<std::net::Ipv6Addr>().ok().map(u128::from)
}

fn ip4_value(s: &str) -> Option<u128> {
    s.parse::<std::net::Ipv4Addr>()
        .ok()
        .map(|a| u128::from(u32::from(a)))
}

fn port_value(s: &str) -> Option<u128> {
    s.parse::<u16>().ok().map(u128::from)
}

/// `unformat_ip_protocol` followed by `:` (`TCP:`): the protocol number.
fn ip_protocol(s: &str) -> Option<u8> {
    let name = s.strip_suffix(':')?;
    Some(match name {
        "ICMP" => 1,
        "IGMP" => 2,
        "TCP" => 6,
        "UDP" => 17,
        "GRE" => 47,
        "ESP" => 50,
        "AH" => 51,
        "ICMP6" | "IPV6_ICMP" => 58,
        "SCTP" => 132,
        _ => return None,
    })
}

/// The header part of `data { ... }` for ip4-input / ip6-input: (protocol, src, dst, sport,
/// dport); the payload after the L4 header is not modelled.
fn parse_data(i: &mut Input, ip6: bool) -> Option<(u8, Edit, Edit, Edit, Edit)> {
    let addr = if ip6 { ip6_value } else { ip4_value };
    let protocol = i.value(ip_protocol)?;
    let src = edit(i, addr)?;
    if !i.keyword("->") {
        return None;
    }
    let dst = edit(i, addr)?;
    let zero = Edit { lo: 0, hi: 0 };
    let (mut sport, mut dport) = (zero, zero);
    // Header fields (ttl, tos, ...) may come before the next header.
    while let Some(t) = i.peek() {
        if ip_protocol(t).is_some() {
            break;
        }
        i.next();
    }
    if matches!(protocol, 6 | 17) {
        let l4 = i.value(ip_protocol);
        if l4.is_some_and(|p| p == protocol) {
            sport = edit(i, port_value)?;
            if !i.keyword("->") {
                return None;
            }
            dport = edit(i, port_value)?;
        }
    }
    Some((protocol, src, dst, sport, dport))
}

impl Model {
    /// `packet-generator ...`; `None` if `words` is not one of those modelled.
    pub(super) fn pg_cli(&mut self, cmd: &str, words: &[&str]) -> Option<(i32, String)> {
        let r = match words {
            ["packet-generator", "new", ..] => {
                let i = Input::with_braces(cmd).skip(2);
                // vlib's sub-input: the text inside `{ ... }` when the input starts with one.
                let i = if i.peek() == Some("{") {
                    let close = i.matching_brace();
                    i.slice(i.pos() + 1, close)
                } else {
                    i
                };
                self.pg_new(i)
            }
            ["packet-generator", sub, ..]
                if !sub.is_empty() && "enable-stream".starts_with(sub) =>
            {
                self.pg_enable_cli(Input::after(cmd, 2), true)
            }
            ["packet-generator", sub, ..]
                if !sub.is_empty() && "disable-stream".starts_with(sub) =>
            {
                self.pg_enable_cli(Input::after(cmd, 2), false)
            }
            ["packet-generator", "delete", ..] => {
                let mut i = Input::after(cmd, 2);
                match i.value(|s| self.pg_stream_by_name(s)) {
                    Some(s) => {
                        self.pg.streams.remove(s);
                        (0, String::new())
                    }
                    None => cli_error(
                        "packet-generator delete",
                        &format!("expected stream name `{}'", i.rest()),
                    ),
                }
            }
            _ => return None,
        };
        Some(r)
    }

    fn pg_stream_by_name(&self, name: &str) -> Option<usize> {
        self.pg
            .streams
            .iter()
            .find(|(_, s)| s.name == name)
            .map(|(i, _)| i)
    }

    /// pg/cli.c `new_stream` and stream.c `pg_stream_add`.
    fn pg_new(&mut self, mut i: Input) -> (i32, String) {
        const PATH: &str = "packet-generator new";
        let mut name = None;
        let (mut limit, mut size) = (0u64, Edit { lo: 64, hi: 64 });
        let (mut rx, mut node, mut if_id) = (None, None, u32::MAX);
        let mut data = None;
        while !i.at_end() {
            if let Some(n) = i.keyword_value("name", Some) {
                name = Some(n.to_string());
            } else if let Some(n) = i.keyword_value("limit", |s| s.parse::<f64>().ok()) {
                limit = n as u64;
            } else if let Some(r) = i.keyword_value("rate", |s| s.parse::<f64>().ok()) {
                let _ = r;
            } else if i.peek() == Some("size") {
                i.next();
                match edit(&mut i, |s| s.parse::<u16>().ok().map(u128::from)) {
                    Some(e) => size = e,
                    None => {
                        i.back();
                        return cli_error(PATH, &format!("unknown input `{}'", i.rest()));
                    }
                }
            } else if let Some(sw) = i.keyword_value("interface", |s| self.sw_by_name(s)) {
                rx = Some(sw);
            } else if let Some(n) = i.keyword_value("node", |s| {
                matches!(s, "ip4-input" | "ip6-input" | "ethernet-input").then_some(s)
            }) {
                node = Some(n);
            } else if let Some(n) = i.keyword_value("source", |s| {
                s.strip_prefix("pg").and_then(|n| n.parse::<u32>().ok())
            }) {
                if_id = n;
            } else if let Some(n) = i.keyword_value("maxframe", |s| s.parse::<u32>().ok()) {
                let _ = n;
            } else if let Some(n) = i.keyword_value("worker", |s| s.parse::<u32>().ok()) {
                let _ = n;
            } else if data.is_none() && i.keywords(&["data", "{"]) {
                // The sub-input up to the matching `}`.
                i.back();
                let close = i.matching_brace();
                data = Some((i.pos() + 1, close));
                i = i.skip(close + 1);
            } else {
                return cli_error(PATH, &format!("unknown input `{}'", i.rest()));
            }
        }
        let Some((d0, d1)) = data else {
            return cli_error(PATH, "no packet data given");
        };
        let Some(node) = node else {
            return cli_error(PATH, "output interface or node not given");
        };
        if node == "ethernet-input" {
            return (
                UNIMPLEMENTED,
                "vpp-sim: packet-generator streams into ethernet-input are not modelled \
                 (ip4-input and ip6-input are)\n"
                    .into(),
            );
        }
        if limit > MAX_LIMIT {
            // A run is processed at once, holding the simulator: bounded.
            return (
                UNIMPLEMENTED,
                format!("vpp-sim: streams of more than {MAX_LIMIT} packets are not modelled\n"),
            );
        }
        let ip6 = node == "ip6-input";
        let mut di = i.slice(d0, d1);
        let Some((protocol, src, dst, sport, dport)) = parse_data(&mut di, ip6) else {
            return cli_error(
                PATH,
                &format!(
                    "failed to parse packet data from `{}'",
                    i.slice(d0, d1).rest()
                ),
            );
        };
        // pg_stream_add: a stream of the same name is deleted; the stream's pg interface is
        // created if missing; the RX interface defaults to it.
        let name = name.unwrap_or_else(|| format!("stream{}", self.pg.streams.len()));
        if let Some(old) = self.pg_stream_by_name(&name) {
            self.pg.streams.remove(old);
        }
        let pg_sw = self.create_pg(if_id);
        let s = PgStream {
            name,
            limit,
            rx_sw_if_index: rx.unwrap_or(pg_sw),
            pg_sw_if_index: pg_sw,
            enabled: false,
            ip6,
            protocol,
            src,
            dst,
            sport,
            dport,
            size,
            generated: 0,
        };
        self.pg.streams.put(s);
        (0, String::new())
    }

    /// pg/cli.c `enable_disable_stream`: the named streams, or all.
    fn pg_enable_cli(&mut self, mut i: Input, enable: bool) -> (i32, String) {
        let path = if enable {
            "packet-generator enable-stream"
        } else {
            "packet-generator disable-stream"
        };
        let mut named = Vec::new();
        while !i.at_end() {
            match i.value(|s| self.pg_stream_by_name(s)) {
                Some(s) => named.push(s),
                None => return cli_error(path, &format!("unknown input `{}'", i.rest())),
            }
        }
        let streams = if named.is_empty() {
            self.pg.streams.indices()
        } else {
            named
        };
        self.pg_enable(&streams, enable);
        (0, String::new())
    }

    /// `pg_stream_enable_disable` for `streams`, then (enable) each one's run: `limit`
    /// packets into its node, and the stream disabled again.
    pub fn pg_enable(&mut self, streams: &[usize], enable: bool) {
        for &s in streams {
            let Some(st) = self.pg.streams.get_mut(s) else {
                continue;
            };
            if st.enabled == enable {
                continue;
            }
            st.enabled = enable;
            if enable {
                let pg = st.pg_sw_if_index;
                self.set_admin(pg, true);
            }
        }
        if !enable {
            return;
        }
        for &s in streams {
            let Some(st) = self.pg.streams.get(s).cloned() else {
                continue;
            };
            if !st.enabled || st.limit == 0 {
                continue;
            }
            for k in 0..st.limit {
                let p = st.packet(st.generated + k);
                self.count_if("rx", st.rx_sw_if_index, 1, u64::from(p.len));
                self.ip_input(st.rx_sw_if_index, &p);
            }
            if let Some(x) = self.pg.streams.get_mut(s) {
                x.generated += st.limit;
                x.enabled = false;
            }
        }
    }

    /// ip4-input / ip6-input of packet `p` received on `rx_sw_if_index`: counted on
    /// `/if/ip4` or `/if/ip6`, dropped unless the family is enabled on the interface, else
    /// through the LB node if it hits a VIP (the verdict; `None` otherwise).
    pub fn ip_input(&mut self, rx_sw_if_index: u32, p: &Packet) -> Option<LbVerdict> {
        let i = self.iface(rx_sw_if_index)?;
        let (counter, enabled) = match p.dst {
            IpAddr::V4(_) => ("ip4", !i.v4.is_empty()),
            IpAddr::V6(_) => ("ip6", i.ll.is_some()),
        };
        self.count_if(counter, rx_sw_if_index, 1, 0);
        if !enabled {
            return None;
        }
        let now = self.secs();
        self.lb.packet(p, now)
    }

    /// ip46_cli.c `add_del_ip_address`.
    pub(super) fn set_ip_address_cli(&mut self, mut i: Input) -> (i32, String) {
        const PATH: &str = "set interface ip address";
        let del = i.keyword("del");
        let Some(sw) = i.value(|s| self.sw_by_name(s)) else {
            return cli_error(PATH, &format!("unknown interface `{}'", i.rest()));
        };
        let ifname = self.iface(sw).map(|x| x.name.clone()).unwrap_or_default();
        if del && i.keyword("all") {
            let req = SwInterfaceAddDelAddress {
                sw_if_index: InterfaceIndex(sw),
                is_add: false,
                del_all: true,
                prefix: AddressWithPrefix(Prefix {
                    address: Address::Ip4(Ip4Address([0; 4])),
                    len: 0,
                }),
            };
            self.add_del_address(&req);
            return (0, String::new());
        }
        let parsed = i.peek().and_then(|t| {
            let (a, l) = t.split_once('/')?;
            let l: u8 = l.parse().ok()?;
            a.parse::<IpAddr>().ok().map(|a| (a, l))
        });
        let Some((a, len)) = parsed else {
            return cli_error(
                PATH,
                &format!("expected IP4/IP6 address/length `{}'", i.rest()),
            );
        };
        let address = match a {
            IpAddr::V4(a) => Address::Ip4(Ip4Address(a.octets())),
            IpAddr::V6(a) => Address::Ip6(Ip6Address(a.octets())),
        };
        let req = SwInterfaceAddDelAddress {
            sw_if_index: InterfaceIndex(sw),
            is_add: !del,
            del_all: false,
            prefix: AddressWithPrefix(Prefix { address, len }),
        };
        match self.add_del_address(&req) {
            0 => (0, String::new()),
            ADDRESS_NOT_FOUND_FOR_INTERFACE => {
                cli_error(PATH, &format!("{a}/{len} not found for interface {ifname}"))
            }
            rv => match self.address_conflict(&a, len) {
                Some((x, xl, other)) => match a {
                    // ip4_forward.c and ip6_forward.c word it differently.
                    IpAddr::V4(_) => cli_error(
                        PATH,
                        &format!(
                            "failed to add {a}/{len} on {ifname} which conflicts with \
                             {x}/{xl} for interface {other}"
                        ),
                    ),
                    IpAddr::V6(_) => cli_error(
                        PATH,
                        &format!(
                            "failed to add {a}/{len} which conflicts with {x}/{xl} for \
                             interface {other}"
                        ),
                    ),
                },
                None => cli_error(PATH, &format!("failed to add {a}/{len} (error {rv})")),
            },
        }
    }

    /// The interface address `a/len` overlaps (for the CLI's error text).
    fn address_conflict(&self, a: &IpAddr, len: u8) -> Option<(IpAddr, u8, String)> {
        fn overlaps<const N: usize>(x: [u8; N], xl: u8, a: [u8; N], l: u8) -> bool {
            let s = xl.min(l);
            let (mut p, mut q) = (x, a);
            mask_prefix(&mut p, s);
            mask_prefix(&mut q, s);
            p == q
        }
        for i in self.ifaces() {
            match a {
                IpAddr::V4(a4) => {
                    if let Some((x, xl)) =
                        i.v4.iter()
                            .find(|(x, xl)| overlaps(*x, *xl, a4.octets(), len))
                    {
                        return Some((IpAddr::from(*x), *xl, i.name.clone()));
                    }
                }
                IpAddr::V6(a6) => {
                    if let Some((x, xl)) =
                        i.v6.iter()
                            .find(|(x, xl)| overlaps(*x, *xl, a6.octets(), len))
                    {
                        return Some((IpAddr::from(*x), *xl, i.name.clone()));
                    }
                }
            }
        }
        None
    }
}
