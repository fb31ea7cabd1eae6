//! Issue 13's numbers (ignored by default: they take a while):
//! `cargo test -p fleet-agent --release --test numbers -- --ignored --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Sets `--flag value` (replacing a default of the common arguments).
fn set(a: &mut Vec<String>, flag: &str, value: &str) {
    match a.iter().position(|x| x == flag) {
        Some(i) => a[i + 1] = value.into(),
        None => a.extend([flag.into(), value.into()]),
    }
}

/// Time from an etcd `put` to the agent's CREATE op (p50, p99 over 1,000 puts, one at a time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn put_to_applied_latency_over_1000_puts() {
    let dir = tempfile::tempdir().unwrap();
    let Some(etcd) = Etcd::start(dir.path()).await else {
        return;
    };
    let mut c = etcd.client().await.unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    let mut a = etcd_args("a", &etcd.store(), sim.socket());
    set(&mut a, "--resync-interval", "1h");
    set(&mut a, "--batch", "0s");
    let agent = Agent::start(&args(&a));
    until("started", Duration::from_secs(10), &agent, || async {
        !agent.of_type("resync").is_empty()
    })
    .await;
    let mut lat = Vec::new();
    for i in 1..=1000u32 {
        let t = Instant::now();
        c.put(cfg("a", &format!("evpn/bd/v1/{i}")).as_str(), "{}", None)
            .await
            .unwrap();
        let want = format!("CREATE bd/{i}");
        loop {
            if agent
                .events
                .lock()
                .unwrap()
                .iter()
                .rev()
                .take(8)
                .any(|e| e["message"] == want.as_str())
            {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{}", agent.dump());
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        lat.push(t.elapsed());
    }
    lat.sort();
    eprintln!(
        "put -> applied over 1000 puts: p50 {:?}, p99 {:?}, max {:?}",
        lat[500], lat[990], lat[999]
    );
}

/// A full resync of 10,000 values (5,000 BDs, 5,000 BVIs with vMAC and an address) from an
/// empty simulator: time and messages sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn full_resync_of_10000_values() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    let store = dir.path().join("store.json");
    let mut m = std::collections::BTreeMap::new();
    for i in 1..=5000u32 {
        m.insert(cfg("a", &format!("evpn/bd/v1/{i}")), json!({}));
        m.insert(
            cfg("a", &format!("evpn/bvi/v1/loop{i}")),
            json!({ "bd": i, "vmac": format!("42:00:00:00:{:02x}:{:02x}", i >> 8, i & 0xff),
                    "addresses": [format!("10.{}.{}.1/24", i >> 8, i & 0xff)] }),
        );
    }
    write_store(&store, &m);
    let t = Instant::now();
    let mut a = common_args("a", &store, sim.socket());
    set(&mut a, "--resync-interval", "1h");
    set(&mut a, "--timeout", "30s");
    let agent = Agent::start(&args(&a));
    let sp = status_path(&store);
    until("all applied", Duration::from_secs(600), &agent, || async {
        let s = status(&sp);
        s.len() == 10_000 && s.values().all(|v| v["state"] == "applied")
    })
    .await;
    let trace = sim.api_trace();
    let mutating = trace.iter().filter(|e| is_mutating(e.name)).count();
    eprintln!(
        "full resync of 10,000 values: {:?}, {} messages ({} mutating)",
        t.elapsed(),
        trace.len(),
        mutating
    );
}
