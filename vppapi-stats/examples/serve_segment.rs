//! Serves a writer-built segment with N interfaces on a stats socket, like VPP, until stdin
//! closes (or for a given number of seconds): for vpp_papi comparisons and manual checks.
//!
//! `cargo run --release -p vppapi-stats --example serve_segment -- SOCKET [INTERFACES] [THREADS] [SECONDS]`

use std::io::Read;
use std::time::Duration;

use vppapi_stats::writer::interface_segment;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: serve_segment SOCKET [INTERFACES] [THREADS] [SECONDS]")?;
    let n: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let threads: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    let seconds: Option<u64> = args.next().map(|a| a.parse()).transpose()?;
    let w = interface_segment(n, threads, false)?;
    let server = w.serve(&path)?;
    println!(
        "serving {n} interfaces x {threads} threads ({} bytes used) on {path}",
        w.used_len()
    );
    match seconds {
        Some(s) => std::thread::sleep(Duration::from_secs(s)),
        None => {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        }
    }
    eprintln!("served {} clients", server.served());
    Ok(())
}
