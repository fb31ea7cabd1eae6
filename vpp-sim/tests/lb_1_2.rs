//! The `lb` plugin of VPP master after 26.06 (`lb.api` 1.2.0, `SimConfig::lb_api_1_2`), each
//! behaviour from master's `src/plugins/lb` (`api.c`, `lb.c`, `cli.c`; commits `db44addb60c`
//! and `ca870e99f61`): the eight new messages in the table, weights in the new-flow table,
//! `lb_as_set_weight` with and without flush, `lb_as_v2_dump`, `lb_conf_get`, the handler fixes
//! (IPv4 prefixes, encap, honest dumps, soft-deleted VIPs hidden, the port filter) and the GC
//! timer. The bucket counts of `lb_as_set_weight` are the ones master's own `test/test_lb.py`
//! expects. Clients here are the runtime's (IDs from the `sockclnt_create` table).

use std::net::IpAddr;
use std::time::Duration;

use futures_util::StreamExt;
use lb_api_next::*;
use vpp_sim::table::MessageTable;
use vpp_sim::{SimConfig, Simulator};
use vppapi_binapi::lb::{
    LbAddDelAs, LbAddDelVipV2, LbAsDetails, LbAsDump, LbConf, LbFlushVip, LbVipDetails, LbVipDump,
};
use vppapi_binapi::lb_types::{LbEncapType, LbSrvType};
use vppapi_codec::net::{Address, AddressWithPrefix, Ip4Address, Ip6Address, Prefix};
use vppapi_codec::{Dump, Message};
use vppapi_runtime::{Config, Connection};

struct Bed {
    sim: Simulator,
    _dir: tempfile::TempDir,
    c: Connection,
}

async fn bed(lb_api_1_2: bool) -> Bed {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SimConfig::new(dir.path().join("api.sock"));
    cfg.lb_api_1_2 = lb_api_1_2;
    let sim = Simulator::start(cfg).await.unwrap();
    let c = Connection::connect(Config::new(sim.socket()))
        .await
        .unwrap();
    Bed { sim, _dir: dir, c }
}

impl Bed {
    fn cli(&self, cmd: &str) -> String {
        let (rv, out) = self.sim.cli(cmd);
        assert_eq!(rv, 0, "{cmd}: {out}");
        out
    }
    async fn dump<M: Dump + Sync>(&self, m: &M) -> Vec<M::Details> {
        let mut s = self.c.dump(m).await.unwrap();
        let mut out = Vec::new();
        while let Some(d) = s.next().await {
            out.push(d.unwrap());
        }
        out
    }
    /// `(address, weight, num_buckets, used)` of every AS, from `lb_as_v2_dump` (all).
    async fn ases(&self) -> Vec<(String, u8, u32, bool)> {
        self.dump(&all_v2())
            .await
            .into_iter()
            .map(|d| (ip(&d.app_srv), d.weight, d.num_buckets, d.flags & 1 == 1))
            .collect()
    }
    async fn buckets(&self) -> Vec<u32> {
        self.ases().await.iter().map(|a| a.2).collect()
    }
    /// A request's retval (0, or the error the runtime reports).
    async fn rv<M: vppapi_codec::Request + Sync>(&self, m: &M) -> i32 {
        match self.c.call(m).await {
            Ok(_) => 0,
            Err(vppapi_runtime::Error::Api(e)) => e.retval,
            Err(e) => panic!("{}: {e}", M::NAME),
        }
    }
}

fn all_v2() -> LbAsV2Dump {
    LbAsV2Dump {
        pfx: AddressWithPrefix(Prefix {
            address: Address::Ip4(Ip4Address([0; 4])),
            len: 0,
        }),
        protocol: 0,
        port: 0,
    }
}

fn addr(s: &str) -> Address {
    match s.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => Address::Ip4(Ip4Address(a.octets())),
        IpAddr::V6(a) => Address::Ip6(Ip6Address(a.octets())),
    }
}

fn ip(a: &Address) -> String {
    match a {
        Address::Ip4(a) => std::net::Ipv4Addr::from(a.0).to_string(),
        Address::Ip6(a) => std::net::Ipv6Addr::from(a.0).to_string(),
        Address::Other(..) => "?".into(),
    }
}

/// An honest prefix (1.2.0 adds the 96 of IPv4 itself).
fn pfx(s: &str) -> AddressWithPrefix {
    let (a, l) = s.split_once('/').unwrap();
    AddressWithPrefix(Prefix {
        address: addr(a),
        len: l.parse().unwrap(),
    })
}

fn vip(p: &str, protocol: u8, port: u16, encap: u32, is_del: bool) -> LbAddDelVipV2 {
    LbAddDelVipV2 {
        pfx: pfx(p),
        protocol,
        port,
        encap: LbEncapType(encap),
        dscp: 0,
        r#type: LbSrvType(0),
        target_port: 0,
        node_port: 0,
        new_flows_table_length: 1024,
        src_ip_sticky: false,
        is_del,
    }
}

fn as_v2(p: &str, protocol: u8, port: u16, a: &str, weight: u8) -> LbAddDelAsV2 {
    LbAddDelAsV2 {
        pfx: pfx(p),
        protocol,
        port,
        as_address: addr(a),
        weight,
        is_del: false,
        is_flush: false,
    }
}

fn set_weight(p: &str, a: &str, weight: u8, is_flush: bool) -> LbAsSetWeight {
    LbAsSetWeight {
        pfx: pfx(p),
        protocol: 255,
        port: 0,
        as_address: addr(a),
        weight,
        is_flush,
    }
}

/// `(address, weight, buckets, flows, used)` of the AS lines (1.2.0 format) of VIP `[index]`
/// in `show lb vips verbose`.
fn as_lines(text: &str, index: u32) -> Vec<(String, u32, u32, u32, bool)> {
    let head = format!("[{index}]");
    let mut inside = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l.starts_with(' ') && !l.starts_with("  ") {
            inside = l.split_whitespace().nth(1) == Some(head.as_str());
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if !inside || w.len() < 6 || !w[1].starts_with("weight:") {
            continue;
        }
        let n = |s: &str, k: &str| s.strip_prefix(k).unwrap().parse::<u32>().unwrap();
        out.push((
            w[0].to_string(),
            n(w[1], "weight:"),
            n(w[2], "buckets:"),
            n(w[3], "flows:"),
            w[5] == "used",
        ));
    }
    out
}

const V6: &str = "2001:db8:100::1/128";
const V4: &str = "192.0.2.0/24";

#[tokio::test]
async fn the_table_has_master_s_lb_module_and_26_06_stays_as_it_is() {
    let old = MessageTable::vpp_26_06();
    let new = MessageTable::lb_api_1_2();
    assert_eq!(new.len(), old.len() + 8);
    for m in [
        "lb_conf_get_51077d14",
        "lb_conf_get_reply_923427ac",
        "lb_add_del_as_v2_2f1d3b0e",
        "lb_add_del_as_v2_reply_e8d4e804",
        "lb_as_set_weight_2d89bdbd",
        "lb_as_set_weight_reply_e8d4e804",
        "lb_as_v2_dump_1063f819",
        "lb_as_v2_details_90064aae",
    ] {
        assert!(new.id_by_name_crc(m).is_some(), "{m}");
        assert!(old.id_by_name_crc(m).is_none(), "{m} must not be in 26.06");
    }
    // lb's range is 26 long, in master's .api.json order; what follows moves up by 8.
    let lb = |t: &MessageTable| {
        t.iter()
            .filter(|(_, m)| m.module == "lb")
            .map(|(i, m)| (i, m.name))
            .collect::<Vec<_>>()
    };
    let (l_old, l_new) = (lb(old), lb(new));
    assert_eq!((l_old.len(), l_new.len()), (18, 26));
    assert_eq!(l_new[0], l_old[0]);
    assert_eq!(l_new[2].1, "lb_conf_get");
    assert_eq!(l_new[2].0, l_old[2].0);
    assert_eq!(
        new.id("control_ping").unwrap(),
        old.id("control_ping").unwrap(),
        "memclnt is first"
    );
    assert_eq!(
        new.id("show_version").unwrap(),
        old.id("show_version").unwrap() + 8
    );
    // A client sees it in the sockclnt_create table; a 26.06 simulator has none of it.
    let b = bed(true).await;
    let t = b.c.message_table().unwrap();
    assert_eq!(t.versions_of("lb_as_set_weight").len(), 1);
    assert!(t.id(LbAsSetWeight::NAME_CRC).is_some());
    let b0 = bed(false).await;
    let t0 = b0.c.message_table().unwrap();
    assert!(t0.versions_of("lb_as_set_weight").is_empty());
    assert!(b0.c.call(&LbConfGet {}).await.is_err());
    // Requests and events of the modules after lb use the moved IDs.
    let r = b.c.call(&vppapi_binapi::vpe::ShowVersion {}).await.unwrap();
    assert_eq!(r.program, "vpe");
    use vppapi_binapi::interface::{SwInterfaceEvent, SwInterfaceSetFlags, WantInterfaceEvents};
    use vppapi_binapi::interface_types::IfStatusFlags;
    let lo =
        b.c.call(&vppapi_binapi::interface::CreateLoopback::default())
            .await
            .unwrap()
            .sw_if_index;
    let mut ev = b
        .c
        .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(|enable, pid| WantInterfaceEvents {
            enable_disable: enable as u32,
            pid,
        })
        .await
        .unwrap();
    b.c.call(&SwInterfaceSetFlags {
        sw_if_index: lo,
        flags: IfStatusFlags(1),
    })
    .await
    .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(2), ev.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.sw_if_index, lo);
}

/// Weights 100/100/100/50: 292/291/291/150 buckets (the weighted Maglev fill), in
/// `lb_as_v2_dump` and in master's `show lb vips verbose` format, equal to the maglev crate.
#[tokio::test]
async fn weights_decide_the_buckets() {
    let b = bed(true).await;
    assert_eq!(b.rv(&vip(V6, 6, 80, 1, false)).await, 0);
    let ases = [
        ("2001:db8:1::1", 100),
        ("2001:db8:1::2", 100),
        ("2001:db8:1::3", 100),
        ("2001:db8:1::4", 50),
    ];
    for (a, w) in ases {
        assert_eq!(b.rv(&as_v2(V6, 6, 80, a, w)).await, 0);
    }
    assert_eq!(b.buckets().await, [292, 291, 291, 150]);
    let backends: Vec<maglev::Backend> = ases
        .iter()
        .map(|(a, w)| maglev::Backend::new(a.parse().unwrap(), u32::from(*w)))
        .collect();
    let t = maglev::vpp_table(&backends, 1024, maglev::Variant::VppWeighted).unwrap();
    assert_eq!(t.buckets_per_backend(), [292, 291, 291, 150]);
    let text = b.cli("show lb vips verbose");
    assert!(
        text.contains(" ip6-gre6 [1] 2001:db8:100::1/128\n  new_size:1024\n  protocol:6 port:80\n"),
        "{text}"
    );
    assert!(
        text.contains("    2001:db8:1::4 weight:50 buckets:150 flows:0 dpo:"),
        "{text}"
    );
    assert_eq!(
        as_lines(&text, 1)
            .iter()
            .map(|l| (l.1, l.2, l.4))
            .collect::<Vec<_>>(),
        [
            (100, 292, true),
            (100, 291, true),
            (100, 291, true),
            (50, 150, true)
        ]
    );
    // The VIP as 1.2.0 dumps it: honest protocol, encap and table length.
    let v = b.dump(&LbVipDump::default()).await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].vip.protocol.0, 6);
    assert_eq!(v[0].encap.0, 1);
    assert_eq!(v[0].flow_table_length, 1024);
    // lb_add_del_as (v1) adds with weight 100; an existing used AS is -81 either way.
    assert_eq!(
        b.rv(&as_v2(V6, 6, 80, "2001:db8:1::4", 100)).await,
        vppapi_codec::api_errno::VALUE_EXIST
    );
    let v1 = LbAddDelAs {
        pfx: pfx(V6),
        protocol: 6,
        port: 80,
        as_address: addr("2001:db8:1::5"),
        is_del: false,
        is_flush: false,
    };
    assert_eq!(b.rv(&v1).await, 0);
    assert_eq!(b.ases().await[4].1, 100);
}

/// The sequence of master's `test_lb_as_set_weight`, through the API on an IPv4 VIP made with
/// an honest /24: the bucket counts master's test expects.
#[tokio::test]
async fn set_weight_moves_buckets_as_master_s_test_expects() {
    let b = bed(true).await;
    assert_eq!(b.rv(&vip(V4, 0, 0, 0, false)).await, 0);
    assert!(b
        .cli("show lb vips verbose")
        .contains(" ip4-gre4 [1] 192.0.2.0/24\n"));
    for a in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"] {
        assert_eq!(b.rv(&as_v2(V4, 0, 0, a, 100)).await, 0);
    }
    assert_eq!(b.buckets().await, [256, 256, 256, 256]);
    assert_eq!(b.rv(&set_weight(V4, "10.0.0.1", 50, false)).await, 0);
    let a = b.ases().await;
    assert_eq!((a[0].1, a[0].2), (50, 150));
    assert_eq!(b.buckets().await, [150, 292, 291, 291]);
    assert_eq!(b.rv(&set_weight(V4, "10.0.0.2", 0, false)).await, 0);
    assert_eq!(b.buckets().await, [208, 0, 408, 408]);
    // A new AS at weight 0 takes nothing; ramped to 50 it takes a share.
    assert_eq!(b.rv(&as_v2(V4, 0, 0, "10.0.0.5", 0)).await, 0);
    assert_eq!(b.buckets().await, [208, 0, 408, 408, 0]);
    assert_eq!(b.rv(&set_weight(V4, "10.0.0.5", 50, false)).await, 0);
    let a = b.ases().await;
    assert!(a[4].2 > 0 && a[1].2 == 0, "{a:?}");
    assert_eq!(b.rv(&set_weight(V4, "10.0.0.3", 0, true)).await, 0);
    let a = b.ases().await;
    assert_eq!(a[0].2 + a[3].2 + a[4].2, 1024);
    // Every weight 0: every bucket "no server".
    for x in ["10.0.0.1", "10.0.0.4", "10.0.0.5"] {
        assert_eq!(b.rv(&set_weight(V4, x, 0, false)).await, 0);
    }
    assert_eq!(b.buckets().await, [0, 0, 0, 0, 0]);
    assert!(
        b.ases().await.iter().all(|a| a.3),
        "weight 0 ASes stay USED"
    );
    // Unknown or removed ASes: -6; an unknown VIP: -6.
    let no = vppapi_codec::api_errno::NO_SUCH_ENTRY;
    assert_eq!(b.rv(&set_weight(V4, "10.0.0.9", 10, false)).await, no);
    let mut del = as_v2(V4, 0, 0, "10.0.0.1", 0);
    del.is_del = true;
    assert_eq!(b.rv(&del).await, 0);
    assert_eq!(b.rv(&set_weight(V4, "10.0.0.1", 10, false)).await, no);
    assert_eq!(
        b.rv(&set_weight("192.0.3.0/24", "10.0.0.4", 10, false))
            .await,
        no
    );
    // Re-adding the removed AS takes the new weight (lb_vip_add_ass on a reused slot).
    assert_eq!(b.rv(&as_v2(V4, 0, 0, "10.0.0.1", 7)).await, 0);
    assert_eq!(b.ases().await[0], ("10.0.0.1".into(), 7, 1024, true));
}

/// pg0 up with addresses, and `limit` packets of `flow` through ip6-input.
fn traffic(b: &Bed, name: &str, limit: u32, flow: &str) {
    if !b.cli("show interface").contains("pg0") {
        b.cli("create packet-generator interface pg0");
        b.cli("set interface ip address pg0 2001:db8:ff::1/64");
        b.cli("set interface state pg0 up");
    }
    b.cli(&format!(
        "packet-generator new {{ name {name} limit {limit} size 80-80 interface pg0 node \
         ip6-input data {{ {flow} incrementing 30 }} }}"
    ));
    b.cli(&format!("packet-generator enable-stream {name}"));
}

/// `(existing, first, untracked, no server)` of VIP [1].
fn counters(b: &Bed) -> [u64; 4] {
    let text = b.cli("show lb vips verbose");
    let mut out = [0; 4];
    for (i, name) in vpp_sim::model::lb_node::COUNTER_NAMES.iter().enumerate() {
        let l = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .unwrap();
        out[i] = l.rsplit(' ').next().unwrap().parse().unwrap();
    }
    out
}

/// Weight 0 drains: the AS leaves the new-flow table but its sticky flows go on to it (USED);
/// with `is_flush` they are evicted and re-hash onto another AS.
#[tokio::test]
async fn weight_zero_keeps_sticky_flows_unless_flushed() {
    let b = bed(true).await;
    assert_eq!(b.rv(&vip(V6, 6, 80, 1, false)).await, 0);
    for a in ["2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"] {
        assert_eq!(b.rv(&as_v2(V6, 6, 80, a, 100)).await, 0);
    }
    let flow = "TCP: 2001:db8:ff::2 -> 2001:db8:100::1 TCP: 1234 -> 80";
    traffic(&b, "f1", 1, flow);
    let lines = as_lines(&b.cli("show lb vips verbose"), 1);
    let owner = lines
        .iter()
        .position(|l| l.3 == 1)
        .expect("one AS has the flow");
    let owner_addr = lines[owner].0.clone();
    // Drain without flush: no buckets, still used, the flow stays and is "existing".
    assert_eq!(b.rv(&set_weight_v6(&owner_addr, 0, false)).await, 0);
    b.cli("packet-generator enable-stream f1");
    let lines = as_lines(&b.cli("show lb vips verbose"), 1);
    assert_eq!((lines[owner].1, lines[owner].2, lines[owner].3), (0, 0, 1));
    assert!(lines[owner].4);
    assert_eq!(counters(&b), [1, 1, 0, 0]);
    // Hard drain: flushed; the next packet is a first packet on another AS.
    assert_eq!(b.rv(&set_weight_v6(&owner_addr, 0, true)).await, 0);
    b.cli("packet-generator enable-stream f1");
    let lines = as_lines(&b.cli("show lb vips verbose"), 1);
    assert_eq!(lines[owner].3, 0, "{lines:?}");
    assert_eq!(lines.iter().map(|l| l.3).sum::<u32>(), 1);
    assert_eq!(counters(&b), [1, 2, 0, 0]);
}

fn set_weight_v6(a: &str, weight: u8, is_flush: bool) -> LbAsSetWeight {
    LbAsSetWeight {
        protocol: 6,
        port: 80,
        ..set_weight(V6, a, weight, is_flush)
    }
}

#[tokio::test]
async fn lb_conf_get_reads_back_lb_conf() {
    let b = bed(true).await;
    let r = b.c.call(&LbConfGet {}).await.unwrap();
    // lb_init: all-ones addresses, 1024 buckets per core, 40 s.
    assert_eq!(r.ip4_src_address.0, [255; 4]);
    assert_eq!(r.ip6_src_address.0, [255; 16]);
    assert_eq!((r.sticky_buckets_per_core, r.flow_timeout), (1024, 40));
    let c = LbConf {
        ip4_src_address: Ip4Address([192, 0, 2, 254]),
        ip6_src_address: Ip6Address(
            "2001:db8::fe"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        ),
        sticky_buckets_per_core: 2048,
        flow_timeout: u32::MAX,
    };
    b.c.call(&c).await.unwrap();
    let r = b.c.call(&LbConfGet {}).await.unwrap();
    assert_eq!(r.ip4_src_address.0, [192, 0, 2, 254]);
    assert_eq!(r.ip6_src_address, c.ip6_src_address);
    assert_eq!((r.sticky_buckets_per_core, r.flow_timeout), (2048, 40));
}

/// db44addb60c: honest IPv4 keys, `encap` through `ntohl` (IPv4+GRE6 and L3DSR work), honest
/// dumps (length, protocol, encap, table length), the port filter, deleted VIPs hidden.
#[tokio::test]
async fn handler_fixes_of_master() {
    let b = bed(true).await;
    assert_eq!(b.rv(&vip("192.0.2.1/32", 6, 80, 0, false)).await, 0);
    assert_eq!(b.rv(&vip("192.0.2.2/32", 17, 53, 1, false)).await, 0);
    assert_eq!(b.rv(&vip("2001:db8:100::1/128", 0, 0, 0, false)).await, 0);
    let text = b.cli("show lb vips verbose");
    assert!(text.contains(" ip4-gre4 [1] 192.0.2.1/32\n"), "{text}");
    assert!(text.contains(" ip4-gre6 [2] 192.0.2.2/32\n"), "{text}");
    assert!(
        text.contains(" ip6-gre4 [3] 2001:db8:100::1/128\n"),
        "{text}"
    );
    assert!(!text.contains("::/32"), "{text}");
    // The short listing prints without `verbose` on master.
    assert_eq!(
        b.cli("show lb vips"),
        "ip4-gre4 192.0.2.1/32 new_size:1024 #as:0  protocol:6 port:80 \n\
         ip4-gre6 192.0.2.2/32 new_size:1024 #as:0  protocol:17 port:53 \n\
         ip6-gre4 2001:db8:100::1/128 new_size:1024 #as:0\n"
    );
    let v: Vec<LbVipDetails> = b.dump(&LbVipDump::default()).await;
    let got: Vec<(String, u8, u8, u16, u32, u16)> = v
        .iter()
        .map(|d| {
            (
                ip(&d.vip.pfx.0.address),
                d.vip.pfx.0.len,
                d.vip.protocol.0,
                d.vip.port,
                d.encap.0,
                d.flow_table_length,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("192.0.2.1".to_string(), 32, 6, 80, 0, 1024),
            ("192.0.2.2".to_string(), 32, 17, 53, 1, 1024),
            ("2001:db8:100::1".to_string(), 128, 255, 0, 0, 1024),
        ]
    );
    // AS calls with the honest IPv4 key find the VIP.
    assert_eq!(
        b.rv(&as_v2("192.0.2.1/32", 6, 80, "10.0.0.1", 100)).await,
        0
    );
    assert_eq!(
        b.rv(&as_v2("192.0.2.1/32", 6, 80, "2001:db8::1", 100))
            .await,
        -97
    );
    assert_eq!(
        b.rv(&as_v2("2001:db8:100::1/128", 0, 0, "10.0.0.2", 100))
            .await,
        0
    );
    let flush = LbFlushVip {
        pfx: pfx("192.0.2.1/32"),
        protocol: 6,
        port: 80,
    };
    assert_eq!(b.rv(&flush).await, 0);
    // lb_as_dump: VIPs reported honestly; the port filter works (IPv6: the raw union is the
    // ip46 address); an IPv4 filter still never matches (raw union bytes against ip46).
    let all: Vec<LbAsDetails> = b.dump(&LbAsDump::default()).await;
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].vip.pfx.0.len, all[0].vip.protocol.0), (32, 6));
    let f = |p: &str, protocol: u8, port: u16| LbAsDump {
        pfx: pfx(p),
        protocol,
        port,
    };
    assert_eq!(b.dump(&f("2001:db8:100::1/128", 255, 0)).await.len(), 1);
    assert_eq!(b.dump(&f("2001:db8:100::1/128", 6, 80)).await.len(), 0);
    assert_eq!(b.dump(&f("192.0.2.1/32", 6, 80)).await.len(), 0);
    // A deleted VIP leaves lb_vip_dump at once; CLI and lb_as_dump still show it until GC.
    assert_eq!(b.rv(&vip("192.0.2.1/32", 6, 80, 0, true)).await, 0);
    assert_eq!(b.dump(&LbVipDump::default()).await.len(), 2);
    assert!(b
        .cli("show lb vips verbose")
        .contains(" ip4-gre4 [1] 192.0.2.1/32 removed\n"));
    let all = b.dump(&LbAsDump::default()).await;
    assert_eq!(all.iter().filter(|d| d.flags & 1 == 0).count(), 1);
}

/// Master's GC timer: a deleted VIP and its removed AS are freed without any CLI command
/// (26.06 keeps them until `lb vip|as|conf` runs the collection).
#[tokio::test]
async fn the_gc_timer_frees_deleted_vips() {
    for v12 in [true, false] {
        let b = bed(v12).await;
        b.cli("lb vip 2001:db8:100::1/128 protocol tcp port 80 encap gre6");
        b.cli("lb as 2001:db8:100::1/128 protocol tcp port 80 2001:db8:1::1");
        assert_eq!(b.rv(&vip(V6, 6, 80, 1, true)).await, 0);
        assert!(b.cli("show lb vips verbose").contains(" removed\n"));
        b.sim.advance_clock(Duration::from_secs(190));
        let text = b.cli("show lb vips verbose");
        if v12 {
            assert_eq!(text, "", "freed by the timer");
            assert!(b.dump(&all_v2()).await.is_empty());
        } else {
            assert!(
                text.contains(" ip6-gre6 [1] 2001:db8:100::1/128 removed\n"),
                "{text}"
            );
        }
    }
}

/// Master's `lb as ... weight N`: adds with the weight, or sets it on an existing AS; 0-100
/// only, not with `del`; no garbage collection.
#[tokio::test]
async fn the_lb_as_cli_takes_weights() {
    let b = bed(true).await;
    b.cli("lb vip 2001:db8:100::1/128 protocol tcp port 80 encap gre6");
    b.cli("lb as 2001:db8:100::1/128 protocol tcp port 80 2001:db8:1::1 2001:db8:1::2 weight 50");
    b.cli("lb as 2001:db8:100::1/128 protocol tcp port 80 2001:db8:1::3");
    assert_eq!(
        b.ases()
            .await
            .iter()
            .map(|a| (a.1, a.2))
            .collect::<Vec<_>>(),
        // 200 replicas: 5 rounds of 1024 / 200, the 24 left over to replicas 0-7 of each.
        [(50, 258), (50, 258), (100, 508)]
    );
    b.cli("lb as 2001:db8:100::1/128 protocol tcp port 80 2001:db8:1::3 weight 0");
    assert_eq!(b.buckets().await, [512, 512, 0]);
    for (cmd, err) in [
        (
            "2001:db8:1::1 weight 101",
            "weight must be between 0 and 100",
        ),
        (
            "2001:db8:1::1 weight 5 del",
            "weight and del are mutually exclusive",
        ),
        (
            "2001:db8:1::9 2001:db8:1::1 weight 5",
            "lb_vip_set_as_weight error -6",
        ),
    ] {
        let (rv, out) = b.sim.cli(&format!(
            "lb as 2001:db8:100::1/128 protocol tcp port 80 {cmd}"
        ));
        assert_eq!(rv, -1, "{cmd}: {out}");
        assert!(out.contains(err), "{cmd}: {out}");
    }
    // 26.06 knows no weight.
    let b0 = bed(false).await;
    b0.cli("lb vip 2001:db8:100::1/128 protocol tcp port 80 encap gre6");
    let (rv, out) = b0
        .sim
        .cli("lb as 2001:db8:100::1/128 protocol tcp port 80 2001:db8:1::1 weight 5");
    assert_eq!(rv, -1);
    assert!(out.contains("parse error"), "{out}");
}

/// `vpp-sim --lb-api 1.2.0` serves the 1.2.0 table.
#[tokio::test]
async fn the_binary_takes_lb_api() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_vpp-sim"))
        .arg("--socket")
        .arg(&sock)
        .args(["--lb-api", "1.2.0"])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut c = None;
    for _ in 0..200 {
        if let Ok(x) = Connection::connect(Config::new(&sock)).await {
            c = Some(x);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = c.expect("vpp-sim serves");
    let r = c.call(&LbConfGet {}).await.unwrap();
    assert_eq!(r.flow_timeout, 40);
    c.close().await;
    let _ = child.start_kill();
    let _ = child.wait().await;
}
