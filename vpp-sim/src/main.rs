//! `vpp-sim --socket PATH [--stats-socket PATH] [--main-loop idle|busy|poll:USEC]
//! [--lb-api 1.1.0|1.2.0]`: serves a simulated VPP 26.06 (API socket and shared-memory
//! segments) until killed; `--lb-api 1.2.0` swaps in the `lb` plugin of VPP master after 26.06. Socket files
//! left by a simulator killed with SIGKILL are replaced (a restart on the same paths, like a
//! VPP restart); SIGINT and SIGTERM remove them.

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
    /// VPP's main loop as shared-memory clients see it: `idle` (a stock VPP: epoll sleeps up
    /// to 10 ms between passes), `busy` (a polling input node: segments polled, the socket
    /// read late) or `poll:USEC` (segments polled every USEC microseconds).
    #[arg(long, default_value = "idle", value_parser = parse_main_loop)]
    main_loop: vpp_sim::MainLoop,
    /// The `lb` plugin's API: `1.1.0` (VPP 26.06) or `1.2.0` (VPP master after 26.06: AS
    /// weights, `lb_conf_get`, `lb_as_v2_dump`, the handler fixes).
    #[arg(long, value_name = "VERSION", default_value = "1.1.0", value_parser = parse_lb_api, action = clap::ArgAction::Set)]
    lb_api: bool,
}

/// `--lb-api`: whether it is 1.2.0.
fn parse_lb_api(s: &str) -> Result<bool, String> {
    match s {
        "1.1.0" | "26.06" => Ok(false),
        "1.2.0" | "master" => Ok(true),
        _ => Err(format!(
            "unknown lb API {s:?}: 1.1.0 (VPP 26.06) or 1.2.0 (VPP master)"
        )),
    }
}

fn parse_main_loop(s: &str) -> Result<vpp_sim::MainLoop, String> {
    match s {
        "idle" => Ok(vpp_sim::MainLoop::Idle),
        "busy" => Ok(vpp_sim::MainLoop::Busy),
        _ => match s.strip_prefix("poll:").map(str::parse::<u64>) {
            Some(Ok(us)) if us > 0 => Ok(vpp_sim::MainLoop::Polling(
                std::time::Duration::from_micros(us),
            )),
            _ => Err(format!(
                "unknown main loop {s:?}: idle, busy or poll:USEC (USEC > 0)"
            )),
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let mut cfg = vpp_sim::SimConfig::new(&args.socket);
    cfg.stats_socket = args.stats_socket;
    cfg.api_json_dir = args.api_json_dir;
    cfg.main_loop = args.main_loop;
    cfg.lb_api_1_2 = args.lb_api;
    let sim = match vpp_sim::Simulator::start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vpp-sim: cannot start on {}: {e}", args.socket.display());
            std::process::exit(1);
        }
    };
    eprintln!("vpp-sim: serving {}", sim.socket().display());
    // SIGINT or SIGTERM: drop the simulator, which removes its socket files. After SIGKILL
    // they stay behind; the next start replaces them (both binds unlink a stale file first).
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    drop(sim);
}
