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
    INVALID_ADDRESS_FAMILY, INVALID_MEMORY_SIZE, INVALID_SW_IF_INDEX, NO_SUCH_ENTRY, VALUE_EXIST,
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

/// First `dpo` index the recorded VPP gave an AS (its FIB had allocated 12 before).
const FIRST_DPO: u32 = 13;

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
    next_dpo: u32,
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
            next_dpo: FIRST_DPO,
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
}

macro_rules! vip_req {
    ($r:expr) => {{
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
        }
    }};
}

pub(super) fn register(h: &mut Handlers) {
    h.on::<LbConf, _>(|m, _, req| LbConfReply {
        retval: m.lb.conf(&req),
    });
    h.on::<LbAddDelVip, _>(|m, _, req| LbAddDelVipReply {
        retval: m.lb.add_del_vip(vip_req!(req)),
    });
    h.on::<LbAddDelVipV2, _>(|m, _, req| LbAddDelVipV2Reply {
        retval: m.lb.add_del_vip(vip_req!(req)),
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
    fn conf(&mut self, r: &LbConf) -> i32 {
        let (sticky, timeout) = (r.sticky_buckets_per_core, r.flow_timeout);
        if sticky != u32::MAX && !sticky.is_power_of_two() {
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
            ases: vec![],
        });
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
            return match existing {
                Some(a) if self.ases[a].used => {
                    // Soft delete: the AS stays, "removed", with the time it was removed.
                    self.ases[a].used = false;
                    self.ases[a].last_used = now;
                    0
                }
                _ => NO_SUCH_ENTRY,
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
                self.ases.push(As {
                    addr,
                    used: true,
                    last_used: 0,
                    dpo: self.next_dpo,
                });
                self.next_dpo += 1;
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

    /// `show lb vips [verbose]`.
    pub fn show_vips(&self, verbose: bool) -> String {
        let mut s = String::new();
        for v in self.vips.iter().skip(1).filter(|v| !v.deleted) {
            s.push_str(&format!(
                " {} [{}] {}\n",
                TYPE_NAMES[usize::from(v.vtype)],
                v.index,
                format_prefix(&v.prefix, v.plen)
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
            let used = v.ases.iter().filter(|&&a| self.ases[a].used).count() as u32;
            let mut k = 0u32;
            for &a in &v.ases {
                let a = &self.ases[a];
                let buckets = if a.used {
                    let extra = u32::from(k < v.new_len % used.max(1));
                    k += 1;
                    v.new_len / used + extra
                } else {
                    0
                };
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
