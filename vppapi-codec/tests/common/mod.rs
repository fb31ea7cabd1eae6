//! Shared test support.
#![allow(dead_code)]

pub mod json;
pub mod msgs;

use std::path::PathBuf;

/// `../shared/<sub>` beside the repo, or `$env` when set; `None` when absent.
pub fn shared_dir(env: &str, sub: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(sub);
    p.is_dir().then_some(p)
}
