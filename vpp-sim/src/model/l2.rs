//! L2 (`l2.api`): bridge domains, their flags, members and BVI, and the L2 FIB.

// VPP 26.06 still serves the deprecated `bridge_domain_add_del` (v1).
#[allow(deprecated)]
use vppapi_binapi::l2::{BridgeDomainAddDel, BridgeDomainAddDelReply};
use vppapi_binapi::l2::{
    BridgeDomainAddDelV2, BridgeDomainAddDelV2Reply, BridgeDomainDetails, BridgeDomainDump,
    BridgeDomainSetMacAge, BridgeDomainSetMacAgeReply, BridgeDomainSwIf, BridgeFlags,
    BridgeFlagsReply, L2FibTableDetails, L2FibTableDump, L2MacsEvent, L2fibAddDel,
    L2fibAddDelReply, L2fibFlushAll, L2fibFlushAllReply, L2fibFlushBd, L2fibFlushBdReply,
    L2fibFlushInt, L2fibFlushIntReply, MacEntry, MacEventAction, SwInterfaceSetL2Bridge,
    SwInterfaceSetL2BridgeReply, WantL2MacsEvents2, WantL2MacsEvents2Reply,
};
use vppapi_codec::api_errno::{
    BD_ALREADY_EXISTS, BD_ALREADY_HAS_BVI, BD_ID_EXCEED_MAX, BD_IN_USE, BD_NOT_MODIFIABLE, EAGAIN,
    INVALID_SW_IF_INDEX, INVALID_VALUE, L2_MACS_EVENT_CLINET_PRESENT, NO_SUCH_ENTRY,
};
use vppapi_codec::net::{InterfaceIndex, MacAddress};

use super::{IfKind, Model};
use crate::handlers::{fit, lossy, push_frame, Call, Handlers, FRAME_HEADER};

/// L2 input feature bits of 26.06 (`l2_input.h`, without the removed GBP bits).
mod feat {
    pub const FLOOD: u32 = 1 << 2;
    pub const ARP_UFWD: u32 = 1 << 3;
    pub const ARP_TERM: u32 = 1 << 4;
    pub const UU_FLOOD: u32 = 1 << 5;
    pub const UU_FWD: u32 = 1 << 6;
    pub const FWD: u32 = 1 << 7;
    pub const LEARN: u32 = 1 << 9;
}

/// `bd_flags` of the API (LEARN=1, FWD=2, FLOOD=4, UU_FLOOD=8, ARP_TERM=16, ARP_UFWD=32) to
/// feature bits.
fn bd_flags_to_features(flags: u32) -> u32 {
    let map = [
        (1, feat::LEARN),
        (2, feat::FWD),
        (4, feat::FLOOD),
        (8, feat::UU_FLOOD),
        (16, feat::ARP_TERM),
        (32, feat::ARP_UFWD),
    ];
    map.iter()
        .filter(|(f, _)| flags & f != 0)
        .fold(0, |a, (_, b)| a | b)
}

/// A bridge domain (`l2_bridge_domain_t`) at its index in VPP's `bd_configs`.
#[derive(Debug, Clone)]
pub struct BridgeDomain {
    /// Index in `bd_configs` (l2_bd.c `bd_add_bd_index`: the first clear bit of the index
    /// bitmap, so a deleted BD's index is reused; BD 0 is index 0).
    pub index: u32,
    pub bd_id: u32,
    pub features: u32,
    pub mac_age: u8,
    pub tag: String,
    /// The flood vector `members` in VPP's order (l2_bd.c `bd_add_member`): (sw_if_index,
    /// shg, flood class).
    pub members: Vec<(u32, u8, FloodClass)>,
    pub bvi: Option<u32>,
}

/// `vnet_flood_class_t` of a member: decides where `bd_add_member` inserts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodClass {
    /// Ethernet interfaces (pg): before the tunnels and no-flood members.
    Normal,
    /// Loopbacks that are not a BVI (ethernet/interface.c: "don't flood to loopbacks"),
    /// and a former BVI: appended.
    NoFlood,
    /// The BVI: always first.
    Bvi,
    /// Unicast VXLAN tunnels: before the no-flood members.
    TunnelNormal,
}

impl BridgeDomain {
    pub(super) fn new(index: u32, bd_id: u32) -> Self {
        BridgeDomain {
            index,
            bd_id,
            // bd_add_bd_index: everything but ARP_TERM, UU_FWD and ARP_UFWD.
            features: !(feat::ARP_TERM | feat::UU_FWD | feat::ARP_UFWD),
            mac_age: 0,
            tag: String::new(),
            members: Vec::new(),
            bvi: None,
        }
    }
    fn set_flags(&mut self, flags: u32, enable: bool) {
        let f = bd_flags_to_features(flags);
        if enable {
            self.features |= f;
        } else {
            self.features &= !f;
        }
    }
}

/// An L2 FIB entry, keyed like VPP's bihash by (MAC, BD *index*): entries added through the
/// API outlive their bridge domain (`bd_delete` only flushes learned MACs) and show under
/// whatever BD takes the index next (`l2_fib_table_dump` maps the index to its `bd_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2FibEntry {
    pub mac: [u8; 6],
    pub bd_index: u32,
    pub sw_if_index: u32,
    pub static_mac: bool,
    pub filter_mac: bool,
    pub bvi_mac: bool,
    /// Learned from traffic (no `AGE_NOT`): flushed by `l2fib_flush_*`, aged; API entries
    /// never are.
    pub learned: bool,
}

/// The `want_l2_macs_events[2]` client (`l2learn_main.client_pid/client_index`).
#[derive(Debug, Clone)]
pub(crate) struct MacsClient {
    pub(super) pid: u32,
    pub(super) client_index: [u8; 4],
    /// Its registration, `None` once it is gone (VPP keeps the pid and sends nothing).
    pub(crate) reg: Option<u32>,
    /// Entries per event: `max_macs_in_event * 10` (`fm->max_macs_in_event`).
    pub(super) max: u32,
}

/// `mac_event_action`: ADD 0, DELETE 1, MOVE 2.
const MAC_ADD: u32 = 0;
const MAC_DELETE: u32 = 1;
const MAC_MOVE: u32 = 2;

/// What `bridge_domain_add_del` and `_v2` (the same fields) ask for.
struct BdAddDel {
    bd_id: u32,
    /// (requested, API `bd_flags` bit) per flag field.
    flags: [(bool, u32); 6],
    mac_age: u8,
    tag: String,
    is_add: bool,
}

/// Reads a `bridge_domain_add_del[_v2]` view (a view: VPP copies the tag's bytes as they are).
macro_rules! bd_add_del {
    ($v:expr) => {{
        let v = $v;
        BdAddDel {
            bd_id: v.bd_id(),
            flags: [
                (v.flood(), 4),
                (v.uu_flood(), 8),
                (v.forward(), 2),
                (v.learn(), 1),
                (v.arp_term(), 16),
                (v.arp_ufwd(), 32),
            ],
            mac_age: v.mac_age(),
            tag: lossy(v.bd_tag_bytes()),
            is_add: v.is_add(),
        }
    }};
}

#[allow(deprecated)] // VPP 26.06 still serves the deprecated v1.
fn register_v1(h: &mut Handlers) {
    h.on_view::<BridgeDomainAddDel, _>(|m, _, req| {
        let (retval, _) = m.bd_add_del(bd_add_del!(req), false);
        BridgeDomainAddDelReply { retval }
    });
}

pub(super) fn register(h: &mut Handlers) {
    register_v1(h);
    h.on_view::<BridgeDomainAddDelV2, _>(|m, _, req| {
        let (retval, bd_id) = m.bd_add_del(bd_add_del!(req), true);
        BridgeDomainAddDelV2Reply { retval, bd_id }
    });
    // l2_api.c vl_api_bridge_flags_t_handler: bd 0 -> -63, missing -> -6 (bitmap 0),
    // else bd_set_flags' resulting feature bitmap.
    h.on::<BridgeFlags, _>(|m, _, req| {
        let bd_id = req.bd_id;
        let (retval, resulting_feature_bitmap) = match m.bd_mut(bd_id) {
            _ if bd_id == 0 => (BD_NOT_MODIFIABLE, 0),
            None => (NO_SUCH_ENTRY, 0),
            Some(bd) => {
                bd.set_flags(req.flags.0, req.is_set);
                (0, bd.features)
            }
        };
        BridgeFlagsReply {
            retval,
            resulting_feature_bitmap,
        }
    });
    // vl_api_bridge_domain_set_mac_age_t_handler: bd 0 -> -63, missing -> -6.
    h.on::<BridgeDomainSetMacAge, _>(|m, _, req| {
        let retval = match m.bd_mut(req.bd_id) {
            _ if req.bd_id == 0 => BD_NOT_MODIFIABLE,
            Some(bd) => {
                bd.mac_age = req.mac_age;
                0
            }
            None => NO_SUCH_ENTRY,
        };
        BridgeDomainSetMacAgeReply { retval }
    });
    h.on::<SwInterfaceSetL2Bridge, _>(|m, _, req| SwInterfaceSetL2BridgeReply {
        retval: m.set_l2_bridge(
            req.rx_sw_if_index.0,
            req.bd_id,
            req.port_type.0,
            req.shg,
            req.enable,
        ),
    });
    // vl_api_bridge_domain_dump_t_handler: a sw_if_index filter other than ~0 is
    // "UNIMPLEMENTED" (no details); bd_id 0 gives nothing; ~0 walks bd_configs in index
    // order skipping BD 0; members in flood-vector order.
    h.dump::<BridgeDomainDump, _>(|m, _, req| {
        let (bd_id, sw) = (req.bd_id, req.sw_if_index.0);
        if sw != u32::MAX || bd_id == 0 {
            return Vec::new();
        }
        m.bds
            .iter()
            .filter(|bd| bd.bd_id != 0 && (bd_id == u32::MAX || bd.bd_id == bd_id))
            .map(|bd| {
                let f = |bit: u32| bd.features & bit != 0;
                BridgeDomainDetails {
                    bd_id: bd.bd_id,
                    flood: f(feat::FLOOD),
                    uu_flood: f(feat::UU_FLOOD),
                    forward: f(feat::FWD),
                    learn: f(feat::LEARN),
                    arp_term: f(feat::ARP_TERM),
                    arp_ufwd: f(feat::ARP_UFWD),
                    mac_age: bd.mac_age,
                    bd_tag: fit(&bd.tag, 64),
                    bvi_sw_if_index: InterfaceIndex(bd.bvi.unwrap_or(u32::MAX)),
                    uu_fwd_sw_if_index: InterfaceIndex::NONE,
                    sw_if_details: bd
                        .members
                        .iter()
                        .map(|&(sw, shg, _)| BridgeDomainSwIf {
                            context: 0,
                            sw_if_index: InterfaceIndex(sw),
                            shg,
                        })
                        .collect(),
                }
            })
            .collect()
    });
    h.on::<L2fibAddDel, _>(|m, _, req| L2fibAddDelReply {
        retval: m.l2fib_add_del(&req),
    });
    // vl_api_l2_fib_table_dump_t_handler: a missing BD gives nothing; ~0 every entry.
    h.dump::<L2FibTableDump, _>(|m, _, req| {
        let bd_id = req.bd_id;
        let index = match bd_id {
            u32::MAX => None,
            id => match m.bd(id) {
                Some(bd) => Some(bd.index),
                None => return Vec::new(),
            },
        };
        // VPP walks its bihash; the simulator lists learned/static entries first, BVI entries
        // last (the order the recordings show).
        let mut entries: Vec<&L2FibEntry> = m
            .l2fib
            .iter()
            .filter(|e| index.is_none_or(|i| e.bd_index == i))
            .collect();
        entries.sort_by_key(|e| e.bvi_mac);
        entries
            .into_iter()
            .map(|e| L2FibTableDetails {
                // bd_configs[bd_index].bd_id: ~0 for an index no BD holds any more.
                bd_id: m
                    .bds
                    .iter()
                    .find(|b| b.index == e.bd_index)
                    .map_or(u32::MAX, |b| b.bd_id),
                mac: MacAddress(e.mac),
                sw_if_index: InterfaceIndex(e.sw_if_index),
                static_mac: e.static_mac,
                filter_mac: e.filter_mac,
                bvi_mac: e.bvi_mac,
            })
            .collect()
    });
    // vl_api_l2fib_flush_bd_t_handler: missing BD -6; l2fib_flush_bd_mac bumps the BD's
    // sequence number, so the next scan ages out its learned MACs (delete events).
    h.on::<L2fibFlushBd, _>(|m, _, req| {
        let retval = match m.bd(req.bd_id).map(|b| b.index) {
            None => NO_SUCH_ENTRY,
            Some(i) => {
                m.flush_learned(|e| e.bd_index == i);
                0
            }
        };
        L2fibFlushBdReply { retval }
    });
    // vl_api_l2fib_flush_int_t_handler: VALIDATE_SW_IF_INDEX (-2), l2fib_flush_int_mac.
    h.on::<L2fibFlushInt, _>(|m, _, req| {
        let sw = req.sw_if_index.0;
        let retval = if m.iface(sw).is_none() {
            INVALID_SW_IF_INDEX
        } else {
            m.flush_learned(|e| e.sw_if_index == sw);
            0
        };
        L2fibFlushIntReply { retval }
    });
    // vl_api_l2fib_flush_all_t_handler: l2fib_flush_all_mac, always 0.
    h.on::<L2fibFlushAll, _>(|m, _, _| {
        m.flush_learned(|_| true);
        L2fibFlushAllReply { retval: 0 }
    });
    // vl_api_want_l2_macs_events2_t_handler.
    h.on::<WantL2MacsEvents2, _>(|m, call, req| WantL2MacsEvents2Reply {
        retval: m.want_l2_macs_events2(call, req.enable_disable, req.max_macs_in_event, req.pid),
    });
}

impl Model {
    fn bd(&self, bd_id: u32) -> Option<&BridgeDomain> {
        self.bds.iter().find(|b| b.bd_id == bd_id)
    }
    fn bd_mut(&mut self, bd_id: u32) -> Option<&mut BridgeDomain> {
        self.bds.iter_mut().find(|b| b.bd_id == bd_id)
    }

    /// `bd_add_bd_index`: the lowest free index; `bds` stays sorted by index.
    fn bd_add(&mut self, bd_id: u32) -> usize {
        // The lowest free index (VPP's pool hands out freed slots first). `bds` is sorted by
        // index, so the first gap is where the n-th BD's index is not n: one pass, not a scan
        // per candidate index (which made adding N BDs cost N^3).
        let index = self
            .bds
            .iter()
            .enumerate()
            .find(|(i, b)| b.index != *i as u32)
            .map_or(self.bds.len() as u32, |(i, _)| i as u32);
        let pos = self.bds.partition_point(|b| b.index < index);
        self.bds.insert(pos, BridgeDomain::new(index, bd_id));
        pos
    }

    /// l2_bd.c `bd_get_unused_id`: VPP's pseudo-random walk from a static seed (0 on a
    /// fresh VPP), `random_u32` then seed+0, +1, -1, +2, ... masked to 24 bits.
    fn bd_unused_id(&mut self) -> u32 {
        for _ in 0..1 << 10 {
            self.bd_seed = self
                .bd_seed
                .wrapping_mul(1_664_525)
                .wrapping_add(1_013_904_223);
            for i in 0..1i32 << 10 {
                let step = (2 * (i % 2) - 1) * i;
                self.bd_seed = self.bd_seed.wrapping_add(step as u32) & 0xff_ffff;
                if self.bd_seed == 0 {
                    continue;
                }
                if self.bd(self.bd_seed).is_none() {
                    return self.bd_seed;
                }
            }
        }
        u32::MAX
    }

    /// (retval, bd_id) of l2_bd.c `bd_add_del`; `v2` allocates an ID for `bd_id = ~0`.
    fn bd_add_del(&mut self, r: BdAddDel, v2: bool) -> (i32, u32) {
        let mut bd_id = r.bd_id;
        if v2 && r.is_add && bd_id == u32::MAX {
            bd_id = self.bd_unused_id();
            if bd_id == u32::MAX {
                return (EAGAIN, bd_id);
            }
        }
        let rv = if r.is_add {
            // BD 0 exists (index 0): -119, not -63.
            if self.bd(bd_id).is_some() {
                BD_ALREADY_EXISTS
            } else if bd_id > 0xff_ffff {
                BD_ID_EXCEED_MAX
            } else {
                let pos = self.bd_add(bd_id);
                let bd = &mut self.bds[pos];
                for (on, f) in r.flags {
                    bd.set_flags(f, on);
                }
                bd.mac_age = r.mac_age;
                bd.tag = r.tag;
                0
            }
        } else {
            match self.bds.iter().position(|x| x.bd_id == bd_id) {
                None => NO_SUCH_ENTRY,
                Some(p) if self.bds[p].index == 0 => BD_NOT_MODIFIABLE,
                Some(p) if !self.bds[p].members.is_empty() => BD_IN_USE,
                Some(p) => {
                    // bd_delete: learned MACs flushed; API entries stay under the index.
                    let index = self.bds[p].index;
                    self.flush_learned(|e| e.bd_index == index);
                    self.bds.remove(p);
                    0
                }
            }
        };
        (rv, bd_id)
    }

    /// The flood class of `sw` as a BD member of `port_type`.
    fn flood_class(&self, sw: u32, port_type: u32) -> FloodClass {
        match self.iface(sw).map(|i| i.kind) {
            _ if port_type == 1 => FloodClass::Bvi,
            Some(IfKind::Loopback { .. }) => FloodClass::NoFlood,
            Some(IfKind::Vxlan) => FloodClass::TunnelNormal,
            _ => FloodClass::Normal,
        }
    }

    /// Takes `sw` out of its bridge domain (l2_input.c `set_int_l2_mode`, undo part):
    /// `bd_remove_member` (`vec_delete`: the others keep their order), the BVI's own l2fib
    /// entry, and the MACs learned on it.
    pub(super) fn l2_detach(&mut self, sw: u32) {
        let Some(Some((bd_id, _, _))) = self.iface(sw).map(|i| i.l2) else {
            return;
        };
        let mac = self.iface(sw).map(|i| i.mac).unwrap_or_default();
        let mut index = None;
        if let Some(bd) = self.bd_mut(bd_id) {
            bd.members.retain(|(m, _, _)| *m != sw);
            index = Some(bd.index);
            if bd.bvi == Some(sw) {
                bd.bvi = None;
                let i = bd.index;
                // l2fib_del_entry (hw_address, bd_index, sw_if_index)
                self.l2fib
                    .retain(|e| !(e.mac == mac && e.bd_index == i && e.sw_if_index == sw));
            }
        }
        if let Some(i) = self.iface_mut(sw) {
            i.l2 = None;
        }
        if index.is_some() {
            self.flush_learned(|e| e.sw_if_index == sw);
        }
    }

    /// `sw_interface_set_l2_bridge` (l2_api.c handler + `set_int_l2_mode`); also the CLI's
    /// `set interface l2 bridge`.
    pub fn set_l2_bridge(
        &mut self,
        sw: u32,
        bd_id: u32,
        port_type: u32,
        shg: u8,
        enable: bool,
    ) -> i32 {
        if self.iface(sw).is_none() {
            return INVALID_SW_IF_INDEX;
        }
        // l2_bd_port_type_decode: NORMAL 0, BVI 1, UU_FWD 2.
        if port_type > 2 {
            return INVALID_VALUE;
        }
        if !enable {
            self.l2_detach(sw);
            return 0;
        }
        if bd_id > 0xff_ffff {
            return BD_ID_EXCEED_MAX;
        }
        // bd_find_or_add_bd_index: a missing bridge domain is created with default flags.
        if self.bd(bd_id).is_none() {
            self.bd_add(bd_id);
        }
        // The old membership is undone first, even when the BVI check then fails.
        self.l2_detach(sw);
        let is_bvi = port_type == 1;
        if is_bvi && self.bd(bd_id).and_then(|bd| bd.bvi).is_some() {
            return BD_ALREADY_HAS_BVI;
        }
        let mac = self.iface(sw).map(|i| i.mac).unwrap_or_default();
        let class = self.flood_class(sw, port_type);
        let bd = self.bd_mut(bd_id).expect("created above");
        let index = bd.index;
        if port_type != 2 {
            // bd_add_member: [bvi, normal/tunnel masters..., tunnel normals..., no-flood...]
            let count = |c: FloodClass| bd.members.iter().filter(|m| m.2 == c).count();
            let len = bd.members.len();
            let ix = match class {
                FloodClass::Bvi => 0,
                FloodClass::NoFlood => len,
                FloodClass::Normal => {
                    len - count(FloodClass::TunnelNormal) - count(FloodClass::NoFlood)
                }
                FloodClass::TunnelNormal => len - count(FloodClass::NoFlood),
            };
            bd.members.insert(ix, (sw, shg, class));
        }
        if is_bvi {
            bd.bvi = Some(sw);
            // l2fib_add_entry (hw_address, bd_index, sw, BVI | STATIC): overwrites.
            self.l2fib
                .retain(|e| !(e.mac == mac && e.bd_index == index));
            self.l2fib.push(L2FibEntry {
                mac,
                bd_index: index,
                sw_if_index: sw,
                static_mac: true,
                filter_mac: false,
                bvi_mac: true,
                learned: false,
            });
        }
        if let Some(i) = self.iface_mut(sw) {
            i.l2 = Some((bd_id, port_type, shg));
        }
        0
    }

    /// The BVI's MAC changed (l2_input.c `l2input_interface_mac_change`): its entry moves
    /// from the old MAC to the new one (`l2fib_del_entry` + `l2fib_add_entry`).
    pub(super) fn bvi_mac_change(&mut self, sw: u32, old: [u8; 6], new: [u8; 6]) {
        let Some(Some((bd_id, 1, _))) = self.iface(sw).map(|i| i.l2) else {
            return;
        };
        let Some(index) = self.bd(bd_id).map(|b| b.index) else {
            return;
        };
        self.l2fib.retain(|e| {
            !(e.bd_index == index && (e.mac == new || (e.mac == old && e.sw_if_index == sw)))
        });
        self.l2fib.push(L2FibEntry {
            mac: new,
            bd_index: index,
            sw_if_index: sw,
            static_mac: true,
            filter_mac: false,
            bvi_mac: true,
            learned: false,
        });
    }

    /// l2_api.c `vl_api_l2fib_add_del_t_handler` + l2_fib.c `l2fib_add_entry` /
    /// `l2fib_del_entry`.
    fn l2fib_add_del(&mut self, req: &L2fibAddDel) -> i32 {
        let (mac, bd_id, sw) = (req.mac.0, req.bd_id, req.sw_if_index.0);
        let Some(index) = self.bd(bd_id).map(|b| b.index) else {
            return NO_SUCH_ENTRY;
        };
        let pos = self
            .l2fib
            .iter()
            .position(|e| e.mac == mac && e.bd_index == index);
        if !req.is_add {
            // Absent, or sw_if_index given (non-zero) and not the entry's: -6.
            return match pos {
                Some(p) if sw == 0 || self.l2fib[p].sw_if_index == sw => {
                    self.l2fib.remove(p);
                    0
                }
                _ => NO_SUCH_ENTRY,
            };
        }
        if !req.filter_mac {
            // VALIDATE_SW_IF_INDEX, then "l2_input_is_bridge": bridged into *any* BD.
            match self.iface(sw) {
                Some(i) if i.l2.is_some() => {}
                _ => return INVALID_SW_IF_INDEX,
            }
        }
        // Provisioned entries are AGE_NOT; filter entries are static with sw ~0.
        let e = L2FibEntry {
            mac,
            bd_index: index,
            sw_if_index: if req.filter_mac { u32::MAX } else { sw },
            static_mac: req.static_mac || req.filter_mac,
            filter_mac: req.filter_mac,
            bvi_mac: req.bvi_mac && !req.filter_mac,
            learned: false,
        };
        match pos {
            Some(p) => self.l2fib[p] = e,
            None => self.l2fib.push(e),
        }
        0
    }

    /// Removes the learned entries `pred` selects (an `l2fib_flush_*` and the scan after
    /// it): the events client gets them as `l2_macs_event` deletes.
    pub(super) fn flush_learned(&mut self, pred: impl Fn(&L2FibEntry) -> bool) {
        let mut gone = Vec::new();
        self.l2fib.retain(|e| {
            let flush = e.learned && pred(e);
            if flush {
                gone.push((e.sw_if_index, e.mac, MAC_DELETE));
            }
            !flush
        });
        self.send_mac_events(&gone);
    }

    /// A frame from `mac` entering `sw` (l2_learn.c `l2learn_process`), as a test's
    /// packet generator would send it: learned when `sw` is in a BD with learning on (and
    /// not its BVI, whose learning is off); a static entry is never overridden; an entry on
    /// another interface moves (`move` event), a new one is added (`add` event); a known
    /// one stays. Returns whether the FIB changed.
    pub fn learn_mac(&mut self, sw: u32, mac: [u8; 6]) -> bool {
        let Some(Some((bd_id, port_type, _))) = self.iface(sw).map(|i| i.l2) else {
            return false;
        };
        let Some((index, features)) = self.bd(bd_id).map(|b| (b.index, b.features)) else {
            return false;
        };
        if features & feat::LEARN == 0 || port_type == 1 || mac == [0; 6] {
            return false;
        }
        let action = match self
            .l2fib
            .iter_mut()
            .find(|e| e.mac == mac && e.bd_index == index)
        {
            Some(e) if e.sw_if_index == sw => return false,
            Some(e) if e.static_mac || e.filter_mac => return false,
            Some(e) => {
                e.sw_if_index = sw;
                e.learned = true;
                e.bvi_mac = false;
                MAC_MOVE
            }
            None => {
                self.l2fib.push(L2FibEntry {
                    mac,
                    bd_index: index,
                    sw_if_index: sw,
                    static_mac: false,
                    filter_mac: false,
                    bvi_mac: false,
                    learned: true,
                });
                MAC_ADD
            }
        };
        self.send_mac_events(&[(sw, mac, action)]);
        true
    }

    /// `l2_macs_event`s to the client (l2_fib.c `l2fib_scan` / `allocate_mac_evt_buf`): at
    /// most `max` entries each, and every frame sized for `max` entries whatever `n_macs`
    /// (the simulator zero-fills what VPP leaves uninitialised).
    fn send_mac_events(&mut self, macs: &[(u32, [u8; 6], u32)]) {
        let Some(c) = self.macs_client.clone() else {
            return;
        };
        let Some(reg) = c.reg else {
            return;
        };
        let max = c.max.max(1) as usize;
        for chunk in macs.chunks(max) {
            let ev = L2MacsEvent {
                pid: c.pid,
                mac: chunk
                    .iter()
                    .map(|&(sw, mac, action)| MacEntry {
                        sw_if_index: InterfaceIndex(sw),
                        mac_addr: MacAddress(mac),
                        action: MacEventAction(action),
                        flags: 0,
                    })
                    .collect(),
            };
            let Some(id) = self.table().id_of::<L2MacsEvent>() else {
                return;
            };
            let mut frame = Vec::new();
            push_frame(&mut frame, id, c.client_index, 0, &ev);
            if frame.is_empty() {
                return;
            }
            // 14 bytes of header, pid and n_macs, then 15 bytes per entry.
            let body = 14 + 15 * max;
            frame.resize(FRAME_HEADER + body, 0);
            frame[8..12].copy_from_slice(&(body as u32).to_be_bytes());
            self.emit_frame(reg, frame);
        }
    }

    /// l2_api.c `vl_api_want_l2_macs_events2_t_handler`.
    fn want_l2_macs_events2(&mut self, call: &Call, enable: bool, max: u8, pid: u32) -> i32 {
        let cur = self.macs_client.as_ref().map(|c| c.pid).filter(|p| *p != 0);
        if !enable {
            // Disabling without a client is 0 too.
            self.macs_client = None;
            return 0;
        }
        match cur {
            Some(p) if p != pid => L2_MACS_EVENT_CLINET_PRESENT,
            _ if max == 0 => INVALID_VALUE,
            _ => {
                self.macs_client = Some(MacsClient {
                    pid,
                    client_index: call.client_index,
                    reg: Some(call.reg),
                    max: u32::from(max) * 10,
                });
                // l2fib_flush_all_mac: learned MACs go (deleted, reported to the new client).
                self.flush_learned(|_| true);
                0
            }
        }
    }
}
