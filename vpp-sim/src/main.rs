//! `vpp-sim --socket PATH [--stats-socket PATH]`: serves a simulated VPP 26.06 until killed.

use clap::Parser;

#[derive(Parser)]
#[command(about = "A VPP 26.06 simulator that is exact on the wire")]
struct Args {
    /// API socket path (SOCK_STREAM), like /run/vpp/api.sock.
    #[arg(long)]
    socket: std::path::PathBuf,
    /// Stats socket path (SOCK_SEQPACKET), like /run/vpp/stats.sock.
    #[arg(long)]
    stats_socket: Option<std::path::PathBuf>,
    /// Directory of VPP 26.06 `.api.json` files, for `get_api_json`.
    #[arg(long)]
    api_json_dir: Option<std::path::PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let mut cfg = vpp_sim::SimConfig::new(&args.socket);
    cfg.stats_socket = args.stats_socket;
    cfg.api_json_dir = args.api_json_dir;
    let sim = match vpp_sim::Simulator::start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vpp-sim: cannot start on {}: {e}", args.socket.display());
            std::process::exit(1);
        }
    };
    eprintln!("vpp-sim: serving {}", sim.socket().display());
    let _ = tokio::signal::ctrl_c().await;
}
