//! Segments built by the writer read back through the reader (always runs, no shared data).

use std::time::{Duration, Instant};

use vppapi_stats::prometheus::{escape_label_value, render, PrometheusOptions};
use vppapi_stats::writer::{SegmentWriter, WriterOptions};
use vppapi_stats::{
    Combined, EntryType, Log2Histogram, ReadOptions, StatValue, StatsError, StatsSegment,
};

fn writer(threads: usize) -> SegmentWriter {
    SegmentWriter::new(WriterOptions {
        size: 1 << 20,
        n_threads: threads,
    })
    .unwrap()
}

#[test]
fn every_entry_type_round_trips() {
    let mut w = writer(2);
    let hb = w.add_scalar("/sys/heartbeat", 7).unwrap();
    w.add_gauge("/sys/vector_rate", 185).unwrap();
    let drops = w.add_simple_counter("/if/drops", 3).unwrap();
    let rx = w.add_combined_counter("/if/rx", 3).unwrap();
    w.add_name_vector("/if/names", &[Some("local0"), None, Some("pg0")])
        .unwrap();
    w.add_symlink("/interfaces/pg0/rx", rx, 2).unwrap();
    w.add_symlink("/interfaces/pg0/drops", drops, 2).unwrap();
    let hist = w.add_histogram_log2("/test/latency", 4, 3).unwrap();
    let ring = w.add_ring_buffer("/test/ring", 32, 8).unwrap();
    w.add_raw("/test/future", 42, 0xabcd).unwrap();

    w.set_simple(drops, 0, 2, 5).unwrap();
    w.add_simple(drops, 1, 2, 6).unwrap();
    w.set_combined(rx, 0, 2, 10, 1000).unwrap();
    w.add_combined(rx, 1, 2, 1, 64).unwrap();
    w.set_simple(hist, 1, 2, 9).unwrap();
    w.set_ring_position(ring, 1, 3, 11).unwrap();
    w.set_value(hb, 8).unwrap();

    let seg = w.reader().unwrap();
    assert_ne!(seg.header().base, 0);
    assert_eq!(seg.read("/sys/heartbeat").unwrap(), StatValue::Scalar(8));
    assert_eq!(seg.read("/sys/vector_rate").unwrap(), StatValue::Gauge(185));
    let StatValue::Simple(d) = seg.read("/if/drops").unwrap() else {
        panic!()
    };
    assert_eq!(d.values, [vec![0, 0, 5], vec![0, 0, 6]]);
    assert_eq!((d.sum(2), d.per_thread(2)), (11, vec![5, 6]));
    assert_eq!(d.sums(), [0, 0, 11]);
    assert_eq!(
        seg.read("/interfaces/pg0/rx").unwrap(),
        StatValue::CombinedColumn(vec![
            Combined {
                packets: 10,
                bytes: 1000
            },
            Combined {
                packets: 1,
                bytes: 64
            }
        ])
    );
    assert_eq!(
        seg.read("/interfaces/pg0/drops").unwrap(),
        StatValue::SimpleColumn(vec![5, 6])
    );
    assert_eq!(
        seg.read("/if/names").unwrap(),
        StatValue::Names(vec![Some("local0".into()), None, Some("pg0".into())])
    );
    assert_eq!(
        seg.read("/test/latency").unwrap(),
        StatValue::HistogramLog2(vec![
            Log2Histogram {
                min_exp: 4,
                bins: vec![0, 0, 0]
            },
            Log2Histogram {
                min_exp: 4,
                bins: vec![0, 9, 0]
            }
        ])
    );
    let StatValue::RingBuffer(r) = seg.read("/test/ring").unwrap() else {
        panic!()
    };
    assert_eq!((r.entry_size, r.ring_size, r.n_threads), (32, 8, 2));
    assert_eq!((r.threads[1].head, r.threads[1].sequence), (3, 11));
    assert_eq!(
        seg.read("/test/future").unwrap(),
        StatValue::Unknown {
            type_code: 42,
            raw: 0xabcd
        }
    );
    let e = seg.read_entry("/test/future").unwrap();
    assert_eq!(e.entry_type, EntryType::Unknown(42));

    let pg0 = seg.interface_by_name("pg0").unwrap();
    assert_eq!(pg0.sw_if_index, 2);
    assert_eq!(pg0.drops(), 11);
    assert_eq!(
        pg0.rx(),
        Combined {
            packets: 11,
            bytes: 1064
        }
    );
    assert_eq!(seg.interface(0).unwrap().name.as_deref(), Some("local0"));
    assert_eq!(seg.interface(1).unwrap().name, None);
    assert_eq!(seg.ls(&["^/interfaces/"]).unwrap().len(), 2);
}

#[test]
fn remove_reuse_grow_and_handles() {
    let mut w = writer(1);
    let a = w.add_simple_counter("/a", 2).unwrap();
    w.add_scalar("/b", 1).unwrap();
    w.set_simple(a, 0, 1, 42).unwrap();
    let seg = w.reader().unwrap();
    let mut ha = seg.prepare("/a").unwrap();
    let mut hb = seg.prepare("/b").unwrap();
    assert_eq!(ha.index(), a);
    let e0 = seg.epoch();

    // Removed -> EMPTY, not listed, not found; the handle says so.
    w.remove("/a").unwrap();
    assert!(seg.epoch() > e0);
    assert_eq!(seg.read_index(a).unwrap().value, StatValue::Empty);
    assert_eq!(seg.ls(&[]).unwrap(), ["/b"]);
    assert!(matches!(
        seg.read_handle(&mut ha),
        Err(StatsError::NotFound(_))
    ));
    assert_eq!(seg.read_handle(&mut hb).unwrap(), StatValue::Scalar(1));

    // The free slot is reused; "/a" comes back at another index; the handle follows it.
    let c = w.add_scalar("/c", 3).unwrap();
    assert_eq!(c, a);
    let a2 = w.add_simple_counter("/a", 1).unwrap();
    assert_ne!(a2, a);
    w.set_simple(a2, 0, 0, 9).unwrap();
    let StatValue::Simple(v) = seg.read_handle(&mut ha).unwrap() else {
        panic!()
    };
    assert_eq!((ha.index(), v.values), (a2, vec![vec![9]]));

    // Growing the directory past its capacity moves it; everything still reads.
    let dir0 = seg.header().directory_vector;
    for i in 0..200 {
        w.add_gauge(&format!("/g/{i}"), i).unwrap();
    }
    assert_ne!(seg.header().directory_vector, dir0);
    assert_eq!(seg.read("/g/199").unwrap(), StatValue::Gauge(199));
    assert_eq!(seg.read_handle(&mut hb).unwrap(), StatValue::Scalar(1));
    let vals = seg.read_handles(&mut [ha.clone(), hb.clone()]).unwrap();
    assert_eq!(vals[1], StatValue::Scalar(1));

    // Resizing moves the counter vectors and keeps the values.
    let StatValue::Simple(_) = seg.read("/a").unwrap() else {
        panic!()
    };
    w.resize_counter(a2, 1000).unwrap();
    let StatValue::Simple(v) = seg.read("/a").unwrap() else {
        panic!()
    };
    assert_eq!((v.values[0].len(), v.values[0][0]), (1000, 9));

    // Removing a counter removes the symlinks into it.
    w.add_symlink("/a/0", a2, 0).unwrap();
    assert_eq!(seg.read("/a/0").unwrap(), StatValue::SimpleColumn(vec![9]));
    w.remove("/a").unwrap();
    assert!(matches!(seg.read("/a/0"), Err(StatsError::NotFound(_))));

    // Writer misuse is an error, not a panic.
    assert!(w.add_scalar("/b", 0).is_err());
    assert!(w.add_scalar(&"x".repeat(128), 0).is_err());
    assert!(w.set_simple(9999, 0, 0, 1).is_err());
    assert!(w.add_symlink("/l", w.index_of("/b").unwrap(), 0).is_err());
    // No interface vectors at all: no interface.
    assert!(matches!(
        seg.interface(0),
        Err(StatsError::NoSuchInterface(_))
    ));
    assert!(matches!(
        seg.interface_by_name("pg0"),
        Err(StatsError::NotFound(_))
    ));
    assert!(seg.interface_counters().unwrap().is_empty());
}

#[test]
fn wedged_segment_is_busy_within_the_timeout() {
    let mut w = writer(1);
    w.add_scalar("/x", 1).unwrap();
    let seg = w.reader().unwrap().with_options(ReadOptions {
        busy_timeout: Duration::from_millis(100),
    });
    w.wedge();
    let t = Instant::now();
    let e = seg.read("/x").unwrap_err();
    assert!(matches!(e, StatsError::Busy { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(e.to_string().contains("busy"));
}

#[test]
fn corrupt_pointers_are_errors() {
    let mut w = writer(1);
    let rx = w.add_combined_counter("/if/rx", 2).unwrap();
    w.add_symlink("/l", rx, 1).unwrap();
    let seg = w.reader().unwrap();
    // Copy the segment and break it in a few ways.
    let mut bytes = Vec::new();
    {
        let f = std::fs::File::open(format!("/proc/self/fd/{}", {
            use std::os::fd::AsRawFd;
            w.fd().as_raw_fd()
        }))
        .unwrap();
        use std::io::Read;
        std::io::BufReader::new(f).read_to_end(&mut bytes).unwrap();
    }
    assert_eq!(bytes.len(), seg.size());
    let ok = StatsSegment::from_bytes(&bytes).unwrap();
    assert_eq!(ok.dump(&[]).unwrap(), seg.dump(&[]).unwrap());
    let h = seg.header();
    let dir = (h.directory_vector - h.base) as usize;
    let put =
        |b: &mut Vec<u8>, off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_ne_bytes());

    // Directory pointer below base / past the end.
    for bad in [1u64, h.base + (1 << 30), u64::MAX] {
        let mut b = bytes.clone();
        put(&mut b, 32, bad);
        let e = StatsSegment::from_bytes(&b).unwrap().ls(&[]).unwrap_err();
        assert!(matches!(e, StatsError::Corrupt { .. }), "{e}");
    }
    // Huge directory length.
    let mut b = bytes.clone();
    b[dir - 8..dir - 4].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert!(StatsSegment::from_bytes(&b).unwrap().ls(&[]).is_err());
    // Counter data pointer garbage.
    let mut b = bytes.clone();
    put(&mut b, dir + rx as usize * 144 + 8, 0xdead_beef);
    let s = StatsSegment::from_bytes(&b).unwrap();
    let e = s.read("/if/rx").unwrap_err();
    assert!(e.to_string().contains("/if/rx"), "{e}");
    assert!(s.read("/l").is_err());
    // Symlink target beyond the directory.
    let mut b = bytes.clone();
    put(&mut b, dir + 144 + 8, 999);
    assert!(StatsSegment::from_bytes(&b).unwrap().read("/l").is_err());
}

#[test]
fn prometheus_names_and_escaping() {
    let mut w = writer(1);
    let rx = w.add_combined_counter("/if/rx", 2).unwrap();
    let tx = w.add_combined_counter("/if/tx", 2).unwrap();
    let drops = w.add_simple_counter("/if/drops", 2).unwrap();
    w.add_name_vector("/if/names", &[Some("local0"), Some("we\"ird\\if\n")])
        .unwrap();
    w.add_gauge("/buffer-pools/default-numa-0/cached", 288)
        .unwrap();
    let lb = w.add_simple_counter("first session packet", 2).unwrap();
    w.set_combined(rx, 0, 1, 3, 300).unwrap();
    w.set_combined(tx, 0, 1, 4, 400).unwrap();
    w.set_simple(drops, 0, 1, 2).unwrap();
    w.set_simple(lb, 0, 1, 5).unwrap();
    let seg = w.reader().unwrap();
    let text = render(&seg, &PrometheusOptions::default()).unwrap();
    let expected = r#"# HELP vpp_interface_rx_packets_total Packets received (/if/rx)
# TYPE vpp_interface_rx_packets_total counter
vpp_interface_rx_packets_total{interface="local0",sw_if_index="0"} 0
vpp_interface_rx_packets_total{interface="we\"ird\\if\n",sw_if_index="1"} 3
# HELP vpp_interface_rx_bytes_total Bytes received (/if/rx)
# TYPE vpp_interface_rx_bytes_total counter
vpp_interface_rx_bytes_total{interface="local0",sw_if_index="0"} 0
vpp_interface_rx_bytes_total{interface="we\"ird\\if\n",sw_if_index="1"} 300
# HELP vpp_interface_tx_packets_total Packets transmitted (/if/tx)
# TYPE vpp_interface_tx_packets_total counter
vpp_interface_tx_packets_total{interface="local0",sw_if_index="0"} 0
vpp_interface_tx_packets_total{interface="we\"ird\\if\n",sw_if_index="1"} 4
# HELP vpp_interface_tx_bytes_total Bytes transmitted (/if/tx)
# TYPE vpp_interface_tx_bytes_total counter
vpp_interface_tx_bytes_total{interface="local0",sw_if_index="0"} 0
vpp_interface_tx_bytes_total{interface="we\"ird\\if\n",sw_if_index="1"} 400
# HELP vpp_interface_drops_total Packets dropped (/if/drops)
# TYPE vpp_interface_drops_total counter
vpp_interface_drops_total{interface="local0",sw_if_index="0"} 0
vpp_interface_drops_total{interface="we\"ird\\if\n",sw_if_index="1"} 2
# HELP vpp_lb_vip_packets_total LB plugin per-VIP packet counters
# TYPE vpp_lb_vip_packets_total counter
vpp_lb_vip_packets_total{counter="first_session_packet",vip_index="0"} 0
vpp_lb_vip_packets_total{counter="first_session_packet",vip_index="1"} 5
# HELP vpp_buffer_pools_default_numa_0_cached VPP gauge /buffer-pools/default-numa-0/cached
# TYPE vpp_buffer_pools_default_numa_0_cached gauge
vpp_buffer_pools_default_numa_0_cached 288
"#;
    assert_eq!(text, expected);
    assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    let only_gauges = render(
        &seg,
        &PrometheusOptions {
            interfaces: false,
            lb: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(only_gauges.lines().count(), 3);
}
