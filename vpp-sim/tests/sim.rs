//! Protocol, model and fault tests against the simulator (no shared data needed).

mod common;

use std::time::{Duration, Instant};

use common::*;
use vpp_sim::table::MessageTable;
use vppapi_codec::MessageKind;

fn create_loopback(c: &mut Raw, ctx: u32) -> u32 {
    let r = c.call("create_loopback", ctx, &[0; 6]);
    assert_eq!(rv(&r), 0);
    be32(&r, 10)
}

fn ping(c: &mut Raw, ctx: u32) -> Vec<u8> {
    c.call("control_ping", ctx, &[])
}

#[test]
fn handshake_table_and_ping() {
    let ts = TestSim::start(|c| c.vpe_pid = Some(4242));
    let mut c = ts.client();
    let r = c.handshake("t");
    let cat = MessageTable::vpp_26_06();
    assert_eq!(&r[..2], &[0, 16]);
    assert_eq!(&r[6..10], &[0, 0, 0, 1], "context echoed");
    assert_eq!(be32(&r, 14), 0x8000_0001, "first client gets pool index 1");
    let n = u16::from_be_bytes([r[18], r[19]]) as usize;
    assert_eq!(n, cat.len());
    assert!(n > 2000);
    // memclnt fixed IDs.
    for (i, name) in [
        (1, "memclnt_create"),
        (15, "sockclnt_create"),
        (23, "control_ping"),
        (28, "get_api_json_reply"),
    ] {
        assert_eq!(cat.info(i).unwrap().name, name);
    }
    let p = ping(&mut c, 0xdead_beef);
    assert_eq!(p.len(), 18);
    assert_eq!(be32(&p, 2), 0xdead_beef);
    assert_eq!(be32(&p, 14), 4242);
    assert_eq!(ts.sim().vpe_pid(), 4242);
}

#[test]
fn malformed_requests_get_no_reply() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    c.send(&[0x7f, 0xff, 0x80, 0, 0, 1, 0, 0, 0, 1]); // unknown id
    let mut trunc = c.req("sw_interface_set_flags", 2, &[0, 0]);
    trunc.truncate(12);
    c.send(&trunc);
    let mut bad = c.req("control_ping", 3, &[]);
    bad[2..6].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    c.send(&bad);
    let mut bad2 = c.req("control_ping", 4, &[]);
    bad2[2..6].copy_from_slice(&[0x80, 0, 0, 9]); // no such registration
    c.send(&bad2);
    c.send(&[0]); // no message id at all
    let reply_as_request = c.req("control_ping_reply", 5, &[0; 8]);
    c.send(&reply_as_request);
    let p = ping(&mut c, 6);
    assert_eq!(be32(&p, 2), 6, "only the last ping is answered");
}

#[test]
fn unmodelled_request_gets_unimplemented() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    let def = MessageTable::vpp_26_06()
        .info(id("ip_table_add_del"))
        .unwrap();
    let r = c.call("ip_table_add_del", 7, &vec![0; def.fixed_size - 10]);
    assert_eq!(
        u16::from_be_bytes([r[0], r[1]]),
        id("ip_table_add_del_reply")
    );
    assert_eq!(be32(&r, 2), 7);
    assert_eq!(rv(&r), -9);
    // An unmodelled dump sends no details: the ping reply comes next.
    let d = c.req("ip_table_dump", 8, &[]);
    c.send(&d);
    let p = ping(&mut c, 8);
    assert_eq!(u16::from_be_bytes([p[0], p[1]]), 24);
}

/// A request whose variable tail runs past the body fails to decode: no handler runs on
/// zero-filled fields and no reply is sent (VPP drops it in `calc_size`).
#[test]
fn truncated_variable_tails_get_no_reply() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    // cli_inband: the fixed part is complete, the command says 50 bytes, 3 follow.
    let mut cli = vec![0, 0, 0, 50];
    cli.extend_from_slice(b"sho");
    c.send(&c.req("cli_inband", 1, &cli));
    // sw_interface_dump: a name filter of 8 bytes, none sent.
    c.send(&c.req(
        "sw_interface_dump",
        2,
        &[0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 8],
    ));
    // bridge_domain_add_del_v2: one byte short of its fixed part.
    let mut bd = vec![0, 0, 0, 5, 1, 1, 1, 1, 0, 0, 0];
    bd.extend_from_slice(&[0; 64]);
    c.send(&c.req("bridge_domain_add_del_v2", 3, &bd));
    let p = ping(&mut c, 4);
    assert_eq!(be32(&p, 2), 4, "only the ping is answered");
    assert_eq!(
        ts.sim().with_model(|m| m.bds.len()),
        1,
        "no bridge domain made"
    );
}

/// `get_f64_*` (vlib) replies carry a `u32 retval`: still -9, never a zero "success".
#[test]
fn u32_retval_replies_say_unimplemented() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    for (name, reply) in [
        ("get_f64_endian_value", "get_f64_endian_value_reply"),
        ("get_f64_increment_by_one", "get_f64_increment_by_one_reply"),
    ] {
        let r = c.call(name, 5, &1.0f64.to_le_bytes());
        assert_eq!(u16::from_be_bytes([r[0], r[1]]), id(reply));
        assert_eq!(be32(&r, 2), 5);
        assert_eq!(rv(&r), -9);
        assert_eq!(r.len(), 18);
    }
}

#[test]
fn replies_go_to_the_registration_named_by_client_index() {
    let ts = TestSim::start(|_| {});
    let mut a = ts.client();
    a.handshake("a");
    let mut b = ts.client();
    b.handshake("b");
    assert_ne!(a.index, b.index);
    let mut req = a.req("control_ping", 11, &[]);
    req[2..6].copy_from_slice(&b.index);
    a.send(&req);
    let got = b.recv().unwrap();
    assert_eq!(be32(&got[16..], 2), 11);
    assert!(a.recv_timeout(Duration::from_millis(200)).is_none());
}

#[test]
fn sockclnt_delete_answers_one_and_closes() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    let idx = c.index;
    let r = c.call("sockclnt_delete", 9, &idx);
    assert_eq!(be32(&r, 6), 1);
    assert!(c.recv().is_none(), "connection closed");
    // The freed pool index is reused.
    let mut d = ts.client();
    d.handshake("u");
    assert_eq!(d.index, idx);
}

#[test]
fn interfaces_events_and_dump() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    let w = c.call("want_interface_events", 1, &[0, 0, 0, 1, 0, 0, 0, 7]);
    assert_eq!(rv(&w), 0);
    let sw = create_loopback(&mut c, 2);
    assert_eq!(sw, 1);
    // interface_api.c sw_interface_add_del_function: a new interface is an event (flags 0).
    let ev = c.recv().unwrap();
    assert_eq!(
        u16::from_be_bytes([ev[16], ev[17]]),
        id("sw_interface_event")
    );
    assert_eq!(be32(&ev[16..], 10), 1, "sw_if_index");
    assert_eq!(be32(&ev[16..], 14), 0, "created: flags 0");
    let mut rest = sw.to_be_bytes().to_vec();
    rest.extend_from_slice(&1u32.to_be_bytes());
    assert_eq!(rv(&c.call("sw_interface_set_flags", 3, &rest)), 0);
    let ev = c.recv().unwrap();
    assert_eq!(
        u16::from_be_bytes([ev[16], ev[17]]),
        id("sw_interface_event")
    );
    assert_eq!(&ev[16 + 2..16 + 6], &c.index);
    assert_eq!(be32(&ev[16..], 14), 3, "admin+link up");
    // Dump all: local0 and loop0 (de:ad:00:00:00:00), then the ping.
    let mut d = c.req("sw_interface_dump", 4, &[0xff, 0xff, 0xff, 0xff, 0]);
    d.extend_from_slice(&[0, 0, 0, 0]);
    c.send(&d);
    c.send(&c.req("control_ping", 4, &[]));
    let a = c.recv().unwrap();
    let b = c.recv().unwrap();
    assert_eq!(a.len(), 16 + 295);
    assert_eq!(&b[16 + 103..16 + 108], b"loop0");
    assert_eq!(&b[16 + 14..16 + 20], &[0xde, 0xad, 0, 0, 0, 0]);
    assert_eq!(u16::from_be_bytes([c.recv().unwrap()[16], 0]) >> 8, 0);
    // Delete: reply, then the deletion event.
    assert_eq!(rv(&c.call("delete_loopback", 5, &sw.to_be_bytes())), 0);
    let ev = c.recv().unwrap();
    assert_eq!(ev[16 + 18], 1, "deleted");
}

#[test]
fn fault_latency_and_drops() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    ts.sim().faults().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    ping(&mut c, 1);
    assert!(t.elapsed() >= Duration::from_millis(150));
    ts.sim().faults().clear();

    ts.sim().faults().drop_all_replies(true);
    c.send(&c.req("control_ping", 2, &[]));
    assert!(c.recv_timeout(Duration::from_millis(200)).is_none());
    ts.sim().faults().drop_all_replies(false);

    ts.sim().faults().drop_every_nth(2);
    for ctx in 10..14 {
        c.send(&c.req("control_ping", ctx, &[]));
    }
    let a = c.recv().unwrap();
    let b = c.recv().unwrap();
    assert_eq!((be32(&a[16..], 2), be32(&b[16..], 2)), (10, 12));
    assert!(c.recv_timeout(Duration::from_millis(200)).is_none());
    ts.sim().faults().clear();

    ts.sim().faults().drop_replies_to("show_version");
    c.send(&c.req("show_version", 20, &[]));
    c.send(&c.req("control_ping", 21, &[]));
    assert_eq!(be32(&c.recv().unwrap()[16..], 2), 21);
    ts.sim().faults().clear();
}

#[test]
fn fault_stop_reading_then_resume() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("t");
    ts.sim().faults().stop_reading();
    std::thread::sleep(Duration::from_millis(50));
    c.send(&c.req("control_ping", 1, &[]));
    assert!(c.recv_timeout(Duration::from_millis(300)).is_none());
    ts.sim().faults().resume_reading();
    assert_eq!(be32(&c.recv().unwrap()[16..], 2), 1);

    ts.sim().faults().read_slowly(Duration::from_millis(100));
    let t = Instant::now();
    c.send(&c.req("control_ping", 2, &[]));
    c.send(&c.req("control_ping", 3, &[]));
    c.recv().unwrap();
    c.recv().unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));
}

#[test]
fn fault_close_and_restart() {
    let ts = TestSim::start(|c| c.vpe_pid = Some(100));
    let mut c = ts.client();
    c.handshake("t");
    create_loopback(&mut c, 1);
    ts.sim().close_connections();
    assert!(c.recv().is_none(), "EOF after close");

    let mut c = ts.client();
    c.handshake("t");
    ts.rt.block_on(ts.sim().restart()).unwrap();
    assert!(c.recv().is_none(), "EOF after restart");
    let mut c = ts.client();
    c.handshake("t");
    assert_eq!(c.index, [0x80, 0, 0, 1]);
    assert_eq!(be32(&ping(&mut c, 2), 14), 101, "new vpe_pid");
    assert_eq!(
        ts.sim().with_model(|m| m.ifaces().count()),
        1,
        "state cleared"
    );
}

#[test]
fn stats_socket_follows_interfaces() {
    let ts = TestSim::start(|_| {});
    drop(ts);
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.sock");
    let ts = TestSim::start(|c| c.stats_socket = Some(stats.clone()));
    let mut c = ts.client();
    c.handshake("t");
    create_loopback(&mut c, 1);
    create_loopback(&mut c, 2);
    let mut sc = vppapi_stats::Client::connect(&stats).unwrap();
    let ic = sc.interface_counters().unwrap();
    assert_eq!(
        ic.names,
        vec![
            Some("local0".into()),
            Some("loop0".into()),
            Some("loop1".into())
        ]
    );
    assert!(ic.combined.iter().any(|(n, _)| *n == "rx"));
    match sc.read("/sys/boottime").unwrap() {
        vppapi_stats::StatValue::Scalar(t) => assert!(t > 1_600_000_000),
        v => panic!("boottime: {v:?}"),
    }
    ts.sim()
        .with_stats(|s| s.add_traffic("rx", 2, 5, 320))
        .unwrap();
    let i = sc.interface_by_name("loop1").unwrap();
    assert_eq!(i.combined("rx").packets, 5);
    assert_eq!(rv(&c.call("delete_loopback", 3, &1u32.to_be_bytes())), 0);
    let ic = sc.interface_counters().unwrap();
    assert_eq!(ic.names[1], None, "deleted interface's name cleared");
}

/// Every request of the table with random field bytes (valid id and client_index, lengths from
/// the fixed size up): the simulator answers or drops each, never dies, and still answers a ping.
#[test]
fn random_bodies_for_every_request_never_break_the_simulator() {
    let ts = TestSim::start(|_| {});
    let mut c = ts.client();
    c.handshake("fuzz");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let cat = MessageTable::vpp_26_06();
    let mut sent = 0;
    for round in 0..3 {
        for (id, d) in cat.iter() {
            if d.kind != MessageKind::Request
                || matches!(
                    d.name,
                    "sockclnt_delete" | "sockclnt_create" | "memclnt_delete"
                )
            {
                continue;
            }
            let len = d.fixed_size + (rnd() % 48) as usize;
            let mut b: Vec<u8> = (0..len.max(10)).map(|_| rnd() as u8).collect();
            b[..2].copy_from_slice(&id.to_be_bytes());
            if d.header.client_index_offset() == Some(2) {
                b[2..6].copy_from_slice(&c.index);
            }
            if round == 2 {
                // Short variable strings/arrays: counts near the real body length.
                let n = b.len();
                b[n - 4..].copy_from_slice(&[0, 0, 0, (rnd() % 8) as u8]);
            }
            c.send(&b);
            sent += 1;
        }
    }
    assert!(sent > 2000);
    // Drain until the ping's reply (events and replies of the random requests come first).
    let p = c.req("control_ping", 0x5eed_5eed, &[]);
    c.send(&p);
    loop {
        let f = c.recv().expect("simulator still answers");
        if u16::from_be_bytes([f[16], f[17]]) == 24 && be32(&f[16..], 2) == 0x5eed_5eed {
            break;
        }
    }
}
