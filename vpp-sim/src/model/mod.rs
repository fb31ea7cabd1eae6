//! The stateful models, one file per object: [`interfaces`] (and interface events),
//! [`addresses`], [`l2`] bridge domains and FIB, [`vxlan`] tunnels, the [`lb`] plugin (its
//! data plane in [`lb_node`], its CLI in [`lb_cli`]), the packet generator and IP input
//! ([`pg`]) and the [`cli`]. This file holds the shared state ([`Model`]) and the helpers they
//! share.
//!
//! Every handler is registered by message type (`register` in each file) and written against
//! the generated structs of `vppapi-binapi`; it answers with the retvals a real VPP 26.06 gives
//! (`../shared/vpp-traces/26.06`, errors from `vppapi_codec::api_errno`). Requests no file
//! registers are answered `VNET_API_ERROR_UNIMPLEMENTED` by the server.

pub mod addresses;
pub mod cli;
pub mod interfaces;
pub mod ip_neighbor;
pub mod l2;
pub mod lb;
pub mod lb_1_2;
pub mod lb_cli;
pub mod lb_node;
pub mod lcp;
pub mod pg;
pub mod vxlan;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub use interfaces::{IfKind, Iface};
pub use l2::{BridgeDomain, L2FibEntry};
pub use lb::Lb;
pub use lb_node::{LbVerdict, Packet};
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
    /// Bridge domains in index order (`bd_configs`).
    pub bds: Vec<BridgeDomain>,
    /// `bd_get_unused_id`'s static seed.
    bd_seed: u32,
    pub l2fib: Vec<L2FibEntry>,
    pub vxlan: Vec<VxlanTunnel>,
    pub lb: Lb,
    if_events: Vec<EventReg>,
    /// The `want_l2_macs_events[2]` client (`l2learn_main`: one pid at a time).
    pub(super) macs_client: Option<l2::MacsClient>,
    /// `want_ip_neighbor_events_v2` registrations.
    pub(super) nbr_events: Vec<ip_neighbor::NbrReg>,
    /// Events waiting to go out (after the reply of the request that caused them), by
    /// registration: whole frames.
    events: Vec<(u32, Vec<u8>)>,
    start: Instant,
    /// Added to the uptime by [`Model::advance_clock`] (tests of time-driven behaviour).
    clock_offset: Duration,
    /// The packet generator's streams.
    pub pg: pg::PgMain,
    /// Interface counter increments not yet in the stats segment: (counter, sw_if_index) ->
    /// (packets, bytes).
    if_traffic: BTreeMap<(&'static str, u32), (u64, u64)>,
    mac_seq: u32,
    /// Set when interfaces were created, deleted or renamed (the stats mirror follows).
    pub ifs_changed: bool,
    /// The message table events are numbered by (26.06, or with lb.api 1.2.0).
    table: &'static crate::table::MessageTable,
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

    /// A freshly started VPP 26.06 (see [`Model::for_lb_api`]).
    pub fn new() -> Self {
        Model::for_lb_api(false)
    }

    /// A freshly started VPP: `local0`, the default bridge domain, nothing else; its `lb`
    /// plugin is 26.06's (`lb.api` 1.1.0) or, with `lb_api_1_2`, master's (1.2.0).
    pub fn for_lb_api(lb_api_1_2: bool) -> Self {
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
            bds: vec![BridgeDomain::new(0, 0)],
            bd_seed: 0,
            l2fib: Vec::new(),
            vxlan: Vec::new(),
            lb: Lb::for_lb_api(lb_api_1_2),
            if_events: Vec::new(),
            macs_client: None,
            nbr_events: Vec::new(),
            events: Vec::new(),
            start: Instant::now(),
            clock_offset: Duration::ZERO,
            pg: pg::PgMain::default(),
            if_traffic: BTreeMap::new(),
            mac_seq: 0,
            ifs_changed: true,
            table: crate::table::MessageTable::for_lb_api(lb_api_1_2),
        }
    }

    /// The message table this VPP numbers its messages by.
    pub(crate) fn table(&self) -> &'static crate::table::MessageTable {
        self.table
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
    /// Seconds since start (VPP's `vlib_time_now` as the models truncate it: dump time
    /// stamps, the LB's sticky timeouts and garbage collection), [`Model::advance_clock`]
    /// included.
    fn secs(&self) -> u32 {
        (self.start.elapsed() + self.clock_offset).as_secs() as u32
    }

    /// The simulated uptime in seconds (see [`Model::advance_clock`]).
    pub fn uptime_secs(&self) -> u32 {
        self.secs()
    }

    /// Moves the simulated clock forward by `d` (it never goes back): time-driven behaviour
    /// (LB sticky-entry timeouts, garbage-collection intervals, `in_use_since`) can be tested
    /// without sleeping.
    pub fn advance_clock(&mut self, d: Duration) {
        self.clock_offset += d;
    }

    /// Runs one CLI command as `cli_inband` does: (retval, output).
    pub fn run_cli(&mut self, cmd: &str) -> (i32, String) {
        self.cli(cmd)
    }

    /// Counts `packets`/`bytes` on interface counter `name` (`rx`, `ip4`, `ip6`, ... of
    /// `/if/`), for the stats segment.
    pub fn count_if(&mut self, name: &'static str, sw_if_index: u32, packets: u64, bytes: u64) {
        let e = self.if_traffic.entry((name, sw_if_index)).or_default();
        e.0 += packets;
        e.1 += bytes;
    }

    /// The interface counter increments since the last call.
    pub(crate) fn take_if_traffic(&mut self) -> BTreeMap<(&'static str, u32), (u64, u64)> {
        std::mem::take(&mut self.if_traffic)
    }

    /// A registration went away: its event subscriptions go too (VPP's reaper).
    pub fn client_gone(&mut self, reg: u32) {
        self.if_events.retain(|e| e.reg != reg);
        self.nbr_events.retain(|e| e.reg != reg);
        // VPP keeps l2learn_main's client_pid (a new pid still gets -124) but finds no
        // registration to send to.
        if let Some(c) = self.macs_client.as_mut() {
            if c.reg == Some(reg) {
                c.reg = None;
            }
        }
    }

    /// Queues event `msg` for registration `reg` (`client_index`: the subscriber's, in the
    /// event's header); the server sends it after the reply of the current request, or at
    /// once when the model is changed through `Simulator::with_model`.
    pub(crate) fn emit<M: vppapi_codec::Message>(
        &mut self,
        reg: u32,
        client_index: [u8; 4],
        msg: &M,
    ) {
        let Some(id) = self.table.id_of::<M>() else {
            return;
        };
        let mut frame = Vec::new();
        crate::handlers::push_frame(&mut frame, id, client_index, 0, msg);
        if !frame.is_empty() {
            self.events.push((reg, frame));
        }
    }

    /// Queues a whole frame (header and body) for registration `reg`.
    pub(crate) fn emit_frame(&mut self, reg: u32, frame: Vec<u8>) {
        self.events.push((reg, frame));
    }

    /// The queued events, in order.
    pub(crate) fn take_events(&mut self) -> Vec<(u32, Vec<u8>)> {
        std::mem::take(&mut self.events)
    }
}

/// Registers the handlers of every model.
pub(crate) fn register(h: &mut Handlers) {
    interfaces::register(h);
    addresses::register(h);
    l2::register(h);
    vxlan::register(h);
    lb::register(h);
    ip_neighbor::register(h);
    lcp::register(h);
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
