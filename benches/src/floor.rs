//! The "floor": a raw C client of VPP's API socket (`benches/c/vpp_ping_floor.c`) that times
//! `control_ping` round trips with a plain blocking socket, no threads and no allocation in the
//! loop. Its calls/s are what any client can reach on the same machine and server; benches
//! report the Rust client's numbers next to it.
//!
//! ```no_run
//! # fn demo() -> std::io::Result<()> {
//! let bin = vppapi_benches::floor::build_floor_client()?;
//! let run = vppapi_benches::floor::run_floor(&bin, "/run/vpp/api.sock".as_ref(), 100_000, 1)?;
//! println!("floor: {:.0} calls/s", run.calls_per_sec);
//! # Ok(()) }
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The C source, inside this crate.
fn floor_source() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("c/vpp_ping_floor.c")
}

/// `$CARGO_TARGET_DIR` (a relative one taken from the workspace root) or `<workspace>/target`.
fn target_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => workspace.join(d), // join keeps an absolute `d` as is
        _ => workspace.join("target"),
    }
}

/// Compiles `benches/c/vpp_ping_floor.c` with `cc -O2 -std=c11 -Wall -Wextra` (`$CC`, a
/// compiler program without arguments, replaces `cc` when set) into
/// `<target dir>/vpp-floor/vpp_ping_floor` and returns that path.
///
/// The target dir is `$CARGO_TARGET_DIR` (relative: from the workspace root) or
/// `<workspace>/target`. The compiler runs only if the binary is missing or older than the
/// source; the binary is compiled under a temporary name and renamed into place, so concurrent
/// callers (parallel tests, benches) never see a half-written file.
///
/// # Errors
/// An [`io::Error`] naming the compiler if it cannot be started (e.g. `cc` not installed), or
/// carrying its exit status and stderr if the compilation fails; I/O errors on the target dir.
pub fn build_floor_client() -> io::Result<PathBuf> {
    let src = floor_source();
    let dir = target_dir().join("vpp-floor");
    let bin = dir.join("vpp_ping_floor");
    let src_time = std::fs::metadata(&src)
        .and_then(|m| m.modified())
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", src.display())))?;
    if let Ok(bin_time) = std::fs::metadata(&bin).and_then(|m| m.modified()) {
        if bin_time >= src_time {
            return Ok(bin);
        }
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".vpp_ping_floor.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let cc = std::env::var_os("CC")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "cc".into());
    const FLAGS: [&str; 4] = ["-O2", "-std=c11", "-Wall", "-Wextra"];
    let out = Command::new(&cc)
        .args(FLAGS)
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot run the C compiler `{}` to build the floor client: {e}",
                    cc.to_string_lossy()
                ),
            )
        })?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io::Error::other(format!(
            "`{} {} -o {} {}` failed ({}): {}",
            cc.to_string_lossy(),
            FLAGS.join(" "),
            tmp.display(),
            src.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    std::fs::rename(&tmp, &bin).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(bin)
}

/// One run of the floor client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorRun {
    /// `control_ping` round trips completed (= the `count` asked for).
    pub calls: u64,
    /// Wall time of the timed loop (after connect and handshake), in seconds.
    pub seconds: f64,
    /// `calls / seconds`.
    pub calls_per_sec: f64,
}

/// Runs the floor client `bin` (from [`build_floor_client`]) against the VPP API socket
/// `socket`: `count` `control_ping`s, synchronous when `pipeline` is 1 (0 is taken as 1),
/// otherwise with `pipeline` requests in flight. Blocks until it exits; its JSON line
/// (`{"calls", "seconds", "calls_per_sec", "pipeline"}`) is parsed into a [`FloorRun`].
///
/// # Errors
/// An [`io::Error`] if the client cannot be started, exits non-zero (the message carries its
/// stderr: connect failure, short read, wrong message id or context, ...) or prints no
/// parseable JSON line.
pub fn run_floor(bin: &Path, socket: &Path, count: u64, pipeline: u32) -> io::Result<FloorRun> {
    let out = Command::new(bin)
        .arg(socket)
        .arg(count.to_string())
        .arg(pipeline.max(1).to_string())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {}: {e}", bin.display())))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "floor client failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let bad = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("floor client output {line:?}: {why}"),
        )
    };
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
    Ok(FloorRun {
        calls: v["calls"].as_u64().ok_or_else(|| bad("no u64 \"calls\""))?,
        seconds: v["seconds"].as_f64().ok_or_else(|| bad("no \"seconds\""))?,
        calls_per_sec: v["calls_per_sec"]
            .as_f64()
            .ok_or_else(|| bad("no \"calls_per_sec\""))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket_path(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("vpp-floor-{tag}-{}.sock", std::process::id()))
    }

    /// Against vpp-sim: 20000 synchronous pings, then 20000 with 16 in flight.
    #[test]
    fn floor_client_against_the_simulator() {
        let bin = build_floor_client().expect("build the floor client");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let path = socket_path("sim");
        let sim = rt
            .block_on(vpp_sim::Simulator::start(vpp_sim::SimConfig::new(&path)))
            .expect("start vpp-sim");
        for pipeline in [1, 16] {
            let run = run_floor(&bin, &path, 20_000, pipeline).expect("floor run");
            eprintln!(
                "floor vs vpp-sim, pipeline {pipeline}: {:.0} calls/s ({} calls in {:.3} s)",
                run.calls_per_sec, run.calls, run.seconds
            );
            assert_eq!(run.calls, 20_000);
            assert!(run.calls_per_sec > 0.0 && run.seconds > 0.0, "{run:?}");
        }
        assert_eq!(sim.connections_accepted(), 2);
        drop(sim);
    }

    #[test]
    fn floor_client_reports_connect_failure() {
        let bin = build_floor_client().expect("build the floor client");
        let err = run_floor(&bin, &socket_path("absent"), 10, 1).unwrap_err();
        assert!(err.to_string().contains("cannot connect"), "{err}");
    }
}
