//! L2 (`l2.api`): bridge domains, their flags, members and BVI, and the L2 FIB.

// VPP 26.06 still serves the deprecated `bridge_domain_add_del` (v1).
#[allow(deprecated)]
use vppapi_binapi::l2::{BridgeDomainAddDel, BridgeDomainAddDelReply};
use vppapi_binapi::l2::{
    BridgeDomainAddDelV2, BridgeDomainAddDelV2Reply, BridgeDomainDetails, BridgeDomainDump,
    BridgeDomainSetMacAge, BridgeDomainSetMacAgeReply, BridgeDomainSwIf, BridgeFlags,
    BridgeFlagsReply, L2FibTableDetails, L2FibTableDump, L2fibAddDel, L2fibAddDelReply,
    SwInterfaceSetL2Bridge, SwInterfaceSetL2BridgeReply,
};
use vppapi_codec::api_errno::{
    BD_ALREADY_EXISTS, BD_ALREADY_HAS_BVI, BD_ID_EXCEED_MAX, BD_IN_USE, BD_NOT_MODIFIABLE,
    INVALID_INTERFACE, INVALID_SW_IF_INDEX, NO_SUCH_ENTRY,
};
use vppapi_codec::net::{InterfaceIndex, MacAddress};

use super::Model;
use crate::handlers::{fit, lossy, Handlers};

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

#[derive(Debug, Clone)]
pub struct BridgeDomain {
    pub bd_id: u32,
    pub features: u32,
    pub mac_age: u8,
    pub tag: String,
    pub members: Vec<(u32, u8)>,
    pub bvi: Option<u32>,
}

impl BridgeDomain {
    pub(super) fn new(bd_id: u32) -> Self {
        BridgeDomain {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2FibEntry {
    pub mac: [u8; 6],
    pub bd_id: u32,
    pub sw_if_index: u32,
    pub static_mac: bool,
    pub filter_mac: bool,
    pub bvi_mac: bool,
}

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
    h.on::<BridgeDomainSetMacAge, _>(|m, _, req| {
        let retval = match m.bd_mut(req.bd_id) {
            Some(bd) => {
                bd.mac_age = req.mac_age;
                0
            }
            None => NO_SUCH_ENTRY,
        };
        BridgeDomainSetMacAgeReply { retval }
    });
    h.on::<SwInterfaceSetL2Bridge, _>(|m, _, req| SwInterfaceSetL2BridgeReply {
        retval: m.set_l2_bridge(&req),
    });
    h.dump::<BridgeDomainDump, _>(|m, _, req| {
        let (bd_id, sw) = (req.bd_id, req.sw_if_index.0);
        m.bds
            .iter()
            .skip(1)
            .filter(|bd| bd_id == u32::MAX || bd.bd_id == bd_id)
            .filter(|bd| sw == u32::MAX || bd.members.iter().any(|(m, _)| *m == sw))
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
                        .map(|&(sw, shg)| BridgeDomainSwIf {
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
    h.dump::<L2FibTableDump, _>(|m, _, req| {
        let bd_id = req.bd_id;
        if bd_id != u32::MAX && m.bd(bd_id).is_none() {
            return Vec::new();
        }
        // VPP walks its bihash; the simulator lists learned/static entries first, BVI entries
        // last (the order the recordings show).
        let mut entries: Vec<&L2FibEntry> = m
            .l2fib
            .iter()
            .filter(|e| bd_id == u32::MAX || e.bd_id == bd_id)
            .collect();
        entries.sort_by_key(|e| e.bvi_mac);
        entries
            .into_iter()
            .map(|e| L2FibTableDetails {
                bd_id: e.bd_id,
                mac: MacAddress(e.mac),
                sw_if_index: InterfaceIndex(e.sw_if_index),
                static_mac: e.static_mac,
                filter_mac: e.filter_mac,
                bvi_mac: e.bvi_mac,
            })
            .collect()
    });
}

impl Model {
    fn bd(&self, bd_id: u32) -> Option<&BridgeDomain> {
        self.bds.iter().find(|b| b.bd_id == bd_id)
    }
    fn bd_mut(&mut self, bd_id: u32) -> Option<&mut BridgeDomain> {
        self.bds.iter_mut().find(|b| b.bd_id == bd_id)
    }

    /// (retval, bd_id): `v2` allocates an ID for `bd_id = ~0` and reports it.
    fn bd_add_del(&mut self, r: BdAddDel, v2: bool) -> (i32, u32) {
        let mut bd_id = r.bd_id;
        let rv = 'rv: {
            if r.is_add {
                if bd_id == u32::MAX && v2 {
                    bd_id = (1..).find(|i| self.bd(*i).is_none()).unwrap_or(1);
                }
                if bd_id == 0 {
                    break 'rv BD_NOT_MODIFIABLE;
                }
                if bd_id > 0xff_ffff {
                    break 'rv BD_ID_EXCEED_MAX;
                }
                if self.bd(bd_id).is_some() {
                    break 'rv BD_ALREADY_EXISTS;
                }
                let mut bd = BridgeDomain::new(bd_id);
                for (on, f) in r.flags {
                    bd.set_flags(f, on);
                }
                bd.mac_age = r.mac_age;
                bd.tag = r.tag;
                self.bds.push(bd);
                0
            } else {
                if bd_id == 0 {
                    break 'rv BD_NOT_MODIFIABLE;
                }
                match self.bds.iter().position(|x| x.bd_id == bd_id) {
                    None => NO_SUCH_ENTRY,
                    Some(p) if !self.bds[p].members.is_empty() => BD_IN_USE,
                    Some(p) => {
                        self.bds.remove(p);
                        self.l2fib.retain(|e| e.bd_id != bd_id);
                        0
                    }
                }
            }
        };
        (rv, bd_id)
    }

    /// Takes `sw` out of its bridge domain (and its BVI entry out of the l2fib).
    pub(super) fn l2_detach(&mut self, sw: u32) {
        let Some(Some((bd_id, _, _))) = self.iface(sw).map(|i| i.l2) else {
            return;
        };
        if let Some(bd) = self.bd_mut(bd_id) {
            bd.members.retain(|(m, _)| *m != sw);
            if bd.bvi == Some(sw) {
                bd.bvi = None;
            }
        }
        self.l2fib.retain(|e| !(e.bvi_mac && e.sw_if_index == sw));
        if let Some(i) = self.iface_mut(sw) {
            i.l2 = None;
        }
    }

    fn set_l2_bridge(&mut self, req: &SwInterfaceSetL2Bridge) -> i32 {
        let (sw, bd_id, port_type, shg) =
            (req.rx_sw_if_index.0, req.bd_id, req.port_type.0, req.shg);
        if self.iface(sw).is_none() {
            return INVALID_SW_IF_INDEX;
        }
        if !req.enable {
            self.l2_detach(sw);
            return 0;
        }
        if bd_id > 0xff_ffff {
            return BD_ID_EXCEED_MAX;
        }
        // bd_find_or_add_bd_index: a missing bridge domain is created with default flags.
        if self.bd(bd_id).is_none() {
            self.bds.push(BridgeDomain::new(bd_id));
        }
        let is_bvi = port_type == 1; // L2_API_PORT_TYPE_BVI
        if is_bvi {
            if let Some(other) = self.bd(bd_id).and_then(|bd| bd.bvi) {
                if other != sw {
                    return BD_ALREADY_HAS_BVI;
                }
            }
        }
        self.l2_detach(sw);
        let mac = self.iface(sw).map(|i| i.mac).unwrap_or_default();
        let bd = self.bd_mut(bd_id).expect("created above");
        bd.members.push((sw, shg));
        if is_bvi {
            bd.bvi = Some(sw);
            self.l2fib.push(L2FibEntry {
                mac,
                bd_id,
                sw_if_index: sw,
                static_mac: true,
                filter_mac: false,
                bvi_mac: true,
            });
        }
        if let Some(i) = self.iface_mut(sw) {
            i.l2 = Some((bd_id, port_type, shg));
        }
        0
    }

    fn l2fib_add_del(&mut self, req: &L2fibAddDel) -> i32 {
        let (mac, bd_id, sw) = (req.mac.0, req.bd_id, req.sw_if_index.0);
        if self.bd(bd_id).is_none() {
            return NO_SUCH_ENTRY;
        }
        let pos = self
            .l2fib
            .iter()
            .position(|e| e.mac == mac && e.bd_id == bd_id);
        if !req.is_add {
            return match pos {
                Some(p) => {
                    self.l2fib.remove(p);
                    0
                }
                None => NO_SUCH_ENTRY,
            };
        }
        if !req.filter_mac {
            match self.iface(sw) {
                None => return INVALID_SW_IF_INDEX,
                Some(i) if i.l2.map(|l| l.0) != Some(bd_id) => return INVALID_INTERFACE,
                _ => {}
            }
        }
        let e = L2FibEntry {
            mac,
            bd_id,
            sw_if_index: if req.filter_mac { u32::MAX } else { sw },
            static_mac: req.static_mac,
            filter_mac: req.filter_mac,
            bvi_mac: req.bvi_mac,
        };
        match pos {
            Some(p) => self.l2fib[p] = e,
            None => self.l2fib.push(e),
        }
        0
    }
}
