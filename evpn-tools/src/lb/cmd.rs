//! The `lb` commands (operator-tools.md §4.6): `conf`, `sync`, `status`, `stats`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;

use super::config::{self, is_pow2, LbDesired, DEFAULT_BUCKETS};
use super::model::{key, IpPrefix, LbConf};
use super::read::{read, LbRead, COUNTERS};
use super::stats::{self, LbCounters};
use super::sync::{capabilities, check, sync, SyncOptions};
use crate::commands::{connect, parse_duration, BadInput, Done, Failure, Global};
use crate::output::{exit, Report};

#[derive(Debug, Subcommand)]
pub enum LbCmd {
    /// lb's global settings: GRE source addresses, sticky buckets per core, flow timeout.
    /// Sends `lb_conf` only when VPP differs.
    Conf(ConfArgs),
    /// Reconcile VIPs and ASes to a YAML file.
    Sync(SyncArgs),
    /// VIPs, ASes, buckets and counters as VPP has them.
    Status(StatusArgs),
    /// The four per-VIP counters from the stats segment.
    Stats(StatsArgs),
    /// The long-running controller (like vpp-maglev's maglevd): health checks, pools, warmup,
    /// event-driven and periodic syncs, metrics; SIGHUP reloads.
    Controller(crate::controller::ControllerArgs),
}

#[derive(Debug, Args)]
pub struct ConfArgs {
    /// Source address of GRE4 packets to the ASes.
    #[arg(long)]
    pub ip4_src: Ipv4Addr,
    /// Source address of GRE6 packets to the ASes.
    #[arg(long)]
    pub ip6_src: Ipv6Addr,
    /// Sticky-table buckets per worker (a power of two).
    #[arg(long, default_value_t = DEFAULT_BUCKETS)]
    pub buckets: u32,
    /// Idle time after which a sticky flow expires.
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The desired LB state (YAML).
    #[arg(long)]
    pub config: PathBuf,
    /// Remove VIPs inside the file's managed-prefixes that it does not list.
    #[arg(long)]
    pub prune: bool,
    /// VPP 26.06 only: send IPv4 VIP and AS keys with prefix length +96 (its lb API's bug);
    /// without it IPv4 VIPs are refused on 26.06.
    #[arg(long = "compat-lb-26.06")]
    pub compat_lb_26_06: bool,
    /// On a failure, undo what this run applied.
    #[arg(long)]
    pub rollback: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this VIP prefix.
    #[arg(long)]
    pub vip: Option<IpPrefix>,
    /// Also list VIPs and ASes VPP still keeps as removed (soft-deleted, until GC).
    #[arg(long)]
    pub all: bool,
    /// Also read the counters from the stats segment at this socket.
    #[arg(long)]
    pub stats_socket: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// VPP's stats socket.
    #[arg(long, default_value = "/run/vpp/stats.sock")]
    pub stats_socket: PathBuf,
    /// Only this VIP prefix (its pool index comes from `show lb vips verbose` over the API).
    #[arg(long)]
    pub vip: Option<IpPrefix>,
    /// Prometheus text instead of a table.
    #[arg(long)]
    pub prom: bool,
    /// Print again every interval until interrupted (with `--json`: one JSON line each).
    #[arg(long, value_parser = parse_duration)]
    pub watch: Option<Duration>,
}

pub async fn run(g: &Global, cmd: LbCmd) -> Result<Done, Failure> {
    match cmd {
        LbCmd::Conf(a) => conf(g, a).await,
        LbCmd::Sync(a) => sync_cmd(g, a).await,
        LbCmd::Status(a) => status(g, a).await,
        LbCmd::Stats(a) => stats_cmd(g, a).await,
        LbCmd::Controller(a) => crate::controller::run(g, a).await,
    }
}

async fn conf(g: &Global, a: ConfArgs) -> Result<Done, Failure> {
    if !is_pow2(a.buckets) {
        return Err(BadInput(format!(
            "--buckets {}: not a power of two (VPP refuses it with -70)",
            a.buckets
        ))
        .into());
    }
    let secs = a.timeout.as_secs();
    if secs == 0 || secs >= u64::from(u32::MAX) {
        return Err(BadInput(format!("--timeout {secs}s: out of range (1 s or more)")).into());
    }
    let desired = LbDesired {
        conf: Some(LbConf {
            ip4_src: a.ip4_src,
            ip6_src: a.ip6_src,
            sticky_buckets_per_core: Some(a.buckets),
            flow_timeout: Some(secs as u32),
        }),
        ..Default::default()
    };
    one_sync(g, "lb conf", &desired, &SyncOptions::default()).await
}

async fn sync_cmd(g: &Global, a: SyncArgs) -> Result<Done, Failure> {
    let desired = config::load(&a.config).map_err(BadInput)?;
    let opts = SyncOptions {
        prune: a.prune,
        compat_lb_26_06: a.compat_lb_26_06,
        rollback: a.rollback,
    };
    one_sync(g, "lb sync", &desired, &opts).await
}

async fn one_sync(
    g: &Global,
    name: &str,
    desired: &LbDesired,
    opts: &SyncOptions,
) -> Result<Done, Failure> {
    let mut vpp = connect(g, &g.socket).await?;
    // Refusals come before anything is read or sent.
    let caps = capabilities(&vpp);
    check(desired, &caps, opts)?;
    let step = sync(&mut vpp, desired, opts).await;
    vpp.conn.close().await;
    let step = step?;
    let mut report = Report::new(name);
    report.warnings.extend(desired.warnings.iter().cloned());
    // 26.06 has no lb_conf getter: say that buckets and timeout were not compared rather than
    // let "0 operations" read as "VPP has them".
    let conf_sent = step.ops.iter().any(|o| o.key == key::CONF);
    if desired.conf.is_some() && !conf_sent && !caps.lb_fixed && !caps.lb_1_2 {
        report.warnings.push(
            "lb_conf: VPP 26.06 (lb.api 1.1.0) cannot read back sticky-buckets-per-core and \
             flow-timeout; only the source addresses were compared, and VPP keeps the values \
             of its last lb_conf"
                .into(),
        );
    }
    report.steps.push(step);
    Ok(Done::Report(report))
}

/// One VIP of `lb status`.
fn vip_json(r: &LbRead, v: &super::read::ScrapedVip, all: bool) -> serde_json::Value {
    let live = !v.removed && r.live().any(|l| l.index == v.index);
    let used = if live { r.used_ases(v) } else { Vec::new() };
    let ases: Vec<_> = v
        .ases
        .iter()
        .filter(|a| all || (a.used && used.contains(&a.address)))
        .map(|a| {
            json!({
                "address": a.address.to_string(), "used": a.used, "buckets": a.buckets,
                "flows": a.flows, "dpo": a.dpo, "weight": a.weight,
            })
        })
        .collect();
    json!({
        "index": v.index,
        "prefix": v.prefix.to_string(),
        "protocol": v.protocol().to_string(),
        "port": v.port(),
        "type": v.vip_type,
        "encap": v.encap().map(|e| e.to_string()),
        "new_flows_table_length": v.new_size,
        "src_ip_sticky": v.src_ip_sticky,
        "removed": v.removed,
        "used_ases": used.len(),
        "counters": v.counters,
        "ases": ases,
    })
}

async fn status(g: &Global, a: StatusArgs) -> Result<Done, Failure> {
    let mut vpp = connect(g, &g.socket).await?;
    let caps = capabilities(&vpp);
    if !caps.lb {
        return Err(Failure::Error(format!(
            "this VPP has no usable lb plugin; missing: {}",
            caps.missing.join(", ")
        )));
    }
    let r = read(&mut vpp).await?;
    vpp.conn.close().await;
    let counters = match &a.stats_socket {
        Some(p) => Some(stats::read_counters(p)?),
        None => None,
    };
    let vips: Vec<_> = r
        .vips
        .iter()
        .filter(|v| a.all || !v.removed)
        .filter(|v| a.vip.is_none_or(|p| p == v.prefix))
        .map(|v| {
            let mut j = vip_json(&r, v, a.all);
            if let Some(c) = counters.as_ref().and_then(|c| c.by_index.get(&v.index)) {
                j["stats_segment"] = json!(c);
            }
            j
        })
        .collect();
    let doc = json!({
        "conf": r.src.map(|(a, b)| json!({"ip4_src": a.to_string(), "ip6_src": b.to_string()})),
        "lb_api": if caps.lb_1_2 { "1.2.0" } else { "1.1.0" },
        "vips": vips,
    });
    if g.json {
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        if let Some((a4, a6)) = r.src {
            println!("lb conf: ip4-src {a4}, ip6-src {a6}");
        }
        for v in doc["vips"].as_array().into_iter().flatten() {
            println!(
                "[{}] {} {}/{} {}{}{}  new-len {}  used ASes {}",
                v["index"],
                v["prefix"].as_str().unwrap_or(""),
                v["protocol"].as_str().unwrap_or(""),
                v["port"],
                v["type"].as_str().unwrap_or(""),
                if v["src_ip_sticky"] == true {
                    " sticky"
                } else {
                    ""
                },
                if v["removed"] == true { " REMOVED" } else { "" },
                v["new_flows_table_length"],
                v["used_ases"],
            );
            for name in COUNTERS {
                println!("    {name}: {}", v["counters"][name]);
            }
            for s in v["ases"].as_array().into_iter().flatten() {
                println!(
                    "    {:<40} {:>6} buckets {:>6} flows  {}",
                    s["address"].as_str().unwrap_or(""),
                    s["buckets"],
                    s["flows"],
                    if s["used"] == true { "used" } else { "removed" }
                );
            }
        }
    }
    Ok(Done::Printed(exit::CONVERGED))
}

async fn stats_cmd(g: &Global, a: StatsArgs) -> Result<Done, Failure> {
    let mut client = vppapi_stats::Client::connect(&a.stats_socket).map_err(|e| {
        format!(
            "cannot open the stats segment at {}: {e}",
            a.stats_socket.display()
        )
    })?;
    // Label the indices with VIP prefixes when the API is there (required for --vip). The
    // labels are read once: a VIP's pool index does not change while it lives.
    let api = if a.vip.is_some() || g.socket.exists() {
        let mut vpp = connect(g, &g.socket).await?;
        let r = read(&mut vpp).await?;
        vpp.conn.close().await;
        Some(r)
    } else {
        None
    };
    let only: Option<Vec<u32>> = match &a.vip {
        None => None,
        Some(p) => {
            let r = api.as_ref().expect("connected above");
            let idx: Vec<u32> = r
                .live()
                .filter(|v| v.prefix == *p)
                .map(|v| v.index)
                .collect();
            if idx.is_empty() {
                return Err(Failure::Error(format!("no live VIP {p} in VPP")));
            }
            Some(idx)
        }
    };
    loop {
        let counters: LbCounters = stats::read_with(&mut client)?;
        let mut labels: BTreeMap<u32, String> = BTreeMap::new();
        match &api {
            Some(r) => {
                for v in r.live() {
                    labels.insert(
                        v.index,
                        format!("{} {}/{}", v.prefix, v.protocol(), v.port()),
                    );
                }
            }
            None => {
                for &i in counters.by_index.keys().filter(|&&i| i != 0) {
                    labels.insert(i, format!("[{i}]"));
                }
            }
        }
        if let Some(idx) = &only {
            labels.retain(|i, _| idx.contains(i));
        }
        print_stats(g, &a, &counters, &labels);
        let Some(every) = a.watch else {
            return Ok(Done::Printed(exit::CONVERGED));
        };
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = tokio::signal::ctrl_c() => return Ok(Done::Printed(exit::CONVERGED)),
        }
    }
}

fn print_stats(g: &Global, a: &StatsArgs, counters: &LbCounters, labels: &BTreeMap<u32, String>) {
    if a.prom {
        print!("{}", stats::prometheus(counters, labels));
        return;
    }
    let vips: Vec<_> = labels
        .iter()
        .map(|(i, vip)| {
            json!({
                "index": i,
                "vip": vip,
                "counters": counters.by_index.get(i).cloned().unwrap_or_default(),
            })
        })
        .collect();
    if g.json {
        let doc = json!({
            "ts": crate::output::rfc3339(std::time::SystemTime::now()),
            "boottime": counters.boottime,
            "vips": vips,
        });
        if a.watch.is_some() {
            println!("{doc}");
        } else {
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    } else {
        if counters.by_index.is_empty() {
            println!("no LB counters in the stats segment (no VIP was added yet)");
        }
        for v in &vips {
            println!("[{}] {}", v["index"], v["vip"].as_str().unwrap_or(""));
            for name in COUNTERS {
                println!("    {name}: {}", v["counters"][name].as_u64().unwrap_or(0));
            }
        }
    }
}
