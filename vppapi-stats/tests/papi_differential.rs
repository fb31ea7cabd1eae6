//! vpp_papi's stats reader (the independent oracle) reads a segment served by our writer and
//! must decode every entry as our reader does: checks the writer's layout and the socket
//! protocol against VPP's own client. Needs `VPPAPI_PAPI_PYTHON` (a Python with vpp_papi 2.4.2).

use std::process::Command;

use serde_json::{json, Value};
use vppapi_stats::writer::interface_segment;
use vppapi_stats::StatValue;

const PAPI_DUMP: &str = r#"
import json, sys
from vpp_papi.vpp_stats import VPPStats
s = VPPStats(socketname=sys.argv[1])
s.connect()
out = {}
for name in s.ls(['.*']):
    v = s[name]
    if hasattr(v, 'min_exp'):
        v = {'min_exp': v.min_exp, 'bins': v.bins}
    elif hasattr(v, 'config'):
        v = v.config
    out[name] = v
print(json.dumps({'epoch': s.epoch, 'entries': out}))
"#;

fn ours(v: &StatValue) -> Value {
    match v {
        StatValue::Scalar(x) | StatValue::Gauge(x) => json!(x),
        StatValue::Simple(c) => json!(c.values),
        StatValue::Combined(c) => Value::Array(
            c.values
                .iter()
                .map(|t| t.iter().map(|x| json!([x.packets, x.bytes])).collect())
                .collect(),
        ),
        // vpp_papi leaves NULL names out.
        StatValue::Names(n) => json!(n.iter().flatten().collect::<Vec<_>>()),
        StatValue::SimpleColumn(c) => json!(c),
        StatValue::CombinedColumn(c) => {
            Value::Array(c.iter().map(|x| json!([x.packets, x.bytes])).collect())
        }
        StatValue::HistogramLog2(h) => json!({
            "min_exp": h.iter().map(|t| t.min_exp).next_back().unwrap_or(0),
            "bins": h.iter().map(|t| t.bins.clone()).collect::<Vec<_>>(),
        }),
        StatValue::RingBuffer(r) => json!({
            "entry_size": r.entry_size,
            "ring_size": r.ring_size,
            "n_threads": r.n_threads,
            "schema_size": r.schema_size,
            "schema_version": r.schema_version,
        }),
        StatValue::Unknown { .. } | StatValue::Empty => Value::Null,
    }
}

#[test]
fn vpp_papi_reads_the_writer_segment_like_we_do() {
    let Some(python) = std::env::var_os("VPPAPI_PAPI_PYTHON") else {
        eprintln!("NOTICE: skipping: VPPAPI_PAPI_PYTHON is not set (a Python with vpp_papi)");
        return;
    };
    let mut w = interface_segment(5, 3, true).unwrap();
    let names = w.index_of("/if/names").unwrap();
    w.set_name(names, 7, Some("late0")).unwrap();
    w.add_gauge("/sys/vector_rate", 185).unwrap();
    w.add_scalar("/sys/boottime", 1_795_286_080).unwrap();
    let errors = w.add_simple_counter("/node/errors", 4).unwrap();
    w.add_simple(errors, 2, 3, 17).unwrap();
    w.add_symlink("/err/ip4-input/bad checksum", errors, 3)
        .unwrap();
    let h = w.add_histogram_log2("/test/hist", 3, 4).unwrap();
    w.add_simple(h, 2, 2, 5).unwrap();
    w.add_ring_buffer("/test/ring", 16, 4).unwrap();
    w.add_scalar("/test/removed", 1).unwrap();
    w.remove("/test/removed").unwrap();

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("stats.sock");
    let _server = w.serve(&sock).unwrap();
    let out = Command::new(python)
        .arg("-c")
        .arg(PAPI_DUMP)
        .arg(&sock)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vpp_papi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let papi: Value = serde_json::from_slice(&out.stdout).unwrap();

    let seg = w.reader().unwrap();
    assert_eq!(papi["epoch"].as_u64(), Some(seg.epoch()));
    let papi = papi["entries"].as_object().unwrap();
    let dump = seg.dump(&[]).unwrap();
    // vpp_papi lists EMPTY slots too (with an empty name); we leave them out.
    assert_eq!(
        dump.len(),
        papi.keys().filter(|k| !k.is_empty()).count(),
        "{:?}",
        papi.keys().collect::<Vec<_>>()
    );
    assert!(dump.len() > 5 * 17);
    eprintln!("compared {} entries with vpp_papi", dump.len());
    for e in &dump {
        let want = papi
            .get(&e.name)
            .unwrap_or_else(|| panic!("vpp_papi did not list {}", e.name));
        assert_eq!(&ours(&e.value), want, "{}", e.name);
    }
}
