//! Golden vectors computed by VPP's own `clib_xxhash` (see `tests/data/xxhash_golden.txt` for how
//! they were made), and, when `VPP_SRC` points at a VPP source tree, a fresh run of the C harness.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use maglev::{clib_xxhash, ip46_key};

const GOLDEN: &str = include_str!("data/xxhash_golden.txt");

/// The data lines of the committed file (comments dropped).
fn golden_lines() -> Vec<&'static str> {
    GOLDEN
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect()
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

#[test]
fn committed_vectors_match_clib_xxhash() {
    let lines = golden_lines();
    assert!(lines.len() >= 380, "only {} vectors", lines.len());
    let mut addrs = 0;
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(matches!(fields.len(), 2 | 3), "bad line {line:?}");
        let (key, hash) = (hex(fields[0]), hex(fields[1]));
        assert_eq!(clib_xxhash(key), hash, "clib_xxhash({key:#018x})");
        if let Some(addr) = fields.get(2) {
            let addr: IpAddr = addr.parse().unwrap();
            assert_eq!(ip46_key(addr), key, "key of {addr}");
            addrs += 1;
        }
    }
    assert!(addrs >= 10, "only {addrs} address vectors");
}

/// The include directory holding `vppinfra/xxhash.h` in a VPP tree (its root or its `src`).
fn vpp_include(root: &Path) -> PathBuf {
    for dir in [root.join("src"), root.to_path_buf()] {
        if dir.join("vppinfra/xxhash.h").is_file() {
            return dir;
        }
    }
    panic!(
        "VPP_SRC={} holds neither src/vppinfra/xxhash.h nor vppinfra/xxhash.h",
        root.display()
    );
}

#[test]
fn c_harness_reproduces_committed_vectors() {
    let Some(root) = std::env::var_os("VPP_SRC") else {
        eprintln!("note: VPP_SRC is unset; skipping the C harness run (committed vectors only)");
        return;
    };
    let include = vpp_include(Path::new(&root));
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("xxhash_golden");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/xxhash_golden.c");
    let out = Command::new("gcc")
        .arg("-O2")
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().expect("run harness");
    assert!(out.status.success(), "harness failed: {:?}", out.status);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let fresh: Vec<&str> = stdout.lines().collect();
    let committed = golden_lines();
    for (i, (f, c)) in fresh.iter().zip(&committed).enumerate() {
        assert_eq!(f, c, "line {} of the harness output differs", i + 1);
    }
    assert_eq!(fresh.len(), committed.len(), "line count differs");
}
