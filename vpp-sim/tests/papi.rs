//! vpp_papi 2.4.2 (the official Python client) against the simulator: interfaces, addresses,
//! bridge domain, LB. Needs `VPPAPI_PAPI_PYTHON` (a Python with vpp_papi) and the 26.06 API
//! JSON (`VPP_API_ROOT`, default `<repo>/../shared/vpp-api`); skips with a notice otherwise.

mod common;

use std::path::PathBuf;

#[test]
fn vpp_papi_drives_the_simulator() {
    let Some(py) = std::env::var_os("VPPAPI_PAPI_PYTHON") else {
        eprintln!("notice: VPPAPI_PAPI_PYTHON unset; vpp_papi test skipped");
        return;
    };
    let api = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vpp-api"))
        })
        .join("26.06");
    if !api.exists() {
        eprintln!("notice: {} absent; vpp_papi test skipped", api.display());
        return;
    }
    let ts = common::TestSim::start(|_| {});
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/papi_client.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .arg(&api)
        .arg(ts.path())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("PAPI OK"),
        "vpp_papi run failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
}
