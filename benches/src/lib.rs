//! Shared helpers for the criterion benches in `benches/benches/`.

pub mod floor;

use std::path::PathBuf;

/// The directory holding the real VPP API trees (`../shared/vpp-api` beside the repo), or
/// `VPP_API_ROOT` when set. `None` when neither exists.
pub fn vpp_api_root() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VPP_API_ROOT") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vpp-api");
    p.is_dir().then_some(p)
}
