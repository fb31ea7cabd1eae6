//! vpp-sim throughput: a tiny raw client pipelines `control_ping`s over the Unix socket in
//! batches of 1000 and reads the 1000 replies; the simulator runs on a one-worker tokio
//! runtime (one core). Target: ≥ 500k requests/s.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vpp_sim::{SimConfig, Simulator};

const BATCH: usize = 1000;

fn bench_sim(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("vpp-sim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.sock");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt
        .block_on(Simulator::start(SimConfig::new(&path)))
        .unwrap();

    let mut s = UnixStream::connect(&path).unwrap();
    // sockclnt_create
    let mut body = vec![0u8, 15, 0, 0, 0, 1];
    body.extend_from_slice(&[0u8; 64]);
    let mut f = vec![0u8; 16];
    f[8..12].copy_from_slice(&(body.len() as u32).to_be_bytes());
    f.extend_from_slice(&body);
    s.write_all(&f).unwrap();
    let mut h = [0u8; 16];
    s.read_exact(&mut h).unwrap();
    let mut reply = vec![0u8; u32::from_be_bytes(h[8..12].try_into().unwrap()) as usize];
    s.read_exact(&mut reply).unwrap();
    let index: [u8; 4] = reply[14..18].try_into().unwrap();

    let mut pings = Vec::with_capacity(BATCH * 26);
    for i in 0..BATCH as u32 {
        pings.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 23]);
        pings.extend_from_slice(&index);
        pings.extend_from_slice(&(i + 1).to_be_bytes());
    }
    let mut replies = vec![0u8; BATCH * (16 + 18)];

    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("control_ping_pipelined_x1000", |b| {
        b.iter(|| {
            s.write_all(&pings).unwrap();
            s.read_exact(&mut replies).unwrap();
            assert_eq!(
                &replies[replies.len() - 4..],
                &std::process::id().to_be_bytes()
            );
        })
    });
    g.finish();
    drop(s);
    let _guard = rt.enter();
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_sim);
criterion_main!(benches);
