//! The public CRC API on models from `.api` sources (which state `[backwards_compatible]`):
//! every message CRC of VPP 26.06 recomputed with `crc::message_crc` over
//! `CrcTypeTable::from_file` equals the CRC vppapigen published in the JSON. Without the
//! `[backwards_compatible]` marks exactly the messages that depend on such enums differ (wire
//! doc section 3.5).

use std::path::{Path, PathBuf};

use api_json::crc::{message_crc, CrcTypeTable};
use api_json::idl::{FsSources, Loader};

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

#[test]
fn message_crcs_from_idl_models_match_published_json() {
    let root = std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vpp-api"))
        .join("26.06");
    let src = root.join("src");
    if !src.is_dir() {
        eprintln!("notice: {} not found; skipping", src.display());
        return;
    }
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut loader = Loader::new(vec![src.clone()], FsSources);
    let (mut checked, mut without_bc_differ) = (0, 0);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let Some(json) = ["core", "plugins"]
            .iter()
            .map(|d| root.join(d).join(format!("{name}.json")))
            .find(|p| p.is_file())
        else {
            continue;
        };
        let published = api_json::json::parse_file(&json).unwrap();
        let mut idl = loader.load(f).unwrap().file;
        let table = CrcTypeTable::from_file(&idl);
        for (m, p) in idl.messages.iter().zip(&published.messages) {
            assert_eq!(m.name, p.name);
            assert_eq!(message_crc(m, &table), Ok(p.crc), "{name}: {}", m.name);
            checked += 1;
        }
        for e in idl.enums.iter_mut().chain(idl.enumflags.iter_mut()) {
            for m in &mut e.members {
                m.backwards_compatible = false;
            }
        }
        let table = CrcTypeTable::from_file(&idl);
        without_bc_differ += idl
            .messages
            .iter()
            .zip(&published.messages)
            .filter(|(m, p)| message_crc(m, &table) != Ok(p.crc))
            .count();
    }
    eprintln!("{checked} messages, {without_bc_differ} differ without [backwards_compatible]");
    // The numbers of wire doc section 3.5: 2030 messages, 27 depend on marked enumerators.
    assert_eq!((checked, without_bc_differ), (2030, 27));
}
