//! `vpp-fleet-agent`: see the crate docs and the README's "fleet agent" section.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use fleet_agent::agent::{self, Agent, Options};
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
    /// The microservice label: this agent reads /vnf-agent/<label>/config/... only.
    #[arg(long, default_value = "vpp1")]
    label: String,
    /// `file:PATH` (a YAML/JSON file, or a directory of them).
    #[arg(long)]
    store: Option<String>,
    /// Where the file store's statuses go (default: PATH.status.json).
    #[arg(long)]
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
    /// Reply and connect timeout.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
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
    let Some(path) = store::file_path(spec) else {
        fail(2, &format!("--store {spec:?}: expected file:PATH"))
    };
    let o = Options {
        label: label.clone(),
        socket: cli.socket.clone(),
        timeout: cli.timeout,
        resync_interval: cli.resync_interval,
        ping_interval: cli.ping_interval,
        batch: cli.batch,
        retry_max: cli.retry_max,
        trace: cli.trace,
    };
    if cli.dry_run {
        let entries =
            store::read_file_store(&path, &label.config_prefix()).unwrap_or_else(|e| fail(2, &e));
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
    let sink = StatusSink::File {
        path: cli
            .status_file
            .clone()
            .unwrap_or_else(|| store::default_status_file(&path)),
        last: None,
    };
    tokio::spawn(store::run_file_store(
        path,
        label.config_prefix(),
        cli.poll_interval,
        tx,
        events.clone(),
    ));
    events.info(
        "agent-started",
        &format!("label {}", label.name),
        &[("label", &label.name)],
    );
    let agent = Agent::new(o, sink, events);
    tokio::select! {
        r = agent.run(rx) => {
            if let Err(e) = r {
                fail(1, &e)
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
}
