//! # vpp-sim: a VPP 26.06 simulator that is exact on the wire
//!
//! Serves VPP's binary API socket protocol (`vpp-wire.md` section 4) with the full 26.06
//! message table ([`table::MessageTable`], from `vppapi_binapi::table`), stateful models of
//! interfaces, addresses, L2 bridge domains, VXLAN, the LB plugin and interface events
//! ([`model`]), an optional stats socket ([`stats`]) and scriptable faults ([`Faults`]) for
//! tests of clients.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = vpp_sim::Simulator::start(vpp_sim::SimConfig::new("/tmp/api.sock")).await?;
//! sim.faults().set_latency(std::time::Duration::from_millis(5));
//! sim.restart().await?; // new vpe_pid, state cleared, socket recreated
//! # Ok(()) }
//! ```
//!
//! Handlers are registered by message type and written against the generated structs of
//! `vppapi-binapi` ([`handlers`]). Requests the models do not cover get their reply with
//! `VNET_API_ERROR_UNIMPLEMENTED` (-9); unknown IDs, non-requests, truncated bodies and bad
//! `client_index`es get no reply (logged with `tracing`), as on VPP.

pub mod handlers;
pub mod model;
mod server;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub mod shm;
pub mod stats;
pub mod table;
pub mod trace;

pub use server::{Faults, MainLoop, SimConfig, Simulator};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use shm::ShmStats;
pub use trace::TraceEntry;
