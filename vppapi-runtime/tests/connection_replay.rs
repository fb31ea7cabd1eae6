//! The connection against scripted servers: a replay of the recorded real-VPP handshake
//! (our frames must equal vpp_papi's byte for byte) and a cursor service that answers -165
//! until the last page (the simulator has no tx queues, so it never pages).

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use vppapi_runtime::codec::{encode_message, Message};
use vppapi_runtime::memclnt::{ControlPingReply, MessageTableEntry, SockclntCreateReply};
use vppapi_runtime::transport::{msg_id, FrameReader, HEADER_LEN};
use vppapi_runtime::{Config, Connection, Error, InterfaceIndex, VppMessage};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

struct Frame {
    tx: bool,
    bytes: Vec<u8>,
}

fn load(path: &Path) -> (String, Vec<Frame>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let meta: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let frames = lines
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Frame {
                tx: v["dir"] == "tx",
                bytes: unhex(v["hex"].as_str().unwrap()),
            }
        })
        .collect();
    let name = meta["scenario"].as_str().unwrap().to_string();
    (name, frames)
}

/// Serve one connection: every client frame must equal the next recorded tx frame; after
/// each, the recorded rx frames up to the next tx are sent. Returns the mismatches.
async fn replay(listener: UnixListener, frames: Vec<Frame>) -> Vec<String> {
    let (sock, _) = listener.accept().await.unwrap();
    let (rd, mut wr) = sock.into_split();
    let mut reader = FrameReader::new(rd, 1 << 24);
    let mut errors = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        if frames[i].tx {
            let got = match tokio::time::timeout(Duration::from_secs(5), reader.next_frame()).await
            {
                Ok(Ok(Some(b))) => b,
                other => {
                    errors.push(format!("frame {i}: expected a tx frame, got {other:?}"));
                    return errors;
                }
            };
            let mut whole = vec![0u8; HEADER_LEN];
            whole[8..12].copy_from_slice(&(got.len() as u32).to_be_bytes());
            whole.extend_from_slice(&got);
            if whole != frames[i].bytes {
                errors.push(format!(
                    "frame {i}:\n  ours     {}\n  recorded {}",
                    hex(&whole),
                    hex(&frames[i].bytes)
                ));
            }
        } else {
            wr.write_all(&frames[i].bytes).await.unwrap();
        }
        i += 1;
    }
    errors
}

async fn handshake_equals_recording(path: PathBuf) {
    let (scenario, frames) = load(&path);
    assert_eq!(scenario, "handshake");
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let server = tokio::spawn(replay(listener, frames));
    let mut cfg = Config::new(&sock);
    // The recorder named its client after the scenario; context and layout are ours.
    cfg.client_name = "rec-handshake".into();
    cfg.health.interval = Duration::from_secs(3600);
    let conn = Connection::connect(cfg).await.unwrap();
    assert_eq!(conn.vpe_pid(), Some(15164)); // from the recorded control_ping_reply
    assert_eq!(conn.vpp_version().as_deref(), Some("26.06-release"));
    conn.close().await;
    let errors = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    assert!(
        errors.is_empty(),
        "{}: {}",
        path.display(),
        errors.join("\n")
    );
}

#[tokio::test]
async fn handshake_frames_equal_the_committed_fixture() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/handshake-min.jsonl");
    handshake_equals_recording(p).await;
}

#[tokio::test]
async fn handshake_frames_equal_the_real_vpp_recording() {
    let dir = std::env::var_os("VPP_TRACES_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vpp-traces")
        });
    let p = dir.join("26.06/handshake.jsonl");
    if !p.is_file() {
        eprintln!(
            "skipped: {} not found (the committed fixture test covers it)",
            p.display()
        );
        return;
    }
    handshake_equals_recording(p).await;
}

// ---- cursor service ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(
    name = "sw_interface_tx_placement_get",
    crc = 0x47250981,
    kind = "request",
    reply = SwInterfaceTxPlacementGetReply,
    details = SwInterfaceTxPlacementDetails
)]
pub struct SwInterfaceTxPlacementGet {
    pub cursor: u32,
    #[vpp(default = 4294967295)]
    pub sw_if_index: InterfaceIndex,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(
    name = "sw_interface_tx_placement_get_reply",
    crc = 0x53b48f5d,
    kind = "reply"
)]
pub struct SwInterfaceTxPlacementGetReply {
    pub retval: i32,
    pub cursor: u32,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[vpp(
    name = "sw_interface_tx_placement_details",
    crc = 0x00381a2e,
    kind = "details",
    header = "client_index,context"
)]
pub struct SwInterfaceTxPlacementDetails {
    pub sw_if_index: InterfaceIndex,
    pub queue_id: u32,
    pub shared: u8,
    #[vpp(count = "array_size", count_ty = "u32")]
    pub threads: Vec<u32>,
}

const TABLE: &[(u16, &str)] = &[
    (15, "sockclnt_create_455fb9c4"),
    (16, "sockclnt_create_reply_35166268"),
    (17, "sockclnt_delete_8ac76db6"),
    (18, "sockclnt_delete_reply_8f38b1ee"),
    (23, "control_ping_51077d14"),
    (24, "control_ping_reply_f6b0b8ca"),
    (194, "sw_interface_tx_placement_get_47250981"),
    (195, "sw_interface_tx_placement_get_reply_53b48f5d"),
    (196, "sw_interface_tx_placement_details_00381a2e"),
];

fn frame<M: Message>(out: &mut Vec<u8>, m: &M, id: u16, ctx: u32) {
    let mut body = vec![0u8; 1024];
    let n = encode_message(m, id, [0x80, 0, 0, 1], ctx, &mut body).unwrap();
    let mut hdr = [0u8; HEADER_LEN];
    hdr[8..12].copy_from_slice(&(n as u32).to_be_bytes());
    out.extend_from_slice(&hdr);
    out.extend_from_slice(&body[..n]);
}

/// A VPP with `total` tx queues that pages `page` of them per request.
async fn paging_vpp(listener: UnixListener, total: u32, page: u32) {
    let (sock, _) = listener.accept().await.unwrap();
    let (rd, mut wr) = sock.into_split();
    let mut reader = FrameReader::new(rd, 1 << 20);
    while let Ok(Some(f)) = reader.next_frame().await {
        let ctx = |o: usize| u32::from_be_bytes([f[o], f[o + 1], f[o + 2], f[o + 3]]);
        let mut out = Vec::new();
        match msg_id(&f) {
            15 => {
                let r = SockclntCreateReply {
                    response: 0,
                    index: 0x8000_0001,
                    message_table: TABLE
                        .iter()
                        .map(|(i, n)| MessageTableEntry {
                            index: *i,
                            name: n.to_string(),
                        })
                        .collect(),
                };
                frame(&mut out, &r, 16, ctx(2));
            }
            23 => {
                let r = ControlPingReply {
                    retval: 0,
                    client_index: 0,
                    vpe_pid: 4242,
                };
                frame(&mut out, &r, 24, ctx(6));
            }
            194 => {
                let cursor = ctx(10);
                if cursor > total {
                    let r = SwInterfaceTxPlacementGetReply {
                        retval: -7,
                        cursor: 0,
                    };
                    frame(&mut out, &r, 195, ctx(6));
                } else {
                    let end = (cursor + page).min(total);
                    for q in cursor..end {
                        let d = SwInterfaceTxPlacementDetails {
                            sw_if_index: InterfaceIndex(1),
                            queue_id: q,
                            shared: 0,
                            threads: vec![q % 2],
                        };
                        frame(&mut out, &d, 196, ctx(6));
                    }
                    let r = SwInterfaceTxPlacementGetReply {
                        retval: if end == total { 0 } else { -165 },
                        cursor: end,
                    };
                    frame(&mut out, &r, 195, ctx(6));
                }
            }
            _ => {}
        }
        if wr.write_all(&out).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn cursor_stream_continues_on_eagain_until_done() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    tokio::spawn(paging_vpp(listener, 10, 3));
    let mut cfg = Config::new(&sock);
    cfg.health.interval = Duration::from_secs(3600);
    let conn = Connection::connect(cfg).await.unwrap();
    assert_eq!(conn.vpe_pid(), Some(4242));
    assert_eq!(conn.vpp_version(), None); // no show_version in this table

    let mut s = conn
        .stream(&SwInterfaceTxPlacementGet::default())
        .await
        .unwrap();
    let mut queues = Vec::new();
    while let Some(d) = s.next().await {
        let d = d.unwrap();
        assert_eq!(d.threads, [d.queue_id % 2]);
        queues.push(d.queue_id);
    }
    assert_eq!(queues, (0..10).collect::<Vec<_>>());

    // A cursor past the end: VPP's -7 ends the stream with the typed error.
    let mut s = conn
        .stream(&SwInterfaceTxPlacementGet {
            cursor: 11,
            ..Default::default()
        })
        .await
        .unwrap();
    match s.next().await {
        Some(Err(Error::Api(e))) => {
            assert_eq!(e.retval, -7);
            assert_eq!(e.message, "sw_interface_tx_placement_get_reply");
        }
        other => panic!("{other:?}"),
    }
    assert!(s.next().await.is_none());

    assert_eq!(conn.pending_calls(), 0);
    conn.close().await;
}
