//! `lb sync` on lb.api 1.2.0 (VPP master after 26.06; operator-tools.md §2.1, §4.2, §4.3,
//! §4.5) against the simulator in its 1.2.0 mode: weights in the new-flow table (292/291/291/150
//! for 100/100/100/50, read back through `lb_as_v2_dump` and `show lb vips verbose`, equal to
//! `maglev table --weighted`), a weight change as one `lb_as_set_weight` (an UPDATE, no flush),
//! `lb/conf` compared through `lb_conf_get`, honest IPv4 keys, `info`. Message order through
//! the simulator's API trace, as in `lb.rs`.

mod common;

use common::{assert_order, Bed};
use futures_util::StreamExt;
use lb_api_next::{LbAsV2Details, LbAsV2Dump};
use serde_json::Value;

async fn bed_1_2() -> Bed {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = vpp_sim::SimConfig::new(dir.path().join("api.sock"));
    cfg.lb_api_1_2 = true;
    let sim = vpp_sim::Simulator::start(cfg).await.unwrap();
    Bed { sim, dir }
}

const AS4: [&str; 4] = [
    "2001:db8:1::1",
    "2001:db8:1::2",
    "2001:db8:1::3",
    "2001:db8:1::4",
];

/// An lb.yaml with the VIP 2001:db8:100::1/128 tcp/80 and `ases` as (address, weight).
fn file(bed: &Bed, conf: &str, ases: &[(&str, u8)]) -> String {
    file_at(bed, "lb.yaml", conf, ases)
}

fn file_at(bed: &Bed, name: &str, conf: &str, ases: &[(&str, u8)]) -> String {
    let list: Vec<String> = ases
        .iter()
        .map(|(a, w)| format!("{{ address: '{a}', weight: {w} }}"))
        .collect();
    let text = format!(
        "conf: {{ ip4-src: 192.0.2.254, ip6-src: 2001:db8::fe{conf} }}\n\
         managed-prefixes: [2001:db8:100::/64, 192.0.2.0/24]\n\
         vips:\n  - {{ prefix: 2001:db8:100::1/128, protocol: tcp, port: 80, encap: gre6, \
         new-len: 1024,\n      as: [{}] }}\n",
        list.join(", ")
    );
    let p = bed.dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn show(bed: &Bed) -> String {
    bed.sim.with_model(|m| m.lb.show_vips(true))
}

/// `(address, weight, buckets, used)` of master's AS lines in the VIP block starting `head`.
fn as_lines(text: &str, head: &str) -> Vec<(String, u32, u32, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with(' ') && !l.starts_with("  ") {
            inside = l.starts_with(head);
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if inside && w.len() >= 6 && w[1].starts_with("weight:") {
            let n = |s: &str, k: &str| s.strip_prefix(k).unwrap().parse::<u32>().unwrap();
            out.push((
                w[0].to_string(),
                n(w[1], "weight:"),
                n(w[2], "buckets:"),
                w[5].to_string(),
            ));
        }
    }
    out
}

/// Every AS from `lb_as_v2_dump` (all): `(address, weight, num_buckets, used)`.
async fn v2_dump(bed: &Bed) -> Vec<(String, u8, u32, bool)> {
    let c = bed.conn().await;
    let mut s = c.dump(&LbAsV2Dump::default()).await.unwrap();
    let mut out = Vec::new();
    while let Some(d) = s.next().await {
        let d: LbAsV2Details = d.unwrap();
        let a = match d.app_srv {
            vppapi_runtime::Address::Ip6(a) => std::net::Ipv6Addr::from(a.0).to_string(),
            vppapi_runtime::Address::Ip4(a) => std::net::Ipv4Addr::from(a.0).to_string(),
            _ => "?".into(),
        };
        out.push((a, d.weight, d.num_buckets, d.flags & 1 == 1));
    }
    c.close().await;
    out
}

/// The messages of every planned op, in order.
fn messages(doc: &Value) -> Vec<String> {
    doc["steps"][0]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["messages"].as_array().unwrap().clone())
        .map(|m| m["message"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn weights_100_100_100_50_give_292_291_291_150() {
    let bed = bed_1_2().await;
    let ases = [(AS4[0], 100), (AS4[1], 100), (AS4[2], 100), (AS4[3], 50)];
    let f = file(&bed, "", &ases);

    // Dry run: lb_conf, the VIP, four lb_add_del_as_v2 with their weights; nothing sent.
    let r = bed
        .run(&["--dry-run", "--json", "lb", "sync", "--config", &f])
        .await;
    r.ok();
    let doc = r.json();
    assert_eq!(
        messages(&doc),
        [
            "lb_conf",
            "lb_add_del_vip_v2",
            "lb_add_del_as_v2",
            "lb_add_del_as_v2",
            "lb_add_del_as_v2",
            "lb_add_del_as_v2"
        ],
        "{}",
        r.stdout
    );
    let last = &doc["steps"][0]["ops"][5]["messages"][0]["args"];
    assert_eq!(last["weight"], 50, "{last}");
    assert_eq!(last["is_flush"], false, "{last}");
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());

    // Apply: the same messages; VPP holds 292/291/291/150.
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(bed.mutating(), messages(&doc));
    // The read went through the 1.2.0 messages.
    let names = bed.trace_names();
    for n in ["lb_vip_dump", "lb_as_v2_dump", "lb_conf_get"] {
        assert!(names.contains(&n), "{n} not read: {names:?}");
    }
    assert!(!names.contains(&"lb_as_dump"), "{names:?}");
    assert_eq!(
        v2_dump(&bed).await,
        [
            (AS4[0].to_string(), 100, 292, true),
            (AS4[1].to_string(), 100, 291, true),
            (AS4[2].to_string(), 100, 291, true),
            (AS4[3].to_string(), 50, 150, true),
        ]
    );
    let text = show(&bed);
    let lines = as_lines(&text, " ip6-gre6 [1] 2001:db8:100::1/128");
    assert_eq!(
        lines.iter().map(|l| (l.1, l.2)).collect::<Vec<_>>(),
        [(100, 292), (100, 291), (100, 291), (50, 150)],
        "{text}"
    );
    // ... equal to the offline weighted table.
    let m = bed
        .run(&[
            "--json",
            "maglev",
            "table",
            "--weighted",
            "--size",
            "1024",
            "--as",
            "[2001:db8:1::1]:100",
            "--as",
            "[2001:db8:1::2]:100",
            "--as",
            "[2001:db8:1::3]:100",
            "--as",
            "[2001:db8:1::4]:50",
        ])
        .await;
    m.ok();
    let offline: Vec<u64> = m.json()["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["buckets"].as_u64().unwrap())
        .collect();
    assert_eq!(offline, [292, 291, 291, 150], "{}", m.stdout);
    // ... and `--compare-vip` reads master's listing.
    let c = bed
        .run(&[
            "--json",
            "maglev",
            "table",
            "--weighted",
            "--compare-vip",
            "2001:db8:100::1/128",
            "--as",
            "[2001:db8:1::1]:100",
            "--as",
            "[2001:db8:1::2]:100",
            "--as",
            "[2001:db8:1::3]:100",
            "--as",
            "[2001:db8:1::4]:50",
        ])
        .await;
    c.ok();
    assert_eq!(c.json()["compare_vip"]["equal"], true, "{}", c.stdout);
    // Without --as: the VIP's ASes and weights as VPP prints them, the weighted table.
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
    assert_eq!(c.json()["variant"], "vpp-weighted", "{}", c.stdout);
    assert_eq!(c.json()["compare_vip"]["equal"], true, "{}", c.stdout);

    // `lb status` reads the 1.2.0 listing.
    let s = bed.run(&["--json", "lb", "status"]).await;
    s.ok();
    let v = &s.json()["vips"][0];
    assert_eq!(v["used_ases"], 4, "{}", s.stdout);
    assert_eq!(s.json()["lb_api"], "1.2.0");
    let buckets: Vec<u64> = v["ases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["buckets"].as_u64().unwrap())
        .collect();
    assert_eq!(buckets, [292, 291, 291, 150], "{}", s.stdout);

    // A second run plans nothing and sends nothing.
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty(), "{:?}", bed.mutating());
}

#[tokio::test]
async fn a_weight_change_is_one_lb_as_set_weight() {
    let bed = bed_1_2().await;
    let full = [(AS4[0], 100), (AS4[1], 100), (AS4[2], 100), (AS4[3], 50)];
    bed.run(&["lb", "sync", "--config", &file(&bed, "", &full)])
        .await
        .ok();

    // ::4 drained to weight 0: one UPDATE, lb_as_set_weight without flush.
    let drained = [(AS4[0], 100), (AS4[1], 100), (AS4[2], 100), (AS4[3], 0)];
    let f = file(&bed, "", &drained);
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(bed.mutating(), ["lb_as_set_weight"]);
    let op = &r.json()["steps"][0]["ops"][0];
    assert_eq!(op["op"], "UPDATE", "{op}");
    assert_eq!(
        op["key"],
        "lb/vip/2001:db8:100::1/128/tcp/80/as/2001:db8:1::4"
    );
    let args = &op["messages"][0]["args"];
    assert_eq!(args["weight"], 0, "{args}");
    assert_eq!(args["is_flush"], false, "{args}");
    assert_eq!(args["pfx"]["len"], 128, "{args}");
    assert_eq!(
        v2_dump(&bed).await,
        [
            (AS4[0].to_string(), 100, 342, true),
            (AS4[1].to_string(), 100, 341, true),
            (AS4[2].to_string(), 100, 341, true),
            (AS4[3].to_string(), 0, 0, true),
        ],
        "weight 0: out of the new-flow table, still used"
    );
    let text = bed
        .run(&[
            "--dry-run",
            "lb",
            "sync",
            "--config",
            &file_at(&bed, "full.yaml", "", &full),
        ])
        .await
        .stdout;
    assert!(text.contains("weight 0 -> 50"), "{text}");
    // Converged: nothing again.
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty());

    // Back to 50, and ::3 left out: one set_weight, one delete with flush (the policy).
    let f = file(&bed, "", &[(AS4[0], 100), (AS4[1], 100), (AS4[3], 50)]);
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    let mut got = bed.mutating();
    got.sort();
    assert_eq!(got, ["lb_add_del_as", "lb_as_set_weight"]);
    let del = r.json()["steps"][0]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["op"] == "DELETE")
        .unwrap()["messages"][0]["args"]
        .clone();
    assert_eq!(
        (del["is_del"].clone(), del["is_flush"].clone()),
        (true.into(), true.into())
    );
    // 250 replicas: 4 rounds, the 24 left over to replicas 0-7 of each (the removed ::3 keeps
    // its weight but no buckets).
    let d = v2_dump(&bed).await;
    assert_eq!(
        d.iter().map(|a| (a.1, a.2, a.3)).collect::<Vec<_>>(),
        [
            (100, 408, true),
            (100, 408, true),
            (100, 0, false),
            (50, 208, true)
        ],
        "{d:?}"
    );

    // A new-len change recreates: ASes deleted, VIP deleted, VIP added, ASes added with v2.
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("new-len: 1024", "new-len: 2048");
    std::fs::write(&f, text).unwrap();
    bed.clear();
    bed.run(&["--json", "lb", "sync", "--config", &f])
        .await
        .ok();
    assert_order(
        &bed.mutating(),
        &[
            "lb_add_del_as",
            "lb_add_del_vip_v2",
            "lb_add_del_vip_v2",
            "lb_add_del_as_v2",
            "lb_add_del_as_v2",
            "lb_add_del_as_v2",
        ],
    );
    let show = show(&bed);
    assert!(
        show.contains(" ip6-gre6 [2] 2001:db8:100::1/128\n  new_size:2048"),
        "{show}"
    );
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);
}

#[tokio::test]
async fn lb_conf_is_compared_through_lb_conf_get() {
    let bed = bed_1_2().await;
    let ases = [(AS4[0], 100)];
    let f = file(&bed, ", buckets: 1024, timeout: 40s", &ases);
    bed.run(&["lb", "sync", "--config", &f]).await.ok();
    // A new process (no cached push): the same values are read back, nothing is sent.
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty());
    assert!(bed.trace_names().contains(&"lb_conf_get"));
    // Another bucket count: lb_conf again (26.06 could not see this from a new process).
    let f = file(&bed, ", buckets: 2048, timeout: 40s", &ases);
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    assert_eq!(bed.mutating(), ["lb_conf"]);
    let op = &r.json()["steps"][0]["ops"][0];
    assert!(
        op["reason"]
            .as_str()
            .unwrap_or("")
            .contains("buckets 1024 -> 2048"),
        "{op}"
    );
    assert_eq!(op["messages"][0]["args"]["sticky_buckets_per_core"], 2048);
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    // `lb conf` with another timeout: re-sent; the same again: not.
    let conf = [
        "--json",
        "lb",
        "conf",
        "--ip4-src",
        "192.0.2.254",
        "--ip6-src",
        "2001:db8::fe",
        "--buckets",
        "2048",
        "--timeout",
        "60s",
    ];
    bed.clear();
    bed.run(&conf).await.ok();
    assert_eq!(bed.mutating(), ["lb_conf"]);
    bed.clear();
    let r = bed.run(&conf).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty());
    let c = bed.sim.with_model(|m| m.lb.conf.clone());
    assert_eq!((c.sticky_buckets_per_core, c.flow_timeout), (2048, 60));
}

#[tokio::test]
async fn info_reports_lb_api_1_2_0() {
    let bed = bed_1_2().await;
    let r = bed.run(&["--json", "info"]).await;
    r.ok();
    let lb = &r.json()["lb"];
    assert_eq!(lb["api"], "1.2.0", "{lb}");
    assert_eq!(lb["missing"], serde_json::json!([]), "{lb}");
}

const V4: &str = "
managed-prefixes: [192.0.2.0/24]
vips:
  - { prefix: 192.0.2.1/32, protocol: tcp, port: 80, encap: gre4,
      as: [10.0.0.2, { address: 10.0.0.3, weight: 25 }] }
";

#[tokio::test]
async fn ipv4_vips_are_honest_without_the_26_06_flag() {
    let bed = bed_1_2().await;
    let p = bed.dir.path().join("v4.yaml");
    std::fs::write(&p, V4).unwrap();
    let f = p.display().to_string();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    r.ok();
    let ops = r.json()["steps"][0]["ops"].as_array().unwrap().clone();
    let vip = &ops[0]["messages"][0]["args"];
    assert_eq!(vip["pfx"]["len"], 32, "honest /32: {vip}");
    let asm = &ops[1]["messages"][0]["args"];
    assert_eq!(ops[1]["messages"][0]["message"], "lb_add_del_as_v2");
    assert_eq!(asm["pfx"]["len"], 32, "{asm}");
    let text = show(&bed);
    assert!(text.contains(" ip4-gre4 [1] 192.0.2.1/32\n"), "{text}");
    assert!(!text.contains("::/32"), "{text}");
    assert_eq!(
        as_lines(&text, " ip4-gre4 [1]")
            .iter()
            .map(|l| (l.0.as_str(), l.1, l.2))
            .collect::<Vec<_>>(),
        [("10.0.0.2", 100, 812), ("10.0.0.3", 25, 212)]
    );
    bed.clear();
    let r = bed.run(&["--json", "lb", "sync", "--config", &f]).await;
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(bed.mutating().is_empty());
    // --compat-lb-26.06 is ignored on 1.2.0, with a warning: still honest, still converged.
    let r = bed
        .run(&["--json", "lb", "sync", "--config", &f, "--compat-lb-26.06"])
        .await;
    r.ok();
    assert_eq!(r.ops(), 0, "{}", r.stdout);
    assert!(
        r.stderr.contains("--compat-lb-26.06 ignored"),
        "{}",
        r.stderr
    );
    let dry = bed
        .run(&[
            "--json",
            "--dry-run",
            "lb",
            "sync",
            "--config",
            &f,
            "--compat-lb-26.06",
            "--prune",
        ])
        .await;
    dry.ok();
    assert_eq!(dry.ops(), 0, "{}", dry.stdout);
}
