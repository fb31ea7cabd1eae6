//! Prometheus text exposition (format 0.0.4) of a selection of counters, from one consistent
//! snapshot.
//!
//! Metrics (with the default prefix `vpp`):
//! - `vpp_interface_{rx,tx}_{packets,bytes}_total`, `vpp_interface_drops_total`,
//!   `vpp_interface_{rx,tx}_errors_total`, labels `interface` (from `/if/names`) and
//!   `sw_if_index`; slots without a name are left out;
//! - `vpp_lb_vip_packets_total{counter, vip_index}` from the LB plugin's per-VIP simple counters
//!   (see [`LB_VIP_COUNTERS`]) when present;
//! - every gauge entry (type 9) as `vpp_<name>` with the path's non-alphanumerics turned into
//!   `_` (e.g. `/sys/vector_rate` -> `vpp_sys_vector_rate`); a gauge whose name collides with an
//!   earlier one is left out.

use std::collections::HashSet;
use std::fmt::Write;

use crate::error::Result;
use crate::interfaces::collect_interface_counters;
use crate::layout::EntryType;
use crate::segment::StatsSegment;
use crate::value::StatValue;

/// The LB plugin's per-VIP simple counters (names as VPP 26.06 registers them).
pub const LB_VIP_COUNTERS: [&str; 4] = [
    "packet from existing sessions",
    "first session packet",
    "untracked packet",
    "no server configured",
];

/// What to export.
#[derive(Debug, Clone)]
pub struct PrometheusOptions {
    /// Metric name prefix (default `vpp`).
    pub prefix: String,
    /// Interface counters.
    pub interfaces: bool,
    /// LB VIP counters.
    pub lb: bool,
    /// Gauges.
    pub gauges: bool,
}

impl Default for PrometheusOptions {
    fn default() -> Self {
        Self {
            prefix: "vpp".to_string(),
            interfaces: true,
            lb: true,
            gauges: true,
        }
    }
}

/// Escapes a label value: backslash, double quote and newline.
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes HELP text: backslash and newline.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Turns a stats path into a valid metric name part: `[a-zA-Z0-9_]`, no repeated or edge `_`.
pub fn sanitize_metric_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: u64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label_value(val));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {v}");
    }
}

/// Renders the selected counters of `seg` in the Prometheus text format.
pub fn render(seg: &StatsSegment, opts: &PrometheusOptions) -> Result<String> {
    let p = sanitize_metric_name(&opts.prefix);
    let (ifs, lb, gauges) = seg.consistent(|v| {
        let ifs = if opts.interfaces {
            Some(collect_interface_counters(v)?)
        } else {
            None
        };
        let mut lb = Vec::new();
        let mut gauges = Vec::new();
        let dir = v.dir()?;
        for (i, name, t) in &dir.entries {
            if opts.lb && *t == EntryType::CounterSimple && LB_VIP_COUNTERS.contains(&name.as_str())
            {
                if let StatValue::Simple(c) = v.ctx.read_entry(*i)?.value {
                    lb.push((name.clone(), c.sums()));
                }
            }
            if opts.gauges && *t == EntryType::Gauge {
                if let StatValue::Gauge(g) = v.ctx.read_entry(*i)?.value {
                    gauges.push((name.clone(), g));
                }
            }
        }
        Ok((ifs, lb, gauges))
    })?;

    let mut out = String::new();
    let mut f = Family { out: &mut out };
    if let Some(ifs) = ifs {
        let named: Vec<_> = ifs
            .iter()
            .filter_map(|s| s.name.clone().map(|n| (n, s)))
            .collect();
        let idx: Vec<String> = named
            .iter()
            .map(|(_, s)| s.sw_if_index.to_string())
            .collect();
        type Pick = fn(&crate::interfaces::InterfaceStats) -> u64;
        let families: [(&str, &str, &str, Pick); 7] = [
            ("rx_packets", "rx", "Packets received", |s| s.rx().packets),
            ("rx_bytes", "rx", "Bytes received", |s| s.rx().bytes),
            ("tx_packets", "tx", "Packets transmitted", |s| {
                s.tx().packets
            }),
            ("tx_bytes", "tx", "Bytes transmitted", |s| s.tx().bytes),
            ("drops", "drops", "Packets dropped", |s| s.drops()),
            ("rx_errors", "rx-error", "Receive errors", |s| {
                s.simple("rx-error")
            }),
            ("tx_errors", "tx-error", "Transmit errors", |s| {
                s.simple("tx-error")
            }),
        ];
        for (suffix, vector, help, pick) in families {
            let present = ifs.simple.iter().any(|(n, _)| *n == vector)
                || ifs.combined.iter().any(|(n, _)| *n == vector);
            if !present || named.is_empty() {
                continue;
            }
            let name = format!("{p}_interface_{suffix}_total");
            f.header(&name, "counter", &format!("{help} (/if/{vector})"));
            for ((ifname, s), i) in named.iter().zip(&idx) {
                f.sample(&name, &[("interface", ifname), ("sw_if_index", i)], pick(s));
            }
        }
    }
    if !lb.is_empty() {
        let name = format!("{p}_lb_vip_packets_total");
        f.header(&name, "counter", "LB plugin per-VIP packet counters");
        for (counter, sums) in &lb {
            let c = sanitize_metric_name(counter);
            for (vip, v) in sums.iter().enumerate() {
                f.sample(
                    &name,
                    &[("counter", &c), ("vip_index", &vip.to_string())],
                    *v,
                );
            }
        }
    }
    let mut seen = HashSet::new();
    for (path, g) in gauges {
        let name = format!("{p}_{}", sanitize_metric_name(&path));
        if !seen.insert(name.clone()) {
            continue;
        }
        f.header(&name, "gauge", &format!("VPP gauge {path}"));
        f.sample(&name, &[], g);
    }
    Ok(out)
}
