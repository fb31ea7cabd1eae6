//! One socket session: the client index and message table of one handshake, the pending
//! calls keyed by context, the batched write queue and the reader that routes replies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::events::EventHub;
use crate::codec::EncodeError;
use crate::compat::MessageTable;
use crate::metrics::Metrics;
use crate::transport::{msg_id, FrameReader};

/// Where a reply waits.
pub(crate) enum Pending {
    /// One reply.
    Reply(oneshot::Sender<Bytes>),
    /// Details until the frame with id `end_id` (which is delivered too, then the entry goes).
    Stream {
        tx: mpsc::UnboundedSender<Bytes>,
        end_id: u16,
    },
}

struct PendingMap {
    closed: bool,
    map: HashMap<u32, Pending>,
}

/// Context-offset codes per message id: 0 unknown, 1 has no context (event), 2 + offset.
const CTX_UNKNOWN: u8 = 0;
const CTX_NONE: u8 = 1;

pub(crate) struct Session {
    pub generation: u64,
    pub client_index: [u8; 4],
    pub table: Arc<MessageTable>,
    pub vpe_pid: AtomicU32,
    pub version: Mutex<Option<String>>,
    ctx_offsets: Box<[AtomicU8]>,
    /// Message ids by [`IdSlot`](crate::codec::IdSlot) index: 0 not looked up yet, else id + 1
    /// (ids VPP does not have are not cached: the error path looks them up again).
    ids: RwLock<Vec<u32>>,
    pending: Mutex<PendingMap>,
    pub write: WriteQueue,
    dead: watch::Sender<Option<String>>,
}

impl Session {
    pub fn new(
        generation: u64,
        client_index: [u8; 4],
        table: MessageTable,
        high_water: usize,
    ) -> Self {
        Self {
            generation,
            client_index,
            table: Arc::new(table),
            vpe_pid: AtomicU32::new(0),
            version: Mutex::new(None),
            ctx_offsets: (0..=u16::MAX as usize).map(|_| AtomicU8::new(0)).collect(),
            ids: RwLock::new(Vec::new()),
            pending: Mutex::new(PendingMap {
                closed: false,
                map: HashMap::new(),
            }),
            write: WriteQueue::new(high_water),
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

    /// The VPP handle (the client index as a BE u32), as `sockclnt_delete` wants it.
    pub fn handle(&self) -> u32 {
        u32::from_be_bytes(self.client_index)
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
        self.lock_pending().map.remove(&ctx);
    }

    /// Whether `ctx` is in use (a long-running stream) so a new call must skip it.
    pub fn pending_contains(&self, ctx: u32) -> bool {
        self.lock_pending().map.contains_key(&ctx)
    }

    /// Number of pending entries (for tests of cancellation).
    pub fn pending_len(&self) -> usize {
        self.lock_pending().map.len()
    }

    /// Fail everything in flight at once (senders dropped => ConnectionLost) and refuse new
    /// entries; close the writer.
    pub fn close(&self, why: &str) {
        let drained = {
            let mut g = self.lock_pending();
            g.closed = true;
            std::mem::take(&mut g.map)
        };
        drop(drained);
        self.write.close();
        self.dead.send_if_modified(|d| {
            if d.is_none() {
                *d = Some(why.to_string());
                true
            } else {
                false
            }
        });
    }

    /// Resolves when the session is dead (reader EOF/error, writer error, or closed).
    pub fn dead_rx(&self) -> watch::Receiver<Option<String>> {
        self.dead.subscribe()
    }

    /// Route one received frame: by context to a pending call or stream, else to events.
    fn route(&self, frame: Bytes, events: &EventHub, metrics: &Metrics) {
        let id = msg_id(&frame);
        let code = self.ctx_offsets[id as usize].load(Ordering::Relaxed);
        if code == CTX_UNKNOWN || code == CTX_NONE {
            match self.table.name_crc(id) {
                Some(name) if events.dispatch(name, &frame, metrics) => {}
                name => {
                    metrics.unmatched_replies.inc();
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
        let stream_end = match g.map.get(&ctx) {
            None => {
                drop(g);
                metrics.unmatched_replies.inc();
                tracing::debug!(
                    id,
                    ctx,
                    "reply for no pending call (cancelled or timed out)"
                );
                return;
            }
            Some(Pending::Reply(_)) => None,
            Some(Pending::Stream { end_id, tx }) => {
                if id != *end_id {
                    if tx.send(frame).is_err() {
                        g.map.remove(&ctx);
                    }
                    return;
                }
                Some(())
            }
        };
        let entry = g.map.remove(&ctx);
        drop(g);
        match (entry, stream_end) {
            (Some(Pending::Reply(tx)), _) => {
                let _ = tx.send(frame);
            }
            (Some(Pending::Stream { tx, .. }), Some(())) => {
                let _ = tx.send(frame);
            }
            _ => {}
        }
    }
}

/// Reads frames until EOF or error, routing each; then marks the session dead.
pub(crate) async fn reader_task(
    session: Arc<Session>,
    mut reader: FrameReader<OwnedReadHalf>,
    events: Arc<EventHub>,
    metrics: Metrics,
) {
    let why = loop {
        match reader.next_frame().await {
            Ok(Some(frame)) => session.route(frame, &events, &metrics),
            Ok(None) => break "VPP closed the connection".to_string(),
            Err(e) => break format!("read: {e}"),
        }
    };
    tracing::info!(generation = session.generation, "session ended: {why}");
    session.close(&why);
}

/// Outgoing bytes: callers encode straight into one shared buffer (no per-message
/// allocation); the writer task swaps it out and writes everything queued in one go, so
/// concurrent calls are batched into few `write` calls.
pub(crate) struct WriteQueue {
    buf: Mutex<WriteBuf>,
    data: Notify,
    drained: Notify,
    high_water: usize,
}

struct WriteBuf {
    bytes: Vec<u8>,
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
    /// high-water mark.
    pub async fn push_with(
        &self,
        f: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), PushError> {
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
                    if let Err(e) = f(&mut g.bytes) {
                        g.bytes.truncate(start);
                        return Err(PushError::Encode(e));
                    }
                    drop(g);
                    self.data.notify_one();
                    return Ok(());
                }
            }
            drained.await;
        }
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

    fn close(&self) {
        self.lock().closed = true;
        self.data.notify_one();
        self.drained.notify_waiters();
    }
}

/// Writes whatever is queued, batch by batch; flushes what is left once closed.
pub(crate) async fn writer_task(session: Arc<Session>, mut sock: OwnedWriteHalf) {
    let q = &session.write;
    let mut spare: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        q.data.notified().await;
        let closed = {
            let mut g = q.lock();
            std::mem::swap(&mut g.bytes, &mut spare);
            g.closed
        };
        q.drained.notify_waiters();
        if !spare.is_empty() {
            if let Err(e) = sock.write_all(&spare).await {
                session.close(&format!("write: {e}"));
                return;
            }
            spare.clear();
            if spare.capacity() > 16 << 20 {
                spare.shrink_to(1 << 20);
            }
        }
        if closed {
            let _ = sock.shutdown().await;
            return;
        }
    }
}
