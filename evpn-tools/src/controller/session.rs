//! One session with VPP: the API connection and the stats segment **as one unit**
//! (operator-tools.md §4.5). Connecting runs `show_version`, `control_ping` (its reply carries
//! `vpe_pid`) and reads `/sys/boottime` from the stats segment; if any of it fails, both are
//! dropped and the controller tries again later. A session is never repaired in place: the
//! runtime's connection would reconnect by itself after a VPP restart, but a restarted VPP
//! has forgotten everything (and the `lastLBConf` cache in [`crate::lb::LbCtx::last_conf`]
//! must go with the old session), so any sign of trouble (a failed ping, another `vpe_pid`,
//! the runtime leaving `Connected`, a failed stats read) ends the session and a fresh one is
//! built, with a fresh `Vpp` and an empty cache.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use vppapi_binapi::memclnt::{ControlPing, ControlPingReply};
use vppapi_binapi::vpe::ShowVersion;
use vppapi_runtime::connection::ConnState;
use vppapi_runtime::{Connection, Message};
use vppapi_stats::{Client, ClientOptions, StatValue};

use super::metrics::Metrics;
use crate::lb::sync::{capabilities, Capabilities};
use crate::vpp::{Vpp, VppOptions};

/// Where VPP is and how patient to be.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub socket: PathBuf,
    pub stats_socket: PathBuf,
    /// Reply and connect timeout.
    pub timeout: Duration,
    /// `--trace`: every request and reply on stderr.
    pub trace: bool,
}

/// A live session.
pub struct Session {
    pub vpp: Vpp,
    pub stats: Client,
    pub version: String,
    pub build_date: String,
    pub pid: u32,
    pub boottime: Option<u64>,
    pub caps: Capabilities,
    pub since: Instant,
    pub state: watch::Receiver<ConnState>,
}

/// Connects both halves or neither.
pub async fn connect(ep: Endpoints, metrics: std::sync::Arc<Metrics>) -> Result<Session, String> {
    if !ep.socket.exists() {
        return Err(format!("no VPP API socket at {}", ep.socket.display()));
    }
    let cfg = vppapi_runtime::Config {
        endpoint: vppapi_runtime::Endpoint::Socket(ep.socket.clone()),
        client_name: "vpp-maglev".into(),
        reply_timeout: ep.timeout,
        connect_timeout: ep.timeout,
        ..vppapi_runtime::Config::default()
    };
    let conn = Connection::connect(cfg)
        .await
        .map_err(|e| format!("cannot connect to VPP at {}: {e}", ep.socket.display()))?;
    let mut vpp = Vpp::new(
        conn,
        VppOptions {
            dry_run: false,
            trace: ep.trace,
        },
    );
    // Every request and reply of this session counts in `maglev_vpp_api_total`: syncs, reads,
    // pings alike.
    let m = metrics.clone();
    vpp.on_api = Some(std::sync::Arc::new(move |msg, dir, ok| m.api(msg, dir, ok)));
    match handshake(&mut vpp, &ep).await {
        Ok(h) => {
            let state = vpp.conn.state();
            Ok(Session {
                vpp,
                stats: h.stats,
                version: h.version,
                build_date: h.build_date,
                pid: h.pid,
                boottime: h.boottime,
                caps: h.caps,
                since: Instant::now(),
                state,
            })
        }
        Err(e) => {
            close(&vpp).await;
            Err(e)
        }
    }
}

struct Handshake {
    stats: Client,
    version: String,
    build_date: String,
    pid: u32,
    boottime: Option<u64>,
    caps: Capabilities,
}

async fn handshake(vpp: &mut Vpp, ep: &Endpoints) -> Result<Handshake, String> {
    let v = vpp
        .read(ShowVersion {})
        .await
        .map_err(|e| format!("show_version: {e}"))?;
    let p = vpp
        .read(ControlPing {})
        .await
        .map_err(|e| format!("control_ping: {e}"))?;
    let path = ep.stats_socket.clone();
    let timeout = ep.timeout;
    let mut stats = tokio::task::spawn_blocking(move || {
        Client::with_options(ClientOptions {
            socket_path: path,
            connect_timeout: timeout,
            // A restart is this module's business (the whole session goes).
            restart_check_interval: None,
            ..ClientOptions::default()
        })
    })
    .await
    .map_err(|e| format!("stats connect: {e}"))?
    .map_err(|e| {
        format!(
            "cannot open the stats segment at {}: {e}",
            ep.stats_socket.display()
        )
    })?;
    let boottime = match stats.read("/sys/boottime") {
        Ok(StatValue::Scalar(t)) => Some(t),
        Ok(_) => None,
        Err(e) => return Err(format!("stats /sys/boottime: {e}")),
    };
    Ok(Handshake {
        stats,
        version: v.version,
        build_date: v.build_date,
        pid: p.vpe_pid,
        boottime,
        caps: capabilities(vpp),
    })
}

/// Closes the API connection (the stats client goes with its owner).
pub async fn close(vpp: &Vpp) {
    let _ = tokio::time::timeout(Duration::from_secs(2), vpp.conn.close()).await;
}

impl Session {
    /// `control_ping`: `Err` with the reason if the session is no good any more (no answer,
    /// or another `vpe_pid`: VPP restarted behind the runtime's reconnect).
    pub async fn ping(&mut self, metrics: &Metrics, timeout: Duration) -> Result<(), String> {
        let r = tokio::time::timeout(timeout, self.vpp.read(ControlPing {})).await;
        if r.is_err() {
            // Cut short before the session's hook saw a reply.
            metrics.api(ControlPingReply::NAME, "recv", false);
        }
        match r {
            Err(_) => Err(format!("control_ping: no reply within {timeout:?}")),
            Ok(Err(e)) => Err(format!("control_ping: {e}")),
            Ok(Ok(p)) if p.vpe_pid != self.pid => Err(format!(
                "VPP restarted (vpe_pid {} -> {})",
                self.pid, p.vpe_pid
            )),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// Whether the runtime still calls the connection `Connected`.
    pub fn connected(&self) -> bool {
        *self.state.borrow() == ConnState::Connected
    }
}
