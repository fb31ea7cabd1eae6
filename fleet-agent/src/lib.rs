//! # fleet-agent
//!
//! A daemon after Ligato's vpp-agent: each agent has a microservice label, reads the desired
//! values under `/vnf-agent/<label>/config/<model>/<version>/<id>` from a store, applies them
//! to VPP through evpn-tools' reconcile engine (its eVPN descriptors: bridge domains, BVI
//! loopbacks with vMAC and addresses, l2fib entries, VXLAN tunnels), keeps values whose
//! dependencies are missing PENDING until they appear, retries failed values with backoff,
//! resyncs fully after a VPP restart, and writes a status per key under
//! `/vnf-agent/<label>/status/...`.
//!
//! Modules: [`models`] (keys, values, `--list-models`) -> [`store`] (the file store, status
//! sinks) -> [`agent`] (the loop) ; [`events`] (JSON lines on stdout).

#![forbid(unsafe_code)]

pub mod agent;
pub mod cli;
pub mod etcd;
pub mod events;
pub mod lb;
pub mod metrics;
pub mod models;
pub mod store;
