//! Acceptance scenarios A-D and H of operator-tools.md (§3.5, §6.1) against the simulator: the
//! binary as an operator runs it, message order from the simulator's API trace (VPP's
//! `api trace dump`), read-backs through the API, exit codes.

mod common;

use std::net::Ipv6Addr;
use std::time::Duration;

use common::{assert_order, run_on, Bed};
use futures_util::StreamExt;
use vppapi_binapi::interface::{
    SwInterfaceDetails, SwInterfaceDump, SwInterfaceSetFlags, WantInterfaceEvents,
};
use vppapi_binapi::interface_types::IfStatusFlags;
use vppapi_binapi::ip::{IpAddressDump, SwInterfaceIp6GetLinkLocalAddress};
use vppapi_binapi::l2::{
    BridgeDomainDetails, BridgeDomainDump, L2FibTableDetails, L2FibTableDump, WantL2MacsEvents2,
};
use vppapi_runtime::{decode_message, Connection, InterfaceIndex};

async fn bd(c: &Connection, id: u32) -> Option<BridgeDomainDetails> {
    let mut s = c
        .dump(&BridgeDomainDump {
            bd_id: id,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut out = None;
    while let Some(d) = s.next().await {
        out = Some(d.unwrap());
    }
    out
}

async fn iface(c: &Connection, name: &str) -> Option<SwInterfaceDetails> {
    let mut s = c.dump(&SwInterfaceDump::default()).await.unwrap();
    let mut out = None;
    while let Some(d) = s.next().await {
        let d = d.unwrap();
        if d.interface_name == name {
            out = Some(d);
        }
    }
    out
}

async fn l2fib(c: &Connection, bd: u32) -> Vec<L2FibTableDetails> {
    let mut s = c.dump(&L2FibTableDump { bd_id: bd }).await.unwrap();
    let mut out = Vec::new();
    while let Some(d) = s.next().await {
        out.push(d.unwrap());
    }
    out
}

async fn addrs(c: &Connection, sw: InterfaceIndex) -> Vec<String> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let mut s = c
            .dump(&IpAddressDump {
                sw_if_index: sw,
                is_ipv6: v6,
            })
            .await
            .unwrap();
        while let Some(d) = s.next().await {
            let p = d.unwrap().prefix.0;
            out.push(format!("{}/{}", p.address, p.len));
        }
    }
    out
}

async fn ll(c: &Connection, sw: InterfaceIndex) -> Ipv6Addr {
    c.call(&SwInterfaceIp6GetLinkLocalAddress { sw_if_index: sw })
        .await
        .unwrap()
        .ip
        .into()
}

fn mac(s: &str) -> vppapi_runtime::MacAddress {
    s.parse().unwrap()
}

/// A: `bd ensure` creates with the asked flags, a second run plans and sends nothing, a flag
/// change is one `bridge_flags`.
#[tokio::test]
async fn a_bd_ensure_is_idempotent() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    let r = bed
        .run(&[
            "bd",
            "ensure",
            "--id",
            "100",
            "--no-uu-flood",
            "--mac-age",
            "5",
            "--tag",
            "evpn-tools",
            "--json",
        ])
        .await;
    r.ok();
    assert_eq!(bed.mutating(), ["bridge_domain_add_del_v2"]);
    let d = bd(&c, 100).await.expect("BD 100 exists");
    assert!(!d.uu_flood && d.flood && d.forward && d.learn && !d.arp_term);
    assert_eq!((d.mac_age, d.bd_tag.as_str()), (5, "evpn-tools"));
    // The plan JSON carries the exact message.
    let j = r.json();
    let m = &j["steps"][0]["ops"][0]["messages"][0];
    assert_eq!(m["message"], "bridge_domain_add_del_v2");
    assert_eq!(m["args"]["uu_flood"], false);
    assert_eq!(m["args"]["mac_age"], 5);

    bed.clear();
    let r = bed
        .run(&[
            "bd",
            "ensure",
            "--id",
            "100",
            "--no-uu-flood",
            "--mac-age",
            "5",
            "--tag",
            "evpn-tools",
            "--json",
        ])
        .await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty(), "{:?}", bed.trace_names());
    let text = bed.run(&["bd", "ensure", "--id", "100"]).await;
    assert!(text.stdout.contains("0 operations"), "{}", text.stdout);

    bed.clear();
    bed.run(&["bd", "ensure", "--id", "100", "--uu-flood"])
        .await
        .ok();
    assert_eq!(bed.mutating(), ["bridge_flags"]);
    assert!(bd(&c, 100).await.unwrap().uu_flood);
    // A dry run of a change sends nothing and shows the message.
    bed.clear();
    let r = bed
        .run(&[
            "bd",
            "ensure",
            "--id",
            "100",
            "--mac-age",
            "7",
            "--dry-run",
            "--json",
        ])
        .await;
    r.ok();
    assert!(bed.mutating().is_empty());
    assert_eq!(
        r.json()["steps"][0]["ops"][0]["messages"][0]["message"],
        "bridge_domain_set_mac_age"
    );
    assert_eq!(bd(&c, 100).await.unwrap().mac_age, 5);
}

async fn bed_with_bvi() -> Bed {
    let bed = Bed::start().await;
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
    bed
}

/// B: `bvi create` in the documented order, the read-backs, and the refusal of a second BVI.
#[tokio::test]
async fn b_bvi_create() {
    let bed = Bed::start().await;
    let c = bed.conn().await;
    bed.run(&["bd", "ensure", "--id", "100"]).await.ok();
    bed.clear();
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
    assert_eq!(
        bed.mutating(),
        [
            "create_loopback_instance",
            "sw_interface_tag_add_del",
            "sw_interface_set_l2_bridge",
            "sw_interface_ip6_set_link_local_address",
            "sw_interface_set_flags"
        ]
    );
    let i = iface(&c, "loop100").await.expect("loop100");
    assert_eq!(i.l2_address, mac("02:00:00:00:01:00"));
    assert_eq!(i.flags.0, 3, "admin and link up");
    assert!(i.tag.starts_with("evpn-tools:"), "{}", i.tag);
    assert_eq!(i.interface_dev_type, "Loopback");
    assert_eq!(i.link_mtu, 9000);
    assert_eq!(bd(&c, 100).await.unwrap().bvi_sw_if_index, i.sw_if_index);
    let fib = l2fib(&c, 100).await;
    assert!(
        fib.iter()
            .any(|e| e.mac == mac("02:00:00:00:01:00") && e.static_mac && e.bvi_mac),
        "{fib:?}"
    );
    assert_eq!(ll(&c, i.sw_if_index).await.to_string(), "fe80::ff:fe00:100");

    // Again: nothing.
    bed.clear();
    let r = bed
        .run(&[
            "bvi",
            "create",
            "--name",
            "loop100",
            "--bd",
            "100",
            "--mac",
            "02:00:00:00:01:00",
            "--json",
        ])
        .await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty(), "{:?}", bed.trace_names());

    // A second BVI is refused before anything is sent...
    bed.clear();
    let r = bed
        .run(&["bvi", "create", "--name", "loop101", "--bd", "100"])
        .await;
    assert_eq!(r.code, 1, "{} {}", r.stdout, r.stderr);
    assert!(r.stderr.contains("-152"), "{}", r.stderr);
    assert!(bed.mutating().is_empty());
    // ...and when sent anyway, VPP's -152 rolls the create back: no loop101 is left.
    let r = bed
        .run(&[
            "bvi",
            "create",
            "--name",
            "loop101",
            "--bd",
            "100",
            "--no-precheck",
            "--json",
        ])
        .await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    let j = r.json();
    assert!(
        j["steps"][0]["error"].as_str().unwrap().contains("-152"),
        "{j}"
    );
    assert!(!j["steps"][0]["rolled_back"].as_array().unwrap().is_empty());
    let failed: Vec<_> = j["steps"][0]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["state"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{j}");
    assert_eq!(
        failed[0]["messages"][0]["message"],
        "sw_interface_set_l2_bridge"
    );
    assert_eq!(failed[0]["messages"][0]["retval"], -152);
    assert!(
        iface(&c, "loop101").await.is_none(),
        "loop101 was left behind"
    );
    assert!(bed.mutating().contains(&"delete_loopback"));
}

/// C: bind and release in break-before-make order, with the read-backs of §3.5.
#[tokio::test]
async fn c_bind_and_release() {
    let bed = bed_with_bvi().await;
    let c = bed.conn().await;
    let sw = iface(&c, "loop100").await.unwrap().sw_if_index;
    bed.clear();
    bed.run(&[
        "bvi",
        "bind",
        "--if",
        "loop100",
        "--vmac",
        "42:6c:fa:d6:82:98",
        "--addr",
        "172.16.0.32/24",
        "--addr",
        "fec0::32/64",
        "--garp",
        "1@0s",
    ])
    .await
    .ok();
    assert_eq!(
        bed.mutating(),
        [
            "sw_interface_set_mac_address",
            "sw_interface_ip6_set_link_local_address",
            "sw_interface_add_del_address",
            "sw_interface_add_del_address",
            "arping",
            "arping"
        ]
    );
    assert_eq!(addrs(&c, sw).await, ["172.16.0.32/24", "fec0::32/64"]);
    assert_eq!(
        iface(&c, "loop100").await.unwrap().l2_address,
        mac("42:6c:fa:d6:82:98")
    );
    assert_eq!(ll(&c, sw).await.to_string(), "fe80::406c:faff:fed6:8298");
    let fib = l2fib(&c, 100).await;
    assert!(fib
        .iter()
        .any(|e| e.mac == mac("42:6c:fa:d6:82:98") && e.bvi_mac));
    assert!(
        !fib.iter().any(|e| e.mac == mac("02:00:00:00:01:00")),
        "ephemeral entry gone: {fib:?}"
    );

    // A second bind sends only GARP, or nothing with --garp none.
    let bind = |garp: &'static str| {
        vec![
            "bvi",
            "bind",
            "--if",
            "loop100",
            "--vmac",
            "42:6c:fa:d6:82:98",
            "--addr",
            "172.16.0.32/24",
            "--addr",
            "fec0::32/64",
            "--garp",
            garp,
        ]
    };
    bed.clear();
    bed.run(&bind("1@0s")).await.ok();
    assert_eq!(bed.mutating(), ["arping", "arping"]);
    bed.clear();
    bed.run(&bind("none")).await.ok();
    assert!(bed.mutating().is_empty());

    // Release: addresses off first, then the ephemeral MAC (from the tag) and its link-local.
    bed.clear();
    bed.run(&["bvi", "release", "--if", "loop100"]).await.ok();
    assert_eq!(
        bed.mutating(),
        [
            "sw_interface_add_del_address",
            "sw_interface_add_del_address",
            "sw_interface_set_mac_address",
            "sw_interface_ip6_set_link_local_address"
        ]
    );
    assert!(addrs(&c, sw).await.is_empty());
    assert_eq!(
        iface(&c, "loop100").await.unwrap().l2_address,
        mac("02:00:00:00:01:00")
    );
    assert_eq!(ll(&c, sw).await.to_string(), "fe80::ff:fe00:100");
    bed.clear();
    let r = bed
        .run(&["bvi", "release", "--if", "loop100", "--json"])
        .await;
    r.ok();
    assert_eq!(r.ops(), 0);
    assert!(bed.mutating().is_empty());
}

/// D(1): a move within one VPP: every delete before every add, the prefix accepted on the
/// other BVI; and what make-before-break gets from VPP (-105).
#[tokio::test]
async fn d_move_within_one_vpp() {
    let bed = bed_with_bvi().await;
    let c = bed.conn().await;
    bed.run(&["bd", "ensure", "--id", "200"]).await.ok();
    bed.run(&[
        "bvi",
        "create",
        "--name",
        "loop200",
        "--bd",
        "200",
        "--mac",
        "02:00:00:00:02:00",
    ])
    .await
    .ok();
    bed.run(&[
        "bvi",
        "bind",
        "--if",
        "loop100",
        "--vmac",
        "42:6c:fa:d6:82:98",
        "--addr",
        "172.16.0.32/24",
        "--garp",
        "none",
    ])
    .await
    .ok();
    bed.clear();
    let r = bed
        .run(&[
            "bvi",
            "move",
            "--from",
            "loop100",
            "--to",
            "loop200",
            "--vmac",
            "42:6c:fa:d6:82:98",
            "--addr",
            "172.16.0.32/24",
            "--hold",
            "0s",
            "--garp",
            "1@0s",
            "--json",
        ])
        .await;
    r.ok();
    let t = bed.mutating();
    assert_eq!(
        t,
        [
            "sw_interface_add_del_address",
            "sw_interface_set_mac_address",
            "sw_interface_ip6_set_link_local_address",
            "sw_interface_set_mac_address",
            "sw_interface_ip6_set_link_local_address",
            "sw_interface_add_del_address",
            "arping"
        ]
    );
    let l100 = iface(&c, "loop100").await.unwrap();
    let l200 = iface(&c, "loop200").await.unwrap();
    assert_eq!(l100.l2_address, mac("02:00:00:00:01:00"));
    assert_eq!(l200.l2_address, mac("42:6c:fa:d6:82:98"));
    assert!(addrs(&c, l100.sw_if_index).await.is_empty());
    assert_eq!(addrs(&c, l200.sw_if_index).await, ["172.16.0.32/24"]);
    assert!(l2fib(&c, 200)
        .await
        .iter()
        .any(|e| e.mac == mac("42:6c:fa:d6:82:98") && e.bvi_mac));
    assert!(l2fib(&c, 100)
        .await
        .iter()
        .any(|e| e.mac == mac("02:00:00:00:01:00") && e.bvi_mac));

    // Back again, make-before-break: VPP refuses the overlapping prefix on the second BVI.
    let r = bed
        .run(&[
            "bvi",
            "move",
            "--from",
            "loop200",
            "--to",
            "loop100",
            "--vmac",
            "42:6c:fa:d6:82:98",
            "--addr",
            "172.16.0.32/24",
            "--make-before-break",
            "--json",
        ])
        .await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    let err = r.json()["steps"][0]["error"].as_str().unwrap().to_string();
    assert!(err.contains("-105"), "{err}");
}

/// D(2): two VPPs (two simulators): release on A completes before bind on B starts.
#[tokio::test]
async fn d_move_across_two_vpps() {
    let a = bed_with_bvi().await;
    let b = bed_with_bvi().await;
    a.run(&[
        "bvi",
        "bind",
        "--if",
        "loop100",
        "--vmac",
        "42:6c:fa:d6:82:98",
        "--addr",
        "172.16.0.32/24",
        "--garp",
        "none",
    ])
    .await
    .ok();
    a.clear();
    b.clear();
    let from = format!("{}:loop100", a.socket().display());
    let to = format!("{}:loop100", b.socket().display());
    let r = run_on(
        &a.socket(),
        &[
            "bvi",
            "move",
            "--from",
            &from,
            "--to",
            &to,
            "--vmac",
            "42:6c:fa:d6:82:98",
            "--addr",
            "172.16.0.32/24",
            "--hold",
            "50ms",
            "--garp",
            "none",
            "--json",
        ],
    )
    .await;
    r.ok();
    // Every A request arrived before the first B mutation: compare arrival times via the order
    // of the steps (release verified, then bind).
    let j = r.json();
    assert_eq!(j["steps"][0]["name"], "bvi release");
    assert_eq!(j["steps"][1]["name"], "bvi bind");
    assert_eq!(
        a.mutating(),
        [
            "sw_interface_add_del_address",
            "sw_interface_set_mac_address",
            "sw_interface_ip6_set_link_local_address"
        ]
    );
    assert_eq!(
        b.mutating(),
        [
            "sw_interface_set_mac_address",
            "sw_interface_ip6_set_link_local_address",
            "sw_interface_add_del_address"
        ]
    );
    let ca = a.conn().await;
    let cb = b.conn().await;
    let la = iface(&ca, "loop100").await.unwrap();
    let lb = iface(&cb, "loop100").await.unwrap();
    assert_eq!(la.l2_address, mac("02:00:00:00:01:00"));
    assert_eq!(lb.l2_address, mac("42:6c:fa:d6:82:98"));
    assert!(addrs(&ca, la.sw_if_index).await.is_empty());

    // Both holding the vMAC (a broken fabric) is for a person: exit 3, nothing sent.
    a.run(&[
        "bvi",
        "bind",
        "--if",
        "loop100",
        "--vmac",
        "42:6c:fa:d6:82:98",
        "--addr",
        "172.16.0.33/24",
        "--garp",
        "none",
    ])
    .await
    .ok();
    a.clear();
    b.clear();
    let r = run_on(
        &a.socket(),
        &[
            "bvi",
            "move",
            "--from",
            &from,
            "--to",
            &to,
            "--vmac",
            "42:6c:fa:d6:82:98",
            "--addr",
            "172.16.0.32/24",
        ],
    )
    .await;
    assert_eq!(r.code, 3, "{} {}", r.stdout, r.stderr);
    assert!(a.mutating().is_empty() && b.mutating().is_empty());
}

/// H: `watch events` prints interface and learned-MAC events as JSON lines and turns both
/// registrations off on exit.
#[tokio::test]
async fn h_watch_events() {
    let bed = bed_with_bvi().await;
    let c = bed.conn().await;
    let sw = iface(&c, "loop100").await.unwrap().sw_if_index;
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_evpn-tools"))
        .arg("--socket")
        .arg(bed.socket())
        .args([
            "watch",
            "events",
            "--types",
            "if,mac",
            "--json",
            "--count",
            "4",
            "--duration",
            "20s",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until both registrations arrived.
    for _ in 0..200 {
        let t = bed.trace_names();
        if t.contains(&"want_interface_events") && t.contains(&"want_l2_macs_events2") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for flags in [0, 1] {
        c.call(&SwInterfaceSetFlags {
            sw_if_index: sw,
            flags: IfStatusFlags(flags),
        })
        .await
        .unwrap();
    }
    // A frame with source MAC 02:11:22:33:44:55 entering BD 100 on a member port.
    let pg = bed.sim.with_model(|m| {
        let pg = m.create_pg(0);
        assert_eq!(m.set_l2_bridge(pg, 100, 0, 0, true), 0);
        assert!(m.learn_mac(pg, [2, 0x11, 0x22, 0x33, 0x44, 0x55]));
        pg
    });
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("watch ended")
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    // Two registrations, two streams: order holds within each type.
    let of =
        |t: &str| -> Vec<&serde_json::Value> { lines.iter().filter(|l| l["type"] == t).collect() };
    let ifs = of("interface");
    assert_eq!(ifs.len(), 3, "{lines:?}");
    assert_eq!(ifs[0]["fields"]["interface"], "loop100");
    assert_eq!(ifs[0]["fields"]["admin_up"], false);
    assert_eq!(ifs[1]["fields"]["interface"], "loop100");
    assert_eq!(ifs[1]["fields"]["admin_up"], true);
    // VPP announces a new pg interface (flags 0), as recorded in evpn_events.jsonl; its name
    // is looked up when first seen.
    assert_eq!(ifs[2]["fields"]["sw_if_index"], pg);
    assert_eq!(ifs[2]["fields"]["interface"], "pg0");
    assert_eq!(ifs[2]["fields"]["admin_up"], false);
    let macs = of("mac");
    assert_eq!(macs[0]["fields"]["mac"], "02:11:22:33:44:55");
    assert_eq!(macs[0]["fields"]["action"], "add");
    assert_eq!(macs[0]["fields"]["sw_if_index"], pg);
    assert_eq!(macs[0]["fields"]["interface"], "pg0");
    assert_eq!(macs[0]["fields"]["bd_id"], 100);
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    // Both registrations were turned off before the process exited.
    let trace = bed.sim.api_trace();
    let wants: Vec<(&str, bool)> = trace
        .iter()
        .filter_map(|e| match e.name {
            "want_interface_events" => Some((
                e.name,
                decode_message::<WantInterfaceEvents>(&e.bytes)
                    .unwrap()
                    .1
                    .enable_disable
                    != 0,
            )),
            "want_l2_macs_events2" => Some((
                e.name,
                decode_message::<WantL2MacsEvents2>(&e.bytes)
                    .unwrap()
                    .1
                    .enable_disable,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        wants,
        [
            ("want_interface_events", true),
            ("want_l2_macs_events2", true),
            ("want_interface_events", false),
            ("want_l2_macs_events2", false)
        ]
    );
    assert_order(
        &bed.trace_names(),
        &[
            "want_interface_events",
            "want_l2_macs_events2",
            "sw_interface_set_flags",
            "want_interface_events",
        ],
    );
}
