//! `vppapi-quickstart`: the README's main job, end to end.
//!
//! Connects to VPP's API socket (`--socket`, default `/run/vpp/api.sock`); when no VPP listens
//! there it starts the simulator (`vpp-sim`) in-process on a temporary socket instead, and says
//! so. Then it does what a controller does on a router: checks that the messages it needs exist
//! with the CRCs it was built for, creates a loopback, brings it up, gives it an address, dumps
//! interfaces and addresses, and reads the interface counters from the stats segment.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use futures_util::StreamExt;
use vppapi_binapi::interface::{
    CreateLoopback, DeleteLoopback, SwInterfaceAddDelAddress, SwInterfaceDump, SwInterfaceSetFlags,
};
use vppapi_binapi::interface_types::IfStatusFlags;
use vppapi_binapi::ip::IpAddressDump;
use vppapi_runtime::codec::Message;
use vppapi_runtime::memclnt::ShowVersion;
use vppapi_runtime::{Config, Connection, InterfaceIndex, MacAddress};

#[derive(Parser)]
#[command(about = "Talk to VPP (or the simulator when no VPP runs) end to end")]
struct Args {
    /// VPP's API socket.
    #[arg(long, default_value = "/run/vpp/api.sock")]
    socket: PathBuf,
    /// VPP's stats socket.
    #[arg(long, default_value = "/run/vpp/stats.sock")]
    stats_socket: PathBuf,
    /// Always use the simulator, even when a VPP socket exists.
    #[arg(long)]
    simulator: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), BoxError> {
    // Keep the simulator (and its temp dir) alive for the whole run.
    let mut _sim = None;
    let (socket, stats_socket) = if !args.simulator && args.socket.exists() {
        println!("using VPP at {}", args.socket.display());
        (args.socket, args.stats_socket)
    } else {
        let dir = tempfile::tempdir()?;
        let mut cfg = vpp_sim::SimConfig::new(dir.path().join("api.sock"));
        cfg.stats_socket = Some(dir.path().join("stats.sock"));
        let sim = vpp_sim::Simulator::start(cfg.clone()).await?;
        println!(
            "no VPP at {}: using the simulator at {}",
            args.socket.display(),
            sim.socket().display()
        );
        let paths = (cfg.socket, cfg.stats_socket.unwrap());
        _sim = Some((sim, dir));
        paths
    };

    let conn = Connection::connect(Config {
        endpoint: vppapi_runtime::Endpoint::Socket(socket),
        client_name: "vppapi-quickstart".into(),
        reply_timeout: Duration::from_secs(5),
        ..Config::default()
    })
    .await?;
    let v = conn.call(&ShowVersion {}).await?;
    println!(
        "connected: {} {} (vpe_pid {:?})",
        v.program,
        v.version,
        conn.vpe_pid()
    );

    let needed = [
        CreateLoopback::NAME_CRC,
        SwInterfaceSetFlags::NAME_CRC,
        SwInterfaceAddDelAddress::NAME_CRC,
        SwInterfaceDump::NAME_CRC,
        IpAddressDump::NAME_CRC,
        DeleteLoopback::NAME_CRC,
    ];
    if let Some(report) = conn.compat(&needed) {
        println!("compatibility: {report}");
        if !report.is_compatible() {
            return Err("this VPP lacks messages the quickstart needs".into());
        }
    }

    let lo = conn
        .call(&CreateLoopback {
            mac_address: MacAddress([0x02, 0xfe, 0, 0, 0, 0x01]),
        })
        .await?;
    let sw_if_index = lo.sw_if_index;
    println!("created loopback sw_if_index {}", sw_if_index.0);
    conn.call(&SwInterfaceSetFlags {
        sw_if_index,
        flags: IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP,
    })
    .await?;
    conn.call(&SwInterfaceAddDelAddress {
        sw_if_index,
        is_add: true,
        del_all: false,
        prefix: "192.0.2.1/24".parse()?,
    })
    .await?;

    println!("interfaces:");
    let mut ifs = conn
        .dump(&SwInterfaceDump {
            sw_if_index: InterfaceIndex(u32::MAX),
            ..Default::default()
        })
        .await?;
    while let Some(d) = ifs.next().await {
        let d = d?;
        println!(
            "  {:>3} {:<12} {} flags {}",
            d.sw_if_index.0, d.interface_name, d.l2_address, d.flags
        );
    }
    let mut addrs = conn
        .dump(&IpAddressDump {
            sw_if_index,
            is_ipv6: false,
        })
        .await?;
    while let Some(a) = addrs.next().await {
        println!("  address on {}: {}", sw_if_index.0, a?.prefix);
    }

    match vppapi_stats::Client::connect(&stats_socket) {
        Ok(mut stats) => {
            let c = stats.interface_counters()?;
            println!("stats segment: {} interfaces", c.names.len());
            for (i, name) in c.names.iter().enumerate() {
                if let Some(name) = name {
                    let s = stats.interface(i as u32)?;
                    println!(
                        "  {name:<12} rx {} pkts / tx {} pkts",
                        s.rx().packets,
                        s.tx().packets
                    );
                }
            }
        }
        Err(e) => println!(
            "stats segment not available at {}: {e}",
            stats_socket.display()
        ),
    }

    conn.call(&DeleteLoopback { sw_if_index }).await?;
    println!("deleted loopback {}; done", sw_if_index.0);
    conn.close().await;
    Ok(())
}
