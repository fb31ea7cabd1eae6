//! Getting the segment from VPP's stats socket, and a client that re-connects when VPP
//! restarts.

use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SocketAddrUnix,
    SocketFlags, SocketType,
};

use crate::error::{Result, StatsError};
use crate::interfaces::{InterfaceCounters, InterfaceStats};
use crate::segment::{file_id, ReadOptions, StatHandle, StatsSegment};
use crate::value::{Entry, StatValue};

/// VPP's default stats socket.
pub const DEFAULT_STATS_SOCKET: &str = "/run/vpp/stats.sock";

/// Connects to a stats socket (`SOCK_SEQPACKET`) and receives the segment memfd VPP sends with
/// `SCM_RIGHTS` in an empty message; the socket is closed before returning.
pub fn receive_segment_fd(path: &Path, timeout: Duration) -> Result<OwnedFd> {
    let err = |e: rustix::io::Errno| StatsError::Socket {
        path: path.to_path_buf(),
        source: e.into(),
    };
    let sock = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(err)?;
    // A timeout keeps a hung or half-started VPP from blocking us (vpp_stats.py notes a race).
    let t = Some(timeout.max(Duration::from_millis(1)));
    rustix::net::sockopt::set_socket_timeout(&sock, rustix::net::sockopt::Timeout::Recv, t)
        .map_err(err)?;
    let addr = SocketAddrUnix::new(path).map_err(err)?;
    rustix::net::connect(&sock, &addr).map_err(err)?;
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    rustix::net::recvmsg(
        &sock,
        &mut [IoSliceMut::new(&mut byte)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )
    .map_err(err)?;
    let mut fd = None;
    for msg in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = msg {
            for f in fds {
                // Keep the first, close any extra.
                if fd.is_none() {
                    fd = Some(f);
                }
            }
        }
    }
    fd.ok_or_else(|| StatsError::NoSegmentFd {
        path: path.to_path_buf(),
    })
}

/// Options of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The stats socket path (default [`DEFAULT_STATS_SOCKET`]).
    pub socket_path: PathBuf,
    /// Read options (busy timeout) of the mapped segment.
    pub read: ReadOptions,
    /// Receive timeout on the socket.
    pub connect_timeout: Duration,
    /// How often (at most) reads check whether VPP re-created its socket (a restart) by
    /// `stat`ing the socket path; `None` disables the automatic check ([`Client::reconnect`]
    /// and [`Client::check_restart`] still work). Default 1 s.
    pub restart_check_interval: Option<Duration>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            socket_path: PathBuf::from(DEFAULT_STATS_SOCKET),
            read: ReadOptions::default(),
            connect_timeout: Duration::from_secs(1),
            restart_check_interval: Some(Duration::from_secs(1)),
        }
    }
}

/// Identity of the socket file: device, inode and change time. The inode alone is not enough:
/// file systems reuse the number of a just-unlinked socket for the next one at the same path.
fn socket_identity(path: &Path) -> Option<(u64, u64, i64, i64)> {
    rustix::fs::stat(path).ok().map(|st| {
        let (dev, ino) = file_id(&st);
        #[allow(clippy::unnecessary_cast)] // the field types differ between targets
        let ctime = (st.st_ctime as i64, st.st_ctime_nsec as i64);
        (dev, ino, ctime.0, ctime.1)
    })
}

/// A stats client: the segment received from VPP's socket, re-mapped when VPP restarts.
///
/// Restart detection: VPP creates a new socket file and a new memfd when it starts. Every read
/// first (at most once per `restart_check_interval`) `stat`s the socket path; when the file's
/// identity (device, inode, change time) changed, the client connects again, and if the memfd
/// it gets is a different file than the mapped one (compared by device and inode, reliable
/// because our mapping keeps the old memfd alive) it maps the new segment. A read that finds the segment busy for the
/// whole timeout (e.g. VPP died while holding the lock) also checks for a restart and retries
/// once. [`StatHandle`]s re-resolve by themselves on the new segment.
#[derive(Debug)]
pub struct Client {
    opts: ClientOptions,
    seg: StatsSegment,
    socket_id: Option<(u64, u64, i64, i64)>,
    last_check: Instant,
    reconnects: u64,
}

impl Client {
    /// Connects to `path` with default options.
    pub fn connect(path: impl AsRef<Path>) -> Result<Self> {
        Self::with_options(ClientOptions {
            socket_path: path.as_ref().to_path_buf(),
            ..Default::default()
        })
    }

    /// Connects with `opts`.
    pub fn with_options(opts: ClientOptions) -> Result<Self> {
        let socket_id = socket_identity(&opts.socket_path);
        let fd = receive_segment_fd(&opts.socket_path, opts.connect_timeout)?;
        let seg = StatsSegment::from_fd(&fd)?.with_options(opts.read.clone());
        Ok(Self {
            opts,
            seg,
            socket_id,
            last_check: Instant::now(),
            reconnects: 0,
        })
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// How many times a new segment was mapped since `connect`.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// Connects again now; maps the received segment if it is not the one already mapped.
    /// Returns whether the segment changed.
    pub fn reconnect(&mut self) -> Result<bool> {
        let socket_id = socket_identity(&self.opts.socket_path);
        let fd = receive_segment_fd(&self.opts.socket_path, self.opts.connect_timeout)?;
        self.socket_id = socket_id;
        self.last_check = Instant::now();
        let st = rustix::fs::fstat(&fd).map_err(std::io::Error::from)?;
        if Some(file_id(&st)) == self.seg.file_identity() {
            return Ok(false);
        }
        self.seg = StatsSegment::from_fd(&fd)?.with_options(self.opts.read.clone());
        self.reconnects += 1;
        Ok(true)
    }

    /// Re-connects if the socket path now names another socket (VPP restarted). Returns whether
    /// a new segment was mapped. A missing socket (VPP down) is not an error here: the old
    /// segment stays mapped until VPP is back.
    pub fn check_restart(&mut self) -> Result<bool> {
        self.last_check = Instant::now();
        let now = socket_identity(&self.opts.socket_path);
        if now.is_none() || now == self.socket_id {
            return Ok(false);
        }
        self.reconnect()
    }

    /// The current segment, after the periodic restart check.
    pub fn segment(&mut self) -> Result<&StatsSegment> {
        if let Some(iv) = self.opts.restart_check_interval {
            if self.last_check.elapsed() >= iv {
                self.check_restart()?;
            }
        }
        Ok(&self.seg)
    }

    /// Runs `f` on the segment; on [`StatsError::Busy`] checks for a restart (re-mapping) and
    /// tries once more.
    pub fn with_segment<T>(&mut self, f: impl Fn(&StatsSegment) -> Result<T>) -> Result<T> {
        match f(self.segment()?) {
            Err(StatsError::Busy { .. }) if self.check_restart()? => f(&self.seg),
            r => r,
        }
    }

    /// See [`StatsSegment::ls`].
    pub fn ls(&mut self, patterns: &[&str]) -> Result<Vec<String>> {
        self.with_segment(|s| s.ls(patterns))
    }
    /// See [`StatsSegment::read`].
    pub fn read(&mut self, name: &str) -> Result<StatValue> {
        self.with_segment(|s| s.read(name))
    }
    /// See [`StatsSegment::dump`].
    pub fn dump(&mut self, patterns: &[&str]) -> Result<Vec<Entry>> {
        self.with_segment(|s| s.dump(patterns))
    }
    /// See [`StatsSegment::prepare`].
    pub fn prepare(&mut self, name: &str) -> Result<StatHandle> {
        self.with_segment(|s| s.prepare(name))
    }
    /// See [`StatsSegment::read_handle`].
    pub fn read_handle(&mut self, h: &mut StatHandle) -> Result<StatValue> {
        if let Some(iv) = self.opts.restart_check_interval {
            if self.last_check.elapsed() >= iv {
                self.check_restart()?;
            }
        }
        match self.seg.read_handle(h) {
            Err(StatsError::Busy { .. }) if self.check_restart()? => self.seg.read_handle(h),
            r => r,
        }
    }
    /// See [`StatsSegment::interface_counters`].
    pub fn interface_counters(&mut self) -> Result<InterfaceCounters> {
        self.with_segment(|s| s.interface_counters())
    }
    /// See [`StatsSegment::interface`].
    pub fn interface(&mut self, sw_if_index: u32) -> Result<InterfaceStats> {
        self.with_segment(|s| s.interface(sw_if_index))
    }
    /// See [`StatsSegment::interface_by_name`].
    pub fn interface_by_name(&mut self, name: &str) -> Result<InterfaceStats> {
        self.with_segment(|s| s.interface_by_name(name))
    }
    /// See [`crate::prometheus::render`].
    pub fn prometheus(&mut self, opts: &crate::prometheus::PrometheusOptions) -> Result<String> {
        self.with_segment(|s| crate::prometheus::render(s, opts))
    }
}
