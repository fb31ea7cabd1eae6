//! Planning with the eVPN descriptors: a gateway of N bridge domains, each with a BVI loopback
//! (MAC, link-local, admin up) and two addresses, i.e. 8 keys per BD after derivation.
//!
//! - `plan_create/N`: against an empty VPP (every key a CREATE);
//! - `plan_converged/N`: against a VPP already in that state (0 operations: the second run);
//! - `plan_move/N`: one gateway's addresses released (a handful of deletes and updates).
//!
//! N = 1250 gives 10,000 keys. `cargo bench -p vppapi-benches --bench reconcile`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use evpn_tools::mac::Mac;
use evpn_tools::model::{bvi_tag, key, Bd, IfAddr, Item, Loopback};
use reconcile::{PlanOptions, State};

fn gateway(n: u32) -> State<Item> {
    let mut s = State::new();
    for i in 1..=n {
        s.insert(key::bd(i), Item::Bd(Bd::new(i)));
        let mac = Mac([2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        let a = |t: String| t.parse::<IfAddr>().unwrap();
        s.insert(
            key::iface(&format!("loop{i}")),
            Item::Loopback(Loopback {
                instance: i,
                mac,
                tag: bvi_tag(mac),
                mtu: None,
                ll: Some(mac.link_local()),
                up: true,
                addrs: vec![
                    a(format!("10.{}.{}.1/24", i >> 8, i & 255)),
                    a(format!("fd00:0:0:{i:x}::1/64")),
                ],
                bvi_of: Some(i),
                lcp: None,
            }),
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let engine = evpn_tools::descriptors::engine();
    let opts = PlanOptions {
        scope: ["bd/", "interface/"].map(String::from).to_vec(),
        ..Default::default()
    };
    let mut g = c.benchmark_group("reconcile");
    g.sample_size(20);
    for n in [125u32, 1250] {
        let desired = gateway(n);
        let empty = State::new();
        let plan = engine.plan(&desired, &empty, &opts).unwrap();
        assert_eq!(plan.ops.len(), 8 * n as usize);
        g.bench_with_input(BenchmarkId::new("plan_create", n), &n, |b, _| {
            b.iter(|| {
                engine
                    .plan(black_box(&desired), black_box(&empty), &opts)
                    .unwrap()
            })
        });
        let actual = desired.clone();
        assert!(engine.plan(&desired, &actual, &opts).unwrap().is_empty());
        g.bench_with_input(BenchmarkId::new("plan_converged", n), &n, |b, _| {
            b.iter(|| {
                engine
                    .plan(black_box(&desired), black_box(&actual), &opts)
                    .unwrap()
            })
        });
        let mut moved = desired.clone();
        if let Some(Item::Loopback(l)) = moved.get("interface/loop1").map(|e| e.value.clone()) {
            let mut l = l;
            l.addrs.clear();
            moved.insert("interface/loop1", Item::Loopback(l));
        }
        g.bench_with_input(BenchmarkId::new("plan_move", n), &n, |b, _| {
            b.iter(|| {
                engine
                    .plan(black_box(&moved), black_box(&actual), &opts)
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
