//! Where desired values come from and where status goes.
//!
//! A store runs as a task that publishes the label's whole config (full key -> raw JSON
//! value) as a [`Snapshot`] on a watch channel every time it changes; the agent reconciles the
//! latest snapshot, so changes arriving while a transaction runs are batched into the next one.
//! Status is written back through [`StatusSink`].
//!
//! **The file store** (`--store file:PATH`): PATH is a YAML or JSON file holding one map of
//! full keys (`/vnf-agent/<label>/config/<model>/<version>/<id>`) to values (a YAML/JSON
//! object, or a string holding JSON text, as etcd would), or a directory whose `*.yaml`,
//! `*.yml` and `*.json` files (not recursive, in name order, a later file overriding a key) are
//! such maps. Keys of other labels are ignored. It is polled: a change of any file's mtime,
//! size or of the file list reloads it. A file that does not parse keeps the last good
//! snapshot (an `store-error` event says why). Status goes to one JSON file (`--status-file`,
//! default `PATH.status.json`): a map of status keys to status values, replaced atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value as Json;
use tokio::sync::watch;

use crate::events::Events;

/// The label's config as the store has it now.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Full key -> raw JSON value.
    pub entries: BTreeMap<String, String>,
    /// Counts full reloads (after a reconnect or a lost watch): each one is a resync.
    pub resyncs: u64,
    /// Whether the store is reachable now.
    pub connected: bool,
    /// Whether the store has been read at least once.
    pub loaded: bool,
}

/// Where status goes.
pub enum StatusSink {
    File {
        path: PathBuf,
        last: Option<String>,
    },
    /// Hands the map to the etcd status writer task ([`crate::etcd::run_status_writer`]).
    Etcd(watch::Sender<BTreeMap<String, Json>>),
}

impl StatusSink {
    /// Writes the full status map (status key -> value) if it changed.
    pub async fn write(&mut self, status: &BTreeMap<String, Json>) -> Result<(), String> {
        match self {
            StatusSink::File { path, last } => {
                let text = serde_json::to_string_pretty(status).map_err(|e| e.to_string())?;
                if last.as_deref() == Some(text.as_str()) {
                    return Ok(());
                }
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, &text)
                    .and_then(|_| std::fs::rename(&tmp, &*path))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                *last = Some(text);
                Ok(())
            }
            StatusSink::Etcd(tx) => {
                tx.send_if_modified(|m| {
                    let changed = m != status;
                    if changed {
                        *m = status.clone();
                    }
                    changed
                });
                Ok(())
            }
        }
    }
}

/// Parses `file:PATH` (etcd URLs are handled by the caller).
pub fn file_path(spec: &str) -> Option<PathBuf> {
    spec.strip_prefix("file:").map(PathBuf::from)
}

/// The default status file of a file store.
pub fn default_status_file(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    PathBuf::from(format!("{}.status.json", s.trim_end_matches('/')))
}

/// The files of a file store, in name order.
fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            })
            .collect();
        v.sort();
        Ok(v)
    } else if path.exists() {
        Ok(vec![path.to_path_buf()])
    } else {
        Err(format!("{}: no such file or directory", path.display()))
    }
}

type Signature = Vec<(PathBuf, Option<SystemTime>, u64)>;

fn signature(path: &Path) -> Result<Signature, String> {
    Ok(files(path)?
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let t = m.as_ref().and_then(|m| m.modified().ok());
            let len = m.map_or(0, |m| m.len());
            (p, t, len)
        })
        .collect())
}

/// Reads a file store: every entry under `prefix`.
pub fn read_file_store(path: &Path, prefix: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for f in files(path)? {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        if text.trim().is_empty() {
            continue;
        }
        let doc: BTreeMap<String, serde_yaml_ng::Value> = serde_yaml_ng::from_str(&text)
            .map_err(|e| format!("{}: {e} (expected a map of keys to values)", f.display()))?;
        for (k, v) in doc {
            if !k.starts_with(prefix) {
                continue;
            }
            let raw = match v {
                serde_yaml_ng::Value::String(s) => s,
                other => {
                    let j: Json = serde_json::to_value(&other)
                        .map_err(|e| format!("{}: {k}: {e}", f.display()))?;
                    j.to_string()
                }
            };
            out.insert(k, raw);
        }
    }
    Ok(out)
}

/// Runs the file store: publishes a snapshot at start and after every change.
pub async fn run_file_store(
    path: PathBuf,
    prefix: String,
    poll: Duration,
    tx: watch::Sender<Snapshot>,
    events: Events,
) {
    let mut last_sig: Option<Signature> = None;
    let mut last_err: Option<String> = None;
    loop {
        let sig = signature(&path);
        let changed = match (&sig, &last_sig) {
            (Ok(s), Some(l)) => s != l,
            _ => true,
        };
        if changed {
            match sig.and_then(|s| read_file_store(&path, &prefix).map(|e| (s, e))) {
                Ok((s, entries)) => {
                    last_sig = Some(s);
                    last_err = None;
                    let n = entries.len();
                    tx.send_modify(|snap| {
                        snap.entries = entries;
                        snap.connected = true;
                        if !snap.loaded {
                            snap.resyncs += 1;
                        }
                        snap.loaded = true;
                    });
                    events.info(
                        "store-loaded",
                        &format!("{n} values under {prefix}"),
                        &[("store", &path.display().to_string())],
                    );
                }
                Err(e) => {
                    if last_err.as_deref() != Some(e.as_str()) {
                        events.error(
                            "store-error",
                            &format!("{e}; keeping the last good values"),
                            &[],
                        );
                        last_err = Some(e);
                    }
                    last_sig = None;
                }
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(poll).await;
    }
}
