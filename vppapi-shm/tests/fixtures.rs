//! Against the recordings of a real VPP 26.06 session (`shared/vpp-traces/26.06/shm/`).
#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use std::time::Duration;

use common::{fixture_configs, hexnum, ping, shm_fixtures, unhex};
use serde_json::Value as Json;
use vppapi_shm::*;

struct Fixture {
    bin: Vec<u8>,
    json: Json,
    s: u64,
    z: u64,
}

fn load(name: &str) -> Option<Fixture> {
    let dir = shm_fixtures()?;
    let bin = std::fs::read(dir.join(format!("{name}.bin"))).expect("bin");
    let json: Json =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    let s = hexnum(&json["segment"]["vpp_base"]);
    let z = json["segment"]["ssvm_size"].as_u64().unwrap();
    assert_eq!(bin.len(), 0x50000);
    Some(Fixture { bin, json, s, z })
}

fn configs_of(j: &Json) -> Vec<RingConfig> {
    j["config_sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| RingConfig {
            kind: match c["type"].as_u64().unwrap() {
                0 => RingKind::Vlib,
                1 => RingKind::Client,
                _ => RingKind::Queue,
            },
            count: c["count"].as_u64().unwrap() as u16,
            size: c["size"].as_u64().unwrap() as u32,
        })
        .collect()
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(b[off..off + 8].try_into().unwrap())
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}

fn messages() -> Vec<Json> {
    let dir = shm_fixtures().unwrap();
    std::fs::read_to_string(dir.join("shm-messages.jsonl"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn attach_to_the_recorded_segment_and_send_a_ping() {
    let Some(f) = load("segment-after-connect") else {
        return;
    };
    let configs = configs_of(&f.json);
    assert_eq!(configs, fixture_configs());
    let fd = memfd_from_bytes("fixture", &f.bin, f.z).unwrap();
    let c = ClientSegment::attach(fd, &configs).expect("attach to VPP 26.06's segment");
    let seg = &f.json["segment"];
    assert_eq!(c.vpp_base(), f.s);
    assert_eq!(c.size(), f.z);
    assert_eq!(
        c.vpp_pid() as u64,
        seg["vl_shmem_hdr"]["vl_pid"].as_u64().unwrap()
    );
    assert_eq!(
        c.input_queue_addr(),
        hexnum(&seg["vl_input_queue"]["vaddr"])
    );
    assert_eq!(c.own_queue_addr(), hexnum(&seg["own_queue"]["vaddr"]));
    assert_eq!(
        c.own_queue_len() as u64,
        seg["own_queue"]["maxsize"].as_u64().unwrap()
    );
    let vl: Vec<(u64, u32, u32)> = seg["vl_rings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                hexnum(&r["queue"]["vaddr"]),
                r["size"].as_u64().unwrap() as u32,
                r["nitems"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    assert_eq!(c.vlib_rings(), vl);
    let cl: Vec<(u64, u32, u32, u32)> = seg["client_rings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                hexnum(&r["queue"]["vaddr"]),
                r["size"].as_u64().unwrap() as u32,
                r["nitems"].as_u64().unwrap() as u32,
                r["queue"]["head"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    assert_eq!(c.client_ring_heads(), cl);
    assert_eq!(c.max_request_body(), 4104);

    // The first control_ping of the session (context 0x104) went to client-ring[0] slot 1: the
    // head in the dump is 1, so our allocator must pick the same slot and write the same bytes.
    let rec = messages()
        .into_iter()
        .find(|m| m["dir"] == "shm-tx" && m["msg_id"] == 23)
        .unwrap();
    assert_eq!(rec["alloc"], "client-ring[0] slot 1");
    let want = unhex(rec["hex"].as_str().unwrap());
    let body = ping(23, [0; 4], 0x104);
    assert_eq!(
        &want[16..],
        &body[..],
        "the recorded body is the ping we send"
    );
    c.try_send(&body, Duration::from_millis(100)).expect("send");
    let vaddr = hexnum(&rec["vaddr"]);
    assert_eq!(
        c.read_vpp(vaddr - 16, want.len()).unwrap(),
        want,
        "msgbuf (q, data_len BE, gc) + body equal VPP's recording"
    );
    // and its address went into VPP's input queue at the recorded tail (1)
    let iq = &seg["vl_input_queue"];
    let data = hexnum(&iq["data_vaddr"]);
    let tail = iq["tail"].as_u64().unwrap();
    let elem = c.read_vpp(data + 8 * tail, 8).unwrap();
    assert_eq!(u64::from_ne_bytes(elem.try_into().unwrap()), vaddr);
    let heads = c.client_ring_heads();
    assert_eq!(heads[0].3, 2, "ring head advanced");
}

#[test]
fn recorded_message_table_round_trips() {
    let Some(f) = load("segment-after-connect") else {
        return;
    };
    let off = usize::from_str_radix(
        f.json["message_table_offset"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let len = f.json["message_table_vec_len"].as_u64().unwrap() as usize;
    assert_eq!((off, len), (0x3f828, 30756));
    // the vppinfra vector header in front of it holds the same length
    assert_eq!(u32_at(&f.bin, off - 8) as usize, len);
    // memclnt_create_v2_reply.message_table points at it
    assert_eq!(
        hexnum(&f.json["memclnt_create_v2_reply"]["message_table"]),
        f.s + off as u64
    );
    let bytes = &f.bin[off..off + len];
    let table = parse_message_table(bytes).expect("parse");
    assert_eq!(table.len(), 904);
    let find = |n: &str| table.iter().find(|(_, name)| name == n).map(|e| e.0);
    assert_eq!(
        find("memclnt_keepalive_51077d14"),
        Some(MEMCLNT_KEEPALIVE_ID)
    );
    assert_eq!(
        find("memclnt_keepalive_reply_e8d4e804"),
        Some(MEMCLNT_KEEPALIVE_REPLY_ID)
    );
    assert_eq!(find("sock_init_shm_51646d92"), Some(SOCK_INIT_SHM_ID));
    assert_eq!(
        find("memclnt_create_v2_c4bd4882"),
        Some(MEMCLNT_CREATE_V2_ID)
    );
    let refs: Vec<(u16, &str)> = table.iter().map(|(i, n)| (*i, n.as_str())).collect();
    assert_eq!(serialize_message_table(&refs), bytes);
    // truncations are errors, not panics
    for cut in [0, 3, 4, 5, 100, len - 1] {
        assert!(parse_message_table(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

/// ServerSegment::create with the fixture's config against VPP's own layout. Every offset of
/// spec 2.2 matches: the data heap is placed by a model of dlmalloc's chunk arithmetic
/// (16-byte chunk headers, memalign leaders/trailers, in-place vector growth), which reproduces
/// VPP 26.06's placement exactly, including the `client_rings` vector moved by its third push.
/// Not compared: glibc lock words (the fixture's have been used), VPP-private heap objects
/// (mstate, clib_mem_heap_t, region private heap), queue head/tail/hits (traffic), client_pid.
#[test]
fn server_layout_equals_the_recording() {
    let Some(f) = load("segment-after-connect") else {
        return;
    };
    let configs = configs_of(&f.json);
    let pid = f.json["segment"]["vl_shmem_hdr"]["vl_pid"]
        .as_u64()
        .unwrap() as u32;
    let (srv, _fd) = ServerSegment::create("fixture", f.z as u32, &configs, pid).unwrap();
    srv.set_clib_file_index(4);
    let s = srv.vpp_base();
    let ours = srv.read_vpp(s, 0x50000).unwrap();
    // relocate a fixture pointer to our base
    let rel = |v: u64| if v == 0 { 0 } else { v - f.s + s };

    // page 0: ssvm_shared_header_t
    assert_eq!(u64_at(&ours, 16), rel(u64_at(&f.bin, 16)), "heap");
    assert_eq!(u64_at(&ours, 24), s, "ssvm_va");
    assert_eq!(u64_at(&ours, 32), u64_at(&f.bin, 32), "ssvm_size");
    assert_eq!(u32_at(&ours, 40), u32_at(&f.bin, 40), "server_pid");
    assert_eq!(u64_at(&ours, 48), rel(u64_at(&f.bin, 48)), "name");
    assert_eq!(&ours[56..120], &f.bin[56..120], "opaque, ready, type");
    assert_eq!(&ours[..16], &f.bin[..16], "lock words of the ssvm header");

    // svm_region_t at P (fields after mutex+condvar)
    let p = 0x1000;
    assert_eq!(srv.page_size(), p);
    assert_eq!(u64_at(&ours, p), 0x10001);
    let m = std::mem::size_of::<libc::pthread_mutex_t>();
    let cv = std::mem::size_of::<libc::pthread_cond_t>();
    assert_eq!((m, cv), (40, 48), "x86-64 glibc sizes (the fixture's)");
    assert_eq!(
        &ours[p + 8 + 16..p + 8 + 20],
        &f.bin[p + 8 + 16..p + 8 + 20],
        "region mutex kind 0x80"
    );
    for (name, off, is_ptr) in [
        ("mutex_owner_pid/tag", 96, false),
        ("flags", 104, false),
        ("virtual_base", 112, true),
        ("virtual_size", 120, false),
        ("region_heap", 128, true),
        ("data_base", 136, true),
        ("data_heap", 144, true),
        ("user_ctx", 152, true),
        ("bitmap_size", 160, false),
        ("bitmap", 168, true),
        ("region_name", 176, true),
        ("backing_file", 184, true),
        ("filenames", 192, true),
        ("client_pids", 200, true),
    ] {
        let want = u64_at(&f.bin, p + off);
        let want = if is_ptr { rel(want) } else { want };
        assert_eq!(u64_at(&ours, p + off), want, "region.{name}");
    }
    assert_eq!(srv.data_base(), s + 0x22000);
    assert_eq!(srv.hdr_addr(), s + 0x22408);
    assert_eq!(srv.ring_vectors(), (s + 0x22448, s + 0x2cf18));
    let (vq, cq) = srv.ring_queue_addrs();
    assert_eq!(vq, [s + 0x224c0, s + 0x24880, s + 0x28a80]);
    assert_eq!(cq, [s + 0x2ab80, s + 0x2cfc0, s + 0x31200]);
    assert_eq!(srv.input_queue_addr(), s + 0x33300);

    // vl_shmem_hdr_t and its vector header, relocated
    let h = 0x22408;
    assert_eq!(
        &ours[h - 8..h],
        &f.bin[h - 8..h],
        "vector header of the shmem hdr"
    );
    for off in (0..48).step_by(8) {
        let (a, b) = (u64_at(&ours, h + off), u64_at(&f.bin, h + off));
        if (8..32).contains(&off) {
            assert_eq!(a, rel(b), "hdr +{off}");
        } else {
            assert_eq!(a, b, "hdr +{off}");
        }
    }
    // ring vectors: headers and ring_alloc_t (rp relocated, size, nitems; hits/misses are traffic)
    for (vec, n) in [(0x22448usize, 3), (0x2cf18, 3)] {
        assert_eq!(
            &ours[vec - 8..vec],
            &f.bin[vec - 8..vec],
            "vector header at {vec:#x}"
        );
        for i in 0..n {
            let ra = vec + 24 * i;
            assert_eq!(
                u64_at(&ours, ra),
                rel(u64_at(&f.bin, ra)),
                "ring_alloc_t.rp at {ra:#x}"
            );
            assert_eq!(
                &ours[ra + 8..ra + 12],
                &f.bin[ra + 8..ra + 12],
                "size/nitems at {ra:#x}"
            );
        }
    }
    // queue headers: maxsize, elsize, consumer_pid, evtfds; mutex kind 0x90; condvar pshared bit
    for q in [
        0x224c0usize,
        0x24880,
        0x28a80,
        0x2ab80,
        0x2cfc0,
        0x31200,
        0x33300,
    ] {
        assert_eq!(
            &ours[q + 100..q + 120],
            &f.bin[q + 100..q + 120],
            "queue fields at {q:#x}"
        );
        assert_eq!(u32_at(&ours, q + 16), 0x90, "mutex kind at {q:#x}");
        assert_eq!(u32_at(&f.bin, q + 16), 0x90);
        assert_eq!(
            u32_at(&ours, q + 40 + 36) & 1,
            u32_at(&f.bin, q + 40 + 36) & 1,
            "cond pshared at {q:#x}"
        );
    }
}

#[test]
fn sock_init_shm_equals_the_recorded_frame() {
    let Some(dir) = shm_fixtures() else { return };
    let frames: Vec<Json> = std::fs::read_to_string(dir.join("shm-handshake.jsonl"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rec = frames.iter().find(|f| f["msg_id"] == 19).unwrap();
    let frame = unhex(rec["hex"].as_str().unwrap());
    let body = &frame[16..];
    let mut ours = vec![];
    encode_sock_init_shm(
        &mut ours,
        SOCK_INIT_SHM_ID,
        [0x80, 0, 0, 1],
        0x102,
        DEFAULT_SEGMENT_SIZE,
        &fixture_configs(),
    );
    assert_eq!(ours, body);
    let parsed = parse_sock_init_shm(body).unwrap();
    assert_eq!(parsed.client_index, [0x80, 0, 0, 1]);
    assert_eq!(parsed.context, 0x102);
    assert_eq!(parsed.requested_size, 64 << 20);
    assert_eq!(parsed.configs, fixture_configs());
    check_configs(parsed.requested_size, &parsed.configs).unwrap();
    // the reply and the fd message as recorded
    let reply = frames.iter().find(|f| f["msg_id"] == 20).unwrap();
    assert_eq!(
        &unhex(reply["hex"].as_str().unwrap())[16..18],
        &SOCK_INIT_SHM_REPLY_ID.to_be_bytes()
    );
    let fdmsg = frames.iter().find(|f| f["msg_id"].is_null()).unwrap();
    assert_eq!(unhex(fdmsg["hex"].as_str().unwrap()), FDMSG);
}

/// The after-ping dump: the request and reply slots were freed (q = 0) and the recorded bytes
/// of the ping reply sit in VLIB ring 0 slot 1, readable through a relocated attach.
#[test]
fn after_ping_dump_shows_freed_slots() {
    let Some(f) = load("segment-after-ping") else {
        return;
    };
    let fd = memfd_from_bytes("fixture2", &f.bin, f.z).unwrap();
    let c = ClientSegment::attach(fd, &fixture_configs()).unwrap();
    let msgs = messages();
    let reply = msgs
        .iter()
        .find(|m| m["dir"] == "shm-rx" && m["msg_id"] == 24)
        .unwrap();
    let vaddr = hexnum(&reply["vaddr"]);
    let rec = unhex(reply["hex"].as_str().unwrap());
    let now = c.read_vpp(vaddr - 16, rec.len()).unwrap();
    assert_eq!(u64_at(&now, 0), 0, "reply slot freed by the client");
    assert_eq!(&now[8..], &rec[8..], "data_len and body still there");
    assert_eq!(
        hex(&now[16..]),
        f.json["control_ping_reply_hex"].as_str().unwrap()
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
