//! The stateful models: interfaces, addresses, L2, VXLAN, LB, interface events, CLI.
//!
//! Every handler reads the request at its wire offsets (see `vpp-wire.md` section 7 and the
//! `.api.json` layouts in `data/catalog-26.06.tsv`) and writes replies with the retvals a real
//! VPP 26.06 gives (`../shared/vpp-traces/26.06`). Handlers never reply for requests they do
//! not model: the caller then sends `VNET_API_ERROR_UNIMPLEMENTED`.

use std::time::Instant;

use crate::catalog::Catalog;
use crate::lb::Lb;
use crate::wire::{Body, FrameWriter};

/// `VNET_API_ERROR_*` values used by the models (`src/vnet/error.h`).
pub mod err {
    pub const INVALID_SW_IF_INDEX: i32 = -2;
    pub const NO_SUCH_FIB: i32 = -3;
    pub const NO_SUCH_ENTRY: i32 = -6;
    pub const INVALID_VALUE: i32 = -7;
    pub const UNIMPLEMENTED: i32 = -9;
    pub const INVALID_REGISTRATION: i32 = -31;
    pub const ADDRESS_NOT_FOUND_FOR_INTERFACE: i32 = -60;
    pub const IP6_NOT_ENABLED: i32 = -62;
    pub const INVALID_MEMORY_SIZE: i32 = -70;
    pub const INVALID_INTERFACE: i32 = -71;
    pub const TUNNEL_EXIST: i32 = -75;
    pub const VALUE_EXIST: i32 = -81;
    pub const SAME_SRC_DST: i32 = -82;
    pub const INVALID_ADDRESS_FAMILY: i32 = -97;
    pub const ADDRESS_IN_USE: i32 = -105;
    pub const BD_ALREADY_EXISTS: i32 = -119;
    pub const BD_IN_USE: i32 = -120;
    pub const BD_NOT_MODIFIABLE: i32 = -121;
    pub const BD_ID_EXCEED_MAX: i32 = -122;
    pub const INSTANCE_IN_USE: i32 = -147;
    pub const BD_ALREADY_HAS_BVI: i32 = -152;
}

/// Where replies go: the frames for the connection that sent the batch, and frames for other
/// registrations (replies addressed by another client's `client_index`, events).
#[derive(Debug, Default)]
pub struct Outbox {
    pub own_reg: u32,
    pub own: Vec<u8>,
    pub others: Vec<(u32, Vec<u8>)>,
}

impl Outbox {
    pub fn buf(&mut self, reg: u32) -> &mut Vec<u8> {
        if reg == self.own_reg {
            return &mut self.own;
        }
        let i = match self.others.iter().position(|(r, _)| *r == reg) {
            Some(i) => i,
            None => {
                self.others.push((reg, Vec::new()));
                self.others.len() - 1
            }
        };
        &mut self.others[i].1
    }
}

/// One request being handled.
pub struct Req<'a> {
    pub body: Body<'a>,
    /// Raw context bytes (echoed verbatim).
    pub ctx: [u8; 4],
    /// Registration the replies go to (named by `client_index`).
    pub reg: u32,
    /// Raw `client_index` bytes.
    pub client_index: [u8; 4],
    /// Reply message ID (0: none).
    pub reply_id: u16,
    /// Details message ID of dumps / cursor services (0: none).
    pub details_id: u16,
}

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
}

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
    fn new(bd_id: u32) -> Self {
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

#[derive(Debug, Clone)]
pub struct VxlanTunnel {
    pub sw_if_index: u32,
    pub instance: u32,
    pub src: [u8; 17],
    pub dst: [u8; 17],
    pub src_port: u16,
    pub dst_port: u16,
    pub mcast_sw_if_index: u32,
    pub encap_vrf_id: u32,
    pub decap_next_index: u32,
    pub vni: u32,
    pub is_l3: bool,
}

#[derive(Debug, Clone)]
struct EventReg {
    client_index: [u8; 4],
    pid: [u8; 4],
    reg: u32,
}

/// IDs of messages the models send on their own.
#[derive(Debug, Clone, Copy)]
struct Ids {
    sw_interface_event: u16,
}

/// All modelled state of one simulated VPP.
#[derive(Debug)]
pub struct Model {
    pub ifs: Vec<Option<Iface>>,
    if_free: Vec<u32>,
    pub bds: Vec<BridgeDomain>,
    pub l2fib: Vec<L2FibEntry>,
    pub vxlan: Vec<VxlanTunnel>,
    pub lb: Lb,
    if_events: Vec<EventReg>,
    ids: Ids,
    start: Instant,
    mac_seq: u32,
    /// Set when interfaces were created, deleted or renamed (the stats mirror follows).
    pub ifs_changed: bool,
}

impl Model {
    pub fn new(cat: &Catalog) -> Self {
        let local0 = Iface {
            sw_if_index: 0,
            name: "local0".into(),
            dev_type: "local",
            kind: IfKind::Local,
            mac: [0; 6],
            admin_up: false,
            link_mtu: 0,
            mtu: [0; 4],
            tag: String::new(),
            v4: vec![],
            v6: vec![],
            ll: None,
            l2: None,
        };
        Model {
            ifs: vec![Some(local0)],
            if_free: Vec::new(),
            // BD 0 (the default) always exists and is never dumped.
            bds: vec![BridgeDomain::new(0)],
            l2fib: Vec::new(),
            vxlan: Vec::new(),
            lb: Lb::default(),
            if_events: Vec::new(),
            ids: Ids {
                sw_interface_event: cat.id("sw_interface_event").unwrap_or(0),
            },
            start: Instant::now(),
            mac_seq: 0,
            ifs_changed: true,
        }
    }

    pub fn iface(&self, sw: u32) -> Option<&Iface> {
        self.ifs.get(sw as usize)?.as_ref()
    }
    fn iface_mut(&mut self, sw: u32) -> Option<&mut Iface> {
        self.ifs.get_mut(sw as usize)?.as_mut()
    }
    pub fn ifaces(&self) -> impl Iterator<Item = &Iface> {
        self.ifs.iter().flatten()
    }
    fn secs(&self) -> u32 {
        self.start.elapsed().as_secs() as u32
    }

    /// A registration went away: its event subscriptions go too (VPP's reaper).
    pub fn client_gone(&mut self, reg: u32) {
        self.if_events.retain(|e| e.reg != reg);
    }

    /// Handles `name`; `false` if the request is not modelled.
    pub fn handle(&mut self, name: &str, r: &Req, out: &mut Outbox) -> bool {
        match name {
            "create_loopback" => self.create_loopback(r, out, false),
            "create_loopback_instance" => self.create_loopback(r, out, true),
            "delete_loopback" => self.delete_loopback(r, out),
            "sw_interface_set_flags" => self.set_flags(r, out),
            "sw_interface_set_mac_address" => self.set_mac(r, out),
            "sw_interface_get_mac_address" => self.get_mac(r, out),
            "sw_interface_set_mtu" => self.set_mtu(r, out),
            "hw_interface_set_mtu" => self.hw_set_mtu(r, out),
            "sw_interface_tag_add_del" => self.tag(r, out),
            "sw_interface_dump" => self.sw_interface_dump(r, out),
            "want_interface_events" => self.want_interface_events(r, out),
            "sw_interface_tx_placement_get" => {
                // No interface of the simulator has tx queues: VPP then answers NO_SUCH_ENTRY
                // with an unset (zero) cursor and no details.
                reply(out, r).i32(err::NO_SUCH_ENTRY).u32(0);
            }
            "sw_interface_add_del_address" => self.add_del_address(r, out),
            "ip_address_dump" => self.ip_address_dump(r, out),
            "sw_interface_ip6_set_link_local_address" => self.set_ll(r, out),
            "sw_interface_ip6_get_link_local_address" => self.get_ll(r, out),
            "sw_interface_ip6_enable_disable" => self.ip6_enable(r, out),
            "bridge_domain_add_del" => self.bd_add_del(r, out, false),
            "bridge_domain_add_del_v2" => self.bd_add_del(r, out, true),
            "bridge_flags" => self.bridge_flags(r, out),
            "bridge_domain_set_mac_age" => self.bd_mac_age(r, out),
            "sw_interface_set_l2_bridge" => self.set_l2_bridge(r, out),
            "bridge_domain_dump" => self.bd_dump(r, out),
            "l2fib_add_del" => self.l2fib_add_del(r, out),
            "l2_fib_table_dump" => self.l2fib_dump(r, out),
            "vxlan_add_del_tunnel_v3" => self.vxlan_add_del(r, out),
            "vxlan_tunnel_v2_dump" => self.vxlan_dump(r, out),
            "cli_inband" => self.cli(r, out),
            "lb_add_del_intf_nat4" | "lb_add_del_intf_nat6" => {
                let sw = r.body.u32(11);
                let rv = if self.iface(sw).is_some() {
                    0
                } else {
                    err::INVALID_SW_IF_INDEX
                };
                rv_reply(out, r, rv);
            }
            _ => {
                let now = self.secs();
                return self.lb.handle(name, r, out, now);
            }
        }
        true
    }

    // ----- interfaces -------------------------------------------------------------------

    fn alloc_sw_if_index(&mut self) -> u32 {
        // VPP's pools reuse the most recently freed index first.
        match self.if_free.pop() {
            Some(i) => i,
            None => {
                self.ifs.push(None);
                (self.ifs.len() - 1) as u32
            }
        }
    }

    fn create_loopback(&mut self, r: &Req, out: &mut Outbox, with_instance: bool) {
        let b = r.body;
        let mac: [u8; 6] = b.arr(10).unwrap_or_default();
        let used: Vec<u32> = self
            .ifaces()
            .filter_map(|i| match i.kind {
                IfKind::Loopback { instance } => Some(instance),
                _ => None,
            })
            .collect();
        let instance = if with_instance && b.bool(16) {
            let want = b.u32(17);
            if used.contains(&want) {
                reply(out, r).i32(err::INVALID_REGISTRATION).u32(u32::MAX);
                return;
            }
            want
        } else {
            (0..).find(|i| !used.contains(i)).unwrap_or(0)
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
        reply(out, r).i32(0).u32(sw);
    }

    fn delete_loopback(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        match self.iface(sw) {
            Some(i) if matches!(i.kind, IfKind::Loopback { .. }) => {
                rv_reply(out, r, 0);
                self.delete_iface(sw, out);
            }
            _ => rv_reply(out, r, err::INVALID_SW_IF_INDEX),
        }
    }

    fn delete_iface(&mut self, sw: u32, out: &mut Outbox) {
        self.l2_detach(sw);
        self.l2fib.retain(|e| e.sw_if_index != sw);
        self.ifs[sw as usize] = None;
        self.if_free.push(sw);
        self.ifs_changed = true;
        self.send_if_event(out, sw, 0, true);
    }

    fn send_if_event(&self, out: &mut Outbox, sw: u32, flags: u32, deleted: bool) {
        for e in &self.if_events {
            let mut w = FrameWriter::new(out.buf(e.reg), self.ids.sw_interface_event);
            w.bytes(&e.client_index)
                .bytes(&e.pid)
                .u32(sw)
                .u32(flags)
                .u8(deleted as u8);
        }
    }

    fn set_flags(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        let up = r.body.u32(14) & 1 != 0;
        let Some(i) = self.iface_mut(sw) else {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        };
        let changed = i.admin_up != up;
        i.admin_up = up;
        let flags = i.flags();
        rv_reply(out, r, 0);
        if changed {
            self.send_if_event(out, sw, flags, false);
        }
    }

    fn set_mac(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        let mac: [u8; 6] = r.body.arr(14).unwrap_or_default();
        let Some(i) = self.iface_mut(sw) else {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        };
        i.mac = mac;
        // The BVI's l2fib entry follows the interface MAC.
        for e in self.l2fib.iter_mut() {
            if e.bvi_mac && e.sw_if_index == sw {
                e.mac = mac;
            }
        }
        rv_reply(out, r, 0);
    }

    fn get_mac(&mut self, r: &Req, out: &mut Outbox) {
        match self.iface(r.body.u32(10)) {
            Some(i) => {
                let mac = i.mac;
                reply(out, r).i32(0).bytes(&mac);
            }
            None => {
                reply(out, r).i32(err::INVALID_SW_IF_INDEX).zeros(6);
            }
        }
    }

    fn set_mtu(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        let mtu = [0, 1, 2, 3].map(|k| r.body.u32(14 + 4 * k));
        let Some(i) = self.iface_mut(sw) else {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        };
        if mtu.iter().any(|&m| m > u32::from(i.link_mtu.max(9000))) {
            return rv_reply(out, r, err::INVALID_VALUE);
        }
        i.mtu = mtu;
        rv_reply(out, r, 0);
    }

    fn hw_set_mtu(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        let mtu = r.body.u16(14);
        let Some(i) = self.iface_mut(sw) else {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        };
        i.link_mtu = mtu;
        rv_reply(out, r, 0);
    }

    fn tag(&mut self, r: &Req, out: &mut Outbox) {
        let is_add = r.body.bool(10);
        let sw = r.body.u32(11);
        let tag = r.body.fixed_str(15, 64);
        let Some(i) = self.iface_mut(sw) else {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        };
        i.tag = if is_add { tag } else { String::new() };
        rv_reply(out, r, 0);
    }

    fn sw_interface_dump(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        let filter_valid = r.body.bool(14);
        let Some(filter) = r.body.var_str(15) else {
            return;
        };
        let buf = out.buf(r.reg);
        if !filter_valid && sw != u32::MAX && sw != 0 {
            if let Some(i) = self.iface(sw) {
                write_iface_details(buf, r, i);
            }
            return;
        }
        let filter = filter.to_lowercase();
        for i in self.ifaces() {
            if filter_valid && !i.name.to_lowercase().contains(&filter) {
                continue;
            }
            write_iface_details(buf, r, i);
        }
    }

    fn want_interface_events(&mut self, r: &Req, out: &mut Outbox) {
        let enable = r.body.u32(10) != 0;
        let pid: [u8; 4] = r.body.arr(14).unwrap_or_default();
        let pos = self
            .if_events
            .iter()
            .position(|e| e.client_index == r.client_index);
        let rv = match (enable, pos) {
            (true, Some(_)) | (false, None) => err::INVALID_REGISTRATION,
            (true, None) => {
                self.if_events.push(EventReg {
                    client_index: r.client_index,
                    pid,
                    reg: r.reg,
                });
                0
            }
            (false, Some(p)) => {
                self.if_events.remove(p);
                0
            }
        };
        rv_reply(out, r, rv);
    }

    // ----- addresses --------------------------------------------------------------------

    fn add_del_address(&mut self, r: &Req, out: &mut Outbox) {
        let b = r.body;
        let sw = b.u32(10);
        let (is_add, del_all, af, len) = (b.bool(14), b.bool(15), b.u8(16), b.u8(33));
        if self.iface(sw).is_none() {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        }
        if del_all {
            let i = self.iface_mut(sw).expect("checked");
            i.v4.clear();
            i.v6.clear();
            return rv_reply(out, r, 0);
        }
        let rv = if af == 0 {
            let a: [u8; 4] = b.arr(17).unwrap_or_default();
            self.addr_op(sw, is_add, a, len, 32, |i| &mut i.v4)
        } else {
            let a: [u8; 16] = b.arr(17).unwrap_or_default();
            let rv = self.addr_op(sw, is_add, a, len, 128, |i| &mut i.v6);
            if rv == 0 && is_add {
                self.enable_ip6(sw);
            }
            rv
        };
        rv_reply(out, r, rv);
    }

    /// Adds or deletes one address with VPP's conflict rule: a new prefix may not overlap any
    /// existing one on any interface, except another address of the same prefix length on the
    /// same interface.
    fn addr_op<const N: usize>(
        &mut self,
        sw: u32,
        is_add: bool,
        a: [u8; N],
        len: u8,
        max: u8,
        list: impl Fn(&mut Iface) -> &mut Vec<([u8; N], u8)>,
    ) -> i32 {
        if len > max {
            return err::INVALID_VALUE;
        }
        if !is_add {
            let l = list(self.iface_mut(sw).expect("checked"));
            return match l.iter().position(|(x, l2)| *x == a && *l2 == len) {
                Some(p) => {
                    l.remove(p);
                    0
                }
                None => err::ADDRESS_NOT_FOUND_FOR_INTERFACE,
            };
        }
        for i in self.ifs.iter_mut().flatten() {
            let isw = i.sw_if_index;
            for (x, l) in list(i).iter() {
                let shorter = (*l).min(len);
                let (mut p, mut q) = (*x, a);
                crate::wire::mask_prefix(&mut p, shorter);
                crate::wire::mask_prefix(&mut q, shorter);
                if p == q {
                    if isw == sw && *l == len && *x != a {
                        continue;
                    }
                    return err::ADDRESS_IN_USE;
                }
            }
        }
        list(self.iface_mut(sw).expect("checked")).push((a, len));
        0
    }

    fn enable_ip6(&mut self, sw: u32) {
        if let Some(i) = self.iface_mut(sw) {
            if i.ll.is_none() {
                let m = i.mac;
                i.ll = Some([
                    0xfe,
                    0x80,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    m[0] ^ 2,
                    m[1],
                    m[2],
                    0xff,
                    0xfe,
                    m[3],
                    m[4],
                    m[5],
                ]);
            }
        }
    }

    fn ip_address_dump(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        let v6 = r.body.bool(14);
        let Some(i) = self.iface(sw) else { return };
        let buf = out.buf(r.reg);
        let id = r.details_id;
        if v6 {
            for (a, l) in &i.v6 {
                let mut w = FrameWriter::new(buf, id);
                w.bytes(&r.ctx).u32(sw).u8(1).bytes(a).u8(*l);
            }
        } else {
            for (a, l) in &i.v4 {
                let mut w = FrameWriter::new(buf, id);
                w.bytes(&r.ctx).u32(sw).u8(0).bytes(a).zeros(12).u8(*l);
            }
        }
    }

    fn set_ll(&mut self, r: &Req, out: &mut Outbox) {
        let ip: [u8; 16] = r.body.arr(14).unwrap_or_default();
        let Some(i) = self.iface_mut(r.body.u32(10)) else {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        };
        i.ll = Some(ip);
        rv_reply(out, r, 0);
    }

    fn get_ll(&mut self, r: &Req, out: &mut Outbox) {
        match self.iface(r.body.u32(10)) {
            None => {
                reply(out, r).i32(err::INVALID_SW_IF_INDEX).zeros(16);
            }
            Some(Iface { ll: None, .. }) => {
                reply(out, r).i32(err::IP6_NOT_ENABLED).zeros(16);
            }
            Some(Iface { ll: Some(ll), .. }) => {
                let ll = *ll;
                reply(out, r).i32(0).bytes(&ll);
            }
        }
    }

    fn ip6_enable(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        if self.iface(sw).is_none() {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        }
        if r.body.bool(14) {
            self.enable_ip6(sw);
        } else if let Some(i) = self.iface_mut(sw) {
            i.ll = None;
        }
        rv_reply(out, r, 0);
    }

    // ----- L2 ---------------------------------------------------------------------------

    fn bd(&self, bd_id: u32) -> Option<&BridgeDomain> {
        self.bds.iter().find(|b| b.bd_id == bd_id)
    }
    fn bd_mut(&mut self, bd_id: u32) -> Option<&mut BridgeDomain> {
        self.bds.iter_mut().find(|b| b.bd_id == bd_id)
    }

    fn bd_add_del(&mut self, r: &Req, out: &mut Outbox, v2: bool) {
        let b = r.body;
        let mut bd_id = b.u32(10);
        let is_add = b.bool(85);
        let rv = 'rv: {
            if is_add {
                if bd_id == u32::MAX && v2 {
                    bd_id = (1..).find(|i| self.bd(*i).is_none()).unwrap_or(1);
                }
                if bd_id == 0 {
                    break 'rv err::BD_NOT_MODIFIABLE;
                }
                if bd_id > 0xff_ffff {
                    break 'rv err::BD_ID_EXCEED_MAX;
                }
                if self.bd(bd_id).is_some() {
                    break 'rv err::BD_ALREADY_EXISTS;
                }
                let mut bd = BridgeDomain::new(bd_id);
                let flags = [(14, 4), (15, 8), (16, 2), (17, 1), (18, 16), (19, 32)];
                for (off, f) in flags {
                    bd.set_flags(f, b.bool(off));
                }
                bd.mac_age = b.u8(20);
                bd.tag = b.fixed_str(21, 64);
                self.bds.push(bd);
                0
            } else {
                if bd_id == 0 {
                    break 'rv err::BD_NOT_MODIFIABLE;
                }
                match self.bds.iter().position(|x| x.bd_id == bd_id) {
                    None => err::NO_SUCH_ENTRY,
                    Some(p) if !self.bds[p].members.is_empty() => err::BD_IN_USE,
                    Some(p) => {
                        self.bds.remove(p);
                        self.l2fib.retain(|e| e.bd_id != bd_id);
                        0
                    }
                }
            }
        };
        if v2 {
            reply(out, r).i32(rv).u32(bd_id);
        } else {
            rv_reply(out, r, rv);
        }
    }

    fn bridge_flags(&mut self, r: &Req, out: &mut Outbox) {
        let (bd_id, is_set, flags) = (r.body.u32(10), r.body.bool(14), r.body.u32(15));
        let (rv, bitmap) = match self.bd_mut(bd_id) {
            _ if bd_id == 0 => (err::BD_NOT_MODIFIABLE, 0),
            None => (err::NO_SUCH_ENTRY, 0),
            Some(bd) => {
                bd.set_flags(flags, is_set);
                (0, bd.features)
            }
        };
        reply(out, r).i32(rv).u32(bitmap);
    }

    fn bd_mac_age(&mut self, r: &Req, out: &mut Outbox) {
        let (bd_id, age) = (r.body.u32(10), r.body.u8(14));
        let rv = match self.bd_mut(bd_id) {
            Some(bd) => {
                bd.mac_age = age;
                0
            }
            None => err::NO_SUCH_ENTRY,
        };
        rv_reply(out, r, rv);
    }

    /// Takes `sw` out of its bridge domain (and its BVI entry out of the l2fib).
    fn l2_detach(&mut self, sw: u32) {
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

    fn set_l2_bridge(&mut self, r: &Req, out: &mut Outbox) {
        let b = r.body;
        let (sw, bd_id, port_type, shg, enable) =
            (b.u32(10), b.u32(14), b.u32(18), b.u8(22), b.bool(23));
        if self.iface(sw).is_none() {
            return rv_reply(out, r, err::INVALID_SW_IF_INDEX);
        }
        if !enable {
            self.l2_detach(sw);
            return rv_reply(out, r, 0);
        }
        if bd_id > 0xff_ffff {
            return rv_reply(out, r, err::BD_ID_EXCEED_MAX);
        }
        // bd_find_or_add_bd_index: a missing bridge domain is created with default flags.
        if self.bd(bd_id).is_none() {
            self.bds.push(BridgeDomain::new(bd_id));
        }
        let is_bvi = port_type == 1;
        if is_bvi {
            if let Some(other) = self.bd(bd_id).and_then(|bd| bd.bvi) {
                if other != sw {
                    return rv_reply(out, r, err::BD_ALREADY_HAS_BVI);
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
        rv_reply(out, r, 0);
    }

    fn bd_dump(&mut self, r: &Req, out: &mut Outbox) {
        let (bd_id, sw) = (r.body.u32(10), r.body.u32(14));
        let buf = out.buf(r.reg);
        for bd in self.bds.iter().skip(1) {
            if bd_id != u32::MAX && bd.bd_id != bd_id {
                continue;
            }
            if sw != u32::MAX && !bd.members.iter().any(|(m, _)| *m == sw) {
                continue;
            }
            let f = |bit: u32| (bd.features & bit != 0) as u8;
            let mut w = FrameWriter::new(buf, r.details_id);
            w.bytes(&r.ctx)
                .u32(bd.bd_id)
                .u8(f(feat::FLOOD))
                .u8(f(feat::UU_FLOOD))
                .u8(f(feat::FWD))
                .u8(f(feat::LEARN))
                .u8(f(feat::ARP_TERM))
                .u8(f(feat::ARP_UFWD))
                .u8(bd.mac_age)
                .fixed_str(&bd.tag, 64)
                .u32(bd.bvi.unwrap_or(u32::MAX))
                .u32(u32::MAX)
                .u32(bd.members.len() as u32);
            for (m, shg) in &bd.members {
                w.u32(0).u32(*m).u8(*shg);
            }
        }
    }

    fn l2fib_add_del(&mut self, r: &Req, out: &mut Outbox) {
        let b = r.body;
        let mac: [u8; 6] = b.arr(10).unwrap_or_default();
        let (bd_id, sw, is_add) = (b.u32(16), b.u32(20), b.bool(24));
        let (static_mac, filter_mac, bvi_mac) = (b.bool(25), b.bool(26), b.bool(27));
        let rv = 'rv: {
            if self.bd(bd_id).is_none() {
                break 'rv err::NO_SUCH_ENTRY;
            }
            let pos = self
                .l2fib
                .iter()
                .position(|e| e.mac == mac && e.bd_id == bd_id);
            if !is_add {
                match pos {
                    Some(p) => {
                        self.l2fib.remove(p);
                        break 'rv 0;
                    }
                    None => break 'rv err::NO_SUCH_ENTRY,
                }
            }
            if !filter_mac {
                match self.iface(sw) {
                    None => break 'rv err::INVALID_SW_IF_INDEX,
                    Some(i) if i.l2.map(|l| l.0) != Some(bd_id) => {
                        break 'rv err::INVALID_INTERFACE
                    }
                    _ => {}
                }
            }
            let e = L2FibEntry {
                mac,
                bd_id,
                sw_if_index: if filter_mac { u32::MAX } else { sw },
                static_mac,
                filter_mac,
                bvi_mac,
            };
            match pos {
                Some(p) => self.l2fib[p] = e,
                None => self.l2fib.push(e),
            }
            0
        };
        rv_reply(out, r, rv);
    }

    fn l2fib_dump(&mut self, r: &Req, out: &mut Outbox) {
        let bd_id = r.body.u32(10);
        if bd_id != u32::MAX && self.bd(bd_id).is_none() {
            return;
        }
        let buf = out.buf(r.reg);
        // VPP walks its bihash; the simulator lists learned/static entries first, BVI entries
        // last (the order the recordings show).
        let mut entries: Vec<&L2FibEntry> = self
            .l2fib
            .iter()
            .filter(|e| bd_id == u32::MAX || e.bd_id == bd_id)
            .collect();
        entries.sort_by_key(|e| e.bvi_mac);
        for e in entries {
            let mut w = FrameWriter::new(buf, r.details_id);
            w.bytes(&r.ctx)
                .u32(e.bd_id)
                .bytes(&e.mac)
                .u32(e.sw_if_index)
                .u8(e.static_mac as u8)
                .u8(e.filter_mac as u8)
                .u8(e.bvi_mac as u8);
        }
    }

    // ----- VXLAN ------------------------------------------------------------------------

    fn vxlan_add_del(&mut self, r: &Req, out: &mut Outbox) {
        let b = r.body;
        let is_add = b.bool(10);
        let instance = b.u32(11);
        let src: [u8; 17] = b.arr(15).unwrap_or([0; 17]);
        let dst: [u8; 17] = b.arr(32).unwrap_or([0; 17]);
        let sport = b.u16(49);
        let dport = b.u16(51);
        let t = VxlanTunnel {
            sw_if_index: u32::MAX,
            instance,
            src,
            dst,
            src_port: if sport == 0 { 4789 } else { sport },
            dst_port: if dport == 0 { 4789 } else { dport },
            mcast_sw_if_index: b.u32(53),
            encap_vrf_id: b.u32(57),
            decap_next_index: match b.u32(61) {
                u32::MAX => 1, // VXLAN_INPUT_NEXT_L2_INPUT
                n => n,
            },
            vni: b.u32(65),
            is_l3: b.bool(69),
        };
        let (rv, sw) = 'rv: {
            if src[0] != dst[0] {
                break 'rv (err::INVALID_VALUE, u32::MAX);
            }
            if src == dst {
                break 'rv (err::SAME_SRC_DST, u32::MAX);
            }
            if t.encap_vrf_id != 0 {
                break 'rv (err::NO_SUCH_FIB, u32::MAX);
            }
            let key =
                |x: &VxlanTunnel| (x.src, x.dst, x.vni, x.src_port, x.dst_port, x.encap_vrf_id);
            let pos = self.vxlan.iter().position(|x| key(x) == key(&t));
            if !is_add {
                let Some(p) = pos else {
                    break 'rv (err::NO_SUCH_ENTRY, u32::MAX);
                };
                let sw = self.vxlan.remove(p).sw_if_index;
                reply(out, r).i32(0).u32(sw);
                self.delete_iface(sw, out);
                return;
            }
            if pos.is_some() {
                break 'rv (err::TUNNEL_EXIST, u32::MAX);
            }
            let used: Vec<u32> = self.vxlan.iter().map(|x| x.instance).collect();
            let inst = if instance == u32::MAX {
                (0..).find(|i| !used.contains(i)).unwrap_or(0)
            } else if used.contains(&instance) {
                break 'rv (err::INSTANCE_IN_USE, u32::MAX);
            } else {
                instance
            };
            let sw = self.alloc_sw_if_index();
            self.mac_seq = self.mac_seq.wrapping_add(1);
            let s = self.mac_seq.to_be_bytes();
            self.ifs[sw as usize] = Some(Iface {
                sw_if_index: sw,
                name: format!("vxlan_tunnel{inst}"),
                dev_type: "VXLAN",
                kind: IfKind::Vxlan,
                mac: [0x02, 0xfe, s[0], s[1], s[2], s[3]],
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
            self.vxlan.push(VxlanTunnel {
                sw_if_index: sw,
                instance: inst,
                ..t.clone()
            });
            (0, sw)
        };
        reply(out, r).i32(rv).u32(sw);
    }

    fn vxlan_dump(&mut self, r: &Req, out: &mut Outbox) {
        let sw = r.body.u32(10);
        let buf = out.buf(r.reg);
        for t in &self.vxlan {
            if sw != u32::MAX && t.sw_if_index != sw {
                continue;
            }
            let mut w = FrameWriter::new(buf, r.details_id);
            w.bytes(&r.ctx)
                .u32(t.sw_if_index)
                .u32(t.instance)
                .bytes(&t.src)
                .bytes(&t.dst)
                .u16(t.src_port)
                .u16(t.dst_port)
                .u32(t.mcast_sw_if_index)
                .u32(t.encap_vrf_id)
                .u32(t.decap_next_index)
                .u32(t.vni);
        }
    }

    // ----- CLI --------------------------------------------------------------------------

    fn cli(&mut self, r: &Req, out: &mut Outbox) {
        let Some(cmd) = r.body.var_str(10) else {
            return;
        };
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let (rv, text) = match words.as_slice() {
            ["show", "interface"] | ["sh", "int"] | ["show", "int"] => (0, self.show_interface()),
            ["show", "lb", "vips"] => (0, self.lb.show_vips(false)),
            ["show", "lb", "vips", "verbose"] => (0, self.lb.show_vips(true)),
            ["show", "version"] => (0, "vpp v26.06-release built by vpp-sim\n".to_string()),
            _ => (
                err::UNIMPLEMENTED,
                format!("vpp-sim: CLI command not modelled: `{cmd}'\n"),
            ),
        };
        reply(out, r).i32(rv).var_str(&text);
    }

    fn show_interface(&self) -> String {
        let mut s = format!(
            "{}{}{}{}{}{}\n",
            center("Name", 32),
            center("Idx", 5),
            center("State", 10),
            center("MTU (L3/IP4/IP6/MPLS)", 21),
            center("Counter", 16),
            center("Count", 16)
        );
        for i in self.ifaces() {
            let m = i.mtu;
            s.push_str(&format!(
                "{:<32}{}{}{}\n",
                i.name,
                center(&i.sw_if_index.to_string(), 5),
                center(if i.admin_up { "up" } else { "down" }, 10),
                center(&format!("{}/{}/{}/{}", m[0], m[1], m[2], m[3]), 21)
            ));
        }
        s
    }
}

/// vppinfra's `%=Ns`: centred, an odd extra space on the left.
pub fn center(s: &str, w: usize) -> String {
    let pad = w.saturating_sub(s.len());
    format!("{}{}{}", " ".repeat(pad - pad / 2), s, " ".repeat(pad / 2))
}

fn write_iface_details(buf: &mut Vec<u8>, r: &Req, i: &Iface) {
    let mut w = FrameWriter::new(buf, r.details_id);
    w.bytes(&r.ctx)
        .u32(i.sw_if_index)
        .u32(i.sw_if_index)
        .bytes(&i.mac)
        .u32(i.flags())
        .u32(0) // IF_API_TYPE_HARDWARE
        .u32(0)
        .u32(0)
        .u16(i.link_mtu);
    for m in i.mtu {
        w.u32(m);
    }
    w.zeros(4 + 1 + 2 + 2 + 4 + 4 + 4 + 4 + 4 + 2 + 6 + 6 + 2 + 4)
        .fixed_str(&i.name, 64)
        .fixed_str(i.dev_type, 64)
        .fixed_str(&i.tag, 64);
}

/// Starts the request's reply: `_vl_msg_id`, context.
pub fn reply<'a>(out: &'a mut Outbox, r: &Req) -> FrameWriter<'a> {
    let mut w = FrameWriter::new(out.buf(r.reg), r.reply_id);
    w.bytes(&r.ctx);
    w
}

/// A `{context, retval}` reply.
pub fn rv_reply(out: &mut Outbox, r: &Req, rv: i32) {
    reply(out, r).i32(rv);
}
