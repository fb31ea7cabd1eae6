//! The LB plugin (lb.api 1.1.0) as VPP 26.06 really behaves, handler bugs included
//! (`vpp-wire.md` 7.6 and the `lb` recordings); each quirk is commented where it happens:
//! * prefix lengths are used as ip46 lengths: an IPv4 VIP needs `96 + len`, with a plain
//!   `len <= 32` it is taken as IPv6 and normalised (`192.0.2.1/32` becomes `::/32`);
//! * `encap` is compared without `ntohl` (read here as the little-endian value of its bytes);
//!   with no match the type stays 0 (`ip6-gre6`); `type` is its first byte;
//! * dumps report the internal prefix length, `protocol` 0, the internal VIP type as `encap`,
//!   `flow_table_length` 0, deleted VIPs and removed ("soft-deleted") ASes until the garbage
//!   collection frees them;
//! * `lb_as_dump` ignores its filter when the address is all zeros, otherwise compares the raw
//!   union with the ip46 form and the port without `ntohs`.
//!
//! The VIP and AS pools are vppinfra pools ([`Pool`]): index 0 of each is lb.c's placeholder
//! (`lb_init`), freed indices are reused most recently freed first. The data plane (`node.c`:
//! sticky table, per-VIP counters, `N flows`) is in [`super::lb_node`]; the `lb ...` CLI
//! commands are in [`super::lb_cli`].
//!
//! With [`Lb::api_1_2`] (`SimConfig::lb_api_1_2`) the plugin is VPP master's after 26.06
//! (`lb.api` 1.2.0, commits `db44addb60c` "lb: API bugfix" and `ca870e99f61` "lb: Allow
//! setting weight on AS"), where the 26.06 quirks above are fixed: IPv4 prefixes get their
//! `+ 96` from the handlers, `encap` is read with `ntohl`, dumps report honest prefixes,
//! protocols, encaps and table lengths and hide deleted VIPs, `lb_as_dump` filters the port
//! with `ntohs`; ASes carry a weight (0-100, default 100) that decides how many replicas of
//! them fill the new-flow table, and a GC timer runs every [`LB_GARBAGE_RUN`] s. The new
//! messages are in [`super::lb_1_2`].
//!
//! Garbage collection (lb.c `lb_vip_garbage_collection` / `lb_garbage_collection`): a removed
//! AS is freed once unused for more than [`LB_CONCURRENCY_TIMEOUT`] s with no sticky entry
//! pointing at it, by a VIP's collection, which runs at most every [`LB_GARBAGE_RUN`] s per
//! VIP. In 26.06 it runs only from AS add/delete ([`Lb::vip_gc`] of that VIP, also on VIP
//! delete) and from the CLI commands `lb vip`, `lb as` and `lb conf` ([`Lb::gc`]: every VIP,
//! then frees the deleted VIPs left without ASes); there is no timer, so through the API alone
//! a deleted VIP is never freed.

use std::collections::HashMap;

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

use super::lb_node::{StickyTable, N_COUNTERS};
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
pub(super) const IP6_GRE6: u8 = 0;
pub(super) const IP6_GRE4: u8 = 1;
pub(super) const IP4_GRE6: u8 = 2;
pub(super) const IP4_GRE4: u8 = 3;
pub(super) const IP4_L3DSR: u8 = 4;
pub(super) const IP4_NAT4: u8 = 5;
pub(super) const IP6_NAT6: u8 = 6;

/// lb.c: the garbage collection of a VIP runs at most once every so many seconds.
pub const LB_GARBAGE_RUN: u32 = 60;
/// lb.c: a removed AS is freed only after being unused for more than so many seconds.
pub const LB_CONCURRENCY_TIMEOUT: u32 = 10;

/// The first free index of the load-balance pool on a freshly started VPP 26.06 with the
/// recorded plugins (lb_ipv4, lb_lifecycle, lb_stats: the first VIP's FIB entry takes 8).
const FIRST_LOAD_BALANCE: u32 = 8;

/// vppinfra's `clib_u32_loop_gt`: `a > b` on a wrapping clock.
pub(super) fn loop_gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// A vppinfra pool: `put` (`pool_get`) takes the most recently freed index, else a new one at
/// the end; `remove` (`pool_put`) frees an index; iteration (`pool_foreach`) is in index order.
#[derive(Debug, Clone)]
pub struct Pool<T> {
    slots: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Pool<T> {
    /// `pool_get` + store: the index used.
    pub fn put(&mut self, t: T) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(t);
                i
            }
            None => {
                self.slots.push(Some(t));
                self.slots.len() - 1
            }
        }
    }

    /// `pool_put`: frees index `i` (nothing if it is free already).
    pub fn remove(&mut self, i: usize) -> Option<T> {
        let t = self.slots.get_mut(i)?.take()?;
        self.free.push(i);
        Some(t)
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.slots.get(i)?.as_ref()
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.slots.get_mut(i)?.as_mut()
    }

    /// `pool_elts`: live elements.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `pool_foreach`: live (index, element) pairs in index order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|t| (i, t)))
    }

    /// The live elements in index order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }

    /// The live indices in index order.
    pub fn indices(&self) -> Vec<usize> {
        self.iter().map(|(i, _)| i).collect()
    }
}

impl<T> std::ops::Index<usize> for Pool<T> {
    type Output = T;
    /// Only for indices the model knows to be live (e.g. the AS indices of a VIP's pool).
    fn index(&self, i: usize) -> &T {
        self.get(i).expect("live pool index")
    }
}

impl<T> std::ops::IndexMut<usize> for Pool<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        self.get_mut(i).expect("live pool index")
    }
}

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
    /// `LB_VIP_FLAGS_USED` clear: soft-deleted, in the pool until the garbage collection.
    pub deleted: bool,
    pub src_ip_sticky: bool,
    /// `as_indexes`: a pool of AS pool indices.
    pub ases: Pool<usize>,
    /// `last_garbage_collection` (seconds of VPP uptime).
    pub last_gc: u32,
    /// `new_flow_table`: the AS pool index of each bucket (0: no server), as
    /// `lb_vip_update_new_flow_table` last filled it (the `maglev` crate). Empty for a
    /// length above `maglev::MAX_TABLE_LEN` (VPP would try to allocate it).
    pub new_flow_table: Vec<u32>,
}

impl Vip {
    /// lb.c `lb_init`'s default VIP: index 0, USED, prefix all ones, protocol ~0, port 0, a
    /// one-bucket new-flow table pointing at AS 0 (no server).
    fn placeholder() -> Vip {
        Vip {
            index: 0,
            prefix: [0xff; 16],
            plen: 0,
            protocol: 0xff,
            port: 0,
            vtype: 0,
            new_len: 1,
            dscp: 0,
            srv_type: 0,
            target_port: 0,
            deleted: false,
            src_ip_sticky: false,
            ases: Pool::default(),
            last_gc: 0,
            new_flow_table: vec![0],
        }
    }
}

#[derive(Debug, Clone)]
pub struct As {
    pub addr: [u8; 16],
    /// `LB_AS_FLAGS_USED`.
    pub used: bool,
    /// lb.api 1.2.0: replicas in the new-flow table (0: none, a drain; 100 by default). Kept
    /// at 100 and unused on 26.06.
    pub weight: u8,
    /// Seconds of VPP uptime at the last delete (`in_use_since` in dumps).
    pub last_used: u32,
    /// The load-balance index the AS's DPO is stacked on (`dpo:` in the CLI).
    pub dpo: u32,
    /// The VIP's pool index.
    pub vip: u32,
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
    /// The VIP pool; index 0 is LB's placeholder VIP.
    pub vips: Pool<Vip>,
    /// The AS pool; index 0 is LB's placeholder AS (never in a VIP).
    pub ases: Pool<As>,
    /// VPP's load-balance pool as the LB plugin sees it: every FIB entry it creates (one per
    /// VIP prefix, lb.c `lb_vip_add_adjacency`; one per AS address,
    /// `fib_table_entry_special_add` in `lb_vip_add_ass`) takes the next index (the most
    /// recently freed first, as vppinfra pools hand them out); an AS's `dpo:` is its address's.
    lb_next: u32,
    lb_free: Vec<u32>,
    /// Locks on the load-balance indices of AS FIB entries: one for the FIB entry, one for
    /// every AS whose DPO is stacked on it, freed ASes included (see [`Lb::as_slot_reused`]).
    lb_locks: HashMap<u32, u32>,
    /// (VIP prefix, len) -> (load-balance index, VIPs on it).
    prefix_lb: Vec<(([u8; 16], u8), u32, u32)>,
    /// AS address -> (load-balance index of its FIB entry, ASes in the pool with it).
    as_lb: Vec<([u8; 16], u32, u32)>,
    /// Freed AS slots whose DPO still locks a load-balance (lb.c never resets `as->dpo`).
    stale_dpo: HashMap<usize, u32>,
    /// The per-thread sticky table (one thread), created by the first packet.
    pub(super) sticky: Option<StickyTable>,
    /// `as_refcount` (summed over threads), by AS pool index: sticky entries pointing at it.
    pub(super) refcount: Vec<i64>,
    /// `vip_counters[4]`: one vector per counter, by VIP pool index, sized by the highest VIP
    /// index ever validated (empty until the first VIP: the stats entries appear then).
    pub(super) counters: [Vec<u64>; N_COUNTERS],
    /// Set when `counters` changed (the stats mirror follows).
    pub stats_dirty: bool,
    /// VPP master's plugin (`lb.api` 1.2.0) instead of 26.06's.
    pub api_1_2: bool,
    /// 1.2.0: the uptime of the last run of the GC timer process (`lb-gc-process`).
    pub(super) gc_timer_last: u32,
}

impl Default for Lb {
    /// VPP 26.06's plugin.
    fn default() -> Self {
        Lb::for_lb_api(false)
    }
}

impl Lb {
    /// A freshly initialised plugin (`lb_init`): 26.06's, or master's with `api_1_2`.
    pub fn for_lb_api(api_1_2: bool) -> Self {
        let mut vips = Pool::default();
        vips.put(Vip::placeholder());
        let mut ases = Pool::default();
        // lb_init's default AS: address all ones, not USED, vip ~0, DPO drop.
        ases.put(As {
            addr: [0xff; 16],
            used: false,
            weight: 0,
            last_used: 0,
            dpo: 0,
            vip: u32::MAX,
        });
        Lb {
            // lb.c lb_init: source addresses all ones, 1 << 10 sticky buckets, 40 s.
            conf: LbConfig {
                ip4_src: [0xff; 4],
                ip6_src: [0xff; 16],
                sticky_buckets_per_core: 1024,
                flow_timeout: 40,
            },
            vips,
            ases,
            lb_next: FIRST_LOAD_BALANCE,
            lb_free: Vec::new(),
            lb_locks: HashMap::new(),
            prefix_lb: Vec::new(),
            as_lb: Vec::new(),
            stale_dpo: HashMap::new(),
            sticky: None,
            refcount: Vec::new(),
            counters: Default::default(),
            stats_dirty: false,
            api_1_2,
            gc_timer_last: 0,
        }
    }
}

/// A VIP's key as the handlers build it (see [`key`]).
pub(super) type Key = ([u8; 16], u8, u8, u16);

/// VPP's `ip_address_decode` to an `ip46_address_t`: IPv4 in the last 4 bytes, the first 12
/// zero; any other family is the union's 16 bytes.
pub(super) fn ip46(a: &Address) -> [u8; 16] {
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

/// The union's raw 16 bytes (what a `memcpy` of `address.un` gives: IPv4 in the first 4).
pub(super) fn raw_union(a: &Address) -> [u8; 16] {
    match a {
        Address::Ip4(a) => {
            let mut out = [0u8; 16];
            out[..4].copy_from_slice(&a.0);
            out
        }
        Address::Ip6(a) => a.0,
        Address::Other(_, un) => un.0,
    }
}

/// `ip46_address_is_ip4`: the first 12 bytes are zero.
pub(super) fn ip46_is_ip4(a: &[u8; 16]) -> bool {
    a[..12].iter().all(|&b| b == 0)
}

/// `ip_address_encode(…, IP46_TYPE_ANY, …)`.
pub(super) fn address(a: &[u8; 16]) -> Address {
    if ip46_is_ip4(a) {
        Address::Ip4(Ip4Address([a[12], a[13], a[14], a[15]]))
    } else {
        Address::Ip6(Ip6Address(*a))
    }
}

/// The VIP's key as the handlers build it: the address as ip46 masked to the length, the
/// length (VPP 26.06 quirk: the raw length is used as an ip46 length, so an IPv4 VIP needs
/// `len + 96`; 1.2.0 adds the 96 itself for an IPv4 address, in a u8), protocol forced to 255
/// for all-port VIPs, port in host order.
pub(super) fn key(pfx: &AddressWithPrefix, protocol: u8, port: u16, api_1_2: bool) -> Key {
    let Prefix { address, len } = pfx.0;
    let len = match address {
        Address::Ip4(_) if api_1_2 => len.wrapping_add(96),
        _ => len,
    };
    let mut prefix = ip46(&address);
    mask_prefix(&mut prefix, len);
    let protocol = if port == 0 { 255 } else { protocol };
    (prefix, len, protocol, port)
}

/// `lb_vip_is_ip4(type)`: the VIP's own family.
pub(super) fn is_ip4_type(t: u8) -> bool {
    matches!(t, IP4_GRE6 | IP4_GRE4 | IP4_L3DSR | IP4_NAT4 | 7)
}

/// Whether ASes of a VIP type are IPv4 (the encap's underlay).
fn as_is_ip4(t: u8) -> bool {
    matches!(t, IP6_GRE4 | IP4_GRE4 | IP4_L3DSR | IP4_NAT4 | 7)
}

/// VPP 26.06 quirk: a prefix is IPv4 only with an ip46 length (`len + 96`).
pub(super) fn prefix_is_ip4(p: &[u8; 16], plen: u8) -> bool {
    plen >= 96 && ip46_is_ip4(p)
}

/// `lb_vip_add_args_t`: what `lb_vip_add` gets from the API handlers and the `lb vip` CLI.
pub(super) struct VipArgs {
    /// Normalised by `lb_vip_add` itself.
    pub key: Key,
    pub vtype: u8,
    pub new_len: u32,
    pub dscp: u8,
    pub srv_type: u8,
    pub target_port: u16,
    pub sticky: bool,
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
    ($r:expr, $sticky:expr, $api_1_2:expr) => {{
        let r = $r;
        VipReq {
            key: key(&r.pfx, r.protocol, r.port, $api_1_2),
            // VPP 26.06 quirk: the handler compares `encap` without `ntohl`, i.e. the value of
            // its bytes in host (little-endian) order. 1.2.0 reads it with `ntohl`.
            encap: if $api_1_2 {
                r.encap.0
            } else {
                r.encap.0.swap_bytes()
            },
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
    h.on::<LbAddDelVip, _>(|m, _, req| {
        let now = m.lb_now();
        let v12 = m.lb.api_1_2;
        LbAddDelVipReply {
            retval: m.lb.add_del_vip(vip_req!(req, false, v12), now),
        }
    });
    h.on::<LbAddDelVipV2, _>(|m, _, req| {
        let sticky = req.src_ip_sticky;
        let now = m.lb_now();
        let v12 = m.lb.api_1_2;
        LbAddDelVipV2Reply {
            retval: m.lb.add_del_vip(vip_req!(req, sticky, v12), now),
        }
    });
    h.on::<LbAddDelAs, _>(|m, _, req| {
        let now = m.lb_now();
        LbAddDelAsReply {
            retval: m.lb.add_del_as(&req, now),
        }
    });
    h.on::<LbFlushVip, _>(|m, _, req| {
        m.lb_now();
        m.lb.flush_vip_api(&req);
        // api.c: the lookup's retval is overwritten by lb_flush_vip_as's 0.
        LbFlushVipReply { retval: 0 }
    });
    // Every VIP but the placeholder (its filter fields ignored), deleted ones included;
    // 1.2.0: live VIPs only, with honest fields (see `Lb::vip_details_1_2`).
    h.dump::<LbVipDump, _>(|m, _, _| {
        m.lb_now();
        if m.lb.api_1_2 {
            return m.lb.vip_details_1_2();
        }
        m.lb.vips
            .values()
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
        m.lb_now();
        let pfx = req.pfx();
        m.lb.as_dump(pfx.address().un().0, req.protocol(), req.port())
    });
    super::lb_1_2::register(h);
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
    pub(super) fn wire(&self) -> LbVip {
        LbVip {
            pfx: AddressWithPrefix(Prefix {
                address: address(&self.prefix),
                len: self.plen,
            }),
            protocol: IpProto(0),
            port: self.port,
        }
    }

    /// Whether the VIP is USED and not the placeholder.
    pub(super) fn live(&self) -> bool {
        self.index != 0 && !self.deleted
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

    /// Drops one lock on an AS FIB entry's load-balance; the last frees the index.
    fn lb_unlock(&mut self, i: u32) {
        if let Some(n) = self.lb_locks.get_mut(&i) {
            *n -= 1;
            if *n == 0 {
                self.lb_locks.remove(&i);
                self.lb_free.push(i);
            }
        }
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

    /// A new AS with address `a`: the load-balance index of its FIB entry (created by the first
    /// AS with that address, `fib_table_entry_special_add`), locked once more by its DPO.
    fn as_fib_ref(&mut self, a: [u8; 16]) -> u32 {
        let i = match self.as_lb.iter_mut().find(|e| e.0 == a) {
            Some(e) => {
                e.2 += 1;
                e.1
            }
            None => {
                let i = self.lb_alloc();
                self.as_lb.push((a, i, 1));
                self.lb_locks.insert(i, 1);
                i
            }
        };
        *self.lb_locks.entry(i).or_insert(0) += 1;
        i
    }

    /// An AS with address `a` freed by the garbage collection: `fib_table_entry_delete_index`
    /// (the last one deletes the entry). Its DPO keeps its lock (see `as_slot_reused`).
    fn as_fib_unref(&mut self, a: [u8; 16]) {
        if let Some(pos) = self.as_lb.iter().position(|e| e.0 == a) {
            self.as_lb[pos].2 -= 1;
            if self.as_lb[pos].2 == 0 {
                let (_, i, _) = self.as_lb.remove(pos);
                self.lb_unlock(i);
            }
        }
    }

    /// AS slot `a` taken again after the new AS's DPO was stacked: `pool_get` does not zero,
    /// so `dpo_stack` unlocks what the freed AS's DPO still held (lb.c never resets it).
    fn as_slot_reused(&mut self, a: usize) {
        if let Some(old) = self.stale_dpo.remove(&a) {
            self.lb_unlock(old);
        }
    }

    /// `show lb` (lb.c `format_lb_main`): the pools count their placeholders (VIP 0 counts,
    /// AS 0 does not); the per-core sticky table appears once traffic created it.
    pub(super) fn show(&self, now: u32) -> String {
        let mut s = format!(
            "lb_main ip4-src-address: {} \n ip6-src-address: {} \n #vips: {}\n #ass: {}\n",
            std::net::Ipv4Addr::from(self.conf.ip4_src),
            std::net::Ipv6Addr::from(self.conf.ip6_src),
            self.vips.len(),
            self.ases.len().saturating_sub(1),
        );
        if let Some(h) = &self.sticky {
            s.push_str(&h.format_core(0, now));
        }
        s
    }

    /// `lb_conf` (the API handler and lb.c): ~0 keeps a value; 0 passes the power-of-two
    /// check (vppinfra's `is_pow2(0)`; the recordings: 0 accepted).
    fn conf(&mut self, r: &LbConf) -> i32 {
        let sticky = match r.sticky_buckets_per_core {
            u32::MAX => self.conf.sticky_buckets_per_core,
            n => n,
        };
        let timeout = match r.flow_timeout {
            u32::MAX => self.conf.flow_timeout,
            n => n,
        };
        self.set_conf(r.ip4_src_address.0, r.ip6_src_address.0, sticky, timeout)
    }

    /// lb.c `lb_conf`.
    pub(super) fn set_conf(
        &mut self,
        ip4: [u8; 4],
        ip6: [u8; 16],
        sticky: u32,
        timeout: u32,
    ) -> i32 {
        if sticky != 0 && !sticky.is_power_of_two() {
            return INVALID_MEMORY_SIZE;
        }
        self.conf = LbConfig {
            ip4_src: ip4,
            ip6_src: ip6,
            sticky_buckets_per_core: sticky,
            flow_timeout: timeout,
        };
        0
    }

    /// lb.c `lb_vip_find_index` (`lb_vip_port_find_index`, `LB_LKP_SAME_IP_PORT`): a USED
    /// VIP with the (normalised) key.
    pub(super) fn find(&self, k: &Key) -> Option<usize> {
        let mut p = k.0;
        mask_prefix(&mut p, k.1);
        self.vips
            .iter()
            .find(|(_, v)| v.live() && (v.prefix, v.plen, v.protocol, v.port) == (p, k.1, k.2, k.3))
            .map(|(i, _)| i)
    }

    fn add_del_vip(&mut self, r: VipReq, now: u32) -> i32 {
        let k = r.key;
        if r.is_del {
            return match self.find(&k) {
                None => NO_SUCH_ENTRY,
                Some(v) => self.vip_del(v, now),
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
        let nat = r.encap == 3 || r.encap == 4;
        let args = VipArgs {
            key: k,
            vtype,
            new_len: r.new_len,
            dscp: if r.encap == 2 { r.dscp & 0x3f } else { 0 },
            srv_type: if nat { r.srv_type } else { 0 },
            target_port: if nat { r.target_port } else { 0 },
            sticky: r.sticky,
        };
        match self.vip_add(args, now) {
            Ok(_) => 0,
            Err(rv) => rv,
        }
    }

    /// lb.c `lb_vip_add`: the new VIP's pool index, or the error.
    pub(super) fn vip_add(&mut self, a: VipArgs, now: u32) -> Result<usize, i32> {
        let (mut prefix, plen, protocol, port) = a.key;
        mask_prefix(&mut prefix, plen);
        let k = (prefix, plen, protocol, port);
        let vtype = a.vtype;
        if self.find(&k).is_some() {
            return Err(VALUE_EXIST);
        }
        // lb.c lb_vip_add with lb_vip_port_find_index over the live VIPs of the prefix:
        // per-port beside an all-port VIP -81, all-port beside another -81, and a per-port
        // VIP of another type than the first other one on the prefix -73.
        let same_prefix = |v: &&Vip| v.live() && (v.prefix, v.plen) == (k.0, k.1);
        if k.3 != 0 && self.vips.values().filter(same_prefix).any(|v| v.port == 0) {
            return Err(VALUE_EXIST);
        }
        let other = self
            .vips
            .values()
            .filter(same_prefix)
            .find(|v| (v.protocol, v.port) != (k.2, k.3));
        if k.3 == 0 && other.is_some() {
            return Err(VALUE_EXIST);
        }
        if k.3 != 0 && other.is_some_and(|o| o.vtype != vtype) {
            return Err(INVALID_ARGUMENT);
        }
        // vppinfra's is_pow2(0) is true: 0 passes (and crashes VPP 26.06 in the table fill;
        // the simulator builds no table for it).
        if a.new_len != 0 && !a.new_len.is_power_of_two() {
            return Err(INVALID_MEMORY_SIZE);
        }
        if prefix_is_ip4(&k.0, k.1) != is_ip4_type(vtype) {
            return Err(INVALID_ADDRESS_FAMILY);
        }
        if vtype == IP4_L3DSR && a.dscp >= 64 {
            return Err(VALUE_EXIST);
        }
        let nat = matches!(vtype, IP4_NAT4 | IP6_NAT6);
        let v = self.vips.put(Vip {
            index: 0,
            prefix: k.0,
            plen: k.1,
            protocol: k.2,
            port: k.3,
            vtype,
            new_len: a.new_len,
            dscp: if vtype == IP4_L3DSR { a.dscp } else { 0 },
            srv_type: if nat { a.srv_type } else { 0 },
            target_port: if nat { a.target_port } else { 0 },
            deleted: false,
            src_ip_sticky: a.sticky,
            ases: Pool::default(),
            last_gc: now,
            new_flow_table: Vec::new(),
        });
        self.vips[v].index = v as u32;
        // vlib_validate_simple_counter + vlib_zero_simple_counter for each counter.
        self.validate_counters(v);
        self.update_new_flow_table(v);
        self.prefix_ref((k.0, k.1));
        Ok(v)
    }

    /// lb.c `lb_vip_del`: soft delete. Every AS of the VIP is deleted without flush (and the
    /// VIP's garbage collection runs first), the FIB entry and port filter go, USED is cleared.
    pub(super) fn vip_del(&mut self, v: usize, now: u32) -> i32 {
        let addrs: Vec<[u8; 16]> = self.vips[v]
            .ases
            .values()
            .map(|&a| self.ases[a].addr)
            .collect();
        if !addrs.is_empty() {
            self.del_ass(v, &addrs, false, now);
        }
        let (p, l) = (self.vips[v].prefix, self.vips[v].plen);
        self.prefix_unref((p, l));
        self.vips[v].deleted = true;
        0
    }

    /// `lb_as_find_index_vip`.
    fn find_as(&self, v: usize, addr: &[u8; 16]) -> Option<usize> {
        self.vips[v]
            .ases
            .values()
            .copied()
            .find(|&a| self.ases[a].addr == *addr)
    }

    /// lb.c `lb_vip_add_ass`: addresses walked from the last to the first (`while (n--)`);
    /// an existing USED AS -81, a removed one is reused, a family mismatch -97, duplicates of
    /// an earlier address skipped; then the table is rebuilt and the VIP's garbage collection
    /// may run. 1.2.0: every AS added or reused gets `weight`, and a reused one with `flush`
    /// loses its sticky entries first (26.06 callers pass 100 and `false`).
    pub(super) fn add_ass(
        &mut self,
        v: usize,
        addrs: &[[u8; 16]],
        weight: u8,
        flush: bool,
        now: u32,
    ) -> i32 {
        let enc_ip4 = as_is_ip4(self.vips[v].vtype);
        let mut update = Vec::new();
        let mut add = Vec::new();
        for n in (0..addrs.len()).rev() {
            if let Some(i) = self.find_as(v, &addrs[n]) {
                if self.ases[i].used {
                    return VALUE_EXIST;
                }
                update.push(i);
                continue;
            }
            if ip46_is_ip4(&addrs[n]) != enc_ip4 {
                return INVALID_ADDRESS_FAMILY;
            }
            if addrs[..n].contains(&addrs[n]) {
                continue;
            }
            add.push(n);
        }
        for i in update {
            self.ases[i].used = true;
            self.ases[i].weight = weight;
            if flush {
                self.flush_vip_as(Some(v as u32), Some(i as u32));
            }
        }
        for n in add {
            let addr = addrs[n];
            let dpo = self.as_fib_ref(addr);
            let a = self.ases.put(As {
                addr,
                used: true,
                weight,
                last_used: 0,
                dpo,
                vip: v as u32,
            });
            self.as_slot_reused(a);
            self.vips[v].ases.put(a);
        }
        self.update_new_flow_table(v);
        self.vip_gc(v, now);
        0
    }

    /// lb.c `lb_vip_del_ass_withlock`: every address must be an AS of the VIP (else -6); the
    /// VIP's garbage collection may run first; then the ASes are marked removed at `now`, with
    /// `flush` their sticky entries evicted, and the table rebuilt.
    pub(super) fn del_ass(&mut self, v: usize, addrs: &[[u8; 16]], flush: bool, now: u32) -> i32 {
        let mut idx = Vec::new();
        for n in (0..addrs.len()).rev() {
            let Some(a) = self.find_as(v, &addrs[n]) else {
                return NO_SUCH_ENTRY;
            };
            // lb.c's duplicate check skips addrs[n - 1] (`n2 = n - 1; while (n2--)`).
            if n > 1 && addrs[..n - 1].contains(&addrs[n]) {
                continue;
            }
            idx.push(a);
        }
        self.vip_gc(v, now);
        if idx.is_empty() {
            return 0;
        }
        for a in idx {
            // An AS the collection just freed is written to in VPP (freed pool memory).
            let Some(x) = self.ases.get_mut(a) else {
                continue;
            };
            x.used = false;
            x.last_used = now;
            if flush {
                self.flush_vip_as(Some(v as u32), Some(a as u32));
            }
        }
        self.update_new_flow_table(v);
        0
    }

    fn add_del_as(&mut self, r: &LbAddDelAs, now: u32) -> i32 {
        let k = key(&r.pfx, r.protocol, r.port, self.api_1_2);
        let addr = ip46(&r.as_address);
        let Some(v) = self.find(&k) else {
            return NO_SUCH_ENTRY;
        };
        if r.is_del {
            self.del_ass(v, &[addr], r.is_flush, now)
        } else {
            // 1.2.0 (api.c): weight 100, no flush.
            self.add_ass(v, &[addr], 100, false, now)
        }
    }

    /// `lb_flush_vip` (api.c): the prefix is the union's raw bytes (an IPv4 VIP, stored as
    /// ip46, is never found), port 0 forces protocol ~0. VPP 26.06 ignores the lookup's result
    /// and flushes with an uninitialised index when the VIP is missing; the simulator then
    /// flushes nothing.
    fn flush_vip_api(&mut self, r: &LbFlushVip) {
        let protocol = if r.port == 0 { 255 } else { r.protocol };
        // 1.2.0: `ip_address_decode` and the `+ 96` of the other handlers.
        let k = if self.api_1_2 {
            key(&r.pfx, protocol, r.port, true)
        } else {
            (raw_union(&r.pfx.0.address), r.pfx.0.len, protocol, r.port)
        };
        if let Some(v) = self.find(&k) {
            self.flush_vip_as(Some(v as u32), None);
        }
    }

    /// lb.c `lb_vip_garbage_collection`: at most every [`LB_GARBAGE_RUN`] s per VIP, frees
    /// the ASes that are removed, unused for more than [`LB_CONCURRENCY_TIMEOUT`] s and
    /// referenced by no sticky entry (their FIB entry goes too).
    pub fn vip_gc(&mut self, v: usize, now: u32) {
        let Some(vip) = self.vips.get_mut(v) else {
            return;
        };
        if !loop_gt(now, vip.last_gc.wrapping_add(LB_GARBAGE_RUN)) {
            return;
        }
        vip.last_gc = now;
        let slots: Vec<(usize, usize)> = vip.ases.iter().map(|(s, &a)| (s, a)).collect();
        for (slot, a) in slots {
            let x = &self.ases[a];
            if !x.used
                && loop_gt(now, x.last_used.wrapping_add(LB_CONCURRENCY_TIMEOUT))
                && self.flows(a) == 0
            {
                // NAT4/NAT6 VIPs also drop the AS's SNAT mapping (not modelled).
                let (addr, dpo) = (x.addr, x.dpo);
                self.as_fib_unref(addr);
                self.vips[v].ases.remove(slot);
                self.ases.remove(a);
                self.stale_dpo.insert(a, dpo);
            }
        }
    }

    /// lb.c `lb_garbage_collection` (the `lb vip`, `lb as` and `lb conf` CLI commands): every
    /// VIP's collection, then the deleted VIPs left without ASes are freed (in index order).
    pub fn gc(&mut self, now: u32) {
        let mut freed = Vec::new();
        for v in self.vips.indices() {
            self.vip_gc(v, now);
            let vip = &self.vips[v];
            if vip.deleted && vip.index != 0 && vip.ases.is_empty() {
                freed.push(v);
            }
        }
        for v in freed {
            self.vips.remove(v);
        }
    }

    /// `lb_as_dump` with the request's raw union bytes, protocol and port as sent.
    fn as_dump(&self, un: &[u8; 16], protocol: u8, port_be: u16) -> Vec<LbAsDetails> {
        if self.api_1_2 {
            return self
                .as_v2_dump(un, protocol, port_be)
                .into_iter()
                .map(|d| LbAsDetails {
                    vip: d.vip,
                    app_srv: d.app_srv,
                    flags: d.flags,
                    in_use_since: d.in_use_since,
                })
                .collect();
        }
        // VPP 26.06 quirk: an all-zero address dumps everything; otherwise the raw union (an
        // IPv4 address in its first 4 bytes) is compared with the VIP's ip46 form, and the port
        // without `ntohs` (the value of its bytes in host, little-endian, order).
        let all = un.iter().all(|&x| x == 0);
        let port_raw = port_be.swap_bytes();
        let mut out = Vec::new();
        // Deleted VIPs and removed ASes are dumped too, until the garbage collection.
        for v in self.vips.values() {
            if !all && (*un != v.prefix || v.protocol != protocol || v.port != port_raw) {
                continue;
            }
            for &a in v.ases.values() {
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

    /// lb.c `lb_vip_update_new_flow_table` (the `maglev` crate's fill of VPP 26.06): the
    /// used ASes sorted by address, each walking its permutation; no used AS gives a table
    /// of AS 0 (no server).
    pub(super) fn update_new_flow_table(&mut self, v: usize) {
        let vip = &self.vips[v];
        // 1.2.0: only ASes with a weight take part, `weight` replicas each.
        let (variant, min_weight) = if self.api_1_2 {
            (maglev::Variant::VppWeighted, 1)
        } else {
            (maglev::Variant::Vpp2606, 0)
        };
        let used: Vec<usize> = vip
            .ases
            .values()
            .copied()
            .filter(|&a| self.ases[a].used && self.ases[a].weight >= min_weight)
            .collect();
        let m = vip.new_len as usize;
        let table = if m == 0 || m > maglev::MAX_TABLE_LEN {
            Vec::new()
        } else if used.is_empty() {
            vec![0; m]
        } else {
            let backends: Vec<maglev::Backend> = used
                .iter()
                .map(|&a| {
                    let addr = std::net::IpAddr::from(self.ases[a].addr);
                    maglev::Backend::new(addr, u32::from(self.ases[a].weight))
                })
                .collect();
            match maglev::vpp_table(&backends, m, variant) {
                Ok(t) => t
                    .slots
                    .iter()
                    .map(|&s| match s {
                        0 => 0,
                        s => used[s as usize - 1] as u32,
                    })
                    .collect(),
                Err(_) => vec![0; m],
            }
        };
        self.vips[v].new_flow_table = table;
    }

    /// Buckets of `v`'s new-flow table per AS pool index (what `show lb vips verbose` counts).
    pub fn buckets(&self, v: &Vip) -> HashMap<usize, u32> {
        let mut out = HashMap::new();
        for &a in &v.new_flow_table {
            *out.entry(a as usize).or_insert(0) += 1;
        }
        out
    }

    /// `show lb vips` (`format_lb_vip`) or `show lb vips verbose` (`format_lb_vip_detailed`):
    /// every pool VIP but the placeholder, removed ones too, each through
    /// `vlib_cli_output("%U\n")`: one line each, or each detailed block (which ends with a
    /// newline) followed by an empty line.
    pub fn show_vips(&self, verbose: bool) -> String {
        let mut s = String::new();
        for v in self.vips.values().skip(1) {
            if verbose {
                self.format_vip_detailed(&mut s, v);
            } else {
                format_vip(&mut s, v);
            }
            s.push('\n');
        }
        s
    }

    fn format_vip_detailed(&self, s: &mut String, v: &Vip) {
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
        s.push_str(&format!("  new_size:{}\n", v.new_len));
        if v.port != 0 {
            s.push_str(&format!("  protocol:{} port:{}\n", v.protocol, v.port));
        }
        if v.vtype == IP4_L3DSR {
            s.push_str(&format!("  dscp:{}\n", v.dscp));
        } else if matches!(v.vtype, IP4_NAT4 | IP6_NAT6) {
            // lb.c: no newline after this line; the port is printed through ntohs (byte-swapped).
            s.push_str(&format!(
                "  type:{} port:{} target_port:{}",
                if v.srv_type == 0 {
                    "clusterip"
                } else {
                    "nodeport"
                },
                v.port.swap_bytes(),
                v.target_port
            ));
        }
        s.push_str("  counters:\n");
        for (name, c) in super::lb_node::COUNTER_NAMES.iter().zip(&self.counters) {
            let n = c.get(v.index as usize).copied().unwrap_or(0);
            s.push_str(&format!("    {name}: {n}\n"));
        }
        s.push_str(&format!("  #as:{}\n", v.ases.len()));
        let buckets_of = self.buckets(v);
        for &a in v.ases.values() {
            let buckets = buckets_of.get(&a).copied().unwrap_or(0);
            let flows = self.flows(a);
            let a = &self.ases[a];
            if self.api_1_2 {
                // 1.2.0's format_lb_vip_detailed: the weight, and `key:value` counts.
                s.push_str(&format!(
                    "    {} weight:{} buckets:{} flows:{} dpo:{} {}\n",
                    format_ip46(&a.addr),
                    a.weight,
                    buckets,
                    flows,
                    a.dpo,
                    if a.used { "used" } else { " removed" }
                ));
                continue;
            }
            s.push_str(&format!(
                "    {} {} buckets   {} flows  dpo:{} {}\n",
                format_ip46(&a.addr),
                buckets,
                flows,
                a.dpo,
                if a.used { "used" } else { " removed" }
            ));
        }
    }

    /// `vlib_refcount_get(&as_refcount, a)`: sticky entries pointing at AS `a` (`N flows`).
    pub fn flows(&self, a: usize) -> i64 {
        self.refcount.get(a).copied().unwrap_or(0)
    }
}

/// lb.c `format_lb_vip` (`show lb vips` without `verbose`).
fn format_vip(s: &mut String, v: &Vip) {
    s.push_str(&format!(
        "{} {} new_size:{} #as:{}{}",
        TYPE_NAMES[usize::from(v.vtype)],
        format_prefix(&v.prefix, v.plen),
        v.new_len,
        v.ases.len(),
        if v.deleted { " removed" } else { "" }
    ));
    if v.port != 0 {
        s.push_str(&format!("  protocol:{} port:{} ", v.protocol, v.port));
    }
    if v.vtype == IP4_L3DSR {
        s.push_str(&format!("  dscp:{}", v.dscp));
    } else if matches!(v.vtype, IP4_NAT4 | IP6_NAT6) {
        s.push_str(&format!(
            " type:{} port:{} target_port:{}",
            if v.srv_type == 0 {
                "clusterip"
            } else {
                "nodeport"
            },
            v.port.swap_bytes(),
            v.target_port
        ));
    }
}

pub(super) fn format_ip46(a: &[u8; 16]) -> String {
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

    #[test]
    fn pools_reuse_the_most_recently_freed_index() {
        let mut p = Pool::default();
        for i in 0..5 {
            assert_eq!(p.put(i), i);
        }
        p.remove(1);
        p.remove(3);
        assert_eq!(p.len(), 3);
        assert_eq!(p.indices(), vec![0, 2, 4]);
        assert_eq!(p.put(9), 3);
        assert_eq!(p.put(9), 1);
        assert_eq!(p.put(9), 5);
    }

    #[test]
    fn loop_gt_wraps() {
        assert!(loop_gt(61, 60));
        assert!(!loop_gt(60, 60));
        assert!(loop_gt(5, u32::MAX - 5));
    }
}
