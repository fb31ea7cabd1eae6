//! The acceptance scenarios' test bed: simulators on temporary sockets (one per VPP), the
//! `evpn-tools` binary run as an operator runs it, and read-backs through the API.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use vpp_sim::{SimConfig, Simulator};
use vppapi_runtime::{Config, Connection};

pub struct Bed {
    pub sim: Simulator,
    pub dir: tempfile::TempDir,
}

impl Bed {
    pub async fn start() -> Bed {
        let dir = tempfile::tempdir().unwrap();
        let sim = Simulator::start(SimConfig::new(dir.path().join("api.sock")))
            .await
            .unwrap();
        Bed { sim, dir }
    }

    pub fn socket(&self) -> PathBuf {
        self.sim.socket().to_path_buf()
    }

    /// Runs `evpn-tools --socket <sim> ARGS`; returns (exit code, stdout, stderr).
    pub async fn run(&self, args: &[&str]) -> Run {
        run_on(&self.socket(), args).await
    }

    /// Names of the requests the simulator received since the last `clear`, in order.
    pub fn trace_names(&self) -> Vec<&'static str> {
        self.sim.api_trace().iter().map(|e| e.name).collect()
    }

    /// The requests that change state (everything but dumps, gets, pings and the handshake).
    pub fn mutating(&self) -> Vec<&'static str> {
        self.trace_names()
            .into_iter()
            .filter(|n| is_mutating(n))
            .collect()
    }

    pub fn clear(&self) {
        self.sim.api_trace_clear();
    }

    pub async fn conn(&self) -> Connection {
        Connection::connect(Config::new(self.socket()))
            .await
            .unwrap()
    }
}

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

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `--json` document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
    /// Number of planned operations over all steps.
    pub fn ops(&self) -> usize {
        self.json()["steps"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|s| s["ops"].as_array().map_or(0, Vec::len))
                    .sum()
            })
            .unwrap_or(0)
    }
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

pub async fn run_on(socket: &Path, args: &[&str]) -> Run {
    let out: Output = tokio::process::Command::new(env!("CARGO_BIN_EXE_evpn-tools"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Positions of `names` in `trace` (first occurrence from `from` on), asserting they appear in
/// this order.
pub fn assert_order(trace: &[&str], names: &[&str]) {
    let mut at = 0;
    for n in names {
        match trace[at..].iter().position(|t| t == n) {
            Some(p) => at += p + 1,
            None => {
                panic!("{n} not found after position {at} in {trace:?} (wanted order {names:?})")
            }
        }
    }
}
