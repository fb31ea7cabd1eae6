//! The stats segment of the simulator: a version-2 segment built by `vppapi-stats`' writer
//! with `/sys/boottime`, `/if/names` and VPP's `/if/*` counter vectors (one slot per
//! sw_if_index), kept in step with the interface model under VPP's epoch/in_progress protocol
//! (every structural change is one `update`; counter values are written without the lock, as
//! VPP's workers do). Packet-generator traffic ticks `/if/rx` and `/if/ip4` / `/if/ip6`.
//!
//! LB VIP counters (VPP 26.06 `lb.h` `lb_foreach_vip_counter`, registered by
//! `vlib_validate_simple_counter` under their `name`, as no `stat_segment_name` is set): four
//! simple counter vectors with literal names without a leading `/`: `packet from existing
//! sessions`, `first session packet`, `untracked packet`, `no server configured`, each
//! `[thread][VIP pool index]` (index 0: the placeholder VIP). They appear when the first VIP
//! is added (`lb_vip_add` validates them; `lb_conf` does not), all four in one update, and
//! grow with the VIP pool (removed and freed VIPs keep their slots; a reused index is zeroed).
//! The `lb_stats` recording of a real 26.06 shows exactly these entries and values.

use std::path::Path;

use vppapi_stats::writer::{SegmentWriter, StatsServer, WriterOptions};

/// `/if/*` counters of VPP (simple, then combined).
const SIMPLE: [&str; 9] = [
    "drops",
    "punt",
    "ip4",
    "ip6",
    "rx-no-buf",
    "rx-miss",
    "rx-error",
    "tx-error",
    "mpls",
];
const COMBINED: [&str; 8] = [
    "rx",
    "rx-unicast",
    "rx-multicast",
    "rx-broadcast",
    "tx",
    "tx-unicast",
    "tx-multicast",
    "tx-broadcast",
];

/// The served segment.
pub struct StatsMirror {
    writer: SegmentWriter,
    _server: StatsServer,
    names: u32,
    counters: Vec<u32>,
    n: usize,
    /// The LB counters once created: their directory indices, and the values last written.
    lb: Option<([u32; LB_COUNTERS], Vec<Vec<u64>>)>,
}

const LB_COUNTERS: usize = crate::model::lb_node::N_COUNTERS;

impl std::fmt::Debug for StatsMirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsMirror").field("n", &self.n).finish()
    }
}

fn err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl StatsMirror {
    /// Builds the segment for `names` (indexed by sw_if_index) and serves it on `path`.
    pub fn serve(path: &Path, names: &[Option<String>]) -> std::io::Result<Self> {
        let mut w = SegmentWriter::new(WriterOptions {
            size: 8 << 20,
            n_threads: 1,
        })
        .map_err(err)?;
        let boottime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let refs: Vec<Option<&str>> = names.iter().map(|n| n.as_deref()).collect();
        let n = names.len();
        let (names_idx, counters) = w
            .update(|w| {
                w.add_scalar("/sys/boottime", boottime)?;
                let names_idx = w.add_name_vector("/if/names", &refs)?;
                let mut c = Vec::new();
                for s in SIMPLE {
                    c.push(w.add_simple_counter(&format!("/if/{s}"), n)?);
                }
                for s in COMBINED {
                    c.push(w.add_combined_counter(&format!("/if/{s}"), n)?);
                }
                Ok((names_idx, c))
            })
            .map_err(err)?;
        let server = w.serve(path).map_err(err)?;
        Ok(StatsMirror {
            writer: w,
            _server: server,
            names: names_idx,
            counters,
            n,
            lb: None,
        })
    }

    /// Follows the interface table: names set/cleared, vectors grown (never shrunk: VPP keeps
    /// the slots of deleted interfaces, with their name cleared).
    pub fn sync(&mut self, names: &[Option<String>]) -> std::io::Result<()> {
        let n = names.len().max(self.n);
        let (idx, counters, old) = (self.names, self.counters.clone(), self.n);
        self.writer
            .update(|w| {
                for (i, name) in names.iter().enumerate() {
                    w.set_name(idx, i, name.as_deref())?;
                }
                for i in names.len()..old {
                    w.set_name(idx, i, None)?;
                }
                if n > old {
                    for &c in &counters {
                        w.resize_counter(c, n)?;
                    }
                }
                Ok(())
            })
            .map_err(err)?;
        self.n = n;
        Ok(())
    }

    /// Adds traffic to an interface's combined counter `name` (e.g. `rx`), for tests/demos.
    pub fn add_traffic(&mut self, counter: &str, sw_if_index: usize, packets: u64, bytes: u64) {
        if let Some(i) = COMBINED.iter().position(|c| *c == counter) {
            let _ = self.writer.add_combined(
                self.counters[SIMPLE.len() + i],
                0,
                sw_if_index,
                packets,
                bytes,
            );
        }
    }

    /// Adds to an interface's `/if/<counter>` (combined: packets and bytes; simple: packets),
    /// lock-free like a worker. Unknown counters and indices beyond the vectors are ignored.
    pub fn add_if(&mut self, counter: &str, sw_if_index: usize, packets: u64, bytes: u64) {
        if let Some(i) = SIMPLE.iter().position(|c| *c == counter) {
            let _ = self
                .writer
                .add_simple(self.counters[i], 0, sw_if_index, packets);
        } else {
            self.add_traffic(counter, sw_if_index, packets, bytes);
        }
    }

    /// Follows the LB plugin's counters (`vectors[counter][vip]`, see the module docs):
    /// entries created with the first VIP, grown with the VIP pool (one update each), values
    /// that changed written lock-free.
    pub fn sync_lb(&mut self, vectors: &[Vec<u64>; LB_COUNTERS]) -> std::io::Result<()> {
        let n = vectors[0].len();
        if n == 0 {
            return Ok(());
        }
        if self.lb.is_none() {
            let idx = self
                .writer
                .update(|w| {
                    let mut idx = [0u32; LB_COUNTERS];
                    for (i, name) in crate::model::lb_node::COUNTER_NAMES.iter().enumerate() {
                        idx[i] = w.add_simple_counter(name, n)?;
                    }
                    Ok(idx)
                })
                .map_err(err)?;
            self.lb = Some((idx, vec![vec![0; n]; LB_COUNTERS]));
        }
        let Some((idx, last)) = self.lb.as_mut() else {
            return Ok(());
        };
        if n > last[0].len() {
            let idx = *idx;
            self.writer
                .update(|w| {
                    for &c in &idx {
                        w.resize_counter(c, n)?;
                    }
                    Ok(())
                })
                .map_err(err)?;
            for l in last.iter_mut() {
                l.resize(n, 0);
            }
        }
        for (c, v) in vectors.iter().enumerate() {
            for (i, &x) in v.iter().enumerate() {
                if last[c][i] != x {
                    self.writer.set_simple(idx[c], 0, i, x).map_err(err)?;
                    last[c][i] = x;
                }
            }
        }
        Ok(())
    }

    /// Current epoch of the segment.
    pub fn epoch(&self) -> u64 {
        self.writer.epoch()
    }
}
