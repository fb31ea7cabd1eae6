//! The shared-memory transport's own cases, against the simulator (in this process, or in a
//! child process where a real death is needed): replies larger than every ring, requests too
//! large for a slot, keepalives, the segment vanishing, VPP dying mid-call, a client killed
//! with requests in flight, and the adaptive router in both main-loop regimes.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use vpp_sim::{MainLoop, SimConfig, Simulator};
use vppapi_binapi::vlib::CliInband;
use vppapi_runtime::memclnt::{ControlPing, ShowVersion};
use vppapi_runtime::{Config, ConnState, Connection, Endpoint, Error, ShmRoute};

/// The cases here start busy main loops and child processes: one at a time, so that their
/// timings do not depend on each other on a small machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Set in a child process: what it runs (`sim:PATH` or `client:PATH`).
const CHILD: &str = "VPPAPI_SHM_TEST_CHILD";

fn shm_config(sock: &std::path::Path, route: ShmRoute) -> Config {
    let mut c = Config::with_endpoint(Endpoint::Shm(sock.to_path_buf()));
    c.shm.route = route;
    c.health.interval = Duration::from_secs(3600);
    c.reconnect.initial_delay = Duration::from_millis(20);
    c.reconnect.max_delay = Duration::from_millis(200);
    c
}

async fn polling_sim(dir: &tempfile::TempDir) -> Simulator {
    let mut c = SimConfig::new(dir.path().join("api.sock"));
    c.main_loop = MainLoop::Polling(Duration::from_micros(20));
    Simulator::start(c).await.unwrap()
}

fn add_loopbacks(sim: &Simulator, n: u32) {
    sim.with_model(|m| {
        m.add_loopbacks_up_to(n);
    });
}

fn cli(cmd: &str) -> CliInband {
    CliInband { cmd: cmd.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_larger_than_every_ring_come_from_the_heap_and_go_back() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = polling_sim(&dir).await;
    add_loopbacks(&sim, 2000);
    let conn = Connection::connect(shm_config(&dir.path().join("api.sock"), ShmRoute::Segment))
        .await
        .unwrap();
    assert_eq!(conn.transport(), "shm");
    let sent0 = conn.shm_stats().unwrap().sent;
    for _ in 0..20 {
        let r = conn.call(&cli("show interface")).await.unwrap();
        // Larger than the largest VLIB ring's payload (65504 + 8 bytes).
        assert!(r.reply.len() > 70_000, "{}", r.reply.len());
        assert!(r.reply.contains("loop1999"));
    }
    let st = conn.shm_stats().unwrap();
    assert_eq!(st.sent - sent0, 20, "through the segment");
    assert!(st.heap_frees >= 20, "{st:?}");
    // Every heap buffer went back to VPP (the keepalive-reply trick, one per reply).
    let t0 = Instant::now();
    while sim.shm_stats().heap_outstanding > 0 && t0.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.shm_stats().heap_outstanding, 0);

    // A request larger than every CLIENT ring slot goes on the socket (its reply too).
    let big = "x".repeat(70_000);
    let sent1 = conn.shm_stats().unwrap().sent;
    match conn.call(&cli(&big)).await {
        Err(Error::Api(e)) => assert_eq!(e.retval, -9), // not modelled, but answered
        r => panic!("{r:?}"),
    }
    assert_eq!(
        conn.shm_stats().unwrap().sent,
        sent1,
        "not through the segment"
    );
    // And the next small one is back on the segment.
    conn.call(&ControlPing {}).await.unwrap();
    assert_eq!(conn.shm_stats().unwrap().sent, sent1 + 1);
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalives_are_answered() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = SimConfig::new(dir.path().join("api.sock"));
    c.main_loop = MainLoop::Polling(Duration::from_micros(50));
    c.keepalive_period = Duration::from_millis(100);
    let sim = Simulator::start(c).await.unwrap();
    let conn = Connection::connect(shm_config(&dir.path().join("api.sock"), ShmRoute::Segment))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let s = sim.shm_stats();
    assert!(s.keepalives_sent >= 2, "{s:?}");
    assert!(conn.shm_stats().unwrap().keepalives >= 2);
    let t0 = Instant::now();
    while sim.shm_stats().keepalive_replies < 2 && t0.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(sim.shm_stats().keepalive_replies >= 2);
    conn.call(&ControlPing {}).await.unwrap();
    conn.close().await;
    // memclnt_delete took the segment away.
    let t0 = Instant::now();
    while sim.shm_stats().segments > 0 && t0.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.shm_stats().segments, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_segment_is_noticed_and_replaced() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let sim = polling_sim(&dir).await;
    let mut cfg = shm_config(&dir.path().join("api.sock"), ShmRoute::Segment);
    cfg.health.interval = Duration::from_millis(100);
    cfg.health.reply_timeout = Duration::from_millis(100);
    cfg.health.threshold = 2;
    let conn = Connection::connect(cfg).await.unwrap();
    let gen = conn.generation().unwrap();
    conn.call(&ControlPing {}).await.unwrap();
    sim.drop_segments();
    let r = conn
        .call_with_timeout(&ControlPing {}, Duration::from_millis(200))
        .await;
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    // Health probes time out, the connection is rebuilt with a new segment.
    let t0 = Instant::now();
    while conn.generation() == Some(gen) && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut st = conn.state();
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| *s == ConnState::Connected),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(conn.generation().unwrap() > gen);
    assert_eq!(conn.transport(), "shm");
    conn.call(&ControlPing {}).await.unwrap();
    assert_eq!(sim.shm_stats().segments, 1);
}

/// This test binary re-run as a child process that serves a simulator or runs a client.
fn spawn_child(what: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, what)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[test]
fn child_process_entry() {
    let Ok(what) = std::env::var(CHILD) else {
        return; // not a child: nothing to do
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        if let Some(path) = what.strip_prefix("sim:") {
            let mut c = SimConfig::new(path);
            c.main_loop = MainLoop::Polling(Duration::from_micros(20));
            let _sim = Simulator::start(c).await.unwrap();
            std::future::pending::<()>().await;
        } else if let Some(path) = what.strip_prefix("client:") {
            let mut cfg = shm_config(std::path::Path::new(path), ShmRoute::Segment);
            cfg.reply_timeout = Duration::from_secs(60);
            let conn = Connection::connect(cfg).await.unwrap();
            // Requests in flight, forever (the parent kills us).
            loop {
                let calls = (0..40).map(|_| conn.call(&ShowVersion {}));
                let _ = join_all(calls).await;
            }
        }
    });
}

async fn wait_for_socket(path: &std::path::Path) {
    let t0 = Instant::now();
    while !path.exists() && t0.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(path.exists(), "the child never bound {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpp_dying_mid_call_fails_every_call_at_once() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let mut child = spawn_child(&format!("sim:{}", sock.display()));
    wait_for_socket(&sock).await;
    let mut cfg = shm_config(&sock, ShmRoute::Segment);
    cfg.connect_timeout = Duration::from_secs(20);
    let conn = Connection::connect(cfg).await.unwrap();
    assert_eq!(conn.vpe_pid(), Some(child.id()));
    conn.call(&ControlPing {}).await.unwrap();
    let mut calls = Vec::new();
    for _ in 0..50 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            loop {
                if let Err(e) = c
                    .call_with_timeout(&ShowVersion {}, Duration::from_secs(30))
                    .await
                {
                    return e;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    child.kill().unwrap(); // SIGKILL: VPP dies with requests in its queue
    child.wait().unwrap();
    for c in calls {
        let e = tokio::time::timeout(Duration::from_secs(3), c)
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(e, Error::ConnectionLost { .. } | Error::NotConnected),
            "{e}"
        );
    }
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_with_requests_in_flight_does_not_stop_vpp() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let sim = polling_sim(&dir).await;
    let mut child = spawn_child(&format!("client:{}", sock.display()));
    // Wait until the child is registered and busy.
    let t0 = Instant::now();
    while sim.shm_stats().requests < 500 && t0.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(sim.shm_stats().requests >= 500, "{:?}", sim.shm_stats());
    child.kill().unwrap();
    child.wait().unwrap();
    // VPP keeps serving everyone else, over both transports.
    let shm = Connection::connect(shm_config(&sock, ShmRoute::Segment))
        .await
        .unwrap();
    let socket = Connection::connect(Config::new(&sock)).await.unwrap();
    let t0 = Instant::now();
    for _ in 0..200 {
        shm.call(&ControlPing {}).await.unwrap();
        socket.call(&ControlPing {}).await.unwrap();
    }
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(sim.shm_stats().would_hang, 0);
}

/// Calls/s over `n` sequential pings and how many went through the segment.
async fn run(conn: &Connection, n: u32) -> u64 {
    let before = conn.shm_stats().unwrap().sent;
    for _ in 0..n {
        conn.call(&ControlPing {}).await.unwrap();
    }
    conn.shm_stats().unwrap().sent - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adaptive_router_takes_the_socket_when_vpp_idles_and_the_segment_when_it_spins() {
    let _serial = SERIAL.lock().await;
    for (regime, want_shm) in [(MainLoop::Idle, false), (MainLoop::Busy, true)] {
        let dir = tempfile::tempdir().unwrap();
        let mut c = SimConfig::new(dir.path().join("api.sock"));
        c.main_loop = regime;
        let sim = Simulator::start(c).await.unwrap();
        let mut cfg = shm_config(&dir.path().join("api.sock"), ShmRoute::Adaptive);
        cfg.shm.probe_interval = Duration::from_millis(200);
        let conn = Connection::connect(cfg).await.unwrap();
        run(&conn, 300).await; // learn both paths
        let n = 1000;
        let through_shm = run(&conn, n).await;
        if want_shm {
            assert!(
                through_shm > 900,
                "{regime:?}: {through_shm} of {n} through the segment"
            );
        } else {
            assert!(
                through_shm < 20,
                "{regime:?}: {through_shm} of {n} through the segment"
            );
        }
        conn.close().await;
        drop(sim);
    }
}
