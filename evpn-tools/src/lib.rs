//! # evpn-tools
//!
//! The on-host primitives of an eVPN gateway on VPP (after IPng's vpp-evpn), on a declarative
//! reconcile engine (the `reconcile` crate, after Ligato's KV scheduler): bridge domains, BVI
//! loopbacks, a gateway identity (vMAC and addresses) moved between BVIs break-before-make,
//! static VXLAN tunnels, L2FIB entries and VPP's events. See `../shared/docs/operator-tools.md`
//! §3, §5 and §6 for the behaviour and message order every command follows.
//!
//! Every mutating command takes the same path ([`reconcile_run::reconcile`]): read VPP once
//! (one round of dumps, [`vpp::Snapshot`]), build the desired values from what was read plus
//! the command's arguments ([`model`]), plan in memory, then either print the plan with the
//! exact messages (`--dry-run`) or apply it in dependency order and read back to verify. A
//! second run therefore plans nothing and sends nothing that changes VPP.
//!
//! Modules follow the data flow: [`mac`] and [`model`] (values and keys) -> [`descriptors`]
//! (how each value is created, changed, deleted and read) -> [`vpp`] (the connection, dry-run
//! recording, tracing, capability checks) -> [`reconcile_run`] -> the commands ([`commands`],
//! [`apply`], [`events`]) -> [`output`].

pub mod apply;
pub mod commands;
pub mod controller;
pub mod descriptors;
pub mod events;
pub mod lb;
pub mod mac;
pub mod maglev_cmd;
pub mod model;
pub mod output;
pub mod reconcile_run;
pub mod vpp;
