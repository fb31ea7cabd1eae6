//! Generates every module of VPP 24.10 and 25.06 into OUT_DIR when the shared API JSON is
//! present (`VPP_API_ROOT`, default `../shared/vpp-api` next to the repository), and sets
//! `cfg(has_v24_10)` / `cfg(has_v25_06)`. Without it the crate compiles only the 26.06 bindings.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_v24_10)");
    println!("cargo::rustc-check-cfg=cfg(has_v25_06)");
    println!("cargo:rerun-if-env-changed=VPP_API_ROOT");
    let root = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vpp-api"))
        });
    for (release, cfg) in [("24.10", "has_v24_10"), ("25.06", "has_v25_06")] {
        let dir = root.join(release);
        println!("cargo:rerun-if-changed={}", dir.display());
        if !dir.is_dir() {
            println!(
                "cargo:warning=no {} (skipping VPP {release} bindings)",
                dir.display()
            );
            continue;
        }
        vppapi_gen::Builder::new()
            .input(&dir)
            .file_name(format!("{cfg}.rs"))
            .generate()
            .unwrap_or_else(|e| panic!("generating VPP {release}: {e}"));
        println!("cargo:rustc-cfg={cfg}");
    }
}
