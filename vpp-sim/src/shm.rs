//! VPP's side of the hybrid shared-memory transport (shm doc sections 1, 2, 4, 5, 7): the
//! `sock_init_shm` handler builds a memfd segment with VPP's layout (`vppapi_shm::ServerSegment`)
//! and sends its fd; a main-loop thread polls every segment's input queue like VPP's
//! `memclnt_queue_callback`, handles `memclnt_create(_v2)`, `memclnt_delete`,
//! `memclnt_keepalive_reply` and every other request through the same handlers as the
//! socket, allocates replies from the VLIB rings (heap fallback) and puts them on the client's
//! queue, frees requests after their handler, and sends keepalives to quiet clients.
//!
//! The loop runs in one of VPP's regimes ([`MainLoop`]): idle (one segment message per
//! wake-up, then up to 10 ms asleep unless socket traffic rings the doorbell), busy (polling)
//! or a test-friendly polling interval.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tracing::{debug, warn};
use vppapi_shm::{RingConfig, ServerSegment, ShmError};

use crate::handlers::{Outbox, FRAME_HEADER};
use crate::server::{lock, sync_stats, Inner, MainLoop, Registration, Sink};

/// How long a reply waits for room in a full client queue before the simulator gives up
/// (VPP waits forever: its main thread would hang here).
const HANG_TIMEOUT: Duration = Duration::from_secs(2);

/// A shared-memory registration's destination.
pub(crate) struct ShmTarget {
    pub seg: Arc<ServerSegment>,
    /// VPP address of the client's input queue.
    pub queue: u64,
    /// The raw index bytes (`pool_index << 8 | epoch`, host order).
    pub index: [u8; 4],
    pub keepalive: bool,
    pub last_heard: Instant,
    pub unanswered: u32,
}

impl ShmTarget {
    /// Put every frame of `frames` (16-byte header + body each) on the client's queue.
    pub fn deliver(&self, frames: &[u8], main: &ShmMain) {
        let mut at = 0usize;
        while at + FRAME_HEADER <= frames.len() {
            let len = u32::from_be_bytes([
                frames[at + 8],
                frames[at + 9],
                frames[at + 10],
                frames[at + 11],
            ]) as usize;
            let end = at + FRAME_HEADER + len;
            if end > frames.len() {
                break;
            }
            if let Err(e) =
                self.seg
                    .send_to(self.queue, &frames[at + FRAME_HEADER..end], HANG_TIMEOUT)
            {
                main.would_hang.fetch_add(1, Ordering::Relaxed);
                warn!("reply to a shared-memory client not delivered: {e}");
            }
            at = end;
        }
    }
}

struct SegEntry {
    id: u64,
    seg: Arc<ServerSegment>,
}

/// Counters of the shared-memory side (for tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShmStats {
    /// Segments created by `sock_init_shm` and still mapped.
    pub segments: usize,
    /// Heap buffers handed to clients and not yet given back, over all segments.
    pub heap_outstanding: usize,
    /// Requests handled through segments.
    pub requests: u64,
    /// Keepalives sent / answered.
    pub keepalives_sent: u64,
    pub keepalive_replies: u64,
    /// Replies that would have hung VPP's main thread (client queue full for 2 s).
    pub would_hang: u64,
    /// Requests that would have crashed VPP 26.06 (bad `sock_init_shm`).
    pub would_crash: u64,
}

/// The main-loop thread and the segments it polls.
pub(crate) struct ShmMain {
    segs: Mutex<(u64, Vec<SegEntry>)>,
    next_id: AtomicU64,
    bell: (Mutex<bool>, Condvar),
    stop: AtomicBool,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    requests: AtomicU64,
    keepalives_sent: AtomicU64,
    keepalive_replies: AtomicU64,
    pub would_hang: AtomicU64,
    pub would_crash: AtomicU64,
}

impl ShmMain {
    pub fn new() -> Self {
        Self {
            segs: Mutex::new((0, Vec::new())),
            next_id: AtomicU64::new(1),
            bell: (Mutex::new(false), Condvar::new()),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
            requests: AtomicU64::new(0),
            keepalives_sent: AtomicU64::new(0),
            keepalive_replies: AtomicU64::new(0),
            would_hang: AtomicU64::new(0),
            would_crash: AtomicU64::new(0),
        }
    }

    /// Socket traffic wakes VPP's main loop (its epoll returns). In VPP that wake-up is the
    /// socket's own handling; here the socket is served elsewhere, so the loop is only
    /// woken when a segment has a request waiting (what the wake-up would then find).
    pub fn ring(&self) {
        {
            let g = lock(&self.segs);
            if !g.1.iter().any(|s| s.seg.input_pending()) {
                return;
            }
        }
        let (m, c) = &self.bell;
        let mut g = lock(m);
        if !*g {
            *g = true;
            c.notify_one();
        }
    }

    fn sleep(&self, max: Duration) {
        let (m, c) = &self.bell;
        let mut g = lock(m);
        if !*g {
            g = c.wait_timeout(g, max).unwrap_or_else(|p| p.into_inner()).0;
        }
        *g = false;
    }

    pub fn stats(&self) -> ShmStats {
        let g = lock(&self.segs);
        ShmStats {
            segments: g.1.len(),
            heap_outstanding: g.1.iter().map(|s| s.seg.heap_outstanding()).sum(),
            requests: self.requests.load(Ordering::Relaxed),
            keepalives_sent: self.keepalives_sent.load(Ordering::Relaxed),
            keepalive_replies: self.keepalive_replies.load(Ordering::Relaxed),
            would_hang: self.would_hang.load(Ordering::Relaxed),
            would_crash: self.would_crash.load(Ordering::Relaxed),
        }
    }

    /// Forget every segment (VPP restarted or died).
    pub fn clear(&self) {
        let mut g = lock(&self.segs);
        g.0 += 1;
        g.1.clear();
    }

    fn remove(&self, id: u64) {
        let mut g = lock(&self.segs);
        g.1.retain(|s| s.id != id);
        g.0 += 1;
    }

    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        self.ring();
        if let Some(h) = lock(&self.thread).take() {
            let _ = h.join();
        }
    }
}

/// `sock_init_shm` on a socket registration: what the handler answers.
pub(crate) enum InitOutcome {
    /// Reply `retval` 0, then the fd.
    Segment(OwnedFd),
    /// Reply with this retval, no fd.
    Refused(i32),
    /// VPP 26.06 would crash here: the connection is dropped, nothing sent.
    Crash(String),
}

/// The handler of `sock_init_shm` (shm doc 2.1), for socket registration `reg` named `name`.
pub(crate) fn sock_init_shm(
    inner: &Arc<Inner>,
    name: &str,
    requested_size: u32,
    configs: &[RingConfig],
    vpe_pid: u32,
) -> InitOutcome {
    let main = &inner.shm;
    match ServerSegment::create(name, requested_size, configs, vpe_pid) {
        Ok((seg, fd)) => {
            let id = main.next_id.fetch_add(1, Ordering::Relaxed);
            {
                let mut g = lock(&main.segs);
                g.1.push(SegEntry {
                    id,
                    seg: Arc::new(seg),
                });
                g.0 += 1;
            }
            start(inner);
            InitOutcome::Segment(fd)
        }
        Err(ShmError::NoSize) => InitOutcome::Refused(vppapi_shm::SSVM_API_ERROR_NO_SIZE),
        Err(ShmError::Io { what, source }) => {
            warn!("sock_init_shm: {what}: {source}");
            InitOutcome::Refused(-102)
        }
        Err(e) => {
            main.would_crash.fetch_add(1, Ordering::Relaxed);
            InitOutcome::Crash(e.to_string())
        }
    }
}

fn start(inner: &Arc<Inner>) {
    let mut t = lock(&inner.shm.thread);
    if t.is_some() {
        return;
    }
    let i = inner.clone();
    *t = std::thread::Builder::new()
        .name("vpp-sim-main".into())
        .spawn(move || main_loop(i))
        .ok();
}

fn main_loop(inner: Arc<Inner>) {
    let main = &inner.shm;
    let mut segs: Vec<Arc<ServerSegment>> = Vec::new();
    let mut seen_gen = u64::MAX;
    let mut buf = Vec::with_capacity(64 << 10);
    let mut rr = 0usize;
    let mut last_scan = Instant::now();
    let mut spins = 0u32;
    let mut rng = u64::from(std::process::id()) | 1;
    while !main.stop.load(Ordering::Acquire) {
        {
            let g = lock(&main.segs);
            if g.0 != seen_gen {
                seen_gen = g.0;
                segs = g.1.iter().map(|s| s.seg.clone()).collect();
            }
        }
        let paused = inner.faults.reading_stopped();
        match inner.cfg.main_loop {
            MainLoop::Idle => {
                // One message from one segment per wake-up (round robin), then epoll sleeps
                // until the next 10 ms tick unless the socket rings.
                if !paused && !segs.is_empty() {
                    for k in 0..segs.len() {
                        let s = &segs[(rr + k) % segs.len()];
                        if s.input_pending() {
                            handle_one(&inner, s, &mut buf);
                            rr = (rr + k + 1) % segs.len();
                            break;
                        }
                    }
                }
                scan(&inner, &mut last_scan);
                // epoll_wait sleeps up to 10 ms, less when a timer is due: VPP 26.06 was
                // measured at a 5.1 ms median per segment request, spread over 0..10 ms.
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let us = 100 + (rng >> 33) % 9_900;
                main.sleep(Duration::from_micros(us));
            }
            MainLoop::Busy => {
                if !paused {
                    for s in &segs {
                        if s.input_pending() {
                            handle_one(&inner, s, &mut buf);
                        }
                    }
                }
                spins = spins.wrapping_add(1);
                if spins % 1024 == 0 {
                    scan(&inner, &mut last_scan);
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            MainLoop::Polling(every) => {
                let mut any = false;
                if !paused {
                    for s in &segs {
                        while s.input_pending() {
                            handle_one(&inner, s, &mut buf);
                            any = true;
                        }
                    }
                }
                scan(&inner, &mut last_scan);
                if !any {
                    main.sleep(every);
                }
            }
        }
    }
}

fn seg_id_of(main: &ShmMain, seg: &Arc<ServerSegment>) -> Option<u64> {
    lock(&main.segs)
        .1
        .iter()
        .find(|e| Arc::ptr_eq(&e.seg, seg))
        .map(|e| e.id)
}

fn u32_at(b: &[u8], at: usize) -> Option<[u8; 4]> {
    b.get(at..at + 4).map(|s| [s[0], s[1], s[2], s[3]])
}

/// Handle one request of `seg`, like `vl_api_clnt_process` does for a private segment.
fn handle_one(inner: &Arc<Inner>, seg: &Arc<ServerSegment>, buf: &mut Vec<u8>) {
    let req = match seg.take_request(buf) {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            warn!("bad request in a segment dropped: {e}");
            return;
        }
    };
    let main = &inner.shm;
    main.requests.fetch_add(1, Ordering::Relaxed);
    let id = u16::from_be_bytes([buf[0], buf.get(1).copied().unwrap_or(0)]);
    let mut free = true;
    match id {
        vppapi_shm::MEMCLNT_CREATE_ID | vppapi_shm::MEMCLNT_CREATE_V2_ID => {
            memclnt_create(inner, seg, buf, id == vppapi_shm::MEMCLNT_CREATE_V2_ID)
        }
        vppapi_shm::MEMCLNT_DELETE_ID => {
            // The request is a bounce buffer: nobody frees it; the segment goes.
            free = false;
            memclnt_delete(inner, seg, buf);
        }
        vppapi_shm::MEMCLNT_KEEPALIVE_REPLY_ID => {
            // Also the free trick for heap replies: refreshing is all the handler does.
            main.keepalive_replies.fetch_add(1, Ordering::Relaxed);
            if let Some(ctx) = u32_at(buf, 2) {
                let mut core = lock(&inner.core);
                if let Some(reg) = core.resolve(ctx) {
                    if let Some(Some(Registration {
                        sink: Sink::Shm(t), ..
                    })) = core.regs.get_mut(reg as usize)
                    {
                        t.last_heard = Instant::now();
                        t.unanswered = 0;
                    }
                }
            }
        }
        _ => {
            let Some(ci) = u32_at(buf, 2) else {
                return;
            };
            let mut core = lock(&inner.core);
            let Some(reg) = core.resolve(ci) else {
                debug!(id, "segment request with a missing client: dropped");
                drop(core);
                seg.free_request(&req);
                return;
            };
            if let Some(Some(Registration {
                sink: Sink::Shm(t), ..
            })) = core.regs.get_mut(reg as usize)
            {
                t.last_heard = Instant::now();
            }
            let mut out = Outbox {
                own_reg: reg,
                own: Vec::new(),
                others: Vec::new(),
            };
            let _ = inner.dispatch(&mut core, reg, buf, &mut out);
            sync_stats(&mut core);
            core.deliver(&mut out);
            let latency = inner.faults.latency();
            if let Some(d) = latency {
                drop(core);
                std::thread::sleep(d);
                core = lock(&inner.core);
            }
            if !out.own.is_empty() {
                core.deliver_to(reg, out.own);
            }
        }
    }
    if free {
        seg.free_request(&req);
    }
}

fn memclnt_create(inner: &Arc<Inner>, seg: &Arc<ServerSegment>, body: &[u8], v2: bool) {
    // @2 context, @6 ctx_quota, @10 input_queue (raw host order), @18 name[64], (v2) @114 keepalive
    let need = if v2 { 115 } else { 114 };
    if body.len() < need {
        warn!(len = body.len(), "memclnt_create too short: dropped");
        return;
    }
    let context = [body[2], body[3], body[4], body[5]];
    let queue = u64::from_ne_bytes(body[10..18].try_into().expect("8 bytes"));
    let name_raw = &body[18..82];
    let name =
        String::from_utf8_lossy(&name_raw[..name_raw.iter().position(|&b| b == 0).unwrap_or(64)])
            .into_owned();
    let keepalive = !v2 || body[114] != 0;
    if let Err(e) = seg.check_client_queue(queue) {
        warn!("memclnt_create with a bad input_queue: {e}");
        return;
    }
    if seg_id_of(&inner.shm, seg).is_none() {
        return; // forgotten meanwhile
    }
    let mut core = lock(&inner.core);
    let handle = seg.heap_copy(&[0u8; 64]).unwrap_or(0);
    let table = seg.heap_copy(inner.serialized_table()).unwrap_or(0);
    let (reg, index) = core.alloc_shm_reg(Registration {
        name,
        sink: Sink::Shm(ShmTarget {
            seg: seg.clone(),
            queue,
            index: [0; 4],
            keepalive,
            last_heard: Instant::now(),
            unanswered: 0,
        }),
    });
    let mut reply = Vec::with_capacity(30);
    let reply_id = if v2 {
        vppapi_shm::MEMCLNT_CREATE_V2_REPLY_ID
    } else {
        vppapi_shm::MEMCLNT_CREATE_REPLY_ID
    };
    reply.extend_from_slice(&[0u8; FRAME_HEADER]);
    reply.extend_from_slice(&reply_id.to_be_bytes());
    reply.extend_from_slice(&context);
    reply.extend_from_slice(&0i32.to_be_bytes());
    reply.extend_from_slice(&handle.to_ne_bytes());
    reply.extend_from_slice(&index);
    reply.extend_from_slice(&table.to_ne_bytes());
    let n = (reply.len() - FRAME_HEADER) as u32;
    reply[8..12].copy_from_slice(&n.to_be_bytes());
    core.deliver_to(reg, reply);
    debug!(reg, ?index, "shared-memory client registered");
}

fn memclnt_delete(inner: &Arc<Inner>, seg: &Arc<ServerSegment>, body: &[u8]) {
    // @2 index (raw), @6 handle (raw), @14 do_cleanup
    if body.len() < 15 {
        return;
    }
    let index = [body[2], body[3], body[4], body[5]];
    let handle = &body[6..14];
    let do_cleanup = body[14] != 0;
    let mut core = lock(&inner.core);
    let Some(reg) = core.resolve(index) else {
        return;
    };
    if !do_cleanup {
        let mut reply = vec![0u8; FRAME_HEADER];
        reply.extend_from_slice(&vppapi_shm::MEMCLNT_DELETE_REPLY_ID.to_be_bytes());
        reply.extend_from_slice(&1i32.to_ne_bytes()); // raw host-order 1, as VPP sends it
        reply.extend_from_slice(handle);
        let n = (reply.len() - FRAME_HEADER) as u32;
        reply[8..12].copy_from_slice(&n.to_be_bytes());
        core.deliver_to(reg, reply);
    }
    core.free_reg(reg);
    let still_used = core.regs.iter().flatten().any(|r| match &r.sink {
        Sink::Shm(t) => Arc::ptr_eq(&t.seg, seg),
        _ => false,
    });
    drop(core);
    if !still_used {
        if let Some(id) = seg_id_of(&inner.shm, seg) {
            inner.shm.remove(id);
        }
    }
}

/// VPP's dead-client scan: a keepalive to registrations not heard from for a period.
fn scan(inner: &Arc<Inner>, last: &mut Instant) {
    let period = inner.cfg.keepalive_period;
    if last.elapsed() < period.min(Duration::from_secs(10)) {
        return;
    }
    *last = Instant::now();
    let mut core = lock(&inner.core);
    for r in core.regs.iter_mut().flatten() {
        if let Sink::Shm(t) = &mut r.sink {
            if t.keepalive && t.last_heard.elapsed() >= period {
                match t.seg.send_keepalive(t.queue, t.index) {
                    Ok(true) => {
                        t.unanswered += 1;
                        inner.shm.keepalives_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(false) => debug!("keepalive not queued: client queue full"),
                    Err(e) => debug!("keepalive: {e}"),
                }
                t.last_heard = Instant::now();
            }
        }
    }
}
