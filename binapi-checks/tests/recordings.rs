//! Real VPP 26.06 bytes (`../shared/vpp-traces/26.06/*.jsonl`, recorded between vpp_papi and a
//! real VPP): every frame of a known message is decoded with the generated bindings (owned and
//! view) and re-encoded with the same header; the bytes must be identical. Frames that cannot be
//! reproduced are listed with the reason; only the explained ones are accepted:
//! * frames longer than the message: the message's own bytes must re-encode identically, the
//!   surplus is reported. The one such frame in the recordings is `get_api_json_reply`
//!   (1 299 954 bytes): VPP sizes it for the C string *with* its NUL terminator
//!   (`vl_api_c_string_to_api_string` after `vec_len + 1`), so one `00` byte follows the
//!   variable string whose length field (1 299 939) excludes it. VPP's own `calc_size` rule
//!   accepts longer frames, and so do we;
//! * `errors.jsonl` sends a deliberately truncated body: it must fail to decode, not panic.
//!
//! Skips with a notice when the recordings are absent.

mod common;

use std::collections::BTreeMap;

use serde_json::Value as Json;
use vppapi_binapi::registry;

#[test]
fn every_recorded_frame_decodes_and_reencodes_identically() {
    let Some(dir) = common::shared_dir("VPP_TRACES_ROOT", "vpp-traces") else {
        eprintln!("NOTICE: ../shared/vpp-traces not found: skipping the recordings test");
        return;
    };
    let dir = dir.join("26.06");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("recordings dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut frames = 0;
    let mut identical = 0;
    let mut longer = BTreeMap::<String, usize>::new();
    let mut unknown = 0;
    let mut failures = Vec::new();
    let mut messages = std::collections::BTreeSet::new();
    for f in &files {
        let scenario = f.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f).expect("read recording");
        for line in text.lines().skip(1) {
            let j: Json = serde_json::from_str(line).expect("frame JSON");
            frames += 1;
            let frame = common::unhex(j["hex"].as_str().expect("hex")).expect("hex digits");
            let body = &frame[16..];
            let Some(name_crc) = j["msg"].as_str() else {
                unknown += 1; // an id VPP does not know (errors scenario)
                continue;
            };
            let Some(e) = registry::by_name_crc(name_crc) else {
                failures.push(format!(
                    "{scenario} #{}: {name_crc} not in the bindings",
                    j["seq"]
                ));
                continue;
            };
            messages.insert(name_crc.to_owned());
            let label = format!("{scenario} #{} {name_crc}", j["seq"]);
            let owned = e.decode(body);
            let viewed = e.view(body);
            match (&owned, &viewed) {
                (Ok(a), Ok(b)) if a == b => {}
                (Err(_), Err(_)) if scenario == "errors" => {
                    // The deliberately truncated body: an error, as VPP drops it.
                    if body.len() >= e.fixed_size {
                        failures.push(format!("{label}: decode failed on a full-size body"));
                    }
                    continue;
                }
                _ => {
                    failures.push(format!("{label}: owned {owned:?} vs view {viewed:?}"));
                    continue;
                }
            }
            match e.reencode(body) {
                Ok((bytes, used)) if bytes == body[..used] => {
                    if used == body.len() {
                        identical += 1;
                    } else {
                        *longer.entry(name_crc.to_owned()).or_default() += 1;
                    }
                }
                Ok((bytes, used)) => failures.push(format!(
                    "{label}: re-encoded differs\n  vpp  {}\n  ours {}",
                    common::hex(&body[..used]),
                    common::hex(&bytes)
                )),
                Err(err) => failures.push(format!("{label}: {err}")),
            }
        }
    }
    eprintln!(
        "recordings: {frames} frames, {} distinct messages, {identical} re-encoded identically, \
         {unknown} with an unknown id, longer than the message: {longer:?}",
        messages.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(identical > 100, "too few frames checked: {identical}");
}
