//! Shared test helpers.
#![allow(dead_code)]

use std::path::PathBuf;

use vppapi_shm::{RingConfig, RingKind};

/// `../shared/vpp-traces/26.06/shm` next to the repository, or `$VPP_TRACES_ROOT/26.06/shm`.
pub fn shm_fixtures() -> Option<PathBuf> {
    let root = std::env::var_os("VPP_TRACES_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vpp-traces")
        });
    let p = root.join("26.06/shm");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("NOTICE: {} not found: skipping a fixture test", p.display());
        None
    }
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn hexnum(v: &serde_json::Value) -> u64 {
    match v {
        serde_json::Value::String(s) => {
            u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex number")
        }
        n => n.as_u64().expect("number"),
    }
}

/// The explicit default geometry the fixture session sent (segment-after-connect.json).
pub fn fixture_configs() -> Vec<RingConfig> {
    let c = |kind, size, count| RingConfig { kind, count, size };
    vec![
        c(RingKind::Vlib, 256, 32),
        c(RingKind::Vlib, 1024, 16),
        c(RingKind::Vlib, 4096, 2),
        c(RingKind::Client, 256, 32),
        c(RingKind::Client, 1024, 16),
        c(RingKind::Client, 4096, 2),
        c(RingKind::Queue, 8, 128),
    ]
}

/// control_ping body: id, client_index, context.
pub fn ping(id: u16, index: [u8; 4], ctx: u32) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    b.extend_from_slice(&index);
    b.extend_from_slice(&ctx.to_be_bytes());
    b
}
