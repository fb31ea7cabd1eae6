//! A synchronous call allocates nothing in steady state, on either transport: a counting
//! global allocator in this (client) process, the simulator in a child process so that only
//! the client's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use vpp_sim::{MainLoop, SimConfig, Simulator};
use vppapi_runtime::memclnt::ControlPing;
use vppapi_runtime::{Config, Connection, Endpoint, ShmRoute};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CHILD: &str = "VPPAPI_ALLOC_TEST_SIM";

#[test]
fn child_sim_entry() {
    let Ok(path) = std::env::var(CHILD) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let mut c = SimConfig::new(path);
        c.main_loop = MainLoop::Polling(Duration::from_micros(20));
        let _sim = Simulator::start(c).await.unwrap();
        std::future::pending::<()>().await;
    });
}

struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn child_sim(path: &std::path::Path) -> Sim {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_sim_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, path)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !path.exists() && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Sim(child)
}

/// Allocations during `n` sequential calls after a warm-up.
fn allocations_per_calls(endpoint: Endpoint, n: u64) -> u64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut cfg = Config::with_endpoint(endpoint);
        cfg.health.interval = Duration::from_secs(3600);
        cfg.shm.route = ShmRoute::Segment;
        cfg.connect_timeout = Duration::from_secs(20);
        let conn = Connection::connect(cfg).await.unwrap();
        let task = tokio::spawn(async move {
            for _ in 0..20_000 {
                conn.call(&ControlPing {}).await.unwrap();
            }
            ALLOCS.store(0, Ordering::SeqCst);
            COUNTING.store(true, Ordering::SeqCst);
            for _ in 0..n {
                conn.call(&ControlPing {}).await.unwrap();
            }
            COUNTING.store(false, Ordering::SeqCst);
            let a = ALLOCS.load(Ordering::SeqCst);
            conn.close().await;
            a
        });
        task.await.unwrap()
    })
}

#[test]
fn a_synchronous_call_allocates_nothing_on_either_transport() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.sock");
    let _sim = child_sim(&path);
    let n = 10_000;
    let socket = allocations_per_calls(Endpoint::Socket(path.clone()), n);
    eprintln!("socket: {socket} allocations in {n} calls");
    assert_eq!(socket, 0, "socket: {socket} allocations in {n} calls");
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let shm = allocations_per_calls(Endpoint::Shm(path.clone()), n);
        eprintln!("shm: {shm} allocations in {n} calls");
        assert_eq!(shm, 0, "shm: {shm} allocations in {n} calls");
    }
}
