//! Codec speed: encode, owned decode and zero-copy view of `control_ping`,
//! `sw_interface_details`, `ip_route_add_del` (4 paths) and `lb_add_del_as`.
//! Throughput is message bytes (from `_vl_msg_id` on).
//!
//! `cargo bench -p vppapi-benches --bench codec -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::net::Ipv4Addr;
use vppapi_runtime::codec::{
    decode_message, encode_message, message_len, view_message, Message, Wire,
};
use vppapi_runtime::{Address, AddressWithPrefix, InterfaceIndex, MacAddress, Prefix};

// msgs.rs carries its own `#![allow(dead_code)]`.
#[path = "../../vppapi-codec/tests/common/msgs.rs"]
mod msgs;
use msgs::*;

fn details() -> SwInterfaceDetails {
    SwInterfaceDetails {
        sw_if_index: InterfaceIndex(1),
        sup_sw_if_index: 1,
        l2_address: MacAddress([0xde, 0xad, 0xbe, 0xef, 0, 1]),
        flags: IfStatusFlags(3),
        link_speed: 10_000_000,
        link_mtu: 9000,
        mtu: [9000, 0, 0, 0],
        interface_name: "host-vpp1out".into(),
        interface_dev_type: "af_packet".into(),
        tag: "uplink".into(),
        ..Default::default()
    }
}

fn route() -> IpRouteAddDel {
    IpRouteAddDel {
        is_add: true,
        is_multipath: false,
        route: IpRoute {
            table_id: 0,
            stats_index: 0,
            prefix: "10.20.0.0/16".parse().unwrap(),
            paths: (0..4u8)
                .map(|i| FibPath {
                    sw_if_index: u32::from(i) + 1,
                    weight: 1,
                    proto: FibPathNhProto::FIB_API_PATH_NH_PROTO_IP4,
                    nh: FibPathNh {
                        address: Ipv4Addr::new(192, 168, 0, i + 1).into(),
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .collect(),
        },
    }
}

fn lb_as() -> LbAddDelAs {
    LbAddDelAs {
        // lb <= 26.06 wants 96 + the IPv4 length (wire doc 7.6), which `FromStr` rightly refuses.
        pfx: AddressWithPrefix(Prefix::new(Ipv4Addr::new(192, 0, 2, 1), 128)),
        protocol: 6,
        port: 80,
        as_address: Address::from(Ipv4Addr::new(10, 0, 0, 7)),
        is_del: false,
        is_flush: false,
    }
}

fn bench_msg<M: Message, R>(
    c: &mut Criterion,
    label: &str,
    msg: &M,
    read: impl Fn(&M::View<'_>) -> R,
) {
    let len = message_len(msg);
    let mut buf = vec![0u8; len];
    encode_message(msg, 0x123, [0x80, 0, 0, 1], 7, &mut buf).unwrap();
    let mut g = c.benchmark_group(format!("codec/{label}"));
    g.throughput(Throughput::Bytes(len as u64));
    let mut out = vec![0u8; len];
    g.bench_function("encode", |b| {
        b.iter(|| encode_message(black_box(msg), 0x123, [0x80, 0, 0, 1], 7, &mut out).unwrap())
    });
    g.bench_function("decode", |b| {
        b.iter(|| decode_message::<M>(black_box(&buf)).unwrap())
    });
    g.bench_function("view", |b| {
        b.iter(|| {
            let (_, v, _) = view_message::<M>(black_box(&buf)).unwrap();
            read(&v)
        })
    });
    g.finish();
}

fn codec(c: &mut Criterion) {
    bench_msg(c, "control_ping", &ControlPing {}, |_| ());
    bench_msg(c, "sw_interface_details", &details(), |v| {
        (
            v.sw_if_index(),
            v.link_mtu(),
            v.interface_name_bytes().len(),
        )
    });
    bench_msg(c, "ip_route_add_del_4_paths", &route(), |v| {
        v.route()
            .paths()
            .iter()
            .map(|p| p.sw_if_index())
            .sum::<u32>()
    });
    bench_msg(c, "lb_add_del_as", &lb_as(), |v| (v.port(), v.is_del()));
    let _ = <ControlPing as Wire>::FIXED_SIZE;
}

criterion_group!(benches, codec);
criterion_main!(benches);
