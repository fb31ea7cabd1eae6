//! The simulator's message table (`vpp_sim::table`, built from `vppapi_binapi::table`) against
//! its two sources of truth:
//! * VPP 26.06's `.api.json` tree (`VPP_API_ROOT`, default `<repo>/../shared/vpp-api`): every
//!   message with its module, CRC, kind, header, VPP's fixed size (`sizeof`, what the
//!   simulator's truncation check uses), `retval` offset, reply and details;
//! * the recordings of a real VPP 26.06 (`VPP_TRACES_ROOT`, default
//!   `<repo>/../shared/vpp-traces`): the IDs the simulator assigns are the recorded ones.
//!
//! Each part skips with a notice when its data is absent; the ID layout is always checked.

use std::path::PathBuf;

use vpp_sim::table::{MessageTable, RECORDED_MODULE_ORDER};
use vppapi_codec::MessageKind;

fn shared(var: &str, dir: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")).join(dir)
        })
        .join("26.06")
}

#[test]
fn table_matches_api_json() {
    let root = shared("VPP_API_ROOT", "vpp-api");
    if !root.exists() {
        eprintln!("notice: {} absent; API JSON check skipped", root.display());
        return;
    }
    let table = MessageTable::vpp_26_06();
    let api = api_json::Api::load(&[root]).expect("load 26.06 tree");
    let name_crc = |name: &str| api.message(name).expect("message resolved").name_crc();
    let mut n = 0;
    for f in api.files() {
        let module = f
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".api.json")
            .to_string();
        for m in &f.messages {
            n += 1;
            let nc = format!("{}_{:08x}", m.name, m.crc);
            let id = table
                .id_by_name_crc(&nc)
                .unwrap_or_else(|| panic!("{nc} missing from the table"));
            let t = table.info(id).unwrap();
            let info = api.message(&m.name).expect("message resolved");
            assert_eq!(
                (t.module, t.name, t.crc),
                (module.as_str(), m.name.as_str(), m.crc)
            );
            let kind = match info.kind.name() {
                "request" => MessageKind::Request,
                "reply" => MessageKind::Reply,
                "details" => MessageKind::Details,
                "event" => MessageKind::Event,
                _ => MessageKind::Other,
            };
            assert_eq!(t.kind, kind, "{nc}: kind");
            assert_eq!(t.fixed_size, info.layout.fixed_size as usize, "{nc}: size");
            let off = |o: Option<u32>| o.map(|o| o as usize);
            assert_eq!(
                t.context_offset(),
                off(info.header.context),
                "{nc}: context"
            );
            assert_eq!(
                t.header.client_index_offset(),
                off(info.header.client_index),
                "{nc}: client_index"
            );
            // The table knows an `i32 retval` only (two vlib replies have a `u32 retval`).
            let retval = info
                .layout
                .field("retval")
                .filter(|f| f.ty == "i32")
                .map(|f| f.offset as usize);
            assert_eq!(t.retval_offset, retval, "{nc}: retval");
            let (reply, details) = match api.service(&m.name) {
                None => (None, None),
                Some(s) => (
                    s.service.reply.as_deref().map(name_crc),
                    match (&s.service.stream_msg, s.service.stream) {
                        (Some(d), _) => Some(name_crc(d)),
                        (None, true) => s.service.reply.as_deref().map(name_crc),
                        (None, false) => None,
                    },
                ),
            };
            if t.kind == MessageKind::Request {
                // A legacy dump's `reply` is its details; it has no reply of its own.
                let reply = if details.is_some() && details == reply {
                    None
                } else {
                    reply
                };
                assert_eq!(t.reply, reply.as_deref(), "{nc}: reply");
                assert_eq!(t.details, details.as_deref(), "{nc}: details");
            }
        }
    }
    assert_eq!(n, table.len(), "every message of the tree, and only those");
}

/// memclnt first with 1..=28, then each module contiguous, in VPP's recorded registration order,
/// then the modules that VPP did not load, alphabetically; messages in `.api.json` order.
#[test]
fn ids_follow_the_registration_order() {
    let table = MessageTable::vpp_26_06();
    let memclnt = vppapi_binapi::table::module("memclnt").unwrap();
    assert_eq!(memclnt.len(), 28);
    for (i, m) in memclnt.iter().enumerate() {
        assert_eq!(table.id_by_name_crc(m.name_crc), Some(i as u16 + 1));
    }
    let modules = table.modules();
    assert_eq!(
        &modules[..RECORDED_MODULE_ORDER.len()],
        RECORDED_MODULE_ORDER
    );
    let rest = &modules[RECORDED_MODULE_ORDER.len()..];
    assert!(
        rest.windows(2).all(|w| w[0] < w[1]),
        "alphabetical: {rest:?}"
    );
    let mut next = 1u16;
    for m in modules {
        for info in vppapi_binapi::table::module(m).unwrap() {
            assert_eq!(
                table.id_by_name_crc(info.name_crc),
                Some(next),
                "{}",
                info.name
            );
            assert_eq!(table.info(next), Some(info));
            next += 1;
        }
    }
    assert_eq!(usize::from(next - 1), table.len());
    assert_eq!(table.len(), vppapi_binapi::table::messages().count());
}

/// The recordings of the replayed sessions come from one VPP 26.06 (plugins lb, vxlan,
/// arping): every message ID in them, and every entry of the message table its
/// `sockclnt_create_reply` sent, is the simulator's ID for that message.
#[test]
fn ids_are_the_recorded_ones() {
    let root = shared("VPP_TRACES_ROOT", "vpp-traces");
    if !root.exists() {
        eprintln!(
            "notice: {} absent; recorded ID check skipped",
            root.display()
        );
        return;
    }
    let table = MessageTable::vpp_26_06();
    let (mut frames, mut entries) = (0, 0);
    for s in [
        "handshake",
        "interfaces",
        "addresses",
        "l2",
        "lb",
        "events",
        "cursor",
        "errors",
        "api_json",
    ] {
        let text = std::fs::read_to_string(root.join(format!("{s}.jsonl"))).unwrap();
        for line in text.lines().skip(1) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let Some(msg) = v["msg"].as_str() else {
                continue;
            };
            let id = v["msg_id"].as_u64().unwrap() as u16;
            assert_eq!(table.id_by_name_crc(msg), Some(id), "{s}: {msg}");
            frames += 1;
            if msg.starts_with("sockclnt_create_reply") {
                let hex = v["hex"].as_str().unwrap();
                let b: Vec<u8> = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect();
                let body = &b[16..];
                let n = u16::from_be_bytes([body[18], body[19]]) as usize;
                for e in body[20..20 + 66 * n].chunks(66) {
                    let rid = u16::from_be_bytes([e[0], e[1]]);
                    let name = std::str::from_utf8(&e[2..]).unwrap().trim_end_matches('\0');
                    assert_eq!(table.id_by_name_crc(name), Some(rid), "{s}: {name}");
                    entries += 1;
                }
            }
        }
    }
    assert!(
        frames > 80 && entries > 800,
        "{frames} frames, {entries} table entries"
    );
}
