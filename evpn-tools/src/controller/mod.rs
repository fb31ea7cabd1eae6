//! `evpn-tools lb controller`: the long-running load-balancer controller, after IPng's
//! vpp-maglev `maglevd` (operator-tools.md §4.1, §4.5, §6.2). It health-checks backends, turns
//! their states into VIPs and ASes of VPP's `lb` plugin, and keeps VPP there across backend
//! changes, VPP restarts and configuration reloads.
//!
//! Why it is built the way it is:
//!
//! * **Pure rules, thin loop.** The behaviours the spec pins (rise/fall, the quick exit from
//!   `unknown`, the adaptive interval: [`health`]; pools and the weight/flush table: [`pools`];
//!   warmup: [`warmup`]; the two-stage configuration: [`config`]) are plain functions with
//!   unit tests and injected time. [`daemon`] only wires them to timers, sockets and signals.
//! * **One probe task per backend** ([`probe`]), however many frontends use it; a reload that
//!   leaves a backend's address and check alone leaves its task (and state) running.
//! * **One owner of VPP.** The main loop owns the session ([`session`]: API and stats
//!   connection as one unit) and runs every sync itself, so syncs never overlap and their
//!   order is the order of events. Syncs go through [`crate::lb::sync::sync`], the same
//!   read-plan-apply-verify path as `lb sync`: the event-driven per-frontend sync puts only
//!   that frontend's VIP in scope (it never removes VIPs), the periodic full sync also prunes
//!   stale VIPs inside `managed-prefixes`.
//! * **Weights follow the VPP** ([`pools::desired`]): on lb.api 1.2.0 (master) each AS gets its
//!   effective weight and a drained one stays at weight 0 (sticky flows kept) unless its policy
//!   says flush, then it is removed with flush. VPP 26.06 (lb.api 1.1.0) has no weights: an
//!   effective weight of 0 leaves the AS out of the VIP (delete is the only drain; flush per
//!   policy via `LbDesired::no_flush`), every other weight is sent as 100; the controller says
//!   so once per process.
//! * **Observable**: JSON-line events on stdout ([`events`], §6.2) and Prometheus metrics with
//!   vpp-maglev's names plus a JSON `/status` ([`metrics`]).

pub mod config;
pub mod daemon;
pub mod events;
pub mod health;
pub mod icmp;
pub mod metrics;
pub mod pools;
pub mod probe;
pub mod session;
pub mod warmup;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::commands::{parse_duration, Done, Failure, Global};
use crate::output::exit;
use events::Level;

/// `lb controller` flags.
#[derive(Debug, Clone, Args)]
pub struct ControllerArgs {
    /// The configuration: maglevd's YAML under a top-level `maglev:` key.
    #[arg(long)]
    pub config: PathBuf,
    /// Validate the file and exit: 0 valid, 1 YAML or structure error, 2 semantic error.
    #[arg(long)]
    pub check: bool,
    /// VPP's stats socket (connected together with the API socket).
    #[arg(long, default_value = "/run/vpp/stats.sock")]
    pub stats_socket: PathBuf,
    /// Serve Prometheus metrics (`/metrics`) and the state as JSON (`/status`) here, e.g.
    /// `127.0.0.1:9091` (port 0: any free port; the bound address is in an event).
    #[arg(long)]
    pub metrics_listen: Option<String>,
    /// The `instance` field of every event (default: the host name).
    #[arg(long)]
    pub instance: Option<String>,
    /// The lowest level of events printed: debug, info, warn, error.
    #[arg(long, default_value = "info")]
    pub log_level: Level,
    /// How often `control_ping` checks the session.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub ping_interval: Duration,
    /// How long to wait before connecting again after a failure.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub reconnect_interval: Duration,
    /// How often the VIP counters are scraped for `vip_packets_total`.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub stats_interval: Duration,
}

/// What probe tasks tell the main loop.
#[derive(Debug)]
pub enum Msg {
    Probe(probe::ProbeReport),
}

/// Runs the controller (or only checks its configuration).
pub async fn run(g: &Global, a: ControllerArgs) -> Result<Done, Failure> {
    if a.check {
        return Ok(Done::Printed(check(g, &a)));
    }
    let cfg = config::load(&a.config).map_err(|e| Failure::BadInput(e.to_string()))?;
    let code = daemon::Daemon::start(g, a, cfg).await?.run().await;
    Ok(Done::Printed(code))
}

/// `--check`, as maglevd's: 0 valid, 1 YAML or structure error, 2 semantic error.
fn check(g: &Global, a: &ControllerArgs) -> i32 {
    match config::load(&a.config) {
        Ok(c) => {
            if g.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "valid": true, "backends": c.backends.len(),
                        "frontends": c.frontends.len(), "warnings": c.warnings,
                    })
                );
            } else {
                println!(
                    "{}: valid ({} backends, {} frontends)",
                    a.config.display(),
                    c.backends.len(),
                    c.frontends.len()
                );
                for w in &c.warnings {
                    println!("warning: {w}");
                }
            }
            exit::CONVERGED
        }
        Err(e) => {
            if g.json {
                println!(
                    "{}",
                    serde_json::json!({"valid": false, "kind": e.kind(), "error": e.message()})
                );
            } else {
                eprintln!("{e}");
            }
            e.exit_code()
        }
    }
}
