//! The async connection (`vppapi-runtime`) against the simulator (`vpp-sim`, in process on
//! its own one-worker runtime): sequential calls/s, pipelined calls/s with N in flight,
//! details/s of large dumps. vpp_papi's figures on the same simulator come from
//! `vppapi-runtime/bench/papi_connection.py`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::future::join_all;
use futures_util::StreamExt;
use vpp_sim::{SimConfig, Simulator};
use vppapi_runtime::memclnt::ControlPing;
use vppapi_runtime::{Config, Connection};

#[path = "../../vppapi-codec/tests/common/msgs.rs"]
mod msgs;
use msgs::SwInterfaceDump;

fn add_ifaces(sim: &Simulator, n: u32) {
    sim.with_model(|m| {
        m.add_loopbacks_up_to(n);
    });
}

fn bench_runtime(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("vppapi-runtime-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.sock");
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt
        .block_on(Simulator::start(SimConfig::new(&path)))
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = Config::new(&path);
    cfg.health.interval = Duration::from_secs(3600);
    let conn = rt.block_on(Connection::connect(cfg)).unwrap();

    let mut g = c.benchmark_group("runtime");
    g.throughput(Throughput::Elements(1));
    g.bench_function("control_ping_sequential", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    conn.call(&ControlPing {}).await.unwrap();
                }
                t.elapsed()
            })
        })
    });
    for n in [16usize, 256] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("control_ping_in_flight", n),
            &n,
            |b, &n| {
                b.iter_custom(|iters| {
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
                })
            },
        );
    }
    g.sample_size(10);
    for n in [10_000u32, 100_000] {
        add_ifaces(&sim, n);
        g.throughput(Throughput::Elements(n as u64 + 1));
        g.bench_with_input(
            BenchmarkId::new("sw_interface_dump_details", n),
            &n,
            |b, &n| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let t = Instant::now();
                        for _ in 0..iters {
                            let mut s = conn.dump(&SwInterfaceDump::default()).await.unwrap();
                            let mut k = 0u32;
                            while let Some(d) = s.next().await {
                                d.unwrap();
                                k += 1;
                            }
                            assert_eq!(k, n + 1);
                        }
                        t.elapsed()
                    })
                })
            },
        );
    }
    g.finish();
    rt.block_on(conn.close());
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_runtime);
criterion_main!(benches);
