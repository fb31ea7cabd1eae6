//! The async connection to VPP: one socket, cheap cloneable handles, pipelined calls routed
//! by context, streams of details, event subscriptions, health probing and reconnects.
//!
//! ```no_run
//! # async fn demo() -> vppapi_runtime::Result<()> {
//! use vppapi_runtime::{Config, Connection};
//! use vppapi_runtime::memclnt::ShowVersion;
//!
//! let conn = Connection::connect(Config::default()).await?;
//! let v = conn.call(&ShowVersion {}).await?;
//! println!("VPP {}", v.version);
//! conn.close().await;
//! # Ok(()) }
//! ```
//!
//! * Every call gets a fresh non-zero context; its reply is found by reading the context at
//!   the offset the reply type declares (the runtime learns `id → offset` from the types it
//!   sends and expects; ids it never learned are events or strays).
//! * Requests are encoded straight into one write buffer that a writer task flushes in
//!   batches; one reader task splits frames off a large read buffer (no copy) and routes them.
//! * A call waits at most its timeout (VPP drops bad requests silently). Dropping a call's
//!   future removes it from the pending map; its late reply is discarded and counted.
//! * When the socket breaks every pending call fails at once with
//!   [`Error::ConnectionLost`]; the runtime reconnects forever (exponential backoff with
//!   jitter), rebuilds the message table, re-registers events, re-checks compatibility and
//!   runs the `on_reconnect` hooks.

mod driver;
mod events;
pub(crate) mod session;
mod stream;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

pub use events::EventStream;
pub use stream::{DetailsStream, RawDetailsStream, RawMessage};

use self::events::{EventHub, EventQueue, WantSender};
use self::session::{Hint, Pending, PushError, ReplySlot, Session, WaitError};
use self::stream::StreamEnd;
use crate::api_error::ApiError;
use crate::codec::{
    decode_message, view_message, DecodeError, Dump, Message, MessageHeader, Request, Subscribe,
};
use crate::compat::{CompatReport, HandlerSet, MessageTable, Selection};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::memclnt::{ControlPing, ControlPingReply};
use crate::metrics::Metrics;
use crate::trace::{CallOutcome, CallRecord, CallTrace};
use crate::transport::append_frame;

/// Requests that must go on the socket whatever the transport: event registrations.
fn hint_for(name: &str) -> Hint {
    if name.starts_with("want_") {
        Hint::SocketOnly
    } else {
        Hint::Any
    }
}

/// Observable connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// Connecting or reconnecting (handshake in progress or waiting for the next attempt).
    Connecting,
    /// Handshake done, probes answered.
    Connected,
    /// Connected, but the last `threshold` health probes got no reply.
    NotResponding,
    /// No connection (between attempts, or closed).
    Disconnected,
}

/// What the `on_reconnect` hooks are told.
#[derive(Debug, Clone)]
pub struct ReconnectInfo {
    /// Session number (1 = first connect).
    pub generation: u64,
    /// VPP's pid now.
    pub vpe_pid: u32,
    /// The pid before, if there was a connection before.
    pub previous_vpe_pid: Option<u32>,
    /// Whether VPP restarted (new pid): its state is gone, resync everything.
    pub vpp_restarted: bool,
    /// The compatibility report of the messages given to [`Connection::require`].
    pub compat: CompatReport,
}

type Hook = Arc<
    dyn Fn(Connection, ReconnectInfo) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync,
>;

pub(crate) struct Inner {
    pub config: Config,
    state: watch::Sender<ConnState>,
    session: RwLock<Option<Arc<Session>>>,
    next_context: AtomicU32,
    pub events: Arc<EventHub>,
    pub metrics: Metrics,
    trace: Option<CallTrace>,
    hooks: Mutex<Vec<Hook>>,
    required: Mutex<Vec<&'static str>>,
    last_report: Mutex<Option<CompatReport>>,
    last_error: Mutex<Option<String>>,
    shutdown: watch::Sender<bool>,
    driver: Mutex<Option<tokio::task::JoinHandle<()>>>,
    pub runtime: Option<tokio::runtime::Handle>,
}

impl Inner {
    fn current(&self) -> Option<Arc<Session>> {
        self.session
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_session(&self, s: Option<Arc<Session>>) {
        *self.session.write().unwrap_or_else(|p| p.into_inner()) = s;
    }

    fn next_context(&self, session: &Session) -> u32 {
        loop {
            let c = self.next_context.fetch_add(1, Ordering::Relaxed);
            // 0 is avoided (doc 4.6); a context still held by a long stream is skipped.
            if c != 0 && !session.pending_contains(c) {
                return c;
            }
        }
    }

    fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

/// Ends the connection when the last handle goes.
struct Alive(Arc<Inner>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// A handle to the connection. Clone it freely: every clone shares the socket.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<Inner>,
    alive: Arc<Alive>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("endpoint", &self.inner.config.endpoint)
            .field("state", &*self.inner.state.borrow())
            .finish()
    }
}

/// The reply's `retval`, if it has one: read in place at the offset the type declares
/// ([`Message::RETVAL_OFFSET`]); nothing is decoded.
fn retval_of<R: Message>(frame: &[u8]) -> Result<Option<i32>> {
    let Some(o) = R::RETVAL_OFFSET else {
        return Ok(None);
    };
    match frame.get(o..o + 4) {
        Some(b) => Ok(Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
        None => Err(Error::Decode {
            message: R::NAME,
            source: DecodeError::Truncated {
                ty: R::NAME,
                need: o + 4,
                have: frame.len(),
            },
        }),
    }
}

/// A reply kept as its frame bytes (zero-copy): view it in place or decode it.
#[derive(Debug, Clone)]
pub struct RawReply<R> {
    frame: Bytes,
    retval: Option<i32>,
    _r: std::marker::PhantomData<fn() -> R>,
}

impl<R: Message> RawReply<R> {
    /// The reply body as received (from `_vl_msg_id` on).
    pub fn bytes(&self) -> &Bytes {
        &self.frame
    }
    /// The reply's `retval` (already checked to be 0 by `call_raw`), if it has one.
    pub fn retval(&self) -> Option<i32> {
        self.retval
    }
    /// A zero-copy view of the reply.
    pub fn view(&self) -> Result<(MessageHeader, R::View<'_>), DecodeError> {
        view_message::<R>(&self.frame).map(|(h, v, _)| (h, v))
    }
    /// The owned reply.
    pub fn decode(&self) -> Result<R, DecodeError> {
        decode_message::<R>(&self.frame).map(|(_, r, _)| r)
    }
}

/// Cleans up a call however it ends: pending entry, in-flight gauge, trace record.
struct CallGuard<'a> {
    inner: &'a Inner,
    session: &'a Session,
    context: u32,
    message: &'static str,
    started: Instant,
    sent_at: SystemTime,
    outcome: CallOutcome,
    retval: Option<i32>,
    pending: bool,
    slot: Option<Arc<ReplySlot>>,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        if self.pending {
            self.session.remove_pending(self.context);
        }
        if let Some(slot) = self.slot.take() {
            self.session.give_slot(slot);
        }
        let m = &self.inner.metrics;
        m.in_flight.dec();
        let elapsed = self.started.elapsed();
        match self.outcome {
            CallOutcome::Replied if self.retval.unwrap_or(0) == 0 => {
                m.latency.observe(elapsed.as_secs_f64())
            }
            CallOutcome::Replied => {
                m.latency.observe(elapsed.as_secs_f64());
                m.errors.inc();
            }
            CallOutcome::TimedOut => {
                m.timeouts.inc();
                m.errors.inc();
            }
            CallOutcome::Sent => {}
            _ => {
                m.errors.inc();
            }
        }
        if let Some(t) = &self.inner.trace {
            t.push(CallRecord {
                message: self.message,
                context: self.context,
                sent: self.sent_at,
                received: matches!(self.outcome, CallOutcome::Replied)
                    .then(|| self.sent_at + elapsed),
                duration: elapsed,
                retval: self.retval,
                outcome: self.outcome,
            });
        }
    }
}

fn push_error(e: PushError, message: &'static str) -> Error {
    match e {
        PushError::Closed => Error::ConnectionLost { message },
        PushError::Encode(source) => Error::Encode { message, source },
    }
}

impl Connection {
    fn build(config: Config) -> Result<Self> {
        config.validate().map_err(|e| Error::Usage(e.to_string()))?;
        let trace = (config.trace.capacity > 0).then(|| CallTrace::new(config.trace.capacity));
        let inner = Arc::new(Inner {
            config,
            state: watch::channel(ConnState::Connecting).0,
            session: RwLock::new(None),
            next_context: AtomicU32::new(1),
            events: Arc::new(EventHub::default()),
            metrics: Metrics::default(),
            trace,
            hooks: Mutex::new(Vec::new()),
            required: Mutex::new(Vec::new()),
            last_report: Mutex::new(None),
            last_error: Mutex::new(None),
            shutdown: watch::channel(false).0,
            driver: Mutex::new(None),
            runtime: tokio::runtime::Handle::try_current().ok(),
        });
        let alive = Arc::new(Alive(inner.clone()));
        Ok(Self { inner, alive })
    }

    /// Start the connection in the background and return at once; it connects, and
    /// reconnects, forever (watch [`Connection::state`]). Must run inside a tokio runtime.
    pub fn start(config: Config) -> Result<Self> {
        let conn = Self::build(config)?;
        let weak = Arc::downgrade(&conn.alive);
        let h = tokio::spawn(driver::run(conn.inner.clone(), weak));
        *conn.inner.driver.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
        Ok(conn)
    }

    /// Connect, retrying with backoff for at most `config.connect_timeout`.
    pub async fn connect(config: Config) -> Result<Self> {
        let timeout = config.connect_timeout;
        let conn = Self::start(config)?;
        let mut st = conn.inner.state.subscribe();
        let ok = tokio::time::timeout(timeout, st.wait_for(|s| *s == ConnState::Connected)).await;
        match ok {
            Ok(Ok(_)) => Ok(conn),
            _ => {
                let last = conn
                    .inner
                    .last_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                    .unwrap_or_else(|| "no attempt finished".into());
                conn.inner.shutdown();
                Err(Error::ConnectTimeout { timeout, last })
            }
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The connection state, as a watch channel.
    pub fn state(&self) -> watch::Receiver<ConnState> {
        self.inner.state.subscribe()
    }

    /// The metrics of this connection.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The in-memory trace of the last calls (empty if `trace.capacity` is 0).
    pub fn trace(&self) -> Vec<CallRecord> {
        self.inner
            .trace
            .as_ref()
            .map(CallTrace::snapshot)
            .unwrap_or_default()
    }

    /// VPP's message table of the current session.
    pub fn message_table(&self) -> Option<Arc<MessageTable>> {
        self.inner.current().map(|s| s.table.clone())
    }

    /// VPP's pid as reported by `control_ping_reply` on the current session.
    pub fn vpe_pid(&self) -> Option<u32> {
        self.inner
            .current()
            .map(|s| s.vpe_pid.load(Ordering::Relaxed))
    }

    /// VPP's version string (`show_version`) of the current session.
    pub fn vpp_version(&self) -> Option<String> {
        self.inner
            .current()
            .and_then(|s| s.version.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// The transport of the current session: `"socket"` or `"shm"` (`"none"` when not
    /// connected).
    pub fn transport(&self) -> &'static str {
        match self.inner.current() {
            Some(s) if s.shm.is_some() => "shm",
            Some(_) => "socket",
            None => "none",
        }
    }

    /// Counters of the shared-memory segment of the current session (`None` on the socket):
    /// requests sent and replies received through it, heap replies handed back, keepalives
    /// answered, foreign addresses dropped.
    #[cfg(shm_transport)]
    pub fn shm_stats(&self) -> Option<crate::ShmStats> {
        self.inner
            .current()
            .and_then(|s| s.shm.as_ref().map(|m| m.stats()))
    }

    /// Session number (increments on every successful connect).
    pub fn generation(&self) -> Option<u64> {
        self.inner.current().map(|s| s.generation)
    }

    /// Pending calls and streams of the current session (0 when idle).
    pub fn pending_calls(&self) -> usize {
        self.inner.current().map_or(0, |s| s.pending_len())
    }

    /// The compatibility report of `name_crcs` against the current session's table.
    pub fn compat(&self, name_crcs: &[&str]) -> Option<CompatReport> {
        self.message_table()
            .map(|t| t.report(name_crcs.iter().copied()))
    }

    /// Declare the messages the application needs: re-checked at every connect, the report
    /// goes to the `on_reconnect` hooks and [`Connection::last_compat_report`].
    pub fn require(&self, name_crcs: &[&'static str]) -> Option<CompatReport> {
        self.inner
            .required
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(name_crcs);
        let all = self
            .inner
            .required
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let r = self.compat(&all);
        if let Some(r) = &r {
            *self
                .inner
                .last_report
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(r.clone());
        }
        r
    }

    /// The report of the required messages at the last connect.
    pub fn last_compat_report(&self) -> Option<CompatReport> {
        self.inner
            .last_report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Pick a handler for the current session's VPP (see [`HandlerSet::select`]).
    pub fn select<'a, H>(&self, set: &'a HandlerSet<H>) -> Option<Selection<'a, H>> {
        self.message_table().map(|t| set.select(&t))
    }

    /// Run `hook` after every reconnect (not the first connect), once events are
    /// re-registered. Hooks run one after the other in registration order.
    pub fn on_reconnect<F, Fut>(&self, hook: F)
    where
        F: Fn(Connection, ReconnectInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner
            .hooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::new(move |c, i| Box::pin(hook(c, i))));
    }

    fn session(&self) -> Result<Arc<Session>> {
        if *self.inner.shutdown.borrow() {
            return Err(Error::Closed);
        }
        self.inner.current().ok_or(Error::NotConnected)
    }

    /// Send `req` and wait for its reply (default timeout). A non-zero `retval` is
    /// [`Error::Api`].
    pub async fn call<M>(&self, req: &M) -> Result<M::Reply>
    where
        M: Request + Sync,
    {
        self.call_with_timeout(req, self.inner.config.reply_timeout)
            .await
    }

    /// [`Connection::call`] with its own timeout.
    pub async fn call_with_timeout<M>(&self, req: &M, timeout: Duration) -> Result<M::Reply>
    where
        M: Request + Sync,
    {
        let raw = self.call_raw_with_timeout(req, timeout).await?;
        raw.decode().map_err(|source| Error::Decode {
            message: <M::Reply as Message>::NAME,
            source,
        })
    }

    /// Send `req` and return the reply's bytes (view them with [`RawReply::view`]).
    pub async fn call_raw<M>(&self, req: &M) -> Result<RawReply<M::Reply>>
    where
        M: Request + Sync,
    {
        self.call_raw_with_timeout(req, self.inner.config.reply_timeout)
            .await
    }

    /// [`Connection::call_raw`] with its own timeout.
    pub async fn call_raw_with_timeout<M>(
        &self,
        req: &M,
        timeout: Duration,
    ) -> Result<RawReply<M::Reply>>
    where
        M: Request + Sync,
    {
        let session = self.session()?;
        call_on(&self.inner, &session, req, timeout).await
    }

    /// Send a message that has no reply (fire-and-forget).
    pub async fn send<M: Message + Sync>(&self, msg: &M) -> Result<()> {
        let session = self.session()?;
        let id = message_id::<M>(&session)?;
        let ctx = self.inner.next_context(&session);
        self.inner.metrics.calls.inc();
        let ci = session.client_index;
        let timeout = self.inner.config.reply_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let push = session.push(hint_for(M::NAME), deadline, |buf| {
            append_frame(buf, msg, id, ci, ctx).map(|_| ())
        });
        tokio::time::timeout_at(deadline, push)
            .await
            .map_err(|_| Error::Timeout {
                message: M::NAME,
                timeout,
            })?
            .map_err(|e| push_error(e, M::NAME))?;
        if let Some(t) = &self.inner.trace {
            t.push(CallRecord {
                message: M::NAME,
                context: ctx,
                sent: SystemTime::now(),
                received: None,
                duration: Duration::ZERO,
                retval: None,
                outcome: CallOutcome::Sent,
            });
        }
        Ok(())
    }

    /// A legacy dump (`X_dump` then `control_ping` with the same context); the stream ends
    /// at `control_ping_reply`. Each message must arrive within the default reply timeout.
    pub async fn dump<M>(&self, req: &M) -> Result<DetailsStream<M::Details>>
    where
        M: Dump + Sync,
    {
        self.dump_raw(req).await.map(DetailsStream::new)
    }

    /// [`Connection::dump`] yielding raw frames (zero-copy views).
    pub async fn dump_raw<M>(&self, req: &M) -> Result<RawDetailsStream<M::Details>>
    where
        M: Dump + Sync,
    {
        let session = self.session()?;
        let id = message_id::<M>(&session)?;
        let details_id = expect_id::<M::Details>(&session)?;
        let ping_id = message_id::<ControlPing>(&session)?;
        let end_id = expect_id::<ControlPingReply>(&session)?;
        let ctx = self.inner.next_context(&session);
        let (tx, rx) = mpsc::unbounded_channel();
        if !session.insert_pending(ctx, Pending::Stream { tx, end_id }) {
            return Err(Error::ConnectionLost { message: M::NAME });
        }
        self.inner.metrics.calls.inc();
        let ci = session.client_index;
        let timeout = self.inner.config.reply_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let push = session.push(Hint::Any, deadline, |buf| {
            append_frame(buf, req, id, ci, ctx)?;
            append_frame(buf, &ControlPing {}, ping_id, ci, ctx).map(|_| ())
        });
        let pushed = match tokio::time::timeout_at(deadline, push).await {
            Ok(r) => r.map_err(|e| push_error(e, M::NAME)),
            Err(_) => Err(Error::Timeout {
                message: M::NAME,
                timeout,
            }),
        };
        if let Err(e) = pushed {
            session.remove_pending(ctx);
            return Err(e);
        }
        Ok(RawDetailsStream::new(
            session,
            ctx,
            rx,
            details_id,
            end_id,
            StreamEnd::Ping,
            M::NAME,
            self.inner.config.reply_timeout,
        ))
    }

    /// A cursor service (`X_get` → details + `X_get_reply`): one stream over all the
    /// details, re-issuing the request with the reply's cursor while VPP answers -165.
    /// The request and the reply must have a `u32 cursor` and the reply an `i32 retval`
    /// (their offsets are the messages' `CURSOR_OFFSET` / `RETVAL_OFFSET`).
    pub async fn stream<M>(&self, req: &M) -> Result<DetailsStream<M::Details>>
    where
        M: Request + Dump + Sync,
    {
        self.stream_raw(req).await.map(DetailsStream::new)
    }

    /// [`Connection::stream`] yielding raw frames.
    pub async fn stream_raw<M>(&self, req: &M) -> Result<RawDetailsStream<M::Details>>
    where
        M: Request + Dump + Sync,
    {
        let (Some(request_cursor), Some(reply_retval), Some(reply_cursor)) = (
            M::CURSOR_OFFSET,
            <M::Reply as Message>::RETVAL_OFFSET,
            <M::Reply as Message>::CURSOR_OFFSET,
        ) else {
            return Err(Error::Usage(format!(
                "{} is not a cursor service request (the request needs a `u32 cursor`, \
                 the reply `i32 retval` and `u32 cursor`)",
                M::NAME
            )));
        };
        let session = self.session()?;
        let id = message_id::<M>(&session)?;
        let details_id = expect_id::<M::Details>(&session)?;
        let end_id = expect_id::<M::Reply>(&session)?;
        let ctx = self.inner.next_context(&session);
        let mut request = Vec::new();
        append_frame(&mut request, req, id, session.client_index, ctx).map_err(|source| {
            Error::Encode {
                message: M::NAME,
                source,
            }
        })?;
        let (tx, rx) = mpsc::unbounded_channel();
        if !session.insert_pending(ctx, Pending::Stream { tx, end_id }) {
            return Err(Error::ConnectionLost { message: M::NAME });
        }
        self.inner.metrics.calls.inc();
        let timeout = self.inner.config.reply_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let push = session.push(Hint::Any, deadline, |buf| {
            buf.extend_from_slice(&request);
            Ok(())
        });
        let pushed = match tokio::time::timeout_at(deadline, push).await {
            Ok(r) => r.map_err(|e| push_error(e, M::NAME)),
            Err(_) => Err(Error::Timeout {
                message: M::NAME,
                timeout,
            }),
        };
        if let Err(e) = pushed {
            session.remove_pending(ctx);
            return Err(e);
        }
        Ok(RawDetailsStream::new(
            session,
            ctx,
            rx,
            details_id,
            end_id,
            StreamEnd::Cursor {
                request,
                reply_name: <M::Reply as Message>::NAME,
                request_cursor: crate::transport::HEADER_LEN + request_cursor,
                reply_retval,
                reply_cursor,
            },
            M::NAME,
            self.inner.config.reply_timeout,
        ))
    }

    /// Subscribe to events `E` turned on by the `want_*` request `W`. The runtime sends
    /// `make(true, pid)` now (if it is the first subscriber) and after every reconnect, and
    /// `make(false, pid)` when the last subscriber of `W` drops its stream.
    pub async fn subscribe<W, E, F>(&self, make: F) -> Result<EventStream<E>>
    where
        W: Subscribe + Send + Sync + 'static,
        E: Message,
        F: Fn(bool, u32) -> W + Send + Sync + 'static,
    {
        if !W::EVENTS.contains(&E::NAME_CRC) {
            return Err(Error::Usage(format!(
                "{} does not turn on {} (it turns on {:?})",
                W::NAME,
                E::NAME_CRC,
                W::EVENTS
            )));
        }
        self.subscribe_with(W::EVENTS, make).await
    }

    /// [`Connection::subscribe`] for a `want_*` request whose `.api` service lists no events,
    /// such as VPP's `want_l2_macs_events2` (it turns on `l2_macs_event`, but its `service`
    /// line does not say so). The caller vouches that `W` turns on `E`.
    pub async fn subscribe_unlisted<W, E, F>(&self, make: F) -> Result<EventStream<E>>
    where
        W: Request + Send + Sync + 'static,
        E: Message,
        F: Fn(bool, u32) -> W + Send + Sync + 'static,
    {
        self.subscribe_with(&[], make).await
    }

    async fn subscribe_with<W, E, F>(
        &self,
        events: &'static [&'static str],
        make: F,
    ) -> Result<EventStream<E>>
    where
        W: Request + Send + Sync + 'static,
        E: Message,
        F: Fn(bool, u32) -> W + Send + Sync + 'static,
    {
        let make = Arc::new(make);
        let pid = std::process::id();
        let send: WantSender = Arc::new(move |conn: Connection, enable: bool| {
            let make = make.clone();
            Box::pin(async move {
                let msg = make(enable, pid);
                match conn.call(&msg).await {
                    Ok(_) => Ok(()),
                    // Already (un)registered: the state we want.
                    Err(Error::Api(ApiError { retval: -31, .. })) => Ok(()),
                    Err(e) => Err(e),
                }
            })
        });
        let cfg = &self.inner.config.events;
        let queue = Arc::new(EventQueue::new(cfg.queue_capacity, cfg.overflow));
        let first = self.inner.events.add(
            W::NAME_CRC,
            events,
            E::NAME_CRC,
            queue.clone(),
            send.clone(),
        );
        let stream = EventStream::new(queue, self.clone(), W::NAME_CRC);
        if let Some(s) = self.inner.current() {
            for e in events.iter().chain([&E::NAME_CRC]) {
                if let Some(id) = s.table.id(e) {
                    s.learn_context_offset(id, None);
                }
            }
            if first {
                if let Err(e) = send(self.clone(), true).await {
                    if !matches!(e, Error::NotConnected | Error::ConnectionLost { .. }) {
                        return Err(e); // dropping the stream unsubscribes
                    }
                }
            }
        }
        Ok(stream)
    }

    /// Number of subscribers of event `name_crc`.
    pub fn subscribers(&self, event_name_crc: &str) -> usize {
        self.inner.events.subscribers(event_name_crc)
    }

    /// Send `sockclnt_delete` (waiting at most 100 ms for the reply, which VPP may not
    /// send), close the socket and stop reconnecting. Pending calls fail.
    pub async fn close(&self) {
        if let Some(s) = self.inner.current() {
            #[cfg(shm_transport)]
            if let Some(shm) = &s.shm {
                shm.goodbye(&s.table).await;
            }
            let del = crate::memclnt::SockclntDelete { index: s.handle() };
            let _ = call_on(&self.inner, &s, &del, Duration::from_millis(100)).await;
        }
        self.inner.shutdown();
        let h = self
            .inner
            .driver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(h) = h {
            let _ = h.await;
        }
    }
}

/// The id VPP gave `M`, or why it has none.
fn message_id<M: Message>(s: &Session) -> Result<u16> {
    s.id_of::<M>().ok_or_else(|| Error::Unavailable {
        name_crc: M::NAME_CRC,
        why: s
            .table
            .unavailable(M::NAME_CRC)
            .unwrap_or(crate::error::Unavailable::Missing),
    })
}

/// [`message_id`] for a message we will receive: also teaches the reader its context offset.
fn expect_id<M: Message>(s: &Session) -> Result<u16> {
    let id = message_id::<M>(s)?;
    s.learn_context_offset(id, M::CONTEXT_OFFSET);
    Ok(id)
}

/// One call on a given session (also used during the handshake, before the session is
/// published).
pub(crate) async fn call_on<M>(
    inner: &Inner,
    session: &Session,
    req: &M,
    timeout: Duration,
) -> Result<RawReply<M::Reply>>
where
    M: Request + Sync,
{
    let id = message_id::<M>(session)?;
    expect_id::<M::Reply>(session)?;
    let ctx = inner.next_context(session);
    let span = tracing::debug_span!("vpp_call", message = M::NAME, context = ctx);
    async move {
        let slot = session.take_slot();
        if !session.insert_pending(ctx, Pending::Reply(slot.clone())) {
            session.give_slot(slot);
            return Err(Error::ConnectionLost { message: M::NAME });
        }
        inner.metrics.calls.inc();
        inner.metrics.in_flight.inc();
        let mut guard = CallGuard {
            inner,
            session,
            context: ctx,
            message: M::NAME,
            started: Instant::now(),
            sent_at: SystemTime::now(),
            outcome: CallOutcome::Cancelled,
            retval: None,
            pending: true,
            slot: Some(slot),
        };
        let ci = session.client_index;
        let mut active = session.begin_call();
        // One deadline for queueing and waiting: a VPP that stops reading must not make
        // callers wait for the write queue forever either.
        let deadline = tokio::time::Instant::now() + timeout;
        let push = session.push(hint_for(M::NAME), deadline, |buf| {
            append_frame(buf, req, id, ci, ctx).map(|_| ())
        });
        let path = match tokio::time::timeout_at(deadline, push).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                guard.outcome = CallOutcome::ConnectionLost;
                return Err(push_error(e, M::NAME));
            }
            Err(_) => {
                guard.outcome = CallOutcome::TimedOut;
                return Err(Error::Timeout {
                    message: M::NAME,
                    timeout,
                });
            }
        };
        let sent = Instant::now();
        let slot = guard
            .slot
            .as_deref()
            .expect("slot held until the guard drops");
        let frame = match session.wait_reply(slot, deadline, &mut active, path).await {
            Ok(frame) => {
                guard.pending = false;
                session.observe(path, sent.elapsed());
                frame
            }
            Err(WaitError::Lost) => {
                guard.pending = false;
                guard.outcome = CallOutcome::ConnectionLost;
                return Err(Error::ConnectionLost { message: M::NAME });
            }
            Err(WaitError::Timeout) => {
                guard.outcome = CallOutcome::TimedOut;
                // The path did not answer in time: let the router know.
                session.observe(path, timeout);
                tracing::debug!("no reply within {timeout:?}");
                return Err(Error::Timeout {
                    message: M::NAME,
                    timeout,
                });
            }
        };
        guard.outcome = CallOutcome::Replied;
        let retval = retval_of::<M::Reply>(&frame)?;
        guard.retval = retval;
        match retval {
            Some(rv) if rv != 0 => Err(Error::Api(ApiError {
                retval: rv,
                message: <M::Reply as Message>::NAME,
            })),
            _ => Ok(RawReply {
                frame,
                retval,
                _r: std::marker::PhantomData,
            }),
        }
    }
    .instrument(span)
    .await
}
