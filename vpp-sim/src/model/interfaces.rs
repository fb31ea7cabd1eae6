//! Interfaces (`interface.api`): loopbacks, flags, MAC, MTU, tags, the interface dump, the
//! tx-placement cursor service, and interface events (`want_interface_events`).

use vppapi_binapi::interface::{
    CreateLoopback, CreateLoopbackInstance, CreateLoopbackInstanceReply, CreateLoopbackReply,
    DeleteLoopback, DeleteLoopbackReply, HwInterfaceSetMtu, HwInterfaceSetMtuReply,
    SwInterfaceDetails, SwInterfaceDump, SwInterfaceEvent, SwInterfaceGetMacAddress,
    SwInterfaceGetMacAddressReply, SwInterfaceSetFlags, SwInterfaceSetFlagsReply,
    SwInterfaceSetMacAddress, SwInterfaceSetMacAddressReply, SwInterfaceSetMtu,
    SwInterfaceSetMtuReply, SwInterfaceTagAddDel, SwInterfaceTagAddDelReply,
    SwInterfaceTxPlacementGet, SwInterfaceTxPlacementGetReply, WantInterfaceEvents,
    WantInterfaceEventsReply,
};
use vppapi_binapi::interface_types::{IfStatusFlags, IfType, LinkDuplex};
use vppapi_codec::api_errno::{
    INVALID_REGISTRATION, INVALID_SW_IF_INDEX, INVALID_VALUE, NO_SUCH_ENTRY,
};
use vppapi_codec::net::{InterfaceIndex, MacAddress};

use super::Model;
use crate::handlers::{fit, lossy, Call, Handlers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfKind {
    Local,
    Loopback {
        instance: u32,
    },
    Vxlan,
    /// A packet-generator interface `pgN` (`create packet-generator interface pgN`).
    Pg {
        id: u32,
    },
}

/// An interface (`vnet_sw_interface_t` + what the models need of its hw interface).
#[derive(Debug, Clone)]
pub struct Iface {
    pub sw_if_index: u32,
    pub name: String,
    pub dev_type: &'static str,
    pub kind: IfKind,
    pub mac: [u8; 6],
    pub admin_up: bool,
    pub link_mtu: u16,
    pub mtu: [u32; 4],
    pub tag: String,
    pub v4: Vec<([u8; 4], u8)>,
    pub v6: Vec<([u8; 16], u8)>,
    pub ll: Option<[u8; 16]>,
    /// (bd_id, port_type, shg) when in L2 bridge mode.
    pub l2: Option<(u32, u32, u8)>,
}

impl Iface {
    /// `if_status_flags`: loopbacks and tunnels follow admin state with their link.
    pub fn flags(&self) -> u32 {
        match (self.admin_up, self.kind) {
            (false, _) => 0,
            (true, IfKind::Local) => 1,
            (true, _) => 3,
        }
    }

    /// The interface's `sw_interface_details`.
    fn details(&self) -> SwInterfaceDetails {
        SwInterfaceDetails {
            sw_if_index: InterfaceIndex(self.sw_if_index),
            sup_sw_if_index: self.sw_if_index,
            l2_address: MacAddress(self.mac),
            flags: IfStatusFlags(self.flags()),
            r#type: IfType::IF_API_TYPE_HARDWARE,
            link_duplex: LinkDuplex(0),
            link_speed: 0,
            link_mtu: self.link_mtu,
            mtu: self.mtu,
            interface_name: fit(&self.name, 64),
            interface_dev_type: fit(self.dev_type, 64),
            tag: fit(&self.tag, 64),
            // No sub-interface, VLAN tag rewrite or 802.1ah fields: all zero.
            ..Default::default()
        }
    }
}

/// A `want_interface_events` subscription.
#[derive(Debug, Clone)]
pub(crate) struct EventReg {
    client_index: [u8; 4],
    pid: u32,
    pub(super) reg: u32,
}

pub(super) fn register(h: &mut Handlers) {
    h.on::<CreateLoopback, _>(|m, _, req| {
        let (retval, sw) = m.create_loopback(req.mac_address.0, None);
        CreateLoopbackReply {
            retval,
            sw_if_index: InterfaceIndex(sw),
        }
    });
    h.on::<CreateLoopbackInstance, _>(|m, _, req| {
        let want = req.is_specified.then_some(req.user_instance);
        let (retval, sw) = m.create_loopback(req.mac_address.0, want);
        CreateLoopbackInstanceReply {
            retval,
            sw_if_index: InterfaceIndex(sw),
        }
    });
    h.on::<DeleteLoopback, _>(|m, _, req| {
        let sw = req.sw_if_index.0;
        let retval = match m.iface(sw) {
            Some(i) if matches!(i.kind, IfKind::Loopback { .. }) => {
                m.delete_iface(sw);
                0
            }
            _ => INVALID_SW_IF_INDEX,
        };
        DeleteLoopbackReply { retval }
    });
    h.on::<SwInterfaceSetFlags, _>(|m, _, req| SwInterfaceSetFlagsReply {
        retval: m.set_admin(req.sw_if_index.0, req.flags.0 & 1 != 0),
    });
    h.on::<SwInterfaceSetMacAddress, _>(|m, _, req| SwInterfaceSetMacAddressReply {
        retval: m.set_mac(req.sw_if_index.0, req.mac_address.0),
    });
    h.on::<SwInterfaceGetMacAddress, _>(|m, _, req| match m.iface(req.sw_if_index.0) {
        Some(i) => SwInterfaceGetMacAddressReply {
            retval: 0,
            mac_address: MacAddress(i.mac),
        },
        None => SwInterfaceGetMacAddressReply {
            retval: INVALID_SW_IF_INDEX,
            mac_address: MacAddress([0; 6]),
        },
    });
    h.on::<SwInterfaceSetMtu, _>(|m, _, req| {
        let retval = match m.iface_mut(req.sw_if_index.0) {
            None => INVALID_SW_IF_INDEX,
            Some(i) if req.mtu.iter().any(|&x| x > u32::from(i.link_mtu.max(9000))) => {
                INVALID_VALUE
            }
            Some(i) => {
                i.mtu = req.mtu;
                0
            }
        };
        SwInterfaceSetMtuReply { retval }
    });
    h.on::<HwInterfaceSetMtu, _>(|m, _, req| {
        let retval = match m.iface_mut(req.sw_if_index.0) {
            None => INVALID_SW_IF_INDEX,
            Some(i) => {
                i.link_mtu = req.mtu;
                0
            }
        };
        HwInterfaceSetMtuReply { retval }
    });
    // A view: VPP copies the tag's bytes, whatever they are.
    h.on_view::<SwInterfaceTagAddDel, _>(|m, _, req| {
        let tag = if req.is_add() {
            lossy(req.tag_bytes())
        } else {
            String::new()
        };
        let retval = match m.iface_mut(req.sw_if_index().0) {
            None => INVALID_SW_IF_INDEX,
            Some(i) => {
                i.tag = tag;
                0
            }
        };
        SwInterfaceTagAddDelReply { retval }
    });
    h.dump_view::<SwInterfaceDump, _>(|m, _, req| {
        let sw = req.sw_if_index().0;
        let filter_valid = req.name_filter_valid();
        if !filter_valid && sw != u32::MAX && sw != 0 {
            return m.iface(sw).map(Iface::details).into_iter().collect();
        }
        let filter = lossy(req.name_filter_bytes()).to_lowercase();
        m.ifaces()
            .filter(|i| !filter_valid || i.name.to_lowercase().contains(&filter))
            .map(Iface::details)
            .collect()
    });
    h.on::<WantInterfaceEvents, _>(|m, call, req| WantInterfaceEventsReply {
        retval: m.want_interface_events(call, req.enable_disable != 0, req.pid),
    });
    // VPP 26.06 quirk: no interface of the simulator has tx queues, and VPP then answers
    // NO_SUCH_ENTRY (-6) with an unset (zero) cursor and no details (the `cursor` recording).
    h.cursor::<SwInterfaceTxPlacementGet, _>(|_, _, _| {
        (
            Vec::new(),
            SwInterfaceTxPlacementGetReply {
                retval: NO_SUCH_ENTRY,
                cursor: 0,
            },
        )
    });
}

impl Model {
    pub(super) fn alloc_sw_if_index(&mut self) -> u32 {
        // VPP's pools reuse the most recently freed index first.
        match self.if_free.pop() {
            Some(i) => i,
            None => {
                self.ifs.push(None);
                (self.ifs.len() - 1) as u32
            }
        }
    }

    /// `create_loopback[_instance]`: (retval, sw_if_index).
    fn create_loopback(&mut self, mac: [u8; 6], want: Option<u32>) -> (i32, u32) {
        let used: Vec<u32> = self
            .ifaces()
            .filter_map(|i| match i.kind {
                IfKind::Loopback { instance } => Some(instance),
                _ => None,
            })
            .collect();
        let instance = match want {
            Some(w) if used.contains(&w) => return (INVALID_REGISTRATION, u32::MAX),
            Some(w) => w,
            None => (0..).find(|i| !used.contains(i)).unwrap_or(0),
        };
        let mac = if mac == [0; 6] {
            [0xde, 0xad, 0, 0, 0, instance as u8]
        } else {
            mac
        };
        let sw = self.alloc_sw_if_index();
        self.add_iface(Iface {
            sw_if_index: sw,
            name: format!("loop{instance}"),
            dev_type: "Loopback",
            kind: IfKind::Loopback { instance },
            mac,
            admin_up: false,
            link_mtu: 9000,
            mtu: [9000, 0, 0, 0],
            tag: String::new(),
            v4: vec![],
            v6: vec![],
            ll: None,
            l2: None,
        });
        (0, sw)
    }

    /// Deletes interface `sw` (its L2 state with it); subscribers get the deletion event
    /// after the reply.
    pub(super) fn delete_iface(&mut self, sw: u32) {
        self.l2_detach(sw);
        self.l2fib.retain(|e| e.sw_if_index != sw);
        if let Some(c) = self.ifs.get_mut(sw as usize) {
            *c = None;
        }
        self.if_free.push(sw);
        self.ifs_changed = true;
        self.send_if_event(sw, 0, true);
    }

    /// `sw_interface_event` to every subscriber (interface_api.c `link_state_process` /
    /// `send_sw_interface_event`: a new interface has flags 0, a deleted one `deleted`).
    pub(super) fn send_if_event(&mut self, sw: u32, flags: u32, deleted: bool) {
        let subs: Vec<EventReg> = self.if_events.clone();
        for e in subs {
            let ev = SwInterfaceEvent {
                pid: e.pid,
                sw_if_index: InterfaceIndex(sw),
                flags: IfStatusFlags(flags),
                deleted,
            };
            self.emit(e.reg, e.client_index, &ev);
        }
    }

    /// A new interface: stored at `sw`, subscribers told (`sw_interface_add_del_function`;
    /// one event, the ADD batched with an admin/link up of the same creation: a VXLAN
    /// tunnel, created up, reports flags 3).
    pub(super) fn add_iface(&mut self, iface: Iface) {
        let sw = iface.sw_if_index;
        let flags = iface.flags();
        if let Some(slot) = self.ifs.get_mut(sw as usize) {
            *slot = Some(iface);
        }
        self.ifs_changed = true;
        self.send_if_event(sw, flags, false);
    }

    /// Admin state of `sw` (`sw_interface_set_flags`, `set interface state`); an admin-down
    /// bridged interface loses its learned MACs (l2_fib.c `l2fib_sw_interface_up_down`).
    pub fn set_admin(&mut self, sw: u32, up: bool) -> i32 {
        let Some(i) = self.iface_mut(sw) else {
            return INVALID_SW_IF_INDEX;
        };
        let changed = i.admin_up != up;
        i.admin_up = up;
        let flags = i.flags();
        let bridged = i.l2.is_some();
        if changed {
            self.send_if_event(sw, flags, false);
        }
        if !up && bridged {
            self.flush_learned(|e| e.sw_if_index == sw);
        }
        0
    }

    /// `create packet-generator interface pgN` (pg/stream.c `pg_interface_add_or_get`): an
    /// existing `pgN` is returned as it is; a new one has a random `02:fe` MAC, MTU 9000, is
    /// down. `id` `~0` names it `pg-1`, as a stream without `source` does.
    pub fn create_pg(&mut self, id: u32) -> u32 {
        if let Some(i) = self.ifaces().find(|i| i.kind == IfKind::Pg { id }) {
            return i.sw_if_index;
        }
        let sw = self.alloc_sw_if_index();
        let mac = self.random_mac();
        self.add_iface(Iface {
            sw_if_index: sw,
            name: format!("pg{}", id as i32),
            dev_type: "pg",
            kind: IfKind::Pg { id },
            mac,
            admin_up: false,
            link_mtu: 9000,
            mtu: [9000, 0, 0, 0],
            tag: String::new(),
            v4: vec![],
            v6: vec![],
            ll: None,
            l2: None,
        });
        sw
    }

    /// `ethernet_mac_address_generate`: `02:fe` and four random bytes.
    pub(super) fn random_mac(&mut self) -> [u8; 6] {
        self.mac_seq = self
            .mac_seq
            .wrapping_mul(1_103_515_245)
            .wrapping_add(12345 + self.start.elapsed().subsec_nanos());
        let s = self.mac_seq.to_be_bytes();
        [0x02, 0xfe, s[0], s[1], s[2], s[3]]
    }

    fn set_mac(&mut self, sw: u32, mac: [u8; 6]) -> i32 {
        let Some(i) = self.iface_mut(sw) else {
            return INVALID_SW_IF_INDEX;
        };
        let old = std::mem::replace(&mut i.mac, mac);
        // The BVI's l2fib entry follows the interface MAC; the link-local is not
        // regenerated (the evpn_bind_release recording).
        self.bvi_mac_change(sw, old, mac);
        0
    }

    fn want_interface_events(&mut self, call: &Call, enable: bool, pid: u32) -> i32 {
        let pos = self
            .if_events
            .iter()
            .position(|e| e.client_index == call.client_index);
        match (enable, pos) {
            (true, Some(_)) | (false, None) => INVALID_REGISTRATION,
            (true, None) => {
                self.if_events.push(EventReg {
                    client_index: call.client_index,
                    pid,
                    reg: call.reg,
                });
                0
            }
            (false, Some(p)) => {
                self.if_events.remove(p);
                0
            }
        }
    }
}
