//! `type: icmp` health checks through the controller binary, with real sockets: `--check`
//! accepts the file without opening any, and a running controller (no VPP needed for its
//! probes: the API socket here does not exist) reports each backend's first ICMP result as a
//! `backend-transition` event. Whether this process may open an ICMP socket (root,
//! `CAP_NET_RAW`, or its group inside `net.ipv4.ping_group_range`) is found out here
//! directly, and the events must agree either way: loopback up (`L3OK`) and a silent address
//! down (`timeout`, or the send's errno where the packet cannot leave), or both down with
//! `EPERM` and the remedy.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_evpn-tools");

/// be1 answers (all of 127/8 is loopback on Linux); be2 never does: all-hosts multicast,
/// which this host ignores (icmp_echo_ignore_broadcasts) and others answer from their own
/// unicast address, which the probe's connected socket never delivers.
fn config() -> String {
    "
maglev:
  vpp:
    lb:
      ipv4-src-address: 192.0.2.254
      ipv6-src-address: 2001:db8::fe
      startup-min-delay: 0
      startup-max-delay: 0
  healthchecks:
    ping: { type: icmp, interval: 100ms, timeout: 200ms, rise: 1, fall: 1 }
  backends:
    be1: { address: 127.0.0.2, healthcheck: ping }
    be2: { address: 224.0.0.1, healthcheck: ping }
  frontends:
    www:
      address: 192.0.2.100/32
      protocol: tcp
      port: 80
      encap: gre4
      pools:
        - name: primary
          backends: { be1: ~, be2: ~ }
"
    .to_string()
}

fn may_open_icmp() -> bool {
    let open = |t| Socket::new(Domain::IPV4, t, Some(Protocol::ICMPV4)).is_ok();
    open(Type::RAW) || open(Type::DGRAM)
}

async fn evpn_tools(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn check_accepts_icmp() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.yaml");
    std::fs::write(&p, config()).unwrap();
    let (code, out, err) = evpn_tools(&[
        "lb",
        "controller",
        "--check",
        "--config",
        p.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("valid (2 backends, 1 frontends)"), "{out}");
    // icmp takes no port.
    std::fs::write(&p, config().replace("type: icmp,", "type: icmp, port: 80,")).unwrap();
    let (code, _, err) = evpn_tools(&[
        "lb",
        "controller",
        "--check",
        "--config",
        p.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("maglev.healthchecks.ping.port: type icmp has no port"),
        "{err}"
    );
}

/// The reason of each backend's first transition, from the controller's events.
async fn first_transitions(dir: &Path, config: &Path) -> (Value, Value, String) {
    let mut child = Command::new(BIN)
        .arg("--socket")
        .arg(dir.join("no-vpp.sock"))
        .args(["--timeout", "1s", "lb", "controller", "--config"])
        .arg(config)
        .arg("--stats-socket")
        .arg(dir.join("no-stats.sock"))
        .args(["--instance", "test", "--reconnect-interval", "10s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut be1, mut be2) = (Value::Null, Value::Null);
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while be1.is_null() || be2.is_null() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Ok(Some(l))) = tokio::time::timeout(left, lines.next_line()).await else {
            break;
        };
        seen.push_str(&l);
        seen.push('\n');
        let e: Value = serde_json::from_str(&l).unwrap();
        if e["type"] == "backend-transition" && e["fields"]["from"] == "unknown" {
            match e["fields"]["backend"].as_str() {
                Some("be1") if be1.is_null() => be1 = e,
                Some("be2") if be2.is_null() => be2 = e,
                _ => {}
            }
        }
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
    (be1, be2, seen)
}

#[tokio::test]
async fn the_controller_reports_icmp_results() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.yaml");
    std::fs::write(&p, config()).unwrap();
    let t = Instant::now();
    let (be1, be2, seen) = first_transitions(dir.path(), &p).await;
    assert!(!be1.is_null() && !be2.is_null(), "{seen}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let reason = |e: &Value| e["fields"]["reason"].as_str().unwrap_or("").to_string();
    if may_open_icmp() {
        assert_eq!(be1["fields"]["to"], "up", "{be1}");
        assert_eq!(reason(&be1), "L3OK");
        assert_eq!(be2["fields"]["to"], "down", "{be2}");
        let r = reason(&be2);
        assert!(
            r.starts_with("timeout: no echo reply within 200ms")
                || (r.starts_with('E') && !r.starts_with("EPERM")),
            "{be2}"
        );
    } else {
        for e in [&be1, &be2] {
            assert_eq!(e["fields"]["to"], "down", "{e}");
            assert_eq!(e["level"], "warn", "{e}");
            assert!(
                reason(e).starts_with(
                    "EPERM: icmp probes need root, CAP_NET_RAW or net.ipv4.ping_group_range"
                ),
                "{e}"
            );
        }
    }
}
