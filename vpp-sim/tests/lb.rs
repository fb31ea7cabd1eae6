//! The LB plugin beyond the recordings, each behaviour from VPP 26.06's source (`lb.c`,
//! `node.c`, `lbhash.h`, `cli.c`, `api.c`): per-VIP counters in the stats segment, packet-
//! generator traffic through the sticky table, flushes, flow timeouts, garbage collection and
//! the CLI. The recorded case (`lb_stats`: 3 packets of one flow, 1 to an AS-less VIP) is
//! replayed byte for byte in `replay.rs`.

mod common;

use std::time::Duration;

use common::*;
use vpp_sim::table::MessageTable;
use vppapi_binapi::lb::*;
use vppapi_binapi::lb_types::{LbEncapType, LbSrvType};
use vppapi_codec::net::{Address, AddressWithPrefix, Ip4Address, Ip6Address, Prefix};
use vppapi_codec::{decode_message, encode_message, message_len, Message, Request};

fn call<M: Request>(c: &mut Raw, req: &M) -> M::Reply {
    let id = MessageTable::vpp_26_06().id_of::<M>().unwrap();
    let mut b = vec![0u8; message_len(req)];
    let n = encode_message(req, id, c.index, 7, &mut b).unwrap();
    b.truncate(n);
    c.send(&b);
    let f = c.recv().unwrap();
    decode_message::<M::Reply>(&f[16..]).unwrap().1
}

fn dump<M: Message, D: Message>(c: &mut Raw, req: &M) -> Vec<D> {
    let id = MessageTable::vpp_26_06().id_of::<M>().unwrap();
    let mut b = vec![0u8; message_len(req)];
    let n = encode_message(req, id, c.index, 8, &mut b).unwrap();
    b.truncate(n);
    c.send(&b);
    c.send(&c.req("control_ping", 8, &[]));
    let ping = common::id("control_ping_reply");
    let mut out = Vec::new();
    loop {
        let f = c.recv().unwrap();
        if u16::from_be_bytes([f[16], f[17]]) == ping {
            return out;
        }
        if let Ok((_, d, _)) = decode_message::<D>(&f[16..]) {
            out.push(d);
        }
    }
}

fn addr(s: &str) -> Address {
    match s.parse::<std::net::IpAddr>().unwrap() {
        std::net::IpAddr::V4(a) => Address::Ip4(Ip4Address(a.octets())),
        std::net::IpAddr::V6(a) => Address::Ip6(Ip6Address(a.octets())),
    }
}

/// A VIP key: IPv4 with the +96 workaround (`len + 96`), as the tools send it.
fn pfx(s: &str) -> AddressWithPrefix {
    let (a, l) = s.split_once('/').unwrap();
    let a = addr(a);
    let l: u8 = l.parse().unwrap();
    let len = if matches!(a, Address::Ip4(_)) {
        l + 96
    } else {
        l
    };
    AddressWithPrefix(Prefix { address: a, len })
}

fn conf(c: &mut Raw, buckets: u32, timeout: u32) -> i32 {
    call(
        c,
        &LbConf {
            ip4_src_address: Ip4Address([192, 0, 2, 254]),
            ip6_src_address: Ip6Address(
                "2001:db8::fe"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .octets(),
            ),
            sticky_buckets_per_core: buckets,
            flow_timeout: timeout,
        },
    )
    .retval
}

/// `lb_add_del_vip_v2`: IPv6 VIPs get GRE6, IPv4 (+96) GRE4 (encap 0, the only value 26.06
/// reads right).
fn vip(c: &mut Raw, p: &str, protocol: u8, port: u16, sticky: bool, is_del: bool) -> i32 {
    let pfx = pfx(p);
    let encap = if matches!(pfx.0.address, Address::Ip4(_)) {
        0
    } else {
        1
    };
    call(
        c,
        &LbAddDelVipV2 {
            pfx,
            protocol,
            port,
            encap: LbEncapType(encap),
            dscp: 0,
            r#type: LbSrvType(0),
            target_port: 0,
            node_port: 0,
            new_flows_table_length: 1024,
            src_ip_sticky: sticky,
            is_del,
        },
    )
    .retval
}

fn as_(c: &mut Raw, p: &str, port: u16, a: &str, is_del: bool, is_flush: bool) -> i32 {
    call(
        c,
        &LbAddDelAs {
            pfx: pfx(p),
            protocol: 6,
            port,
            as_address: addr(a),
            is_del,
            is_flush,
        },
    )
    .retval
}

fn as_dump(c: &mut Raw) -> Vec<LbAsDetails> {
    dump(
        c,
        &LbAsDump {
            pfx: AddressWithPrefix(Prefix {
                address: Address::Ip6(Ip6Address([0; 16])),
                len: 0,
            }),
            protocol: 0,
            port: 0,
        },
    )
}

fn vip_dump(c: &mut Raw) -> Vec<LbVipDetails> {
    dump(
        c,
        &LbVipDump {
            pfx: AddressWithPrefix(Prefix {
                address: Address::Ip6(Ip6Address([0; 16])),
                len: 0,
            }),
            pfx_matcher: Default::default(),
            protocol: 255,
            port: 0,
        },
    )
}

/// Runs a CLI command that must succeed silently.
fn ok(ts: &TestSim, cmd: &str) {
    assert_eq!(ts.sim().cli(cmd), (0, String::new()), "{cmd}");
}

/// One AS line of `show lb vips verbose`: (address, buckets, flows, used).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AsLine {
    addr: String,
    buckets: u32,
    flows: i64,
    used: bool,
}

/// The counters and AS lines of VIP `[index]` in `show lb vips verbose`.
fn show_vip(ts: &TestSim, index: u32) -> Option<([u64; 4], Vec<AsLine>)> {
    let (_, out) = ts.sim().cli("show lb vips verbose");
    let head = format!("[{index}] ");
    let block = out.split("\n\n").find(|b| b.contains(&head))?;
    let mut counters = [0u64; 4];
    let mut ases = Vec::new();
    for l in block.lines() {
        let l = l.trim();
        let names = vpp_sim::model::lb_node::COUNTER_NAMES;
        if let Some(k) = names.iter().position(|n| l.starts_with(&format!("{n}: "))) {
            counters[k] = l.rsplit_once(": ").unwrap().1.parse().unwrap();
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() >= 6 && w[2] == "buckets" {
            ases.push(AsLine {
                addr: w[0].to_string(),
                buckets: w[1].parse().unwrap(),
                flows: w[3].parse().unwrap(),
                used: w.last() == Some(&"used"),
            });
        }
    }
    Some((counters, ases))
}

fn total_flows(ases: &[AsLine]) -> i64 {
    ases.iter().map(|a| a.flows).sum()
}

/// pg0 with an IPv6 and an IPv4 address, up.
fn pg0(ts: &TestSim) {
    ok(ts, "create packet-generator interface pg0");
    ok(ts, "set interface ip address pg0 2001:db8:ff::1/64");
    ok(ts, "set interface ip address pg0 198.51.100.1/24");
    ok(ts, "set interface state pg0 up");
}

/// A stream of `limit` packets on pg0 and its run.
fn send(ts: &TestSim, name: &str, limit: u32, data: &str) {
    let node = if data.contains("::") {
        "ip6-input"
    } else {
        "ip4-input"
    };
    ok(
        ts,
        &format!(
            "packet-generator new {{ name {name} limit {limit} size 80-80 interface pg0 node \
             {node} data {{ {data} incrementing 30 }} }}"
        ),
    );
    ok(ts, &format!("packet-generator enable-stream {name}"));
}

const FLOW1: &str = "TCP: 2001:db8:ff::2 -> 2001:db8:100::1 TCP: 1234 -> 80";

/// A VIP 2001:db8:100::1/128 tcp/80 with ASes 2001:db8:1::1..3 and pg0 (VIP index 1).
fn vip_with_three_ases(ts: &TestSim) -> Raw {
    let mut c = ts.client();
    c.handshake("lb");
    assert_eq!(conf(&mut c, 1024, 40), 0);
    assert_eq!(vip(&mut c, "2001:db8:100::1/128", 6, 80, false, false), 0);
    for a in ["2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"] {
        assert_eq!(as_(&mut c, "2001:db8:100::1/128", 80, a, false, false), 0);
    }
    pg0(ts);
    c
}

/// lb.c lb_init: source addresses all ones, the placeholder VIP counted, no AS.
#[test]
fn fresh_show_lb_prints_lb_init_defaults() {
    let ts = TestSim::start(|_| {});
    assert_eq!(
        ts.sim().cli("show lb"),
        (
            0,
            "lb_main ip4-src-address: 255.255.255.255 \n ip6-src-address: \
             ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff \n #vips: 1\n #ass: 0\n"
                .to_string()
        )
    );
    // `lb conf` without values keeps them (and prints nothing).
    ok(&ts, "lb conf timeout 40");
    assert!(ts
        .sim()
        .cli("show lb")
        .1
        .contains("ip4-src-address: 255.255.255.255 \n"));
}

/// The four counters enter the stats segment with the first VIP (not with lb_conf), as
/// `[thread][VIP pool index]`, grow with the pool and keep removed VIPs' slots.
#[test]
fn lb_counters_appear_with_the_first_vip_and_follow_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.sock");
    let ts = TestSim::start(|c| c.stats_socket = Some(stats.clone()));
    let mut c = ts.client();
    c.handshake("lb");
    let mut sc = vppapi_stats::Client::connect(&stats).unwrap();
    let lb_entries = |sc: &mut vppapi_stats::Client| -> Vec<String> {
        sc.ls(&[".*"])
            .unwrap()
            .into_iter()
            .filter(|n| !n.starts_with('/'))
            .collect()
    };
    let read = |sc: &mut vppapi_stats::Client, n: &str| match sc.read(n).unwrap() {
        vppapi_stats::StatValue::Simple(v) => v.values,
        v => panic!("{n}: {v:?}"),
    };
    assert!(lb_entries(&mut sc).is_empty());
    assert_eq!(conf(&mut c, 1024, 40), 0);
    assert!(lb_entries(&mut sc).is_empty(), "lb_conf creates none");
    let epoch = sc.segment().unwrap().epoch();
    assert_eq!(vip(&mut c, "2001:db8:100::1/128", 6, 80, false, false), 0);
    // In lb.h's order (vlib_validate_simple_counter per counter).
    assert_eq!(
        lb_entries(&mut sc),
        [
            "packet from existing sessions",
            "first session packet",
            "untracked packet",
            "no server configured"
        ]
    );
    assert!(sc.segment().unwrap().epoch() > epoch);
    for n in lb_entries(&mut sc) {
        assert_eq!(read(&mut sc, &n), vec![vec![0, 0]], "{n}");
    }
    assert_eq!(vip(&mut c, "2001:db8:100::2/128", 6, 80, false, false), 0);
    assert_eq!(vip(&mut c, "2001:db8:100::2/128", 6, 80, false, true), 0);
    assert_eq!(vip(&mut c, "2001:db8:100::3/128", 6, 80, false, false), 0);
    assert_eq!(read(&mut sc, "first session packet"), vec![vec![0; 4]]);
    // Traffic to [3] (no AS) and to a port without VIP on [3]'s prefix (placeholder [0]).
    pg0(&ts);
    send(
        &ts,
        "a",
        2,
        "TCP: 2001:db8:ff::2 -> 2001:db8:100::3 TCP: 1234 -> 80",
    );
    send(
        &ts,
        "b",
        1,
        "TCP: 2001:db8:ff::2 -> 2001:db8:100::3 TCP: 1234 -> 81",
    );
    assert_eq!(
        read(&mut sc, "no server configured"),
        vec![vec![1, 0, 0, 2]]
    );
    assert_eq!(read(&mut sc, "first session packet"), vec![vec![0; 4]]);
    // Interface counters of the generated packets: /if/rx and /if/ip6 of pg0.
    let i = sc.interface_by_name("pg0").unwrap();
    assert_eq!(i.combined("rx").packets, 3);
    assert_eq!(i.combined("rx").bytes, 240);
    assert_eq!(i.simple("ip6"), 3);
}

/// node.c: the first packet of a flow is a new session on its new-flow-table bucket's AS,
/// the next ones existing sessions; each flow is one reference (`N flows`); an AS-less VIP
/// fills the flow's sticky bucket (4 entries) and then counts `untracked packet`.
#[test]
fn flows_first_existing_no_server_and_untracked() {
    let ts = TestSim::start(|_| {});
    let mut c = vip_with_three_ases(&ts);
    send(&ts, "f1", 3, FLOW1);
    let (n, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!(n, [2, 1, 0, 0]);
    // The recording's flow lands on ::2 (VPP's crc32c hash and Maglev table).
    assert_eq!(
        ases.iter().map(|a| a.flows).collect::<Vec<_>>(),
        vec![0, 1, 0]
    );
    // Ten more flows (source ports 2000-2009).
    send(
        &ts,
        "f10",
        10,
        "TCP: 2001:db8:ff::2 -> 2001:db8:100::1 TCP: 2000-2009 -> 80",
    );
    let (n, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!(n, [2, 11, 0, 0]);
    assert_eq!(total_flows(&ases), 11);
    // A second run of the same stream: the same ten flows, existing now.
    ok(&ts, "packet-generator enable f10");
    assert_eq!(show_vip(&ts, 1).unwrap().0, [12, 11, 0, 0]);
    // An AS-less VIP: 4 entries taken by the one flow, then untracked.
    assert_eq!(vip(&mut c, "2001:db8:100::9/128", 6, 80, false, false), 0);
    send(
        &ts,
        "f9",
        6,
        "TCP: 2001:db8:ff::2 -> 2001:db8:100::9 TCP: 1234 -> 80",
    );
    assert_eq!(show_vip(&ts, 2).unwrap().0, [0, 0, 2, 4]);
    // The per-core sticky table shows in `show lb`: 11 + 4 entries, lb_hash_size = 1023 + 4.
    let (_, s) = ts.sim().cli("show lb");
    assert!(
        s.ends_with(" #vips: 3\n #ass: 3\ncore 0\n  timeout: 40s\n  usage: 15 / 1027\n"),
        "{s}"
    );
}

/// Entries expire after `flow_timeout` without traffic: the flow is new again; the expired
/// entry's reference moves only when its slot is reused.
#[test]
fn sticky_entries_expire_after_the_flow_timeout() {
    let ts = TestSim::start(|_| {});
    let _c = vip_with_three_ases(&ts);
    send(&ts, "f1", 1, FLOW1);
    ts.sim().advance_clock(Duration::from_secs(30));
    ok(&ts, "packet-generator enable f1");
    assert_eq!(show_vip(&ts, 1).unwrap().0, [1, 1, 0, 0]);
    // 41 s after the last packet: expired (not counted in `usage`), still referenced.
    ts.sim().advance_clock(Duration::from_secs(41));
    assert!(ts.sim().cli("show lb").1.ends_with("usage: 0 / 1027\n"));
    assert_eq!(total_flows(&show_vip(&ts, 1).unwrap().1), 1);
    ok(&ts, "packet-generator enable f1");
    let (n, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!(n, [1, 2, 0, 0]);
    assert_eq!(total_flows(&ases), 1, "the slot was reused");
}

/// lb.c: a soft-deleted AS keeps its flows (existing sessions go on to it); deleted with
/// is_flush its entries are evicted and the flow is new, on another AS; `lb_flush_vip`
/// evicts every entry of the VIP.
#[test]
fn flush_makes_flows_new_soft_delete_keeps_them() {
    let ts = TestSim::start(|_| {});
    let mut c = vip_with_three_ases(&ts);
    send(&ts, "f1", 1, FLOW1);
    let (_, ases) = show_vip(&ts, 1).unwrap();
    let on = ases.iter().find(|a| a.flows == 1).unwrap().addr.clone();
    assert_eq!(as_(&mut c, "2001:db8:100::1/128", 80, &on, true, false), 0);
    ok(&ts, "packet-generator enable f1");
    let (n, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!(n, [1, 1, 0, 0], "still an existing session");
    let removed = ases.iter().find(|a| a.addr == on).unwrap();
    assert_eq!(
        (removed.flows, removed.used, removed.buckets),
        (1, false, 0)
    );
    // Deleting it again with flush evicts the entry: the flow is new, on a used AS.
    assert_eq!(as_(&mut c, "2001:db8:100::1/128", 80, &on, true, true), 0);
    assert_eq!(total_flows(&show_vip(&ts, 1).unwrap().1), 0);
    ok(&ts, "packet-generator enable f1");
    let (n, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!(n, [1, 2, 0, 0]);
    let now_on = ases.iter().find(|a| a.flows == 1).unwrap();
    assert!(now_on.used && now_on.addr != on);
    // lb_flush_vip: all of the VIP's entries.
    let r = call(
        &mut c,
        &LbFlushVip {
            pfx: pfx("2001:db8:100::1/128"),
            protocol: 6,
            port: 80,
        },
    );
    assert_eq!(r.retval, 0);
    assert_eq!(total_flows(&show_vip(&ts, 1).unwrap().1), 0);
    ok(&ts, "packet-generator enable f1");
    assert_eq!(show_vip(&ts, 1).unwrap().0, [1, 3, 0, 0]);
    // The CLI's `lb flush vip` says which VIP it flushed.
    assert_eq!(
        ts.sim()
            .cli("lb flush vip 2001:db8:100::1/128 protocol tcp port 80"),
        (0, "lb_flush_vip ok 1\n".to_string())
    );
    assert_eq!(total_flows(&show_vip(&ts, 1).unwrap().1), 0);
}

/// IPv4 (+96) VIPs: per-port UDP and TCP VIPs on one prefix, ip4-input streams with both
/// protocols; another port on the prefix hits the placeholder VIP 0; the honest-/32 VIP
/// (`ip6-gre4 ::/32`) is IPv6 and never sees IPv4 traffic; an interface without an IPv4
/// address drops.
#[test]
fn ipv4_vips_with_udp_and_tcp_streams() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("lb");
    let udp = call(
        &mut c,
        &LbAddDelVipV2 {
            pfx: pfx("192.0.2.1/32"),
            protocol: 17,
            port: 53,
            encap: LbEncapType(0),
            dscp: 0,
            r#type: LbSrvType(0),
            target_port: 0,
            node_port: 0,
            new_flows_table_length: 1024,
            src_ip_sticky: false,
            is_del: false,
        },
    );
    assert_eq!(udp.retval, 0);
    assert_eq!(vip(&mut c, "192.0.2.1/32", 6, 80, false, false), 0);
    // The honest /32: `::/32`, IPv6.
    let honest = LbAddDelVipV2 {
        pfx: AddressWithPrefix(Prefix {
            address: addr("192.0.2.7"),
            len: 32,
        }),
        protocol: 6,
        port: 80,
        encap: LbEncapType(0),
        dscp: 0,
        r#type: LbSrvType(0),
        target_port: 0,
        node_port: 0,
        new_flows_table_length: 1024,
        src_ip_sticky: false,
        is_del: false,
    };
    assert_eq!(call(&mut c, &honest).retval, 0);
    let add_as = |c: &mut Raw, protocol: u8, port: u16, a: &str| {
        call(
            c,
            &LbAddDelAs {
                pfx: pfx("192.0.2.1/32"),
                protocol,
                port,
                as_address: addr(a),
                is_del: false,
                is_flush: false,
            },
        )
        .retval
    };
    assert_eq!(add_as(&mut c, 17, 53, "10.0.0.1"), 0);
    assert_eq!(add_as(&mut c, 6, 80, "10.0.0.2"), 0);
    ok(&ts, "create packet-generator interface pg0");
    ok(&ts, "set interface state pg0 up");
    // No IPv4 address on pg0 yet: ip4-not-enabled drops.
    send(
        &ts,
        "u",
        1,
        "UDP: 198.51.100.2 -> 192.0.2.1 UDP: 5000 -> 53",
    );
    assert_eq!(show_vip(&ts, 1).unwrap().0, [0; 4]);
    ok(&ts, "set interface ip address pg0 198.51.100.1/24");
    send(
        &ts,
        "u",
        2,
        "UDP: 198.51.100.2 -> 192.0.2.1 UDP: 5000 -> 53",
    );
    send(
        &ts,
        "t",
        3,
        "TCP: 198.51.100.2 -> 192.0.2.1 TCP: 5000-5002 -> 80",
    );
    send(
        &ts,
        "x",
        1,
        "UDP: 198.51.100.2 -> 192.0.2.1 UDP: 5000 -> 54",
    );
    send(
        &ts,
        "y",
        1,
        "UDP: 198.51.100.2 -> 192.0.2.9 UDP: 5000 -> 53",
    );
    let (n, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!(n, [1, 1, 0, 0]);
    assert_eq!(ases[0].flows, 1);
    let (n, ases) = show_vip(&ts, 2).unwrap();
    assert_eq!(n, [0, 3, 0, 0]);
    assert_eq!(ases[0].flows, 3);
    assert_eq!(show_vip(&ts, 3).unwrap().0, [0; 4], "::/32 is IPv6");
    let counters = ts.sim().with_model(|m| m.lb.counters(0));
    assert_eq!(counters, [0, 0, 0, 1], "port 54: the placeholder VIP");
}

/// `src_ip_sticky`: the hash leaves the ports out: every source port is one flow.
#[test]
fn src_ip_sticky_vips_hash_addresses_only() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("lb");
    assert_eq!(vip(&mut c, "2001:db8:100::5/128", 6, 80, true, false), 0);
    assert_eq!(
        as_(
            &mut c,
            "2001:db8:100::5/128",
            80,
            "2001:db8:1::1",
            false,
            false
        ),
        0
    );
    pg0(&ts);
    send(
        &ts,
        "s",
        5,
        "TCP: 2001:db8:ff::2 -> 2001:db8:100::5 TCP: 1000-1004 -> 80",
    );
    assert_eq!(show_vip(&ts, 1).unwrap().0, [4, 1, 0, 0]);
}

/// lb.c GC: a removed AS without flows is freed by the first collection more than 60 s after
/// the VIP's last one (here its creation) and more than 10 s after its delete; the CLI's
/// `lb conf` runs it.
#[test]
fn gc_frees_removed_ases_after_the_timeouts() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("lb");
    assert_eq!(vip(&mut c, "2001:db8:100::1/128", 6, 80, false, false), 0);
    for a in ["2001:db8:1::1", "2001:db8:1::2"] {
        assert_eq!(as_(&mut c, "2001:db8:100::1/128", 80, a, false, false), 0);
    }
    assert_eq!(
        as_(
            &mut c,
            "2001:db8:100::1/128",
            80,
            "2001:db8:1::2",
            true,
            false
        ),
        0
    );
    ts.sim().advance_clock(Duration::from_secs(30));
    ok(&ts, "lb conf timeout 40");
    assert_eq!(
        as_dump(&mut c).len(),
        2,
        "30 s: the VIP's collection is not due"
    );
    ts.sim().advance_clock(Duration::from_secs(31));
    ok(&ts, "lb conf timeout 40");
    let d = as_dump(&mut c);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].app_srv, addr("2001:db8:1::1"));
    let (_, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!(ases.len(), 1);
    assert!(ts.sim().cli("show lb").1.ends_with(" #vips: 2\n #ass: 1\n"));
    // The freed AS slot is reused by the next new AS.
    assert_eq!(
        as_(
            &mut c,
            "2001:db8:100::1/128",
            80,
            "2001:db8:1::7",
            false,
            false
        ),
        0
    );
    assert_eq!(as_dump(&mut c).len(), 2);
}

/// A removed AS with a sticky entry is not freed, even after the entry expired (the
/// reference goes only when the slot is reused or flushed); after a flush, the next
/// collection (60 s after the previous one) frees it.
#[test]
fn gc_keeps_ases_that_flows_point_at() {
    let ts = TestSim::start(|_| {});
    let mut c = vip_with_three_ases(&ts);
    send(&ts, "f1", 1, FLOW1);
    assert_eq!(
        as_(
            &mut c,
            "2001:db8:100::1/128",
            80,
            "2001:db8:1::2",
            true,
            false
        ),
        0
    );
    ts.sim().advance_clock(Duration::from_secs(100));
    ok(&ts, "lb conf timeout 40");
    assert_eq!(as_dump(&mut c).len(), 3, "::2 has a flow");
    let r = call(
        &mut c,
        &LbFlushVip {
            pfx: pfx("2001:db8:100::1/128"),
            protocol: 6,
            port: 80,
        },
    );
    assert_eq!(r.retval, 0);
    ok(&ts, "lb conf timeout 40");
    assert_eq!(as_dump(&mut c).len(), 3, "the VIP's collection ran 0 s ago");
    ts.sim().advance_clock(Duration::from_secs(61));
    ok(&ts, "lb conf timeout 40");
    assert_eq!(as_dump(&mut c).len(), 2);
}

/// A deleted VIP is freed only by the CLI's global collection, once its ASes are freed:
/// AS add/delete through the API collects only its own VIP. The freed pool index is reused
/// by the next VIP, with zeroed counters.
#[test]
fn gc_frees_deleted_vips_only_from_the_cli() {
    let ts = TestSim::start(|_| {});
    let mut c = vip_with_three_ases(&ts);
    send(&ts, "f1", 3, FLOW1);
    assert_eq!(vip(&mut c, "2001:db8:200::1/128", 6, 80, false, false), 0);
    assert_eq!(vip(&mut c, "2001:db8:100::1/128", 6, 80, false, true), 0);
    assert!(show_vip(&ts, 1).is_some());
    ts.sim().advance_clock(Duration::from_secs(1000));
    // API: AS add/delete on VIP [2] collects [2] only.
    assert_eq!(
        as_(
            &mut c,
            "2001:db8:200::1/128",
            80,
            "2001:db8:2::1",
            false,
            false
        ),
        0
    );
    assert_eq!(
        as_(
            &mut c,
            "2001:db8:200::1/128",
            80,
            "2001:db8:2::1",
            true,
            false
        ),
        0
    );
    assert_eq!(vip_dump(&mut c).len(), 2);
    // The CLI's collection: [1]'s ASes are kept by the flow's entry...
    ok(&ts, "lb conf timeout 40");
    assert_eq!(vip_dump(&mut c).len(), 2);
    // ...until it is flushed (`test lb flowtable flush`: everything) and 60 s passed.
    ok(&ts, "test lb flowtable flush");
    ts.sim().advance_clock(Duration::from_secs(61));
    let (rv, out) = ts
        .sim()
        .cli("lb vip 2001:db8:300::1/128 protocol tcp port 80 encap gre6");
    assert_eq!(rv, 0);
    // The collection ran first and freed [1]: the new VIP takes index 1.
    assert_eq!(out, "lb_vip_add ok 1\n");
    let (n, ases) = show_vip(&ts, 1).unwrap();
    assert_eq!((n, ases.len()), ([0; 4], 0), "counters zeroed on reuse");
    let d = vip_dump(&mut c);
    assert_eq!(d.len(), 2);
    // [2]'s removed AS went in the same collection (its VIP's last one was 61 s before).
    assert!(as_dump(&mut c).is_empty());
    assert!(ts.sim().cli("show lb").1.ends_with(" #vips: 3\n #ass: 0\n"));
}

/// `lb_conf` with 0 sticky buckets is accepted (is_pow2(0)); traffic then uses VPP's mask
/// ~0 (`usage: n / 3`); a size change recreates the table, dereferencing every entry.
#[test]
fn sticky_table_size_changes() {
    let ts = TestSim::start(|_| {});
    let mut c = vip_with_three_ases(&ts);
    send(&ts, "f1", 1, FLOW1);
    assert_eq!(total_flows(&show_vip(&ts, 1).unwrap().1), 1);
    assert_eq!(conf(&mut c, 2048, 40), 0);
    assert_eq!(
        total_flows(&show_vip(&ts, 1).unwrap().1),
        1,
        "not before traffic"
    );
    send(
        &ts,
        "f2",
        1,
        "TCP: 2001:db8:ff::3 -> 2001:db8:100::1 TCP: 1234 -> 80",
    );
    assert_eq!(
        total_flows(&show_vip(&ts, 1).unwrap().1),
        1,
        "f1's entry dropped"
    );
    assert!(ts.sim().cli("show lb").1.ends_with("usage: 1 / 2051\n"));
    assert_eq!(conf(&mut c, 0, 40), 0);
    ok(&ts, "packet-generator enable f1");
    assert!(ts.sim().cli("show lb").1.ends_with("usage: 1 / 3\n"));
    assert_eq!(conf(&mut c, 1000, 40), -70);
}

/// The `lb` CLI (cli.c): outputs and error texts, retval -1 on errors (vlib_cli_input).
#[test]
fn lb_cli_commands_and_errors() {
    let ts = TestSim::start(|_| {});
    let cli = |cmd: &str| ts.sim().cli(cmd);
    let err = |s: &str| (-1, format!("{s}\n"));
    assert_eq!(cli("lb vip"), (0, String::new()));
    assert_eq!(cli("lb vip foo"), err("lb vip: invalid vip prefix: 'foo'"));
    assert_eq!(
        cli("lb vip 2001:db8::1/128 bogus 1"),
        err("lb vip: parse error: 'bogus 1'")
    );
    assert_eq!(
        cli("lb vip 2001:db8::1/128 dscp 3"),
        err("lb vip: lb_vip_add error: should not configure dscp for none L3DSR.")
    );
    assert_eq!(
        cli("lb vip 2001:db8::1/128 encap nat4"),
        err("lb vip: currently does not support NAT64")
    );
    assert_eq!(
        cli("lb vip 2001:db8::1/128 encap gre6 new_len 1000"),
        err("lb vip: lb_vip_add error -70")
    );
    assert_eq!(
        cli("lb vip 2001:db8::1/128 protocol udp port 53 encap gre6"),
        (0, "lb_vip_add ok 1\n".into())
    );
    assert_eq!(
        cli("lb vip 2001:db8::1/128 protocol udp port 53 encap gre6"),
        err("lb vip: lb_vip_add error -81")
    );
    assert_eq!(
        cli("lb vip 10.1.0.0/16 encap l3dsr dscp 10"),
        (0, "lb_vip_add ok 2\n".into())
    );
    assert_eq!(
        cli("lb as 2001:db8::1/128 2001:db8:1::1"),
        err("lb as: lb_vip_find_index error -6")
    );
    assert_eq!(
        cli("lb as 2001:db8::1/128 protocol udp port 53"),
        err("lb as: No AS address provided")
    );
    assert_eq!(
        cli("lb as 2001:db8::1/128 protocol udp port 53 10.0.0.1"),
        err("lb as: lb_vip_add_ass error -97")
    );
    // Several addresses at once; lb.c walks them from the last.
    assert_eq!(
        cli("lb as 2001:db8::1/128 protocol udp port 53 2001:db8:1::1 2001:db8:1::2"),
        (0, String::new())
    );
    assert_eq!(
        cli("lb as 2001:db8::1/128 protocol udp port 53 2001:db8:1::9 del"),
        err("lb as: lb_vip_del_ass error -6")
    );
    let (_, s) = cli("show lb vips verbose");
    let two = s.find("2001:db8:1::2 ").unwrap();
    let one = s.find("2001:db8:1::1 ").unwrap();
    assert!(two < one, "::2 took the first AS slot:\n{s}");
    assert!(s.contains(" ip4-l3dsr [2] 10.1.0.0/16\n  new_size:1024\n  dscp:10\n"));
    assert_eq!(
        cli("show lb vips"),
        (0, String::new()),
        "no line input: nothing"
    );
    assert_eq!(
        cli("show lb vips x").1,
        "ip6-gre6 2001:db8::1/128 new_size:1024 #as:2  protocol:17 port:53 \n\
         ip4-l3dsr 10.1.0.0/16 new_size:1024 #as:0  dscp:10\n"
    );
    assert_eq!(
        cli("lb conf buckets-log2 40"),
        err("lb conf: buckets-log2 value is too high")
    );
    assert_eq!(
        cli("lb conf buckets 1000"),
        err("lb conf: lb_conf error -70")
    );
    assert_eq!(
        cli("lb conf ip4-src-address 192.0.2.1 ip6-src-address 2001:db8::1 buckets-log2 11"),
        (0, String::new())
    );
    assert!(cli("show lb")
        .1
        .starts_with("lb_main ip4-src-address: 192.0.2.1 \n ip6-src-address: 2001:db8::1 \n"));
    assert_eq!(
        cli("lb vip 2001:db8::1/128 protocol udp port 53 del"),
        (0, String::new())
    );
    assert_eq!(
        cli("lb vip 2001:db8::1/128 protocol udp port 53 del"),
        err("lb vip: lb_vip_find_index error -6")
    );
    assert!(cli("show lb vips verbose")
        .1
        .contains(" ip6-gre6 [1] 2001:db8::1/128 removed\n"));
}

/// The packet generator's CLI (pg/cli.c) and `set interface ip address` (ip46_cli.c).
#[test]
fn pg_cli_commands_and_errors() {
    let ts = TestSim::start(|_| {});
    let cli = |cmd: &str| ts.sim().cli(cmd);
    let err = |s: &str| (-1, format!("{s}\n"));
    ok(&ts, "create packet-generator interface pg0");
    assert_eq!(
        cli("create packet-generator interface pgx"),
        err("create packet-generator interface: unknown input `pgx'")
    );
    assert_eq!(
        cli("set interface ip address pg7 2001:db8::1/64"),
        err("set interface ip address: unknown interface `pg7 2001:db8::1/64'")
    );
    assert_eq!(
        cli("set interface ip address pg0 2001:db8::1"),
        err("set interface ip address: expected IP4/IP6 address/length `2001:db8::1'")
    );
    ok(&ts, "set interface ip address pg0 2001:db8::1/64");
    ok(&ts, "create packet-generator interface pg1");
    assert_eq!(
        cli("set interface ip address pg1 2001:db8::2/64"),
        err(
            "set interface ip address: failed to add 2001:db8::2/64 which conflicts with \
             2001:db8::1/64 for interface pg0"
        )
    );
    assert_eq!(
        cli("set interface ip address del pg0 2001:db8::9/64"),
        err("set interface ip address: 2001:db8::9/64 not found for interface pg0")
    );
    ok(&ts, "set interface ip address del pg0 all");
    assert_eq!(
        cli("packet-generator new { name s1 limit 1 }"),
        err("packet-generator new: no packet data given")
    );
    assert_eq!(
        cli("packet-generator new { name s1 data { TCP: ::1 -> ::2 } }"),
        err("packet-generator new: output interface or node not given")
    );
    assert_eq!(
        cli("packet-generator new { name s1 node ip6-input data { TCP: 1.2.3.4 -> ::2 } }"),
        err("packet-generator new: failed to parse packet data from `TCP: 1.2.3.4 -> ::2'")
    );
    assert_eq!(
        cli("packet-generator new { name s1 node ip6-input wat data { TCP: ::1 -> ::2 } }"),
        err("packet-generator new: unknown input `wat data { TCP: ::1 -> ::2 }'")
    );
    assert_eq!(
        cli("packet-generator enable nosuch"),
        err("packet-generator enable-stream: unknown input `nosuch'")
    );
    assert_eq!(
        cli("packet-generator delete nosuch"),
        err("packet-generator delete: expected stream name `nosuch'")
    );
    // A stream without `interface` sends on its own pg interface (`pg-1`, created with it).
    ok(
        &ts,
        "packet-generator new { name s1 limit 1 node ip6-input data { TCP: ::1 -> ::2 } }",
    );
    let names: Vec<String> = ts
        .sim()
        .with_model(|m| m.ifaces().map(|i| i.name.clone()).collect());
    assert_eq!(names, ["local0", "pg0", "pg1", "pg-1"]);
    ok(&ts, "packet-generator enable");
    assert!(ts.sim().with_model(|m| m.ifaces().nth(3).unwrap().admin_up));
    ok(&ts, "packet-generator delete s1");
    assert_eq!(
        cli("packet-generator enable s1"),
        err("packet-generator enable-stream: unknown input `s1'")
    );
}

/// Whatever the CLI gets, the simulator answers (no panic) and keeps serving.
#[test]
fn cli_never_panics_on_bad_input() {
    let ts = TestSim::start(|_| {});
    let words = [
        "lb",
        "vip",
        "as",
        "conf",
        "flush",
        "packet-generator",
        "new",
        "enable",
        "{",
        "}",
        "data",
        "TCP:",
        "UDP:",
        "->",
        "-",
        "+",
        "1-",
        "::1",
        "10.0.0.1",
        "2001:db8::/64",
        "1.2.3.4/33",
        "port",
        "protocol",
        "tcp",
        "del",
        "flush",
        "limit",
        "size",
        "1-2",
        "interface",
        "pg0",
        "node",
        "ip6-input",
        "ip4-input",
        "name",
        "x",
        "new_len",
        "0",
        "buckets",
        "-1",
        "set",
        "ip",
        "address",
        "all",
        "show",
        "verbose",
        "encap",
        "nat6",
        "dscp",
        "99",
        "\t",
        "é",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    ok(&ts, "create packet-generator interface pg0");
    ok(&ts, "set interface ip address pg0 ::a/64");
    let starts = [
        "lb vip",
        "lb as",
        "lb conf",
        "lb flush vip",
        "packet-generator new {",
        "packet-generator new { name z limit 2 node ip6-input interface pg0 data { TCP:",
        "packet-generator enable",
        "set interface ip address",
        "show lb vips",
    ];
    for _ in 0..3000 {
        let mut cmd = starts[(rnd() % starts.len() as u64) as usize].to_string();
        for _ in 0..(rnd() % 8) {
            cmd.push(' ');
            cmd.push_str(words[(rnd() % words.len() as u64) as usize]);
        }
        let (rv, out) = ts.sim().cli(&cmd);
        assert!(rv == 0 || rv == -1 || rv == -9, "{cmd}: {rv}");
        assert!(rv == 0 || out.ends_with('\n'), "{cmd}: {out:?}");
    }
    let mut c = ts.client();
    c.handshake("after");
    assert_eq!(rv(&c.call("control_ping", 1, &[])), 0);
}
