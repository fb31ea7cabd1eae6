//! # vppapi-stats
//!
//! Reads VPP's stats segment (`/run/vpp/stats.sock`): counters, names, gauges, histograms.
