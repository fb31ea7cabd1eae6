//! Replays every recording of a real VPP 26.06 (`VPP_TRACES_ROOT`, default
//! `<repo>/../shared/vpp-traces`) against one simulator, in the recorded session order (each
//! session starts from the state the previous one left), and compares the simulator's frames
//! with the recorded `rx` frames byte for byte.
//!
//! Translation: `tx` frames carry the real VPP's message IDs; each is mapped through its
//! `name_crc` (`msg`) to the simulator's ID (frames with an unknown id are sent unchanged).
//! Ignored as legitimately dynamic: the header's `q` and `gc_mark_timestamp` (VPP's pointers).
//! `vpe_pid` and the `show_version` strings are set to the recorded values through `SimConfig`.
//!
//! Exceptions (each checked differently, not skipped):
//! * `sockclnt_create_reply`: VPP dumps its name/CRC hash in hash order and knows only its
//!   loaded plugins (862 messages); the simulator sends all 2030 messages of 26.06 in ID order.
//!   Checked: context, response, index, and that every recorded (id, name_crc) pair is in the
//!   simulator's table with the same ID.
//! * `lb_as_details.in_use_since` of a removed AS (a time stamp): not compared.
//! * `get_api_json_reply`: served from `SimConfig::api_json_dir` (the 26.06 JSON): the real VPP
//!   lists its 43 registered modules, the simulator all 143 (same order, the 43 first), so the
//!   recorded text minus its closing `]` must be a prefix of the simulator's. Without the JSON
//!   directory the simulator answers `retval = -9` (UNIMPLEMENTED).

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use vpp_sim::table::MessageTable;

const SESSIONS: [&str; 9] = [
    "handshake",
    "interfaces",
    "addresses",
    "l2",
    "lb",
    "events",
    "cursor",
    "errors",
    "api_json",
];

fn traces_root() -> PathBuf {
    std::env::var_os("VPP_TRACES_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/vpp-traces"
            ))
        })
        .join("26.06")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn replay_recordings_byte_for_byte() {
    let root = traces_root();
    if !root.exists() {
        eprintln!("notice: {} absent; replay test skipped", root.display());
        return;
    }
    let cat = MessageTable::vpp_26_06();
    let api_dir = Some(
        std::env::var_os("VPP_API_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vpp-api"))
            })
            .join("26.06"),
    )
    .filter(|p| p.exists());
    let ts = TestSim::start(|c| {
        c.vpe_pid = Some(15164);
        c.build_date = "2026-11-21T18:08:35".into();
        c.build_directory = "/work/vppsrc/vpp".into();
        c.api_json_dir = api_dir.clone();
    });
    let mut compared = 0;
    for s in SESSIONS {
        let text = std::fs::read_to_string(root.join(format!("{s}.jsonl"))).unwrap();
        let mut lines = text.lines();
        lines.next(); // scenario description
        if s == "lb" {
            // The recorded VPP's earlier sessions left 4 FIB entries the simulator does not
            // model (its first LB VIP took load-balance index 12, a fresh VPP's takes 8).
            ts.sim().with_model(|m| m.lb.reserve_load_balances(4));
        }
        let mut c = ts.client();
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let seq = v["seq"].as_u64().unwrap();
            let (frame, at) = recorded_frame(cat, s, seq, &v);
            let msg = v["msg"].as_str();
            if v["dir"] == "tx" {
                c.send(&frame[16..]);
                continue;
            }
            let got = c
                .recv_timeout(Duration::from_secs(3))
                .unwrap_or_else(|| panic!("{at}: no frame from the simulator"));
            compared += 1;
            let (want, got_b) = (&frame[16..], &got[16..]);
            match msg.unwrap() {
                m if m.starts_with("sockclnt_create_reply") => {
                    assert_eq!(&got_b[..18], &want[..18], "{at}: header fields");
                    let n = u16::from_be_bytes([want[18], want[19]]) as usize;
                    for e in want[20..20 + 66 * n].chunks(66) {
                        let rid = u16::from_be_bytes([e[0], e[1]]);
                        let name = std::str::from_utf8(&e[2..]).unwrap().trim_end_matches('\0');
                        assert_eq!(cat.id_by_name_crc(name), Some(rid), "{at}: {name}");
                    }
                    let ours = u16::from_be_bytes([got_b[18], got_b[19]]) as usize;
                    assert_eq!(ours, cat.len());
                    assert_eq!(got_b.len(), 20 + 66 * ours);
                }
                m if m.starts_with("get_api_json_reply") => {
                    assert_eq!(&got_b[..10], &want[..10], "{at}: context, retval");
                    if api_dir.is_none() {
                        assert_eq!(rv(got_b), -9, "{at}: unimplemented without the JSON");
                        continue;
                    }
                    // VPP's array holds its 43 registered modules; ours all 143, the same 43
                    // first: the recorded text without its closing `]` is a prefix of ours.
                    // VPP's frame carries one byte more than the string: the NUL of its vector.
                    let want_json = &want[14..14 + be32(want, 10) as usize];
                    assert_eq!(want.len(), 14 + want_json.len() + 1);
                    let got_json = &got_b[14..14 + be32(got_b, 10) as usize];
                    assert_eq!(got_b.len(), 14 + got_json.len() + 1, "{at}: trailing NUL");
                    assert_eq!(got_b[got_b.len() - 1], 0, "{at}: trailing NUL");
                    let head = &want_json[..want_json.len() - 1];
                    if !got_json.starts_with(head) {
                        let i = head
                            .iter()
                            .zip(got_json)
                            .position(|(a, b)| a != b)
                            .unwrap_or(0);
                        panic!(
                            "{at}: JSON differs at {i}: want {:?} got {:?}",
                            String::from_utf8_lossy(
                                &head[i.saturating_sub(80)..(i + 80).min(head.len())]
                            ),
                            String::from_utf8_lossy(
                                &got_json[i.saturating_sub(80)..(i + 80).min(got_json.len())]
                            )
                        );
                    }
                    assert_eq!(got_json[head.len()], b',', "{at}: more modules follow");
                }
                m if m.starts_with("lb_as_details") && want[44] == 0 => {
                    assert_eq!(&got_b[..45], &want[..45], "{at}");
                    assert_eq!(got_b.len(), want.len(), "{at}");
                }
                _ => {
                    assert_eq!(&got[8..12], &frame[8..12], "{at}: data_len");
                    if got_b != want {
                        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                        panic!(
                            "{at}: body differs\n want {}\n  got {}\n want text {:?}\n  got text {:?}",
                            hex(want),
                            hex(got_b),
                            text(want),
                            text(got_b)
                        );
                    }
                }
            }
        }
        // Nothing else may arrive: the simulator closes after sockclnt_delete_reply.
        c.s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut rest = Vec::new();
        let n = c.s.read_to_end(&mut rest).unwrap_or(0);
        assert_eq!(n, 0, "{s}: unexpected extra frames: {}", hex(&rest));
    }
    assert!(compared > 80, "compared {compared} frames");
}

/// A recorded frame with its message id mapped to the simulator's table (recordings map ids
/// with their own `sockclnt_create_reply`), and where it is for messages.
fn recorded_frame(
    cat: &MessageTable,
    session: &str,
    seq: u64,
    v: &serde_json::Value,
) -> (Vec<u8>, String) {
    let mut frame = unhex(v["hex"].as_str().unwrap());
    let msg = v["msg"].as_str();
    let at = format!("{session} seq {seq} ({})", msg.unwrap_or("unknown id"));
    if let Some(m) = msg {
        let id = cat
            .id_by_name_crc(m)
            .unwrap_or_else(|| panic!("{at}: not in the simulator's table"));
        frame[16..18].copy_from_slice(&id.to_be_bytes());
    }
    (frame, at)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The tool recordings (`README-tools.md`): each made against a freshly started VPP with more
/// plugins (lb, linux_cp, tap, vxlan, arping, ping), so each is replayed against a fresh
/// simulator and its message IDs differ from ours (mapped through `name_crc` both ways).
const TOOL_SESSIONS: [&str; 8] = [
    "evpn_bvi",
    "evpn_bind_release",
    "evpn_vxlan",
    "evpn_events",
    "evpn_lcp",
    "lb_ipv4",
    "lb_lifecycle",
    "lb_stats",
];

/// What the recorder did out of band (`vppctl:` lines of the notes) before frame `seq`,
/// applied to the model the same way (lb_stats: the recorded commands through the simulator's
/// CLI).
fn out_of_band(session: &str, seq: u64, sim: &vpp_sim::Simulator, notes: &[String]) {
    if session == "lb_stats" && seq == 22 {
        // create packet-generator interface pg0, its address, up, two streams (3 packets to
        // VIP [1], 1 to the AS-less VIP [3]), packet-generator enable.
        for cmd in notes.iter().filter_map(|l| l.strip_prefix("vppctl: ")) {
            if cmd.ends_with(":") {
                continue; // `show errors:` and its output
            }
            let (rv, out) = sim.cli(cmd);
            assert_eq!((rv, out.as_str()), (0, ""), "{cmd}");
        }
    }
    if session != "evpn_events" {
        return;
    }
    match seq {
        // create packet-generator interface pg0/pg1; set interface l2 bridge pgN 100;
        // set interface state pgN up (events: created flags 0, then up flags 3).
        35 => sim.with_model(|m| {
            let pg0 = m.create_pg(0);
            let pg1 = m.create_pg(1);
            m.set_l2_bridge(pg0, 100, 0, 0, true);
            m.set_l2_bridge(pg1, 100, 0, 0, true);
            m.set_admin(pg0, true);
            m.set_admin(pg1, true);
        }),
        // packet-generator stream learn1 without `source`: VPP adds its own pg interface
        // (pg-1, sw_if_index 4, created then up), then the frame from 02:11:22:33:44:55
        // enters pg0 and is learned.
        48 => sim.with_model(|m| {
            let pg = m.create_pg(u32::MAX);
            m.set_admin(pg, true);
            m.learn_mac(2, [2, 0x11, 0x22, 0x33, 0x44, 0x55]);
        }),
        // stream move1: the same MAC enters pg1.
        58 => sim.with_model(|m| {
            m.learn_mac(3, [2, 0x11, 0x22, 0x33, 0x44, 0x55]);
        }),
        _ => {}
    }
}

#[test]
fn replay_tool_recordings() {
    let root = traces_root();
    if !root.exists() {
        eprintln!("notice: {} absent; replay test skipped", root.display());
        return;
    }
    let cat = MessageTable::vpp_26_06();
    let mut failures = Vec::new();
    let mut compared = 0;
    for s in TOOL_SESSIONS {
        let text = std::fs::read_to_string(root.join(format!("{s}.jsonl"))).unwrap();
        let frames: Vec<serde_json::Value> = text
            .lines()
            .skip(1)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let body = |v: &serde_json::Value| unhex(v["hex"].as_str().unwrap())[16..].to_vec();
        let find = |prefix: &str| {
            frames
                .iter()
                .find(|v| v["msg"].as_str().is_some_and(|m| m.starts_with(prefix)))
                .map(body)
        };
        let pid = find("control_ping_reply").map(|b| be32(&b, 14));
        let ver = find("show_version_reply");
        let cstr = |b: &[u8]| {
            String::from_utf8_lossy(&b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())])
                .into_owned()
        };
        let notes: Vec<String> = {
            let head: serde_json::Value =
                serde_json::from_str(text.lines().next().unwrap()).unwrap();
            match &head["notes"] {
                serde_json::Value::Array(a) => a
                    .iter()
                    .flat_map(|l| l.as_str().unwrap_or("").lines())
                    .map(str::to_string)
                    .collect(),
                v => v
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .map(str::to_string)
                    .collect(),
            }
        };
        let stats_dir = tempfile::tempdir().unwrap();
        let stats = stats_dir.path().join("stats.sock");
        let ts = TestSim::start(|c| {
            if s == "lb_stats" {
                c.stats_socket = Some(stats.clone());
            }
            c.vpe_pid = pid;
            if let Some(v) = &ver {
                c.version = cstr(&v[42..74]);
                c.build_date = cstr(&v[74..106]);
                c.build_directory = cstr(&v[106..362]);
            }
        });
        let mut c = ts.client();
        for v in &frames {
            let seq = v["seq"].as_u64().unwrap();
            if s == "lb_stats" {
                // The stats segment where the recorder read it, against the notes.
                let label = match seq {
                    4 => Some("before lb is configured"),
                    6 => Some("after lb_conf, no VIP yet"),
                    22 => Some("configured, no traffic"),
                    _ => None,
                };
                if let Some(label) = label {
                    failures.extend(check_lb_stats(&stats, &notes, label));
                }
            }
            out_of_band(s, seq, ts.sim(), &notes);
            if s == "lb_stats" && seq == 22 {
                failures.extend(check_lb_stats(&stats, &notes, "after traffic"));
            }
            let (frame, at) = recorded_frame(cat, s, seq, v);
            let msg = v["msg"].as_str();
            if v["dir"] == "tx" {
                c.send(&frame[16..]);
                continue;
            }
            let Some(got) = c.recv_timeout(Duration::from_secs(3)) else {
                failures.push(format!("{at}: no frame from the simulator"));
                break;
            };
            compared += 1;
            let (want, got_b) = (&frame[16..], &got[16..]);
            let m = msg.unwrap();
            let ok = if m.starts_with("sockclnt_create_reply") {
                // Another plugin set: other IDs; every recorded name is ours.
                let n = u16::from_be_bytes([want[18], want[19]]) as usize;
                got_b[..14] == want[..14]
                    && want[20..20 + 66 * n].chunks(66).all(|e| {
                        let name = std::str::from_utf8(&e[2..]).unwrap().trim_end_matches('\0');
                        cat.id_by_name_crc(name).is_some()
                    })
            } else if m.starts_with("sw_interface_details") && want[14..16] == [2, 0xfe] {
                // VXLAN and pg interfaces get a random 02:fe:xx:xx:xx:xx MAC.
                got_b.len() == want.len() && got_b[..16] == want[..16] && got_b[20..] == want[20..]
            } else if m.starts_with("l2_macs_event") {
                // Sized for max_macs_in_event * 10 entries; the unused entries and each
                // entry's flags byte are uninitialised memory in VPP.
                let n = be32(want, 10) as usize;
                got_b.len() == want.len()
                    && got_b[..14] == want[..14]
                    && (0..n).all(|i| {
                        let e = 14 + 15 * i;
                        got_b[e..e + 14] == want[e..e + 14]
                    })
            } else if m.starts_with("lb_as_details") {
                // in_use_since: VPP's uptime at the AS's last delete (kept on reuse).
                got_b.len() == want.len() && got_b[..45] == want[..45]
            } else {
                got[8..12] == frame[8..12] && got_b == want
            };
            if !ok {
                failures.push(format!(
                    "{at}: body differs\n want {}\n  got {}",
                    hex(want),
                    hex(got_b)
                ));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared > 300, "compared {compared} frames");
}

/// lb_stats: the simulator's stats segment against the notes' `<label>: stats ...` lines: the
/// entries without a leading `/`, and each LB counter's presence and `[thread][VIP]` values.
fn check_lb_stats(stats: &std::path::Path, notes: &[String], label: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut sc = vppapi_stats::Client::connect(stats).unwrap();
    let names = sc.ls(&[".*"]).unwrap();
    let mut checked = 0;
    for l in notes {
        let Some(rest) = l.strip_prefix(&format!("{label}: ")) else {
            continue;
        };
        if let Some(list) = rest.strip_prefix("stats directory entries without a leading '/': ") {
            let want: Vec<String> = serde_json::from_str(&list.replace('\'', "\"")).unwrap();
            let mut got: Vec<String> = names
                .iter()
                .filter(|n| !n.starts_with('/'))
                .cloned()
                .collect();
            got.sort();
            if got != want {
                failures.push(format!(
                    "lb_stats {label}: entries {got:?}, recorded {want:?}"
                ));
            }
            checked += 1;
        } else if let Some(r) = rest.strip_prefix("stats '") {
            let (name, r) = r.split_once("' present=").unwrap();
            let present = names.iter().any(|n| n == name);
            let want_present = r.starts_with("True");
            if present != want_present {
                failures.push(format!("lb_stats {label}: {name} present={present}"));
            } else if present {
                let want: Vec<Vec<u64>> =
                    serde_json::from_str(r.rsplit_once('=').unwrap().1).unwrap();
                match sc.read(name).unwrap() {
                    vppapi_stats::StatValue::Simple(v) if v.values == want => {}
                    v => failures.push(format!(
                        "lb_stats {label}: {name} = {v:?}, recorded {want:?}"
                    )),
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 5, "lb_stats notes for {label}");
    failures
}
