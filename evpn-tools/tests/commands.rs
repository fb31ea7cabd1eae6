//! The other commands against the simulator: apply (YAML and TOML, prune, pending, idempotence),
//! vxlan, deletes, l2fib, dry runs, --trace, bad input, ownership.

mod common;

use common::Bed;
use futures_util::StreamExt;
use vppapi_binapi::interface::{SwInterfaceDump, SwInterfaceSetFlags};
use vppapi_binapi::l2::{BridgeDomainAddDelV2, BridgeDomainDump, L2FibTableDump};
use vppapi_binapi::vxlan::VxlanTunnelV2Dump;
use vppapi_runtime::{Connection, InterfaceIndex};

async fn names(c: &Connection) -> Vec<String> {
    let mut s = c.dump(&SwInterfaceDump::default()).await.unwrap();
    let mut v = Vec::new();
    while let Some(d) = s.next().await {
        v.push(d.unwrap().interface_name);
    }
    v
}

async fn bd_ids(c: &Connection) -> Vec<u32> {
    let mut s = c.dump(&BridgeDomainDump::default()).await.unwrap();
    let mut v = Vec::new();
    while let Some(d) = s.next().await {
        v.push(d.unwrap().bd_id);
    }
    v
}

fn write(bed: &Bed, name: &str, text: &str) -> String {
    let p = bed.dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const GATEWAY: &str = "
bridge-domains:
  - { id: 100, uu-flood: false, mac-age: 5 }
  - { id: 200 }
bvis:
  - { name: loop100, bd: 100, mac: '02:00:00:00:01:00', vmac: '42:6c:fa:d6:82:98',
      addresses: [172.16.0.32/24, 'fec0::32/64'] }
  - { name: loop200, bd: 200, mac: '02:00:00:00:02:00' }
vxlan:
  - { instance: 7, src: 192.0.2.1, dst: 192.0.2.2, vni: 100, bd: 100,
      remote-macs: ['02:aa:00:00:00:01'] }
";

#[tokio::test]
async fn apply_converges_then_plans_nothing_then_prunes() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    let f = write(&bed, "gw.yaml", GATEWAY);
    // Dry run: the whole plan, nothing sent.
    let r = bed.run(&["apply", &f, "--dry-run", "--json"]).await;
    r.ok();
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());
    let planned = r.ops();
    assert!(planned > 10, "{}", r.stdout);
    let dry_msgs: Vec<String> = r.json()["steps"][0]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["messages"].as_array().unwrap().clone())
        .map(|m| m["message"].as_str().unwrap().to_string())
        .collect();
    // Apply: the same messages in the same order, converged.
    bed.clear();
    let r = bed.run(&["apply", &f, "--json"]).await;
    r.ok();
    assert_eq!(r.ops(), planned);
    assert_eq!(
        bed.mutating(),
        dry_msgs,
        "a dry run shows exactly what apply sends"
    );
    assert_eq!(bd_ids(&c).await, [100, 200]);
    let n = names(&c).await;
    for i in ["loop100", "loop200", "vxlan_tunnel7"] {
        assert!(n.iter().any(|x| x == i), "{i} missing in {n:?}");
    }
    let fib: Vec<_> = {
        let mut s = c.dump(&L2FibTableDump { bd_id: 100 }).await.unwrap();
        let mut v = Vec::new();
        while let Some(d) = s.next().await {
            v.push(d.unwrap());
        }
        v
    };
    assert!(fib
        .iter()
        .any(|e| e.mac.to_string() == "02:aa:00:00:00:01" && e.static_mac));
    // Order: the BD before its members and BVI, the tunnel before its membership.
    let t = bed.mutating();
    let pos = |n: &str| t.iter().position(|x| *x == n).unwrap();
    assert!(pos("bridge_domain_add_del_v2") < pos("sw_interface_set_l2_bridge"));
    assert!(pos("vxlan_add_del_tunnel_v3") < pos("l2fib_add_del"));

    // Second run: nothing.
    bed.clear();
    let r = bed.run(&["apply", &f, "--json"]).await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());

    // The same state in TOML: nothing either.
    let toml = write(
        &bed,
        "gw.toml",
        r#"
[[bridge-domains]]
id = 100
uu-flood = false
mac-age = 5
[[bridge-domains]]
id = 200
[[bvis]]
name = "loop100"
bd = 100
mac = "02:00:00:00:01:00"
vmac = "42:6c:fa:d6:82:98"
addresses = ["172.16.0.32/24", "fec0::32/64"]
[[bvis]]
name = "loop200"
bd = 200
mac = "02:00:00:00:02:00"
[[vxlan]]
instance = 7
src = "192.0.2.1"
dst = "192.0.2.2"
vni = 100
bd = 100
remote-macs = ["02:aa:00:00:00:01"]
"#,
    );
    bed.clear();
    let r = bed.run(&["apply", &toml, "--json"]).await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);

    // A BD someone else made is left alone by the prune; ours that the file drops go.
    c.call(&BridgeDomainAddDelV2 {
        bd_id: 300,
        bd_tag: "bird".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let small = write(
        &bed,
        "small.yaml",
        "bridge-domains:\n  - { id: 100, uu-flood: false, mac-age: 5 }\n",
    );
    bed.clear();
    let r = bed.run(&["apply", &small, "--json"]).await;
    r.ok();
    assert_eq!(bd_ids(&c).await, [100, 300]);
    let n = names(&c).await;
    assert!(
        !n.iter()
            .any(|x| x == "loop100" || x == "loop200" || x == "vxlan_tunnel7"),
        "{n:?}"
    );
    // Deletes run children first: addresses and ports before interfaces and BDs.
    let t = bed.mutating();
    eprintln!("{t:?}");
    let last = |n: &str| t.iter().rposition(|x| *x == n).unwrap();
    let first = |n: &str| t.iter().position(|x| *x == n).unwrap();
    // BVIs leave their BD before they are deleted; the BDs go after the loopbacks.
    assert!(first("sw_interface_set_l2_bridge") < first("delete_loopback"));
    assert_eq!(t.iter().filter(|n| **n == "delete_loopback").count(), 2);
    assert_eq!(
        t.iter()
            .filter(|n| **n == "bridge_domain_add_del_v2")
            .count(),
        1
    );
    // The tunnel's MAC and port go before the tunnel.
    assert!(last("l2fib_add_del") < last("vxlan_add_del_tunnel_v3"));
    assert!(last("sw_interface_set_l2_bridge") < last("vxlan_add_del_tunnel_v3"));
}

#[tokio::test]
async fn pending_values_wait_for_their_interface() {
    let bed = Bed::start().await;
    let f = write(
        &bed,
        "p.yaml",
        "bridge-domains:\n  - { id: 1, members: [pg0] }\nl2fib:\n  - { bd: 1, mac: '62:89:00:00:00:01', if: pg0 }\n",
    );
    // pg0 does not exist: the BD is created, member and l2fib are PENDING (exit 0, or 3 with --strict).
    let r = bed.run(&["apply", &f, "--json"]).await;
    r.ok();
    let j = r.json();
    let pending: Vec<&str> = j["steps"][0]["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(pending, ["bd/1/member/pg0", "l2fib/1/62:89:00:00:00:01"]);
    assert_eq!(bed.mutating(), ["bridge_domain_add_del_v2"]);
    let r = bed.run(&["apply", &f, "--strict"]).await;
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(
        r.stdout.contains("[PENDING] bd/1/member/pg0"),
        "{}",
        r.stdout
    );
    // The interface appears: the next run creates both.
    bed.sim.with_model(|m| m.create_pg(0));
    bed.clear();
    let r = bed.run(&["apply", &f, "--strict", "--json"]).await;
    r.ok();
    assert_eq!(
        bed.mutating(),
        ["sw_interface_set_l2_bridge", "l2fib_add_del"]
    );
}

#[tokio::test]
async fn vxlan_ensure_and_delete() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    bed.run(&["bd", "ensure", "--id", "100"]).await.ok();
    bed.clear();
    let args = [
        "vxlan",
        "ensure",
        "--instance",
        "3",
        "--src",
        "2001:db8::1",
        "--dst",
        "2001:db8::2",
        "--vni",
        "100",
        "--bd",
        "100",
        "--remote-mac",
        "02:aa:00:00:00:02",
    ];
    bed.run(&args).await.ok();
    assert_eq!(
        bed.mutating(),
        [
            "vxlan_add_del_tunnel_v3",
            "sw_interface_tag_add_del",
            "sw_interface_set_flags",
            "sw_interface_set_l2_bridge",
            "l2fib_add_del"
        ]
    );
    let mut s = c
        .dump(&VxlanTunnelV2Dump {
            sw_if_index: InterfaceIndex::NONE,
        })
        .await
        .unwrap();
    let t = s.next().await.unwrap().unwrap();
    assert_eq!(
        (t.instance, t.vni, t.dst_port, t.decap_next_index),
        (3, 100, 4789, 1)
    );
    drop(s);
    bed.clear();
    let mut a = vec!["--json"];
    a.extend(args);
    let r = bed.run(&a).await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty());
    // Another VNI recreates the tunnel (and its membership and MAC after it).
    bed.clear();
    let mut changed = args.to_vec();
    changed[9] = "101";
    bed.run(&changed).await.ok();
    let m = bed.mutating();
    assert_eq!(
        m.iter()
            .filter(|n| **n == "vxlan_add_del_tunnel_v3")
            .count(),
        2,
        "{m:?}"
    );
    bed.clear();
    bed.run(&["vxlan", "delete", "--instance", "3"]).await.ok();
    assert_eq!(
        bed.mutating(),
        [
            "l2fib_add_del",
            "sw_interface_set_l2_bridge",
            "vxlan_add_del_tunnel_v3"
        ]
    );
    assert!(!names(&c).await.iter().any(|n| n == "vxlan_tunnel3"));
}

#[tokio::test]
async fn deletes_touch_only_what_we_own() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    bed.run(&["bd", "ensure", "--id", "100"]).await.ok();
    bed.run(&[
        "bvi",
        "create",
        "--name",
        "loop100",
        "--bd",
        "100",
        "--mac",
        "02:00:00:00:01:00",
    ])
    .await
    .ok();
    // bvi delete: out of the BD, then gone (nothing for its MAC, link-local or admin state).
    bed.clear();
    let r = bed
        .run(&["bvi", "delete", "--if", "loop100", "--dry-run", "--json"])
        .await;
    r.ok();
    assert!(bed.mutating().is_empty());
    bed.run(&["bvi", "delete", "--if", "loop100"]).await.ok();
    assert_eq!(
        bed.mutating(),
        ["sw_interface_set_l2_bridge", "delete_loopback"]
    );
    assert!(!names(&c).await.iter().any(|n| n == "loop100"));
    // An unowned BD: blocked (exit 3) unless --force.
    c.call(&BridgeDomainAddDelV2 {
        bd_id: 300,
        bd_tag: "bird".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    bed.clear();
    let r = bed.run(&["bd", "delete", "--id", "300"]).await;
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(bed.mutating().is_empty());
    let r = bed.run(&["bd", "ensure", "--id", "300", "--learn"]).await;
    assert_eq!(
        r.code, 3,
        "changing an unowned BD needs --adopt: {}",
        r.stdout
    );
    bed.run(&["bd", "delete", "--id", "300", "--force"])
        .await
        .ok();
    bed.run(&["bd", "delete", "--id", "100"]).await.ok();
    assert!(bd_ids(&c).await.is_empty());
    // Deleting what is not there: nothing to do.
    bed.clear();
    let r = bed.run(&["bd", "delete", "--id", "100", "--json"]).await;
    r.ok();
    assert_eq!(r.ops(), 0);
}

#[tokio::test]
async fn l2fib_commands() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    let pg = bed.sim.with_model(|m| m.create_pg(0));
    c.call(&SwInterfaceSetFlags {
        sw_if_index: InterfaceIndex(pg),
        flags: vppapi_binapi::interface_types::IfStatusFlags(1),
    })
    .await
    .unwrap();
    bed.run(&["bd", "ensure", "--id", "10", "--member", "pg0"])
        .await
        .ok();
    bed.clear();
    bed.run(&[
        "l2fib",
        "add",
        "--bd",
        "10",
        "--mac",
        "02:00:00:00:00:0a",
        "--if",
        "pg0",
    ])
    .await
    .ok();
    bed.run(&[
        "l2fib",
        "add",
        "--bd",
        "10",
        "--mac",
        "02:00:00:00:00:0a",
        "--if",
        "pg0",
    ])
    .await
    .ok();
    assert_eq!(bed.mutating(), ["l2fib_add_del"]);
    let r = bed.run(&["l2fib", "show", "--bd", "10", "--json"]).await;
    r.ok();
    assert_eq!(r.json()[0]["interface"], "pg0");
    // flush: nothing learned, nothing sent; one learned MAC, one flush that keeps the static one.
    bed.clear();
    bed.run(&["l2fib", "flush", "--bd", "10"]).await.ok();
    assert!(bed.mutating().is_empty());
    bed.sim
        .with_model(|m| m.learn_mac(pg, [2, 0, 0, 0, 0, 0x0b]));
    bed.run(&["l2fib", "flush", "--bd", "10"]).await.ok();
    assert_eq!(bed.mutating(), ["l2fib_flush_bd"]);
    let r = bed.run(&["l2fib", "show", "--bd", "10", "--json"]).await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    bed.clear();
    bed.run(&["l2fib", "del", "--bd", "10", "--mac", "02:00:00:00:00:0a"])
        .await
        .ok();
    bed.run(&["l2fib", "del", "--bd", "10", "--mac", "02:00:00:00:00:0a"])
        .await
        .ok();
    assert_eq!(bed.mutating(), ["l2fib_add_del"]);
    // bd ensure with --member lists the members exactly: pg0 leaves.
    bed.clear();
    bed.run(&["bd", "ensure", "--id", "10", "--no-members"])
        .await
        .ok();
    assert_eq!(bed.mutating(), ["sw_interface_set_l2_bridge"]);
}

#[tokio::test]
async fn operator_habits() {
    let bed = Bed::start().await;
    // Bad input: exit 2, a message naming what.
    for args in [
        vec!["bd", "ensure", "--id", "0"],
        vec!["bvi", "create", "--name", "pg0", "--bd", "1"],
        vec![
            "bvi",
            "bind",
            "--if",
            "loop1",
            "--vmac",
            "01:00:5e:00:00:01",
            "--addr",
            "10.0.0.1/24",
        ],
        vec![
            "bvi",
            "bind",
            "--if",
            "loop1",
            "--vmac",
            "02:00:00:00:00:01",
            "--addr",
            "10.0.0.1/24",
            "--garp",
            "3@0s",
        ],
        vec![
            "bvi",
            "bind",
            "--if",
            "loop1",
            "--vmac",
            "02:00:00:00:00:01",
            "--addr",
            "10.0.0.1",
        ],
        vec!["apply", "/nonexistent/file.yaml"],
        vec!["watch", "events", "--types", "if,bogus"],
    ] {
        let r = bed.run(&args).await;
        assert_eq!(r.code, 2, "{args:?}: {} {}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty());
    }
    let bad = write(
        &bed,
        "bad.yaml",
        "bridge-domains:\n  - { id: 1, colour: red }\n",
    );
    let r = bed.run(&["apply", &bad, "--json"]).await;
    assert_eq!(r.code, 2);
    assert!(r.json()["error"].as_str().unwrap().contains("colour"));
    assert!(bed.mutating().is_empty());
    // VPP errors: exit 1 with VPP's code.
    let r = bed
        .run(&["bvi", "create", "--name", "loop1", "--bd", "1"])
        .await;
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("bridge domain 1 does not exist"),
        "{}",
        r.stderr
    );
    // No VPP: exit 1.
    let r = common::run_on(std::path::Path::new("/nonexistent.sock"), &["info"]).await;
    assert_eq!(r.code, 1);
    // info: version, pid, capabilities.
    let r = bed.run(&["info", "--json"]).await;
    r.ok();
    let j = r.json();
    assert_eq!(j["pid"].as_u64().unwrap(), u64::from(bed.sim.vpe_pid()));
    assert!(j["missing_required"].as_array().unwrap().is_empty());
    assert!(j["version"].as_str().unwrap().starts_with("26.06"));
    // --trace: one JSON line per request and reply on stderr.
    let r = bed.run(&["bd", "ensure", "--id", "5", "--trace"]).await;
    r.ok();
    let lines: Vec<serde_json::Value> = r
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let req = lines
        .iter()
        .find(|l| l["message"] == "bridge_domain_add_del_v2")
        .expect("request traced");
    assert_eq!(req["dir"], "request");
    assert_eq!(req["args"]["bd_id"], 5);
    let rep = lines
        .iter()
        .find(|l| l["message"] == "bridge_domain_add_del_v2_reply")
        .expect("reply traced");
    assert_eq!(rep["retval"], 0);
    assert!(rep["context"].as_u64().is_some() && rep["elapsed_us"].as_u64().is_some());
}

#[tokio::test]
async fn bd_delete_unbinds_its_bvi_and_keeps_the_loopback() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    bed.run(&["bd", "ensure", "--id", "100"]).await.ok();
    bed.run(&["bvi", "create", "--name", "loop100", "--bd", "100"])
        .await
        .ok();
    bed.clear();
    bed.run(&["bd", "delete", "--id", "100"]).await.ok();
    assert_eq!(
        bed.mutating(),
        ["sw_interface_set_l2_bridge", "bridge_domain_add_del_v2"]
    );
    assert!(bd_ids(&c).await.is_empty());
    assert!(names(&c).await.iter().any(|n| n == "loop100"));
}

/// linux-cp: the pair is made after the MTU and before the BVI port (§3.4). The simulator is
/// the recorded VPP whose host has no vhost-net: the add fails -11 (evpn_lcp.jsonl), and the
/// create is rolled back.
#[tokio::test]
async fn bvi_create_with_lcp_orders_and_rolls_back() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    bed.run(&["bd", "ensure", "--id", "102"]).await.ok();
    bed.clear();
    let args = [
        "bvi", "create", "--name", "loop102", "--bd", "102", "--mtu", "1500", "--lcp", "bvi-102",
    ];
    let mut dry = args.to_vec();
    dry.extend(["--dry-run", "--json"]);
    let r = bed.run(&dry).await;
    r.ok();
    let msgs: Vec<String> = r.json()["steps"][0]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["messages"].as_array().unwrap().clone())
        .map(|m| m["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        msgs,
        [
            "create_loopback_instance",
            "sw_interface_tag_add_del",
            "sw_interface_set_mtu",
            "lcp_itf_pair_add_del_v2",
            "sw_interface_set_l2_bridge",
            "sw_interface_ip6_set_link_local_address",
            "sw_interface_set_flags"
        ]
    );
    assert!(bed.mutating().is_empty());
    let r = bed.run(&args).await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("-11"), "{}", r.stdout);
    assert_eq!(
        bed.mutating(),
        [
            "create_loopback_instance",
            "sw_interface_tag_add_del",
            "sw_interface_set_mtu",
            "lcp_itf_pair_add_del_v2",
            "delete_loopback"
        ]
    );
    assert!(!names(&c).await.iter().any(|n| n == "loop102"));
    let r = bed
        .run(&[
            "bvi",
            "create",
            "--name",
            "loop102",
            "--bd",
            "102",
            "--lcp",
            "bad name!",
        ])
        .await;
    assert_eq!(r.code, 2);
}

#[tokio::test]
async fn watch_neighbors_registers_and_unregisters() {
    let bed = Bed::start().await;
    let r = bed
        .run(&[
            "watch",
            "events",
            "--types",
            "neigh",
            "--duration",
            "200ms",
            "--json",
        ])
        .await;
    r.ok();
    let wants: Vec<bool> = bed
        .sim
        .api_trace()
        .iter()
        .filter(|e| e.name == "want_ip_neighbor_events_v2")
        .map(|e| {
            vppapi_runtime::decode_message::<vppapi_binapi::ip_neighbor::WantIpNeighborEventsV2>(
                &e.bytes,
            )
            .unwrap()
            .1
            .enable
        })
        .collect();
    assert_eq!(wants, [true, false]);
}

/// Scenario G: `maglev table`, offline and deterministic.
#[tokio::test]
async fn g_maglev_table() {
    let nowhere = std::path::Path::new("/nonexistent.sock");
    let run = |args: Vec<String>| async move {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        common::run_on(nowhere, &a).await
    };
    let with = |base: &[&str], list: &[String]| -> Vec<String> {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        for b in list {
            v.push("--as".into());
            v.push(b.clone());
        }
        v
    };
    // (1) The paper's table: balance within 1 %, one backend removed moves < 3/N of the slots.
    let names: Vec<String> = (0..100).map(|i| format!("be{i}")).collect();
    let mut args = with(
        &["maglev", "table", "--paper", "--size", "65537", "--json"],
        &names[..99],
    );
    for n in &names {
        args.push("--baseline".into());
        args.push(n.clone());
    }
    let r = run(args).await;
    r.ok();
    let j = r.json();
    assert!(j["balance"].as_f64().unwrap() <= 1.01, "{j}");
    let changed = j["changed_vs_baseline"].as_f64().unwrap();
    assert!(changed > 0.01 && changed < 0.03, "{changed}");
    // (2) Lengths: not prime for the paper, not a power of two for VPP: bad input.
    let r = run(with(
        &["maglev", "table", "--paper", "--size", "65536"],
        &names[..3],
    ))
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(with(
        &["maglev", "table", "--vpp", "--size", "1000"],
        &["10.0.0.1".to_string()],
    ))
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Weights are refused without --weighted (26.06 has none).
    let r = run(with(&["maglev", "table"], &["10.0.0.1:50".to_string()])).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    // (3) VPP's table: VPP's bucket counts, byte-identical whatever the order of --as.
    let ases: Vec<String> = (1..=3).map(|i| format!("2001:db8:1::{i}")).collect();
    let a = run(with(
        &["maglev", "table", "--vpp", "--slots", "1024", "--json"],
        &ases,
    ))
    .await;
    a.ok();
    let rev: Vec<String> = ases.iter().rev().cloned().collect();
    let b = run(with(
        &["maglev", "table", "--vpp", "--slots", "1024", "--json"],
        &rev,
    ))
    .await;
    assert_eq!(a.stdout, b.stdout);
    let counts: Vec<u64> = a.json()["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["buckets"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [342, 341, 341]);
    let first: Vec<String> = a.json()["slots"].as_array().unwrap()[..16]
        .iter()
        .map(|s| s.as_str().unwrap().rsplit(':').next().unwrap().to_string())
        .collect();
    assert_eq!(first.join(" "), "1 3 1 2 2 1 3 3 2 1 3 1 3 2 2 3");
    // Weighted (lb.api 1.2.0): 100/100/100/50 -> 292/291/291/150.
    let mut w: Vec<String> = ases.iter().map(|a| format!("[{a}]:100")).collect();
    w.push("[2001:db8:1::4]:50".into());
    let r = run(with(&["maglev", "table", "--weighted", "--json"], &w)).await;
    r.ok();
    let counts: Vec<u64> = r.json()["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["buckets"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [292, 291, 291, 150]);
}
