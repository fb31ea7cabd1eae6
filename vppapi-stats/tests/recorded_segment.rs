//! The real VPP 26.06 segment from `../shared/vpp-traces` read back against what vpp_papi decoded.

use std::io::Read;
use std::path::PathBuf;

use serde_json::{json, Value};
use vppapi_stats::prometheus::{render, PrometheusOptions};
use vppapi_stats::{EntryType, StatValue, StatsError, StatsSegment};

/// Entries VPP was updating between the copy of the segment and vpp_papi's read (README of the
/// recording). Their values may differ; their shape must not.
const MAY_DIFFER: [&str; 2] = ["/sys/heartbeat", "/sys/last_update"];
const MAY_DIFFER_PREFIX: &str = "/mem/";

fn traces_root() -> PathBuf {
    std::env::var_os("VPP_TRACES_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/vpp-traces"
            ))
        })
}

fn load() -> Option<(Vec<u8>, Value)> {
    let dir = traces_root().join("26.06");
    let seg = dir.join("stats-segment.bin.gz");
    let exp = dir.join("stats-expected.json");
    if !seg.is_file() || !exp.is_file() {
        eprintln!(
            "NOTICE: skipping: recorded stats segment not found under {} (set VPP_TRACES_ROOT)",
            dir.display()
        );
        return None;
    }
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&seg).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&exp).unwrap()).unwrap();
    Some((bytes, expected))
}

/// The value in vpp_papi's JSON shape.
fn papi_json(v: &StatValue) -> Value {
    match v {
        StatValue::Scalar(x) | StatValue::Gauge(x) => json!(x),
        StatValue::Simple(c) => json!(c.values),
        StatValue::Combined(c) => Value::Array(
            c.values
                .iter()
                .map(|t| t.iter().map(|x| json!([x.packets, x.bytes])).collect())
                .collect(),
        ),
        StatValue::Names(n) => json!(n),
        StatValue::SimpleColumn(c) => json!(c),
        StatValue::CombinedColumn(c) => {
            Value::Array(c.iter().map(|x| json!([x.packets, x.bytes])).collect())
        }
        other => panic!("no vpp_papi shape for {other:?}"),
    }
}

fn shape(v: &Value) -> Value {
    match v {
        Value::Number(_) => json!(0),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_entry_matches_vpp_papi() {
    let Some((bytes, expected)) = load() else {
        return;
    };
    let seg = StatsSegment::from_bytes(&bytes).unwrap();
    assert_eq!(seg.size(), expected["size"].as_u64().unwrap() as usize);
    let h = seg.header();
    let eh = &expected["header"];
    assert_eq!(h.version, eh["version"].as_u64().unwrap());
    assert_eq!(h.base, eh["base"].as_u64().unwrap());
    assert_eq!(h.epoch, eh["epoch"].as_u64().unwrap());
    assert_eq!(h.in_progress, eh["in_progress"].as_u64().unwrap());
    assert_eq!(h.directory_vector, eh["directory_vector"].as_u64().unwrap());

    let entries = expected["entries"].as_object().unwrap();
    let dump = seg.dump(&[]).unwrap();
    assert_eq!(dump.len(), entries.len());
    let mut exact = 0;
    for e in &dump {
        let want = entries
            .get(&e.name)
            .unwrap_or_else(|| panic!("{} not in stats-expected.json", e.name));
        let got = papi_json(&e.value);
        if MAY_DIFFER.contains(&e.name.as_str()) || e.name.starts_with(MAY_DIFFER_PREFIX) {
            assert_eq!(shape(&got), shape(want), "{}", e.name);
        } else {
            assert_eq!(&got, want, "{}", e.name);
            exact += 1;
        }
        // Reading by name gives the same as the snapshot.
        assert_eq!(seg.read(&e.name).unwrap(), e.value, "{}", e.name);
    }
    assert!(exact > 3000, "{exact} entries compared exactly");
    // Every entry type of the recording was seen.
    for t in [
        EntryType::Scalar,
        EntryType::CounterSimple,
        EntryType::CounterCombined,
        EntryType::NameVector,
        EntryType::Symlink,
        EntryType::Gauge,
    ] {
        assert!(dump.iter().any(|e| e.entry_type == t), "{t}");
    }
}

#[test]
fn interfaces_symlinks_and_prometheus() {
    let Some((bytes, _)) = load() else {
        return;
    };
    let seg = StatsSegment::from_bytes(&bytes).unwrap();
    let pg0 = seg.interface_by_name("pg0").unwrap();
    assert_eq!(pg0.sw_if_index, 2);
    assert_eq!((pg0.rx().packets, pg0.rx().bytes), (1876, 222152));
    assert_eq!(pg0.drops(), 1876);
    assert_eq!(pg0.simple("ip4"), 1234);
    assert_eq!(seg.interface(2).unwrap(), pg0);
    assert_eq!(seg.interface(1).unwrap().name.as_deref(), Some("loop7"));
    assert!(matches!(
        seg.interface(4),
        Err(StatsError::NoSuchInterface(_))
    ));
    assert!(matches!(
        seg.interface_by_name("eth9"),
        Err(StatsError::NoSuchInterface(_))
    ));
    let all = seg.interface_counters().unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all.index_of("pg-1"), Some(3));
    assert_eq!(all.get(1).unwrap().tx().bytes, 84);

    let link = seg.read_entry("/interfaces/pg0/rx").unwrap();
    assert_eq!(link.entry_type, EntryType::Symlink);
    let target = seg.read_entry("/if/rx").unwrap();
    assert_eq!(link.link, Some((target.index, 2)));
    let StatValue::CombinedColumn(c) = link.value else {
        panic!("{link:?}")
    };
    assert_eq!(c[0].packets, 1876);

    assert_eq!(seg.ls(&["^/if/names$"]).unwrap(), ["/if/names"]);
    assert_eq!(seg.ls(&["^/if/rx", "^/if/tx$"]).unwrap().len(), 8);
    assert_eq!(seg.ls(&["^/err/"]).unwrap().len(), 3103 - 17 * 4 - 3 * 2);
    assert!(matches!(seg.ls(&["("]), Err(StatsError::Pattern(_))));
    assert!(matches!(seg.read("/nope"), Err(StatsError::NotFound(_))));

    let text = render(&seg, &PrometheusOptions::default()).unwrap();
    for line in [
        "# TYPE vpp_interface_rx_packets_total counter",
        "vpp_interface_rx_packets_total{interface=\"pg0\",sw_if_index=\"2\"} 1876",
        "vpp_interface_rx_bytes_total{interface=\"pg0\",sw_if_index=\"2\"} 222152",
        "vpp_interface_tx_bytes_total{interface=\"loop7\",sw_if_index=\"1\"} 84",
        "vpp_interface_drops_total{interface=\"pg0\",sw_if_index=\"2\"} 1876",
        "vpp_lb_vip_packets_total{counter=\"packet_from_existing_sessions\",vip_index=\"1\"} 320",
        "# TYPE vpp_sys_vector_rate gauge",
        "vpp_sys_vector_rate 185",
        "vpp_buffer_pools_default_numa_0_available 5690",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn refuses_other_versions_and_truncation() {
    let Some((mut bytes, _)) = load() else {
        return;
    };
    bytes[0] = 1;
    assert!(matches!(
        StatsSegment::from_bytes(&bytes),
        Err(StatsError::UnsupportedVersion { found: 1 })
    ));
    bytes[0] = 2;
    // Cut the segment in the middle of the directory: errors, no panic.
    let seg = StatsSegment::from_bytes(&bytes[..0x1e000]).unwrap();
    assert!(matches!(seg.dump(&[]), Err(StatsError::Corrupt { .. })));
    assert!(matches!(
        StatsSegment::from_bytes(&bytes[..39]),
        Err(StatsError::TooSmall { size: 39 })
    ));
}

/// Deterministic xorshift: the test needs varied, reproducible mutations, not crypto.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn mutated_real_segment_gives_errors_not_panics() {
    use std::os::unix::fs::FileExt;
    let Some((bytes, _)) = load() else {
        return;
    };
    // The segment in a file mapped MAP_SHARED: the mutations land under the live mapping, like
    // a misbehaving writer would make them.
    let file = tempfile::tempfile().unwrap();
    file.write_all_at(&bytes, 0).unwrap();
    let seg = StatsSegment::open_file(format!("/proc/self/fd/{}", {
        use std::os::fd::AsRawFd;
        file.as_raw_fd()
    }))
    .unwrap()
    .with_options(vppapi_stats::ReadOptions {
        busy_timeout: std::time::Duration::ZERO,
    });
    let h = seg.header();
    let dir = (h.directory_vector - h.base) as usize;
    let n_dir = 3161u64;
    // Data pointers of some counter entries (thread vectors), to mutate vectors too.
    let counters: Vec<usize> = seg
        .list(&["^/if/", "^/node/errors$"])
        .unwrap()
        .into_iter()
        .filter_map(|(i, _, t)| {
            matches!(t, EntryType::CounterSimple | EntryType::CounterCombined).then(|| {
                let off = dir + i as usize * 144 + 8;
                let p = u64::from_ne_bytes(bytes[off..off + 8].try_into().unwrap());
                (p - h.base) as usize
            })
        })
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..300 {
        let off = match rng.below(4) {
            0 => rng.below(40) as usize,
            1 => dir - 8 + rng.below(n_dir * 144 + 8) as usize,
            2 => counters[rng.below(counters.len() as u64) as usize] - 8 + rng.below(24) as usize,
            _ => dir + (rng.below(n_dir) * 144 + 8) as usize,
        };
        let value: u64 = match rng.below(4) {
            0 => rng.next(),
            1 => h.base + rng.below(bytes.len() as u64 + 4096),
            2 => rng.below(1 << 20),
            _ => u64::from(u32::MAX) - rng.below(4),
        };
        let len = 1 + rng.below(8) as usize;
        let patch = &value.to_ne_bytes()[..len.min(bytes.len() - off)];
        file.write_all_at(patch, off as u64).unwrap();
        for r in [
            seg.dump(&[]).map(|_| ()),
            seg.interface_counters().map(|_| ()),
            seg.read("/interfaces/pg0/rx").map(|_| ()),
            seg.interface_by_name("pg0").map(|_| ()),
            render(&seg, &PrometheusOptions::default()).map(|_| ()),
        ] {
            match r {
                Ok(()) => ok += 1,
                Err(_) => err += 1,
            }
        }
        // Restore, so each round tests one mutation on a valid segment.
        file.write_all_at(&bytes[off..off + patch.len()], off as u64)
            .unwrap();
    }
    eprintln!("mutated reads: {ok} ok, {err} errors");
    assert!(err > 0 && ok > 0);
    // Restored: reads as before.
    assert_eq!(seg.dump(&[]).unwrap().len(), 3161);
}
