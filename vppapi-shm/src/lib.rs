//! VPP 26.06's "hybrid" shared-memory API transport (socket + memfd), both roles, in pure Rust.
//!
//! # Why and how
//! A client that is connected to VPP's API socket (`sockclnt_create`) can ask for a private
//! shared-memory segment with `sock_init_shm` (id [`SOCK_INIT_SHM_ID`]). VPP creates a memfd,
//! builds an `svm_region_t` in it with a data heap, a `vl_shmem_hdr_t`, its own input queue
//! (`vl_input_queue`) and two sets of message rings (`vl_rings` for VPP→client buffers,
//! `client_rings` for client→VPP buffers), replies on the socket, then sends the fd in an
//! unframed 5-byte [`FDMSG`] with `SCM_RIGHTS` ([`recv_with_fd`] / [`send_with_fd`]). From then on
//! requests and replies travel through the segment as 8-byte addresses put into
//! `svm_queue_t`s guarded by glibc process-shared robust mutexes and condvars.
//!
//! * **Relocation by delta.** Every pointer in the segment is an absolute address in VPP's
//!   mapping (S, read from page 0 at offset 24). The client maps the memfd wherever the kernel
//!   likes and translates every address it reads by `local - S`, bounds-checked to `[S, S+Z)`;
//!   it writes only VPP addresses. No `MAP_FIXED`.
//! * **Client queue in page 0.** VPP creates no queue for the client; [`ClientSegment::attach`]
//!   builds one in the unused tail of page 0 (S+0x80, 480 entries) and its address goes into
//!   `memclnt_create(_v2).input_queue` ([`ClientSegment::own_queue_addr`]).
//! * **Who frees what** (spec 5.4): requests are allocated by the client from a CLIENT ring and
//!   freed by VPP (`q = 0`) after its handler; replies come from a VLIB ring (freed by the client
//!   with `q = 0`) or, when too big or when ring heads are busy, from VPP's private heap. The client
//!   cannot call dlmalloc: it frees a heap reply by turning the buffer into a
//!   `memclnt_keepalive_reply` (id 22, context = own index) and enqueueing it back to VPP, whose
//!   handler frees it. Keepalives (id 21) are answered in place the same way.
//!
//! # Hazards (all observed on VPP 26.06, see the spec)
//! * `requested_size` and the ring configs are **host order**; a big-endian size (VPP reads 4)
//!   **crashes VPP** before it replies. [`encode_sock_init_shm`] hand-encodes them and
//!   [`check_configs`] refuses sizes that look byte-swapped.
//! * A config with rings but **no QUEUE entry crashes VPP** right after it sent the fd (it locks a
//!   NULL input queue); a config without a VLIB or a CLIENT ring `abort()`s at the first allocation.
//! * **Events arrive as foreign addresses**: messages VPP generates outside a handler are allocated
//!   in its main `/vpe-api` region and their addresses land in the client queue. They cannot be read
//!   or freed; [`ClientSegment::recv_into`] drops them ([`Recv::Foreign`]). Subscribe to events on
//!   the socket.
//! * **A full client queue freezes VPP's main thread**: its reply add blocks without timeout, for
//!   ever if the client died in that state. Drain promptly from a dedicated thread; our own adds
//!   are always bounded ([`ServerSegment::send_to`] reports where VPP would hang).
//! * After any private segment is deleted (`memclnt_delete` or reaping), **`vppctl show memory`
//!   crashes VPP** (spec 8.3): the segment's heaps stay registered after the unmap.
//! * Only worth it when VPP's main loop polls: on an idle VPP every shm request waits for the
//!   main loop's epoll timeout (up to 10 ms), where the socket answers in tens of µs (spec 8.1).
//!
//! # Targets
//! Only `linux` + `glibc` ([`SUPPORTED`]); elsewhere the types exist but the constructors return
//! [`ShmError::Unsupported`]. All `unsafe` lives in the private module `sys`.
//!
//! # Where the recordings and the spec differ
//! No contradiction was found for what this crate implements; where the spec is silent the
//! recordings decided: the vppinfra vector header's `hdr_size` byte counts 8-byte units (1) and the
//! next byte is 0x83 (log2_align 3 | default_heap); the `client_rings` vector "moved by growth"
//! was first a 64-byte free chunk at 0x24840 (a memalign leader) and moved to 0x2cf18 by the
//! third `vec_add2`, which is why the data heap is placed by a dlmalloc model ([`ServerSegment`]
//! matches every recorded offset). Validation accepts exactly what the recordings show.

#![warn(missing_docs)]

use std::fmt;

#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
mod client;
#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
mod heap;
#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
mod seg;
#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
mod server;
#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
mod sys;

#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
pub use client::ClientSegment;
#[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
pub use server::ServerSegment;

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub))))]
mod stub;
#[cfg(not(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub))))]
pub use stub::{ClientSegment, ServerSegment};

/// Whether this target has the transport (Linux with glibc).
pub const SUPPORTED: bool = cfg!(all(
    target_os = "linux",
    target_env = "gnu",
    not(vppapi_shm_force_stub)
));

// ---- fixed memclnt message ids of VPP 26.06 (spec 1.1, 6; confirm them in the socket table) ----
/// `memclnt_create` (deprecated v1).
pub const MEMCLNT_CREATE_ID: u16 = 1;
/// `memclnt_create_reply`.
pub const MEMCLNT_CREATE_REPLY_ID: u16 = 2;
/// `memclnt_delete`.
pub const MEMCLNT_DELETE_ID: u16 = 3;
/// `memclnt_delete_reply`.
pub const MEMCLNT_DELETE_REPLY_ID: u16 = 4;
/// `sockclnt_create`.
pub const SOCKCLNT_CREATE_ID: u16 = 15;
/// `sockclnt_create_reply`.
pub const SOCKCLNT_CREATE_REPLY_ID: u16 = 16;
/// `sockclnt_delete`.
pub const SOCKCLNT_DELETE_ID: u16 = 17;
/// `sockclnt_delete_reply`.
pub const SOCKCLNT_DELETE_REPLY_ID: u16 = 18;
/// `sock_init_shm`.
pub const SOCK_INIT_SHM_ID: u16 = 19;
/// `sock_init_shm_reply`.
pub const SOCK_INIT_SHM_REPLY_ID: u16 = 20;
/// `memclnt_keepalive` (VPP → client).
pub const MEMCLNT_KEEPALIVE_ID: u16 = 21;
/// `memclnt_keepalive_reply` (client → VPP; also the heap-free trick, spec 5.3).
pub const MEMCLNT_KEEPALIVE_REPLY_ID: u16 = 22;
/// `memclnt_create_v2`.
pub const MEMCLNT_CREATE_V2_ID: u16 = 25;
/// `memclnt_create_v2_reply`.
pub const MEMCLNT_CREATE_V2_REPLY_ID: u16 = 26;

/// The unframed payload that carries the memfd (`SCM_RIGHTS`) after `sock_init_shm_reply`.
pub const FDMSG: &[u8; 5] = b"fdmsg";
/// The segment size to request (the C client's choice; pages are allocated lazily).
pub const DEFAULT_SEGMENT_SIZE: u32 = 64 << 20;
/// Offset of the client's own input queue in page 0.
pub const OWN_QUEUE_OFFSET: u64 = 0x80;
/// Entries of the client's own input queue (fits page 0 on 4 KiB pages, spec 4.4).
pub const OWN_QUEUE_LEN: u32 = 480;
/// `retval` of `sock_init_shm_reply` for `requested_size == 0`.
pub const SSVM_API_ERROR_NO_SIZE: i32 = -101;

/// Type of a `vl_api_shm_elem_config_t` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RingKind {
    /// `VL_API_VLIB_RING`: VPP → client buffers.
    Vlib = 0,
    /// `VL_API_CLIENT_RING`: client → VPP buffers.
    Client = 1,
    /// `VL_API_QUEUE`: VPP's input queue in the segment (size must be 8).
    Queue = 2,
}

impl fmt::Display for RingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RingKind::Vlib => "VLIB ring",
            RingKind::Client => "CLIENT ring",
            RingKind::Queue => "QUEUE",
        })
    }
}

/// One `vl_api_shm_elem_config_t`: rings are `size` payload bytes × `count` slots, the queue is
/// `count` × 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RingConfig {
    /// Entry type.
    pub kind: RingKind,
    /// Slots, or queue length.
    pub count: u16,
    /// Ring payload allowance (slot = size + 24), or queue element size (8).
    pub size: u32,
}

fn rc(kind: RingKind, size: u32, count: u16) -> RingConfig {
    RingConfig { kind, count, size }
}

/// The recommended config of spec 5.5 (≈2.6 MB of rings; request 64 MiB).
pub fn default_configs() -> Vec<RingConfig> {
    use RingKind::*;
    vec![
        rc(Vlib, 128, 1024),
        rc(Vlib, 512, 512),
        rc(Vlib, 2048, 256),
        rc(Vlib, 8192, 64),
        rc(Vlib, 65504, 8),
        rc(Client, 128, 256),
        rc(Client, 1024, 128),
        rc(Client, 8192, 16),
        rc(Client, 65504, 4),
        rc(Queue, 8, 1024),
    ]
}

/// What VPP uses when `nitems == 0` (spec 1.4), in VPP's order.
pub fn vpp_default_configs() -> Vec<RingConfig> {
    use RingKind::*;
    vec![
        rc(Vlib, 256, 32),
        rc(Vlib, 1024, 16),
        rc(Vlib, 4096, 2),
        rc(Client, 256, 32),
        rc(Client, 1024, 16),
        rc(Client, 4096, 2),
        rc(Queue, 8, 128),
    ]
}

/// The configs VPP will actually use for `configs` (the VPP defaults when empty).
pub fn effective_configs(configs: &[RingConfig]) -> Vec<RingConfig> {
    if configs.is_empty() {
        vpp_default_configs()
    } else {
        configs.to_vec()
    }
}

/// The body of `sock_init_shm` (from `_vl_msg_id` on): ids/context BE, `requested_size` and
/// configs HOST order (spec 1.2).
pub fn encode_sock_init_shm(
    out: &mut Vec<u8>,
    msg_id: u16,
    client_index: [u8; 4],
    context: u32,
    requested_size: u32,
    configs: &[RingConfig],
) {
    out.extend_from_slice(&msg_id.to_be_bytes());
    out.extend_from_slice(&client_index);
    out.extend_from_slice(&context.to_be_bytes());
    out.extend_from_slice(&requested_size.to_ne_bytes());
    out.push(configs.len().min(255) as u8);
    for c in configs.iter().take(255) {
        out.push(c.kind as u8);
        out.push(0);
        out.extend_from_slice(&c.count.to_ne_bytes());
        out.extend_from_slice(&c.size.to_ne_bytes());
    }
}

/// A decoded `sock_init_shm` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SockInitShm {
    /// The socket handle bytes, verbatim.
    pub client_index: [u8; 4],
    /// Echoed context.
    pub context: u32,
    /// Host-order size.
    pub requested_size: u32,
    /// The configs (empty: VPP defaults).
    pub configs: Vec<RingConfig>,
}

/// Parse a received body (server side). Err for a short body (VPP: no reply), a wrong id, or an
/// unknown config type (VPP would log and skip it; a Rust client never sends one).
pub fn parse_sock_init_shm(body: &[u8]) -> Result<SockInitShm, ShmError> {
    if body.len() < 15 {
        return Err(ShmError::BadMessage(format!(
            "sock_init_shm body of {} bytes, at least 15 needed: VPP sends no reply",
            body.len()
        )));
    }
    let id = u16::from_be_bytes([body[0], body[1]]);
    if id != SOCK_INIT_SHM_ID {
        return Err(ShmError::BadMessage(format!(
            "message id {id}, expected sock_init_shm ({SOCK_INIT_SHM_ID})"
        )));
    }
    let n = body[14] as usize;
    if body.len() < 15 + 8 * n {
        return Err(ShmError::BadMessage(format!(
            "sock_init_shm body of {} bytes with nitems {n} needs {}: VPP sends no reply",
            body.len(),
            15 + 8 * n
        )));
    }
    let mut configs = Vec::with_capacity(n);
    for i in 0..n {
        let e = &body[15 + 8 * i..23 + 8 * i];
        let kind = match e[0] {
            0 => RingKind::Vlib,
            1 => RingKind::Client,
            2 => RingKind::Queue,
            t => {
                return Err(ShmError::BadConfig(format!(
                    "config entry {i} has unknown type {t} (VPP logs and skips it)"
                )))
            }
        };
        configs.push(RingConfig {
            kind,
            count: u16::from_ne_bytes([e[2], e[3]]),
            size: u32::from_ne_bytes([e[4], e[5], e[6], e[7]]),
        });
    }
    Ok(SockInitShm {
        client_index: [body[2], body[3], body[4], body[5]],
        context: u32::from_be_bytes([body[6], body[7], body[8], body[9]]),
        requested_size: u32::from_ne_bytes([body[10], body[11], body[12], body[13]]),
        configs,
    })
}

/// Bytes the data heap needs for the rings and queue of `configs` (with allocator padding).
fn ring_bytes(configs: &[RingConfig]) -> u64 {
    configs
        .iter()
        .map(|c| {
            let el = match c.kind {
                RingKind::Queue => c.size as u64,
                _ => c.size as u64 + 24,
            };
            120 + c.count as u64 * el + 128
        })
        .sum()
}

/// The smallest `requested_size` accepted by [`check_configs`]: two pages, the 128 KiB private
/// heap, the rings, and 256 KiB for the registration, the message table (~30 KiB) and heap replies.
pub fn min_segment_size(configs: &[RingConfig]) -> u64 {
    2 * 4096 + 0x20000 + 0x400 + ring_bytes(&effective_configs(configs)) + (256 << 10)
}

/// Checks VPP 26.06 would crash or misbehave on (spec 1.5): size 0 → [`ShmError::NoSize`] (VPP
/// replies -101); a size that looks byte-swapped or is too small; no QUEUE entry; no VLIB or no
/// CLIENT ring; count 0; size + 24 > 65535; queue size != 8 (all [`ShmError::WouldCrashVpp`]);
/// more than 255 entries or a ring size that is not a multiple of 8 ([`ShmError::BadConfig`]).
pub fn check_configs(requested_size: u32, configs: &[RingConfig]) -> Result<(), ShmError> {
    if requested_size == 0 {
        return Err(ShmError::NoSize);
    }
    if configs.len() > 255 {
        return Err(ShmError::BadConfig(format!(
            "{} config entries, nitems is a u8 (at most 255)",
            configs.len()
        )));
    }
    if !configs.is_empty() {
        let has = |k| configs.iter().any(|c| c.kind == k);
        if !has(RingKind::Queue) {
            return Err(ShmError::WouldCrashVpp(
                "no QUEUE entry: VPP replies 0, sends the fd, then segfaults locking a NULL input queue".into(),
            ));
        }
        if !has(RingKind::Vlib) {
            return Err(ShmError::WouldCrashVpp(
                "no VLIB ring: VPP abort()s at its first reply allocation".into(),
            ));
        }
        if !has(RingKind::Client) {
            return Err(ShmError::WouldCrashVpp(
                "no CLIENT ring: VPP abort()s at its first client-ring allocation (keepalive)"
                    .into(),
            ));
        }
    }
    for (i, c) in configs.iter().enumerate() {
        if c.count == 0 {
            return Err(ShmError::WouldCrashVpp(format!(
                "config entry {i} ({}) has count 0: a 0-slot ring makes VPP's allocator write past it, a 0-length queue is always full",
                c.kind
            )));
        }
        match c.kind {
            RingKind::Queue => {
                if c.size != 8 {
                    return Err(ShmError::WouldCrashVpp(format!(
                        "config entry {i} (QUEUE) has element size {}, must be 8 (queues carry 8-byte addresses)",
                        c.size
                    )));
                }
            }
            _ => {
                if c.size as u64 + 24 > 65535 {
                    return Err(ShmError::WouldCrashVpp(format!(
                        "config entry {i} ({}) size {}: size + 24 overflows ring_alloc_t.size (u16)",
                        c.kind, c.size
                    )));
                }
                if c.size % 8 != 0 {
                    return Err(ShmError::BadConfig(format!(
                        "config entry {i} ({}) size {} is not a multiple of 8 (slots would be misaligned)",
                        c.kind, c.size
                    )));
                }
            }
        }
    }
    let min = min_segment_size(configs);
    if (requested_size as u64) < min {
        let swapped = requested_size.swap_bytes();
        if swapped as u64 >= min {
            return Err(ShmError::WouldCrashVpp(format!(
                "requested_size {requested_size:#x} looks byte-swapped (host order it would be {swapped} bytes): it must be host order; VPP crashes on a big-endian size"
            )));
        }
        return Err(ShmError::WouldCrashVpp(format!(
            "requested_size {requested_size} is below the {min} bytes the segment needs (2 pages + 128 KiB private heap + rings + 256 KiB): VPP crashes or panics on heap exhaustion"
        )));
    }
    Ok(())
}

/// Errors of the transport.
#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    /// Not Linux with glibc.
    #[error("the VPP shared-memory API transport needs Linux with glibc (process-shared robust pthread mutexes); use the socket transport on this target")]
    Unsupported,
    /// `requested_size == 0` (VPP replies -101, SSVM_API_ERROR_NO_SIZE).
    #[error("sock_init_shm requested_size 0: VPP replies -101 (SSVM_API_ERROR_NO_SIZE)")]
    NoSize,
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The segment's contents are not what VPP 26.06 builds.
    #[error("segment layout: {what}")]
    Layout {
        /// What and where.
        what: String,
    },
    /// A peer stalled.
    #[error("timed out: {what}")]
    Timeout {
        /// What we waited for.
        what: &'static str,
    },
    /// `EOWNERDEAD`: the peer died holding a queue lock (made consistent; treat VPP as dead).
    #[error("peer died holding the lock of {what}")]
    PeerDied {
        /// Which lock.
        what: String,
    },
    /// Sending this would crash (or hang) VPP 26.06.
    #[error("VPP 26.06 would crash: {0}")]
    WouldCrashVpp(String),
    /// A config this crate refuses though VPP might survive it.
    #[error("bad shm config: {0}")]
    BadConfig(String),
    /// A malformed message.
    #[error("bad message: {0}")]
    BadMessage(String),
}

/// Why [`ClientSegment::try_send`] did not send.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No CLIENT ring slot is big enough: send it on the socket.
    #[error("message of {len} bytes does not fit a CLIENT ring slot (max {max}): use the socket")]
    TooLarge {
        /// Body length.
        len: usize,
        /// [`ClientSegment::max_request_body`].
        max: usize,
    },
    /// Every fitting ring's head slot is still in use (VPP has not handled those requests yet).
    #[error("all fitting CLIENT ring head slots are busy")]
    NoSlot,
    /// VPP's input queue stayed full for `full_wait`.
    #[error("VPP's input queue is full")]
    InputQueueFull,
    /// Anything else.
    #[error(transparent)]
    Shm(#[from] ShmError),
}

/// Outcome of one receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recv {
    /// A message: this many bytes (from `_vl_msg_id` on) were appended to the buffer.
    Message(usize),
    /// A `memclnt_keepalive`, answered in place.
    Keepalive,
    /// An address outside the segment (an event from VPP's main region): dropped unread.
    Foreign(u64),
    /// A buffer inside the segment whose header is invalid: dropped, the slot not written.
    Corrupt(String),
    /// Nothing arrived before the timeout, or [`ClientSegment::wake`] was called.
    Empty,
}

/// Client counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests enqueued to VPP.
    pub sent: u64,
    /// Messages returned by `recv_into` as [`Recv::Message`].
    pub received: u64,
    /// Heap buffers given back with the keepalive-reply trick.
    pub heap_frees: u64,
    /// Keepalives answered.
    pub keepalives: u64,
    /// Foreign addresses dropped.
    pub foreign_dropped: u64,
    /// Corrupt buffers dropped.
    pub corrupt_dropped: u64,
    /// `try_send` calls that found no free slot.
    pub no_slot: u64,
}

/// A snapshot of a queue's indexes (read without the lock, as VPP's keepalive scan does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    /// Next element to dequeue.
    pub head: u32,
    /// Next free element.
    pub tail: u32,
    /// Elements queued.
    pub cursize: u32,
    /// Capacity.
    pub maxsize: u32,
}

/// Per-ring counters as `show api ring-stats` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingStat {
    /// VLIB or CLIENT.
    pub kind: RingKind,
    /// Slot bytes (config size + 24).
    pub size: u32,
    /// Slots.
    pub nitems: u32,
    /// Allocations served.
    pub hits: u32,
    /// Busy head slots skipped.
    pub misses: u32,
}

/// Server allocator counters besides the per-ring ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocStats {
    /// Replies that fell back to the heap ("ring miss fallback allocations").
    pub heap_fallbacks: u64,
    /// Busy slots stolen after 10 s (`vl_shmem_hdr_t.garbage_collects`).
    pub garbage_collects: u32,
}

/// A request taken from VPP's input queue by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// VPP address of the body.
    pub addr: u64,
    /// Ring-allocated (else a heap buffer handed back by the keepalive-reply trick).
    pub ring: bool,
}

fn put_likely_small(out: &mut Vec<u8>, x: u64) {
    if x < 1 << 7 {
        out.push((1 + 2 * x) as u8);
        return;
    }
    let r = x - (1 << 7);
    if r < 1 << 14 {
        out.extend_from_slice(&((4 * r + 2) as u16).to_le_bytes());
        return;
    }
    let r = r - (1 << 14);
    if r < 1 << 29 {
        out.extend_from_slice(&((8 * r + 4) as u32).to_le_bytes());
        return;
    }
    out.push(0);
    out.extend_from_slice(&x.to_le_bytes());
}

fn get_likely_small(b: &[u8], pos: &mut usize) -> Option<u64> {
    let y = *b.get(*pos)? as u64;
    if y & 1 != 0 {
        *pos += 1;
        return Some(y / 2);
    }
    if y & 2 != 0 {
        let v = u16::from_le_bytes(b.get(*pos..*pos + 2)?.try_into().ok()?) as u64;
        *pos += 2;
        return Some((1 << 7) + v / 4);
    }
    if y & 4 != 0 {
        let v = u32::from_le_bytes(b.get(*pos..*pos + 4)?.try_into().ok()?) as u64;
        *pos += 4;
        return Some((1 << 7) + (1 << 14) + v / 8);
    }
    let v = u64::from_le_bytes(b.get(*pos + 1..*pos + 9)?.try_into().ok()?);
    *pos += 9;
    Some(v)
}

/// vppinfra serialize of the message table (spec 6): u32 BE count, then per entry a
/// likely-small index and a likely-small length + the `name_crc` bytes.
pub fn serialize_message_table(entries: &[(u16, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + entries.iter().map(|e| e.1.len() + 3).sum::<usize>());
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for (id, name) in entries {
        put_likely_small(&mut out, *id as u64);
        put_likely_small(&mut out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
    }
    out
}

/// Inverse of [`serialize_message_table`]; errors name the entry and offset.
pub fn parse_message_table(bytes: &[u8]) -> Result<Vec<(u16, String)>, ShmError> {
    let bad = |what: String| ShmError::BadMessage(format!("message table: {what}"));
    let n = u32::from_be_bytes(
        bytes
            .get(..4)
            .ok_or_else(|| bad(format!("{} bytes, no count", bytes.len())))?
            .try_into()
            .map_err(|_| bad("count".into()))?,
    ) as usize;
    if n > bytes.len() / 2 {
        return Err(bad(format!(
            "count {n} cannot fit in {} bytes",
            bytes.len()
        )));
    }
    let mut pos = 4;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let at = pos;
        let id = get_likely_small(bytes, &mut pos)
            .ok_or_else(|| bad(format!("entry {i} at {at}: truncated index")))?;
        let id =
            u16::try_from(id).map_err(|_| bad(format!("entry {i} at {at}: index {id} > 65535")))?;
        let len = get_likely_small(bytes, &mut pos)
            .ok_or_else(|| bad(format!("entry {i} at {at}: truncated length")))?;
        let end = pos
            .checked_add(usize::try_from(len).unwrap_or(usize::MAX))
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| {
                bad(format!(
                    "entry {i} at {at}: name of {len} bytes runs past the end"
                ))
            })?;
        let name = std::str::from_utf8(&bytes[pos..end])
            .map_err(|_| bad(format!("entry {i} at {at}: name is not UTF-8")))?;
        out.push((id, name.to_owned()));
        pos = end;
    }
    if pos != bytes.len() {
        return Err(bad(format!(
            "{} trailing bytes after {n} entries",
            bytes.len() - pos
        )));
    }
    Ok(out)
}

/// `recvmsg` on a (non-blocking or blocking) unix stream fd with a control buffer for
/// `SCM_RIGHTS` and `MSG_CMSG_CLOEXEC`: returns bytes read and the fd received with them, if any
/// (more than one fd: keep the first, close the rest). `WouldBlock` is returned as
/// `io::ErrorKind::WouldBlock` so callers can drive it from tokio's `try_io`.
#[cfg(unix)]
pub fn recv_with_fd(
    sock: std::os::fd::BorrowedFd<'_>,
    buf: &mut [u8],
) -> std::io::Result<(usize, Option<std::os::fd::OwnedFd>)> {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
    return sys::recv_with_fd(sock, buf);
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub))))]
    return stub::unsupported_io(sock, buf.len());
}

/// `sendmsg` of `bytes` with one fd in `SCM_RIGHTS` (the server's 5-byte [`FDMSG`]).
#[cfg(unix)]
pub fn send_with_fd(
    sock: std::os::fd::BorrowedFd<'_>,
    bytes: &[u8],
    fd: std::os::fd::BorrowedFd<'_>,
) -> std::io::Result<usize> {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
    return sys::send_with_fd(sock, bytes, fd);
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub))))]
    {
        let _ = sock;
        stub::unsupported_io::<usize>(fd, bytes.len())
    }
}

/// Put `bytes` (zero-extended to `size`) into a fresh sealed memfd, e.g. a recorded segment
/// dump to attach a [`ClientSegment`] to.
#[cfg(unix)]
pub fn memfd_from_bytes(
    name: &str,
    bytes: &[u8],
    size: u64,
) -> Result<std::os::fd::OwnedFd, ShmError> {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub)))]
    return sys::memfd_with(name, bytes, size.max(bytes.len() as u64)).map_err(|source| {
        ShmError::Io {
            what: "memfd_create",
            source,
        }
    });
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(vppapi_shm_force_stub))))]
    {
        let _ = (name, bytes, size);
        Err(ShmError::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likely_small_boundaries() {
        for x in [
            0u64,
            1,
            127,
            128,
            129,
            16511,
            16512,
            16513,
            (1 << 29) + 16511,
            1 << 40,
        ] {
            let mut v = vec![];
            put_likely_small(&mut v, x);
            let mut pos = 0;
            assert_eq!(get_likely_small(&v, &mut pos), Some(x), "{x}");
            assert_eq!(pos, v.len());
        }
    }
}
