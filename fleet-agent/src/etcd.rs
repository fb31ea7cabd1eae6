//! The etcd store (`--store etcd:URL,...`), through the `etcd-client` crate (etcd v3 gRPC).
//!
//! Reading: one `Range` of the label's config prefix (its revision R), published as a snapshot;
//! then a `Watch` of the prefix from R + 1, each response applied to the in-memory copy and
//! published (the agent batches them). A lost watch (stream error or end, a cancel, a compacted
//! start revision) or a lost connection drops the client; the next connection reads the whole
//! prefix again and publishes it as a *resync* (the agent then runs a full resync). While etcd
//! is away the agent keeps the last values (Ligato does the same).
//!
//! Writing status: a task owns a second client and makes `/vnf-agent/<label>/status/...` equal
//! to the latest status map (puts what changed, deletes what went); after a reconnect it reads
//! the status prefix first and deletes stale keys.

use std::collections::BTreeMap;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions, DeleteOptions, EventType, GetOptions, WatchOptions};
use serde_json::Value as Json;
use tokio::sync::watch;

use crate::events::Events;
use crate::store::Snapshot;

/// Parses `etcd:URL,URL` (a URL without scheme gets `http://`).
pub fn endpoints(spec: &str) -> Option<Vec<String>> {
    let rest = spec.strip_prefix("etcd:")?;
    let v: Vec<String> = rest
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.contains("://") {
                s.to_string()
            } else {
                format!("http://{s}")
            }
        })
        .collect();
    (!v.is_empty()).then_some(v)
}

/// Connects with short timeouts (a dead endpoint must not hold the agent).
pub async fn connect(endpoints: &[String], timeout: Duration) -> Result<Client, String> {
    let opts = ConnectOptions::new()
        .with_connect_timeout(timeout)
        .with_timeout(timeout)
        .with_keep_alive(Duration::from_secs(2), timeout);
    Client::connect(endpoints, Some(opts))
        .await
        .map_err(|e| format!("cannot connect to etcd at {}: {e}", endpoints.join(",")))
}

/// Every key under `prefix` (key -> value as text) and the revision of that read.
pub async fn read_prefix(
    client: &mut Client,
    prefix: &str,
) -> Result<(BTreeMap<String, String>, i64), String> {
    let r = client
        .get(prefix, Some(GetOptions::new().with_prefix()))
        .await
        .map_err(|e| format!("etcd range {prefix}: {e}"))?;
    let rev = r.header().map_or(0, |h| h.revision());
    let mut out = BTreeMap::new();
    for kv in r.kvs() {
        if let Ok(k) = kv.key_str() {
            out.insert(
                k.to_string(),
                String::from_utf8_lossy(kv.value()).into_owned(),
            );
        }
    }
    Ok((out, rev))
}

/// Runs the etcd store: publishes the prefix after every (re)connect and every watch event.
pub async fn run_etcd_store(
    endpoints: Vec<String>,
    prefix: String,
    timeout: Duration,
    retry: Duration,
    tx: watch::Sender<Snapshot>,
    events: Events,
) {
    let mut last_error: Option<String> = None;
    loop {
        if tx.is_closed() {
            return;
        }
        let e = session(&endpoints, &prefix, timeout, &tx, &events).await;
        tx.send_modify(|s| s.connected = false);
        if last_error.as_ref() != Some(&e) {
            events.warn(
                "store-disconnected",
                &format!("{e}; reconnecting (then a full resync)"),
                &[],
            );
            last_error = Some(e);
        }
        tokio::time::sleep(retry).await;
    }
}

/// One connection: read, then watch until something goes wrong (the reason is returned).
async fn session(
    endpoints: &[String],
    prefix: &str,
    timeout: Duration,
    tx: &watch::Sender<Snapshot>,
    events: &Events,
) -> String {
    let mut client = match connect(endpoints, timeout).await {
        Ok(c) => c,
        Err(e) => return e,
    };
    let (mut entries, rev) = match read_prefix(&mut client, prefix).await {
        Ok(x) => x,
        Err(e) => return e,
    };
    // Watch before publishing: nothing between the read and the watch is missed (the watch
    // starts at the read's revision + 1).
    let opts = WatchOptions::new()
        .with_prefix()
        .with_start_revision(rev + 1);
    let mut stream = match client.watch(prefix, Some(opts)).await {
        Ok(s) => s,
        Err(e) => return format!("etcd watch {prefix}: {e}"),
    };
    let n = entries.len();
    tx.send_modify(|s| {
        s.entries = entries.clone();
        s.connected = true;
        s.loaded = true;
        s.resyncs += 1;
    });
    events.info(
        "store-loaded",
        &format!("{n} values under {prefix} at revision {rev}"),
        &[
            ("store", &endpoints.join(",")),
            ("revision", &rev.to_string()),
        ],
    );
    loop {
        let msg = match stream.message().await {
            Ok(Some(m)) => m,
            Ok(None) => return "etcd watch ended".into(),
            Err(e) => return format!("etcd watch: {e}"),
        };
        if msg.canceled() || msg.compact_revision() > 0 {
            return format!(
                "etcd watch canceled (compact revision {}, {})",
                msg.compact_revision(),
                msg.cancel_reason()
            );
        }
        if msg.events().is_empty() {
            continue;
        }
        for ev in msg.events() {
            let Some(kv) = ev.kv() else { continue };
            let Ok(k) = kv.key_str() else { continue };
            match ev.event_type() {
                EventType::Put => {
                    entries.insert(
                        k.to_string(),
                        String::from_utf8_lossy(kv.value()).into_owned(),
                    );
                }
                EventType::Delete => {
                    entries.remove(k);
                }
            }
        }
        tx.send_modify(|s| s.entries = entries.clone());
    }
}

/// The status writer: keeps the status prefix equal to the latest map it was given.
pub async fn run_status_writer(
    endpoints: Vec<String>,
    prefix: String,
    timeout: Duration,
    retry: Duration,
    mut rx: watch::Receiver<BTreeMap<String, Json>>,
    events: Events,
) {
    let mut client: Option<Client> = None;
    // What etcd holds (None: unknown, read it first).
    let mut written: Option<BTreeMap<String, String>> = None;
    let mut last_error: Option<String> = None;
    // Nothing to write until the agent has a status (an empty map would wipe the old one).
    if rx.changed().await.is_err() {
        return;
    }
    loop {
        let want: BTreeMap<String, String> = rx
            .borrow_and_update()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let r = write(
            &endpoints,
            &prefix,
            timeout,
            &mut client,
            &mut written,
            &want,
        )
        .await;
        match r {
            Ok(()) => last_error = None,
            Err(e) => {
                client = None;
                written = None;
                if last_error.as_ref() != Some(&e) {
                    events.warn("status-write-failed", &e, &[]);
                    last_error = Some(e);
                }
                tokio::select! {
                    _ = tokio::time::sleep(retry) => {}
                    r = rx.changed() => if r.is_err() { return },
                }
                continue;
            }
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn write(
    endpoints: &[String],
    prefix: &str,
    timeout: Duration,
    client: &mut Option<Client>,
    written: &mut Option<BTreeMap<String, String>>,
    want: &BTreeMap<String, String>,
) -> Result<(), String> {
    if client.is_none() {
        *client = Some(connect(endpoints, timeout).await?);
    }
    let Some(c) = client.as_mut() else {
        return Err("no etcd client".into());
    };
    if written.is_none() {
        *written = Some(read_prefix(c, prefix).await?.0);
    }
    let Some(have) = written.as_mut() else {
        return Err("no status read".into());
    };
    let stale: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    for k in stale {
        c.delete(k.as_str(), None::<DeleteOptions>)
            .await
            .map_err(|e| format!("etcd delete {k}: {e}"))?;
        have.remove(&k);
    }
    for (k, v) in want {
        if have.get(k) != Some(v) {
            c.put(k.as_str(), v.as_str(), None)
                .await
                .map_err(|e| format!("etcd put {k}: {e}"))?;
            have.insert(k.clone(), v.clone());
        }
    }
    Ok(())
}
