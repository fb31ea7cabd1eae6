//! Parsing every VPP 26.06 `.api` source into the model.
//!
//! Sources are read into memory once; the timed part is lexing + parsing all files, resolving
//! imports (from memory), type checks, CRCs and building every file's `ApiFile`, with a fresh
//! loader per iteration (each file parsed once, as one vppapigen run per file would not share).
//! Falls back to the repo's IDL fixtures when `../shared/vpp-api` is absent.
//!
//! `cargo bench -p vppapi-benches --bench api_idl_parse -- --warm-up-time 1 --measurement-time 3`

use std::path::{Path, PathBuf};

use api_json::idl::{self, Loader, MemSources};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "api") {
            out.push(p);
        }
    }
}

fn bench(c: &mut Criterion) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../shared/vpp-api"))
        .join("26.06/src");
    let (root, label) = if shared.is_dir() {
        (shared, "26.06")
    } else {
        (manifest.join("../api-json/tests/fixtures/idl"), "fixtures")
    };
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut mem = MemSources::new();
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .map(|p| (p.clone(), std::fs::read_to_string(p).unwrap()))
        .collect();
    for (p, t) in &texts {
        mem.insert(p.clone(), t.clone());
    }
    eprintln!("{} .api files from {}", files.len(), root.display());

    let mut g = c.benchmark_group("api_idl_parse");
    g.bench_function(format!("load_all_{label}"), |b| {
        b.iter(|| {
            let mut loader = Loader::new(vec![root.clone()], &mem);
            let mut n = 0;
            for p in &files {
                n += loader.load(p).unwrap().file.messages.len();
            }
            black_box(n)
        })
    });
    g.bench_function(format!("parse_only_{label}"), |b| {
        b.iter(|| {
            let mut n = 0;
            for (p, t) in &texts {
                n += idl::parse_str(p, t).unwrap().stmts.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
