//! Behaviours checked against VPP 26.06's handlers (each test names the source it follows),
//! through the API with the typed bindings.

mod common;

use common::*;
use vpp_sim::table::MessageTable;
use vppapi_binapi::l2::*;
use vppapi_codec::net::{InterfaceIndex, MacAddress};
use vppapi_codec::{decode_message, encode_message, message_len, Message, Request};

/// Sends `req` and decodes the next frame as its reply.
fn call<M: Request>(c: &mut Raw, req: &M) -> M::Reply {
    let id = MessageTable::vpp_26_06().id_of::<M>().unwrap();
    let mut b = vec![0u8; message_len(req)];
    let ci: [u8; 4] = c.index;
    let n = encode_message(req, id, ci, 7, &mut b).unwrap();
    b.truncate(n);
    c.send(&b);
    let f = c.recv().unwrap();
    decode_message::<M::Reply>(&f[16..]).unwrap().1
}

/// A dump's details (ended with a control_ping).
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

fn bd_add(c: &mut Raw, bd_id: u32, is_add: bool) -> i32 {
    call(
        c,
        &BridgeDomainAddDelV2 {
            bd_id,
            flood: true,
            forward: true,
            learn: true,
            is_add,
            ..Default::default()
        },
    )
    .retval
}

fn bridge(c: &mut Raw, sw: u32, bd_id: u32, bvi: bool, enable: bool) -> i32 {
    call(
        c,
        &SwInterfaceSetL2Bridge {
            rx_sw_if_index: InterfaceIndex(sw),
            bd_id,
            port_type: L2PortType(u32::from(bvi)),
            shg: 0,
            enable,
        },
    )
    .retval
}

fn members(c: &mut Raw, bd_id: u32) -> Vec<u32> {
    let d: Vec<BridgeDomainDetails> = dump(
        c,
        &BridgeDomainDump {
            bd_id,
            sw_if_index: InterfaceIndex::NONE,
        },
    );
    d.first()
        .map(|d| d.sw_if_details.iter().map(|m| m.sw_if_index.0).collect())
        .unwrap_or_default()
}

/// l2_bd.c bd_add_member (BVI first; normal, then tunnels, then no-flood loopbacks) and
/// bd_remove_member (vec_delete: the others keep their order), as
/// l2_api.c send_bridge_domain_details walks `members`.
#[test]
fn bridge_domain_members_in_flood_vector_order() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    assert_eq!(bd_add(&mut c, 10, true), 0);
    ts.sim().with_model(|m| {
        m.add_loopbacks_up_to(3); // loop1..loop3: NO_FLOOD
        m.create_pg(0); // sw 4: NORMAL
        m.create_pg(1); // sw 5: NORMAL
    });
    assert_eq!(bridge(&mut c, 1, 10, false, true), 0);
    assert_eq!(bridge(&mut c, 4, 10, false, true), 0);
    assert_eq!(bridge(&mut c, 2, 10, true, true), 0); // the BVI
    assert_eq!(bridge(&mut c, 5, 10, false, true), 0);
    assert_eq!(bridge(&mut c, 3, 10, false, true), 0);
    assert_eq!(members(&mut c, 10), [2, 4, 5, 1, 3]);
    assert_eq!(bridge(&mut c, 4, 10, false, false), 0);
    assert_eq!(members(&mut c, 10), [2, 5, 1, 3], "order kept on removal");
    // A former BVI is NO_FLOOD (set_int_l2_mode): back as a normal port it goes last.
    assert_eq!(bridge(&mut c, 2, 10, false, true), 0);
    assert_eq!(members(&mut c, 10), [5, 1, 3, 2]);
    // bridge_domain_dump with a sw_if_index filter is "UNIMPLEMENTED": no details.
    let d: Vec<BridgeDomainDetails> = dump(
        &mut c,
        &BridgeDomainDump {
            bd_id: 10,
            sw_if_index: InterfaceIndex(5),
        },
    );
    assert!(d.is_empty());
}

/// Bridge domain 0 (the default, index 0): l2_bd.c bd_add_del (add finds it: -119; delete
/// index 0: -121 BD_NOT_MODIFIABLE), l2_api.c bridge_flags and bridge_domain_set_mac_age (-121),
/// bridge_domain_dump (bd 0: nothing; ~0 skips the placeholder), set_l2_bridge into bd 0
/// (bd_find_or_add_bd_index finds it: 0), l2fib_add_del on bd 0 (the BD exists: 0).
#[test]
fn bridge_domain_zero() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    assert_eq!(bd_add(&mut c, 0, true), -119);
    assert_eq!(bd_add(&mut c, 0, false), -121);
    let f = call(
        &mut c,
        &BridgeFlags {
            bd_id: 0,
            is_set: true,
            flags: BdFlags(1),
        },
    );
    assert_eq!((f.retval, f.resulting_feature_bitmap), (-121, 0));
    let a = call(
        &mut c,
        &BridgeDomainSetMacAge {
            bd_id: 0,
            mac_age: 5,
        },
    );
    assert_eq!(a.retval, -121);
    ts.sim().with_model(|m| m.add_loopbacks_up_to(1));
    assert_eq!(bridge(&mut c, 1, 0, false, true), 0);
    let add = call(
        &mut c,
        &L2fibAddDel {
            mac: MacAddress([2, 0, 0, 0, 0, 9]),
            bd_id: 0,
            sw_if_index: InterfaceIndex(1),
            is_add: true,
            static_mac: true,
            ..Default::default()
        },
    );
    assert_eq!(add.retval, 0);
    let all: Vec<BridgeDomainDetails> = dump(
        &mut c,
        &BridgeDomainDump {
            bd_id: u32::MAX,
            sw_if_index: InterfaceIndex::NONE,
        },
    );
    assert!(all.is_empty(), "BD 0 is never dumped");
    assert!(members(&mut c, 0).is_empty());
}

/// l2_api.c vl_api_l2fib_add_del_t_handler: the interface must be in bridge mode (any BD,
/// not necessarily this one), else -2; l2_fib.c l2fib_del_entry: an absent MAC, or a
/// sw_if_index (non-zero) other than the entry's, is -6.
#[test]
fn l2fib_add_del_checks() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    assert_eq!(bd_add(&mut c, 10, true), 0);
    assert_eq!(bd_add(&mut c, 20, true), 0);
    ts.sim().with_model(|m| m.add_loopbacks_up_to(2));
    assert_eq!(bridge(&mut c, 1, 20, false, true), 0);
    let fib = |sw: u32, is_add: bool| L2fibAddDel {
        mac: MacAddress([2, 0xaa, 0, 0, 0, 1]),
        bd_id: 10,
        sw_if_index: InterfaceIndex(sw),
        is_add,
        static_mac: true,
        ..Default::default()
    };
    assert_eq!(
        call(&mut c, &fib(1, true)).retval,
        0,
        "member of another BD"
    );
    assert_eq!(call(&mut c, &fib(2, true)).retval, -2, "not bridged");
    assert_eq!(call(&mut c, &fib(2, false)).retval, -6, "other interface");
    assert_eq!(call(&mut c, &fib(0, false)).retval, 0, "sw_if_index 0: any");
    assert_eq!(call(&mut c, &fib(1, false)).retval, -6, "absent");
}

/// l2_fib.c l2fib_flush_int_mac / l2fib_flush_all_mac and l2_learn.c l2learn_process:
/// learned MACs go (reported as deletes), static ones stay; a static entry is not moved.
#[test]
fn learning_and_flushes() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    assert_eq!(bd_add(&mut c, 10, true), 0);
    let (p0, p1) = ts.sim().with_model(|m| (m.create_pg(0), m.create_pg(1)));
    assert_eq!(bridge(&mut c, p0, 10, false, true), 0);
    assert_eq!(bridge(&mut c, p1, 10, false, true), 0);
    let w = call(
        &mut c,
        &WantL2MacsEvents2 {
            max_macs_in_event: 1,
            enable_disable: true,
            pid: 99,
        },
    );
    assert_eq!(w.retval, 0);
    let a = [2, 1, 1, 1, 1, 1];
    let b = [2, 2, 2, 2, 2, 2];
    assert!(ts.sim().with_model(|m| m.learn_mac(p0, a)));
    assert!(ts.sim().with_model(|m| m.learn_mac(p0, b)));
    let ev = |c: &mut Raw| {
        let f = c.recv().unwrap();
        let (_, e, _) = decode_message::<L2MacsEvent>(&f[16..]).unwrap();
        assert_eq!(f.len(), 16 + 14 + 15 * 10, "sized for 10 entries");
        e.mac
            .iter()
            .map(|m| (m.sw_if_index.0, m.mac_addr.0, m.action.0))
            .collect::<Vec<_>>()
    };
    assert_eq!(ev(&mut c), [(p0, a, 0)]);
    assert_eq!(ev(&mut c), [(p0, b, 0)]);
    // A static entry for `a` replaces the learned one; learning does not move it.
    let add = call(
        &mut c,
        &L2fibAddDel {
            mac: MacAddress(a),
            bd_id: 10,
            sw_if_index: InterfaceIndex(p0),
            is_add: true,
            static_mac: true,
            ..Default::default()
        },
    );
    assert_eq!(add.retval, 0);
    assert!(!ts.sim().with_model(|m| m.learn_mac(p1, a)));
    assert!(ts.sim().with_model(|m| m.learn_mac(p1, b)));
    assert_eq!(ev(&mut c), [(p1, b, 2)], "move");
    let fl = call(
        &mut c,
        &L2fibFlushInt {
            sw_if_index: InterfaceIndex(p1),
        },
    );
    assert_eq!(fl.retval, 0);
    assert_eq!(ev(&mut c), [(p1, b, 1)], "delete");
    assert_eq!(call(&mut c, &L2fibFlushAll {}).retval, 0);
    let left: Vec<L2FibTableDetails> = dump(&mut c, &L2FibTableDump { bd_id: 10 });
    assert_eq!(left.len(), 1);
    assert!(left[0].static_mac);
    let missing = call(
        &mut c,
        &L2fibFlushInt {
            sw_if_index: InterfaceIndex(77),
        },
    );
    assert_eq!(missing.retval, -2);
}

/// arping_api.c vl_api_arping_t_handler (-2 unless ~0 or a valid interface; GARP 0, no
/// replies); ip_neighbor_api.c want_ip_neighbor_events_v2 (-2; duplicates and unwatching
/// nothing are 0, ip_neighbor_watch/_unwatch); lcp_api.c on a host without vhost-net.
#[test]
#[allow(deprecated)] // VPP 26.06 still serves lcp_itf_pair_add_del (v1) and _get.
fn arping_neighbor_watch_and_lcp() {
    use vppapi_binapi::arping::Arping;
    use vppapi_binapi::ip_neighbor::WantIpNeighborEventsV2;
    use vppapi_binapi::lcp::{LcpItfPairAddDel, LcpItfPairGet};
    use vppapi_codec::net::{Address, Ip4Address};
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    ts.sim().with_model(|m| m.add_loopbacks_up_to(1));
    let ip = Address::Ip4(Ip4Address([192, 0, 2, 1]));
    let arp = |sw: u32| Arping {
        address: ip,
        sw_if_index: InterfaceIndex(sw),
        is_garp: true,
        repeat: 1,
        interval: 1.0,
    };
    let r = call(&mut c, &arp(1));
    assert_eq!((r.retval, r.reply_count), (0, 0));
    assert_eq!(call(&mut c, &arp(9)).retval, -2);
    let w = |enable: bool, sw: u32| WantIpNeighborEventsV2 {
        enable,
        pid: 5,
        ip,
        sw_if_index: InterfaceIndex(sw),
    };
    assert_eq!(call(&mut c, &w(true, u32::MAX)).retval, 0);
    assert_eq!(call(&mut c, &w(true, u32::MAX)).retval, 0, "duplicate");
    assert_eq!(ts.sim().with_model(|m| m.ip_neighbor_watchers().len()), 1);
    assert_eq!(call(&mut c, &w(true, 9)).retval, -2);
    assert_eq!(call(&mut c, &w(false, u32::MAX)).retval, 0);
    assert_eq!(
        call(&mut c, &w(false, u32::MAX)).retval,
        0,
        "nothing to unwatch"
    );
    assert_eq!(ts.sim().with_model(|m| m.ip_neighbor_watchers().len()), 0);
    let pair = |is_add: bool, sw: u32, name: &str| LcpItfPairAddDel {
        is_add,
        sw_if_index: InterfaceIndex(sw),
        host_if_name: name.into(),
        ..Default::default()
    };
    assert_eq!(
        call(&mut c, &pair(true, 1, "tap-1")).retval,
        -11,
        "no vhost-net"
    );
    assert_eq!(call(&mut c, &pair(true, 1, "bad name")).retval, -73);
    assert_eq!(call(&mut c, &pair(true, 9, "x")).retval, -2);
    assert_eq!(call(&mut c, &pair(false, 1, "")).retval, -2, "no pair");
    let g = call(&mut c, &LcpItfPairGet { cursor: 0 });
    assert_eq!((g.retval, g.cursor), (0, 0));
}

/// lb.c `lb_vip_update_new_flow_table`: the extra buckets go to the ASes first in the table's
/// sort by address (memcmp of the ip46), whatever order they were added in; 2001:db8:1::1..3
/// at 1024 give 342/341/341 (as `lb_lifecycle.jsonl`'s `show lb vips verbose` shows), and the
/// counts are those of the real Maglev fill.
#[test]
fn lb_buckets_follow_the_maglev_fill() {
    use vppapi_binapi::lb::{LbAddDelAs, LbAddDelVipV2, LbConf};
    use vppapi_binapi::lb_types::LbEncapType;
    use vppapi_binapi::vlib::CliInband;
    use vppapi_codec::net::{Address, AddressWithPrefix, Prefix};
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    let conf = call(
        &mut c,
        &LbConf {
            ip4_src_address: "192.0.2.254".parse::<std::net::Ipv4Addr>().unwrap().into(),
            ip6_src_address: "2001:db8::fe".parse::<std::net::Ipv6Addr>().unwrap().into(),
            ..Default::default()
        },
    );
    assert_eq!(conf.retval, 0);
    let vip = AddressWithPrefix(Prefix::new(
        "2001:db8:100::1".parse::<std::net::Ipv6Addr>().unwrap(),
        128,
    ));
    let r = call(
        &mut c,
        &LbAddDelVipV2 {
            pfx: vip,
            encap: LbEncapType::LB_API_ENCAP_TYPE_GRE6,
            ..Default::default()
        },
    );
    assert_eq!(r.retval, 0);
    let add_as = |c: &mut Raw, a: &str, is_del: bool| {
        let r = call(
            c,
            &LbAddDelAs {
                pfx: vip,
                as_address: Address::from(a.parse::<std::net::Ipv6Addr>().unwrap()),
                is_del,
                ..Default::default()
            },
        );
        assert_eq!(r.retval, 0, "{a}");
    };
    // Added out of address order: ::3 first.
    for a in ["2001:db8:1::3", "2001:db8:1::1", "2001:db8:1::2"] {
        add_as(&mut c, a, false);
    }
    let show = |c: &mut Raw| {
        call(
            c,
            &CliInband {
                cmd: "show lb vips verbose".into(),
            },
        )
        .reply
    };
    let buckets = |out: &str, a: &str| -> u32 {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{a} ")))
            .unwrap_or_else(|| panic!("{a} not in {out}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let out = show(&mut c);
    assert_eq!(buckets(&out, "2001:db8:1::1"), 342, "{out}");
    assert_eq!(buckets(&out, "2001:db8:1::2"), 341, "{out}");
    assert_eq!(buckets(&out, "2001:db8:1::3"), 341, "{out}");
    // Soft delete of ::3: 512/512, ::3 keeps its line with 0 buckets.
    add_as(&mut c, "2001:db8:1::3", true);
    let out = show(&mut c);
    assert_eq!(buckets(&out, "2001:db8:1::1"), 512, "{out}");
    assert_eq!(buckets(&out, "2001:db8:1::2"), 512, "{out}");
    assert_eq!(buckets(&out, "2001:db8:1::3"), 0, "{out}");
}
