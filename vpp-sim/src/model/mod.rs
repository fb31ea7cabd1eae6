//! The stateful models, one file per object: [`interfaces`] (and interface events),
//! [`addresses`], [`l2`] bridge domains and FIB, [`vxlan`] tunnels, the [`lb`] plugin and the
//! [`cli`]. This file holds the shared state ([`Model`]) and the helpers they share.
//!
//! Every handler is registered by message type (`register` in each file) and written against
//! the generated structs of `vppapi-binapi`; it answers with the retvals a real VPP 26.06 gives
//! (`../shared/vpp-traces/26.06`, errors from `vppapi_codec::api_errno`). Requests no file
//! registers are answered `VNET_API_ERROR_UNIMPLEMENTED` by the server.

pub mod addresses;
pub mod cli;
pub mod interfaces;
pub mod l2;
pub mod lb;
pub mod vxlan;

use std::time::Instant;

pub use interfaces::{IfKind, Iface};
pub use l2::{BridgeDomain, L2FibEntry};
pub use lb::Lb;
pub use vxlan::VxlanTunnel;

use crate::handlers::Handlers;
use interfaces::EventReg;

/// All modelled state of one simulated VPP.
#[derive(Debug)]
pub struct Model {
    /// Interfaces by sw_if_index (a pool: `None` slots are free).
    pub ifs: Vec<Option<Iface>>,
    if_free: Vec<u32>,
    /// Bridge domains; BD 0 (the default) always exists and is never dumped.
    pub bds: Vec<BridgeDomain>,
    pub l2fib: Vec<L2FibEntry>,
    pub vxlan: Vec<VxlanTunnel>,
    pub lb: Lb,
    if_events: Vec<EventReg>,
    start: Instant,
    mac_seq: u32,
    /// Set when interfaces were created, deleted or renamed (the stats mirror follows).
    pub ifs_changed: bool,
}

impl Default for Model {
    fn default() -> Self {
        Model::new()
    }
}

impl Model {
    /// Bulk setup for tests and benches: loopbacks `loopN` (MAC `02:00:00:00:hi:lo`, down)
    /// until the highest `sw_if_index` is `n`, without going through the API.
    pub fn add_loopbacks_up_to(&mut self, n: u32) {
        for i in self.ifs.len() as u32..=n {
            self.ifs.push(Some(Iface {
                sw_if_index: i,
                name: format!("loop{i}"),
                dev_type: "Loopback",
                kind: IfKind::Loopback { instance: i },
                mac: [2, 0, 0, 0, (i >> 8) as u8, i as u8],
                admin_up: false,
                link_mtu: 9000,
                mtu: [1500, 0, 0, 0],
                tag: String::new(),
                v4: vec![],
                v6: vec![],
                ll: None,
                l2: None,
            }));
        }
        self.ifs_changed = true;
    }

    /// A freshly started VPP: `local0`, the default bridge domain, nothing else.
    pub fn new() -> Self {
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
            bds: vec![BridgeDomain::new(0)],
            l2fib: Vec::new(),
            vxlan: Vec::new(),
            lb: Lb::default(),
            if_events: Vec::new(),
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
    /// Seconds since start (VPP's `vlib_time_now`, for time stamps in dumps).
    fn secs(&self) -> u32 {
        self.start.elapsed().as_secs() as u32
    }

    /// A registration went away: its event subscriptions go too (VPP's reaper).
    pub fn client_gone(&mut self, reg: u32) {
        self.if_events.retain(|e| e.reg != reg);
    }
}

/// Registers the handlers of every model.
pub(crate) fn register(h: &mut Handlers) {
    interfaces::register(h);
    addresses::register(h);
    l2::register(h);
    vxlan::register(h);
    lb::register(h);
    cli::register(h);
}

/// Keeps the first `len` bits of `a`.
pub fn mask_prefix<const N: usize>(a: &mut [u8; N], len: u8) {
    let len = usize::from(len).min(N * 8);
    for (i, b) in a.iter_mut().enumerate() {
        let bits = len.saturating_sub(i * 8).min(8);
        *b &= if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
    }
}
