//! Loading a whole API tree: parse every `.api.json`, resolve the type table, lay out every
//! type and message, classify, and re-derive and check every message CRC (with
//! `[backwards_compatible]` inference); and, separately, the on-demand file version check.
//!
//! Tree: `$VPP_API_ROOT/26.06` (default `../shared/vpp-api/26.06` beside the repo), else the
//! fixture tree in the repo. Run:
//! `cargo bench -p vppapi-benches --bench api_json_load -- --warm-up-time 1 --measurement-time 3`

use std::path::PathBuf;

use api_json::{api::collect_files, json, Api};
use criterion::{criterion_group, criterion_main, Criterion};

fn tree() -> PathBuf {
    let root = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vpp-api"))
        });
    let real = root.join("26.06");
    if real.is_dir() {
        real
    } else {
        eprintln!(
            "notice: {} not found; benchmarking the fixture tree",
            real.display()
        );
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../api-json/tests/fixtures/tree"
        ))
    }
}

fn bench(c: &mut Criterion) {
    let tree = tree();
    let paths = collect_files(&[&tree]).expect("tree");
    let bytes: Vec<(PathBuf, Vec<u8>)> = paths
        .iter()
        .map(|p| (p.clone(), std::fs::read(p).expect("read")))
        .collect();
    let total: usize = bytes.iter().map(|(_, b)| b.len()).sum();
    eprintln!("{}: {} files, {} bytes", tree.display(), bytes.len(), total);

    let mut g = c.benchmark_group("api_json_load");
    g.sample_size(20);
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            bytes
                .iter()
                .map(|(p, t)| json::parse_bytes(p, t).expect("parse"))
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("parse_resolve_layout_crc", |b| {
        b.iter(|| {
            let files = bytes
                .iter()
                .map(|(p, t)| json::parse_bytes(p, t).expect("parse"))
                .collect::<Vec<_>>();
            let api = Api::from_files(files).expect("resolve");
            assert!(api.crc_report().all_ok());
            api
        })
    });
    g.bench_function("load_with_io", |b| {
        b.iter(|| {
            let api = Api::load(&[&tree]).expect("load");
            assert!(api.crc_report().all_ok());
            api
        })
    });
    g.finish();

    // On demand (not part of loading): every file's vl_api_version check and runtime version.
    let api = Api::load(&[&tree]).expect("load");
    let mut g = c.benchmark_group("api_json_file_versions");
    g.sample_size(10);
    g.bench_function("file_versions", |b| b.iter(|| api.file_versions()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
