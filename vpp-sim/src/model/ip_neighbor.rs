//! Neighbour watching (`ip_neighbor.api` `want_ip_neighbor_events_v2`) and the arping plugin
//! (`arping.api` `arping`).
//!
//! The simulator forwards no packets, so no neighbour is ever learned and no
//! `ip_neighbor_event_v2` is sent; the registrations are kept as VPP keeps them.

use vppapi_binapi::arping::{Arping, ArpingReply};
use vppapi_binapi::ip_neighbor::{WantIpNeighborEventsV2, WantIpNeighborEventsV2Reply};
use vppapi_codec::api_errno::INVALID_SW_IF_INDEX;
use vppapi_codec::net::Address;

use super::Model;
use crate::handlers::Handlers;

/// A `want_ip_neighbor_events_v2` watcher (ip_neighbor_watch.c: key (ip, sw_if_index), the
/// watcher (client_index, pid)).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NbrReg {
    pub(super) ip: Address,
    pub(super) sw_if_index: u32,
    pub(super) client_index: [u8; 4],
    pub(super) pid: u32,
    pub(crate) reg: u32,
}

pub(super) fn register(h: &mut Handlers) {
    // ip_neighbor_api.c vl_api_want_ip_neighbor_events_v2_t_handler: VALIDATE_SW_IF_INDEX
    // unless ~0 (-2), then ip_neighbor_watch / _unwatch, which never fail: a duplicate watch
    // and an unwatch of nothing are no-ops (retval 0). sw_if_index 0 means any (~0).
    h.on::<WantIpNeighborEventsV2, _>(|m, call, req| {
        let sw = req.sw_if_index.0;
        if sw != u32::MAX && m.iface(sw).is_none() {
            return WantIpNeighborEventsV2Reply {
                retval: INVALID_SW_IF_INDEX,
            };
        }
        let w = NbrReg {
            ip: req.ip,
            sw_if_index: if sw == 0 { u32::MAX } else { sw },
            client_index: call.client_index,
            pid: req.pid,
            reg: call.reg,
        };
        let pos = m.nbr_events.iter().position(|x| {
            x.ip == w.ip
                && x.sw_if_index == w.sw_if_index
                && x.client_index == w.client_index
                && x.pid == w.pid
        });
        match (req.enable, pos) {
            (true, None) => m.nbr_events.push(w),
            (false, Some(p)) => {
                m.nbr_events.remove(p);
            }
            _ => {}
        }
        WantIpNeighborEventsV2Reply { retval: 0 }
    });
    // arping_api.c vl_api_arping_t_handler: VALIDATE_SW_IF_INDEX unless ~0 (-2), then
    // arping_run_command. A GARP (arping_neighbor_advertisement) sends `repeat` gratuitous
    // ARPs / NAs, whatever the address, and answers 0 with reply_count 0 (the recordings: at
    // once for repeat 1). A probe (arping_neighbor_probe_dst) counts replies; the simulator
    // has no neighbours, so 0 (VPP would wait up to a second for them; the simulator does
    // not).
    h.on::<Arping, _>(|m, _, req| {
        let sw = req.sw_if_index.0;
        let retval = if sw != u32::MAX && m.iface(sw).is_none() {
            INVALID_SW_IF_INDEX
        } else {
            0
        };
        ArpingReply {
            retval,
            reply_count: 0,
        }
    });
}

impl Model {
    /// The `want_ip_neighbor_events_v2` watchers: (pid, ip, sw_if_index; ~0 = any).
    pub fn ip_neighbor_watchers(&self) -> Vec<(u32, Address, u32)> {
        self.nbr_events
            .iter()
            .map(|w| (w.pid, w.ip, w.sw_if_index))
            .collect()
    }
}
