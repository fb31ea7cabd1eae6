//! `watch events`: interface and learned-MAC events as JSON lines (operator-tools.md §6.1),
//! unregistered (and VPP's answer awaited) before the command exits.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use serde_json::json;
use vppapi_binapi::interface::{SwInterfaceEvent, WantInterfaceEvents};
use vppapi_binapi::ip_neighbor::{IpNeighborEventV2, WantIpNeighborEventsV2};
use vppapi_binapi::l2::{BridgeDomainDump, L2MacsEvent, MacEventAction, WantL2MacsEvents2};

use crate::commands::{connect, parse_duration, Done, Failure, Global};
use crate::mac::Mac;
use crate::output::{exit, rfc3339};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Which events: `if` (interface state), `mac` (learned MACs), `neigh` (IP neighbors).
    #[arg(long, value_delimiter = ',', default_value = "if,mac")]
    pub types: Vec<String>,
    /// Stop after this many events.
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop after this long.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
}

/// The text of an `l2_macs_event` action.
pub fn action_name(a: MacEventAction) -> &'static str {
    match a.0 {
        0 => "add",
        1 => "delete",
        2 => "move",
        _ => "unknown",
    }
}

pub async fn watch(g: &Global, a: WatchArgs) -> Result<Done, Failure> {
    let mut want_if = false;
    let mut want_mac = false;
    let mut want_neigh = false;
    for t in &a.types {
        match t.as_str() {
            "if" => want_if = true,
            "mac" => want_mac = true,
            "neigh" => want_neigh = true,
            other => {
                return Err(Failure::BadInput(format!(
                    "--types: unknown event type {other:?} (if, mac, neigh)"
                )))
            }
        }
    }
    let mut vpp = connect(g, &g.socket).await?;
    let snap = vpp.snapshot().await?.clone();
    let mut names: HashMap<u32, String> = snap
        .ifs
        .iter()
        .map(|i| (i.sw_if_index, i.name.clone()))
        .collect();
    let mut ifs = if want_if {
        Some(
            vpp.conn
                .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(|en, pid| {
                    WantInterfaceEvents {
                        enable_disable: en as u32,
                        pid,
                    }
                })
                .await
                .map_err(|e| format!("want_interface_events: {e}"))?,
        )
    } else {
        None
    };
    let mut macs = if want_mac {
        Some(
            vpp.conn
                .subscribe_unlisted::<WantL2MacsEvents2, L2MacsEvent, _>(|en, pid| {
                    WantL2MacsEvents2 {
                        enable_disable: en,
                        pid,
                        ..Default::default()
                    }
                })
                .await
                .map_err(|e| format!("want_l2_macs_events2: {e}"))?,
        )
    } else {
        None
    };
    let mut neighs = if want_neigh {
        Some(
            vpp.conn
                .subscribe::<WantIpNeighborEventsV2, IpNeighborEventV2, _>(|en, pid| {
                    WantIpNeighborEventsV2 {
                        enable: en,
                        pid,
                        // All addresses on all interfaces.
                        ..Default::default()
                    }
                })
                .await
                .map_err(|e| format!("want_ip_neighbor_events_v2: {e}"))?,
        )
    } else {
        None
    };
    // Learned-MAC events carry no BD: map the interface to its BD.
    let mut bd_of: HashMap<u32, u32> = HashMap::new();
    let refresh_bds = |v: &Vec<vppapi_binapi::l2::BridgeDomainDetails>,
                       m: &mut HashMap<u32, u32>| {
        m.clear();
        for b in v {
            for s in &b.sw_if_details {
                m.insert(s.sw_if_index.0, b.bd_id);
            }
            if b.bvi_sw_if_index.0 != u32::MAX {
                m.insert(b.bvi_sw_if_index.0, b.bd_id);
            }
        }
    };
    refresh_bds(&snap.bds, &mut bd_of);
    let emit = |seq: u64, ty: &str, msg: String, fields: serde_json::Value| {
        if g.json {
            println!(
                "{}",
                json!({"seq": seq, "ts": rfc3339(SystemTime::now()), "type": ty,
                       "level": "info", "message": msg, "fields": fields})
            );
        } else {
            println!("{seq:>6} {ty:10} {msg}");
        }
    };
    let deadline = a.duration.map(|d| tokio::time::Instant::now() + d);
    let mut seq = 0u64;
    let sigint = tokio::signal::ctrl_c();
    tokio::pin!(sigint);
    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("SIGTERM handler: {e}"))?;
    let result = loop {
        if a.count.is_some_and(|c| seq >= c) {
            break exit::CONVERGED;
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        #[cfg(unix)]
        let term = sigterm.recv();
        #[cfg(not(unix))]
        let term = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = &mut sigint => break exit::CONVERGED,
            _ = term => break exit::CONVERGED,
            _ = sleep => break exit::CONVERGED,
            Some(ev) = async { match ifs.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } } => {
                seq += 1;
                let sw = ev.sw_if_index.0;
                if !names.contains_key(&sw) {
                    refresh_names(&mut vpp, &mut names).await;
                }
                let name = names.get(&sw).cloned().unwrap_or_else(|| format!("sw_if_index{sw}"));
                let admin = ev.flags.0 & 1 != 0;
                let link = ev.flags.0 & 2 != 0;
                emit(seq, "interface", format!("{name} admin {} link {}{}",
                        if admin {"up"} else {"down"}, if link {"up"} else {"down"},
                        if ev.deleted {" (deleted)"} else {""}),
                    json!({"sw_if_index": sw, "interface": name, "admin_up": admin,
                           "link_up": link, "deleted": ev.deleted}));
            }
            Some(ev) = async { match neighs.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } } => {
                let n = &ev.neighbor;
                let sw = n.sw_if_index.0;
                if !names.contains_key(&sw) {
                    refresh_names(&mut vpp, &mut names).await;
                }
                seq += 1;
                let name = names.get(&sw).cloned().unwrap_or_else(|| format!("sw_if_index{sw}"));
                let ip = n.ip_address.to_string();
                let mac = Mac::from(n.mac_address);
                let action = if ev.flags.0 & 2 != 0 { "removed" } else { "added" };
                emit(seq, "neighbor", format!("{ip} {mac} {action} on {name}"),
                    json!({"ip": ip, "mac": mac.to_string(), "action": action,
                           "sw_if_index": sw, "interface": name}));
            }
            Some(ev) = async { match macs.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } } => {
                // The frame is sized for max_macs_in_event * 10 entries; n_macs counts the real ones.
                for m in &ev.mac {
                    let sw = m.sw_if_index.0;
                    if !bd_of.contains_key(&sw) {
                        if let Ok(v) = vpp.dump(BridgeDomainDump::default()).await {
                            refresh_bds(&v, &mut bd_of);
                        }
                    }
                    if !names.contains_key(&sw) {
                        refresh_names(&mut vpp, &mut names).await;
                    }
                    seq += 1;
                    let mac = Mac::from(m.mac_addr);
                    let name = names.get(&sw).cloned().unwrap_or_else(|| format!("sw_if_index{sw}"));
                    let action = action_name(m.action);
                    emit(seq, "mac", format!("{mac} {action} on {name}"),
                        json!({"mac": mac.to_string(), "action": action, "sw_if_index": sw,
                               "interface": name, "bd_id": bd_of.get(&sw)}));
                }
            }
        }
    };
    // Turn the events off in VPP and wait for its answer before exiting.
    if let Some(s) = ifs.take() {
        s.unsubscribe()
            .await
            .map_err(|e| format!("want_interface_events disable: {e}"))?;
    }
    if let Some(s) = neighs.take() {
        s.unsubscribe()
            .await
            .map_err(|e| format!("want_ip_neighbor_events_v2 disable: {e}"))?;
    }
    if let Some(s) = macs.take() {
        s.unsubscribe()
            .await
            .map_err(|e| format!("want_l2_macs_events2 disable: {e}"))?;
    }
    vpp.conn.close().await;
    Ok(Done::Printed(result))
}

/// Re-reads interface names (an event named an interface created after the start).
async fn refresh_names(vpp: &mut crate::vpp::Vpp, names: &mut HashMap<u32, String>) {
    vpp.invalidate();
    if let Ok(s) = vpp.snapshot().await {
        for i in &s.ifs {
            names.insert(i.sw_if_index, i.name.clone());
        }
    }
}
