//! Transports against the simulator, in one run:
//!
//! * `floor`: synchronous `control_ping` calls/s of a raw blocking C client
//!   (`benches/c/vpp_ping_floor.c`): the floor any client can reach on this machine.
//! * `socket_sync/{current_thread,multi_thread_1,multi_thread_2}`: the same calls through
//!   [`Connection`] on the three tokio runtimes users have (`#[tokio::main]` on 2 cores is
//!   `multi_thread_2`).
//! * `socket_pipelined/N` and `floor_pipelined/N`: N calls in flight.
//! * `shm_idle/*` and `shm_busy/*`: synchronous calls over the socket and over shared memory
//!   (adaptive routing, and every request through the segment) against a simulator whose
//!   main loop is idle (sleeps in epoll between passes, as a stock VPP) or busy (polls).
//!
//! The simulator runs in this process on its own one-worker runtime (and, on shared memory,
//! its main-loop thread).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::future::join_all;
use vpp_sim::{MainLoop, SimConfig, Simulator};
use vppapi_benches::floor::{build_floor_client, run_floor};
use vppapi_runtime::memclnt::ControlPing;
use vppapi_runtime::{Config, Connection, Endpoint, ShmRoute};

struct Sim {
    _rt: tokio::runtime::Runtime,
    sim: Simulator,
    path: PathBuf,
}

fn start_sim(dir: &Path, name: &str, main_loop: MainLoop) -> Sim {
    let path = dir.join(name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = SimConfig::new(&path);
    cfg.main_loop = main_loop;
    let sim = rt.block_on(Simulator::start(cfg)).unwrap();
    Sim { _rt: rt, sim, path }
}

fn runtime(kind: &str) -> tokio::runtime::Runtime {
    match kind {
        "current_thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        "multi_thread_1" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    }
}

fn config(endpoint: Endpoint, route: ShmRoute) -> Config {
    let mut cfg = Config::with_endpoint(endpoint);
    cfg.health.interval = Duration::from_secs(3600);
    cfg.shm.route = route;
    cfg
}

/// `iters` sequential calls, timed inside the runtime (a spawned task, as in an application).
fn sequential(rt: &tokio::runtime::Runtime, conn: &Connection, iters: u64) -> Duration {
    let conn = conn.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            let t = Instant::now();
            for _ in 0..iters {
                conn.call(&ControlPing {}).await.unwrap();
            }
            t.elapsed()
        })
        .await
        .unwrap()
    })
}

/// `iters` rounds of `n` calls in flight (a `join_all` in one task).
fn pipelined(rt: &tokio::runtime::Runtime, conn: &Connection, n: usize, iters: u64) -> Duration {
    rt.block_on(async {
        let t = Instant::now();
        for _ in 0..iters {
            let calls = (0..n).map(|_| conn.call(&ControlPing {}));
            for r in join_all(calls).await {
                r.unwrap();
            }
        }
        t.elapsed()
    })
}

fn bench_transport(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("vppapi-transport-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let idle = start_sim(&dir, "idle.sock", MainLoop::Idle);

    let mut g = c.benchmark_group("transport");
    g.throughput(Throughput::Elements(1));
    match build_floor_client() {
        Ok(bin) => {
            g.bench_function("floor", |b| {
                b.iter_custom(|iters| {
                    let r = run_floor(&bin, &idle.path, iters.max(1), 1).unwrap();
                    Duration::from_secs_f64(r.seconds)
                })
            });
            for n in [16u32, 256] {
                g.throughput(Throughput::Elements(n as u64));
                g.bench_with_input(BenchmarkId::new("floor_pipelined", n), &n, |b, &n| {
                    b.iter_custom(|iters| {
                        let r = run_floor(&bin, &idle.path, iters.max(1) * n as u64, n).unwrap();
                        Duration::from_secs_f64(r.seconds)
                    })
                });
            }
            g.throughput(Throughput::Elements(1));
        }
        Err(e) => eprintln!("no C floor client: {e}"),
    }
    for kind in ["current_thread", "multi_thread_1", "multi_thread_2"] {
        let rt = runtime(kind);
        let conn = rt
            .block_on(Connection::connect(config(
                Endpoint::Socket(idle.path.clone()),
                ShmRoute::Adaptive,
            )))
            .unwrap();
        g.bench_function(BenchmarkId::new("socket_sync", kind), |b| {
            b.iter_custom(|iters| sequential(&rt, &conn, iters))
        });
        if kind == "multi_thread_2" {
            for n in [16usize, 256] {
                g.throughput(Throughput::Elements(n as u64));
                g.bench_with_input(BenchmarkId::new("socket_pipelined", n), &n, |b, &n| {
                    b.iter_custom(|iters| pipelined(&rt, &conn, n, iters))
                });
            }
            g.throughput(Throughput::Elements(1));
        }
        rt.block_on(conn.close());
    }
    g.finish();

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    bench_shm(c, &dir, &idle);
    drop(idle);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bench_shm(c: &mut Criterion, dir: &Path, idle: &Sim) {
    let busy = start_sim(dir, "busy.sock", MainLoop::Busy);
    let rt = runtime("multi_thread_2");
    let mut g = c.benchmark_group("transport");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    for (regime, sim) in [("shm_idle", idle), ("shm_busy", &busy)] {
        for (name, endpoint, route) in [
            (
                "socket",
                Endpoint::Socket(sim.path.clone()),
                ShmRoute::Adaptive,
            ),
            (
                "adaptive",
                Endpoint::Shm(sim.path.clone()),
                ShmRoute::Adaptive,
            ),
            (
                "segment",
                Endpoint::Shm(sim.path.clone()),
                ShmRoute::Segment,
            ),
        ] {
            let conn = rt
                .block_on(Connection::connect(config(endpoint, route)))
                .unwrap();
            // Let the adaptive router see both paths before measuring.
            sequential(&rt, &conn, 200);
            g.bench_function(BenchmarkId::new(regime, name), |b| {
                b.iter_custom(|iters| sequential(&rt, &conn, iters))
            });
            // 64 in flight fit the 404 client ring slots; 1024 do not (the rest waits for a
            // slot or takes the socket). The segment on an idle VPP does 100-200 calls/s:
            // no pipelines there.
            let pipelines: &[usize] = match (regime, name) {
                ("shm_idle", "segment") => &[],
                _ => &[64, 1024],
            };
            for &n in pipelines {
                g.throughput(Throughput::Elements(n as u64));
                g.bench_function(
                    BenchmarkId::new(regime, format!("{name}_pipelined_{n}")),
                    |b| b.iter_custom(|iters| pipelined(&rt, &conn, n, iters)),
                );
                g.throughput(Throughput::Elements(1));
            }
            rt.block_on(conn.close());
        }
    }
    g.finish();
    drop(busy.sim);
}

criterion_group!(benches, bench_transport);
criterion_main!(benches);
