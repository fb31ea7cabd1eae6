//! The shared-memory transport (`shm:PATH`): VPP's hybrid `sock_init_shm` path on top of the
//! socket handshake, in pure Rust (`vppapi-shm` does the segment; this module wires it into
//! the connection). Steps (shm doc section 10):
//!
//! 1. `sockclnt_create` on the socket ([`super::socket`]).
//! 2. `sock_init_shm` on the socket, hand-encoded (its size and configs are host order; a
//!    big-endian size crashes VPP 26.06), with the recommended ring geometry; nothing else is
//!    sent until the fd is in hand.
//! 3. The reply frame, then the unframed `"fdmsg"` with the memfd in `SCM_RIGHTS`, read with
//!    `recvmsg` (a plain read would discard the fd and leave VPP an orphan segment).
//! 4. Map the segment anywhere, validate it, build the own input queue in page 0.
//! 5. `memclnt_create_v2` through the segment (keepalive on), reply on the own queue: its
//!    `index` is the client index of requests sent through the segment.
//! 6. A receive thread drains the own queue at once, whatever callers do (VPP's add to a full
//!    client queue waits forever: a slow client would freeze VPP's main thread), answers
//!    keepalives, hands heap-allocated replies back to VPP, drops foreign addresses (events
//!    allocated in VPP's main region) and routes every reply like the socket reader does.
//! 7. Requests go through a ring slot or the socket ([`ShmRoute`]); events (`want_*`) and
//!    messages too large for a ring always go on the socket, with the socket's index.
//! 8. Goodbye: `memclnt_delete` through the segment (wait up to 2 s for its reply), then
//!    `sockclnt_delete` on the socket.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::Interest;
use vppapi_shm::{ClientSegment, Recv, SendError};

use super::frame::{frames, msg_id, FrameBuf, HEADER_LEN};
use super::socket::{io_err, write_all, Handshake};
use crate::codec::{decode_message, encode_message, message_len, Message};
use crate::config::{ShmConfig, ShmRoute};
use crate::connection::session::{Path, Session};
use crate::error::{Error, Result};
use vppapi_binapi::memclnt::{
    MemclntCreateV2, MemclntCreateV2Reply, MemclntDelete, MemclntDeleteReply, SockInitShm,
    SockInitShmReply,
};

/// Context of `sock_init_shm` and `memclnt_create_v2` (any value works; VPP echoes it).
const SHM_CONTEXT: u32 = 0x103;
/// How long the handshake waits for each step (VPP's idle main loop answers a segment
/// message within ~10 ms; the fd follows the reply within ~1 ms).
const STEP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the receive thread waits on its queue before it looks at the session again.
const RECV_TICK: Duration = Duration::from_millis(20);

/// The warning every shared-memory connect logs (shm doc 8.3).
pub const SHOW_MEMORY_WARNING: &str = "shared-memory transport: after this client disconnects, \
`vppctl show memory` (without arguments) crashes VPP 26.06 because VPP unmaps the segment's heaps \
without unregistering them (use `show memory api-segment` or `show memory main-heap`)";

/// What the shared-memory upgrade of a socket produced.
pub(crate) struct ShmSide {
    seg: Arc<ClientSegment>,
    /// Index of requests through the segment (`memclnt_create_v2_reply.index`, raw bytes).
    pub index: [u8; 4],
    /// `memclnt_create_v2_reply.handle` (raw), echoed by `memclnt_delete`.
    handle: u64,
    scratch: Mutex<Vec<u8>>,
    router: Router,
    delete_reply_id: Option<u16>,
    deleted: Arc<(Mutex<bool>, Condvar)>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for ShmSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShmSide")
            .field("vpp_base", &format_args!("{:#x}", self.seg.vpp_base()))
            .field("index", &self.index)
            .finish()
    }
}

fn id_of<M: Message>(hs: &Handshake) -> Result<u16> {
    hs.table.id(M::NAME_CRC).ok_or_else(|| Error::Unavailable {
        name_crc: M::NAME_CRC,
        why: hs
            .table
            .unavailable(M::NAME_CRC)
            .unwrap_or(crate::error::Unavailable::Missing),
    })
}

fn shm_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Handshake(format!("shared memory: {what}: {e}"))
}

/// Upgrade a registered socket to the hybrid transport: steps 2 to 5.
pub(crate) async fn upgrade(
    hs: &mut Handshake,
    path: &std::path::Path,
    client_name: &str,
    cfg: &ShmConfig,
) -> Result<ShmSide> {
    let init_id = id_of::<SockInitShm>(hs)?;
    let init_reply_id = id_of::<SockInitShmReply>(hs)?;
    let create_id = id_of::<MemclntCreateV2>(hs)?;
    let create_reply_id = id_of::<MemclntCreateV2Reply>(hs)?;
    let configs = vppapi_shm::default_configs();
    vppapi_shm::check_configs(cfg.segment_size, &configs)
        .map_err(|e| shm_err("ring configuration", e))?;

    // 2. sock_init_shm, hand-encoded in host order.
    let mut frame = vec![0u8; HEADER_LEN];
    vppapi_shm::encode_sock_init_shm(
        &mut frame,
        init_id,
        hs.client_index,
        SHM_CONTEXT,
        cfg.segment_size,
        &configs,
    );
    let body_len = (frame.len() - HEADER_LEN) as u32;
    frame[8..12].copy_from_slice(&body_len.to_be_bytes());
    write_all(&hs.stream, &frame)
        .await
        .map_err(|e| io_err(path, e))?;

    // 3. The reply frame, then "fdmsg" + SCM_RIGHTS, all through recvmsg.
    let fd = tokio::time::timeout(STEP_TIMEOUT, receive_fd(hs, init_reply_id, path))
        .await
        .map_err(|_| shm_err("sock_init_shm", "no reply and fd within 5 s"))??;

    // 4. Map, validate, own queue.
    let seg = tokio::task::spawn_blocking(move || ClientSegment::attach(fd, &configs))
        .await
        .map_err(|e| shm_err("attach", e))?
        .map_err(|e| shm_err("attach", e))?;
    let seg = Arc::new(seg);

    // 5. memclnt_create_v2 through the segment.
    let name = format!("{client_name}[shm]");
    let name = if name.len() > 63 {
        client_name.chars().take(58).collect::<String>() + "[shm]"
    } else {
        name
    };
    let create = MemclntCreateV2 {
        ctx_quota: 0,
        // Raw host order, as VPP reads it: encoded big-endian from the swapped value.
        input_queue: u64::from_be_bytes(seg.own_queue_addr().to_ne_bytes()),
        name,
        api_versions: [0; 8],
        keepalive: true,
    };
    let mut body = vec![0u8; message_len(&create)];
    encode_message(&create, create_id, [0; 4], SHM_CONTEXT, &mut body).map_err(|e| {
        Error::Encode {
            message: MemclntCreateV2::NAME,
            source: e,
        }
    })?;
    let seg2 = seg.clone();
    let reply = tokio::task::spawn_blocking(move || -> Result<MemclntCreateV2Reply> {
        send_blocking(&seg2, &body, STEP_TIMEOUT)?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut buf = BytesMut::with_capacity(4096);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(shm_err("memclnt_create_v2", "no reply within 5 s"));
            }
            buf.clear();
            match seg2.recv_into(&mut buf, left.min(RECV_TICK)) {
                Ok(Recv::Message(_)) if msg_id(&buf) == create_reply_id => {
                    let (_, r, _) = decode_message::<MemclntCreateV2Reply>(&buf)
                        .map_err(|e| shm_err("memclnt_create_v2_reply", e))?;
                    return Ok(r);
                }
                Ok(Recv::Message(_)) => {
                    tracing::debug!(id = msg_id(&buf), "message before memclnt_create_v2_reply");
                }
                Ok(_) => {}
                Err(e) => return Err(shm_err("memclnt_create_v2", e)),
            }
        }
    })
    .await
    .map_err(|e| shm_err("memclnt_create_v2", e))??;
    if reply.response != 0 {
        return Err(shm_err(
            "memclnt_create_v2",
            format!("response {}", reply.response),
        ));
    }
    let index = reply.index.to_be_bytes();
    seg.set_client_index(index);
    tracing::warn!("{SHOW_MEMORY_WARNING}");
    tracing::info!(
        vpp_base = format_args!("{:#x}", seg.vpp_base()),
        size = seg.size(),
        client_slots = seg.client_slots(),
        max_request = seg.max_request_body(),
        "shared-memory segment mapped and registered"
    );
    Ok(ShmSide {
        seg,
        index,
        handle: reply.handle,
        scratch: Mutex::new(Vec::with_capacity(4096)),
        router: Router::new(cfg),
        delete_reply_id: hs.table.id(MemclntDeleteReply::NAME_CRC),
        deleted: Arc::new((Mutex::new(false), Condvar::new())),
        stop: Arc::new(AtomicBool::new(false)),
        thread: Mutex::new(None),
    })
}

/// Read the `sock_init_shm_reply` frame and the `fdmsg` with its fd, by `recvmsg` only.
async fn receive_fd(hs: &mut Handshake, reply_id: u16, path: &std::path::Path) -> Result<OwnedFd> {
    // Anything already buffered came before our request (normally nothing).
    let mut early = FrameBuf::new(1 << 20);
    std::mem::swap(&mut early, &mut hs.buf);
    let mut raw: Vec<u8> = Vec::with_capacity(64);
    let mut fd: Option<OwnedFd> = None;
    let mut tmp = [0u8; 256];
    let mut replied = false;
    loop {
        // Parse what we have: first the reply frame, then exactly the 5 bytes "fdmsg".
        if !replied && raw.len() >= HEADER_LEN {
            let len = u32::from_be_bytes([raw[8], raw[9], raw[10], raw[11]]) as usize;
            if raw.len() >= HEADER_LEN + len {
                let whole: Vec<u8> = raw.drain(..HEADER_LEN + len).collect();
                let body = &whole[HEADER_LEN..];
                if msg_id(body) != reply_id {
                    // An earlier message (none is expected): keep it for the reader.
                    early.extend_from_slice(&whole);
                    continue;
                }
                let (_, r, _) = decode_message::<SockInitShmReply>(body)
                    .map_err(|e| shm_err("sock_init_shm_reply", e))?;
                if r.retval != 0 {
                    return Err(shm_err(
                        "sock_init_shm",
                        format!(
                            "VPP refused the segment: retval {}{}",
                            r.retval,
                            if r.retval == -101 { " (no size)" } else { "" }
                        ),
                    ));
                }
                replied = true;
            }
        }
        if replied && raw.len() >= vppapi_shm::FDMSG.len() {
            if &raw[..5] != vppapi_shm::FDMSG {
                return Err(shm_err("sock_init_shm", "no \"fdmsg\" after the reply"));
            }
            raw.drain(..5);
            let fd = fd.ok_or_else(|| shm_err("sock_init_shm", "\"fdmsg\" without an fd"))?;
            // Whatever followed is framed again: give it to the reader.
            hs.buf = early;
            hs.buf.extend_from_slice(&raw);
            return Ok(fd);
        }
        hs.stream.readable().await.map_err(|e| io_err(path, e))?;
        let got = hs.stream.try_io(Interest::READABLE, || {
            vppapi_shm::recv_with_fd(hs.stream.as_fd(), &mut tmp)
        });
        match got {
            Ok((0, _)) => return Err(shm_err("sock_init_shm", "VPP closed the socket")),
            Ok((n, f)) => {
                raw.extend_from_slice(&tmp[..n]);
                if let Some(f) = f {
                    fd = Some(f);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(io_err(path, e)),
        }
    }
}

/// Send one body through the segment, retrying while slots or VPP's queue are busy.
fn send_blocking(seg: &ClientSegment, body: &[u8], within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        match seg.try_send(body, Duration::from_millis(1)) {
            Ok(()) => return Ok(()),
            Err(SendError::NoSlot | SendError::InputQueueFull) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_micros(100));
            }
            Err(e) => return Err(shm_err("send", send_error(e))),
        }
    }
}

fn send_error(e: SendError) -> String {
    match e {
        SendError::TooLarge { len, max } => format!("{len}-byte message, largest slot {max}"),
        SendError::NoSlot => "no free ring slot".into(),
        SendError::InputQueueFull => "VPP's input queue stays full".into(),
        SendError::Shm(e) => e.to_string(),
    }
}

/// What [`ShmSide::try_push`] did.
pub(crate) enum ShmPush {
    /// Every frame went through the segment.
    Sent,
    /// The router chose the socket, or a frame does not fit: send `bytes` (if any; else
    /// encode again) on the socket.
    Socket(Option<Vec<u8>>),
    /// Some frames went through the segment; these must follow them through it too (slots
    /// were busy): retry shortly.
    Rest(Vec<u8>),
}

impl ShmSide {
    /// Start the receive thread (step 6).
    pub fn start(&self, session: &Arc<Session>) {
        let seg = self.seg.clone();
        let stop = self.stop.clone();
        let deleted = self.deleted.clone();
        let delete_id = self.delete_reply_id;
        let weak = Arc::downgrade(session);
        let generation = session.generation;
        let h = std::thread::Builder::new()
            .name(format!("vppapi-shm-rx-{generation}"))
            .spawn(move || receive_loop(seg, stop, deleted, delete_id, weak))
            .ok();
        if h.is_none() {
            session.close("shared memory: cannot start the receive thread");
        }
        *self.thread.lock().unwrap_or_else(|p| p.into_inner()) = h;
    }

    /// Stop the receive thread (it finishes what it holds).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.seg.wake();
    }

    /// Which path the next request should take.
    pub fn choose(&self) -> Path {
        self.router.choose()
    }

    /// A round trip observed on `path`.
    pub fn observe(&self, path: Path, rtt: Duration) {
        self.router.observe(path, rtt);
    }

    /// Encode with `f` and send through the segment (the router has chosen it).
    pub fn try_push(
        &self,
        f: impl FnOnce(&mut Vec<u8>) -> std::result::Result<(), crate::codec::EncodeError>,
    ) -> std::result::Result<ShmPush, crate::codec::EncodeError> {
        let mut s = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        s.clear();
        f(&mut s)?;
        let mut sent = 0usize;
        for (start, len) in frames(&s) {
            let body = &s[start + HEADER_LEN..start + len];
            match self.seg.try_send(body, Duration::ZERO) {
                Ok(()) => sent = start + len,
                Err(SendError::TooLarge { .. } | SendError::NoSlot | SendError::InputQueueFull)
                    if sent == 0 =>
                {
                    return Ok(ShmPush::Socket(Some(s.clone())));
                }
                Err(SendError::NoSlot | SendError::InputQueueFull) => {
                    return Ok(ShmPush::Rest(s[sent..].to_vec()));
                }
                Err(e) => {
                    tracing::debug!("segment send failed: {}", send_error(e));
                    if sent == 0 {
                        return Ok(ShmPush::Socket(Some(s.clone())));
                    }
                    return Ok(ShmPush::Rest(s[sent..].to_vec()));
                }
            }
        }
        Ok(ShmPush::Sent)
    }

    /// Send frames that must follow earlier ones through the segment, waiting for slots up
    /// to `deadline`.
    pub async fn push_rest(&self, mut rest: Vec<u8>, deadline: tokio::time::Instant) -> bool {
        loop {
            let mut sent = 0usize;
            for (start, len) in frames(&rest) {
                match self
                    .seg
                    .try_send(&rest[start + HEADER_LEN..start + len], Duration::ZERO)
                {
                    Ok(()) => sent = start + len,
                    Err(SendError::NoSlot | SendError::InputQueueFull) => break,
                    Err(_) => return false,
                }
            }
            rest.drain(..sent);
            if rest.is_empty() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Step 8: `memclnt_delete` through the segment, wait up to 2 s for the reply, stop the
    /// receive thread.
    pub async fn goodbye(&self, table: &crate::compat::MessageTable) {
        if let Some(id) = table.id(MemclntDelete::NAME_CRC) {
            let del = MemclntDelete {
                // Raw bytes, echoed: encoded big-endian from the values read big-endian.
                index: u32::from_be_bytes(self.index),
                handle: self.handle,
                do_cleanup: false,
            };
            let mut body = vec![0u8; message_len(&del)];
            if encode_message(&del, id, [0; 4], 0, &mut body).is_ok()
                && self.seg.try_send(&body, Duration::from_millis(10)).is_ok()
            {
                let deleted = self.deleted.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let (m, c) = &*deleted;
                    let g = m.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = c.wait_timeout_while(g, Duration::from_secs(2), |d| !*d);
                })
                .await;
            }
        }
        self.stop();
        let h = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = h {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }

    /// Counters of the segment (for tests and metrics).
    pub fn stats(&self) -> vppapi_shm::ClientStats {
        self.seg.stats()
    }
}

fn receive_loop(
    seg: Arc<ClientSegment>,
    stop: Arc<AtomicBool>,
    deleted: Arc<(Mutex<bool>, Condvar)>,
    delete_id: Option<u16>,
    session: std::sync::Weak<Session>,
) {
    // Two receive buffers used in turn: a frame is split off and handed to its caller at
    // once, so the space of a buffer can only be taken back once its frames are dropped;
    // by the time the other buffer fills up, they are (no allocation in steady state).
    const CHUNK: usize = 256 << 10;
    let mut spare = BytesMut::with_capacity(CHUNK);
    let mut buf = BytesMut::with_capacity(CHUNK);
    let mut idle_ticks = 0u32;
    loop {
        if stop.load(Ordering::Acquire) {
            // Drain what is already there so VPP's replies are freed, then go.
            let _ = drain(&seg, &mut buf, &session, &deleted, delete_id);
            return;
        }
        if buf.capacity() - buf.len() < 16 << 10 {
            if spare.try_reclaim(CHUNK) {
                std::mem::swap(&mut buf, &mut spare);
            } else {
                buf.reserve(CHUNK);
            }
        }
        match seg.recv_into(&mut buf, RECV_TICK) {
            Ok(Recv::Message(_)) => {
                idle_ticks = 0;
                let frame = buf.split().freeze();
                deliver(frame, &session, &deleted, delete_id);
            }
            Ok(Recv::Empty) => {
                idle_ticks += 1;
                if idle_ticks % 10 == 0 && !seg.vpp_alive() {
                    if let Some(s) = session.upgrade() {
                        s.close("VPP died (its pid is gone)");
                    }
                    return;
                }
            }
            Ok(Recv::Keepalive) => tracing::trace!("keepalive answered"),
            Ok(Recv::Foreign(addr)) => {
                tracing::debug!(addr = format_args!("{addr:#x}"), "foreign address dropped")
            }
            Ok(Recv::Corrupt(why)) => {
                tracing::warn!("corrupt message in the segment dropped: {why}")
            }
            Err(e) => {
                if let Some(s) = session.upgrade() {
                    s.close(&format!("shared memory: {e}"));
                }
                return;
            }
        }
    }
}

fn drain(
    seg: &ClientSegment,
    buf: &mut BytesMut,
    session: &std::sync::Weak<Session>,
    deleted: &Arc<(Mutex<bool>, Condvar)>,
    delete_id: Option<u16>,
) -> std::result::Result<(), vppapi_shm::ShmError> {
    loop {
        match seg.try_recv_into(buf)? {
            Recv::Message(_) => {
                let f = buf.split().freeze();
                deliver(f, session, deleted, delete_id);
            }
            Recv::Empty => return Ok(()),
            _ => {}
        }
    }
}

fn deliver(
    frame: bytes::Bytes,
    session: &std::sync::Weak<Session>,
    deleted: &Arc<(Mutex<bool>, Condvar)>,
    delete_id: Option<u16>,
) {
    if Some(msg_id(&frame)) == delete_id {
        let (m, c) = &**deleted;
        *m.lock().unwrap_or_else(|p| p.into_inner()) = true;
        c.notify_all();
        return;
    }
    if let Some(s) = session.upgrade() {
        s.route(frame);
    }
}

/// Picks the path of each request (see [`ShmRoute`]).
struct Router {
    mode: ShmRoute,
    probe_ns: u64,
    epoch: Instant,
    /// Smoothed round trip per path in ns (0 = not measured yet).
    rtt: [AtomicU64; 2],
    /// When each path was last tried while it was not the best.
    probed: [AtomicU64; 2],
    /// When each path last answered.
    seen: [AtomicU64; 2],
    /// Round trips observed per path.
    samples: [std::sync::atomic::AtomicU32; 2],
    calls: AtomicU64,
}

/// Samples of each path before the router trusts its estimate.
const WARMUP_SAMPLES: u32 = 8;

impl Router {
    fn new(cfg: &ShmConfig) -> Self {
        Self {
            mode: cfg.route,
            probe_ns: cfg.probe_interval.as_nanos() as u64,
            epoch: Instant::now(),
            rtt: [AtomicU64::new(0), AtomicU64::new(0)],
            probed: [AtomicU64::new(0), AtomicU64::new(0)],
            seen: [AtomicU64::new(0), AtomicU64::new(0)],
            samples: Default::default(),
            calls: AtomicU64::new(0),
        }
    }

    fn idx(p: Path) -> usize {
        match p {
            Path::Socket => 0,
            Path::Shm => 1,
        }
    }

    fn choose(&self) -> Path {
        if self.mode == ShmRoute::Segment {
            return Path::Shm;
        }
        let s = self.rtt[0].load(Ordering::Relaxed);
        let m = self.rtt[1].load(Ordering::Relaxed);
        let best = if m != 0 && (s == 0 || m < s) {
            Path::Shm
        } else {
            Path::Socket
        };
        let other = match best {
            Path::Shm => Path::Socket,
            Path::Socket => Path::Shm,
        };
        // Until the other path has a few samples, every fourth request tries it (one slow
        // first sample must not decide for a whole probe interval).
        if self.samples[Self::idx(other)].load(Ordering::Relaxed) < WARMUP_SAMPLES
            && self.calls.fetch_add(1, Ordering::Relaxed) % 4 == 0
        {
            return other;
        }
        let now = self.epoch.elapsed().as_nanos() as u64 + self.probe_ns;
        let last = &self.probed[Self::idx(other)];
        let l = last.load(Ordering::Relaxed);
        if now.saturating_sub(l) >= self.probe_ns
            && last
                .compare_exchange(l, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return other;
        }
        best
    }

    fn observe(&self, p: Path, rtt: Duration) {
        let ns = (rtt.as_nanos() as u64).max(1);
        let i = Self::idx(p);
        let now = self.epoch.elapsed().as_nanos() as u64 + self.probe_ns;
        let seen = self.seen[i].swap(now, Ordering::Relaxed);
        self.samples[i].fetch_add(1, Ordering::Relaxed);
        let a = &self.rtt[i];
        let old = a.load(Ordering::Relaxed);
        // A path not used for a probe interval has a stale estimate: its fresh sample
        // replaces it (VPP's regime may have changed since); otherwise smooth over ~8 calls.
        let new = if old == 0 || now.saturating_sub(seen) >= self.probe_ns {
            ns
        } else {
            old - old / 8 + ns / 8
        };
        a.store(new.max(1), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_follows_the_faster_path_and_probes_the_other() {
        let cfg = ShmConfig {
            probe_interval: Duration::from_millis(50),
            ..ShmConfig::default()
        };
        let r = Router::new(&cfg);
        // Nothing measured: every fourth request tries the segment until it has 8 samples.
        let picks: Vec<Path> = (0..8).map(|_| r.choose()).collect();
        let tries = picks.iter().filter(|p| **p == Path::Shm).count();
        assert!((2..=3).contains(&tries), "{picks:?}");
        // An idle VPP: shm 5 ms, socket 25 us.
        for _ in 0..8 {
            r.observe(Path::Shm, Duration::from_millis(5));
            r.observe(Path::Socket, Duration::from_micros(25));
        }
        for _ in 0..100 {
            assert_eq!(r.choose(), Path::Socket);
        }
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(r.choose(), Path::Shm, "probe after the interval");
        // A busy VPP: the segment answers in 20 us, the socket in 150 us.
        for _ in 0..32 {
            r.observe(Path::Shm, Duration::from_micros(20));
            r.observe(Path::Socket, Duration::from_micros(150));
        }
        // At most one probe of the socket, then the segment.
        let picks: Vec<Path> = (0..20).map(|_| r.choose()).collect();
        assert!(
            picks.iter().filter(|p| **p == Path::Socket).count() <= 1,
            "{picks:?}"
        );
        assert_eq!(picks[19], Path::Shm);
        let seg = Router::new(&ShmConfig {
            route: ShmRoute::Segment,
            ..ShmConfig::default()
        });
        assert!((0..10).all(|_| seg.choose() == Path::Shm));
    }
}
