//! The four per-VIP LB counters of the stats segment (operator-tools.md §4.6): simple counter
//! vectors `[thread][VIP pool index]` with literal names (no leading `/`), present only once
//! the first VIP exists. The pool index is the `[n]` of `show lb vips verbose`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use vppapi_stats::{Client, StatValue, StatsError};

use super::read::COUNTERS;

/// Short, stable `kind` labels for the counters (Prometheus `vip_packets_total{kind}`).
pub const KINDS: [&str; 4] = [
    "existing_session",
    "first_session",
    "untracked",
    "no_server",
];

/// The counters per VIP index (summed over threads), and the segment's boot time.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LbCounters {
    /// `/sys/boottime` (Unix seconds).
    pub boottime: Option<u64>,
    /// VIP pool index -> counter name -> value. Empty when no VIP was ever added (the entries
    /// do not exist yet).
    pub by_index: BTreeMap<u32, BTreeMap<String, u64>>,
}

/// Reads the LB counters from the stats segment at `socket`.
pub fn read_counters(socket: &Path) -> Result<LbCounters, String> {
    let mut c = Client::connect(socket)
        .map_err(|e| format!("cannot open the stats segment at {}: {e}", socket.display()))?;
    read_with(&mut c)
}

/// Reads the LB counters through an open client.
pub fn read_with(c: &mut Client) -> Result<LbCounters, String> {
    let mut out = LbCounters::default();
    match c.read("/sys/boottime") {
        Ok(StatValue::Scalar(t)) => out.boottime = Some(t),
        Ok(_) | Err(StatsError::NotFound(_)) => {}
        Err(e) => return Err(format!("stats /sys/boottime: {e}")),
    }
    for name in COUNTERS {
        match c.read(name) {
            Ok(StatValue::Simple(v)) => {
                for (i, total) in v.sums().into_iter().enumerate() {
                    out.by_index
                        .entry(i as u32)
                        .or_default()
                        .insert(name.to_string(), total);
                }
            }
            Ok(other) => {
                return Err(format!(
                    "stats {name:?}: expected a simple counter vector, found {other:?}"
                ))
            }
            // No VIP was ever added: VPP has not registered the counters yet.
            Err(StatsError::NotFound(_)) => {}
            Err(e) => return Err(format!("stats {name:?}: {e}")),
        }
    }
    Ok(out)
}

/// Prometheus text: `vip_packets_total{vip,index,kind}` for each labelled VIP index.
pub fn prometheus(c: &LbCounters, labels: &BTreeMap<u32, String>) -> String {
    let mut s = String::new();
    s.push_str("# HELP vip_packets_total Packets handled by a VPP lb VIP, by kind.\n");
    s.push_str("# TYPE vip_packets_total counter\n");
    for (idx, vip) in labels {
        let Some(vals) = c.by_index.get(idx) else {
            continue;
        };
        for (name, kind) in COUNTERS.iter().zip(KINDS) {
            let v = vals.get(*name).copied().unwrap_or(0);
            let _ = writeln!(
                s,
                "vip_packets_total{{vip=\"{vip}\",index=\"{idx}\",kind=\"{kind}\"}} {v}"
            );
        }
    }
    if let Some(t) = c.boottime {
        s.push_str("# HELP vpp_boottime_seconds VPP's boot time (stats /sys/boottime).\n");
        s.push_str("# TYPE vpp_boottime_seconds gauge\n");
        let _ = writeln!(s, "vpp_boottime_seconds {t}");
    }
    s
}
