//! Building VPP's Maglev new-flow table: the crate's fill (`maglev::vpp_table`: presorted keys,
//! masks, direct pick of the last free slots) against the literal port of VPP's C loop
//! (`maglev::c_loop`), both giving the same table.
//!
//! - `vpp_table/M/N` and `c_loop/M/N`: M = 65536 with 1,000 IPv6 ASes, M = 1024 with 3 (v26.06).
//!
//! `cargo bench -p vppapi-benches --bench maglev`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use maglev::{c_loop, vpp_table, Backend, Variant};

fn ases(n: u32) -> Vec<Backend> {
    (1..=n)
        .map(|i| {
            let a = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, (i >> 16) as u16, i as u16);
            Backend::new(IpAddr::V6(a), 100)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("maglev");
    for (m, n) in [(65536usize, 1000u32), (1024, 3)] {
        let b = ases(n);
        assert_eq!(
            vpp_table(&b, m, Variant::Vpp2606).unwrap(),
            c_loop::new_flow_table(&b, m, Variant::Vpp2606).unwrap()
        );
        let id = format!("{m}/{n}");
        g.bench_with_input(BenchmarkId::new("vpp_table", &id), &b, |bch, b| {
            bch.iter(|| vpp_table(black_box(b), m, Variant::Vpp2606).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("c_loop", &id), &b, |bch, b| {
            bch.iter(|| c_loop::new_flow_table(black_box(b), m, Variant::Vpp2606).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
