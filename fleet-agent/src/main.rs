//! `vpp-fleet-agent`: see the crate docs and the README's "fleet agent" section.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use fleet_agent::agent::{self, Agent, Options};
use fleet_agent::cli::{self, StoreRef};
use fleet_agent::etcd;
use fleet_agent::events::Events;
use fleet_agent::models::{models, Label};
use fleet_agent::store::{self, Snapshot, StatusSink};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "vpp-fleet-agent",
    about = "Applies the desired values under /vnf-agent/<label>/config/ in a store to VPP"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// The microservice label: this agent reads /vnf-agent/<label>/config/... only.
    #[arg(long, default_value = "vpp1", global = true)]
    label: String,
    /// `file:PATH` (a YAML/JSON file, or a directory of them) or `etcd:URL[,URL...]`.
    #[arg(long, global = true)]
    store: Option<String>,
    /// How long to wait before reconnecting to the store.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    store_retry: Duration,
    /// Where the file store's statuses go (default: PATH.status.json).
    #[arg(long, global = true)]
    status_file: Option<PathBuf>,
    /// VPP's API socket.
    #[arg(long, default_value = "/run/vpp/api.sock")]
    socket: PathBuf,
    /// Print each model's key prefix and value schema, and exit.
    #[arg(long)]
    list_models: bool,
    /// Plan the store's values against VPP, print the plan (JSON), send nothing, exit.
    #[arg(long)]
    dry_run: bool,
    /// Reply and connect timeout (VPP and the store).
    #[arg(long, default_value = "5s", value_parser = parse_duration, global = true)]
    timeout: Duration,
    /// Full re-plan period (pending values, drift).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    resync_interval: Duration,
    /// control_ping period (VPP restart detection) and reconnect period.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    ping_interval: Duration,
    /// How often the file store is polled.
    #[arg(long, default_value = "200ms", value_parser = parse_duration)]
    poll_interval: Duration,
    /// How long store changes are gathered into one transaction.
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    batch: Duration,
    /// The longest retry backoff of a failed value.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    retry_max: Duration,
    /// Every request and reply as a JSON line on stderr.
    #[arg(long)]
    trace: bool,
    /// Serve Prometheus metrics on ADDR:PORT (`GET /metrics`).
    #[arg(long)]
    metrics_listen: Option<std::net::SocketAddr>,
    /// VPP 26.06 only: send IPv4 LB VIP and AS keys with prefix length +96 (its lb API's bug);
    /// without it IPv4 VIPs are refused on 26.06 (as `evpn-tools lb sync`).
    #[arg(long = "compat-lb-26.06")]
    compat_lb_26_06: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Put a desired value (checked against its model first).
    Put {
        /// `evpn/bd/v1/100` (relative to /vnf-agent/<label>/config/) or a full key.
        key: String,
        /// The value, JSON.
        value: String,
    },
    /// Print one desired value and its status.
    Get { key: String },
    /// Print the desired values under a prefix (default: all of the label's), with status.
    List {
        #[arg(default_value = "")]
        prefix: String,
    },
    /// Delete a desired value.
    Delete { key: String },
}

enum Store {
    File(PathBuf),
    Etcd(Vec<String>),
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    evpn_tools::commands::parse_duration(s)
}

fn fail(code: i32, msg: &str) -> ! {
    eprintln!("{}", json!({ "error": msg }));
    std::process::exit(code)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if cli.list_models {
        for m in models() {
            println!(
                "{}",
                json!({
                    "model": m.name,
                    "key_prefix": format!("/vnf-agent/<label>/config/{}", m.prefix),
                    "id": m.id,
                    "value": (m.schema)(),
                })
            );
        }
        return;
    }
    let label = Label::new(&cli.label).unwrap_or_else(|e| fail(2, &e));
    let Some(spec) = cli.store.as_deref() else {
        fail(2, "--store is required (file:PATH)")
    };
    let kind = if let Some(p) = store::file_path(spec) {
        Store::File(p)
    } else if let Some(e) = etcd::endpoints(spec) {
        Store::Etcd(e)
    } else {
        fail(
            2,
            &format!("--store {spec:?}: expected file:PATH or etcd:URL[,URL...]"),
        )
    };
    if let Some(cmd) = &cli.cmd {
        let sref = match &kind {
            Store::File(p) => StoreRef::File(p),
            Store::Etcd(e) => StoreRef::Etcd(e),
        };
        let status_file = match &kind {
            Store::File(p) => Some(
                cli.status_file
                    .clone()
                    .unwrap_or_else(|| store::default_status_file(p)),
            ),
            Store::Etcd(_) => None,
        };
        let r = match cmd {
            Cmd::Put { key, value } => {
                if let Err(e) = cli::check(&label, &cli::full_key(&label, key), value) {
                    fail(2, &e)
                }
                cli::put(sref, &label, key, Some(value), cli.timeout)
                    .await
                    .map(|_| 0)
            }
            Cmd::Delete { key } => cli::put(sref, &label, key, None, cli.timeout)
                .await
                .map(|_| 0),
            Cmd::Get { key } => {
                let k = cli::full_key(&label, key);
                cli::list(sref, &label, &k, status_file.as_deref(), cli.timeout)
                    .await
                    .map(|v| match v.into_iter().find(|e| e["key"] == k.as_str()) {
                        Some(e) => {
                            println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default());
                            0
                        }
                        None => {
                            eprintln!("{}", json!({ "error": format!("{k}: not found") }));
                            1
                        }
                    })
            }
            Cmd::List { prefix } => {
                cli::list(sref, &label, prefix, status_file.as_deref(), cli.timeout)
                    .await
                    .map(|v| {
                        for e in v {
                            println!("{e}");
                        }
                        0
                    })
            }
        };
        match r {
            Ok(code) => std::process::exit(code),
            Err(e) => fail(1, &e),
        }
    }
    let o = Options {
        label: label.clone(),
        socket: cli.socket.clone(),
        timeout: cli.timeout,
        resync_interval: cli.resync_interval,
        ping_interval: cli.ping_interval,
        batch: cli.batch,
        retry_max: cli.retry_max,
        trace: cli.trace,
        compat_lb_26_06: cli.compat_lb_26_06,
    };
    if cli.dry_run {
        let entries = match &kind {
            Store::File(path) => {
                store::read_file_store(path, &label.config_prefix()).unwrap_or_else(|e| fail(2, &e))
            }
            Store::Etcd(ep) => {
                let mut c = etcd::connect(ep, cli.timeout)
                    .await
                    .unwrap_or_else(|e| fail(1, &e));
                etcd::read_prefix(&mut c, &label.config_prefix())
                    .await
                    .unwrap_or_else(|e| fail(1, &e))
                    .0
            }
        };
        let snap = Snapshot {
            entries,
            loaded: true,
            connected: true,
            resyncs: 1,
        };
        match agent::dry_run(&o, &snap).await {
            Ok(plan) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&plan).unwrap_or_default()
                );
                let invalid = plan["invalid"].as_object().is_some_and(|m| !m.is_empty());
                std::process::exit(if invalid { 2 } else { 0 })
            }
            Err(e) => fail(1, &e),
        }
    }
    let events = Events::default();
    let (tx, rx) = tokio::sync::watch::channel(Snapshot::default());
    let sink = match kind {
        Store::File(path) => {
            tokio::spawn(store::run_file_store(
                path.clone(),
                label.config_prefix(),
                cli.poll_interval,
                tx,
                events.clone(),
            ));
            StatusSink::File {
                path: cli
                    .status_file
                    .clone()
                    .unwrap_or_else(|| store::default_status_file(&path)),
                last: None,
            }
        }
        Store::Etcd(ep) => {
            tokio::spawn(etcd::run_etcd_store(
                ep.clone(),
                label.config_prefix(),
                cli.timeout,
                cli.store_retry,
                tx,
                events.clone(),
            ));
            let (stx, srx) = tokio::sync::watch::channel(Default::default());
            tokio::spawn(etcd::run_status_writer(
                ep,
                label.status_prefix(),
                cli.timeout,
                cli.store_retry,
                srx,
                events.clone(),
            ));
            StatusSink::Etcd(stx)
        }
    };
    events.info(
        "agent-started",
        &format!("label {}", label.name),
        &[("label", &label.name)],
    );
    let metrics = fleet_agent::metrics::Metrics::new();
    if let Some(sa) = cli.metrics_listen {
        let l = tokio::net::TcpListener::bind(sa)
            .await
            .unwrap_or_else(|e| fail(2, &format!("--metrics-listen {sa}: {e}")));
        let bound = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
        tokio::spawn(fleet_agent::metrics::serve(l, metrics.clone()));
        events.info(
            "metrics-listening",
            &format!("metrics on http://{bound}/metrics"),
            &[("address", &bound)],
        );
    }
    let agent = Agent::new(o, sink, events, metrics);
    tokio::select! {
        r = agent.run(rx) => {
            if let Err(e) = r {
                fail(1, &e)
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
}
