//! The agent with a real etcd and simulators (issue 13's acceptance). Each test starts its own
//! etcd on free ports with a temporary data dir and kills it at the end; without an `etcd`
//! binary the tests say SKIPPED and pass (scripts/test.sh installs it).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use evpn_tools::model::Item;
use serde_json::{json, Value as Json};

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn all_applied(s: &BTreeMap<String, Json>, n: usize) -> bool {
    s.len() == n && s.values().all(|v| v["state"] == "applied")
}

/// 100 bridge domains with BVIs for label a, three for label b, one etcd, two simulators:
/// each converges on its own, status keys say applied; an l2fib entry before its interface is
/// pending, then applied; deleted keys go; a VPP restart is restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_labels_one_etcd_converge_pending_restart_delete() {
    let dir = tempfile::tempdir().unwrap();
    let Some(etcd) = Etcd::start(dir.path()).await else {
        return;
    };
    let mut c = etcd.client().await.unwrap();
    let sim_a = sim(dir.path(), "a.sock").await;
    let sim_b = sim(dir.path(), "b.sock").await;
    let n = 100;
    let a_vals = bds_with_bvis("a", n);
    let mut b_vals = BTreeMap::new();
    for i in 500..503u32 {
        b_vals.insert(cfg("b", &format!("evpn/bd/v1/{i}")), json!({}));
    }
    etcd_put(&mut c, &a_vals).await;
    etcd_put(&mut c, &b_vals).await;
    let t = Instant::now();
    let agent_a = Agent::start(&args(&etcd_args("a", &etcd.store(), sim_a.socket())));
    let agent_b = Agent::start(&args(&etcd_args("b", &etcd.store(), sim_b.socket())));
    until(
        "a: all applied",
        Duration::from_secs(20),
        &agent_a,
        || async {
            all_applied(
                &etcd_prefix(&mut c.clone(), "/vnf-agent/a/status/").await,
                a_vals.len(),
            )
        },
    )
    .await;
    eprintln!("label a: {n} BDs with BVIs applied in {:?}", t.elapsed());
    until(
        "b: all applied",
        Duration::from_secs(10),
        &agent_b,
        || async {
            all_applied(
                &etcd_prefix(&mut c.clone(), "/vnf-agent/b/status/").await,
                3,
            )
        },
    )
    .await;
    let va = vpp_state(sim_a.socket()).await;
    let vb = vpp_state(sim_b.socket()).await;
    assert_eq!(
        va.keys().filter(|k| k.starts_with("bd/")).count(),
        n as usize
    );
    assert!(!va.contains_key("bd/500"), "a applies only its own");
    assert_eq!(
        vb.keys()
            .filter(|k| k.starts_with("bd/"))
            .collect::<Vec<_>>(),
        ["bd/500", "bd/501", "bd/502"],
        "b applies only its own"
    );
    assert!(
        matches!(va.get("interface/loop42"), Some((Item::Loopback(l), true)) if l.bvi_of == Some(42))
    );

    // An l2fib entry before its interface: pending; the tunnel is put: applied.
    let fib = cfg("a", "evpn/l2fib/v1/7/02:00:00:00:07:01");
    let fib_st = st("a", "evpn/l2fib/v1/7/02:00:00:00:07:01");
    c.put(
        fib.as_str(),
        json!({ "if": "vxlan_tunnel7" }).to_string(),
        None,
    )
    .await
    .unwrap();
    until(
        "l2fib pending",
        Duration::from_secs(10),
        &agent_a,
        || async {
            let s = etcd_prefix(&mut c.clone(), &fib_st).await;
            s.get(&fib_st).is_some_and(|v| v["state"] == "pending")
        },
    )
    .await;
    let t = Instant::now();
    c.put(
        cfg("a", "evpn/bd/v1/7").as_str(),
        json!({ "mac_age": 5, "members": ["vxlan_tunnel7:1"] }).to_string(),
        None,
    )
    .await
    .unwrap();
    c.put(
        cfg("a", "evpn/vxlan/v1/7").as_str(),
        json!({ "src": "192.0.2.1", "dst": "192.0.2.7", "vni": 7 }).to_string(),
        None,
    )
    .await
    .unwrap();
    until(
        "l2fib applied",
        Duration::from_secs(10),
        &agent_a,
        || async {
            let s = etcd_prefix(&mut c.clone(), &fib_st).await;
            s.get(&fib_st).is_some_and(|v| v["state"] == "applied")
        },
    )
    .await;
    eprintln!("pending -> applied {:?} after the put", t.elapsed());
    assert!(vpp_state(sim_a.socket())
        .await
        .contains_key("l2fib/7/02:00:00:00:07:01"));

    // VPP restarts (new pid, empty state): everything comes back.
    let t = Instant::now();
    sim_a.restart().await.unwrap();
    until("restored", Duration::from_secs(20), &agent_a, || async {
        let v = vpp_state(sim_a.socket()).await;
        v.keys().filter(|k| k.starts_with("bd/")).count() == n as usize
            && v.contains_key("l2fib/7/02:00:00:00:07:01")
    })
    .await;
    eprintln!("restored after a VPP restart in {:?}", t.elapsed());

    // b's keys deleted: b's objects go, a is untouched, b's status keys go.
    c.delete(
        "/vnf-agent/b/config/",
        Some(etcd_client::DeleteOptions::new().with_prefix()),
    )
    .await
    .unwrap();
    until(
        "b's objects gone",
        Duration::from_secs(10),
        &agent_b,
        || async {
            !vpp_state(sim_b.socket())
                .await
                .keys()
                .any(|k| k.starts_with("bd/"))
                && etcd_prefix(&mut c.clone(), "/vnf-agent/b/status/")
                    .await
                    .is_empty()
        },
    )
    .await;
    assert_eq!(
        vpp_state(sim_a.socket())
            .await
            .keys()
            .filter(|k| k.starts_with("bd/"))
            .count(),
        n as usize
    );
    drop(agent_a);
    drop(agent_b);
}

/// etcd is killed; while it is away the agent keeps VPP as it is; etcd comes back and keys
/// change: the agent reconnects, reads the whole prefix (a full resync) and catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_killed_and_restarted_with_changes_is_caught_up() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut etcd) = Etcd::start(dir.path()).await else {
        return;
    };
    let mut c = etcd.client().await.unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    etcd_put(&mut c, &bds_with_bvis("a", 3)).await;
    let agent = Agent::start(&args(&etcd_args("a", &etcd.store(), sim.socket())));
    until("applied", Duration::from_secs(10), &agent, || async {
        all_applied(
            &etcd_prefix(&mut c.clone(), "/vnf-agent/a/status/").await,
            6,
        )
    })
    .await;
    etcd.kill().await;
    until(
        "the agent sees etcd go",
        Duration::from_secs(10),
        &agent,
        || async { !agent.of_type("store-disconnected").is_empty() },
    )
    .await;
    // VPP stays as it was while the store is away.
    assert!(vpp_state(sim.socket()).await.contains_key("bd/3"));
    let resyncs = agent.of_type("resync").len();
    etcd.restart().await;
    let mut c = etcd.client().await.unwrap();
    c.delete(cfg("a", "evpn/bvi/v1/loop3").as_str(), None)
        .await
        .unwrap();
    c.delete(cfg("a", "evpn/bd/v1/3").as_str(), None)
        .await
        .unwrap();
    c.put(cfg("a", "evpn/bd/v1/4").as_str(), "{}", None)
        .await
        .unwrap();
    until("caught up", Duration::from_secs(15), &agent, || async {
        let v = vpp_state(sim.socket()).await;
        !v.contains_key("bd/3") && !v.contains_key("interface/loop3") && v.contains_key("bd/4")
    })
    .await;
    until(
        "status caught up",
        Duration::from_secs(10),
        &agent,
        || async {
            let s = etcd_prefix(&mut c.clone(), "/vnf-agent/a/status/").await;
            all_applied(&s, 5) && s.contains_key(&st("a", "evpn/bd/v1/4"))
        },
    )
    .await;
    until(
        "a resync after the reconnect",
        Duration::from_secs(5),
        &agent,
        || async { agent.of_type("resync").len() > resyncs },
    )
    .await;
}
