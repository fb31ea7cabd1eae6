//! Event subscriptions: bounded per-subscriber queues with a declared overflow policy, the
//! `want_*` registrations behind them, and the streams handed to subscribers.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_core::Stream;

use super::Connection;
use crate::codec::{decode_message, Message};
use crate::config::OverflowPolicy;
use crate::metrics::Metrics;

/// Sends a subscription's `want_*` message (enable or disable) on the current session.
pub(crate) type WantSender = Arc<
    dyn Fn(Connection, bool) -> Pin<Box<dyn Future<Output = crate::Result<()>> + Send>>
        + Send
        + Sync,
>;

pub(crate) struct EventQueue {
    state: Mutex<QueueState>,
    capacity: usize,
    policy: OverflowPolicy,
    dropped: AtomicU64,
}

struct QueueState {
    items: VecDeque<Bytes>,
    /// Set when the subscriber was disconnected for overflowing.
    overflowed: bool,
    waker: Option<Waker>,
}

impl EventQueue {
    pub fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        Self {
            state: Mutex::new(QueueState {
                items: VecDeque::with_capacity(capacity.min(1024)),
                overflowed: false,
                waker: None,
            }),
            capacity,
            policy,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue one event; never blocks the reader. Returns the number dropped (0 or 1).
    fn push(&self, frame: &Bytes) -> u64 {
        let mut g = self.lock();
        if g.overflowed {
            return 0;
        }
        let mut dropped = 0;
        if g.items.len() >= self.capacity {
            dropped = 1;
            match self.policy {
                OverflowPolicy::DropOldest => {
                    g.items.pop_front();
                    g.items.push_back(frame.clone());
                }
                OverflowPolicy::Disconnect => g.overflowed = true,
            }
        } else {
            g.items.push_back(frame.clone());
        }
        let w = g.waker.take();
        drop(g);
        if dropped > 0 {
            self.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
        if let Some(w) = w {
            w.wake();
        }
        dropped
    }
}

struct Registration {
    /// The events the `.api` lists for the registration (empty for an unlisted one).
    events: &'static [&'static str],
    subscribers: usize,
    send: WantSender,
}

#[derive(Default)]
struct HubState {
    /// event `name_crc` → queues of its subscribers.
    queues: HashMap<&'static str, Vec<Arc<EventQueue>>>,
    /// want `name_crc` → registration.
    regs: HashMap<&'static str, Registration>,
}

/// All subscriptions of a connection (they outlive sessions).
#[derive(Default)]
pub(crate) struct EventHub {
    state: Mutex<HubState>,
}

impl EventHub {
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deliver an event to the subscribers of `name_crc`; false if nobody subscribes.
    pub fn dispatch(&self, name_crc: &str, frame: &Bytes, metrics: &Metrics) -> bool {
        let g = self.lock();
        let Some(qs) = g.queues.get(name_crc) else {
            return false;
        };
        if qs.is_empty() {
            return false;
        }
        metrics.events.inc();
        for q in qs {
            let d = q.push(frame);
            if d > 0 {
                metrics.dropped_events.inc_by(d);
            }
        }
        true
    }

    /// Add a subscriber queue; returns true if the registration is new (want must be sent).
    pub fn add(
        &self,
        want: &'static str,
        events: &'static [&'static str],
        event: &'static str,
        queue: Arc<EventQueue>,
        send: WantSender,
    ) -> bool {
        let mut g = self.lock();
        g.queues.entry(event).or_default().push(queue);
        match g.regs.get_mut(want) {
            Some(r) => {
                r.subscribers += 1;
                false
            }
            None => {
                g.regs.insert(
                    want,
                    Registration {
                        events,
                        subscribers: 1,
                        send,
                    },
                );
                true
            }
        }
    }

    /// Remove a subscriber queue; returns the want sender if it was the last subscriber.
    pub fn remove(
        &self,
        want: &'static str,
        event: &'static str,
        queue: &Arc<EventQueue>,
    ) -> Option<WantSender> {
        let mut g = self.lock();
        if let Some(qs) = g.queues.get_mut(event) {
            qs.retain(|q| !Arc::ptr_eq(q, queue));
            if qs.is_empty() {
                g.queues.remove(event);
            }
        }
        let last = match g.regs.get_mut(want) {
            Some(r) => {
                r.subscribers -= 1;
                r.subscribers == 0
            }
            None => false,
        };
        if last {
            let r = g.regs.remove(want)?;
            debug_assert!(r.events.is_empty() || r.events.contains(&event));
            return Some(r.send);
        }
        None
    }

    /// Every active registration's sender (re-sent after a reconnect).
    pub fn registrations(&self) -> Vec<(&'static str, WantSender)> {
        let g = self.lock();
        g.regs.iter().map(|(k, r)| (*k, r.send.clone())).collect()
    }

    /// Number of subscriber queues for an event.
    pub fn subscribers(&self, event: &str) -> usize {
        self.lock().queues.get(event).map_or(0, Vec::len)
    }
}

/// A subscription: a stream of decoded events of type `E`. Dropping it unsubscribes; the
/// last subscriber of a registration makes the runtime send the `want_*` disable.
pub struct EventStream<E: Message> {
    queue: Arc<EventQueue>,
    conn: Option<Connection>,
    want: &'static str,
    decode_errors: u64,
    _e: PhantomData<fn() -> E>,
}

impl<E: Message> EventStream<E> {
    pub(crate) fn new(queue: Arc<EventQueue>, conn: Connection, want: &'static str) -> Self {
        Self {
            queue,
            conn: Some(conn),
            want,
            decode_errors: 0,
            _e: PhantomData,
        }
    }

    /// Events this subscriber lost to its full queue.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped.load(Ordering::Relaxed)
    }

    /// Whether the subscriber was disconnected for overflowing (policy `Disconnect`).
    pub fn overflowed(&self) -> bool {
        self.queue.lock().overflowed
    }

    /// Events that could not be decoded (skipped, logged).
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    /// Events queued now.
    pub fn queued(&self) -> usize {
        self.queue.lock().items.len()
    }

    /// The next raw event frame (from `_vl_msg_id` on), for zero-copy views.
    pub fn poll_next_raw(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut g = self.queue.lock();
        if let Some(f) = g.items.pop_front() {
            return Poll::Ready(Some(f));
        }
        if g.overflowed {
            return Poll::Ready(None);
        }
        g.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<E: Message> Stream for EventStream<E> {
    type Item = E;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        let this = self.get_mut();
        loop {
            match this.poll_next_raw(cx) {
                Poll::Ready(Some(frame)) => match decode_message::<E>(&frame) {
                    Ok((_, e, _)) => return Poll::Ready(Some(e)),
                    Err(err) => {
                        this.decode_errors += 1;
                        tracing::warn!(event = E::NAME, "undecodable event skipped: {err}");
                    }
                },
                other => return other.map(|_| None),
            }
        }
    }
}

impl<E: Message> EventStream<E> {
    /// Unsubscribes now. When this was the registration's last subscriber, sends the `want_*`
    /// disable and waits for VPP's reply, so a program that exits next has really turned the
    /// events off (dropping the stream does the same in the background).
    pub async fn unsubscribe(mut self) -> crate::Result<()> {
        let Some(conn) = self.conn.take() else {
            return Ok(());
        };
        match conn
            .inner
            .events
            .remove(self.want, E::NAME_CRC, &self.queue)
        {
            Some(send) => send(conn, false).await,
            None => Ok(()),
        }
    }
}

impl<E: Message> Drop for EventStream<E> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if let Some(send) = conn
            .inner
            .events
            .remove(self.want, E::NAME_CRC, &self.queue)
        {
            // Last subscriber: turn the events off in VPP (best effort, in the background).
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move {
                    if let Err(e) = send(conn, false).await {
                        tracing::debug!("unregistering events: {e}");
                    }
                });
            } else if let Some(h) = conn.inner.runtime.clone() {
                h.spawn(async move {
                    let _ = send(conn, false).await;
                });
            }
        }
    }
}
