//! Differential test against vpp_papi 2.4.2 for EVERY message of VPP 24.10, 25.06 and 26.06,
//! through the generated bindings: seeded random instances (VLAs, strings, unions, enums, flags,
//! nested typedefs) are encoded by us and by vpp_papi (one Python process per release, all
//! vectors batched); the bytes must be identical, our decode (owned and view) of vpp_papi's
//! bytes must give the instance back and re-encode identically, and vpp_papi's own decode must
//! agree with our field values.
//!
//! vpp_papi's known deviations (see `vppapi-codec/tests/papi_diff.rs` for details) are kept
//! out of the vectors (ASCII strings, declared enum values) or counted as quirks: an empty
//! variable string is reported as 0 bytes consumed although its 4-byte length is on the wire.
//!
//! Needs `VPPAPI_PAPI_PYTHON` and ../shared/vpp-api; skips with a notice otherwise.

mod common;

use binapi_checks::{releases, Entry};
use common::{hex, subset, to_json, unhex};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use vppapi_codec::SmallRng;

const SEEDS: u64 = 3;
const MSG_ID: u16 = 0x1234;

struct Vector {
    label: String,
    bytes: Vec<u8>,
    value: vppapi_codec::Value,
    args: Json,
}

fn vectors(e: &Entry) -> Vec<Vector> {
    (0..SEEDS)
        .map(|seed| {
            let mut rng = SmallRng::new(seed.wrapping_mul(0x9e37_79b9) ^ u64::from(e.crc), false);
            let client_index = (rng.next_u64() as u32).to_be_bytes();
            let context = rng.next_u64() as u32;
            let (value, bytes) = (e.random)(&mut rng, MSG_ID, client_index, context)
                .unwrap_or_else(|err| panic!("{}: encode failed: {err}", e.name));
            let mut args = to_json(&value);
            let obj = args.as_object_mut().expect("messages reflect as structs");
            if e.header.client_index_offset().is_some() {
                obj.insert(
                    "client_index".into(),
                    json!(u32::from_be_bytes(client_index)),
                );
            }
            if e.header.context_offset().is_some() {
                obj.insert("context".into(), json!(context));
            }
            Vector {
                label: format!("{} seed {seed}", e.name_crc),
                bytes,
                value,
                args,
            }
        })
        .collect()
}

/// Ok(Some(quirk)) = identical apart from a known vpp_papi quirk.
fn check(e: &Entry, v: &Vector, out: &Json) -> Result<Option<&'static str>, String> {
    if let Some(err) = out.get("error") {
        return Err(format!("vpp_papi refused the vector: {err}"));
    }
    let papi = out["hex"].as_str().and_then(unhex).ok_or("no hex")?;
    if papi != v.bytes {
        return Err(format!(
            "bytes differ\n ours {}\n papi {}",
            hex(&v.bytes),
            hex(&papi)
        ));
    }
    let (_, back, used) = (e.decode)(&papi).map_err(|err| format!("decode: {err}"))?;
    if back != v.value || used != papi.len() {
        return Err(format!("decode of papi bytes differs: {back:?}"));
    }
    let (_, viewed, _) = (e.view)(&papi).map_err(|err| format!("view: {err}"))?;
    if viewed != v.value {
        return Err("view differs".into());
    }
    let (again, _) = (e.reencode)(&papi)?;
    if again != papi {
        return Err("re-encode differs".into());
    }
    subset(&v.args, &out["decoded"]).map_err(|err| format!("papi decode disagrees: {err}"))?;
    let papi_size = out["size"].as_u64().ok_or("no size")? as usize;
    if papi_size != used {
        if papi_size + 4 == used && papi[papi.len() - 4..] == [0, 0, 0, 0] {
            return Ok(Some(
                "empty variable string: papi reports 4 bytes too few consumed",
            ));
        }
        return Err(format!("papi consumed {papi_size}, we {used}"));
    }
    Ok(None)
}

#[test]
fn every_message_of_every_release_is_byte_identical_with_vpp_papi() {
    let Some(python) = std::env::var_os("VPPAPI_PAPI_PYTHON") else {
        eprintln!("NOTICE: VPPAPI_PAPI_PYTHON is unset: skipping the vpp_papi differential test");
        return;
    };
    let Some(api) = common::shared_dir("VPP_API_ROOT", "vpp-api") else {
        eprintln!("NOTICE: ../shared/vpp-api not found: skipping the vpp_papi differential test");
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vppapi-codec/tests/papi_diff.py"
    );
    let mut failures = Vec::new();
    let rels = releases();
    assert_eq!(
        rels.len(),
        3,
        "24.10 and 25.06 must be generated when ../shared is present"
    );
    for rel in &rels {
        let mut lines = Vec::new();
        let mut cases = Vec::new();
        for e in &rel.entries {
            for v in vectors(e) {
                lines.push(json!({"msg": e.name, "args": v.args, "msg_id": MSG_ID}).to_string());
                cases.push((e, v));
            }
        }
        let mut child = Command::new(&python)
            .arg(script)
            .arg(api.join(rel.name))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start vpp_papi helper");
        let input = lines.join("\n") + "\n";
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().expect("vpp_papi helper output");
        writer.join().expect("writer").expect("write vectors");
        assert!(
            out.status.success(),
            "vpp_papi helper failed for {}",
            rel.name
        );
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let results: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("helper JSON"))
            .collect();
        assert_eq!(results.len(), cases.len(), "one answer per vector");
        let mut quirks = BTreeMap::<&str, usize>::new();
        let mut failed = 0;
        for ((e, v), out) in cases.iter().zip(&results) {
            match check(e, v, out) {
                Ok(None) => {}
                Ok(Some(q)) => *quirks.entry(q).or_default() += 1,
                Err(err) => {
                    failed += 1;
                    failures.push(format!("{} {}: {err}", rel.name, v.label));
                }
            }
        }
        eprintln!(
            "vpp_papi differential {}: {} messages, {} vectors, {failed} failures",
            rel.name,
            rel.entries.len(),
            cases.len()
        );
        for (q, n) in quirks {
            eprintln!("  vpp_papi quirk ({n}x): {q}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
