//! # evpn-tools
//!
//! Operator tools built on the runtime: eVPN gateway (bridge domains, BVI loopbacks,
//! break-before-make gateway moves) and Maglev load-balancer (VIP/AS sync). Nothing is
//! implemented yet: the tools come after the runtime and the simulator.
