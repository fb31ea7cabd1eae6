//! The socket server: one tokio task per connection reading frames, one writing them; all state
//! behind one mutex taken once per read batch (pipelined requests are handled in one go).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use vppapi_binapi::memclnt::{
    ControlPing, ControlPingReply, GetApiJson, GetApiJsonReply, MessageTableEntry,
    SockInitShmReply, SockclntCreate, SockclntCreateReply, SockclntDelete, SockclntDeleteReply,
};
use vppapi_binapi::vlib::{
    GetF64EndianValue, GetF64EndianValueReply, GetF64IncrementByOne, GetF64IncrementByOneReply,
};
use vppapi_binapi::vpe::{ShowVersion, ShowVersionReply};
use vppapi_codec::api_errno::UNIMPLEMENTED;

use crate::handlers::{fit, lossy, unimplemented, Call, Handlers, Outbox, Then, FRAME_HEADER};
use crate::model::{self, Model};
use crate::stats::StatsMirror;
use crate::table::MessageTable;
use crate::trace::{ApiTrace, Fmt, TraceEntry};

/// Largest body the simulator accepts; a bigger `data_len` closes the connection (VPP would
/// try to buffer it; a test double should fail fast instead of allocating).
const MAX_BODY: usize = 64 << 20;

/// How the simulator is started.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// API socket path (`SOCK_STREAM`).
    pub socket: PathBuf,
    /// Stats socket path (`SOCK_SEQPACKET`), if wanted.
    pub stats_socket: Option<PathBuf>,
    /// `vpe_pid` of `control_ping_reply` (default: this process's pid); +1 on every restart.
    pub vpe_pid: Option<u32>,
    /// `show_version_reply` strings.
    pub program: String,
    pub version: String,
    pub build_date: String,
    pub build_directory: String,
    /// Directory of the 26.06 `.api.json` files (searched recursively); when set,
    /// `get_api_json` answers like VPP with every registered module's document.
    pub api_json_dir: Option<PathBuf>,
    /// How VPP's main loop runs, which decides when shared-memory requests are seen.
    pub main_loop: MainLoop,
    /// Period of the dead-client scan that sends `memclnt_keepalive` to shared-memory
    /// clients not heard from for that long (VPP: about 20 s when idle).
    pub keepalive_period: Duration,
    /// Simulate the `lb` plugin of VPP master after 26.06 (`lb.api` 1.2.0: weights,
    /// `lb_conf_get`, `lb_as_v2_dump`, the handler fixes) instead of 26.06's 1.1.0. Off by
    /// default: the 26.06 table and behaviour stay exactly as they are.
    pub lb_api_1_2: bool,
}

/// VPP's main loop, as the shared-memory transport sees it (shm doc 4.5, 8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainLoop {
    /// No polling input node on the main thread (a stock VPP): the loop sleeps in
    /// `epoll_wait` up to 10 ms between passes; only socket traffic wakes it early; one
    /// segment message is handled per wake-up. Socket requests are answered at once.
    Idle,
    /// A polling input node on the main thread: segments are polled continuously (one core
    /// spins) and the socket is only looked at every 1024 loops (~100 us late).
    Busy,
    /// Segments polled every given interval, the socket at once: not a VPP regime, a quick
    /// setting for tests.
    Polling(Duration),
}

impl SimConfig {
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        SimConfig {
            socket: socket.into(),
            stats_socket: None,
            vpe_pid: None,
            main_loop: MainLoop::Idle,
            keepalive_period: Duration::from_secs(20),
            program: "vpe".into(),
            version: "26.06-release".into(),
            build_date: "2026-06-24T00:00:00".into(),
            build_directory: "/vpp-sim".into(),
            api_json_dir: None,
            lb_api_1_2: false,
        }
    }
}

#[derive(Debug, Default)]
struct FaultState {
    latency: Option<Duration>,
    drop_all: bool,
    drop_every: u64,
    reply_count: u64,
    drop_names: HashSet<String>,
    read_delay: Option<Duration>,
    stop_reading: bool,
}

/// Scriptable faults (a cheap clonable handle; changes apply to live connections).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<FaultInner>,
}

#[derive(Debug, Default)]
struct FaultInner {
    state: Mutex<FaultState>,
    active: AtomicBool,
    resume: Notify,
}

impl Faults {
    fn with(&self, f: impl FnOnce(&mut FaultState)) {
        let mut s = lock(&self.inner.state);
        f(&mut s);
        let active = s.latency.is_some()
            || s.drop_all
            || s.drop_every > 0
            || !s.drop_names.is_empty()
            || s.read_delay.is_some()
            || s.stop_reading;
        self.inner.active.store(active, Ordering::Release);
        if !s.stop_reading {
            self.inner.resume.notify_waiters();
        }
    }
    /// Delays every batch of outgoing frames by `d`.
    pub fn set_latency(&self, d: Duration) {
        self.with(|s| s.latency = Some(d));
    }
    /// Drops every reply (and dump details) while set.
    pub fn drop_all_replies(&self, on: bool) {
        self.with(|s| s.drop_all = on);
    }
    /// Drops the answer to every `n`th request (0: off).
    pub fn drop_every_nth(&self, n: u64) {
        self.with(|s| {
            s.drop_every = n;
            s.reply_count = 0;
        });
    }
    /// Drops the answers to requests named `name` (e.g. `"sw_interface_dump"`).
    pub fn drop_replies_to(&self, name: &str) {
        self.with(|s| {
            s.drop_names.insert(name.to_string());
        });
    }
    /// Reads requests one frame at a time with a pause of `d` before each (a slow server).
    pub fn read_slowly(&self, d: Duration) {
        self.with(|s| s.read_delay = Some(d));
    }
    /// Stops reading requests (clients' writes then block once the socket buffers fill).
    pub fn stop_reading(&self) {
        self.with(|s| s.stop_reading = true);
    }
    pub fn resume_reading(&self) {
        self.with(|s| s.stop_reading = false);
    }
    /// Clears every fault.
    pub fn clear(&self) {
        self.with(|s| *s = FaultState::default());
    }

    fn active(&self) -> bool {
        self.inner.active.load(Ordering::Acquire)
    }
    /// Whether requests are not being read (also stops polling the segments).
    pub(crate) fn reading_stopped(&self) -> bool {
        self.active() && lock(&self.inner.state).stop_reading
    }
    /// The latency fault, if set.
    pub(crate) fn latency(&self) -> Option<Duration> {
        if !self.active() {
            return None;
        }
        lock(&self.inner.state).latency
    }
    fn should_drop(&self, name: &str) -> bool {
        let mut s = lock(&self.inner.state);
        s.reply_count += 1;
        s.drop_all
            || (s.drop_every > 0 && s.reply_count % s.drop_every == 0)
            || s.drop_names.contains(name)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a socket connection's writer sends: frames, or the `"fdmsg"` with a segment's fd.
pub(crate) enum Out {
    Bytes(Vec<u8>),
    #[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
    Fd(std::os::fd::OwnedFd),
}

/// Where a registration's messages go.
pub(crate) enum Sink {
    /// A socket client: its connection's writer.
    Socket {
        tx: mpsc::UnboundedSender<Out>,
        close: watch::Sender<bool>,
    },
    /// A shared-memory client: its input queue in a segment.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    Shm(crate::shm::ShmTarget),
}

/// A client registration (`vl_api_registration_t`).
pub(crate) struct Registration {
    pub(crate) name: String,
    pub(crate) sink: Sink,
}

/// The simulator's state: what every handler may touch (all of it behind one mutex).
pub(crate) struct Core {
    /// Pool of registrations; index 0 is the listener's, as in VPP.
    pub(crate) regs: Vec<Option<Registration>>,
    free: Vec<u32>,
    /// VPP's pool of shared-memory clients (`vl_clients`): index → registration.
    shm_pool: Vec<Option<u32>>,
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    shm: Arc<crate::shm::ShmMain>,
    pub(crate) model: Model,
    vpe_pid: u32,
    stats: Option<StatsMirror>,
    /// `api trace` (RX): every traced request received.
    pub(crate) trace: ApiTrace,
    /// Field formatters of the modelled requests by ID (`api trace dump`).
    pub(crate) fmts: Vec<Option<Fmt>>,
}

impl Core {
    fn if_names(&self) -> Vec<Option<String>> {
        self.model
            .ifs
            .iter()
            .map(|i| i.as_ref().map(|i| i.name.clone()))
            .collect()
    }
    fn alloc_reg(&mut self, r: Registration) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.regs[i as usize] = Some(r);
                i
            }
            None => {
                self.regs.push(Some(r));
                (self.regs.len() - 1) as u32
            }
        }
    }
    pub(crate) fn free_reg(&mut self, i: u32) {
        if let Some(slot) = self.regs.get_mut(i as usize) {
            if let Some(r) = slot.take() {
                match r.sink {
                    Sink::Socket { close, .. } => {
                        let _ = close.send(true);
                    }
                    #[cfg(all(target_os = "linux", target_env = "gnu"))]
                    Sink::Shm(_) => {
                        for p in self.shm_pool.iter_mut() {
                            if *p == Some(i) {
                                *p = None;
                            }
                        }
                    }
                }
                self.free.push(i);
                self.model.client_gone(i);
            }
        }
    }
    /// A shared-memory client's registration: its raw index is `pool_index << 8` in host
    /// order (epoch 0), as VPP's `vl_msg_api_handle_from_index_and_epoch`.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub(crate) fn alloc_shm_reg(&mut self, mut r: Registration) -> (u32, [u8; 4]) {
        let pool = match self.shm_pool.iter().position(Option::is_none) {
            Some(p) => p,
            None => {
                self.shm_pool.push(None);
                self.shm_pool.len() - 1
            }
        };
        let index = ((pool as u32) << 8).to_ne_bytes();
        if let Sink::Shm(t) = &mut r.sink {
            t.index = index;
        }
        let reg = self.alloc_reg(r);
        self.shm_pool[pool] = Some(reg);
        (reg, index)
    }
    /// `vl_api_client_index_to_registration`: bit 31 of the BE value set is a socket (pool
    /// index below); clear is a shared-memory client (`pool_index << 8 | epoch`, host order).
    pub(crate) fn resolve(&self, raw: [u8; 4]) -> Option<u32> {
        let v = u32::from_be_bytes(raw);
        if v & 0x8000_0000 == 0 {
            let h = u32::from_ne_bytes(raw);
            if h & 0xff != 0 {
                return None; // another epoch
            }
            return self.shm_pool.get((h >> 8) as usize).copied().flatten();
        }
        let i = v & 0x7fff_ffff;
        let socket = matches!(
            self.regs.get(i as usize),
            Some(Some(Registration {
                sink: Sink::Socket { .. },
                ..
            }))
        );
        (i != 0 && socket).then_some(i)
    }
    /// Send `frames` to registration `reg` (its socket, or its queue in a segment).
    pub(crate) fn deliver_to(&self, reg: u32, frames: Vec<u8>) {
        match self.regs.get(reg as usize) {
            Some(Some(Registration {
                sink: Sink::Socket { tx, .. },
                ..
            })) => {
                let _ = tx.send(Out::Bytes(frames));
            }
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            Some(Some(Registration {
                sink: Sink::Shm(t), ..
            })) => t.deliver(&frames, &self.shm),
            _ => {}
        }
    }
    pub(crate) fn deliver(&self, out: &mut Outbox) {
        for (reg, frames) in out.others.drain(..) {
            self.deliver_to(reg, frames);
        }
    }
}

pub(crate) struct Inner {
    pub(crate) cfg: SimConfig,
    pub(crate) table: &'static MessageTable,
    handlers: Handlers,
    pub(crate) core: Mutex<Core>,
    pub(crate) faults: Faults,
    conns: AtomicU64,
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub(crate) shm: Arc<crate::shm::ShmMain>,
    serialized_table: std::sync::OnceLock<Vec<u8>>,
}

/// A running simulator. Dropping it stops accepting and closes every connection.
pub struct Simulator {
    inner: Arc<Inner>,
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("socket", &self.inner.cfg.socket)
            .finish()
    }
}

impl Simulator {
    /// Binds the API socket (replacing a stale file) and, if configured, the stats socket.
    /// Must be called within a tokio runtime.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Simulator> {
        let table = MessageTable::for_lb_api(cfg.lb_api_1_2);
        let api_json = match &cfg.api_json_dir {
            Some(dir) => Some(api_json_documents(table, dir)?),
            None => None,
        };
        let mut handlers = Handlers::new(table);
        register_memclnt(&mut handlers, &cfg, table, api_json);
        model::register(&mut handlers);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        let shm = Arc::new(crate::shm::ShmMain::new());
        let mut core = Core {
            regs: vec![None],
            free: Vec::new(),
            shm_pool: Vec::new(),
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            shm: shm.clone(),
            model: Model::for_lb_api(cfg.lb_api_1_2),
            vpe_pid: cfg.vpe_pid.unwrap_or_else(std::process::id),
            stats: None,
            trace: ApiTrace::default(),
            fmts: handlers.formatters(),
        };
        if let Some(p) = &cfg.stats_socket {
            core.stats = Some(StatsMirror::serve(p, &core.if_names())?);
            core.model.ifs_changed = false;
        }
        let inner = Arc::new(Inner {
            cfg,
            table,
            handlers,
            core: Mutex::new(core),
            faults: Faults::default(),
            conns: AtomicU64::new(0),
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            shm,
            serialized_table: std::sync::OnceLock::new(),
        });
        let sim = Simulator {
            inner,
            accept: Mutex::new(None),
        };
        sim.listen()?;
        Ok(sim)
    }

    fn listen(&self) -> std::io::Result<()> {
        let _ = std::fs::remove_file(&self.inner.cfg.socket);
        let listener = UnixListener::bind(&self.inner.cfg.socket)?;
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let inner = inner.clone();
                        tokio::spawn(async move { inner.serve(stream).await });
                    }
                    Err(e) => {
                        warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
        if let Some(old) = lock(&self.accept).replace(task) {
            old.abort();
        }
        Ok(())
    }

    /// The fault controls.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The API socket path.
    pub fn socket(&self) -> &std::path::Path {
        &self.inner.cfg.socket
    }

    /// Current `vpe_pid`.
    pub fn vpe_pid(&self) -> u32 {
        lock(&self.inner.core).vpe_pid
    }

    /// Connections accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.inner.conns.load(Ordering::Relaxed)
    }

    /// Closes every client connection now (as if VPP dropped them).
    pub fn close_connections(&self) {
        let mut core = lock(&self.inner.core);
        for i in 1..core.regs.len() as u32 {
            core.free_reg(i);
        }
    }

    /// Counters of the shared-memory side.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn shm_stats(&self) -> crate::shm::ShmStats {
        self.inner.shm.stats()
    }

    /// VPP forgets every segment and their registrations (as its reaper does): requests
    /// through them are never answered again; the sockets stay up.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn drop_segments(&self) {
        let mut core = lock(&self.inner.core);
        let shm: Vec<u32> = core.shm_pool.iter().flatten().copied().collect();
        for r in shm {
            core.free_reg(r);
        }
        drop(core);
        self.inner.shm.clear();
    }

    /// Restarts: closes all connections, clears all state, takes a new `vpe_pid` and
    /// recreates the API socket (and stats segment).
    pub async fn restart(&self) -> std::io::Result<()> {
        if let Some(t) = lock(&self.accept).take() {
            t.abort();
        }
        self.close_connections();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        self.inner.shm.clear();
        {
            let mut core = lock(&self.inner.core);
            core.model = Model::for_lb_api(self.inner.cfg.lb_api_1_2);
            core.trace = ApiTrace::default();
            core.vpe_pid = core.vpe_pid.wrapping_add(1);
            core.regs.truncate(1);
            core.free.clear();
            core.shm_pool.clear();
            if let Some(p) = &self.inner.cfg.stats_socket {
                core.stats = None;
                let names = core.if_names();
                core.stats = Some(StatsMirror::serve(p, &names)?);
                core.model.ifs_changed = false;
            }
        }
        self.listen()
    }

    /// Runs `f` on the model (inspection or setup from tests).
    /// Events the change causes (interface events, `l2_macs_event`s of MACs learned with
    /// [`Model::learn_mac`]) are sent at once.
    pub fn with_model<T>(&self, f: impl FnOnce(&mut Model) -> T) -> T {
        let mut core = lock(&self.inner.core);
        let t = f(&mut core.model);
        for (reg, frame) in core.model.take_events() {
            core.deliver_to(reg, frame);
        }
        sync_stats(&mut core);
        t
    }

    /// The API trace (`api trace dump`): every traced request received since the start (or
    /// the last clear), oldest first, at most the ring's size (VPP's 256 Ki by default).
    /// See [`crate::trace`] for what is traced.
    pub fn api_trace(&self) -> Vec<TraceEntry> {
        lock(&self.inner.core).trace.entries()
    }

    /// Empties the API trace (it stays on or off as it was).
    pub fn api_trace_clear(&self) {
        lock(&self.inner.core).trace.clear();
    }

    /// Turns the API trace on or off (`api trace on` / `off`, without clearing it).
    pub fn api_trace_enable(&self, on: bool) {
        lock(&self.inner.core).trace.set_enabled(on);
    }

    /// Moves the simulated clock forward by `d` (see [`Model::advance_clock`]): LB sticky
    /// entries expire and garbage-collection intervals pass without sleeping.
    pub fn advance_clock(&self, d: Duration) {
        self.with_model(|m| m.advance_clock(d));
    }

    /// Runs one CLI command as `cli_inband` does (retval, output); events and stats updates
    /// it causes go out at once. `api trace ...` is only served through the API.
    pub fn cli(&self, cmd: &str) -> (i32, String) {
        self.with_model(|m| m.run_cli(cmd))
    }

    /// Runs `f` on the stats segment, if served.
    pub fn with_stats<T>(&self, f: impl FnOnce(&mut StatsMirror) -> T) -> Option<T> {
        lock(&self.inner.core).stats.as_mut().map(f)
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(t) = lock(&self.accept).take() {
            t.abort();
        }
        self.close_connections();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            self.inner.shm.clear();
            self.inner.shm.shutdown();
        }
        let _ = std::fs::remove_file(&self.inner.cfg.socket);
    }
}

pub(crate) fn sync_stats(core: &mut Core) {
    if core.model.ifs_changed {
        core.model.ifs_changed = false;
        let names = core.if_names();
        if let Some(s) = core.stats.as_mut() {
            if let Err(e) = s.sync(&names) {
                warn!("stats segment update failed: {e}");
            }
        }
    }
    let traffic = core.model.take_if_traffic();
    if let Some(s) = core.stats.as_mut() {
        for ((counter, sw), (packets, bytes)) in traffic {
            s.add_if(counter, sw as usize, packets, bytes);
        }
    }
    if core.model.lb.stats_dirty {
        core.model.lb.stats_dirty = false;
        if let Some(s) = core.stats.as_mut() {
            if let Err(e) = s.sync_lb(core.model.lb.counter_vectors()) {
                warn!("stats segment update failed: {e}");
            }
        }
    }
}

/// VPP's `get_api_json` text: `[\n` + every registered module's `.api.json` (trailing newline
/// cut) joined by `,` + `]`, in registration order; memclnt is not part of it.
fn api_json_documents(table: &MessageTable, dir: &std::path::Path) -> std::io::Result<String> {
    fn walk(d: &std::path::Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(d)? {
            let p = e?.path();
            if p.is_dir() && depth < 8 {
                walk(&p, depth + 1, out)?;
            } else if p.to_string_lossy().ends_with(".api.json") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, 0, &mut files)?;
    let mut docs = Vec::new();
    for &m in table.modules().iter().filter(|m| **m != "memclnt") {
        let name = format!("{m}.api.json");
        let Some(p) = files
            .iter()
            .find(|p| p.file_name().is_some_and(|f| *f == *name))
        else {
            return Err(std::io::Error::other(format!(
                "{}: no {name} for module {m}",
                dir.display()
            )));
        };
        let text = std::fs::read_to_string(p)?;
        docs.push(text.trim_end_matches('\n').to_string());
    }
    Ok(format!("[\n{}]", docs.join(",")))
}

/// Resolves when the connection is told to close (never if the signal is dropped).
async fn closed(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// How late a busy main loop reads the socket (it polls it every 1024 loops; VPP 26.06 with
/// a polling input node on main answered socket pings in 136 us against 22 us idle).
const BUSY_SOCKET_DELAY: Duration = Duration::from_micros(110);

/// Write the unframed `"fdmsg"` with `fd` in `SCM_RIGHTS` (shm doc 1.6).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
async fn send_fd(
    wr: &tokio::net::unix::OwnedWriteHalf,
    fd: &std::os::fd::OwnedFd,
) -> std::io::Result<()> {
    use std::os::fd::AsFd;
    let sock: &UnixStream = wr.as_ref();
    loop {
        sock.writable().await?;
        match sock.try_io(tokio::io::Interest::WRITABLE, || {
            vppapi_shm::send_with_fd(sock.as_fd(), vppapi_shm::FDMSG, fd.as_fd())
        }) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Result of handling one frame.
pub(crate) enum Flow {
    Continue,
    /// `sockclnt_delete` of this connection: flush, then close.
    Close,
}

impl Inner {
    /// VPP's message table serialized as `memclnt_create_reply.message_table` points to it.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub(crate) fn serialized_table(&self) -> &[u8] {
        self.serialized_table.get_or_init(|| {
            let entries: Vec<(u16, &str)> =
                self.table.iter().map(|(i, m)| (i, m.name_crc)).collect();
            vppapi_shm::serialize_message_table(&entries)
        })
    }

    async fn serve(self: Arc<Self>, stream: UnixStream) {
        self.conns.fetch_add(1, Ordering::Relaxed);
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
        let (close_tx, mut close_rx) = watch::channel(false);
        let reg = lock(&self.core).alloc_reg(Registration {
            name: String::new(),
            sink: Sink::Socket {
                tx: tx.clone(),
                close: close_tx,
            },
        });
        debug!(reg, "client connected");
        let faults = self.faults.clone();
        let mut wclose = close_rx.clone();
        let writer = tokio::spawn(async move {
            let mut batch = Vec::new();
            loop {
                tokio::select! {
                    m = rx.recv() => {
                        let Some(m) = m else { break };
                        batch.clear();
                        let mut fd = None;
                        match m {
                            Out::Bytes(m) => batch.extend_from_slice(&m),
                            Out::Fd(f) => fd = Some(f),
                        }
                        while batch.len() < (1 << 20) && fd.is_none() {
                            match rx.try_recv() {
                                Ok(Out::Bytes(m)) => batch.extend_from_slice(&m),
                                Ok(Out::Fd(f)) => fd = Some(f),
                                Err(_) => break,
                            }
                        }
                        if faults.active() {
                            let lat = lock(&faults.inner.state).latency;
                            if let Some(d) = lat {
                                tokio::time::sleep(d).await;
                            }
                        }
                        if !batch.is_empty() && wr.write_all(&batch).await.is_err() {
                            break;
                        }
                        // The reply is out: the unframed "fdmsg" with the segment's fd follows.
                        #[cfg(all(target_os = "linux", target_env = "gnu"))]
                        if let Some(fd) = fd.take() {
                            if send_fd(&wr, &fd).await.is_err() {
                                break;
                            }
                        }
                        drop(fd);
                    }
                    _ = closed(&mut wclose) => break,
                }
            }
            let _ = wr.shutdown().await;
        });
        let mut buf: Vec<u8> = Vec::with_capacity(64 << 10);
        let mut start = 0usize;
        let mut closing = false;
        'conn: loop {
            if buf.capacity() - buf.len() < 16 << 10 {
                buf.reserve(64 << 10);
            }
            let n = tokio::select! {
                r = rd.read_buf(&mut buf) => r.unwrap_or(0),
                _ = closed(&mut close_rx) => break 'conn,
            };
            if n == 0 {
                break;
            }
            match self.cfg.main_loop {
                // Socket traffic wakes the main loop out of its epoll sleep.
                #[cfg(all(target_os = "linux", target_env = "gnu"))]
                MainLoop::Idle => self.shm.ring(),
                // A busy main loop looks at the socket only every 1024 loops.
                MainLoop::Busy => {
                    let t = std::time::Instant::now();
                    while t.elapsed() < BUSY_SOCKET_DELAY {
                        std::hint::spin_loop();
                    }
                }
                _ => {}
            }
            // Stopped reading: bytes that already arrived wait too.
            if self.faults.active() {
                loop {
                    let notified = self.faults.inner.resume.notified();
                    if !lock(&self.faults.inner.state).stop_reading {
                        break;
                    }
                    tokio::select! {
                        _ = notified => {}
                        _ = closed(&mut close_rx) => break 'conn,
                    }
                }
            }
            // Handle every complete frame in the buffer.
            let slow = if self.faults.active() {
                lock(&self.faults.inner.state).read_delay
            } else {
                None
            };
            let mut out = Outbox {
                own_reg: reg,
                own: Vec::new(),
                others: Vec::new(),
            };
            loop {
                let avail = &buf[start..];
                if avail.len() < FRAME_HEADER {
                    break;
                }
                let len = u32::from_be_bytes(avail[8..12].try_into().expect("4 bytes")) as usize;
                if len > MAX_BODY {
                    warn!(len, "frame too large; closing the connection");
                    closing = true;
                    break;
                }
                if avail.len() < FRAME_HEADER + len {
                    break;
                }
                if let Some(d) = slow {
                    tokio::time::sleep(d).await;
                }
                let body = &buf[start + FRAME_HEADER..start + FRAME_HEADER + len];
                #[cfg(all(target_os = "linux", target_env = "gnu"))]
                if self.is_sock_init_shm(body) {
                    let flow = self.sock_init_shm(reg, body, &tx, &mut out);
                    start += FRAME_HEADER + len;
                    if matches!(flow, Flow::Close) {
                        closing = true;
                        break;
                    }
                    continue;
                }
                let flow = {
                    let mut core = lock(&self.core);
                    let f = self.dispatch(&mut core, reg, body, &mut out);
                    sync_stats(&mut core);
                    core.deliver(&mut out);
                    f
                };
                start += FRAME_HEADER + len;
                if matches!(flow, Flow::Close) {
                    closing = true;
                    break;
                }
                if slow.is_some() && !out.own.is_empty() {
                    let _ = tx.send(Out::Bytes(std::mem::take(&mut out.own)));
                }
            }
            if !out.own.is_empty() {
                let _ = tx.send(Out::Bytes(out.own));
            }
            if start == buf.len() {
                buf.clear();
                start = 0;
            } else if start > (32 << 10) {
                buf.drain(..start);
                start = 0;
            }
            if closing {
                break;
            }
        }
        // Registration freed (reapers run); the writer flushes what is queued, then closes.
        {
            let mut core = lock(&self.core);
            if let Some(Some(Registration {
                sink: Sink::Socket { tx: rtx, .. },
                ..
            })) = core.regs.get(reg as usize)
            {
                if rtx.same_channel(&tx) {
                    // Dropping the close sender does not signal `closed`: queued replies
                    // (sockclnt_delete_reply) are still written.
                    core.regs[reg as usize] = None;
                    core.free.push(reg);
                    core.model.client_gone(reg);
                }
            }
        }
        drop(tx);
        let _ = writer.await;
        debug!(reg, "client gone");
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn is_sock_init_shm(&self, body: &[u8]) -> bool {
        body.len() >= 2
            && self.table.id_by_name_crc("sock_init_shm_51646d92")
                == Some(u16::from_be_bytes([body[0], body[1]]))
    }

    /// `sock_init_shm` (shm doc 1, 2): only on a socket registration; a short body gets no
    /// reply; a size of 0 gets -101; what would crash VPP 26.06 drops the connection (and
    /// is counted); otherwise the reply, then the fd.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn sock_init_shm(
        self: &Arc<Self>,
        conn: u32,
        body: &[u8],
        tx: &mpsc::UnboundedSender<Out>,
        out: &mut Outbox,
    ) -> Flow {
        let req = match vppapi_shm::parse_sock_init_shm(body) {
            Ok(r) => r,
            Err(e) => {
                warn!("sock_init_shm: {e}: dropped (no reply)");
                return Flow::Continue;
            }
        };
        let (name, vpe_pid) = {
            let core = lock(&self.core);
            match core.resolve(req.client_index) {
                Some(r) if r == conn => {
                    let name = match core.regs.get(r as usize) {
                        Some(Some(reg)) => reg.name.clone(),
                        _ => String::new(),
                    };
                    (name, core.vpe_pid)
                }
                _ => {
                    warn!("sock_init_shm from a non-socket client_index: dropped");
                    return Flow::Continue;
                }
            }
        };
        let outcome =
            crate::shm::sock_init_shm(self, &name, req.requested_size, &req.configs, vpe_pid);
        let retval = match &outcome {
            crate::shm::InitOutcome::Segment(_) => 0,
            crate::shm::InitOutcome::Refused(rv) => *rv,
            crate::shm::InitOutcome::Crash(why) => {
                tracing::error!("sock_init_shm: {why}; dropping the connection");
                return Flow::Close;
            }
        };
        let reply = SockInitShmReply { retval };
        crate::handlers::push_frame(
            &mut out.own,
            self.table.id_of::<SockInitShmReply>().unwrap_or(20),
            [0; 4],
            req.context,
            &reply,
        );
        let _ = tx.send(Out::Bytes(std::mem::take(&mut out.own)));
        if let crate::shm::InitOutcome::Segment(fd) = outcome {
            let _ = tx.send(Out::Fd(fd));
        }
        Flow::Continue
    }

    pub(crate) fn dispatch(
        &self,
        core: &mut Core,
        conn: u32,
        body: &[u8],
        out: &mut Outbox,
    ) -> Flow {
        let Some(id) = body.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
            warn!(len = body.len(), "frame without a message id: dropped");
            return Flow::Continue;
        };
        let (Some(route), Some(info)) = (self.handlers.route(id), self.table.info(id)) else {
            warn!(id, "no handler for msg id {id}: dropped");
            return Flow::Continue;
        };
        // VPP traces before the size check and before the handler looks at client_index.
        if crate::trace::traced(info.name) {
            let be32 = |o: usize| {
                body.get(o..o + 4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0)
            };
            let ci = info.header.client_index_offset().map(be32).unwrap_or(0);
            let ctx = info.header.context_offset().map(be32).unwrap_or(0);
            core.trace.record(info.name, info.name_crc, ci, ctx, body);
        }
        // VPP checks the fixed part (`calc_size`) before any handler; a handler's decode then
        // checks the variable tail.
        if body.len() < info.fixed_size {
            warn!(
                id,
                name = info.name,
                len = body.len(),
                need = info.fixed_size,
                "truncated message: dropped"
            );
            return Flow::Continue;
        }
        let client_index: [u8; 4] = body
            .get(2..6)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_default();
        let reg = if route.from_connection {
            // The handshake: answered on its connection, it has no client_index yet.
            conn
        } else {
            match core.resolve(client_index) {
                Some(reg) => reg,
                None => {
                    warn!(
                        name = info.name,
                        client_index = u32::from_be_bytes(client_index),
                        "invalid client_index: dropped"
                    );
                    return Flow::Continue;
                }
            }
        };
        let ctx_off = info.header.context_offset().unwrap_or(6);
        let context = body
            .get(ctx_off..ctx_off + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0);
        // Handshakes are never dropped by faults.
        let faults = self.faults.active() && !route.from_connection;
        let mark = (out.buf(reg).len(), out.others.len());
        let mut call = Call::new(out, self.table, reg, client_index, context);
        match &route.run {
            Some(run) => {
                if let Err(e) = run(core, &mut call, body) {
                    warn!(id, name = info.name, "cannot decode: {e}; dropped");
                }
            }
            None => unimplemented(info, &mut call),
        }
        let then = call.finish();
        for (r, frame) in core.model.take_events() {
            out.buf(r).extend_from_slice(&frame);
        }
        if faults && self.faults.should_drop(info.name) {
            debug!(name = info.name, "fault: answer dropped");
            out.buf(reg).truncate(mark.0);
            out.others.truncate(mark.1);
        }
        match then {
            Then::Nothing => Flow::Continue,
            Then::CloseOwn => Flow::Close,
            Then::Free(t) => {
                core.deliver(out);
                core.free_reg(t);
                Flow::Continue
            }
        }
    }
}

/// The memclnt and vpe requests the server answers itself (registrations, ping, version, API
/// JSON), and the two vlib requests whose reply has a `u32 retval`.
fn register_memclnt(
    h: &mut Handlers,
    cfg: &SimConfig,
    table: &'static MessageTable,
    api_json: Option<String>,
) {
    // VPP's message table as `sockclnt_create_reply` sends it (every message of 26.06 here).
    let entries: Vec<MessageTableEntry> = table
        .iter()
        .map(|(index, m)| MessageTableEntry {
            index,
            name: fit(m.name_crc, 64),
        })
        .collect();
    // A view: VPP copies the name's bytes as they are.
    h.on_core_view::<SockclntCreate, _>(move |core, call, req| {
        if let Some(Some(r)) = core.regs.get_mut(call.reg as usize) {
            r.name = lossy(req.name_bytes());
        }
        SockclntCreateReply {
            response: 0,
            index: call.reg | 0x8000_0000,
            message_table: entries.clone(),
        }
    })
    .from_connection = true;
    h.on_core::<SockclntDelete, _>(|core, call, req| {
        let target = core.resolve(req.index.to_be_bytes());
        call.then = match target {
            // Its own registration: the reply is flushed, then the connection closes.
            Some(t) if t == call.own_reg() => Then::CloseOwn,
            Some(t) => Then::Free(t),
            None => Then::Nothing,
        };
        SockclntDeleteReply {
            response: if target.is_some() { 1 } else { -1 },
        }
    });
    h.on_core::<ControlPing, _>(|core, _, _| ControlPingReply {
        retval: 0,
        client_index: 0,
        vpe_pid: core.vpe_pid,
    });
    let version = ShowVersionReply {
        retval: 0,
        program: fit(&cfg.program, 32),
        version: fit(&cfg.version, 32),
        build_date: fit(&cfg.build_date, 32),
        build_directory: fit(&cfg.build_directory, 256),
    };
    h.on_core::<ShowVersion, _>(move |_, _, _| version.clone());
    h.on_core::<GetApiJson, _>(move |_, call, _| match &api_json {
        Some(json) => {
            // VPP sends its C vector's terminating NUL after the string.
            call.trailing_bytes(b"\0");
            GetApiJsonReply {
                retval: 0,
                json: json.clone(),
            }
        }
        None => GetApiJsonReply {
            retval: UNIMPLEMENTED,
            json: String::new(),
        },
    });
    // Not modelled. Their replies' `retval` is a u32, which the table has no offset for:
    // typed so that they still say UNIMPLEMENTED (-9) rather than a zero "success".
    h.on_core::<GetF64EndianValue, _>(|_, _, _| GetF64EndianValueReply {
        retval: UNIMPLEMENTED as u32,
        f64_one_result: 0.0,
    });
    h.on_core::<GetF64IncrementByOne, _>(|_, _, _| GetF64IncrementByOneReply {
        retval: UNIMPLEMENTED as u32,
        f64_value: 0.0,
    });
}
