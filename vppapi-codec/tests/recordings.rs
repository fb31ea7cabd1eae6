//! Real VPP 26.06 bytes: decode every recorded frame whose message is hand-written here,
//! re-encode it and compare byte for byte. Every difference must be one of the explained kinds
//! (see `explain`), and is counted and printed.
//!
//! Reads `../shared/vpp-traces/26.06/*.jsonl` (override: `VPP_TRACES_ROOT`); without it, runs on
//! the hand-built frames of `tests/fixtures/frames.jsonl` (the worked examples of the wire doc).

mod common;

use common::json::{hex, unhex};
use common::msgs::{with_message, TestMessage, Visitor};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vppapi_codec::{decode_message, encode_message, view_message, DecodeError, Message};

#[derive(Default)]
struct Stats {
    frames: usize,
    decoded: usize,
    identical: usize,
    /// kind of difference -> count
    explained: BTreeMap<String, usize>,
    failures: Vec<String>,
}

struct Frame<'a> {
    label: String,
    body: &'a [u8],
    stats: &'a mut Stats,
}

impl Visitor for Frame<'_> {
    fn visit<M: TestMessage>(&mut self) {
        let body = self.body;
        let (hdr, msg, used) = match decode_message::<M>(body) {
            Ok(x) => x,
            Err(e @ DecodeError::Truncated { .. }) if self.label.starts_with("errors.jsonl") => {
                // The errors scenario sends a deliberately truncated body (VPP drops it too).
                let kind = format!("{}: truncated frame rejected: {e}", M::NAME);
                *self.stats.explained.entry(kind).or_default() += 1;
                return;
            }
            Err(e) => {
                self.stats
                    .failures
                    .push(format!("{}: decode: {e}", self.label));
                return;
            }
        };
        self.stats.decoded += 1;
        // The view must agree with the owned decode.
        match view_message::<M>(body) {
            Ok((_, v, vused)) if vused == used && M::view_to_owned(&v).as_ref() == Ok(&msg) => {}
            _ => self
                .stats
                .failures
                .push(format!("{}: view disagrees with decode", self.label)),
        }
        let mut out = vec![0u8; used];
        let n = match encode_message(
            &msg,
            hdr.msg_id,
            hdr.client_index.unwrap_or_default(),
            hdr.context.unwrap_or_default(),
            &mut out,
        ) {
            Ok(n) => n,
            Err(e) => {
                self.stats
                    .failures
                    .push(format!("{}: re-encode: {e}", self.label));
                return;
            }
        };
        if n == body.len() && out[..] == body[..] {
            self.stats.identical += 1;
            return;
        }
        match explain::<M>(body, &out[..n]) {
            Ok(kind) => *self.stats.explained.entry(kind).or_default() += 1,
            Err(e) => self.stats.failures.push(format!(
                "{}: {e}\n  wire {}\n  ours {}",
                self.label,
                hex(body),
                hex(&out[..n])
            )),
        }
    }
}

/// Classify a difference between VPP's bytes and our re-encoding.
fn explain<M: Message>(wire: &[u8], ours: &[u8]) -> Result<String, String> {
    if wire.len() > ours.len() && wire[..ours.len()] == *ours {
        // The message is complete; VPP's frame is longer (data_len = allocation size).
        let extra = &wire[ours.len()..];
        let zero = extra.iter().all(|&b| b == 0);
        return Ok(format!(
            "{}: frame longer than the message by {} {} bytes (VPP's allocation size)",
            M::NAME,
            extra.len(),
            if zero { "zero" } else { "non-zero" }
        ));
    }
    Err("unexplained difference".into())
}

fn frames_from(path: &PathBuf, stats: &mut Stats) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    for (i, line) in text.lines().enumerate() {
        let j: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{path:?}:{i}: {e}"));
        let (Some(name_crc), Some(h)) = (j["msg"].as_str(), j["hex"].as_str()) else {
            continue; // scenario header or unknown message id
        };
        let frame = unhex(h).unwrap_or_else(|| panic!("{path:?}:{i}: bad hex"));
        assert!(
            frame.len() >= 16,
            "{path:?}:{i}: frame shorter than its header"
        );
        let data_len = u32::from_be_bytes([frame[8], frame[9], frame[10], frame[11]]) as usize;
        assert_eq!(data_len, frame.len() - 16, "{path:?}:{i}: data_len");
        stats.frames += 1;
        let label = format!(
            "{}:{} {} {}",
            path.file_name().unwrap().to_string_lossy(),
            j["seq"],
            j["dir"].as_str().unwrap_or("?"),
            name_crc
        );
        // Skip the 16-byte frame header (`rx` headers carry VPP's junk `q`).
        let mut f = Frame {
            label,
            body: &frame[16..],
            stats,
        };
        with_message(name_crc, &mut f);
    }
}

#[test]
fn recorded_frames_reencode_identically() {
    let mut files: Vec<PathBuf> = match common::shared_dir("VPP_TRACES_ROOT", "vpp-traces") {
        Some(root) => std::fs::read_dir(root.join("26.06"))
            .expect("traces dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect(),
        None => {
            eprintln!("NOTICE: ../shared/vpp-traces not found: using the committed fixture frames");
            vec![PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/frames.jsonl"
            ))]
        }
    };
    files.sort();
    let mut stats = Stats::default();
    for f in &files {
        frames_from(f, &mut stats);
    }
    eprintln!(
        "recordings: {} frames, {} of hand-written messages decoded, {} re-encoded identically",
        stats.frames, stats.decoded, stats.identical
    );
    for (k, n) in &stats.explained {
        eprintln!("  explained ({n}x): {k}");
    }
    assert!(stats.failures.is_empty(), "{}", stats.failures.join("\n"));
    assert!(
        stats.decoded > 0,
        "no frame of a hand-written message found"
    );
}
