//! `evpn-tools lb controller` end to end, with real components only: the simulator of VPP 26.06
//! as its own process (API and stats sockets in a temporary directory; killed with SIGKILL and
//! started again on the same paths), three real HTTP backends on 127.0.0.2-4 (Linux routes
//! all of 127/8 to lo), the controller binary as an operator runs it, its JSON-line events on
//! stdout, `lb status --json` and the simulator's API trace for what VPP holds, and `/metrics`
//! over HTTP. Every wait polls against a deadline; no sleep is an assertion.
//!
//! The simulator process is the `vpp-sim` binary when it has been built next to
//! `evpn-tools` (as a workspace build does); otherwise this test binary runs the same
//! `vpp_sim::Simulator` in a child process of its own (`sim_child` below), which is what the
//! `vpp-sim` binary's `main` does (`EVPN_TOOLS_TEST_SIM_CHILD=1` forces that).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

const BIN: &str = env!("CARGO_BIN_EXE_evpn-tools");
const SIM_ENV: &str = "EVPN_TOOLS_CONTROLLER_TEST_SIM";

/// Not a test of its own: the simulator process when started by [`Sim::start`] without a
/// `vpp-sim` binary around (the environment variable names its sockets).
#[test]
fn sim_child() {
    let Ok(v) = std::env::var(SIM_ENV) else {
        return;
    };
    let mut it = v.split('\n');
    let (api, stats) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
    let lb_1_2 = it.next() == Some("1.2.0");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut cfg = vpp_sim::SimConfig::new(api);
        cfg.stats_socket = Some(PathBuf::from(stats));
        cfg.lb_api_1_2 = lb_1_2;
        let _sim = vpp_sim::Simulator::start(cfg).await.unwrap();
        eprintln!("vpp-sim (test child): serving {api}");
        std::future::pending::<()>().await;
    });
}

struct Sim {
    child: Child,
}

impl Sim {
    async fn start(api: &Path, stats: &Path) -> Sim {
        Self::start_lb(api, stats, false).await
    }

    /// With `lb_1_2`: the simulator of a VPP with lb.api 1.2.0 (`--lb-api 1.2.0`).
    async fn start_lb(api: &Path, stats: &Path, lb_1_2: bool) -> Sim {
        // Stale socket files of a killed simulator (a SIGKILL leaves them behind).
        let _ = std::fs::remove_file(api);
        let _ = std::fs::remove_file(stats);
        let bin = PathBuf::from(BIN).with_file_name("vpp-sim");
        let child_mode = std::env::var_os("EVPN_TOOLS_TEST_SIM_CHILD").is_some();
        let mut cmd = if bin.exists() && !child_mode {
            let mut c = Command::new(bin);
            c.arg("--socket").arg(api).arg("--stats-socket").arg(stats);
            if lb_1_2 {
                c.args(["--lb-api", "1.2.0"]);
            }
            c
        } else {
            let mut c = Command::new(std::env::current_exe().unwrap());
            c.args(["--exact", "sim_child", "--nocapture", "--test-threads=1"])
                .env(
                    SIM_ENV,
                    format!(
                        "{}\n{}\n{}",
                        api.display(),
                        stats.display(),
                        if lb_1_2 { "1.2.0" } else { "1.1.0" }
                    ),
                );
            c
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !(api.exists() && stats.exists()) {
            assert!(Instant::now() < deadline, "the simulator did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Sim { child }
    }

    async fn kill9(&mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }
}

/// An HTTP backend: 200 on /healthz until told otherwise; "closed" drops the listener.
struct Http {
    addr: SocketAddr,
    status: Arc<AtomicU16>,
    task: Option<JoinHandle<()>>,
}

impl Http {
    fn serve(l: TcpListener, status: Arc<AtomicU16>) -> JoinHandle<()> {
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let status = status.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 512];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let code = status.load(Ordering::SeqCst);
                    let reason = if code == 200 {
                        "OK"
                    } else {
                        "Service Unavailable"
                    };
                    let resp =
                        format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        })
    }

    fn set(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }

    fn close(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    async fn open(&mut self) {
        self.close();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    self.task = Some(Self::serve(l, self.status.clone()));
                    return;
                }
                Err(e) => {
                    assert!(Instant::now() < deadline, "rebind {}: {e}", self.addr);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// Three backends on one port of 127.0.0.2, .3 and .4.
async fn backends() -> (u16, Vec<Http>) {
    'again: for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = first.local_addr().unwrap().port();
        let mut ls = vec![first];
        for ip in ["127.0.0.3", "127.0.0.4"] {
            match TcpListener::bind((ip.parse::<IpAddr>().unwrap(), port)).await {
                Ok(l) => ls.push(l),
                Err(_) => continue 'again,
            }
        }
        let hs = ls
            .into_iter()
            .map(|l| {
                let status = Arc::new(AtomicU16::new(200));
                Http {
                    addr: l.local_addr().unwrap(),
                    task: Some(Http::serve(l, status.clone())),
                    status,
                }
            })
            .collect();
        return (port, hs);
    }
    panic!("no common free port on 127.0.0.2-4");
}

/// The controller process and the events it printed.
struct Controller {
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl Controller {
    fn start(api: &Path, stats: &Path, config: &Path) -> Controller {
        let mut child = Command::new(BIN)
            .arg("--socket")
            .arg(api)
            .args(["--timeout", "2s", "lb", "controller", "--config"])
            .arg(config)
            .arg("--stats-socket")
            .arg(stats)
            .args([
                "--metrics-listen",
                "127.0.0.1:0",
                "--instance",
                "test",
                "--ping-interval",
                "200ms",
                "--reconnect-interval",
                "200ms",
                "--stats-interval",
                "300ms",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let ev = events.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let v: Value = serde_json::from_str(&l)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
                ev.lock().unwrap().push(v);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let se = stderr.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                se.lock().unwrap().push_str(&(l + "\n"));
            }
        });
        Controller {
            child,
            events,
            stderr,
        }
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    fn of_type(&self, t: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["type"] == t)
            .collect()
    }

    fn dump(&self) -> String {
        let ev: Vec<String> = self.events().iter().map(|e| e.to_string()).collect();
        format!(
            "events:\n{}\nstderr:\n{}",
            ev.join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().unwrap().to_string();
        let st = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

async fn evpn_tools(api: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("--socket")
        .arg(api)
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `lb status --json` (None while VPP does not answer).
async fn status(api: &Path) -> Option<Value> {
    let (code, out, _) = evpn_tools(api, &["--json", "--timeout", "1s", "lb", "status"]).await;
    if code != 0 {
        return None;
    }
    serde_json::from_str(&out).ok()
}

const VIP: &str = "2001:db8:100::1/128";

/// The used ASes of a VIP, sorted (None: no such VIP or no VPP).
async fn ases(api: &Path, vip: &str) -> Option<Vec<String>> {
    let s = status(api).await?;
    let v = s["vips"]
        .as_array()?
        .iter()
        .find(|v| v["prefix"] == vip && v["removed"] == false)?
        .clone();
    let mut a: Vec<String> = v["ases"]
        .as_array()?
        .iter()
        .filter(|a| a["used"] == true)
        .map(|a| a["address"].as_str().unwrap_or("").to_string())
        .collect();
    a.sort();
    Some(a)
}

fn set(v: &[&str]) -> Option<Vec<String>> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    Some(v)
}

/// Polls `f` until it returns true or `within` passes; returns how long it took.
async fn until<F, Fut>(what: &str, within: Duration, c: &Controller, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    loop {
        if f().await {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < within,
            "{what}: not within {within:?}\n{}",
            c.dump()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The simulator's API trace (`api trace dump`), one string per message.
async fn api_trace(api: &Path) -> Vec<String> {
    let c = vppapi_runtime::Connection::connect(vppapi_runtime::Config::new(api))
        .await
        .unwrap();
    let r = c
        .call(&vppapi_binapi::vlib::CliInband {
            cmd: "api trace dump".into(),
        })
        .await
        .unwrap();
    c.close().await;
    r.reply
        .split("---------- trace ")
        .map(str::to_string)
        .collect()
}

/// The last `lb_add_del_as(is_del)` of the IPv4 AS `addr` in the simulator's API trace.
async fn last_as_delete(api: &Path, addr: &str) -> String {
    let want = format!("as_address: Ip4({addr})");
    api_trace(api)
        .await
        .into_iter()
        .rev()
        .find(|m| {
            m.contains("vl_api_lb_add_del_as_t") && m.contains("is_del: true") && m.contains(&want)
        })
        .unwrap_or_else(|| panic!("no lb_add_del_as(is_del) of {addr} in the API trace"))
}

async fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

fn config(port: u16) -> String {
    format!(
        "
maglev:
  vpp:
    lb:
      ipv4-src-address: 192.0.2.254
      ipv6-src-address: 2001:db8::fe
      sync-interval: 1s
      startup-min-delay: 300ms
      startup-max-delay: 1500ms
      managed-prefixes: [2001:db8:100::/64]
  healthchecker:
    transition-history: 5
  healthchecks:
    web:
      type: http
      port: {port}
      path: /healthz
      expected-code: 200
      interval: 100ms
      fast-interval: 100ms
      down-interval: 200ms
      timeout: 300ms
      rise: 2
      fall: 2
  backends:
    be1: {{ address: 127.0.0.2, healthcheck: web }}
    be2: {{ address: 127.0.0.3, healthcheck: web }}
    be3: {{ address: 127.0.0.4, healthcheck: web }}
  frontends:
    www:
      address: {VIP}
      protocol: tcp
      port: 80
      encap: gre4
      pools:
        - name: primary
          backends: {{ be1: ~, be2: ~, be3: ~ }}
"
    )
}

const ALL3: [&str; 3] = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let api = dir.path().join("api.sock");
    let stats = dir.path().join("stats.sock");
    let mut sim = Sim::start(&api, &stats).await;

    // A stale VIP inside the managed prefix (the full sync removes it) and one outside
    // (never touched).
    let stale = dir.path().join("stale.yaml");
    std::fs::write(
        &stale,
        "vips:\n  - { prefix: 2001:db8:100::99/128, protocol: tcp, port: 80, as: ['2001:db8:9::1'] }\n  \
         - { prefix: 2001:db8:200::1/128, protocol: tcp, port: 80, as: ['2001:db8:9::1'] }\n",
    )
    .unwrap();
    let (code, out, err) =
        evpn_tools(&api, &["lb", "sync", "--config", stale.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{out}{err}");

    let (port, mut be) = backends().await;
    let cfg_path = dir.path().join("maglev.yaml");
    std::fs::write(&cfg_path, config(port)).unwrap();
    let t0 = Instant::now();
    let ctl = Controller::start(&api, &stats, &cfg_path);
    let (apir, ctlr) = (api.as_path(), &ctl);

    // The metrics address is in an event.
    until(
        "metrics-listening event",
        Duration::from_secs(10),
        &ctl,
        || async move { !ctlr.of_type("metrics-listening").is_empty() },
    )
    .await;
    let metrics_addr = ctlr.of_type("metrics-listening")[0]["fields"]["address"]
        .as_str()
        .unwrap()
        .to_string();

    // (1) Within warmup + a few intervals: the VIP with all three ASes, lb_conf pushed.
    until(
        "VIP with three ASes",
        Duration::from_secs(10),
        &ctl,
        || async move { ases(apir, VIP).await == set(&ALL3) },
    )
    .await;
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "nothing before startup-min-delay"
    );
    let s = status(&api).await.unwrap();
    assert_eq!(s["conf"]["ip4_src"], "192.0.2.254");
    assert_eq!(s["conf"]["ip6_src"], "2001:db8::fe");
    // Warmup released the frontend on its own (all three backends known), before any sync
    // of it touched VPP.
    let ev = ctl.events();
    let released = ev
        .iter()
        .position(|e| e["type"] == "warmup-released" && e["fields"]["frontend"] == "www")
        .unwrap_or_else(|| panic!("no release\n{}", ctl.dump()));
    let first_sync = ev
        .iter()
        .position(|e| {
            e["type"] == "lbsync" && e["fields"]["ops"].as_str().unwrap_or("").contains(VIP)
        })
        .unwrap();
    assert!(released < first_sync, "{}", ctl.dump());
    for e in &ev {
        assert_eq!(e["instance"], "test");
        assert!(e["seq"].as_u64().is_some() && e["ts"].as_str().unwrap().ends_with('Z'));
    }

    // (2) The final full sync at startup-max-delay removes the stale VIP inside the managed
    // prefix; the one outside stays.
    until(
        "stale VIP pruned",
        Duration::from_secs(10),
        &ctl,
        || async move {
            ases(apir, "2001:db8:100::99/128").await.is_none()
                && ases(apir, "2001:db8:200::1/128").await.is_some()
        },
    )
    .await;

    // (3) be3 answers 503: after `fall` failed probes its AS goes, with is_flush
    // (flush-on-down defaults to true).
    be[2].set(503);
    let took = until("be3 removed", Duration::from_secs(5), &ctl, || async move {
        ases(apir, VIP).await == set(&ALL3[..2])
    })
    .await;
    // fall (2) x interval (100 ms) + a sync; the bound leaves room for a loaded machine.
    assert!(took < Duration::from_secs(3), "{took:?}");
    let del = last_as_delete(&api, "127.0.0.4").await;
    assert!(del.contains("is_flush: true"), "{del}");
    let t = ctlr.of_type("backend-transition");
    assert!(
        t.iter().any(|e| e["fields"]["backend"] == "be3"
            && e["fields"]["from"] == "up"
            && e["fields"]["to"] == "down"),
        "{}",
        ctl.dump()
    );
    let syncs = ctlr.of_type("lbsync");
    assert!(
        syncs.iter().any(|e| {
            let ops = e["fields"]["ops"].as_str().unwrap_or("");
            ops.contains("DELETE lb/vip/2001:db8:100::1/128/tcp/80/as/127.0.0.4 (flush)")
                && e["fields"]["scope"] == "frontend"
        }),
        "{}",
        ctl.dump()
    );
    assert!(ctl
        .of_type("frontend-state")
        .iter()
        .any(|e| e["fields"]["frontend"] == "www" && e["fields"]["to"] == "up"));

    // (4) Back to 200: re-added after `rise` passes.
    be[2].set(200);
    until("be3 back", Duration::from_secs(5), &ctl, || async move {
        ases(apir, VIP).await == set(&ALL3)
    })
    .await;

    // A closed backend (connection refused) goes down too, and comes back when it listens.
    be[1].close();
    until("be2 removed", Duration::from_secs(5), &ctl, || async move {
        ases(apir, VIP).await == set(&["127.0.0.2", "127.0.0.4"])
    })
    .await;
    be[1].open().await;
    until("be2 back", Duration::from_secs(5), &ctl, || async move {
        ases(apir, VIP).await == set(&ALL3)
    })
    .await;

    // (5) VPP dies (SIGKILL) and comes back on the same paths: the controller notices,
    // reconnects, and the full state is back (lb_conf, the VIP, its ASes).
    let connects = ctlr.of_type("vpp-connected").len();
    sim.kill9().await;
    until(
        "vpp-disconnected",
        Duration::from_secs(5),
        &ctl,
        || async move { !ctlr.of_type("vpp-disconnected").is_empty() },
    )
    .await;
    let mut sim = Sim::start(&api, &stats).await;
    until(
        "state back after the restart",
        Duration::from_secs(10),
        &ctl,
        || async move { ases(apir, VIP).await == set(&ALL3) },
    )
    .await;
    assert!(ctlr.of_type("vpp-connected").len() > connects);
    let s = status(&api).await.unwrap();
    assert_eq!(s["conf"]["ip4_src"], "192.0.2.254", "{s}");
    assert_eq!(s["conf"]["ip6_src"], "2001:db8::fe", "{s}");

    // (6) SIGHUP with a broken file: refused, the running configuration and VPP stay.
    std::fs::write(&cfg_path, config(port).replace("rise: 2", "rise: [2]")).unwrap();
    ctl.signal("-HUP");
    until(
        "reload refused",
        Duration::from_secs(5),
        &ctl,
        || async move {
            ctlr.of_type("reload")
                .iter()
                .any(|e| e["fields"]["result"] == "refused")
        },
    )
    .await;
    std::fs::write(
        &cfg_path,
        config(port).replace("be3: ~ }", "be3: ~, be9: ~ }"),
    )
    .unwrap();
    ctl.signal("-HUP");
    until(
        "semantic reload refused",
        Duration::from_secs(5),
        &ctl,
        || async move {
            ctlr.of_type("reload")
                .iter()
                .any(|e| e["fields"]["result"] == "refused" && e["fields"]["kind"] == "semantic")
        },
    )
    .await;
    assert_eq!(ases(apir, VIP).await, set(&ALL3));

    // A good reload that disables be1: its AS goes (disabled: always flushed); be2 and be3 keep
    // probing with their state (no transition for them).
    let before = ctl.events().len();
    std::fs::write(
        &cfg_path,
        config(port).replace(
            "be1: { address: 127.0.0.2, healthcheck: web }",
            "be1: { address: 127.0.0.2, healthcheck: web, enabled: false }",
        ),
    )
    .unwrap();
    ctl.signal("-HUP");
    until(
        "be1 disabled",
        Duration::from_secs(5),
        &ctl,
        || async move { ases(apir, VIP).await == set(&ALL3[1..]) },
    )
    .await;
    let after: Vec<Value> = ctl.events()[before..].to_vec();
    let ok = after
        .iter()
        .find(|e| e["type"] == "reload" && e["fields"]["result"] == "ok")
        .unwrap_or_else(|| panic!("{}", ctl.dump()));
    assert_eq!(ok["fields"]["kept"], "2", "{ok}");
    assert!(after.iter().any(|e| e["type"] == "backend-transition"
        && e["fields"]["backend"] == "be1"
        && e["fields"]["to"] == "disabled"));
    assert!(
        !after.iter().any(|e| e["type"] == "backend-transition"
            && (e["fields"]["backend"] == "be2" || e["fields"]["backend"] == "be3")),
        "{}",
        ctl.dump()
    );
    let del = last_as_delete(&api, "127.0.0.2").await;
    assert!(del.contains("is_flush: true"), "{del}");

    // (7) /metrics serves vpp-maglev's names; /status the state.
    let m = http_get(&metrics_addr, "/metrics").await;
    assert!(m.starts_with("HTTP/1.1 200"), "{m}");
    for name in [
        "maglev_backend_state{backend=\"be2\",state=\"up\"} 1",
        "maglev_backend_state{backend=\"be1\",state=\"disabled\"} 1",
        "maglev_backend_health{backend=\"be2\"}",
        "maglev_backend_enabled{backend=\"be1\"} 0",
        "maglev_frontend_pool_backend_weight{frontend=\"www\",pool=\"primary\",backend=\"be2\"} 100",
        "maglev_frontend_pool_backend_weight{frontend=\"www\",pool=\"primary\",backend=\"be1\"} 0",
        "maglev_probe_total{backend=\"be3\",type=\"http\",result=\"failure\",code=\"503\"}",
        "maglev_probe_total{backend=\"be2\",type=\"http\",result=\"failure\",code=\"L4CON\"}",
        "maglev_probe_duration_seconds_bucket{",
        "maglev_backend_transitions_total{backend=\"be3\",from=\"up\",to=\"down\"} 1",
        "maglev_vpp_connected 1",
        "maglev_vpp_uptime_seconds",
        "maglev_vpp_connected_seconds",
        "maglev_vpp_info{version=",
        "maglev_vpp_api_total{msg=\"lb_add_del_as\",direction=\"send\",result=\"ok\"}",
        "maglev_vpp_api_total{msg=\"control_ping\",direction=\"send\",result=\"ok\"}",
        "maglev_vpp_api_total{msg=\"control_ping_reply\",direction=\"recv\",result=\"ok\"}",
        "maglev_vpp_api_total{msg=\"lb_vip_dump\",direction=\"send\",result=\"ok\"}",
        "maglev_vpp_api_total{msg=\"lb_as_details\",direction=\"recv\",result=\"ok\"}",
        "maglev_vpp_api_total{msg=\"cli_inband_reply\",direction=\"recv\",result=\"ok\"}",
        "maglev_vpp_lbsync_total{scope=\"frontend\",kind=\"as_removed\"}",
        "maglev_vpp_lbsync_total{scope=\"frontend\",kind=\"as_added\"}",
        "maglev_vpp_lbsync_total{scope=\"full\",kind=\"vip_removed\"} 1",
        "vip_packets_total{frontend=\"www\",vip=\"2001:db8:100::1/128 tcp/80\",kind=\"first_session\"}",
    ] {
        assert!(m.contains(name), "{name} not in\n{m}");
    }
    let st = http_get(&metrics_addr, "/status").await;
    let body = st.split("\r\n\r\n").nth(1).unwrap();
    let j: Value = serde_json::from_str(body).unwrap();
    assert_eq!(j["backends"]["be3"]["state"], "up");
    assert_eq!(j["frontends"]["www"]["state"], "up");
    assert!(j["backends"]["be3"]["history"].as_array().unwrap().len() <= 5);

    if std::env::var_os("CONTROLLER_TEST_DUMP").is_some() {
        eprintln!("{}\n{m}\n{body}", ctl.dump());
    }
    // SIGTERM: a clean stop.
    let mut ctl = ctl;
    ctl.signal("-TERM");
    let st = tokio::time::timeout(Duration::from_secs(10), ctl.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    sim.kill9().await;
}

#[tokio::test]
async fn check_exits_0_1_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.yaml");
    let api = dir.path().join("none.sock");
    let run = |text: String| {
        std::fs::write(&p, text).unwrap();
        let p = p.clone();
        let api = api.clone();
        async move {
            evpn_tools(
                &api,
                &[
                    "lb",
                    "controller",
                    "--check",
                    "--config",
                    p.to_str().unwrap(),
                ],
            )
            .await
        }
    };
    let (code, out, err) = run(config(8080)).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("valid (3 backends, 1 frontends)"), "{out}");
    let (code, _, err) = run(config(8080).replace("rise: 2", "rise: two")).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("structure error"), "{err}");
    let (code, _, err) = run(config(8080).replace("be3: ~ }", "be3: ~, be9: ~ }")).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("maglev.frontends.www.pools[0].backends.be9: no backend named"),
        "{err}"
    );
    let (code, _, err) = run(config(8080).replace("type: http", "type: smtp")).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown health check type"), "{err}");
    // icmp takes no path: a semantic error naming the field.
    let (code, _, err) = run(config(8080).replace("type: http", "type: icmp")).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("path"), "{err}");
    // A missing file is a structure error (1); starting the controller with a bad file is
    // refused (2, bad input) before anything runs.
    std::fs::remove_file(&p).unwrap();
    let (code, _, _) = evpn_tools(
        &api,
        &[
            "lb",
            "controller",
            "--check",
            "--config",
            p.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 1);
    std::fs::write(&p, config(8080).replace("type: http", "type: smtp")).unwrap();
    let (code, _, err) =
        evpn_tools(&api, &["lb", "controller", "--config", p.to_str().unwrap()]).await;
    assert_eq!(code, 2, "{err}");
}

/// `(address, weight)` of the used ASes of a VIP, sorted (lb.api 1.2.0 prints weights).
async fn weights(api: &Path, vip: &str) -> Option<Vec<(String, u64)>> {
    let s = status(api).await?;
    let v = s["vips"]
        .as_array()?
        .iter()
        .find(|v| v["prefix"] == vip && v["removed"] == false)?
        .clone();
    let mut a: Vec<(String, u64)> = v["ases"]
        .as_array()?
        .iter()
        .filter(|a| a["used"] == true)
        .map(|a| {
            (
                a["address"].as_str().unwrap_or("").to_string(),
                a["weight"].as_u64().unwrap_or(999),
            )
        })
        .collect();
    a.sort();
    Some(a)
}

/// On lb.api 1.2.0 the controller sends effective weights: be2's configured 50, and a down
/// backend without flush-on-down stays an AS of weight 0 (lameduck: its sticky flows kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_weights_on_lb_api_1_2() {
    let dir = tempfile::tempdir().unwrap();
    let api = dir.path().join("api.sock");
    let stats = dir.path().join("stats.sock");
    let _sim = Sim::start_lb(&api, &stats, true).await;
    let (port, be) = backends().await;
    let cfg_path = dir.path().join("maglev.yaml");
    let cfg = config(port)
        .replace(
            "be2: { address: 127.0.0.3, healthcheck: web }",
            "be2: { address: 127.0.0.3, healthcheck: web, weight: 50 }",
        )
        .replace(
            "      encap: gre4\n",
            "      encap: gre4\n      flush-on-down: false\n",
        )
        .replace("startup-min-delay: 300ms", "startup-min-delay: 0s")
        .replace("startup-max-delay: 1500ms", "startup-max-delay: 0s");
    assert!(cfg.contains("weight: 50") && cfg.contains("flush-on-down: false"));
    std::fs::write(&cfg_path, cfg).unwrap();
    let ctl = Controller::start(&api, &stats, &cfg_path);
    let apir = api.as_path();
    let w = |a: &str, n: u64| (a.to_string(), n);
    until(
        "weighted ASes",
        Duration::from_secs(10),
        &ctl,
        || async move {
            weights(apir, VIP).await
                == Some(vec![
                    w("127.0.0.2", 100),
                    w("127.0.0.3", 50),
                    w("127.0.0.4", 100),
                ])
        },
    )
    .await;
    // be3 down: weight 0 through lb_as_set_weight, still an AS (no delete, no flush).
    be[2].set(503);
    until("be3 drained", Duration::from_secs(5), &ctl, || async move {
        weights(apir, VIP).await
            == Some(vec![
                w("127.0.0.2", 100),
                w("127.0.0.3", 50),
                w("127.0.0.4", 0),
            ])
    })
    .await;
    let trace = api_trace(&api).await;
    assert!(
        trace.iter().any(|m| m.contains("lb_as_set_weight")),
        "no lb_as_set_weight in the trace\n{}",
        ctl.dump()
    );
    assert!(
        !trace
            .iter()
            .any(|m| m.contains("vl_api_lb_add_del_as_t") && m.contains("is_del: true")),
        "a drained AS is not deleted on 1.2.0"
    );
    // Back up: weight 100 again.
    be[2].set(200);
    until("be3 back", Duration::from_secs(5), &ctl, || async move {
        weights(apir, VIP).await.map(|v| v[2].1) == Some(100)
    })
    .await;
    // The periodic sync (sync-interval 1s) re-reads the file, as vpp-maglev does: be2's weight
    // changed to 20 without a SIGHUP is applied with one lb_as_set_weight.
    let text = std::fs::read_to_string(&cfg_path).unwrap();
    std::fs::write(&cfg_path, text.replace("weight: 50", "weight: 20")).unwrap();
    until(
        "be2 re-weighted",
        Duration::from_secs(5),
        &ctl,
        || async move { weights(apir, VIP).await.map(|v| v[1].1) == Some(20) },
    )
    .await;
    assert!(
        ctl.of_type("reload")
            .iter()
            .any(|e| e["fields"]["trigger"] == "sync-interval" && e["fields"]["result"] == "ok"),
        "{}",
        ctl.dump()
    );
}
