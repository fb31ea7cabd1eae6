//! The LB plugin (lb.api 1.1.0) as VPP 26.06 really behaves, handler bugs included
//! (`vpp-wire.md` 7.6 and the `lb` recordings); each quirk is commented where it happens:
//! * prefix lengths are used as ip46 lengths: an IPv4 VIP needs `96 + len`, with a plain
//!   `len <= 32` it is taken as IPv6 and normalised (`192.0.2.1/32` becomes `::/32`);
//! * `encap` is compared without `ntohl` (read here as the little-endian value of its bytes);
//!   with no match the type stays 0 (`ip6-gre6`); `type` is its first byte;
//! * dumps report the internal prefix length, `protocol` 0, the internal VIP type as `encap`,
//!   `flow_table_length` 0, deleted VIPs and removed ("soft-deleted") ASes;
//! * `lb_as_dump` ignores its filter when the address is all zeros, otherwise compares the raw
//!   union with the ip46 form and the port without `ntohs`.

use vppapi_binapi::ip_types::{IpDscp, IpProto};
use vppapi_binapi::lb::{
    LbAddDelAs, LbAddDelAsReply, LbAddDelIntfNat4, LbAddDelIntfNat4Reply, LbAddDelIntfNat6,
    LbAddDelIntfNat6Reply, LbAddDelVip, LbAddDelVipReply, LbAddDelVipV2, LbAddDelVipV2Reply,
    LbAsDetails, LbAsDump, LbConf, LbConfReply, LbFlushVip, LbFlushVipReply, LbVipDetails,
    LbVipDump,
};
use vppapi_binapi::lb_types::{LbEncapType, LbSrvType, LbVip};
use vppapi_codec::api_errno::{
    INVALID_ADDRESS_FAMILY, INVALID_ARGUMENT, INVALID_MEMORY_SIZE, INVALID_SW_IF_INDEX,
    NO_SUCH_ENTRY, VALUE_EXIST,
};
use vppapi_codec::net::{Address, AddressWithPrefix, Ip4Address, Ip6Address, Prefix};

use super::{mask_prefix, Model};
use crate::handlers::Handlers;

/// `lb_vip_type_t`.
const TYPE_NAMES: [&str; 9] = [
    "ip6-gre6",
    "ip6-gre4",
    "ip4-gre6",
    "ip4-gre4",
    "ip4-l3dsr",
    "ip4-nat4",
    "ip6-nat6",
    "ip4-nodeport",
    "ip6-nodeport",
];
const IP6_GRE6: u8 = 0;
const IP6_GRE4: u8 = 1;
const IP4_GRE6: u8 = 2;
const IP4_GRE4: u8 = 3;
const IP4_L3DSR: u8 = 4;
const IP4_NAT4: u8 = 5;
const IP6_NAT6: u8 = 6;

/// The first free index of the load-balance pool on a freshly started VPP 26.06 with the
/// recorded plugins (lb_ipv4, lb_lifecycle, lb_stats: the first VIP's FIB entry takes 8).
const FIRST_LOAD_BALANCE: u32 = 8;

#[derive(Debug, Clone)]
pub struct Vip {
    pub index: u32,
    pub prefix: [u8; 16],
    pub plen: u8,
    pub protocol: u8,
    /// Host order.
    pub port: u16,
    pub vtype: u8,
    pub new_len: u32,
    pub dscp: u8,
    pub srv_type: u8,
    pub target_port: u16,
    pub deleted: bool,
    pub src_ip_sticky: bool,
    pub ases: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct As {
    pub addr: [u8; 16],
    pub used: bool,
    pub last_used: u32,
    pub dpo: u32,
}

#[derive(Debug, Clone)]
pub struct LbConfig {
    pub ip4_src: [u8; 4],
    pub ip6_src: [u8; 16],
    pub sticky_buckets_per_core: u32,
    pub flow_timeout: u32,
}

#[derive(Debug, Clone)]
pub struct Lb {
    pub conf: LbConfig,
    /// Pool index 0 is LB's reserved default VIP.
    pub vips: Vec<Vip>,
    pub ases: Vec<As>,
    /// VPP's load-balance pool as the LB plugin sees it: every FIB entry it creates (one per
    /// VIP prefix, lb.c `lb_vip_add_adjacency`; one per AS address,
    /// `fib_table_entry_special_add` in `lb_vip_add_ass`) takes the next index (the most
    /// recently freed first, as vppinfra pools hand them out); an AS's `dpo:` is its address's.
    lb_next: u32,
    lb_free: Vec<u32>,
    /// (VIP prefix, len) -> (load-balance index, VIPs on it).
    prefix_lb: Vec<(([u8; 16], u8), u32, u32)>,
    /// AS address -> load-balance index (the FIB entry stays while the AS is in the pool).
    as_lb: Vec<([u8; 16], u32)>,
}

impl Default for Lb {
    fn default() -> Self {
        Lb {
            conf: LbConfig {
                ip4_src: [0; 4],
                ip6_src: [0; 16],
                sticky_buckets_per_core: 1024,
                flow_timeout: 40,
            },
            vips: Vec::new(),
            ases: Vec::new(),
            lb_next: FIRST_LOAD_BALANCE,
            lb_free: Vec::new(),
            prefix_lb: Vec::new(),
            as_lb: Vec::new(),
        }
    }
}

/// A VIP's key as the handlers build it (see [`key`]).
type Key = ([u8; 16], u8, u8, u16);

/// VPP's `ip_address_decode` to an `ip46_address_t`: IPv4 in the last 4 bytes, the first 12
/// zero; any other family is the union's 16 bytes.
fn ip46(a: &Address) -> [u8; 16] {
    match a {
        Address::Ip4(a) => {
            let mut out = [0u8; 16];
            out[12..].copy_from_slice(&a.0);
            out
        }
        Address::Ip6(a) => a.0,
        Address::Other(_, un) => un.0,
    }
}

/// `ip46_address_is_ip4`: the first 12 bytes are zero.
fn ip46_is_ip4(a: &[u8; 16]) -> bool {
    a[..12].iter().all(|&b| b == 0)
}

/// `ip_address_encode(…, IP46_TYPE_ANY, …)`.
fn address(a: &[u8; 16]) -> Address {
    if ip46_is_ip4(a) {
        Address::Ip4(Ip4Address([a[12], a[13], a[14], a[15]]))
    } else {
        Address::Ip6(Ip6Address(*a))
    }
}

/// The VIP's key as the handlers build it: the address as ip46 masked to the raw length,
/// the raw length (VPP 26.06 quirk: an ip46 length, so an IPv4 VIP is `len + 96`), protocol
/// forced to 255 for all-port VIPs, port in host order.
fn key(pfx: &AddressWithPrefix, protocol: u8, port: u16) -> Key {
    let Prefix { address, len } = pfx.0;
    let mut prefix = ip46(&address);
    mask_prefix(&mut prefix, len);
    let protocol = if port == 0 { 255 } else { protocol };
    (prefix, len, protocol, port)
}

fn is_ip4_type(t: u8) -> bool {
    matches!(t, IP4_GRE6 | IP4_GRE4 | IP4_L3DSR | IP4_NAT4 | 7)
}

/// Whether ASes of a VIP type are IPv4 (the encap's underlay).
fn as_is_ip4(t: u8) -> bool {
    matches!(t, IP6_GRE4 | IP4_GRE4 | IP4_L3DSR | IP4_NAT4 | 7)
}

/// VPP 26.06 quirk: a prefix is IPv4 only with an ip46 length (`len + 96`).
fn prefix_is_ip4(p: &[u8; 16], plen: u8) -> bool {
    plen >= 96 && ip46_is_ip4(p)
}

/// What `lb_add_del_vip` and `_v2` ask for.
struct VipReq {
    key: Key,
    /// The `encap` field's value as VPP's handler sees it (see `register`).
    encap: u32,
    dscp: u8,
    srv_type: u8,
    target_port: u16,
    new_len: u32,
    is_del: bool,
    /// `src_ip_sticky` (v2 only).
    sticky: bool,
}

macro_rules! vip_req {
    ($r:expr, $sticky:expr) => {{
        let r = $r;
        VipReq {
            key: key(&r.pfx, r.protocol, r.port),
            // VPP 26.06 quirk: the handler compares `encap` without `ntohl`, i.e. the value of
            // its bytes in host (little-endian) order.
            encap: r.encap.0.swap_bytes(),
            dscp: r.dscp,
            // VPP 26.06 quirk: the u32 `type` is stored in a u8: its first byte on the wire.
            srv_type: r.r#type.0.to_be_bytes()[0],
            target_port: r.target_port,
            new_len: r.new_flows_table_length,
            is_del: r.is_del,
            sticky: $sticky,
        }
    }};
}

pub(super) fn register(h: &mut Handlers) {
    h.on::<LbConf, _>(|m, _, req| LbConfReply {
        retval: m.lb.conf(&req),
    });
    h.on::<LbAddDelVip, _>(|m, _, req| LbAddDelVipReply {
        retval: m.lb.add_del_vip(vip_req!(req, false)),
    });
    h.on::<LbAddDelVipV2, _>(|m, _, req| {
        let sticky = req.src_ip_sticky;
        LbAddDelVipV2Reply {
            retval: m.lb.add_del_vip(vip_req!(req, sticky)),
        }
    });
    h.on::<LbAddDelAs, _>(|m, _, req| {
        let now = m.secs();
        LbAddDelAsReply {
            retval: m.lb.add_del_as(&req, now),
        }
    });
    h.on::<LbFlushVip, _>(|_, _, _| LbFlushVipReply { retval: 0 });
    // Every VIP (its filter fields ignored), deleted ones included.
    h.dump::<LbVipDump, _>(|m, _, _| {
        m.lb.vips
            .iter()
            .skip(1)
            .map(|v| LbVipDetails {
                vip: v.wire(),
                // The internal VIP type, not the API's encap.
                encap: LbEncapType(u32::from(v.vtype)),
                dscp: IpDscp(v.dscp),
                srv_type: LbSrvType(u32::from(v.srv_type)),
                target_port: v.target_port,
                flow_table_length: 0,
            })
            .collect()
    });
    // A view: the filter compares the union's raw bytes (see `as_dump`).
    h.dump_view::<LbAsDump, _>(|m, _, req| {
        let pfx = req.pfx();
        m.lb.as_dump(pfx.address().un().0, req.port())
    });
    h.on::<LbAddDelIntfNat4, _>(|m, _, req| LbAddDelIntfNat4Reply {
        retval: nat_intf(m, req.sw_if_index.0),
    });
    h.on::<LbAddDelIntfNat6, _>(|m, _, req| LbAddDelIntfNat6Reply {
        retval: nat_intf(m, req.sw_if_index.0),
    });
}

/// `lb_add_del_intf_nat4/6`: only the interface is checked.
fn nat_intf(m: &Model, sw: u32) -> i32 {
    if m.iface(sw).is_some() {
        0
    } else {
        INVALID_SW_IF_INDEX
    }
}

impl Vip {
    /// The `lb_vip` of dumps: the internal prefix and length (VPP 26.06 quirk: `len + 96` for
    /// IPv4), protocol 0 (the low byte of `htonl(protocol)`), the port.
    fn wire(&self) -> LbVip {
        LbVip {
            pfx: AddressWithPrefix(Prefix {
                address: address(&self.prefix),
                len: self.plen,
            }),
            protocol: IpProto(0),
            port: self.port,
        }
    }
}

impl Lb {
    /// Takes `n` load-balance indices, as FIB entries the simulator does not model would
    /// (e.g. a VPP that served other sessions before).
    pub fn reserve_load_balances(&mut self, n: u32) {
        for _ in 0..n {
            self.lb_alloc();
        }
    }

    fn lb_alloc(&mut self) -> u32 {
        self.lb_free.pop().unwrap_or_else(|| {
            self.lb_next += 1;
            self.lb_next - 1
        })
    }

    /// A VIP on `(prefix, len)`: its FIB entry comes with the first VIP of the prefix.
    fn prefix_ref(&mut self, p: ([u8; 16], u8)) {
        if let Some(e) = self.prefix_lb.iter_mut().find(|e| e.0 == p) {
            e.2 += 1;
            return;
        }
        let i = self.lb_alloc();
        self.prefix_lb.push((p, i, 1));
    }

    /// A VIP of `(prefix, len)` deleted: the last one takes the FIB entry with it.
    fn prefix_unref(&mut self, p: ([u8; 16], u8)) {
        if let Some(pos) = self.prefix_lb.iter().position(|e| e.0 == p) {
            self.prefix_lb[pos].2 -= 1;
            if self.prefix_lb[pos].2 == 0 {
                let (_, i, _) = self.prefix_lb.remove(pos);
                self.lb_free.push(i);
            }
        }
    }

    /// The load-balance index of the FIB entry for AS address `a`.
    fn as_dpo(&mut self, a: [u8; 16]) -> u32 {
        if let Some(e) = self.as_lb.iter().find(|e| e.0 == a) {
            return e.1;
        }
        let i = self.lb_alloc();
        self.as_lb.push((a, i));
        i
    }

    /// `show lb` (lb.c `format_lb_main`): the pools count their placeholders (VIP 0 counts,
    /// AS 0 does not); no per-core sticky table exists before traffic.
    pub(super) fn show(&self) -> String {
        format!(
            "lb_main ip4-src-address: {} \n ip6-src-address: {} \n #vips: {}\n #ass: {}\n",
            std::net::Ipv4Addr::from(self.conf.ip4_src),
            std::net::Ipv6Addr::from(self.conf.ip6_src),
            self.vips.len().max(1),
            self.ases.len().saturating_sub(1),
        )
    }

    fn conf(&mut self, r: &LbConf) -> i32 {
        let (sticky, timeout) = (r.sticky_buckets_per_core, r.flow_timeout);
        // lb.c lb_conf: 0 passes the power-of-two check (the recordings: 0 accepted).
        if sticky != u32::MAX && sticky != 0 && !sticky.is_power_of_two() {
            return INVALID_MEMORY_SIZE;
        }
        self.conf.ip4_src = r.ip4_src_address.0;
        self.conf.ip6_src = r.ip6_src_address.0;
        if sticky != u32::MAX {
            self.conf.sticky_buckets_per_core = sticky;
        }
        if timeout != u32::MAX {
            self.conf.flow_timeout = timeout;
        }
        0
    }

    fn find(&self, k: &Key) -> Option<usize> {
        self.vips.iter().position(|v| {
            !v.deleted && (v.prefix, v.plen, v.protocol, v.port) == *k && v.index != 0
        })
    }

    fn add_del_vip(&mut self, r: VipReq) -> i32 {
        let k = r.key;
        if r.is_del {
            return match self.find(&k) {
                None => NO_SUCH_ENTRY,
                Some(v) => {
                    // Soft delete: the VIP and its ASes stay in the pools (and the dumps).
                    let ases = self.vips[v].ases.clone();
                    for a in ases {
                        self.ases[a].used = false;
                    }
                    self.vips[v].deleted = true;
                    self.prefix_unref((k.0, k.1));
                    0
                }
            };
        }
        let v4 = prefix_is_ip4(&k.0, k.1);
        let vtype = match (v4, r.encap) {
            (true, 0) => IP4_GRE4,
            (true, 1) => IP4_GRE6,
            (true, 2) => IP4_L3DSR,
            (true, 3) => IP4_NAT4,
            (false, 0) => IP6_GRE4,
            (false, 1) => IP6_GRE6,
            (false, 4) => IP6_NAT6,
            _ => IP6_GRE6,
        };
        if self.find(&k).is_some() {
            return VALUE_EXIST;
        }
        // lb.c lb_vip_add with lb_vip_port_find_index over the live VIPs of the prefix:
        // per-port beside an all-port VIP -81, all-port beside another -81, and a per-port
        // VIP of another type than the first other one on the prefix -73.
        let same_prefix = |v: &&Vip| v.index != 0 && !v.deleted && (v.prefix, v.plen) == (k.0, k.1);
        if k.3 != 0 && self.vips.iter().filter(same_prefix).any(|v| v.port == 0) {
            return VALUE_EXIST;
        }
        let other = self
            .vips
            .iter()
            .filter(same_prefix)
            .find(|v| (v.protocol, v.port) != (k.2, k.3));
        if k.3 == 0 && other.is_some() {
            return VALUE_EXIST;
        }
        if k.3 != 0 && other.is_some_and(|o| o.vtype != vtype) {
            return INVALID_ARGUMENT;
        }
        if !r.new_len.is_power_of_two() {
            return INVALID_MEMORY_SIZE;
        }
        if v4 != is_ip4_type(vtype) {
            return INVALID_ADDRESS_FAMILY;
        }
        if self.vips.is_empty() {
            self.vips.push(Vip {
                index: 0,
                prefix: [0; 16],
                plen: 0,
                protocol: 0,
                port: 0,
                vtype: 0,
                new_len: 0,
                dscp: 0,
                srv_type: 0,
                target_port: 0,
                deleted: true,
                src_ip_sticky: false,
                ases: vec![],
            });
        }
        let nat = r.encap == 3 || r.encap == 4;
        self.vips.push(Vip {
            index: self.vips.len() as u32,
            prefix: k.0,
            plen: k.1,
            protocol: k.2,
            port: k.3,
            vtype,
            new_len: r.new_len,
            dscp: if r.encap == 2 { r.dscp & 0x3f } else { 0 },
            srv_type: if nat { r.srv_type } else { 0 },
            target_port: if nat { r.target_port } else { 0 },
            deleted: false,
            src_ip_sticky: r.sticky,
            ases: vec![],
        });
        self.prefix_ref((k.0, k.1));
        0
    }

    fn add_del_as(&mut self, r: &LbAddDelAs, now: u32) -> i32 {
        let k = key(&r.pfx, r.protocol, r.port);
        let addr = ip46(&r.as_address);
        let Some(v) = self.find(&k) else {
            return NO_SUCH_ENTRY;
        };
        let existing = self.vips[v]
            .ases
            .iter()
            .copied()
            .find(|&a| self.ases[a].addr == addr);
        if r.is_del {
            // lb.c lb_vip_del_ass_withlock: an AS of the VIP, used or already removed, is
            // (again) marked removed with the time (0); one never added is -6.
            return match existing {
                Some(a) => {
                    self.ases[a].used = false;
                    self.ases[a].last_used = now;
                    0
                }
                None => NO_SUCH_ENTRY,
            };
        }
        if ip46_is_ip4(&addr) != as_is_ip4(self.vips[v].vtype) {
            return INVALID_ADDRESS_FAMILY;
        }
        match existing {
            Some(a) if self.ases[a].used => VALUE_EXIST,
            Some(a) => {
                self.ases[a].used = true;
                0
            }
            None => {
                if self.ases.is_empty() {
                    // AS 0 is LB's reserved default AS.
                    self.ases.push(As {
                        addr: [0; 16],
                        used: false,
                        last_used: 0,
                        dpo: 0,
                    });
                }
                let dpo = self.as_dpo(addr);
                self.ases.push(As {
                    addr,
                    used: true,
                    last_used: 0,
                    dpo,
                });
                self.vips[v].ases.push(self.ases.len() - 1);
                0
            }
        }
    }

    /// `lb_as_dump` with the request's raw union bytes and its port as sent.
    fn as_dump(&self, un: &[u8; 16], port_be: u16) -> Vec<LbAsDetails> {
        // VPP 26.06 quirk: an all-zero address dumps everything; otherwise the raw union (an
        // IPv4 address in its first 4 bytes) is compared with the VIP's ip46 form, and the port
        // without `ntohs` (the value of its bytes in host, little-endian, order).
        let all = un.iter().all(|&x| x == 0);
        let port_raw = port_be.swap_bytes();
        let mut out = Vec::new();
        // Deleted VIPs and removed ASes are dumped too.
        for v in self.vips.iter().skip(1) {
            if !all && (*un != v.prefix || v.port != port_raw) {
                continue;
            }
            for &a in &v.ases {
                let a = &self.ases[a];
                out.push(LbAsDetails {
                    vip: v.wire(),
                    app_srv: address(&a.addr),
                    flags: a.used as u8,
                    in_use_since: a.last_used,
                });
            }
        }
        out
    }

    /// Buckets per used AS (by AS pool index) of `v`'s new-flow table, filled as
    /// `lb_vip_update_new_flow_table()` does (the `maglev` crate): which AS gets the extra
    /// buckets follows the table's sort by address, not the order the ASes were added in.
    pub fn buckets(&self, v: &Vip) -> std::collections::HashMap<usize, u32> {
        let used: Vec<usize> = v
            .ases
            .iter()
            .copied()
            .filter(|&a| self.ases[a].used)
            .collect();
        let backends: Vec<maglev::Backend> = used
            .iter()
            .map(|&a| maglev::Backend::new(std::net::IpAddr::from(self.ases[a].addr), 100))
            .collect();
        let counts = maglev::vpp_table(&backends, v.new_len as usize, maglev::Variant::Vpp2606)
            .map(|t| t.buckets_per_backend())
            .unwrap_or_default();
        used.into_iter()
            .zip(counts)
            .map(|(a, c)| (a, c as u32))
            .collect()
    }

    /// `show lb vips [verbose]`.
    pub fn show_vips(&self, verbose: bool) -> String {
        let mut s = String::new();
        // cli.c lb_show_vips_command_fn: every pool VIP but the placeholder, removed ones
        // too (format_lb_vip_detailed: " src_ip_sticky", " removed").
        for v in self.vips.iter().skip(1) {
            s.push_str(&format!(
                " {} [{}] {}{}{}\n",
                TYPE_NAMES[usize::from(v.vtype)],
                v.index,
                format_prefix(&v.prefix, v.plen),
                if v.src_ip_sticky {
                    " src_ip_sticky"
                } else {
                    ""
                },
                if v.deleted { " removed" } else { "" }
            ));
            if !verbose {
                continue;
            }
            s.push_str(&format!("  new_size:{}\n", v.new_len));
            if v.vtype == IP4_L3DSR {
                s.push_str(&format!("  dscp:{}\n", v.dscp));
            }
            if v.port != 0 {
                s.push_str(&format!("  protocol:{} port:{}\n", v.protocol, v.port));
            }
            s.push_str(
                "  counters:\n    packet from existing sessions: 0\n    first session packet: 0\n    untracked packet: 0\n    no server configured: 0\n",
            );
            s.push_str(&format!("  #as:{}\n", v.ases.len()));
            let buckets_of = self.buckets(v);
            for &a in &v.ases {
                let buckets = buckets_of.get(&a).copied().unwrap_or(0);
                let a = &self.ases[a];
                s.push_str(&format!(
                    "    {} {} buckets   0 flows  dpo:{} {}\n",
                    format_ip46(&a.addr),
                    buckets,
                    a.dpo,
                    if a.used { "used" } else { " removed" }
                ));
            }
            s.push('\n');
        }
        s
    }
}

fn format_ip46(a: &[u8; 16]) -> String {
    if ip46_is_ip4(a) && a != &[0; 16] {
        std::net::Ipv4Addr::new(a[12], a[13], a[14], a[15]).to_string()
    } else {
        std::net::Ipv6Addr::from(*a).to_string()
    }
}

fn format_prefix(a: &[u8; 16], plen: u8) -> String {
    if prefix_is_ip4(a, plen) {
        format!(
            "{}/{}",
            std::net::Ipv4Addr::new(a[12], a[13], a[14], a[15]),
            plen - 96
        )
    } else {
        format!("{}/{}", std::net::Ipv6Addr::from(*a), plen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_format_like_vpp() {
        let mut p = [0u8; 16];
        p[12..].copy_from_slice(&[192, 0, 2, 1]);
        assert_eq!(format_prefix(&p, 128), "192.0.2.1/32");
        let mut q = p;
        mask_prefix(&mut q, 32);
        assert_eq!(format_prefix(&q, 32), "::/32");
    }
}
