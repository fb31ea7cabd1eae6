//! The generator over a whole API tree: VPP 26.06 (144 files, 2030 messages) from
//! ../shared/vpp-api when present, else the committed fixture tree. Loading is measured by the
//! `api_json_load` bench; this is generation (tokens, prettyplease) plus the one-file output.
//!
//! `cargo bench -p vppapi-benches --bench generate -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::path::PathBuf;

fn tree() -> (String, PathBuf) {
    let root = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vpp-api"))
        });
    let real = root.join("26.06");
    if real.is_dir() {
        ("26.06".into(), real)
    } else {
        let fx = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../api-json/tests/fixtures/tree"
        ));
        ("fixture".into(), fx)
    }
}

fn generate(c: &mut Criterion) {
    let (label, dir) = tree();
    let api = api_json::Api::load(&[dir]).expect("load tree");
    let mut g = c.benchmark_group("generate");
    g.sample_size(10);
    g.bench_function(format!("{label}/modules"), |b| {
        b.iter(|| vppapi_gen::generate(black_box(&api), None).unwrap())
    });
    let gen = vppapi_gen::generate(&api, None).unwrap();
    g.bench_function(format!("{label}/single_file"), |b| {
        b.iter(|| gen.single_file())
    });
    g.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
