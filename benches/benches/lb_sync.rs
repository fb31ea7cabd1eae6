//! Planning `lb sync` (operator-tools.md §4.6) for N VIPs with 10 ASes each: 11 keys per VIP
//! (the VIP and its derived ASes) plus `lb/conf`.
//!
//! - `lb_plan_create/N`: against a VPP without VIPs (every key a CREATE);
//! - `lb_plan_converged/N`: against a VPP already in that state (the second run: 0 operations);
//! - `lb_plan_recreate/N`: every VIP's table length changed (each VIP and its ASes recreated).
//!
//! `cargo bench -p vppapi-benches --bench lb_sync`. Applying against the simulator is measured
//! with the binary (README, "The load balancer").

use std::hint::black_box;
use std::net::{IpAddr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use evpn_tools::lb::sync::desired_state;
use evpn_tools::lb::{As, Encap, IpPrefix, LbConf, LbDesired, Proto, Vip};
use reconcile::{PlanOptions, State};

fn desired(n: u32, new_len: u32) -> LbDesired {
    let vips = (0..n)
        .map(|i| Vip {
            prefix: IpPrefix {
                addr: IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0x100,
                    0,
                    0,
                    0,
                    0,
                    i as u16 + 1,
                )),
                len: 128,
            },
            protocol: Proto::Tcp,
            port: 80,
            encap: Encap::Gre6,
            new_flows_table_length: new_len,
            src_ip_sticky: false,
            flush: true,
            ases: (1..=10)
                .map(|a| As {
                    address: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, i as u16, 0, 0, 0, a)),
                    weight: 100,
                })
                .collect(),
        })
        .collect();
    LbDesired {
        conf: Some(LbConf {
            ip4_src: "192.0.2.254".parse().unwrap(),
            ip6_src: "2001:db8::fe".parse().unwrap(),
            sticky_buckets_per_core: Some(1024),
            flow_timeout: Some(40),
        }),
        vips,
        ..Default::default()
    }
}

/// What a read of a VPP in the desired state gives: every derived AS as its own key.
fn as_read(d: &LbDesired) -> State<evpn_tools::lb::LbItem> {
    let engine = evpn_tools::lb::descriptors::engine();
    let mut s = State::new();
    for (k, e) in desired_state(d).iter() {
        s.insert(k, e.value.clone());
        if let Some(desc) = engine.descriptor_for(k) {
            for (dk, dv) in desc.derived(k, &e.value) {
                s.insert(dk, dv);
            }
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let engine = evpn_tools::lb::descriptors::engine();
    let mut g = c.benchmark_group("lb_sync");
    g.sample_size(20);
    for n in [100u32, 1000] {
        let d = desired(n, 1024);
        let want = desired_state(&d);
        let opts = PlanOptions {
            scope: d
                .vips
                .iter()
                .map(evpn_tools::lb::model::key::of_vip)
                .collect(),
            adopt_unowned: true,
            ..Default::default()
        };
        let empty = State::new();
        let plan = engine.plan(&want, &empty, &opts).unwrap();
        assert_eq!(plan.ops.len(), 11 * n as usize + 1);
        g.bench_with_input(BenchmarkId::new("lb_plan_create", n), &n, |b, _| {
            b.iter(|| {
                engine
                    .plan(black_box(&want), black_box(&empty), &opts)
                    .unwrap()
            })
        });
        let actual = as_read(&d);
        assert!(engine.plan(&want, &actual, &opts).unwrap().ops.is_empty());
        g.bench_with_input(BenchmarkId::new("lb_plan_converged", n), &n, |b, _| {
            b.iter(|| {
                engine
                    .plan(black_box(&want), black_box(&actual), &opts)
                    .unwrap()
            })
        });
        let changed = desired_state(&desired(n, 2048));
        let plan = engine.plan(&changed, &actual, &opts).unwrap();
        assert_eq!(plan.ops.len(), 22 * n as usize);
        g.bench_with_input(BenchmarkId::new("lb_plan_recreate", n), &n, |b, _| {
            b.iter(|| {
                engine
                    .plan(black_box(&changed), black_box(&actual), &opts)
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
