//! `cfg(shm_transport)`: the shared-memory transport is built (feature `shm`, the default,
//! on Linux with glibc: it calls glibc's process-shared mutexes and condition variables).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shm_transport)");
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if std::env::var_os("CARGO_FEATURE_SHM").is_some() && os == "linux" && env == "gnu" {
        println!("cargo::rustc-cfg=shm_transport");
    }
}
