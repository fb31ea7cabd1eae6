//! The load-balancer side (operator-tools.md §4): VPP's `lb` plugin driven by the same
//! reconcile engine as the eVPN commands.
//!
//! The data flow: [`config`] (`lb.yaml`, two-stage validation) -> [`model`] (values and keys)
//! -> [`read`] (the 26.06 dumps fixed up by the `show lb vips verbose` scrape) ->
//! [`descriptors`] (the messages of each value, with the 26.06 wire workarounds) -> [`mod@sync`]
//! (capabilities, refusals before anything is sent, plan, apply, verify) -> the commands
//! ([`cmd`]: `lb conf`, `lb sync`, `lb status`, `lb stats`) and [`stats`] (the four per-VIP
//! counters of the stats segment).

pub mod cmd;
pub mod config;
pub mod descriptors;
pub mod model;
pub mod read;
pub mod stats;
pub mod sync;

use std::collections::HashSet;

pub use config::LbDesired;
pub use model::{As, Encap, IpPrefix, LbConf, LbItem, Proto, Vip};
pub use sync::{capabilities, sync, Capabilities, SyncOptions};

/// The LB reconcile's state inside a [`crate::vpp::Vpp`] session.
#[derive(Debug, Clone, Default)]
pub struct LbCtx {
    /// The read of this plan (cleared by `Vpp::invalidate`).
    pub read: Option<read::LbRead>,
    /// Send IPv4 VIP and AS keys with `len + 96` (VPP 26.06, `--compat-lb-26.06`).
    pub compat_v4: bool,
    /// VIP keys whose ASes, and AS keys that, are removed without evicting sticky flows.
    pub no_flush: HashSet<String>,
    /// The last `lb_conf` this session pushed (vpp-maglev's `lastLBConf`): 26.06 cannot read
    /// back buckets and timeout, so they are known only from here. A new session (a reconnect)
    /// starts without it, which forces a push when the source addresses differ.
    pub last_conf: Option<LbConf>,
}
