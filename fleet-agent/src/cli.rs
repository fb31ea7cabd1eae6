//! `vpp-fleet-agent put|get|list|delete`: desired values without etcdctl, checked against the
//! models before they are written. A KEY is relative to `/vnf-agent/<label>/config/`
//! (`evpn/bd/v1/100`) or a full key (`/vnf-agent/...`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value as Json};

use crate::models::{parse_entry, Label};

/// Which store a command talks to.
pub enum StoreRef<'a> {
    File(&'a Path),
    Etcd(&'a [String]),
}

/// A full config key from a KEY argument.
pub fn full_key(label: &Label, key: &str) -> String {
    if key.starts_with('/') {
        key.to_string()
    } else {
        format!("{}{key}", label.config_prefix())
    }
}

/// Checks a value against its model: `Err` names the key and what is wrong.
pub fn check(label: &Label, key: &str, value: &str) -> Result<(), String> {
    let rel = key.strip_prefix(&label.config_prefix()).ok_or_else(|| {
        format!(
            "{key}: not under {} (the label's config prefix)",
            label.config_prefix()
        )
    })?;
    parse_entry(rel, value)
        .map(|_| ())
        .map_err(|e| format!("{key}: {e}"))
}

fn read_map(path: &Path) -> Result<BTreeMap<String, serde_yaml_ng::Value>, String> {
    if path.is_dir() {
        return Err(format!(
            "{}: a directory store is edited through its files",
            path.display()
        ));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_map(path: &Path, m: &BTreeMap<String, serde_yaml_ng::Value>) -> Result<(), String> {
    let text = if path.extension().is_some_and(|e| e == "json") {
        serde_json::to_string_pretty(m).map_err(|e| e.to_string())?
    } else {
        serde_yaml_ng::to_string(m).map_err(|e| e.to_string())?
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes (or, with `value` None, deletes) one key.
pub async fn put(
    store: StoreRef<'_>,
    label: &Label,
    key: &str,
    value: Option<&str>,
    timeout: std::time::Duration,
) -> Result<(), String> {
    let key = full_key(label, key);
    let value = match value {
        Some(v) => {
            check(label, &key, v)?;
            // Stored compact, as JSON text.
            let j: Json = serde_json::from_str(v).map_err(|e| format!("{key}: {e}"))?;
            Some(j)
        }
        None => None,
    };
    match store {
        StoreRef::Etcd(ep) => {
            let mut c = crate::etcd::connect(ep, timeout).await?;
            match value {
                Some(v) => c
                    .put(key.as_str(), v.to_string(), None)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("etcd put {key}: {e}")),
                None => c
                    .delete(key.as_str(), None)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("etcd delete {key}: {e}")),
            }
        }
        StoreRef::File(path) => {
            let mut m = read_map(path)?;
            match value {
                Some(v) => {
                    let y = serde_yaml_ng::to_value(&v).map_err(|e| format!("{key}: {e}"))?;
                    m.insert(key, y);
                }
                None => {
                    m.remove(&key);
                }
            }
            write_map(path, &m)
        }
    }
}

/// The label's config entries under `prefix` (relative or full), each with its status.
pub async fn list(
    store: StoreRef<'_>,
    label: &Label,
    prefix: &str,
    status_file: Option<&Path>,
    timeout: std::time::Duration,
) -> Result<Vec<Json>, String> {
    let prefix = full_key(label, prefix);
    let (entries, status): (BTreeMap<String, String>, BTreeMap<String, Json>) = match store {
        StoreRef::Etcd(ep) => {
            let mut c = crate::etcd::connect(ep, timeout).await?;
            let (e, _) = crate::etcd::read_prefix(&mut c, &prefix).await?;
            let (s, _) = crate::etcd::read_prefix(&mut c, &label.status_prefix()).await?;
            let s = s
                .into_iter()
                .map(|(k, v)| {
                    let j = serde_json::from_str(&v).unwrap_or(Json::String(v));
                    (k, j)
                })
                .collect();
            (e, s)
        }
        StoreRef::File(path) => {
            let e = crate::store::read_file_store(path, &prefix)?;
            let s = status_file
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            (e, s)
        }
    };
    Ok(entries
        .into_iter()
        .map(|(k, v)| {
            let value = serde_json::from_str(&v).unwrap_or(Json::String(v));
            let st = status
                .get(&label.status_key(&k))
                .cloned()
                .unwrap_or(Json::Null);
            json!({ "key": k, "value": value, "status": st })
        })
        .collect())
}
