//! Reading all interface counters (9 simple + 8 combined vectors, every thread, and the names)
//! of a stats segment with 10k interfaces built by `vppapi_stats::writer`.
//!
//! vpp_papi's reader on the same segment: `vppapi-stats/scripts/papi_stats_bench.py`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vppapi_stats::writer::interface_segment;

const INTERFACES: usize = 10_000;
const THREADS: usize = 2;

fn stats_read(c: &mut Criterion) {
    let w = interface_segment(INTERFACES, THREADS, false).expect("segment");
    let seg = w.reader().expect("reader");
    let all = seg.interface_counters().expect("read");
    assert_eq!(all.len(), INTERFACES);
    assert_eq!(all.get(9_999).unwrap().rx().packets, 9_999 + 1 + 9_999 + 2);

    let mut g = c.benchmark_group("stats_read");
    g.throughput(Throughput::Elements(INTERFACES as u64));
    g.bench_function("interface_counters_10k_2threads", |b| {
        b.iter(|| seg.interface_counters().expect("read"))
    });
    g.bench_function("dump_if_10k_2threads", |b| {
        b.iter(|| seg.dump(&["^/if/"]).expect("dump"))
    });
    g.bench_function("if_names_10k", |b| {
        b.iter(|| seg.read("/if/names").expect("read"))
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_interface_by_index", |b| {
        b.iter(|| seg.interface(5_000).expect("read"))
    });
    let mut h = seg.prepare("/if/rx").expect("prepare");
    g.bench_function("handle_if_rx_10k", |b| {
        b.iter(|| seg.read_handle(&mut h).expect("read"))
    });
    g.finish();
}

criterion_group!(benches, stats_read);
criterion_main!(benches);
