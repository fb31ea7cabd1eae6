//! Load-balancer acceptance scenarios E (lb sync), F (status and stats) and I (capabilities)
//! of operator-tools.md §4.7, against the simulator of VPP 26.06: message order through the
//! simulator's API trace, read-backs through `show lb vips verbose` and the API, exit codes.

mod common;

use common::{assert_order, Bed};
use vppapi_binapi::lb::LbAddDelVipV2;
use vppapi_binapi::lb_types::{LbEncapType, LbSrvType};
use vppapi_runtime::{Address, AddressWithPrefix, Ip6Address, Prefix};

const E: &str = "
conf: { ip4-src: 192.0.2.254, ip6-src: 2001:db8::fe }
managed-prefixes: [2001:db8:100::/64, 192.0.2.0/24]
vips:
  - { prefix: 2001:db8:100::1/128, protocol: tcp, port: 80, encap: gre6, new-len: NEWLEN,
      as: [ASES] }
";

fn e_file(bed: &Bed, new_len: u32, ases: &[&str]) -> String {
    let text = E
        .replace("NEWLEN", &new_len.to_string())
        .replace("ASES", &ases.join(", "));
    let p = bed.dir.path().join("lb.yaml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn show(bed: &Bed) -> String {
    bed.sim.with_model(|m| m.lb.show_vips(true))
}

async fn show_lb(bed: &Bed) -> String {
    let c = bed.conn().await;
    let r = c
        .call(&vppapi_binapi::vlib::CliInband {
            cmd: "show lb".into(),
        })
        .await
        .unwrap();
    r.reply
}

/// `(address, buckets, used)` per AS line of the VIP block that starts with `head`.
fn as_lines(text: &str, head: &str) -> Vec<(String, u32, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with(' ') && !l.starts_with("  ") {
            inside = l.starts_with(head);
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if inside && w.len() >= 7 && w[2] == "buckets" {
            out.push((w[0].to_string(), w[1].parse().unwrap(), w[6].to_string()));
        }
    }
    out
}

const AS3: [&str; 3] = ["2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"];

#[tokio::test]
async fn e_lb_sync() {
    let bed = Bed::start().await;
    let f = e_file(&bed, 1024, &AS3);

    // (1) Dry run: 1 lb_conf + 1 VIP + 3 AS creates, nothing sent.
    let r = bed
        .run(&["--dry-run", "--json", "lb", "sync", "--config", &f])
        .await;
    r.ok();
    let ops = r.json()["steps"][0]["ops"].as_array().unwrap().clone();
    let msgs: Vec<&str> = ops
        .iter()
        .flat_map(|o| o["messages"].as_array().unwrap())
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        msgs,
        [
            "lb_conf",
            "lb_add_del_vip_v2",
            "lb_add_del_as",
            "lb_add_del_as",
            "lb_add_del_as"
        ],
        "{}",
        r.stdout
    );
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());
    assert_eq!(show(&bed), "", "a dry run changes nothing");
    // The planned VIP message carries the explicit table length and the honest IPv6 key.
    let vip_args = &ops[1]["messages"][0]["args"];
    assert_eq!(vip_args["new_flows_table_length"], 1024, "{vip_args}");

    // (2) Apply: the same messages in order; VPP shows the VIP with 342/341/341.
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(bed.mutating(), msgs);
    let text = show(&bed);
    assert!(
        text.contains(" ip6-gre6 [1] 2001:db8:100::1/128\n"),
        "{text}"
    );
    assert!(
        text.contains("  new_size:1024\n  protocol:6 port:80\n"),
        "{text}"
    );
    assert!(text.contains("#as:3"), "{text}");
    let lines = as_lines(&text, " ip6-gre6 [1]");
    let counts: Vec<u32> = lines.iter().map(|l| l.1).collect();
    assert_eq!(counts, [342, 341, 341], "{text}");
    assert!(show_lb(&bed).await.contains("ip4-src-address: 192.0.2.254"));
    // ... equal to the offline table, and to `maglev table --compare-vip`.
    let m = bed
        .run(&[
            "--json", "maglev", "table", "--vpp", "--size", "1024", "--as", AS3[0], "--as", AS3[1],
            "--as", AS3[2],
        ])
        .await;
    m.ok();
    let offline: Vec<u32> = m.json()["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["buckets"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(offline, counts);
    let c = bed
        .run(&[
            "--json",
            "maglev",
            "table",
            "--compare-vip",
            "2001:db8:100::1/128",
        ])
        .await;
    c.ok();
    assert_eq!(c.json()["compare_vip"]["equal"], true, "{}", c.stdout);

    // (3) A second run plans nothing and sends nothing that changes VPP.
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());

    // (4) Remove ::3: soft delete (0 buckets, removed), the others 512/512; status: 2 used.
    let f = e_file(&bed, 1024, &AS3[..2]);
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(bed.mutating(), ["lb_add_del_as"]);
    let del = &r.json()["steps"][0]["ops"][0]["messages"][0]["args"];
    assert_eq!(del["is_del"], true, "{del}");
    assert_eq!(
        del["is_flush"], true,
        "removed ASes are flushed by default: {del}"
    );
    let text = show(&bed);
    let lines = as_lines(&text, " ip6-gre6 [1]");
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.1, l.2.as_str()))
            .collect::<Vec<_>>(),
        [(512, "used"), (512, "used"), (0, "removed")],
        "{text}"
    );
    assert!(
        text.contains("2001:db8:1::3 0 buckets   0 flows  dpo:"),
        "{text}"
    );
    let s = bed.run(&["--json", "lb", "status"]).await;
    s.ok();
    assert_eq!(s.json()["vips"][0]["used_ases"], 2, "{}", s.stdout);
    assert_eq!(s.json()["vips"][0]["index"], 1);
    // The removed AS counts as absent: nothing to do.
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);

    // (5) new-len 2048: RECREATE (ASes deleted, VIP deleted, VIP added, ASes added).
    let f = e_file(&bed, 2048, &AS3[..2]);
    let r = bed
        .run(&["--dry-run", "--json", "lb", "sync", "--config", &f])
        .await;
    r.ok();
    let ops = r.json()["steps"][0]["ops"].as_array().unwrap().clone();
    let kinds: Vec<(String, bool)> = ops
        .iter()
        .map(|o| {
            (
                format!(
                    "{} {}",
                    o["op"].as_str().unwrap(),
                    o["key"]
                        .as_str()
                        .unwrap()
                        .split('/')
                        .nth(6)
                        .unwrap_or("vip")
                ),
                o["recreate"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        [
            "DELETE as",
            "DELETE as",
            "DELETE vip",
            "CREATE vip",
            "CREATE as",
            "CREATE as"
        ],
        "{}",
        r.stdout
    );
    assert!(
        kinds[2].1 && kinds[3].1,
        "the VIP is marked RECREATE: {}",
        r.stdout
    );
    let text = bed
        .run(&["--dry-run", "lb", "sync", "--config", &f])
        .await
        .stdout;
    assert!(
        text.contains("[RECREATE]") && text.contains("new-len 1024 -> 2048"),
        "{text}"
    );
    bed.clear();
    bed.run(&["--json", "lb", "sync", "--config", &f])
        .await
        .ok();
    assert_order(
        &bed.mutating(),
        &[
            "lb_add_del_as",
            "lb_add_del_as",
            "lb_add_del_vip_v2",
            "lb_add_del_vip_v2",
            "lb_add_del_as",
            "lb_add_del_as",
        ],
    );
    let text = show(&bed);
    assert!(
        text.contains(" ip6-gre6 [1] 2001:db8:100::1/128 removed"),
        "{text}"
    );
    assert!(
        text.contains(" ip6-gre6 [2] 2001:db8:100::1/128\n  new_size:2048"),
        "{text}"
    );
    assert_eq!(
        as_lines(&text, " ip6-gre6 [2]")
            .iter()
            .map(|l| l.1)
            .collect::<Vec<_>>(),
        [1024, 1024]
    );
    // The lingering removed VIP does not disturb the next plan.
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);
}

const V4: &str = "
managed-prefixes: [192.0.2.0/24]
vips:
  - { prefix: 192.0.2.1/32, protocol: tcp, port: 80, encap: gre4, as: [10.0.0.2] }
";

#[tokio::test]
async fn e6_ipv4_vips_need_the_26_06_workaround() {
    let bed = Bed::start().await;
    let p = bed.dir.path().join("v4.yaml");
    std::fs::write(&p, V4).unwrap();
    let f = p.display().to_string();
    // Refused before anything is sent, naming the flag.
    let r = bed.run(&["lb", "sync", "--config", &f]).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--compat-lb-26.06"), "{}", r.stderr);
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());
    // With it: ip4-gre4 [n] 192.0.2.1/32 with its AS, no ::/32 VIP.
    let r = bed
        .run(&["--json", "lb", "sync", "--config", &f, "--compat-lb-26.06"])
        .await;
    r.ok();
    let ops = r.json()["steps"][0]["ops"].as_array().unwrap().clone();
    let vip = &ops[0]["messages"][0]["args"];
    assert_eq!(vip["pfx"]["len"], 128, "+96 on the VIP key: {vip}");
    let asm = &ops[1]["messages"][0]["args"];
    assert_eq!(asm["pfx"]["len"], 128, "+96 on the AS key too: {asm}");
    let text = show(&bed);
    assert!(text.contains(" ip4-gre4 [1] 192.0.2.1/32\n"), "{text}");
    assert!(!text.contains("::/32"), "{text}");
    assert_eq!(
        as_lines(&text, " ip4-gre4 [1]"),
        [("10.0.0.2".to_string(), 1024, "used".to_string())]
    );
    // Read back through the 26.06 dumps (IPv4 with len 128) and the scrape: converged.
    bed.clear();
    let r = bed
        .run(&["--json", "lb", "sync", "--config", &f, "--compat-lb-26.06"])
        .await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty());
}

#[tokio::test]
async fn e7_prune_stays_inside_managed_prefixes() {
    let bed = Bed::start().await;
    let f = e_file(&bed, 1024, &AS3[..1]);
    bed.run(&["lb", "sync", "--config", &f]).await.ok();
    // Two hand-made VIPs: one inside 2001:db8:100::/64, one outside.
    let c = bed.conn().await;
    for ip in ["2001:db8:100::9", "2001:db8:200::9"] {
        let v6: std::net::Ipv6Addr = ip.parse().unwrap();
        c.call(&LbAddDelVipV2 {
            pfx: AddressWithPrefix(Prefix {
                address: Address::Ip6(Ip6Address(v6.octets())),
                len: 128,
            }),
            protocol: 17,
            port: 53,
            encap: LbEncapType(1),
            dscp: 0,
            r#type: LbSrvType(0),
            target_port: 0,
            node_port: 0,
            new_flows_table_length: 1024,
            src_ip_sticky: false,
            is_del: false,
        })
        .await
        .unwrap();
    }
    // Without --prune both stay.
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    // With --prune only the managed one goes.
    bed.clear();
    let r = bed
        .run(&["--json", "lb", "sync", "--config", &f, "--prune"])
        .await;
    r.ok();
    assert_eq!(bed.mutating(), ["lb_add_del_vip_v2"]);
    let key = r.json()["steps"][0]["ops"][0]["key"].clone();
    assert_eq!(key, "lb/vip/2001:db8:100::9/128/udp/53");
    let text = show(&bed);
    assert!(text.contains("2001:db8:100::9/128 removed"), "{text}");
    assert!(
        text.contains(" ip6-gre6 [3] 2001:db8:200::9/128\n"),
        "the unmanaged VIP survives: {text}"
    );
}

#[tokio::test]
async fn i_weights_are_refused_on_26_06_before_sending() {
    let bed = Bed::start().await;
    let p = bed.dir.path().join("w.yaml");
    std::fs::write(
        &p,
        "vips:\n  - { prefix: 2001:db8:100::1/128, protocol: tcp, port: 80,\n      as: ['2001:db8:1::1', { address: '2001:db8:1::2', weight: 50 }] }\n",
    )
    .unwrap();
    let r = bed
        .run(&["lb", "sync", "--config", &p.display().to_string()])
        .await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("lb_as_set_weight not available (lb.api 1.1.0)"),
        "{}",
        r.stderr
    );
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());
    // `info` lists the missing lb.api 1.2.0 messages.
    let r = bed.run(&["--json", "info"]).await;
    r.ok();
    let lb = &r.json()["lb"];
    assert_eq!(lb["api"], "1.1.0", "{lb}");
    assert!(
        lb["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "lb_as_set_weight"),
        "{lb}"
    );
}

#[tokio::test]
async fn lb_conf_and_bad_input() {
    let bed = Bed::start().await;
    let conf = [
        "lb",
        "conf",
        "--ip4-src",
        "192.0.2.254",
        "--ip6-src",
        "2001:db8::fe",
    ];
    let r = bed.run(&[&["--json"], &conf[..]].concat()).await;
    r.ok();
    assert_eq!(bed.mutating(), ["lb_conf"]);
    assert!(show_lb(&bed)
        .await
        .contains("ip6-src-address: 2001:db8::fe"));
    // The same again: VPP already has these source addresses.
    bed.clear();
    let r = bed.run(&[&["--json"], &conf[..]].concat()).await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty());
    // ... and says what it could not compare on 26.06.
    assert!(
        r.json()["warnings"][0]
            .as_str()
            .unwrap()
            .contains("cannot read back sticky-buckets-per-core"),
        "{}",
        r.stdout
    );
    // A power of two is required; 0 too is refused. Bad input: exit 2, nothing sent.
    for b in ["1000", "0"] {
        let r = bed.run(&[&conf[..], &["--buckets", b]].concat()).await;
        assert_eq!(r.code, 2, "{b}: {}", r.stderr);
    }
    let p = bed.dir.path().join("bad.yaml");
    for (text, want) in [
        (
            "vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, new-len: 0 }]",
            "vips[0].new-len",
        ),
        ("vips: [{ prefix: 2001:db8::1/128, colour: red }]", "colour"),
        (
            "vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, encap: nat6 }]",
            "gre4 and gre6",
        ),
    ] {
        std::fs::write(&p, text).unwrap();
        let r = bed
            .run(&["--json", "lb", "sync", "--config", &p.display().to_string()])
            .await;
        assert_eq!(r.code, 2, "{text}: {}", r.stdout);
        assert!(
            r.json()["error"].as_str().unwrap().contains(want),
            "{}",
            r.stdout
        );
    }
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());
}

#[tokio::test]
async fn f_status_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let stats_sock = dir.path().join("stats.sock");
    let mut cfg = vpp_sim::SimConfig::new(dir.path().join("api.sock"));
    cfg.stats_socket = Some(stats_sock.clone());
    let sim = vpp_sim::Simulator::start(cfg).await.unwrap();
    let bed = Bed { sim, dir };
    let ss = stats_sock.display().to_string();
    // Before any VIP VPP has no LB counters: the tool says so, it does not fail.
    let r = bed
        .run(&["--json", "lb", "stats", "--stats-socket", &ss])
        .await;
    r.ok();
    assert_eq!(r.json()["vips"], serde_json::json!([]), "{}", r.stdout);

    let f = e_file(&bed, 1024, &AS3);
    bed.run(&["lb", "sync", "--config", &f]).await.ok();
    // The recorded traffic (lb_stats.jsonl): 3 packets of one flow to the VIP.
    for cmd in [
        "create packet-generator interface pg0",
        "set interface ip address pg0 2001:db8:ff::1/64",
        "set interface state pg0 up",
        "packet-generator new { name vip1 limit 3 size 80-80 interface pg0 node ip6-input data { TCP: 2001:db8:ff::2 -> 2001:db8:100::1 TCP: 1234 -> 80 incrementing 30 } }",
        "packet-generator enable",
    ] {
        let (rv, out) = bed.sim.cli(cmd);
        assert_eq!(rv, 0, "{cmd}: {out}");
    }
    let r = bed
        .run(&[
            "--json",
            "lb",
            "stats",
            "--stats-socket",
            &ss,
            "--vip",
            "2001:db8:100::1/128",
        ])
        .await;
    r.ok();
    let v = &r.json()["vips"][0];
    assert_eq!(v["index"], 1, "{}", r.stdout);
    let c = &v["counters"];
    assert_eq!(c["first session packet"], 1, "{c}");
    assert_eq!(c["packet from existing sessions"], 2, "{c}");
    assert_eq!(c["no server configured"], 0, "{c}");
    // Equal to what VPP prints, and to `lb status`.
    let text = show(&bed);
    assert!(text.contains("    first session packet: 1\n"), "{text}");
    assert!(
        text.contains("    packet from existing sessions: 2\n"),
        "{text}"
    );
    let s = bed
        .run(&["--json", "lb", "status", "--stats-socket", &ss])
        .await;
    s.ok();
    let vip = &s.json()["vips"][0];
    assert_eq!(vip["counters"], vip["stats_segment"], "{}", s.stdout);
    let flows: u64 = vip["ases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["flows"].as_u64().unwrap())
        .sum();
    assert_eq!(flows, 1, "one flow, on one AS: {}", s.stdout);
    // The stats directory holds the four names; Prometheus text labels them by VIP.
    let mut client = vppapi_stats::Client::connect(&stats_sock).unwrap();
    let names = client.ls(&[]).unwrap();
    for n in evpn_tools::lb::read::COUNTERS {
        assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
    }
    let r = bed
        .run(&["lb", "stats", "--stats-socket", &ss, "--prom"])
        .await;
    r.ok();
    assert!(
        r.stdout.contains(
            "vip_packets_total{vip=\"2001:db8:100::1/128 tcp/80\",index=\"1\",kind=\"first_session\"} 1"
        ),
        "{}",
        r.stdout
    );
    // --watch: one JSON line per interval until interrupted.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_evpn-tools"))
        .arg("--socket")
        .arg(bed.socket())
        .args([
            "--json",
            "lb",
            "stats",
            "--stats-socket",
            &ss,
            "--watch",
            "50ms",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(child.stdout.take().unwrap()));
    for _ in 0..2 {
        let l = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
            .await
            .expect("a line within 10 s")
            .unwrap()
            .expect("still running");
        let j: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(j["vips"][0]["counters"]["first session packet"], 1, "{l}");
    }
    child.kill().await.unwrap();
    // A VIP the stats cannot name: a clear error.
    let r = bed
        .run(&[
            "lb",
            "stats",
            "--stats-socket",
            &ss,
            "--vip",
            "2001:db8:999::1/128",
        ])
        .await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no live VIP"), "{}", r.stderr);
}
