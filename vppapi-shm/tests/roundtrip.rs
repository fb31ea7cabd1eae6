//! Both roles in one process over a real memfd, two mappings at different addresses (so every
//! address goes through the relocation), real threads.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{fixture_configs, ping};
use vppapi_shm::*;

const T: Duration = Duration::from_secs(2);
const INDEX: [u8; 4] = [0, 1, 0, 0];

fn pair(configs: &[RingConfig], size: u32) -> (ServerSegment, ClientSegment) {
    let (server, fd) =
        ServerSegment::create("roundtrip", size, configs, std::process::id()).expect("create");
    let client = ClientSegment::attach(fd, configs).expect("attach");
    assert_ne!(
        client.local_base(),
        server.vpp_base(),
        "the delta path must be exercised"
    );
    assert_eq!(client.vpp_base(), server.vpp_base());
    client.set_client_index(INDEX);
    server
        .check_client_queue(client.own_queue_addr())
        .expect("own queue valid for memclnt_create");
    (server, client)
}

fn q_of(server: &ServerSegment, body_addr: u64) -> u64 {
    u64::from_ne_bytes(
        server
            .read_vpp(body_addr - 16, 8)
            .unwrap()
            .try_into()
            .unwrap(),
    )
}

/// Drain the client and let the server consume what the client hands back.
fn drain(server: &ServerSegment, client: &ClientSegment) -> (usize, Vec<Recv>) {
    let mut out = BytesMut::new();
    let mut n = 0;
    let mut other = vec![];
    let mut req = vec![];
    loop {
        match client.try_recv_into(&mut out).expect("recv") {
            Recv::Empty => break,
            Recv::Message(_) => n += 1,
            r => other.push(r),
        }
        while let Some(r) = server.take_request(&mut req).expect("take") {
            server.free_request(&r);
        }
    }
    (n, other)
}

#[test]
fn request_and_reply_round_trip() {
    let (server, client) = pair(&fixture_configs(), 16 << 20);
    assert_eq!(client.vpp_pid(), std::process::id());
    assert!(client.vpp_alive());
    assert_eq!(client.max_request_body(), 4104);
    assert_eq!(client.client_slots(), 50);
    assert_eq!(client.own_queue_addr(), server.vpp_base() + 0x80);
    let mut req = vec![];
    let mut out = BytesMut::new();
    // 100 round trips: the 32-slot rings wrap three times.
    for ctx in 0..100u32 {
        let body = ping(23, INDEX, ctx);
        assert!(!server.input_pending());
        client.try_send(&body, T).expect("send");
        assert!(server.input_pending());
        let r = server
            .take_request(&mut req)
            .expect("take")
            .expect("a request");
        assert_eq!(req, body);
        assert!(r.ring);
        let (_, client_qs) = server.ring_queue_addrs();
        assert_eq!(
            q_of(&server, r.addr),
            client_qs[0],
            "request in CLIENT ring 0"
        );
        server.free_request(&r);
        assert_eq!(q_of(&server, r.addr), 0, "request slot freed");

        let mut reply = 24u16.to_be_bytes().to_vec();
        reply.extend_from_slice(&ctx.to_be_bytes());
        reply.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0x25, 0x46, 0, 0]);
        server
            .send_to(client.own_queue_addr(), &reply, T)
            .expect("reply");
        out.clear();
        assert_eq!(
            client.recv_into(&mut out, T).expect("recv"),
            Recv::Message(reply.len())
        );
        assert_eq!(&out[..], &reply[..]);
    }
    // every VLIB slot the replies used is free again
    let (vl, _) = server.ring_queue_addrs();
    for slot in 0..32u64 {
        let body = vl[0] + 120 + slot * 280 + 16;
        assert_eq!(q_of(&server, body), 0, "VLIB ring 0 slot {slot} freed");
    }
    let stats = server.ring_stats();
    assert_eq!(
        (stats[0].kind, stats[0].hits, stats[0].misses),
        (RingKind::Vlib, 100, 0)
    );
    assert_eq!(
        (stats[3].kind, stats[3].hits, stats[3].misses),
        (RingKind::Client, 100, 0)
    );
    assert_eq!(server.alloc_stats().heap_fallbacks, 0);
    let s = client.stats();
    assert_eq!((s.sent, s.received, s.heap_frees), (100, 100, 0));
    // nothing more
    assert_eq!(client.try_recv_into(&mut out).unwrap(), Recv::Empty);
    assert_eq!(
        client
            .recv_into(&mut out, Duration::from_millis(20))
            .unwrap(),
        Recv::Empty
    );
}

#[test]
fn heap_reply_is_freed_with_the_keepalive_reply_trick() {
    let (server, client) = pair(&fixture_configs(), 16 << 20);
    let mut req = vec![];
    let mut out = BytesMut::new();
    let big: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let mut reply = 24u16.to_be_bytes().to_vec();
    reply.extend_from_slice(&big);
    let used0 = server.heap_used();
    for i in 0..1000 {
        server
            .send_to(client.own_queue_addr(), &reply, T)
            .expect("send heap reply");
        assert_eq!(server.heap_outstanding(), 1);
        out.clear();
        assert_eq!(
            client.recv_into(&mut out, T).unwrap(),
            Recv::Message(reply.len())
        );
        assert_eq!(&out[..], &reply[..], "iteration {i}");
        let r = server
            .take_request(&mut req)
            .unwrap()
            .expect("the freed buffer came back");
        assert!(!r.ring, "heap buffer: q == 0");
        assert_eq!(&req[..2], &22u16.to_be_bytes(), "memclnt_keepalive_reply");
        assert_eq!(&req[2..6], &INDEX, "context = own shm index");
        assert_eq!(req.len(), reply.len(), "data_len untouched");
        server.free_request(&r);
        assert_eq!(server.heap_outstanding(), 0);
    }
    assert_eq!(
        server.heap_used(),
        used0,
        "no heap growth over 1000 heap replies"
    );
    assert_eq!(server.alloc_stats().heap_fallbacks, 1000);
    assert_eq!(client.stats().heap_frees, 1000);
    // a double free (the same buffer handed back twice) is refused
    server.send_to(client.own_queue_addr(), &reply, T).unwrap();
    out.clear();
    client.recv_into(&mut out, T).unwrap();
    let r = server.take_request(&mut req).unwrap().unwrap();
    server.free_request(&r);
    server
        .enqueue_raw(server.input_queue_addr(), r.addr, T)
        .ok();
    assert!(
        server.take_request(&mut req).is_err(),
        "second hand-back is not a live heap buffer"
    );
    assert_eq!(server.heap_outstanding(), 0);
}

#[test]
fn keepalive_is_answered_in_place() {
    let (server, client) = pair(&fixture_configs(), 16 << 20);
    let mut req = vec![];
    let mut out = BytesMut::new();
    let before = server.queue_state(client.own_queue_addr()).unwrap();
    assert!(server
        .send_keepalive(client.own_queue_addr(), INDEX)
        .unwrap());
    assert_eq!(client.recv_into(&mut out, T).unwrap(), Recv::Keepalive);
    assert!(out.is_empty());
    let after = server.queue_state(client.own_queue_addr()).unwrap();
    assert_eq!(
        after.head,
        before.head + 1,
        "head moved: VPP's liveness heuristic"
    );
    let r = server
        .take_request(&mut req)
        .unwrap()
        .expect("keepalive reply");
    assert!(
        r.ring,
        "the keepalive came from a CLIENT ring and goes back in it"
    );
    // spec 7: id 22, @2 = the old @6 context, @6 = retval 0
    let mut want = 22u16.to_be_bytes().to_vec();
    want.extend_from_slice(&INDEX);
    want.extend_from_slice(&[0; 4]);
    assert_eq!(req, want);
    server.free_request(&r);
    assert_eq!(q_of(&server, r.addr), 0);
    assert_eq!(client.stats().keepalives, 1);
    assert_eq!(server.ring_stats()[3].hits, 1);
}

#[test]
fn full_client_queue_times_out_and_a_drain_unblocks_the_server() {
    let (server, client) = pair(&fixture_configs(), 32 << 20);
    let server = Arc::new(server);
    let client = Arc::new(client);
    let q = client.own_queue_addr();
    let reply = ping(24, [0; 4], 7);
    for _ in 0..480 {
        server.send_to(q, &reply, T).expect("room in the queue");
    }
    assert_eq!(server.queue_state(q).unwrap().cursize, 480);
    let t0 = Instant::now();
    match server.send_to(q, &reply, Duration::from_millis(50)) {
        Err(ShmError::Timeout { what }) => assert!(what.contains("VPP would hang"), "{what}"),
        r => panic!("expected the 'VPP would hang' timeout, got {r:?}"),
    }
    assert!(t0.elapsed() < Duration::from_secs(1));
    // the failed add took its buffer back: 50 ring slots + 430 heap buffers outstanding
    assert_eq!(server.heap_outstanding(), 430);

    let s2 = Arc::clone(&server);
    let blocked = thread::spawn(move || s2.send_to(q, &reply, Duration::from_secs(10)));
    thread::sleep(Duration::from_millis(150));
    assert!(
        !blocked.is_finished(),
        "server must block while the client queue is full"
    );
    let mut out = BytesMut::new();
    assert!(matches!(
        client.recv_into(&mut out, T).unwrap(),
        Recv::Message(_)
    ));
    let t1 = Instant::now();
    blocked
        .join()
        .unwrap()
        .expect("the drain from full broadcast and unblocked the add");
    assert!(t1.elapsed() < Duration::from_secs(2));
    let (n, other) = drain(&server, &client);
    assert_eq!(n, 480);
    assert!(other.is_empty());
    assert_eq!(server.heap_outstanding(), 0);
}

#[test]
fn foreign_and_corrupt_elements_are_dropped() {
    let (server, client) = pair(&fixture_configs(), 16 << 20);
    let q = client.own_queue_addr();
    let s = server.vpp_base();
    let z = server.size();
    let mut out = BytesMut::new();
    // an event's address in VPP's main region, one past the end, one whose msgbuf starts before S
    for a in [0x1_3004_6650u64, s + z, s + z - 1, s + 8, 0, u64::MAX] {
        assert!(server.enqueue_raw(q, a, T).unwrap());
        assert_eq!(
            client.try_recv_into(&mut out).unwrap(),
            Recv::Foreign(a),
            "{a:#x}"
        );
    }
    assert_eq!(client.stats().foreign_dropped, 6);
    // msgbufs inside the segment with bad headers
    let msgbuf = |qv: u64, len: u32| {
        let mut b = qv.to_ne_bytes().to_vec();
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&[0, 21, 1, 2, 3, 4, 5, 6, 7, 8]);
        b
    };
    let (vl, _) = server.ring_queue_addrs();
    let cases = [
        msgbuf(0, 0),
        msgbuf(vl[0], 0),
        msgbuf(vl[0], 0x7fff_ffff),
        msgbuf(0, u32::MAX),
        msgbuf(0xdead_beef, 10),
        msgbuf(0, 3),
    ];
    for (i, b) in cases.iter().enumerate() {
        let a = server.heap_copy(b).unwrap();
        assert!(server.enqueue_raw(q, a + 16, T).unwrap());
        out.clear();
        let r = client.try_recv_into(&mut out).unwrap();
        assert!(matches!(r, Recv::Corrupt(_)), "case {i}: {r:?}");
        assert!(out.is_empty());
        assert_eq!(
            &server.read_vpp(a, b.len()).unwrap(),
            b,
            "case {i}: nothing written"
        );
        assert!(server.heap_free(a));
    }
    assert_eq!(client.stats().corrupt_dropped, cases.len() as u64);
    assert!(!server.input_pending(), "nothing was handed to VPP");
    // a misaligned address inside
    assert!(server.enqueue_raw(q, vl[0] + 120 + 16 + 3, T).unwrap());
    assert!(matches!(
        client.try_recv_into(&mut out).unwrap(),
        Recv::Corrupt(_)
    ));
}

#[test]
fn slot_exhaustion_and_too_large() {
    let (server, client) = pair(&fixture_configs(), 16 << 20);
    let mut sent = 0;
    loop {
        match client.try_send(&ping(23, INDEX, sent), T) {
            Ok(()) => sent += 1,
            Err(SendError::NoSlot) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent <= 50);
    }
    assert_eq!(sent, 50, "32 + 16 + 2 CLIENT slots");
    assert_eq!(client.stats().no_slot, 1);
    let mut req = vec![];
    let mut ctxs = vec![];
    while let Some(r) = server.take_request(&mut req).unwrap() {
        ctxs.push(u32::from_be_bytes(req[6..10].try_into().unwrap()));
        server.free_request(&r);
    }
    assert_eq!(
        ctxs,
        (0..50).collect::<Vec<_>>(),
        "FIFO through VPP's input queue"
    );
    for i in 0..50 {
        client
            .try_send(&ping(23, INDEX, i), T)
            .expect("slots free again");
    }
    while let Some(r) = server.take_request(&mut req).unwrap() {
        server.free_request(&r);
    }
    match client.try_send(&vec![0u8; 4105], T) {
        Err(SendError::TooLarge {
            len: 4105,
            max: 4104,
        }) => {}
        r => panic!("{r:?}"),
    }
    client
        .try_send(&vec![0u8; 4104], T)
        .expect("largest body fits the 4120-byte slot");
    assert!(
        server.ring_stats()[3].misses > 0,
        "busy heads were counted as misses"
    );
}

#[test]
fn full_vpp_input_queue_is_bounded() {
    let mut cfg = fixture_configs();
    cfg[6].count = 4;
    let (server, client) = pair(&cfg, 16 << 20);
    for i in 0..4 {
        client.try_send(&ping(23, INDEX, i), T).unwrap();
    }
    let t0 = Instant::now();
    match client.try_send(&ping(23, INDEX, 4), Duration::from_millis(50)) {
        Err(SendError::InputQueueFull) => {}
        r => panic!("{r:?}"),
    }
    assert!(t0.elapsed() < Duration::from_secs(1));
    // the slot taken for the failed send was released: 4 busy, head at 5
    let heads = client.client_ring_heads();
    assert_eq!(heads[0].3, 5);
    let mut req = vec![];
    let r = server.take_request(&mut req).unwrap().unwrap();
    server.free_request(&r);
    client
        .try_send(&ping(23, INDEX, 5), Duration::from_millis(50))
        .expect("room again");
}

#[test]
fn threads_share_a_client() {
    let (server, client) = pair(&default_configs(), DEFAULT_SEGMENT_SIZE);
    let server = Arc::new(server);
    let client = Arc::new(client);
    const PER: u32 = 300;
    const SENDERS: u32 = 3;
    // "VPP": echo every request as a reply
    let s = Arc::clone(&server);
    let q = client.own_queue_addr();
    let vpp = thread::spawn(move || {
        let mut req = vec![];
        let mut echoed = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        while echoed < PER * SENDERS && Instant::now() < deadline {
            match s.take_request(&mut req).unwrap() {
                Some(r) => {
                    s.free_request(&r);
                    if req[..2] != 22u16.to_be_bytes() {
                        s.send_to(q, &req, Duration::from_secs(5)).unwrap();
                        echoed += 1;
                    }
                }
                None => thread::sleep(Duration::from_micros(50)),
            }
        }
        echoed
    });
    let c = Arc::clone(&client);
    let rx = thread::spawn(move || {
        let mut out = BytesMut::new();
        let mut seen = vec![0u32; SENDERS as usize];
        let mut n = 0;
        loop {
            match c.recv_into(&mut out, Duration::from_secs(5)).unwrap() {
                Recv::Message(len) => {
                    let m = out.split_to(len);
                    seen[m[2] as usize] += 1;
                    n += 1;
                    if n == PER * SENDERS {
                        return seen;
                    }
                }
                Recv::Empty => return seen,
                r => panic!("{r:?}"),
            }
        }
    });
    let senders: Vec<_> = (0..SENDERS)
        .map(|t| {
            let c = Arc::clone(&client);
            thread::spawn(move || {
                for i in 0..PER {
                    let body = ping(23, [t as u8, 0, 0, 0], i);
                    loop {
                        match c.try_send(&body, Duration::from_secs(1)) {
                            Ok(()) => break,
                            Err(SendError::NoSlot | SendError::InputQueueFull) => {
                                thread::sleep(Duration::from_micros(100))
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(vpp.join().unwrap(), PER * SENDERS);
    assert_eq!(rx.join().unwrap(), vec![PER; SENDERS as usize]);
    assert_eq!(client.stats().sent, (PER * SENDERS) as u64);
}

#[test]
fn wake_unblocks_a_receiver() {
    let (_server, client) = pair(&fixture_configs(), 16 << 20);
    let client = Arc::new(client);
    let c = Arc::clone(&client);
    let t = thread::spawn(move || {
        let mut out = BytesMut::new();
        let t0 = Instant::now();
        (
            c.recv_into(&mut out, Duration::from_secs(20)).unwrap(),
            t0.elapsed(),
        )
    });
    thread::sleep(Duration::from_millis(100));
    client.wake();
    let (r, took) = t.join().unwrap();
    assert_eq!(r, Recv::Empty);
    assert!(took < Duration::from_secs(5));
}

#[test]
fn server_refuses_what_would_crash_vpp() {
    let mut no_queue = fixture_configs();
    no_queue.pop();
    assert!(matches!(
        ServerSegment::create("x", 16 << 20, &no_queue, 1),
        Err(ShmError::WouldCrashVpp(_))
    ));
    assert!(matches!(
        ServerSegment::create("x", 0, &[], 1),
        Err(ShmError::NoSize)
    ));
    assert!(matches!(
        ServerSegment::create("x", (64u32 << 20).swap_bytes(), &[], 1),
        Err(ShmError::WouldCrashVpp(_))
    ));
    // nitems == 0: VPP's defaults
    let (s, fd) = ServerSegment::create("x", 16 << 20, &[], 1).unwrap();
    let c = ClientSegment::attach(fd, &vpp_default_configs()).unwrap();
    assert_eq!(c.client_slots(), 50);
    assert_eq!(s.ring_stats().len(), 6);
}

#[test]
fn attach_rejects_a_config_mismatch() {
    let (_s, fd) = ServerSegment::create("x", 16 << 20, &fixture_configs(), 1).unwrap();
    let mut other = fixture_configs();
    other[1].count = 17;
    let e = ClientSegment::attach(fd, &other).unwrap_err().to_string();
    assert!(
        e.contains("vl_rings[1]") && e.contains("expected 1048 x 17"),
        "{e}"
    );
}

#[test]
fn peer_death_while_holding_a_queue_lock_is_reported() {
    let (server, client) = pair(&fixture_configs(), 16 << 20);
    let client = Arc::new(client);
    let c = Arc::clone(&client);
    thread::spawn(move || vppapi_shm::fuzzing::hold_own_queue_lock(&c).unwrap())
        .join()
        .unwrap();
    let mut out = BytesMut::new();
    match client.try_recv_into(&mut out) {
        Err(ShmError::PeerDied { what }) => assert!(what.contains("own input queue"), "{what}"),
        r => panic!("expected EOWNERDEAD to be reported, got {r:?}"),
    }
    // made consistent: the queue works again
    server
        .send_to(client.own_queue_addr(), &ping(24, [0; 4], 1), T)
        .unwrap();
    assert_eq!(client.recv_into(&mut out, T).unwrap(), Recv::Message(10));
}

/// The fuzz target's body on pseudo-random inputs (the same code `cargo fuzz run shm_recv` runs).
#[test]
fn fuzz_body_on_random_inputs() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut total = ClientStats::default();
    for i in 0..300 {
        let len = (next() % 600) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let t0 = Instant::now();
        let s = vppapi_shm::fuzzing::run_recv(&data);
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "input {i} took too long"
        );
        total.received += s.received;
        total.foreign_dropped += s.foreign_dropped;
        total.corrupt_dropped += s.corrupt_dropped;
        total.keepalives += s.keepalives;
        total.heap_frees += s.heap_frees;
    }
    eprintln!("{total:?}");
    assert!(
        total.received > 0 && total.foreign_dropped > 0 && total.corrupt_dropped > 0,
        "{total:?}"
    );
}
