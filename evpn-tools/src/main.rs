//! `evpn-tools`: the eVPN gateway commands. `--help` on any command lists its flags.

use clap::{Parser, Subcommand};
use evpn_tools::commands::{self, Done, Global};
use evpn_tools::output::exit;
use evpn_tools::{apply, events, maglev_cmd};

#[derive(Parser)]
#[command(
    name = "evpn-tools",
    version,
    about = "eVPN gateway on VPP: bridge domains, BVIs, break-before-make gateway moves",
    after_help = "Exit codes: 0 converged, 1 error, 2 bad input, 3 converged but needs a person."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// VPP's version, PID and which optional messages it has.
    Info,
    /// Bridge domains.
    #[command(subcommand)]
    Bd(commands::BdCmd),
    /// L2FIB entries.
    #[command(subcommand)]
    L2fib(commands::L2fibCmd),
    /// BVI loopbacks and the gateway identity.
    #[command(subcommand)]
    Bvi(commands::BviCmd),
    /// Static VXLAN tunnels.
    #[command(subcommand)]
    Vxlan(commands::VxlanCmd),
    /// VPP events as JSON lines.
    #[command(subcommand)]
    Watch(WatchCmd),
    /// Reconcile VPP to a desired state in YAML or TOML.
    Apply(apply::ApplyArgs),
    /// The load balancer (VPP's lb plugin): conf, sync, status, stats.
    #[command(subcommand)]
    Lb(evpn_tools::lb::cmd::LbCmd),
    /// VPP's Maglev new-flow table, offline.
    #[command(subcommand)]
    Maglev(MaglevCmd),
}

#[derive(Subcommand)]
enum MaglevCmd {
    /// Build the table for a set of ASes: buckets per AS, balance, change against a baseline.
    Table(maglev_cmd::TableArgs),
}

#[derive(Subcommand)]
enum WatchCmd {
    /// Interface and learned-MAC events.
    Events(events::WatchArgs),
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(exit::ERROR);
        }
    };
    let g = cli.global.clone();
    let r = rt.block_on(async move {
        match cli.cmd {
            Cmd::Info => commands::info(&g).await,
            Cmd::Bd(c) => commands::bd(&g, c).await,
            Cmd::L2fib(c) => commands::l2fib(&g, c).await,
            Cmd::Bvi(c) => commands::bvi(&g, c).await,
            Cmd::Vxlan(c) => commands::vxlan(&g, c).await,
            Cmd::Watch(WatchCmd::Events(a)) => events::watch(&g, a).await,
            Cmd::Apply(a) => apply::apply(&g, a).await,
            Cmd::Lb(c) => evpn_tools::lb::cmd::run(&g, c).await,
            Cmd::Maglev(MaglevCmd::Table(a)) => maglev_cmd::table(&g, a).await,
        }
    });
    let code = match r {
        Ok(Done::Printed(code)) => code,
        Ok(Done::Report(mut report)) => {
            report.finish(cli.global.strict);
            if cli.global.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", report.to_text());
            }
            report.exit_code
        }
        Err(f) => {
            if cli.global.json {
                println!("{}", serde_json::json!({ "error": f.message() }));
            } else {
                eprintln!("error: {}", f.message());
            }
            f.exit_code()
        }
    };
    std::process::exit(code);
}
