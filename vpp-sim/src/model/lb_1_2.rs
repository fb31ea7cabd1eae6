//! The `lb` plugin of VPP master after 26.06 (`lb.api` 1.2.0; `SimConfig::lb_api_1_2`): the
//! messages it adds and the 1.2.0 side of the dumps. What this models, from master's
//! `src/plugins/lb` (commits `db44addb60c` "lb: API bugfix" and `ca870e99f61` "lb: Allow
//! setting weight on AS"):
//!
//! * `lb_conf_get`: `lb_conf` as stored (addresses, sticky buckets per core, flow timeout).
//! * `lb_add_del_as_v2`: the VIP key as every 1.2.0 handler builds it (port 0 forces protocol
//!   ~0, IPv4 prefixes `+ 96`); delete as `lb_add_del_as`; add with the request's `weight`
//!   (not range-checked by the handler: any u8 is taken) and `is_flush`, which evicts the
//!   sticky entries of a removed AS that is reused.
//! * `lb_as_set_weight` (lb.c `lb_vip_set_as_weight`): the AS must be in the VIP and USED (else
//!   -6); the weight is set, the new-flow table rebuilt, and with `is_flush` the AS's sticky
//!   entries evicted (so its established flows re-hash). No garbage collection.
//! * `lb_as_v2_dump`: the filter of 1.2.0's `lb_as_dump` (raw union bytes against the ip46
//!   prefix, so an IPv4 VIP never matches a filter; protocol as is; port through `ntohs`; an
//!   all-zero address dumps all); per AS the honest VIP key, address, flags, `in_use_since`,
//!   weight and its buckets in the VIP's new-flow table. Deleted VIPs are not skipped (their
//!   ASes are all removed).
//! * `lb_vip_dump`: live VIPs only, IPv4 with its real length, the real protocol, the API encap
//!   (`lb_vip_type_to_api_encap`), `flow_table_length` as a u16 (`htons(mask + 1)`).
//! * The weighted new-flow table: `weight` replicas per USED AS (weight 0: none; all 0: every
//!   bucket "no server"), sorted by (replica, address) ([`maglev::Variant::VppWeighted`]).
//! * The GC timer (`lb-gc-process`): `lb_garbage_collection` every [`LB_GARBAGE_RUN`] s of
//!   uptime, run lazily here ([`Lb::tick`]) before anything that reads or changes the LB.

use vppapi_binapi::ip_types::{IpDscp, IpProto};
use vppapi_binapi::lb::LbVipDetails;
use vppapi_binapi::lb_types::{LbEncapType, LbSrvType, LbVip};
use vppapi_codec::api_errno::NO_SUCH_ENTRY;
use vppapi_codec::net::{AddressWithPrefix, Ip4Address, Ip6Address, Prefix};

use lb_api_next::{
    LbAddDelAsV2, LbAddDelAsV2Reply, LbAsSetWeight, LbAsSetWeightReply, LbAsV2Details, LbAsV2Dump,
    LbConfGet, LbConfGetReply,
};

use super::lb::{
    address, ip46, key, prefix_is_ip4, Lb, Vip, IP4_GRE4, IP4_GRE6, IP4_L3DSR, IP4_NAT4, IP6_GRE4,
    IP6_GRE6, IP6_NAT6, LB_GARBAGE_RUN,
};
use super::Model;
use crate::handlers::Handlers;

/// `LB_API_ENCAP_TYPE_*`.
const API_GRE4: u32 = 0;
const API_GRE6: u32 = 1;
const API_L3DSR: u32 = 2;
const API_NAT4: u32 = 3;
const API_NAT6: u32 = 4;

/// Missed GC timer runs beyond this many (about 69 days) are skipped (see [`Lb::tick`]).
const MAX_CATCH_UP: u32 = 100_000;

/// api.c `lb_vip_type_to_api_encap`.
fn api_encap(vtype: u8) -> u32 {
    match vtype {
        IP4_GRE4 | IP6_GRE4 => API_GRE4,
        IP4_GRE6 | IP6_GRE6 => API_GRE6,
        IP4_L3DSR => API_L3DSR,
        IP4_NAT4 => API_NAT4,
        IP6_NAT6 => API_NAT6,
        _ => API_GRE4,
    }
}

impl Model {
    /// The uptime, after the 1.2.0 GC timer caught up with it.
    pub(super) fn lb_now(&mut self) -> u32 {
        let now = self.secs();
        self.lb.tick(now);
        now
    }
}

impl Vip {
    /// 1.2.0's `lb_vip` in details: the ip46 prefix encoded as an address, an IPv4 prefix
    /// with its real length, the real protocol, the port.
    fn wire_1_2(&self) -> LbVip {
        let len = if prefix_is_ip4(&self.prefix, self.plen) {
            self.plen - 96
        } else {
            self.plen
        };
        LbVip {
            pfx: AddressWithPrefix(Prefix {
                address: address(&self.prefix),
                len,
            }),
            protocol: IpProto(self.protocol),
            port: self.port,
        }
    }
}

impl Lb {
    /// 1.2.0's GC timer process, caught up to `now`: `lb_garbage_collection` at every
    /// multiple of [`LB_GARBAGE_RUN`] s of uptime since the last run, each at its own time (a
    /// VIP's own collection is rate-limited to more than [`LB_GARBAGE_RUN`] s, so which ticks
    /// run it depends on the ones before). Only when the clock jumped by more than
    /// [`MAX_CATCH_UP`] ticks are the earlier ones skipped (in pairs); what they would have
    /// freed the later ones free. No-op on 26.06.
    pub fn tick(&mut self, now: u32) {
        if !self.api_1_2 {
            return;
        }
        let due = now / LB_GARBAGE_RUN;
        let mut next = self.gc_timer_last / LB_GARBAGE_RUN + 1;
        if due < next {
            return;
        }
        let missed = due - next + 1;
        if missed > MAX_CATCH_UP {
            next += (missed - MAX_CATCH_UP) & !1;
        }
        for t in next..=due {
            self.gc(t * LB_GARBAGE_RUN);
        }
        self.gc_timer_last = due * LB_GARBAGE_RUN;
    }

    /// `lb_conf_get`.
    fn conf_get(&self) -> LbConfGetReply {
        LbConfGetReply {
            retval: 0,
            ip4_src_address: Ip4Address(self.conf.ip4_src),
            ip6_src_address: Ip6Address(self.conf.ip6_src),
            sticky_buckets_per_core: self.conf.sticky_buckets_per_core,
            flow_timeout: self.conf.flow_timeout,
        }
    }

    /// 1.2.0's `lb_vip_dump`: every USED VIP but the placeholder.
    pub(super) fn vip_details_1_2(&self) -> Vec<LbVipDetails> {
        self.vips
            .values()
            .skip(1)
            .filter(|v| !v.deleted)
            .map(|v| LbVipDetails {
                vip: v.wire_1_2(),
                encap: LbEncapType(api_encap(v.vtype)),
                dscp: IpDscp(v.dscp),
                srv_type: LbSrvType(u32::from(v.srv_type)),
                target_port: v.target_port,
                // `htons (vip->new_flow_table_mask + 1)`: the length as a u16.
                flow_table_length: v.new_len as u16,
            })
            .collect()
    }

    /// 1.2.0's `lb_as_v2_dump` (and, without weight and buckets, `lb_as_dump`): `un` is the
    /// request's raw address union, `port` its port in host order.
    pub(super) fn as_v2_dump(&self, un: &[u8; 16], protocol: u8, port: u16) -> Vec<LbAsV2Details> {
        let all = un.iter().all(|&x| x == 0);
        let mut out = Vec::new();
        for v in self.vips.values() {
            if !all && (*un != v.prefix || v.protocol != protocol || v.port != port) {
                continue;
            }
            let buckets = self.buckets(v);
            for &a in v.ases.values() {
                if a == 0 {
                    continue;
                }
                let x = &self.ases[a];
                out.push(LbAsV2Details {
                    vip: v.wire_1_2(),
                    app_srv: address(&x.addr),
                    flags: x.used as u8,
                    in_use_since: x.last_used,
                    weight: x.weight,
                    num_buckets: buckets.get(&a).copied().unwrap_or(0),
                });
            }
        }
        out
    }

    /// lb.c `lb_vip_set_as_weight`.
    pub(super) fn set_as_weight(
        &mut self,
        v: usize,
        addr: &[u8; 16],
        weight: u8,
        flush: bool,
    ) -> i32 {
        let Some(vip) = self.vips.get(v) else {
            return NO_SUCH_ENTRY;
        };
        let Some(a) = vip
            .ases
            .values()
            .copied()
            .find(|&a| self.ases[a].addr == *addr)
        else {
            return NO_SUCH_ENTRY;
        };
        if !self.ases[a].used {
            return NO_SUCH_ENTRY;
        }
        self.ases[a].weight = weight;
        self.update_new_flow_table(v);
        if flush {
            self.flush_vip_as(Some(v as u32), Some(a as u32));
        }
        0
    }

    /// `lb_add_del_as_v2`.
    fn add_del_as_v2(&mut self, r: &LbAddDelAsV2, now: u32) -> i32 {
        let k = key(&r.pfx, r.protocol, r.port, true);
        let addr = ip46(&r.as_address);
        let Some(v) = self.find(&k) else {
            return NO_SUCH_ENTRY;
        };
        if r.is_del {
            self.del_ass(v, &[addr], r.is_flush, now)
        } else {
            self.add_ass(v, &[addr], r.weight, r.is_flush, now)
        }
    }

    /// `lb_as_set_weight`.
    fn as_set_weight(&mut self, r: &LbAsSetWeight) -> i32 {
        let k = key(&r.pfx, r.protocol, r.port, true);
        let addr = ip46(&r.as_address);
        let Some(v) = self.find(&k) else {
            return NO_SUCH_ENTRY;
        };
        self.set_as_weight(v, &addr, r.weight, r.is_flush)
    }
}

/// The handlers of the messages lb.api 1.2.0 adds, when the simulator's table has them.
pub(super) fn register(h: &mut Handlers) {
    if !h.has::<LbConfGet>() {
        return;
    }
    h.on::<LbConfGet, _>(|m, _, _| {
        m.lb_now();
        m.lb.conf_get()
    });
    h.on::<LbAddDelAsV2, _>(|m, _, req| {
        let now = m.lb_now();
        LbAddDelAsV2Reply {
            retval: m.lb.add_del_as_v2(&req, now),
        }
    });
    h.on::<LbAsSetWeight, _>(|m, _, req| {
        m.lb_now();
        LbAsSetWeightReply {
            retval: m.lb.as_set_weight(&req),
        }
    });
    // A view: the filter compares the union's raw bytes.
    h.dump_view::<LbAsV2Dump, _>(|m, _, req| {
        m.lb_now();
        let pfx = req.pfx();
        m.lb.as_v2_dump(pfx.address().un().0, req.protocol(), req.port())
    });
}
