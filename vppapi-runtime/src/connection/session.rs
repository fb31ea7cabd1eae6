//! One session: the client index and message table of one handshake, the pending calls keyed
//! by context, and the link to VPP (the socket, read in place by whoever waits and written
//! straight by the caller when nobody else writes; plus the segment on shared memory).

use std::collections::HashMap;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch, Notify};

use super::events::EventHub;
use crate::codec::EncodeError;
use crate::compat::MessageTable;
use crate::metrics::Metrics;
use crate::transport::{msg_id, FrameBuf};

#[cfg(shm_transport)]
pub(crate) use crate::transport::shm::ShmSide;

/// Stand-in where the shared-memory transport cannot exist (never constructed).
#[cfg(not(shm_transport))]
pub(crate) enum ShmSide {}

/// Where a reply waits.
pub(crate) enum Pending {
    /// One reply, into a reusable slot.
    Reply(Arc<ReplySlot>),
    /// Details until the frame with id `end_id` (which is delivered too, then the entry goes).
    Stream {
        tx: mpsc::UnboundedSender<Bytes>,
        end_id: u16,
    },
}

/// Where one call's reply lands. Slots are pooled per session: a call in steady state
/// allocates nothing. A slot is only filled under the pending-map lock, so once a call has
/// removed its context from the map no late reply can reach the slot it gives back.
#[derive(Default)]
pub(crate) struct ReplySlot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    frame: Option<Bytes>,
    lost: bool,
    waker: Option<Waker>,
}

impl ReplySlot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fill(&self, frame: Option<Bytes>) {
        let w = {
            let mut g = self.lock();
            match frame {
                Some(f) => g.frame = Some(f),
                None => g.lost = true,
            }
            g.waker.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }

    /// `Ok(frame)`, or `Err(())` when the session ended first.
    pub fn poll_reply(&self, cx: &mut Context<'_>) -> Poll<Result<Bytes, ()>> {
        let mut g = self.lock();
        if let Some(f) = g.frame.take() {
            return Poll::Ready(Ok(f));
        }
        if g.lost {
            return Poll::Ready(Err(()));
        }
        match &g.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => g.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The reply if it is there (no waker registered).
    fn take_now(&self) -> Option<Bytes> {
        self.lock().frame.take()
    }

    fn reset(&self) {
        let mut g = self.lock();
        g.frame = None;
        g.lost = false;
        g.waker = None;
    }
}

struct PendingMap {
    closed: bool,
    map: HashMap<u32, Pending>,
}

/// Context-offset codes per message id: 0 unknown, 1 has no context (event), 2 + offset.
const CTX_UNKNOWN: u8 = 0;
const CTX_NONE: u8 = 1;

/// How long after the last call the background reader leaves the socket to callers.
const CALLER_LINGER: Duration = Duration::from_millis(1);

/// Which way a request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(shm_transport), allow(dead_code))]
pub(crate) enum Path {
    Socket,
    Shm,
}

pub(crate) struct Session {
    pub generation: u64,
    /// The index requests are encoded with (the segment's on shared memory).
    pub client_index: [u8; 4],
    /// The socket registration's index (`sockclnt_delete`, requests sent on the socket).
    pub socket_index: [u8; 4],
    pub table: Arc<MessageTable>,
    pub vpe_pid: AtomicU32,
    pub version: Mutex<Option<String>>,
    ctx_offsets: Box<[AtomicU8]>,
    /// Message ids by [`IdSlot`](crate::codec::IdSlot) index: 0 not looked up yet, else id + 1
    /// (ids VPP does not have are not cached: the error path looks them up again).
    ids: RwLock<Vec<u32>>,
    pending: Mutex<PendingMap>,
    slots: Mutex<Vec<Arc<ReplySlot>>>,
    pub sock: SocketSide,
    pub shm: Option<ShmSide>,
    events: Arc<EventHub>,
    pub metrics: Metrics,
    dead: watch::Sender<Option<String>>,
}

/// The API socket of a session: one reader role (a waiting caller, or the background task
/// when no caller waits) and a write queue with a direct path.
pub(crate) struct SocketSide {
    pub stream: UnixStream,
    rbuf: Mutex<FrameBuf>,
    /// Someone waits for readiness and reads (only one does: no thundering herd).
    role: AtomicBool,
    /// A lone caller waits for the role the background reader gives up.
    to_caller: Notify,
    /// A lone caller wants the role the background reader holds.
    want_role: Notify,
    /// The last reading caller left while others still wait: the background reader reads
    /// for them.
    to_reader: Notify,
    reader_turn: AtomicBool,
    /// Lone callers waiting for the role (the background reader gives it up only to them).
    lone_waiting: AtomicUsize,
    /// Synchronous calls in progress.
    active: AtomicUsize,
    /// Smoothed round trip of lone calls (ns), for the busy-poll decision.
    lone_rtt: AtomicU64,
    /// Longest busy-poll of a lone caller on a multi-thread runtime.
    busy_poll: Duration,
    /// When the last caller stopped waiting (ns since `epoch`).
    last_end: AtomicU64,
    epoch: Instant,
    pub write: WriteQueue,
}

impl SocketSide {
    pub fn new(stream: UnixStream, buf: FrameBuf, high_water: usize, busy_poll: Duration) -> Self {
        Self {
            lone_rtt: AtomicU64::new(0),
            busy_poll,
            stream,
            rbuf: Mutex::new(buf),
            role: AtomicBool::new(false),
            to_caller: Notify::new(),
            want_role: Notify::new(),
            to_reader: Notify::new(),
            reader_turn: AtomicBool::new(false),
            lone_waiting: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            last_end: AtomicU64::new(0),
            epoch: Instant::now(),
            write: WriteQueue::new(high_water),
        }
    }

    fn try_take_role(&self) -> bool {
        !self.role.load(Ordering::Relaxed)
            && self
                .role
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// A caller gives the role up; if others still wait, the background reader takes over.
    fn caller_release_role(&self) {
        self.role.store(false, Ordering::Release);
        if self.active.load(Ordering::Acquire) > 0 {
            self.reader_turn.store(true, Ordering::Release);
            self.to_reader.notify_one();
        }
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

/// A synchronous call in progress (from before its request is queued until its wait ends);
/// gives the reader role back when done.
pub(crate) struct CallActive<'a> {
    sock: &'a SocketSide,
    leader: bool,
    /// Counted in `lone_waiting`.
    asking: bool,
}

impl CallActive<'_> {
    fn stop_asking(&mut self) {
        if self.asking {
            self.asking = false;
            self.sock.lone_waiting.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for CallActive<'_> {
    fn drop(&mut self) {
        // Asked the background reader for the role and leaves without it (the reply came
        // first): the reader may have given it up for us; it must read for the others.
        let asked = self.asking;
        self.stop_asking();
        self.sock
            .last_end
            .store(self.sock.now_ns(), Ordering::Relaxed);
        self.sock.active.fetch_sub(1, Ordering::AcqRel);
        if self.leader {
            self.sock.caller_release_role();
        } else if asked && self.sock.active.load(Ordering::Acquire) > 0 {
            self.sock.reader_turn.store(true, Ordering::Release);
            self.sock.to_reader.notify_one();
        }
    }
}

/// Which ways a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Whichever the transport prefers.
    Any,
    /// The socket, with the socket's index (event registrations: VPP sends events to the
    /// registration that asked, and events cannot come through the segment).
    SocketOnly,
}

/// Why a wait ended without a reply.
pub(crate) enum WaitError {
    Lost,
    Timeout,
}

impl Session {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        generation: u64,
        client_index: [u8; 4],
        socket_index: [u8; 4],
        table: MessageTable,
        sock: SocketSide,
        shm: Option<ShmSide>,
        events: Arc<EventHub>,
        metrics: Metrics,
    ) -> Self {
        Self {
            generation,
            client_index,
            socket_index,
            table: Arc::new(table),
            vpe_pid: AtomicU32::new(0),
            version: Mutex::new(None),
            ctx_offsets: (0..=u16::MAX as usize).map(|_| AtomicU8::new(0)).collect(),
            ids: RwLock::new(Vec::new()),
            pending: Mutex::new(PendingMap {
                closed: false,
                map: HashMap::with_capacity(64),
            }),
            slots: Mutex::new(Vec::new()),
            sock,
            shm,
            events,
            metrics,
            dead: watch::channel(None).0,
        }
    }

    /// The id VPP gave message type `M` in this session, cached by the type's dense slot: no
    /// name is hashed after the first call.
    pub fn id_of<M: crate::codec::Message>(&self) -> Option<u16> {
        let slot = M::id_slot().index();
        if let Some(&v) = self.ids.read().unwrap_or_else(|p| p.into_inner()).get(slot) {
            if v != 0 {
                return Some((v - 1) as u16);
            }
        }
        let id = self.table.id(M::NAME_CRC)?;
        let mut ids = self.ids.write().unwrap_or_else(|p| p.into_inner());
        if ids.len() <= slot {
            ids.resize(slot + 1, 0);
        }
        ids[slot] = u32::from(id) + 1;
        Some(id)
    }

    /// The socket registration's handle (a BE u32), as `sockclnt_delete` wants it.
    pub fn handle(&self) -> u32 {
        u32::from_be_bytes(self.socket_index)
    }

    /// Record where messages with `id` carry their context (from a known definition).
    pub fn learn_context_offset(&self, id: u16, offset: Option<usize>) {
        let code = match offset {
            Some(o) => 2 + o as u8,
            None => CTX_NONE,
        };
        self.ctx_offsets[id as usize].store(code, Ordering::Relaxed);
    }

    fn lock_pending(&self) -> MutexGuard<'_, PendingMap> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A reply slot from the pool.
    pub fn take_slot(&self) -> Arc<ReplySlot> {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default()
    }

    /// Give a slot back (its context must be out of the pending map).
    pub fn give_slot(&self, slot: Arc<ReplySlot>) {
        slot.reset();
        let mut g = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() < 4096 {
            g.push(slot);
        }
    }

    /// Register a pending entry under `ctx`; `false` if the session is already closed.
    pub fn insert_pending(&self, ctx: u32, p: Pending) -> bool {
        let mut g = self.lock_pending();
        if g.closed {
            return false;
        }
        g.map.insert(ctx, p);
        true
    }

    /// Forget `ctx` (cancelled or timed-out call): a late reply is then discarded.
    pub fn remove_pending(&self, ctx: u32) {
        let removed = self.lock_pending().map.remove(&ctx);
        drop(removed);
    }

    /// Whether `ctx` is in use (a long-running stream) so a new call must skip it.
    pub fn pending_contains(&self, ctx: u32) -> bool {
        self.lock_pending().map.contains_key(&ctx)
    }

    /// Number of pending entries (for tests of cancellation).
    pub fn pending_len(&self) -> usize {
        self.lock_pending().map.len()
    }

    /// Fail everything in flight at once (slots marked lost, stream senders dropped =>
    /// ConnectionLost) and refuse new entries; close the writer and the socket.
    pub fn close(&self, why: &str) {
        let drained = {
            let mut g = self.lock_pending();
            g.closed = true;
            let m = std::mem::take(&mut g.map);
            for p in m.values() {
                if let Pending::Reply(slot) = p {
                    slot.fill(None);
                }
            }
            m
        };
        drop(drained);
        self.sock.write.close();
        #[cfg(shm_transport)]
        if let Some(shm) = &self.shm {
            shm.stop();
        }
        let first = self.dead.send_if_modified(|d| {
            if d.is_none() {
                *d = Some(why.to_string());
                true
            } else {
                false
            }
        });
        if first {
            // Wake whoever waits for readiness; they see the session dead.
            self.sock.to_caller.notify_waiters();
            self.sock.want_role.notify_waiters();
            self.sock.to_reader.notify_waiters();
        }
    }

    /// Shut the socket down both ways (VPP sees the end at once, even while streams still
    /// hold the session).
    pub fn shutdown_socket(&self) {
        use std::os::fd::AsFd;
        let _ = rustix::net::shutdown(self.sock.stream.as_fd(), rustix::net::Shutdown::Both);
    }

    /// Resolves when the session is dead (reader EOF/error, writer error, or closed).
    pub fn dead_rx(&self) -> watch::Receiver<Option<String>> {
        self.dead.subscribe()
    }

    /// Route one received frame: by context to a pending call or stream, else to events.
    pub fn route(&self, frame: Bytes) {
        let id = msg_id(&frame);
        let code = self.ctx_offsets[id as usize].load(Ordering::Relaxed);
        if code == CTX_UNKNOWN || code == CTX_NONE {
            match self.table.name_crc(id) {
                Some(name) if self.events.dispatch(name, &frame, &self.metrics) => {}
                name => {
                    self.metrics.unmatched_replies.inc();
                    tracing::debug!(id, ?name, "VPP message with no taker dropped");
                }
            }
            return;
        }
        let off = (code - 2) as usize;
        let Some(b) = frame.get(off..off + 4) else {
            tracing::warn!(id, len = frame.len(), "reply too short for its context");
            return;
        };
        let ctx = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let mut g = self.lock_pending();
        match g.map.get(&ctx) {
            None => {
                drop(g);
                self.metrics.unmatched_replies.inc();
                tracing::debug!(
                    id,
                    ctx,
                    "reply for no pending call (cancelled or timed out)"
                );
            }
            Some(Pending::Reply(_)) => {
                if let Some(Pending::Reply(slot)) = g.map.remove(&ctx) {
                    // Filled under the lock: see ReplySlot.
                    slot.fill(Some(frame));
                }
            }
            Some(Pending::Stream { end_id, tx }) => {
                let end = id == *end_id;
                if tx.send(frame).is_err() || end {
                    g.map.remove(&ctx);
                }
            }
        }
    }

    /// Send the frames `f` encodes (one request, or a dump and its ping) on the path the
    /// transport picks; all of them take the same path, in order.
    pub async fn push<F>(
        &self,
        hint: Hint,
        deadline: tokio::time::Instant,
        f: F,
    ) -> Result<Path, PushError>
    where
        F: FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    {
        #[allow(unused_mut)]
        let mut bytes: Option<Vec<u8>> = None;
        #[allow(unused_mut)]
        let mut f = Some(f);
        #[cfg(shm_transport)]
        if let (Some(shm), Hint::Any) = (&self.shm, hint) {
            if shm.choose() == Path::Shm {
                use crate::transport::shm::ShmPush;
                let enc = f.take().expect("encoder used once");
                match shm.try_push(enc).map_err(PushError::Encode)? {
                    ShmPush::Sent => return Ok(Path::Shm),
                    ShmPush::Rest(rest) => {
                        return if shm.push_rest(rest, deadline).await {
                            Ok(Path::Shm)
                        } else {
                            Err(PushError::Closed)
                        };
                    }
                    ShmPush::Socket(b) => bytes = b,
                }
            }
        }
        let _ = (deadline, hint);
        let (ci, si) = (self.client_index, self.socket_index);
        let flush = self
            .sock
            .write
            .push_with(|buf| {
                let start = buf.len();
                match (f, bytes) {
                    (Some(f), _) => f(buf)?,
                    (None, Some(b)) => buf.extend_from_slice(&b),
                    (None, None) => {}
                }
                if ci != si {
                    crate::transport::patch_client_index(&mut buf[start..], ci, si);
                }
                Ok(())
            })
            .await?;
        if flush {
            // This caller writes the batch itself, once the rest of this task has had its
            // turn (a self-wake, not a yield: no other worker is woken for it): requests
            // encoded meanwhile (the other calls of a `join_all`) go in the same write and
            // VPP answers them in one go.
            let mut owner = FlushOwner(Some(&self.sock.write));
            self_wake().await;
            if let Some(q) = owner.0.take() {
                q.flush(&self.sock.stream);
            }
        }
        Ok(Path::Socket)
    }

    /// Queue a whole frame on the socket without waiting (a cursor request re-issued from
    /// `poll` code), with the socket's index.
    pub fn push_now(&self, frame: &mut [u8]) -> Result<(), PushError> {
        if self.client_index != self.socket_index {
            crate::transport::patch_client_index(frame, self.client_index, self.socket_index);
        }
        self.sock.write.push_now(frame)
    }

    /// A round trip observed on `path` (the shared-memory router learns from it).
    pub fn observe(&self, path: Path, rtt: Duration) {
        #[cfg(shm_transport)]
        if let Some(shm) = &self.shm {
            shm.observe(path, rtt);
        }
        let _ = (path, rtt);
    }

    /// One non-blocking `recv` straight on the socket (tokio's readiness cache only learns of
    /// data when a worker polls epoll, which is what busy-polling avoids) and route what
    /// came. `false` if the session ended or another reader holds the buffer.
    fn poll_socket(&self) -> bool {
        use std::os::fd::AsFd;
        let Ok(mut rb) = self.sock.rbuf.try_lock() else {
            return false;
        };
        let _ = rb.spare(); // take back dropped frames' space now, while none is held
        let mut tmp = [0u8; 4096];
        loop {
            match rustix::net::recv(
                self.sock.stream.as_fd(),
                &mut tmp[..],
                rustix::net::RecvFlags::DONTWAIT,
            ) {
                Ok((0, _)) => {
                    drop(rb);
                    self.pump(); // sees the end of stream and closes
                    return false;
                }
                Ok((n, _)) => {
                    rb.extend_from_slice(&tmp[..n]);
                    if let Err(e) = self.route_buffered(&mut rb) {
                        drop(rb);
                        self.close(&format!("read: {e}"));
                        return false;
                    }
                    if n < tmp.len() {
                        return true;
                    }
                }
                Err(rustix::io::Errno::AGAIN) => return true,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    drop(rb);
                    self.close(&format!("read: {e}"));
                    return false;
                }
            }
        }
    }

    /// Route every complete frame already in the receive buffer.
    fn route_buffered(&self, rb: &mut FrameBuf) -> Result<(), crate::transport::FrameError> {
        while let Some(f) = rb.next_frame()? {
            self.route(f);
        }
        Ok(())
    }

    /// Read whatever the socket holds and route it, without waiting. Ends the session on
    /// end of stream or a framing error.
    pub fn pump(&self) {
        let Ok(mut rb) = self.sock.rbuf.try_lock() else {
            return; // someone else is reading right now
        };
        loop {
            if let Err(e) = self.route_buffered(&mut rb) {
                drop(rb);
                self.close(&format!("read: {e}"));
                return;
            }
            match self.sock.stream.try_read_buf(rb.spare()) {
                Ok(0) => {
                    let why = match rb.eof_error() {
                        None => "VPP closed the connection".to_string(),
                        Some(e) => format!("read: {e}"),
                    };
                    drop(rb);
                    tracing::info!(generation = self.generation, "session ended: {why}");
                    self.close(&why);
                    return;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    drop(rb);
                    self.close(&format!("read: {e}"));
                    return;
                }
            }
        }
    }

    /// Count a synchronous call as in progress (before its request is queued).
    pub fn begin_call(&self) -> CallActive<'_> {
        self.sock.active.fetch_add(1, Ordering::AcqRel);
        CallActive {
            sock: &self.sock,
            leader: false,
            asking: false,
        }
    }

    /// Wait for `slot`'s reply until `deadline`. The waiting caller reads the socket itself
    /// when nobody else does: the reply then wakes it directly, with no hop through another
    /// task (what makes a synchronous call as fast as a blocking C client on any runtime).
    pub async fn wait_reply(
        &self,
        slot: &ReplySlot,
        deadline: tokio::time::Instant,
        call: &mut CallActive<'_>,
        path: Path,
    ) -> Result<Bytes, WaitError> {
        let sock = &self.sock;
        // A lone call reads the socket itself (asking the background reader for the role if
        // it holds it). With other calls in flight the background reader reads for all of
        // them, on its own worker, while the callers' tasks take their replies: two cores
        // in a pipeline.
        let lone = sock.active.load(Ordering::Acquire) == 1;
        call.leader = lone && sock.try_take_role();
        if lone && !call.leader {
            call.asking = true;
            sock.lone_waiting.fetch_add(1, Ordering::AcqRel);
            sock.want_role.notify_one();
            // It may have been given up meanwhile.
            if sock.try_take_role() {
                call.leader = true;
                call.stop_asking();
            }
        }
        if !lone && !sock.role.load(Ordering::Acquire) {
            // Calls in flight and nobody reading: the background reader reads for us.
            sock.reader_turn.store(true, Ordering::Release);
            sock.to_reader.notify_one();
        }
        // (A reply through the segment comes by the receive thread: nothing to poll for.)
        // (The push let the rest of this task run first: a `join_all` of calls is not lone.)
        if call.leader && path == Path::Socket && self.may_busy_poll() {
            if let Some(f) = self.busy_poll(slot) {
                return Ok(f);
            }
        }
        let started = Instant::now();
        let sleep = tokio::time::sleep_until(deadline);
        tokio::pin!(sleep);
        let r = loop {
            let leader = call.leader;
            tokio::select! {
                biased;
                r = poll_fn(|cx| slot.poll_reply(cx)) => {
                    break r.map_err(|()| WaitError::Lost);
                }
                r = sock.stream.readable(), if leader => {
                    if r.is_ok() {
                        self.pump();
                    } else {
                        self.close("socket readiness failed");
                    }
                }
                _ = sock.to_caller.notified(), if !leader && lone => {
                    call.leader = sock.try_take_role();
                    if call.leader {
                        call.stop_asking();
                    }
                }
                _ = &mut sleep => break Err(WaitError::Timeout),
            }
        };
        if lone && r.is_ok() {
            self.note_lone_rtt(started.elapsed());
        }
        r
    }

    /// A lone caller on a multi-thread runtime polls the socket for a short while before it
    /// parks its task: a reply that comes within the window is taken without the runtime
    /// parking this worker and waking one again (two futex round trips that cost more than
    /// VPP's answer). Only when recent lone calls were answered within the window; never on a
    /// current-thread runtime (there the reply could only come after we yield).
    fn may_busy_poll(&self) -> bool {
        let budget = self.sock.busy_poll;
        !budget.is_zero()
            && matches!(
                tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()),
                Ok(tokio::runtime::RuntimeFlavor::MultiThread)
            )
            && self.sock.lone_rtt.load(Ordering::Relaxed) <= budget.as_nanos() as u64
    }

    fn busy_poll(&self, slot: &ReplySlot) -> Option<Bytes> {
        let budget = self.sock.busy_poll;
        let start = Instant::now();
        loop {
            if !self.poll_socket() {
                return None;
            }
            if let Some(f) = slot.take_now() {
                self.note_lone_rtt(start.elapsed());
                return Some(f);
            }
            if start.elapsed() >= budget {
                // Not answered in time: remember it, so slow VPPs stop being polled for.
                self.note_lone_rtt(budget * 2);
                return None;
            }
            std::hint::spin_loop();
        }
    }

    fn note_lone_rtt(&self, d: Duration) {
        let ns = d.as_nanos() as u64;
        let a = &self.sock.lone_rtt;
        let old = a.load(Ordering::Relaxed);
        a.store(
            if old == 0 { ns } else { old - old / 8 + ns / 8 },
            Ordering::Relaxed,
        );
    }
}

/// Reads the socket while no caller does (events, stray replies, end of stream), until the
/// session is dead.
pub(crate) async fn reader_task(session: Arc<Session>) {
    let sock = &session.sock;
    let mut dead = session.dead_rx();
    loop {
        if dead.borrow().is_some() {
            break;
        }
        let idle = sock.active.load(Ordering::Acquire) == 0
            && sock
                .now_ns()
                .saturating_sub(sock.last_end.load(Ordering::Relaxed))
                >= CALLER_LINGER.as_nanos() as u64;
        let asked = sock.reader_turn.swap(false, Ordering::AcqRel);
        // Safety net: calls waiting, nobody reading, no lone caller asking for the role.
        let orphaned = sock.active.load(Ordering::Acquire) > 0
            && !sock.role.load(Ordering::Acquire)
            && sock.lone_waiting.load(Ordering::Acquire) == 0;
        if (idle || asked || orphaned) && sock.try_take_role() {
            // Read until a lone caller wants the role (it then reads its reply itself).
            loop {
                tokio::select! {
                    biased;
                    _ = dead.changed() => break,
                    r = sock.stream.readable() => {
                        if r.is_ok() {
                            session.pump();
                        } else {
                            session.close("socket readiness failed");
                        }
                    }
                    // Given up only to a lone caller that is really waiting for it
                    // (a stale wake-up must not leave the socket unread).
                    _ = sock.want_role.notified() => {
                        if sock.lone_waiting.load(Ordering::Acquire) > 0 {
                            break;
                        }
                    }
                }
                if dead.borrow().is_some() {
                    break;
                }
            }
            sock.role.store(false, Ordering::Release);
            sock.to_caller.notify_one();
            continue;
        }
        // Callers are reading (or just were): look again shortly, or when asked.
        tokio::select! {
            _ = dead.changed() => {}
            _ = sock.to_reader.notified() => {}
            _ = tokio::time::sleep(CALLER_LINGER) => {}
        }
    }
    // Route what is left (e.g. replies that came with the end of stream).
    session.pump();
}

/// Return `Pending` once with the task woken: the rest of the task (and whatever is queued
/// on this worker) runs before we continue.
async fn self_wake() {
    let mut once = false;
    poll_fn(|cx| {
        if once {
            Poll::Ready(())
        } else {
            once = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// The caller that promised to write the queue; if its future is dropped first, the writer
/// task is told instead.
struct FlushOwner<'a>(Option<&'a WriteQueue>);

impl Drop for FlushOwner<'_> {
    fn drop(&mut self) {
        if let Some(q) = self.0.take() {
            q.lock().owner = false;
            q.data.notify_one();
        }
    }
}

/// Outgoing bytes: callers encode straight into one shared buffer (no per-message
/// allocation). The first caller to queue into an idle buffer writes it to the socket itself
/// (non-blocking), after yielding once so that concurrent requests join the same write; what
/// the socket does not take, and everything queued while the writer task has bytes in
/// flight, the writer task sends in batches.
pub(crate) struct WriteQueue {
    buf: Mutex<WriteBuf>,
    data: Notify,
    drained: Notify,
    high_water: usize,
}

struct WriteBuf {
    bytes: Vec<u8>,
    /// A caller will write the buffer (see [`FlushOwner`]).
    owner: bool,
    /// The writer task holds bytes it has not written yet: nobody may write before them.
    busy: bool,
    closed: bool,
}

/// Why bytes could not be queued.
pub(crate) enum PushError {
    Closed,
    Encode(EncodeError),
}

impl WriteQueue {
    fn new(high_water: usize) -> Self {
        Self {
            buf: Mutex::new(WriteBuf {
                bytes: Vec::with_capacity(64 * 1024),
                owner: false,
                busy: false,
                closed: false,
            }),
            data: Notify::new(),
            drained: Notify::new(),
            high_water,
        }
    }

    fn lock(&self) -> MutexGuard<'_, WriteBuf> {
        self.buf.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append frames with `f` (all of them or none), waiting while the queue is above the
    /// high-water mark. `Ok(true)`: the caller must write the queue ([`WriteQueue::flush`]).
    pub async fn push_with(
        &self,
        f: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<bool, PushError> {
        let mut f = Some(f);
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            {
                let mut g = self.lock();
                if g.closed {
                    return Err(PushError::Closed);
                }
                if g.bytes.len() < self.high_water {
                    let start = g.bytes.len();
                    let enc = f.take().expect("encoder used once");
                    if let Err(e) = enc(&mut g.bytes) {
                        g.bytes.truncate(start);
                        return Err(PushError::Encode(e));
                    }
                    if g.busy {
                        drop(g);
                        self.data.notify_one();
                        return Ok(false);
                    }
                    if g.owner {
                        return Ok(false); // the owner writes it
                    }
                    g.owner = true;
                    return Ok(true);
                }
            }
            drained.await;
        }
    }

    /// Write what is queued to `sock` without waiting; hand the rest to the writer task.
    fn flush(&self, sock: &UnixStream) {
        let mut g = self.lock();
        g.owner = false;
        if g.busy || g.bytes.is_empty() {
            return;
        }
        match sock.try_write(&g.bytes) {
            Ok(n) if n == g.bytes.len() => {
                g.bytes.clear();
                return;
            }
            Ok(n) => {
                g.bytes.drain(..n);
            }
            // WouldBlock, or an error the writer task meets too (it ends the session).
            Err(_) => {}
        }
        drop(g);
        self.data.notify_one();
    }

    /// Append without waiting (used from `poll` code: one small frame at a time).
    pub fn push_now(&self, frame: &[u8]) -> Result<(), PushError> {
        let mut g = self.lock();
        if g.closed {
            return Err(PushError::Closed);
        }
        g.bytes.extend_from_slice(frame);
        drop(g);
        self.data.notify_one();
        Ok(())
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.data.notify_one();
        self.drained.notify_waiters();
    }
}

/// Writes whatever callers could not write themselves, batch by batch; flushes what is left
/// once closed.
pub(crate) async fn writer_task(session: Arc<Session>) {
    let q = &session.sock.write;
    let sock = &session.sock.stream;
    let mut spare: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        q.data.notified().await;
        loop {
            let closed = {
                let mut g = q.lock();
                std::mem::swap(&mut g.bytes, &mut spare);
                g.busy = !spare.is_empty();
                g.closed
            };
            q.drained.notify_waiters();
            if spare.is_empty() {
                if closed {
                    // Everything queued is out (e.g. sockclnt_delete): VPP sees the end now.
                    session.shutdown_socket();
                    return;
                }
                break;
            }
            let r = crate::transport::socket::write_all(sock, &spare).await;
            spare.clear();
            if spare.capacity() > 16 << 20 {
                spare.shrink_to(1 << 20);
            }
            if let Err(e) = r {
                q.lock().busy = false;
                session.close(&format!("write: {e}"));
                session.shutdown_socket();
                return;
            }
            // Loop: take what was queued meanwhile before anyone may write directly.
        }
    }
}
