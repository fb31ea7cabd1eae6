//! The stats segment of the simulator: a version-2 segment built by `vppapi-stats`' writer
//! with `/sys/boottime`, `/if/names` and VPP's `/if/*` counter vectors (one slot per
//! sw_if_index, zero traffic), kept in step with the interface model under VPP's
//! epoch/in_progress protocol (every change is one `update`).
//!
//! LB VIP counters: a real 26.06 exports none to the stats segment (the recorded segment of a
//! VPP with a VIP under traffic has no `/lb/...` entries; lb keeps its VIP counters in private
//! `vlib_simple_counter_main_t`s shown by `show lb vips verbose`), so neither does the simulator.

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
}

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

    /// Current epoch of the segment.
    pub fn epoch(&self) -> u64 {
        self.writer.epoch()
    }
}
