//! The test bed: an in-process simulator on a temporary socket, the `vpp-fleet-agent` binary
//! run as an operator runs it (its JSON-line events collected), the store in a temp dir, and
//! deadline polling (never a fixed sleep as an assertion).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evpn_tools::model::Item;
use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use vpp_sim::{SimConfig, Simulator};

pub async fn sim(dir: &Path, name: &str) -> Simulator {
    Simulator::start(SimConfig::new(dir.join(name)))
        .await
        .unwrap()
}

/// A running agent.
pub struct Agent {
    pub child: Child,
    pub events: Arc<Mutex<Vec<Json>>>,
    pub stderr: Arc<Mutex<String>>,
}

impl Agent {
    pub fn start(args: &[&str]) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vpp-fleet-agent"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let ev = events.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let v: Json = serde_json::from_str(&l)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
                ev.lock().unwrap().push(v);
            }
        });
        let err = child.stderr.take().unwrap();
        let se = stderr.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let mut s = se.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Agent {
            child,
            events,
            stderr,
        }
    }

    pub fn of_type(&self, ty: &str) -> Vec<Json> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == ty)
            .cloned()
            .collect()
    }

    pub fn dump(&self) -> String {
        let ev = self.events.lock().unwrap();
        let tail: Vec<String> = ev
            .iter()
            .rev()
            .take(40)
            .rev()
            .map(|e| e.to_string())
            .collect();
        format!(
            "last events ({} in all):\n{}\nstderr:\n{}",
            ev.len(),
            tail.join("\n"),
            self.stderr.lock().unwrap()
        )
    }
}

/// Polls `f` until it holds or `within` passes (then panics with `what` and the agent's
/// recent events).
pub async fn until<F, Fut>(what: &str, within: Duration, agent: &Agent, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + within;
    loop {
        if f().await {
            return;
        }
        if Instant::now() > end {
            panic!("timed out waiting for: {what}\n{}", agent.dump());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What VPP has, as evpn-tools' engine reads it (engine key -> value, owned).
pub async fn vpp_state(socket: &Path) -> BTreeMap<String, (Item, bool)> {
    let g = evpn_tools::commands::Global {
        socket: socket.to_path_buf(),
        json: true,
        trace: false,
        dry_run: false,
        strict: false,
        timeout: Duration::from_secs(5),
    };
    let Ok(mut vpp) = evpn_tools::commands::connect(&g, socket).await else {
        return BTreeMap::new();
    };
    let engine = evpn_tools::descriptors::engine();
    let s = evpn_tools::reconcile_run::read(&engine, &mut vpp)
        .await
        .unwrap_or_default();
    let _ = vpp.conn.close().await;
    s.iter()
        .map(|(k, e)| (k.to_string(), (e.value.clone(), e.owned)))
        .collect()
}

/// The status file's map (empty until written).
pub fn status(path: &Path) -> BTreeMap<String, Json> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn state_of(status: &BTreeMap<String, Json>, key: &str) -> String {
    status
        .get(key)
        .and_then(|v| v["state"].as_str())
        .unwrap_or("-")
        .to_string()
}

/// Writes a store file atomically (a reader never sees half a file).
pub fn write_store(path: &Path, entries: &BTreeMap<String, Json>) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(entries).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

pub fn cfg(label: &str, rel: &str) -> String {
    format!("/vnf-agent/{label}/config/{rel}")
}
pub fn st(label: &str, rel: &str) -> String {
    format!("/vnf-agent/{label}/status/{rel}")
}

/// `n` bridge domains 1..=n, each with a bound BVI loop<N> (vMAC, an IPv4 and an IPv6 address).
pub fn bds_with_bvis(label: &str, n: u32) -> BTreeMap<String, Json> {
    let mut m = BTreeMap::new();
    for i in 1..=n {
        m.insert(
            cfg(label, &format!("evpn/bd/v1/{i}")),
            serde_json::json!({ "mac_age": 5 }),
        );
        m.insert(
            cfg(label, &format!("evpn/bvi/v1/loop{i}")),
            serde_json::json!({
                "bd": i,
                "vmac": format!("42:00:00:00:{:02x}:{:02x}", i >> 8, i & 0xff),
                "addresses": [format!("10.{}.{}.1/24", i >> 8, i & 0xff),
                              format!("2001:db8:{i:x}::1/64")],
            }),
        );
    }
    m
}

pub fn common_args(label: &str, store: &Path, socket: &Path) -> Vec<String> {
    vec![
        "--label".into(),
        label.into(),
        "--store".into(),
        format!("file:{}", store.display()),
        "--socket".into(),
        socket.display().to_string(),
        "--resync-interval".into(),
        "500ms".into(),
        "--ping-interval".into(),
        "200ms".into(),
        "--poll-interval".into(),
        "50ms".into(),
    ]
}

pub fn status_path(store: &Path) -> PathBuf {
    PathBuf::from(format!("{}.status.json", store.display()))
}

/// A real etcd on 127.0.0.1 with free ports and a temporary data dir (killed on drop).
pub struct Etcd {
    child: Option<Child>,
    pub url: String,
    peer: String,
    data: PathBuf,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether an `etcd` binary is on PATH (scripts/test.sh installs Debian's etcd-server).
pub fn etcd_installed() -> bool {
    std::process::Command::new("etcd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Etcd {
    /// A real etcd, always (`Some`): without one on PATH the test fails, it does not pass
    /// untested. Set `FLEET_AGENT_NO_ETCD=1` to skip the etcd tests knowingly (`None`).
    pub async fn start(dir: &Path) -> Option<Etcd> {
        if !etcd_installed() {
            if std::env::var_os("FLEET_AGENT_NO_ETCD").is_some() {
                eprintln!("SKIPPED (FLEET_AGENT_NO_ETCD): no etcd on PATH");
                return None;
            }
            panic!(
                "no etcd on PATH: ./scripts/test.sh installs Debian's etcd-server (or set \
                 FLEET_AGENT_NO_ETCD=1 to skip the etcd tests)"
            );
        }
        let mut e = Etcd {
            child: None,
            url: format!("http://127.0.0.1:{}", free_port()),
            peer: format!("http://127.0.0.1:{}", free_port()),
            data: dir.join("etcd-data"),
            log: dir.join("etcd.log"),
        };
        e.spawn().await;
        Some(e)
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new("etcd")
            .args(["--name", "t", "--data-dir"])
            .arg(&self.data)
            .args(["--listen-client-urls", &self.url])
            .args(["--advertise-client-urls", &self.url])
            .args(["--listen-peer-urls", &self.peer])
            .args(["--initial-advertise-peer-urls", &self.peer])
            .args(["--initial-cluster", &format!("t={}", self.peer)])
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(mut c) = self.client().await {
                if c.get("probe", None).await.is_ok() {
                    return;
                }
            }
            if Instant::now() > end {
                panic!(
                    "etcd did not come up: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn client(&self) -> Result<etcd_client::Client, etcd_client::Error> {
        etcd_client::Client::connect(
            [&self.url],
            Some(
                etcd_client::ConnectOptions::new()
                    .with_connect_timeout(Duration::from_secs(1))
                    .with_timeout(Duration::from_secs(2)),
            ),
        )
        .await
    }

    /// SIGKILL.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    /// Starts again on the same ports and data.
    pub async fn restart(&mut self) {
        self.kill().await;
        self.spawn().await;
    }

    pub fn store(&self) -> String {
        format!("etcd:{}", self.url)
    }
}

/// Puts every entry (values as JSON text).
pub async fn etcd_put(c: &mut etcd_client::Client, entries: &BTreeMap<String, Json>) {
    for (k, v) in entries {
        c.put(k.as_str(), v.to_string(), None).await.unwrap();
    }
}

/// The values under `prefix`, parsed.
pub async fn etcd_prefix(c: &mut etcd_client::Client, prefix: &str) -> BTreeMap<String, Json> {
    let Ok(r) = c
        .get(prefix, Some(etcd_client::GetOptions::new().with_prefix()))
        .await
    else {
        return BTreeMap::new();
    };
    r.kvs()
        .iter()
        .filter_map(|kv| {
            Some((
                kv.key_str().ok()?.to_string(),
                serde_json::from_slice(kv.value()).ok()?,
            ))
        })
        .collect()
}

pub fn etcd_args(label: &str, store: &str, socket: &Path) -> Vec<String> {
    vec![
        "--label".into(),
        label.into(),
        "--store".into(),
        store.into(),
        "--socket".into(),
        socket.display().to_string(),
        "--resync-interval".into(),
        "500ms".into(),
        "--ping-interval".into(),
        "200ms".into(),
        "--store-retry".into(),
        "200ms".into(),
        "--timeout".into(),
        "2s".into(),
    ]
}

/// `GET /metrics` from the address the agent's `metrics-listening` event names.
pub async fn scrape(agent: &Agent) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(addr) = agent
        .of_type("metrics-listening")
        .first()
        .and_then(|e| e["fields"]["address"].as_str().map(str::to_string))
    else {
        return String::new();
    };
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return String::new();
    };
    let _ = s
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    out
}

/// Requests that change state (everything but dumps, gets, pings and the handshake).
pub fn is_mutating(name: &str) -> bool {
    !(name.ends_with("_dump")
        || name.contains("_get")
        || name == "control_ping"
        || name == "show_version"
        || name.starts_with("sockclnt_")
        || name.starts_with("memclnt_")
        || name == "get_first_msg_id"
        || name == "cli_inband")
}
