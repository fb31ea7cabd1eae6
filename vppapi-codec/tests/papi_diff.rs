//! Differential test against vpp_papi 2.4.2 (the official Python binding), run offline on the
//! real 26.06 API JSON: seeded random instances of every hand-written message are encoded by
//! us and by vpp_papi (one Python process for the whole batch); the bytes must be identical,
//! our decode of vpp_papi's bytes must give the instance back, and vpp_papi's own decode must
//! agree with our field values.
//!
//! Needs `VPPAPI_PAPI_PYTHON` (a Python with vpp_papi) and the shared API JSON; skips with a
//! notice otherwise.
//!
//! Where vpp_papi 2.4.2 differs from real VPP (and from this codec), found here and in the
//! recordings; the random vectors stay inside what both accept (ASCII strings):
//! * an empty variable string is reported as 0 bytes consumed, although its 4-byte length is on
//!   the wire (VPP's `calc_size` counts it; so do we) — counted and printed as a quirk below;
//! * strings are ASCII only: packing a non-ASCII string raises, unpacking a fixed string with a
//!   non-ASCII byte raises, and a variable string is decoded with `errors="replace"` (lossy).
//!   VPP copies bytes; this codec sends and accepts UTF-8 and rejects invalid UTF-8;
//! * VLA counts must be passed by hand (`n_paths`), fixed arrays of typedefs must be given in
//!   full (`label_stack` needs all 16 entries), nothing checks that a count matches its list;
//! * (per the wire doc, not exercised offline) `context == 0` is treated as "no context" (an
//!   event) when vpp_papi receives replies.
//!
//! Real VPP's bytes are checked by `recordings.rs`: every recorded 26.06 frame of the
//! hand-written messages re-encodes identically (`control_ping_reply`'s junk `client_index` is
//! an ordinary field and kept; longer frames and non-0/1 bools would be reported there).

mod common;

use common::json::{subset, to_json, unhex};
use common::msgs::{for_each_message, TestMessage, Visitor};
use serde_json::{json, Value as Json};
use std::io::Write;
use std::process::{Command, Stdio};
use vppapi_codec::{
    decode_message, encode_message, message_len, view_message, Header, Message, SmallRng,
};

const SEEDS: u64 = 24;
const MSG_ID: u16 = 0x1234;

/// Ok(Some(note)) = identical, with a known vpp_papi quirk noted.
type Check = Box<dyn Fn(&Json) -> Result<Option<&'static str>, String>>;

struct Vectors {
    lines: Vec<String>,
    checks: Vec<(String, Check)>,
}

impl Visitor for Vectors {
    fn visit<M: TestMessage>(&mut self) {
        for seed in 0..SEEDS {
            let mut rng = SmallRng::new(seed.wrapping_mul(0x9e37_79b9) ^ u64::from(M::CRC), true);
            let msg = M::random(&mut rng);
            let client_index = (rng.next_u64() as u32).to_be_bytes();
            let context = rng.next_u64() as u32;
            let mut buf = vec![0u8; message_len(&msg)];
            let n = encode_message(&msg, MSG_ID, client_index, context, &mut buf)
                .unwrap_or_else(|e| panic!("{}: encode failed: {e}", M::NAME));
            assert_eq!(n, buf.len(), "{}: encoded_len is not exact", M::NAME);

            let mut args = to_json(&vppapi_codec::Reflect::to_value(&msg));
            let obj = args.as_object_mut().expect("messages reflect as structs");
            if M::HEADER.client_index_offset().is_some() {
                obj.insert(
                    "client_index".into(),
                    json!(u32::from_be_bytes(client_index)),
                );
            }
            if M::HEADER.context_offset().is_some() {
                obj.insert("context".into(), json!(context));
            }
            self.lines
                .push(json!({"msg": M::NAME, "args": args, "msg_id": MSG_ID}).to_string());
            let label = format!("{} seed {seed}", M::NAME);
            let expected_args = args.clone();
            self.checks.push((
                label,
                Box::new(move |out: &Json| {
                    if let Some(e) = out.get("error") {
                        return Err(format!("vpp_papi refused the vector: {e}"));
                    }
                    let papi = out["hex"].as_str().and_then(unhex).ok_or("no hex")?;
                    if papi != buf {
                        return Err(format!(
                            "bytes differ\n ours {}\n papi {}",
                            common::json::hex(&buf),
                            common::json::hex(&papi)
                        ));
                    }
                    let (hdr, back, used) =
                        decode_message::<M>(&papi).map_err(|e| format!("decode: {e}"))?;
                    if back != msg || used != papi.len() {
                        return Err(format!("decode of papi bytes: {back:?} != {msg:?}"));
                    }
                    if M::HEADER != Header::None && hdr.msg_id != MSG_ID {
                        return Err("msg id".into());
                    }
                    if hdr.context.is_some_and(|c| c != context)
                        || hdr.client_index.is_some_and(|c| c != client_index)
                    {
                        return Err("header fields".into());
                    }
                    let (_, view, _) =
                        view_message::<M>(&papi).map_err(|e| format!("view: {e}"))?;
                    let owned = M::view_to_owned(&view).map_err(|e| format!("view: {e}"))?;
                    if owned != msg {
                        return Err("view.to_owned() differs".into());
                    }
                    subset(&expected_args, &out["decoded"])
                        .map_err(|e| format!("papi decode disagrees: {e}"))?;
                    // vpp_papi bug: an empty variable string reports 0 bytes consumed although
                    // its 4-byte length is on the wire (our `used` counts them, as VPP's
                    // calc_size does). Any other size difference is a failure.
                    let papi_size = out["size"].as_u64().ok_or("no size")? as usize;
                    if papi_size != used {
                        let empty_var_string =
                            papi_size + 4 == used && papi[papi.len() - 4..] == [0, 0, 0, 0];
                        if !empty_var_string {
                            return Err(format!("papi consumed {papi_size}, we {used}"));
                        }
                        return Ok(Some(
                            "empty variable string: papi reports 4 bytes too few consumed",
                        ));
                    }
                    Ok(None)
                }),
            ));
        }
    }
}

#[test]
fn byte_identical_with_vpp_papi() {
    let Some(python) = std::env::var_os("VPPAPI_PAPI_PYTHON") else {
        eprintln!("NOTICE: VPPAPI_PAPI_PYTHON is unset: skipping the vpp_papi differential test");
        return;
    };
    let Some(api) = common::shared_dir("VPP_API_ROOT", "vpp-api") else {
        eprintln!("NOTICE: ../shared/vpp-api not found: skipping the vpp_papi differential test");
        return;
    };
    let apidir = api.join("26.06");
    let mut v = Vectors {
        lines: Vec::new(),
        checks: Vec::new(),
    };
    for_each_message(&mut v);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/papi_diff.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(&apidir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start vpp_papi helper");
    let input = v.lines.join("\n") + "\n";
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("vpp_papi helper output");
    writer
        .join()
        .expect("writer thread")
        .expect("write vectors");
    assert!(out.status.success(), "vpp_papi helper failed");
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    let results: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("helper JSON"))
        .collect();
    assert_eq!(results.len(), v.checks.len(), "one answer per vector");

    let mut failures = Vec::new();
    let mut quirks = std::collections::BTreeMap::<&str, usize>::new();
    for ((label, check), out) in v.checks.iter().zip(&results) {
        match check(out) {
            Ok(Some(q)) => *quirks.entry(q).or_default() += 1,
            Ok(None) => {}
            Err(e) => failures.push(format!("{label}: {e}")),
        }
    }
    for (q, n) in &quirks {
        eprintln!("  vpp_papi quirk ({n}x): {q}");
    }
    eprintln!(
        "vpp_papi differential: {} vectors, {} failures",
        results.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Sanity: a message the test relies on is really there.
    assert!(v
        .checks
        .iter()
        .any(|(l, _)| l.starts_with(<common::msgs::IpRouteAddDel as Message>::NAME)));
}
