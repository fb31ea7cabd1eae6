// The connection tests, included once per transport by `connection_sim.rs` (`SHM` says which):
// calls, typed errors, pipelining from many tasks, big dumps, timeouts, cancellation, events
// with their queue policies, health, restarts mid-load, compatibility and the blocking facade.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use vpp_sim::{SimConfig, Simulator};
use vppapi_binapi::interface::{
    CreateLoopback, SwInterfaceDetails, SwInterfaceDump, SwInterfaceEvent, SwInterfaceSetFlags,
    WantInterfaceEvents,
};
use vppapi_binapi::interface_types::IfStatusFlags;
use vppapi_binapi::lb::{LbAddDelAs, LbAddDelAsReply};
use vppapi_binapi::vlib::CliInband;
use vppapi_binapi::vpe::ShowVersionReply;
use vppapi_runtime::codec::Message;
use vppapi_runtime::memclnt::{ControlPing, ShowVersion};
use vppapi_runtime::{
    name_crcs, Config, ConnState, Connection, Error, HandlerSet, InterfaceIndex, OverflowPolicy,
};

struct Env {
    sim: Simulator,
    dir: tempfile::TempDir,
}

async fn sim() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(sim_config(dir.path().join("api.sock")))
        .await
        .unwrap();
    Env { sim, dir }
}

impl Env {
    fn config(&self) -> Config {
        let mut c = client_config(self.dir.path().join("api.sock"));
        c.client_name = "vppapi-test".into();
        c.reply_timeout = Duration::from_secs(5);
        c.reconnect.initial_delay = Duration::from_millis(20);
        c.reconnect.max_delay = Duration::from_millis(200);
        // No background health probe unless a test asks for one: a probe in flight would make
        // the `pending_calls() == 0` checks racy. The health tests set their own interval.
        c.health.interval = Duration::from_secs(3600);
        c
    }
    async fn connect(&self) -> Connection {
        let c = Connection::connect(self.config()).await.unwrap();
        assert_eq!(c.transport(), if SHM { "shm" } else { "socket" });
        c
    }
}

/// The simulator of this transport's tests: on shared memory its main loop polls the
/// segments (as a VPP with a polling input node does) so that tests are not paced by the
/// idle main loop's 10 ms epoll sleeps.
fn sim_config(sock: std::path::PathBuf) -> SimConfig {
    let mut c = SimConfig::new(sock);
    if SHM {
        c.main_loop = vpp_sim::MainLoop::Polling(Duration::from_micros(20));
    }
    c
}

/// Every request that fits a ring goes through the segment on shared memory.
fn client_config(sock: std::path::PathBuf) -> Config {
    if SHM {
        let mut c = Config::with_endpoint(vppapi_runtime::Endpoint::Shm(sock));
        c.shm.route = vppapi_runtime::ShmRoute::Segment;
        c
    } else {
        Config::new(sock)
    }
}

fn if_up(sw: u32, up: bool) -> SwInterfaceSetFlags {
    SwInterfaceSetFlags {
        sw_if_index: InterfaceIndex(sw),
        flags: IfStatusFlags(up as u32),
    }
}

fn want_if_events(enable: bool, pid: u32) -> WantInterfaceEvents {
    WantInterfaceEvents {
        enable_disable: enable as u32,
        pid,
    }
}

async fn wait_state(conn: &Connection, want: ConnState, within: Duration) {
    let mut st = conn.state();
    let r = tokio::time::timeout(within, st.wait_for(|s| *s == want)).await;
    let reached = matches!(r, Ok(Ok(_)));
    drop(r);
    assert!(
        reached,
        "state {want:?} not reached; now {:?}",
        *st.borrow()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_typed_errors_and_zero_copy_views() {
    let env = sim().await;
    let conn = env.connect().await;
    assert_eq!(*conn.state().borrow(), ConnState::Connected);
    assert_eq!(conn.vpe_pid(), Some(env.sim.vpe_pid()));
    assert_eq!(conn.vpp_version().as_deref(), Some("26.06-release"));
    assert!(conn.message_table().unwrap().len() > 800);

    let v = conn.call(&ShowVersion {}).await.unwrap();
    assert_eq!(
        (v.program.as_str(), v.version.as_str()),
        ("vpe", "26.06-release")
    );

    let lo = conn.call(&CreateLoopback::default()).await.unwrap();
    assert_eq!(lo.retval, 0);
    assert_eq!(lo.sw_if_index, InterfaceIndex(1));

    // retval != 0 is a typed error with VPP's name and number.
    let e = conn.call(&if_up(12345, true)).await.unwrap_err();
    let api = e.api().expect("api error");
    assert_eq!(api.retval, -2);
    assert_eq!(api.name(), Some("INVALID_SW_IF_INDEX"));
    assert_eq!(api.message, "sw_interface_set_flags_reply");
    assert!(
        e.to_string()
            .contains("VNET_API_ERROR_INVALID_SW_IF_INDEX (-2)"),
        "{e}"
    );

    // Zero-copy: the reply's bytes and an in-place view.
    let raw = conn
        .call_raw(&CliInband {
            cmd: "show interface".into(),
        })
        .await
        .unwrap();
    let (hdr, view) = raw.view().unwrap();
    assert!(hdr.context.is_some());
    let text = view.reply().unwrap();
    assert!(text.contains("loop0"), "{text}");
    assert_eq!(raw.retval(), Some(0));
    assert_eq!(raw.decode().unwrap().reply, text);

    // A message this VPP does not know (another CRC) is refused before sending.
    #[derive(Debug, Clone, PartialEq, vppapi_runtime::VppMessage)]
    #[vpp(name = "show_version", crc = 0xdeadbeef, kind = "request", reply = ShowVersionReply)]
    struct OldShowVersion {}
    match conn.call(&OldShowVersion {}).await {
        Err(Error::Unavailable { why, .. }) => {
            assert_eq!(why, vppapi_runtime::error::Unavailable::DifferentCrc)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(conn.pending_calls(), 0);
    let text = conn.metrics().encode_text();
    assert!(text.contains("vpp_api_calls_total"), "{text}");
    conn.close().await;
    assert_eq!(*conn.state().borrow(), ConnState::Disconnected);
    assert!(matches!(
        conn.call(&ControlPing {}).await,
        Err(Error::Closed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_calls_route_to_their_callers() {
    let env = sim().await;
    let conn = env.connect().await;
    const N: u32 = 200;
    for _ in 0..N {
        conn.call(&CreateLoopback::default()).await.unwrap();
    }
    // 40 tasks x 100 calls, all in flight together; even indexes exist, odd ones beyond N
    // do not: each caller must get the answer to its own request.
    let mut tasks = Vec::new();
    for t in 0..40u32 {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..100u32 {
                let valid = (t + i) % 2 == 0;
                let sw = if valid {
                    1 + (t * 100 + i) % N
                } else {
                    100_000 + t * 100 + i
                };
                let r = conn.call(&if_up(sw, i % 3 == 0)).await;
                match (valid, r) {
                    (true, Ok(_)) => {}
                    (false, Err(Error::Api(e))) if e.retval == -2 => {}
                    (v, r) => panic!("task {t} call {i} valid={v}: {r:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(conn.pending_calls(), 0);
    assert!(conn.metrics().calls.get() >= 4000 + N as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_and_concurrent_calls_mixed_never_stall() {
    // Who reads the socket changes hands between a lone caller and the background reader
    // all the time here: every call must still be answered well within its timeout.
    let env = sim().await;
    let conn = env.connect().await;
    let mut tasks = Vec::new();
    for t in 0..3u64 {
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..300u64 {
                let k = [1usize, 2, 16, 1, 64][((round + t) % 5) as usize];
                let calls = (0..k).map(|_| {
                    conn.call_with_timeout(&ControlPing {}, Duration::from_secs(3))
                });
                for r in futures_util::future::join_all(calls).await {
                    r.unwrap();
                }
                if round % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await; // let the reader idle
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(conn.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_of_100k_details_streams_in_order() {
    let env = sim().await;
    const N: u32 = 100_000;
    env.sim.with_model(|m| {
        m.add_loopbacks_up_to(N);
    });
    // 100k details from a debug-built simulator on a loaded 2-core CI machine: a generous
    // stall timeout (the test is about order and completeness, not speed).
    let mut cfg = env.config();
    cfg.reply_timeout = Duration::from_secs(30);
    let conn = Connection::connect(cfg).await.unwrap();
    let mut s = conn.dump(&SwInterfaceDump::default()).await.unwrap();
    let mut n = 0u32;
    while let Some(d) = s.next().await {
        let d = d.unwrap();
        assert_eq!(d.sw_if_index, InterfaceIndex(n));
        n += 1;
    }
    assert_eq!(n, N + 1); // + local0
                          // Raw form: views in place.
    let mut raw = conn.dump_raw(&SwInterfaceDump::default()).await.unwrap();
    let mut names = 0;
    while let Some(m) = raw.next().await {
        let m = m.unwrap();
        let (_, v) = m.view().unwrap();
        if v.interface_name().unwrap().starts_with("loop") {
            names += 1;
        }
    }
    assert_eq!(names, N);
    assert_eq!(conn.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silently_dropped_requests_time_out_and_leave_nothing_behind() {
    let env = sim().await;
    let conn = env.connect().await;
    env.sim.faults().drop_replies_to("show_version");
    let t0 = std::time::Instant::now();
    let e = conn
        .call_with_timeout(&ShowVersion {}, Duration::from_millis(150))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                message: "show_version",
                ..
            }
        ),
        "{e}"
    );
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert!(t0.elapsed() < Duration::from_secs(2));
    env.sim.faults().clear();
    assert_eq!(
        conn.call(&ShowVersion {}).await.unwrap().version,
        "26.06-release"
    );
    assert_eq!(conn.pending_calls(), 0);
    assert!(conn.metrics().timeouts.get() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_without_terminator_times_out() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.reply_timeout = Duration::from_millis(200);
    let conn = Connection::connect(cfg).await.unwrap();
    env.sim.faults().drop_replies_to("control_ping");
    let mut s = conn.dump(&SwInterfaceDump::default()).await.unwrap();
    let first = s.next().await.unwrap().unwrap();
    assert_eq!(first.interface_name, "local0");
    match s.next().await {
        Some(Err(Error::Timeout { .. })) => {}
        other => panic!("{other:?}"),
    }
    assert!(s.next().await.is_none());
    assert_eq!(conn.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_calls_are_forgotten_and_late_replies_discarded() {
    let env = sim().await;
    let conn = env.connect().await;
    env.sim.faults().set_latency(Duration::from_millis(150));
    for _ in 0..20 {
        let r = tokio::time::timeout(Duration::from_millis(10), conn.call(&ShowVersion {})).await;
        assert!(r.is_err(), "should have been cancelled");
    }
    // Dropped futures removed their entries at once.
    assert_eq!(conn.pending_calls(), 0);
    // A dump dropped mid-way.
    let s = conn.dump(&SwInterfaceDump::default()).await.unwrap();
    drop(s);
    assert_eq!(conn.pending_calls(), 0);
    // The late replies arrive and are discarded (on shared memory the simulator's single
    // main loop sleeps 150 ms per reply, as a slow VPP main thread would: up to 3 s).
    let t0 = std::time::Instant::now();
    while conn.metrics().unmatched_replies.get() < 20 && t0.elapsed() < Duration::from_secs(6) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(conn.metrics().unmatched_replies.get() >= 20);
    env.sim.faults().clear();
    assert_eq!(conn.call(&ShowVersion {}).await.unwrap().program, "vpe");
    assert_eq!(conn.metrics().in_flight.get(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_subscribe_deliver_and_unregister() {
    let env = sim().await;
    let conn = env.connect().await;
    let lo = conn
        .call(&CreateLoopback::default())
        .await
        .unwrap()
        .sw_if_index;
    let mut ev = conn
        .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(want_if_events)
        .await
        .unwrap();
    let mut ev2 = conn
        .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(want_if_events)
        .await
        .unwrap();
    assert_eq!(conn.subscribers(SwInterfaceEvent::NAME_CRC), 2);
    conn.call(&if_up(lo.0, true)).await.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(2), ev.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.sw_if_index, lo);
    assert_eq!(e.flags.0 & 1, 1);
    assert_eq!(e.pid, std::process::id());
    let e2 = tokio::time::timeout(Duration::from_secs(2), ev2.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e2, e);
    drop(ev);
    drop(ev2);
    assert_eq!(conn.subscribers(SwInterfaceEvent::NAME_CRC), 0);
    // The runtime sent want_interface_events(enable=0): enabling by hand now succeeds
    // (it would be -31 INVALID_REGISTRATION if still registered).
    let mut ok = false;
    for _ in 0..50 {
        match conn.call(&want_if_events(true, 1)).await {
            Ok(_) => {
                ok = true;
                break;
            }
            Err(Error::Api(a)) if a.retval == -31 => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        ok,
        "want_interface_events was not disabled after the last subscriber left"
    );
    // Wrong event type for the registration is refused.
    let e = conn
        .subscribe::<WantInterfaceEvents, SwInterfaceDetails, _>(want_if_events)
        .await
        .err()
        .unwrap();
    assert!(matches!(e, Error::Usage(_)), "{e}");
}

async fn flap(conn: &Connection, sw: InterfaceIndex, n: usize) {
    for i in 0..n {
        conn.call(&if_up(sw.0, i % 2 == 0)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_drop_oldest_counts_losses() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.events.queue_capacity = 4;
    cfg.events.overflow = OverflowPolicy::DropOldest;
    let conn = Connection::connect(cfg).await.unwrap();
    let lo = conn
        .call(&CreateLoopback::default())
        .await
        .unwrap()
        .sw_if_index;
    let mut ev = conn
        .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(want_if_events)
        .await
        .unwrap();
    flap(&conn, lo, 20).await; // 20 events, nobody reading
    conn.call(&ControlPing {}).await.unwrap(); // events precede this reply on the socket
    // (On shared memory the reply comes through the segment, the events on the socket: no
    // order between them, so wait for the last events to be in.)
    let t0 = std::time::Instant::now();
    while ev.dropped() < 16 && t0.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(ev.queued(), 4);
    assert_eq!(ev.dropped(), 16);
    assert_eq!(conn.metrics().dropped_events.get(), 16);
    // The newest four remain: flags of calls 16..20 = up, down, up, down.
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(ev.next().await.unwrap().flags.0 & 1);
    }
    assert_eq!(got, [1, 0, 1, 0]);
    assert!(!ev.overflowed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_disconnect_policy_ends_only_that_stream() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.events.queue_capacity = 3;
    cfg.events.overflow = OverflowPolicy::Disconnect;
    let conn = Connection::connect(cfg).await.unwrap();
    let lo = conn
        .call(&CreateLoopback::default())
        .await
        .unwrap()
        .sw_if_index;
    let mut slow = conn
        .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(want_if_events)
        .await
        .unwrap();
    let mut fast = conn
        .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(want_if_events)
        .await
        .unwrap();
    // The fast subscriber takes each event before the next one is caused (a spawned reader
    // racing the flaps could itself fall 3 behind on a loaded machine); the slow one reads
    // nothing and must overflow alone.
    for i in 0..10 {
        conn.call(&if_up(lo.0, i % 2 == 0)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(2), fast.next())
            .await
            .expect("the fast subscriber gets every event")
            .expect("the fast subscriber is not disconnected");
    }
    assert!(slow.overflowed());
    assert!(slow.dropped() >= 1);
    let mut n = 0;
    while slow.next().await.is_some() {
        n += 1;
    }
    assert_eq!(n, 3); // what was queued before the overflow, then the end
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_probe_reports_not_responding_and_recovers() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.health.interval = Duration::from_millis(50);
    cfg.health.reply_timeout = Duration::from_millis(40);
    cfg.health.threshold = 2;
    cfg.health.reconnect_when_not_responding = false;
    let conn = Connection::connect(cfg).await.unwrap();
    env.sim.faults().drop_all_replies(true);
    wait_state(&conn, ConnState::NotResponding, Duration::from_secs(3)).await;
    env.sim.faults().clear();
    wait_state(&conn, ConnState::Connected, Duration::from_secs(3)).await;
    assert_eq!(env.sim.connections_accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_responding_triggers_a_reconnect_when_configured() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.health.interval = Duration::from_millis(50);
    cfg.health.reply_timeout = Duration::from_millis(40);
    cfg.health.threshold = 2;
    let conn = Connection::connect(cfg).await.unwrap();
    env.sim.faults().drop_all_replies(true);
    let mut st = conn.state();
    tokio::time::timeout(
        Duration::from_secs(3),
        st.wait_for(|s| *s != ConnState::Connected),
    )
    .await
    .unwrap()
    .unwrap();
    env.sim.faults().clear();
    wait_state(&conn, ConnState::Connected, Duration::from_secs(5)).await;
    assert!(env.sim.connections_accepted() >= 2);
    conn.call(&ControlPing {}).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpp_restart_mid_load_every_call_resolves_and_events_resume() {
    let env = sim().await;
    let conn = env.connect().await;
    let first_pid = conn.vpe_pid().unwrap();
    let hooks = Arc::new(AtomicU64::new(0));
    let restarted = Arc::new(AtomicU64::new(0));
    {
        let (hooks, restarted) = (hooks.clone(), restarted.clone());
        conn.on_reconnect(move |c, info| {
            let (hooks, restarted) = (hooks.clone(), restarted.clone());
            async move {
                hooks.fetch_add(1, Ordering::SeqCst);
                if info.vpp_restarted {
                    restarted.fetch_add(1, Ordering::SeqCst);
                }
                // Hooks may call VPP (resync).
                c.call(&ControlPing {}).await.unwrap();
            }
        });
    }
    conn.require(&name_crcs![ControlPing, SwInterfaceSetFlags]);
    let mut ev = conn
        .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(want_if_events)
        .await
        .unwrap();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..16 {
        let (conn, stop) = (conn.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let (mut ok, mut lost, mut other) = (0u64, 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                match conn
                    .call_with_timeout(&ShowVersion {}, Duration::from_secs(2))
                    .await
                {
                    Ok(_) => ok += 1,
                    Err(Error::ConnectionLost { .. } | Error::NotConnected) => {
                        lost += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(e) => {
                        other += 1;
                        eprintln!("unexpected: {e}");
                    }
                }
            }
            (ok, lost, other)
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    env.sim.restart().await.unwrap(); // kills every connection, new vpe_pid
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Killed for good, then a new server on the same path later.
    wait_state(&conn, ConnState::Connected, Duration::from_secs(5)).await;
    let sock = env.dir.path().join("api.sock");
    drop(env.sim);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut cfg2 = sim_config(sock.clone());
    cfg2.vpe_pid = Some(first_pid + 1000);
    let sim2 = Simulator::start(cfg2).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut ok, mut lost, mut other) = (0, 0, 0);
    for t in load {
        // Every task ends: no call hangs.
        let (o, l, x) = tokio::time::timeout(Duration::from_secs(5), t)
            .await
            .unwrap()
            .unwrap();
        ok += o;
        lost += l;
        other += x;
    }
    assert!(ok > 100, "ok {ok}");
    assert!(lost > 0, "no call saw the connection go");
    assert_eq!(other, 0);
    wait_state(&conn, ConnState::Connected, Duration::from_secs(5)).await;
    assert_eq!(conn.vpe_pid(), Some(first_pid + 1000));
    assert!(conn.metrics().reconnects.get() >= 2);
    assert!(hooks.load(Ordering::SeqCst) >= 2);
    assert!(restarted.load(Ordering::SeqCst) >= 2);
    assert!(conn.last_compat_report().unwrap().is_compatible());
    assert_eq!(conn.pending_calls(), 0);

    // Events resume on the same stream: the registration was re-sent to the new VPP.
    let lo = conn
        .call(&CreateLoopback::default())
        .await
        .unwrap()
        .sw_if_index;
    conn.call(&if_up(lo.0, true)).await.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let e = ev.next().await.unwrap();
            if e.sw_if_index == lo && e.flags.0 & 1 == 1 {
                return e;
            }
        }
    })
    .await
    .unwrap();
    assert!(!e.deleted);
    drop(sim2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_calls_fail_at_once_on_disconnect() {
    let env = sim().await;
    let conn = env.connect().await;
    env.sim.faults().drop_all_replies(true);
    let mut calls = Vec::new();
    for _ in 0..50 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            c.call_with_timeout(&ShowVersion {}, Duration::from_secs(30))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = std::time::Instant::now();
    env.sim.close_connections();
    for c in calls {
        let r = tokio::time::timeout(Duration::from_secs(2), c)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(r, Err(Error::ConnectionLost { .. })), "{r:?}");
    }
    assert!(t0.elapsed() < Duration::from_secs(2));
    env.sim.faults().clear();
    wait_state(&conn, ConnState::Connected, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_forever_while_vpp_is_away() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let mut cfg = client_config(sock.clone());
    cfg.reconnect.initial_delay = Duration::from_millis(10);
    cfg.reconnect.max_delay = Duration::from_millis(50);
    // Nothing listens yet: connect() gives up after its timeout with the last error...
    cfg.connect_timeout = Duration::from_millis(200);
    let e = Connection::connect(cfg.clone()).await.unwrap_err();
    assert!(matches!(e, Error::ConnectTimeout { .. }), "{e}");
    assert!(e.to_string().contains("api.sock"), "{e}");
    // ...while start() keeps trying until VPP shows up.
    let conn = Connection::start(cfg).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(matches!(
        conn.call(&ControlPing {}).await,
        Err(Error::NotConnected)
    ));
    let sim = Simulator::start(sim_config(sock.clone())).await.unwrap();
    wait_state(&conn, ConnState::Connected, Duration::from_secs(3)).await;
    conn.call(&ControlPing {}).await.unwrap();
    drop(sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compat_report_and_handler_selection_against_the_26_06_table() {
    let env = sim().await;
    let conn = env.connect().await;
    let r = conn
        .compat(&[
            ControlPing::NAME_CRC,
            LbAddDelAs::NAME_CRC,
            "lb_as_set_weight_00000000",
            "lb_conf_get_51077d14",
            "sw_interface_dump_00000000",
        ])
        .unwrap();
    assert_eq!(r.ok, [ControlPing::NAME_CRC, LbAddDelAs::NAME_CRC]);
    assert_eq!(r.different_crc.len(), 1);
    assert_eq!(r.different_crc[0].0, "sw_interface_dump_00000000");
    assert_eq!(r.different_crc[0].1, [SwInterfaceDump::NAME_CRC]);
    let missing: HashSet<_> = r.missing.iter().map(String::as_str).collect();
    assert_eq!(
        missing,
        HashSet::from(["lb_as_set_weight_00000000", "lb_conf_get_51077d14"])
    );

    let set = HandlerSet::new()
        .add(
            "lb with weights",
            &[LbAddDelAs::NAME_CRC, "lb_as_set_weight_00000000"],
            "weights",
        )
        .add("lb 1.1.0", &name_crcs![LbAddDelAs, LbAddDelAsReply], "v110");
    let sel = conn.select(&set).unwrap();
    assert_eq!(sel.chosen.map(|(n, h)| (n, *h)), Some(("lb 1.1.0", "v110")));
    assert_eq!(
        sel.refused[0].to_string(),
        "lb with weights refused: lb_as_set_weight_00000000 is missing;"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_ring_keeps_the_last_calls() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.trace.capacity = 3;
    let conn = Connection::connect(cfg).await.unwrap();
    conn.call(&ControlPing {}).await.unwrap();
    let _ = conn.call(&if_up(999, true)).await;
    conn.call(&ShowVersion {}).await.unwrap();
    let t = conn.trace();
    assert_eq!(t.len(), 3);
    assert_eq!(t[1].message, "sw_interface_set_flags");
    assert_eq!(t[1].retval, Some(-2));
    assert_eq!(t[2].message, "show_version");
    assert!(t[2].context > t[1].context);
    assert!(t[2].received.is_some());
}

#[test]
fn blocking_facade() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = rt.block_on(sim());
    let conn = vppapi_runtime::BlockingConnection::connect(env.config()).unwrap();
    assert_eq!(conn.state(), ConnState::Connected);
    assert_eq!(conn.call(&ShowVersion {}).unwrap().version, "26.06-release");
    conn.call(&CreateLoopback::default()).unwrap();
    let ifs = conn.dump(&SwInterfaceDump::default()).unwrap();
    assert_eq!(ifs.len(), 2);
    assert_eq!(ifs[1].interface_name, "loop0");
    conn.close();
    drop(env);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_and_forget_sends_without_waiting() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.trace.capacity = 8;
    let conn = Connection::connect(cfg).await.unwrap();
    conn.send(&CreateLoopback::default()).await.unwrap();
    conn.send(&CreateLoopback::default()).await.unwrap();
    assert_eq!(conn.pending_calls(), 0);
    // Processed in order: a dump after them sees both.
    let mut s = conn.dump(&SwInterfaceDump::default()).await.unwrap();
    let mut n = 0;
    while let Some(d) = s.next().await {
        d.unwrap();
        n += 1;
    }
    assert_eq!(n, 3);
    let sent: Vec<_> = conn
        .trace()
        .into_iter()
        .filter(|r| r.message == "create_loopback")
        .map(|r| r.outcome)
        .collect();
    assert_eq!(sent, [vppapi_runtime::trace::CallOutcome::Sent; 2]);
    // Their replies had no taker: counted, not leaked.
    assert!(conn.metrics().unmatched_replies.get() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vpp_that_stops_reading_cannot_block_callers_forever() {
    let env = sim().await;
    let mut cfg = env.config();
    cfg.write_high_water = 64 * 1024;
    cfg.health.interval = Duration::from_secs(3600);
    let conn = Connection::connect(cfg).await.unwrap();
    env.sim.faults().stop_reading();
    let big = CliInband {
        cmd: "x".repeat(60_000),
    };
    let t0 = std::time::Instant::now();
    let mut calls = Vec::new();
    for _ in 0..40 {
        let (c, m) = (conn.clone(), big.clone());
        calls.push(tokio::spawn(async move {
            c.call_with_timeout(&m, Duration::from_millis(300)).await
        }));
    }
    for c in calls {
        let r = tokio::time::timeout(Duration::from_secs(3), c)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    }
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_eq!(conn.pending_calls(), 0);
    env.sim.faults().resume_reading();
    // The queued requests drain; their late replies are discarded; new calls work.
    let v = conn.call(&ShowVersion {}).await.unwrap();
    assert_eq!(v.program, "vpe");
}
