//! The `vpp-sim` binary restarted on the same paths, as tests simulate a VPP restart: after
//! SIGKILL its socket files stay behind and the next start must replace them; SIGTERM removes
//! them.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// Starts the binary and waits for its `serving` line (panics with its stderr if it exits).
fn start(api: &Path, stats: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpp-sim"))
        .arg("--socket")
        .arg(api)
        .arg("--stats-socket")
        .arg(stats)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for l in BufReader::new(stderr).lines() {
            let Ok(l) = l else { break };
            let ready = l.starts_with("vpp-sim: serving");
            lines.push(l);
            if ready {
                let _ = tx.send(Ok(()));
            }
        }
        let _ = tx.send(Err(lines.join("\n")));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(())) => child,
        Ok(Err(e)) => panic!("vpp-sim exited: {e}"),
        Err(_) => {
            let _ = child.kill();
            panic!("vpp-sim not ready in 20 s")
        }
    }
}

/// A handshake and a `control_ping` on the API socket, and a read of the stats segment.
fn serves(api: &Path, stats: &Path) -> u32 {
    let mut c = Raw::connect(api);
    c.handshake("restart");
    let r = c.call("control_ping", 1, &[]);
    assert_eq!(rv(&r), 0);
    let mut sc = vppapi_stats::Client::connect(stats).unwrap();
    assert!(matches!(
        sc.read("/sys/boottime").unwrap(),
        vppapi_stats::StatValue::Scalar(_)
    ));
    be32(&r, 14) // vpe_pid
}

#[test]
fn restarts_on_the_paths_a_killed_simulator_left() {
    let dir = tempfile::tempdir().unwrap();
    let (api, stats) = (dir.path().join("api.sock"), dir.path().join("stats.sock"));
    let mut a = start(&api, &stats);
    let pid_a = serves(&api, &stats);
    a.kill().unwrap(); // SIGKILL
    a.wait().unwrap();
    assert!(
        api.exists() && stats.exists(),
        "stale socket files left behind"
    );
    let mut b = start(&api, &stats);
    let pid_b = serves(&api, &stats);
    assert_ne!(pid_a, pid_b, "a new vpe_pid, as after a VPP restart");
    // SIGTERM: a clean exit that removes both files.
    let st = Command::new("kill")
        .args(["-TERM", &b.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let code = b.wait().unwrap();
    assert!(code.success(), "{code:?}");
    assert!(!api.exists() && !stats.exists());
}
