//! The three real API trees (24.10, 25.06, 26.06), when `VPP_API_ROOT` (default
//! `<repo>/../shared/vpp-api`) exists. Skipped with a notice otherwise; the fixture tests cover a
//! fresh clone.

use std::path::PathBuf;

use api_json::Api;

fn root() -> Option<PathBuf> {
    let p = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vpp-api"))
        });
    if p.join("26.06").is_dir() {
        Some(p)
    } else {
        eprintln!("notice: {} not found; real-tree tests skipped", p.display());
        None
    }
}

const RELEASES: [&str; 3] = ["24.10", "25.06", "26.06"];

#[test]
fn smoke() {
    let Some(root) = root() else { return };
    for r in RELEASES {
        let api = Api::load(&[root.join(r)]).unwrap_or_else(|e| panic!("{r}: {e}"));
        let rep = api.crc_report();
        eprintln!(
            "{r}: files {} messages {} ok {} inferred {:?}",
            api.files().len(),
            api.message_count(),
            rep.ok_count(),
            rep.inferred
        );
        for m in rep.mismatches() {
            eprintln!("  mismatch {} {:08x} {:?}", m.name, m.stated, m.computed);
        }
    }
}
