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
    Loopback { instance: u32 },
    Vxlan,
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
pub(super) struct EventReg {
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
    h.on::<DeleteLoopback, _>(|m, call, req| {
        let sw = req.sw_if_index.0;
        let retval = match m.iface(sw) {
            Some(i) if matches!(i.kind, IfKind::Loopback { .. }) => {
                m.delete_iface(sw, call);
                0
            }
            _ => INVALID_SW_IF_INDEX,
        };
        DeleteLoopbackReply { retval }
    });
    h.on::<SwInterfaceSetFlags, _>(|m, call, req| SwInterfaceSetFlagsReply {
        retval: m.set_flags(call, req.sw_if_index.0, req.flags.0 & 1 != 0),
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
        self.ifs[sw as usize] = Some(Iface {
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
        self.ifs_changed = true;
        (0, sw)
    }

    /// Deletes interface `sw` (its L2 state with it); subscribers get the deletion event
    /// after the reply.
    pub(super) fn delete_iface(&mut self, sw: u32, call: &mut Call) {
        self.l2_detach(sw);
        self.l2fib.retain(|e| e.sw_if_index != sw);
        self.ifs[sw as usize] = None;
        self.if_free.push(sw);
        self.ifs_changed = true;
        self.send_if_event(call, sw, 0, true);
    }

    fn send_if_event(&self, call: &mut Call, sw: u32, flags: u32, deleted: bool) {
        for e in &self.if_events {
            let ev = SwInterfaceEvent {
                pid: e.pid,
                sw_if_index: InterfaceIndex(sw),
                flags: IfStatusFlags(flags),
                deleted,
            };
            call.event(e.reg, e.client_index, &ev);
        }
    }

    fn set_flags(&mut self, call: &mut Call, sw: u32, up: bool) -> i32 {
        let Some(i) = self.iface_mut(sw) else {
            return INVALID_SW_IF_INDEX;
        };
        let changed = i.admin_up != up;
        i.admin_up = up;
        let flags = i.flags();
        if changed {
            self.send_if_event(call, sw, flags, false);
        }
        0
    }

    fn set_mac(&mut self, sw: u32, mac: [u8; 6]) -> i32 {
        let Some(i) = self.iface_mut(sw) else {
            return INVALID_SW_IF_INDEX;
        };
        i.mac = mac;
        // The BVI's l2fib entry follows the interface MAC.
        for e in self.l2fib.iter_mut() {
            if e.bvi_mac && e.sw_if_index == sw {
                e.mac = mac;
            }
        }
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
