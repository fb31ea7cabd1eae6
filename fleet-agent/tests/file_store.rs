//! The agent with the file store against the simulator (issue 13's acceptance, file half).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use evpn_tools::model::Item;
use serde_json::json;
use vppapi_binapi::l2::BridgeDomainAddDelV2;
use vppapi_runtime::{Config, Connection};

const L: &str = "gw1";

/// loop<i> is the BVI of BD i and has 10.0.i.1/24 (i < 256).
fn has_bvi_addr(vpp: &BTreeMap<String, (Item, bool)>, i: u32) -> bool {
    matches!(vpp.get(&format!("interface/loop{i}")), Some((Item::Loopback(l), true))
        if l.bvi_of == Some(i) && l.addrs.iter().any(|a| a.to_string() == format!("10.0.{i}.1/24")))
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bds_with_bvis_converge_status_applied_and_restored_after_vpp_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    let store = dir.path().join("store.json");
    let n = 100;
    write_store(&store, &bds_with_bvis(L, n));
    let t = Instant::now();
    let mut a = common_args(L, &store, sim.socket());
    a.extend(["--metrics-listen".into(), "127.0.0.1:0".into()]);
    let agent = Agent::start(&args(&a));
    let sp = status_path(&store);
    until("all applied", Duration::from_secs(20), &agent, || async {
        let s = status(&sp);
        s.len() == 2 * n as usize && s.values().all(|v| v["state"] == "applied")
    })
    .await;
    until("metrics", Duration::from_secs(5), &agent, || async {
        let m = scrape(&agent).await;
        m.contains("fleet_agent_values{state=\"applied\"} 200")
            && m.contains("fleet_agent_values{state=\"pending\"} 0")
            && m.contains("fleet_agent_vpp_connected 1")
            && m.contains("fleet_agent_store_connected 1")
            && m.contains("fleet_agent_resyncs_total 1")
    })
    .await;
    eprintln!("{n} BDs with BVIs applied in {:?}", t.elapsed());
    let vpp = vpp_state(sim.socket()).await;
    for i in 1..=n {
        assert!(vpp.get(&format!("bd/{i}")).is_some_and(|v| v.1), "bd/{i}");
        assert!(
            has_bvi_addr(&vpp, i),
            "loop{i}: {:?}",
            vpp.get(&format!("interface/loop{i}"))
        );
    }
    assert_eq!(agent.of_type("resync").len(), 1, "{}", agent.dump());

    // VPP restarts (new pid, empty state): the agent notices and restores everything.
    let t = Instant::now();
    sim.restart().await.unwrap();
    until("restored", Duration::from_secs(20), &agent, || async {
        let vpp = vpp_state(sim.socket()).await;
        (1..=n).all(|i| has_bvi_addr(&vpp, i))
    })
    .await;
    eprintln!("restored after a VPP restart in {:?}", t.elapsed());
    until(
        "a resync after the restart",
        Duration::from_secs(5),
        &agent,
        || async {
            agent.of_type("resync").len() >= 2 && !agent.of_type("vpp-disconnected").is_empty()
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l2fib_before_its_interface_is_pending_then_applied() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    let store = dir.path().join("store.yaml");
    let fib_pg = cfg(L, "evpn/l2fib/v1/10/02:00:00:00:00:aa");
    let fib_vx = cfg(L, "evpn/l2fib/v1/10/02:00:00:00:00:bb");
    let mut m: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    m.insert(
        cfg(L, "evpn/bd/v1/10"),
        json!({ "members": ["pg0", "vxlan_tunnel5:1"] }),
    );
    m.insert(fib_pg.clone(), json!({ "if": "pg0" }));
    m.insert(fib_vx.clone(), json!({ "if": "vxlan_tunnel5" }));
    write_store(&store, &m);
    // No periodic re-plan during the test: what happens, happens on store changes and VPP
    // events.
    let mut a = common_args(L, &store, sim.socket());
    let i = a.iter().position(|x| x == "--resync-interval").unwrap();
    a[i + 1] = "1h".into();
    let agent = Agent::start(&args(&a));
    let sp = status_path(&store);
    let s_pg = st(L, "evpn/l2fib/v1/10/02:00:00:00:00:aa");
    let s_vx = st(L, "evpn/l2fib/v1/10/02:00:00:00:00:bb");
    until("both pending", Duration::from_secs(10), &agent, || async {
        let s = status(&sp);
        state_of(&s, &s_pg) == "pending" && state_of(&s, &s_vx) == "pending"
    })
    .await;
    let s = status(&sp);
    assert!(
        s[&s_pg].to_string().contains("bd/10/member/pg0"),
        "the missing dependency is named: {}",
        s[&s_pg]
    );
    assert_eq!(state_of(&s, &st(L, "evpn/bd/v1/10")), "pending", "members");
    assert!(vpp_state(sim.socket()).await.contains_key("bd/10"));

    // The tunnel comes from the store: the entry on it is applied in the same transaction.
    m.insert(
        cfg(L, "evpn/vxlan/v1/5"),
        json!({ "src": "192.0.2.1", "dst": "192.0.2.2", "vni": 5 }),
    );
    write_store(&store, &m);
    until(
        "vxlan entry applied",
        Duration::from_secs(10),
        &agent,
        || async { state_of(&status(&sp), &s_vx) == "applied" },
    )
    .await;
    assert_eq!(state_of(&status(&sp), &s_pg), "pending");
    until(
        "the WAS-PENDING op event",
        Duration::from_secs(5),
        &agent,
        || async {
            agent.of_type("op").iter().any(|e| {
                e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("[WAS-PENDING]") && m.contains("02:00:00:00:00:bb"))
            })
        },
    )
    .await;

    // pg0 appears outside the store: its sw_interface_event makes the agent plan again, and
    // the rest is applied (the periodic re-plan is an hour away).
    assert_eq!(sim.cli("create packet-generator interface pg0").0, 0);
    until(
        "pg0 entry applied",
        Duration::from_secs(10),
        &agent,
        || async {
            let s = status(&sp);
            state_of(&s, &s_pg) == "applied" && state_of(&s, &st(L, "evpn/bd/v1/10")) == "applied"
        },
    )
    .await;
    assert!(
        !agent.of_type("vpp-interface-event").is_empty(),
        "{}",
        agent.dump()
    );
    let vpp = vpp_state(sim.socket()).await;
    assert!(vpp.contains_key("l2fib/10/02:00:00:00:00:aa"));
    assert!(vpp.contains_key("l2fib/10/02:00:00:00:00:bb"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_keys_go_in_dependency_order_and_unowned_objects_stay() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    // An object the agent does not own: BD 900 without evpn-tools' tag.
    let conn = Connection::connect(Config::new(sim.socket()))
        .await
        .unwrap();
    conn.call(&BridgeDomainAddDelV2 {
        bd_id: 900,
        is_add: true,
        flood: true,
        forward: true,
        learn: true,
        uu_flood: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let _ = conn.close().await;
    let store = dir.path().join("store.json");
    let mut m = bds_with_bvis(L, 2);
    m.insert(
        cfg(L, "evpn/vxlan/v1/3"),
        json!({ "src": "192.0.2.1", "dst": "192.0.2.3", "vni": 3 }),
    );
    m.insert(
        cfg(L, "evpn/bd/v1/1"),
        json!({ "members": ["vxlan_tunnel3"] }),
    );
    m.insert(
        cfg(L, "evpn/l2fib/v1/1/02:00:00:00:00:cc"),
        json!({ "if": "vxlan_tunnel3" }),
    );
    write_store(&store, &m);
    let agent = Agent::start(&args(&common_args(L, &store, sim.socket())));
    let sp = status_path(&store);
    until("applied", Duration::from_secs(10), &agent, || async {
        let s = status(&sp);
        s.len() == m.len() && s.values().all(|v| v["state"] == "applied")
    })
    .await;
    sim.api_trace_clear();
    write_store(&store, &BTreeMap::new());
    until(
        "all owned objects gone",
        Duration::from_secs(10),
        &agent,
        || async {
            let vpp = vpp_state(sim.socket()).await;
            !vpp.keys().any(|k| {
                k.starts_with("bd/1") && k != "bd/900"
                    || k.starts_with("bd/2")
                    || k.starts_with("interface/loop")
                    || k.starts_with("l2fib/")
                    || k.starts_with("vxlan/")
            }) && status(&sp).is_empty()
        },
    )
    .await;
    let vpp = vpp_state(sim.socket()).await;
    assert!(
        vpp.get("bd/900").is_some_and(|v| !v.1),
        "unowned BD 900 stays"
    );
    // Children before parents, by the agent's op events (in the order sent).
    until(
        "the delete events",
        Duration::from_secs(5),
        &agent,
        || async {
            agent
                .of_type("op")
                .iter()
                .any(|e| e["message"] == "DELETE bd/1")
        },
    )
    .await;
    let ops: Vec<String> = agent
        .of_type("op")
        .iter()
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .filter(|m| m.starts_with("DELETE "))
        .map(|m| m["DELETE ".len()..].to_string())
        .collect();
    let at = |k: &str| {
        ops.iter()
            .position(|o| o == k)
            .unwrap_or_else(|| panic!("no DELETE {k} in {ops:?}"))
    };
    let before = |a: &str, b: &str| assert!(at(a) < at(b), "{a} before {b}: {ops:?}");
    before("l2fib/1/02:00:00:00:00:cc", "bd/1/member/vxlan_tunnel3");
    before("bd/1/member/vxlan_tunnel3", "bd/1");
    before("bd/1/member/vxlan_tunnel3", "vxlan/3");
    for i in 1..=2 {
        before(&format!("bd/{i}/bvi/loop{i}"), &format!("bd/{i}"));
        before(
            &format!("bd/{i}/bvi/loop{i}"),
            &format!("interface/loop{i}"),
        );
        before(
            &format!("interface/loop{i}/addr/10.0.{i}.1/24"),
            &format!("interface/loop{i}"),
        );
    }
    // And VPP saw the deletes.
    let trace: Vec<&str> = sim.api_trace().iter().map(|e| e.name).collect();
    for m in [
        "l2fib_add_del",
        "delete_loopback",
        "bridge_domain_add_del_v2",
        "vxlan_add_del_tunnel_v3",
    ] {
        assert!(trace.contains(&m), "{m}: {trace:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_are_invalid_others_apply_dry_run_and_models() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    let store = dir.path().join("store.d");
    std::fs::create_dir(&store).unwrap();
    // A YAML file, values as YAML maps or as JSON text (as etcd holds them); another label's
    // keys are ignored.
    std::fs::write(
        store.join("a.yaml"),
        format!(
            "{}: {{ mac_age: 3 }}\n{}: '{{\"colour\": \"red\"}}'\n{}: {{ bd: 7 }}\n{}: {{}}\n",
            cfg(L, "evpn/bd/v1/7"),
            cfg(L, "evpn/bd/v1/8"),
            cfg(L, "evpn/bvi/v1/loop7"),
            cfg("other", "evpn/bd/v1/9"),
        ),
    )
    .unwrap();
    let mut a = common_args(L, &store, sim.socket());
    a.push("--dry-run".into());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_vpp-fleet-agent"))
        .args(&a)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "invalid values: exit 2");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan["invalid"][cfg(L, "evpn/bd/v1/8")]
        .as_str()
        .unwrap()
        .contains("colour"));
    let ops: Vec<&str> = plan["plan"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["key"].as_str())
        .collect();
    assert!(
        ops.contains(&"bd/7") && ops.contains(&"interface/loop7"),
        "{ops:?}"
    );
    assert!(!ops.iter().any(|k| k.starts_with("bd/9")));
    assert!(
        vpp_state(sim.socket()).await.is_empty()
            || !vpp_state(sim.socket()).await.contains_key("bd/7"),
        "dry run sent nothing"
    );

    let agent = Agent::start(&args(&common_args(L, &store, sim.socket())));
    let sp = status_path(&store);
    until(
        "applied and invalid",
        Duration::from_secs(10),
        &agent,
        || async {
            let s = status(&sp);
            state_of(&s, &st(L, "evpn/bd/v1/7")) == "applied"
                && state_of(&s, &st(L, "evpn/bvi/v1/loop7")) == "applied"
                && state_of(&s, &st(L, "evpn/bd/v1/8")) == "invalid"
        },
    )
    .await;
    assert!(status(&sp)[&st(L, "evpn/bd/v1/8")]["error"]
        .as_str()
        .unwrap()
        .contains("colour"));
    assert!(!vpp_state(sim.socket()).await.contains_key("bd/9"));
    until(
        "the invalid-value event",
        Duration::from_secs(5),
        &agent,
        || async {
            agent
                .of_type("invalid-value")
                .iter()
                .any(|e| e["message"].as_str().unwrap_or("").contains("evpn/bd/v1/8"))
        },
    )
    .await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vpp-fleet-agent"))
        .arg("--list-models")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(text.contains("/vnf-agent/<label>/config/evpn/bd/v1/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_value_fails_with_vpps_error_is_retried_and_others_apply() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    let store = dir.path().join("store.json");
    let vx = cfg(L, "evpn/vxlan/v1/9");
    let vx_st = st(L, "evpn/vxlan/v1/9");
    let mut m = bds_with_bvis(L, 2);
    // VRF 5 does not exist: VPP refuses the tunnel.
    m.insert(
        vx.clone(),
        json!({ "src": "192.0.2.1", "dst": "192.0.2.9", "vni": 9, "encap_vrf_id": 5 }),
    );
    write_store(&store, &m);
    let agent = Agent::start(&args(&common_args(L, &store, sim.socket())));
    let sp = status_path(&store);
    until(
        "failed, others applied",
        Duration::from_secs(10),
        &agent,
        || async {
            let s = status(&sp);
            state_of(&s, &vx_st) == "failed"
                && s.iter()
                    .filter(|(k, _)| **k != vx_st)
                    .all(|(_, v)| v["state"] == "applied")
                && s.len() == m.len()
        },
    )
    .await;
    let s = status(&sp);
    assert!(
        s[&vx_st]["error"].as_str().unwrap().contains("NO_SUCH_FIB"),
        "VPP's error name: {}",
        s[&vx_st]
    );
    // Retried with backoff (1 s, then 2 s).
    until("retried", Duration::from_secs(10), &agent, || async {
        status(&sp)[&vx_st]["attempts"].as_u64().unwrap_or(0) >= 2
    })
    .await;
    // A corrected value is tried at once (not after the backoff) and applied.
    m.insert(
        vx.clone(),
        json!({ "src": "192.0.2.1", "dst": "192.0.2.9", "vni": 9 }),
    );
    write_store(&store, &m);
    until("applied", Duration::from_secs(5), &agent, || async {
        state_of(&status(&sp), &vx_st) == "applied"
    })
    .await;
    assert!(vpp_state(sim.socket()).await.contains_key("vxlan/9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lb_conf_and_vips_apply_and_a_deleted_vip_goes() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path(), "api.sock").await;
    let store = dir.path().join("store.json");
    let conf = cfg(L, "lb/conf/v1/global");
    let www = cfg(L, "lb/vip/v1/www");
    let bad = cfg(L, "lb/vip/v1/bad");
    let mut m = BTreeMap::new();
    m.insert(
        conf.clone(),
        json!({ "ip4-src": "192.0.2.254", "ip6-src": "2001:db8::fe",
                "managed-prefixes": ["2001:db8:100::/64"] }),
    );
    m.insert(
        www.clone(),
        json!({ "prefix": "2001:db8:100::1/128", "protocol": "tcp", "port": 80,
                "encap": "gre6", "new-len": 1024,
                "as": ["2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"] }),
    );
    m.insert(
        bad.clone(),
        json!({ "prefix": "2001:db8:100::2/128", "encap": "gre6", "new-len": 1000 }),
    );
    write_store(&store, &m);
    // --dry-run shows the LB plan too (lb_conf, the VIP, its 3 ASes), names the bad VIP, and
    // sends nothing.
    let mut a = common_args(L, &store, sim.socket());
    a.push("--dry-run".into());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_vpp-fleet-agent"))
        .args(&a)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "an invalid value: exit 2");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lb_msgs: Vec<&str> = plan["lb_plan"]["ops"]
        .as_array()
        .unwrap_or_else(|| panic!("no lb_plan: {plan}"))
        .iter()
        .flat_map(|o| o["messages"].as_array().unwrap())
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        lb_msgs,
        [
            "lb_conf",
            "lb_add_del_vip_v2",
            "lb_add_del_as",
            "lb_add_del_as",
            "lb_add_del_as"
        ],
        "{plan}"
    );
    assert!(plan["invalid"][&bad].is_string(), "{plan}");
    let show = sim.cli("show lb vips verbose").1;
    assert!(show.trim().is_empty(), "a dry run sends nothing: {show}");

    let agent = Agent::start(&args(&common_args(L, &store, sim.socket())));
    let sp = status_path(&store);
    let (conf_st, www_st, bad_st) = (
        st(L, "lb/conf/v1/global"),
        st(L, "lb/vip/v1/www"),
        st(L, "lb/vip/v1/bad"),
    );
    until("lb applied", Duration::from_secs(10), &agent, || async {
        let s = status(&sp);
        state_of(&s, &conf_st) == "applied"
            && state_of(&s, &www_st) == "applied"
            && state_of(&s, &bad_st) == "invalid"
    })
    .await;
    assert!(status(&sp)[&bad_st]["error"]
        .as_str()
        .unwrap()
        .contains("power of two"));
    let (_, out) = sim.cli("show lb vips verbose");
    assert!(out.contains("2001:db8:100::1/128"), "{out}");
    for a in ["2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"] {
        assert!(out.contains(a), "{a}: {out}");
    }
    // The bad VIP removed from the store, then the good one: it goes (inside the managed
    // prefix), the conf stays.
    m.remove(&bad);
    m.remove(&www);
    write_store(&store, &m);
    // (VPP 26.06 keeps a deleted VIP listed as ` removed` until its flows age out, so the
    // agent's ops are the evidence.)
    until("the VIP gone", Duration::from_secs(10), &agent, || async {
        let ops: Vec<String> = agent
            .of_type("op")
            .iter()
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect();
        let at = |m: &str| ops.iter().position(|o| o == m);
        let vip = at("DELETE lb/vip/2001:db8:100::1/128/tcp/80");
        let as1 = at("DELETE lb/vip/2001:db8:100::1/128/tcp/80/as/2001:db8:1::1");
        matches!((as1, vip), (Some(a), Some(v)) if a < v) && !status(&sp).contains_key(&www_st)
    })
    .await;
    let (_, out) = sim.cli("show lb vips verbose");
    assert!(
        out.lines()
            .filter(|l| l.contains("2001:db8:100::1/128"))
            .all(|l| l.contains("removed")),
        "{out}"
    );
    assert_eq!(state_of(&status(&sp), &conf_st), "applied");
}
