//! Every `unsafe` of the crate: the mapping, bounds-checked raw access to it, glibc's
//! process-shared mutex/condvar called through `libc`, memfd and `SCM_RIGHTS` plumbing.
//!
//! Rules kept here: no Rust reference (`&T`, `&[u8]`) is ever formed to the shared mapping; every
//! access goes through a raw pointer computed from an offset that is checked against the mapping
//! length right here (a failed check is an internal bug and panics, it never reads outside);
//! fields another process changes without a lock are accessed with `Atomic*::from_ptr`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Size of glibc's `pthread_mutex_t` (40 on x86-64, 48 on aarch64).
pub(crate) const MUTEX_SIZE: usize = std::mem::size_of::<libc::pthread_mutex_t>();
/// Size of glibc's `pthread_cond_t` (48).
pub(crate) const COND_SIZE: usize = std::mem::size_of::<libc::pthread_cond_t>();

/// A `MAP_SHARED` read/write mapping of a whole file.
pub(crate) struct Mapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory that is meant to be accessed concurrently (by other
// processes as well); this type only hands out copies and atomic accesses, never references, and
// the pointer stays valid until Drop, which needs `&mut self`.
unsafe impl Send for Mapping {}
// SAFETY: see `Send`: all methods take `&self` and do raw/atomic accesses only.
unsafe impl Sync for Mapping {}

/// Outcome of a lock attempt.
pub(crate) enum Lock {
    Locked,
    /// The previous owner died holding it; it was made consistent and IS held now.
    OwnerDied,
    Timeout,
    Busy,
    Err(i32),
}

/// Outcome of a condvar wait (the mutex is held again in every case but `Err`).
pub(crate) enum Wait {
    Woken,
    Timeout,
    /// The mutex owner died while we waited; it was made consistent and is held.
    OwnerDied,
    Err(i32),
}

impl Mapping {
    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`.
    pub(crate) fn map_shared(fd: BorrowedFd<'_>, len: usize) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty mapping"));
        }
        // SAFETY: a fresh mapping at a kernel-chosen address; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr: p.cast(), len })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The local address of the mapping (what "delta" is computed from).
    pub(crate) fn addr(&self) -> u64 {
        self.ptr as usize as u64
    }

    #[inline]
    fn at(&self, off: usize, n: usize, align: usize) -> *mut u8 {
        assert!(
            off.checked_add(n).is_some_and(|e| e <= self.len) && off % align == 0,
            "internal bug: access {off:#x}+{n} (align {align}) outside a mapping of {:#x}",
            self.len
        );
        // SAFETY: off + n <= len was checked just above, so the pointer stays inside the mapping.
        unsafe { self.ptr.add(off) }
    }

    /// Copy `dst.len()` bytes out of the mapping.
    pub(crate) fn read(&self, off: usize, dst: &mut [u8]) {
        let p = self.at(off, dst.len(), 1);
        // SAFETY: the source range is inside the mapping (checked by `at`), the destination is a
        // private buffer, they cannot overlap; a concurrent writer can only make the copy stale.
        unsafe { std::ptr::copy_nonoverlapping(p, dst.as_mut_ptr(), dst.len()) }
    }

    /// Copy `src` into the mapping.
    pub(crate) fn write(&self, off: usize, src: &[u8]) {
        let p = self.at(off, src.len(), 1);
        // SAFETY: the destination range is inside the mapping (checked by `at`); `src` is private.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), p, src.len()) }
    }

    /// Zero `n` bytes.
    pub(crate) fn zero(&self, off: usize, n: usize) {
        let p = self.at(off, n, 1);
        // SAFETY: the range is inside the mapping (checked by `at`).
        unsafe { std::ptr::write_bytes(p, 0, n) }
    }

    pub(crate) fn load_u32(&self, off: usize, o: Ordering) -> u32 {
        let p = self.at(off, 4, 4);
        // SAFETY: in bounds and 4-aligned (checked); the memory lives as long as `self` and is
        // only ever accessed atomically or by other processes.
        unsafe { AtomicU32::from_ptr(p.cast()) }.load(o)
    }

    pub(crate) fn store_u32(&self, off: usize, v: u32, o: Ordering) {
        let p = self.at(off, 4, 4);
        // SAFETY: as in `load_u32`.
        unsafe { AtomicU32::from_ptr(p.cast()) }.store(v, o)
    }

    pub(crate) fn load_u64(&self, off: usize, o: Ordering) -> u64 {
        let p = self.at(off, 8, 8);
        // SAFETY: in bounds and 8-aligned (checked); see `load_u32`.
        unsafe { AtomicU64::from_ptr(p.cast()) }.load(o)
    }

    pub(crate) fn store_u64(&self, off: usize, v: u64, o: Ordering) {
        let p = self.at(off, 8, 8);
        // SAFETY: as in `load_u64`.
        unsafe { AtomicU64::from_ptr(p.cast()) }.store(v, o)
    }

    fn mutex(&self, off: usize) -> *mut libc::pthread_mutex_t {
        self.at(off, MUTEX_SIZE, 8).cast()
    }

    fn cond(&self, off: usize) -> *mut libc::pthread_cond_t {
        self.at(off, COND_SIZE, 8).cast()
    }

    /// `pthread_mutex_init` with a process-shared attribute, robust if asked (the queue mutexes
    /// of VPP are pshared + robust, `__kind` 0x90; the region mutex is pshared only, 0x80).
    pub(crate) fn mutex_init(&self, off: usize, robust: bool) -> io::Result<()> {
        let m = self.mutex(off);
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::zeroed();
        // SAFETY: attr is a local, initialised by pthread_mutexattr_init before any other use and
        // destroyed at the end; `m` points to MUTEX_SIZE bytes inside the mapping (checked).
        let rc = unsafe {
            let a = attr.as_mut_ptr();
            let mut rc = libc::pthread_mutexattr_init(a);
            if rc == 0 {
                rc = libc::pthread_mutexattr_setpshared(a, libc::PTHREAD_PROCESS_SHARED);
            }
            if rc == 0 && robust {
                rc = libc::pthread_mutexattr_setrobust(a, libc::PTHREAD_MUTEX_ROBUST);
            }
            if rc == 0 {
                rc = libc::pthread_mutex_init(m, a);
            }
            libc::pthread_mutexattr_destroy(a);
            rc
        };
        errno_result(rc)
    }

    /// `pthread_cond_init` with a process-shared attribute (clock: CLOCK_REALTIME, as VPP's).
    pub(crate) fn cond_init(&self, off: usize) -> io::Result<()> {
        let c = self.cond(off);
        let mut attr = std::mem::MaybeUninit::<libc::pthread_condattr_t>::zeroed();
        // SAFETY: attr is a local initialised by pthread_condattr_init and destroyed after use;
        // `c` points to COND_SIZE bytes inside the mapping (checked).
        let rc = unsafe {
            let a = attr.as_mut_ptr();
            let mut rc = libc::pthread_condattr_init(a);
            if rc == 0 {
                rc = libc::pthread_condattr_setpshared(a, libc::PTHREAD_PROCESS_SHARED);
            }
            if rc == 0 {
                rc = libc::pthread_cond_init(c, a);
            }
            libc::pthread_condattr_destroy(a);
            rc
        };
        errno_result(rc)
    }

    fn lock_result(&self, off: usize, rc: i32) -> Lock {
        match rc {
            0 => Lock::Locked,
            libc::EOWNERDEAD => {
                // SAFETY: we hold the mutex (EOWNERDEAD means acquired); marking it consistent is
                // what VPP's svm_queue_lock does too.
                unsafe { libc::pthread_mutex_consistent(self.mutex(off)) };
                Lock::OwnerDied
            }
            libc::ETIMEDOUT => Lock::Timeout,
            libc::EBUSY => Lock::Busy,
            e => Lock::Err(e),
        }
    }

    /// `pthread_mutex_timedlock` with an absolute CLOCK_REALTIME deadline.
    pub(crate) fn mutex_timedlock(&self, off: usize, deadline: &libc::timespec) -> Lock {
        let m = self.mutex(off);
        // SAFETY: `m` points to a mutex inside the mapping (checked); `deadline` is a valid local.
        let rc = unsafe { libc::pthread_mutex_timedlock(m, deadline) };
        self.lock_result(off, rc)
    }

    pub(crate) fn mutex_trylock(&self, off: usize) -> Lock {
        let m = self.mutex(off);
        // SAFETY: `m` points to a mutex inside the mapping (checked).
        let rc = unsafe { libc::pthread_mutex_trylock(m) };
        self.lock_result(off, rc)
    }

    pub(crate) fn mutex_unlock(&self, off: usize) {
        let m = self.mutex(off);
        // SAFETY: called only by a guard that holds this mutex.
        unsafe { libc::pthread_mutex_unlock(m) };
    }

    /// `pthread_cond_timedwait` (absolute CLOCK_REALTIME); the mutex at `mutex_off` must be held.
    pub(crate) fn cond_timedwait(
        &self,
        cond_off: usize,
        mutex_off: usize,
        deadline: &libc::timespec,
    ) -> Wait {
        let c = self.cond(cond_off);
        let m = self.mutex(mutex_off);
        // SAFETY: both objects are inside the mapping (checked); the caller holds the mutex.
        let rc = unsafe { libc::pthread_cond_timedwait(c, m, deadline) };
        match rc {
            0 => Wait::Woken,
            libc::ETIMEDOUT => Wait::Timeout,
            libc::EOWNERDEAD => {
                // SAFETY: the mutex is held again (EOWNERDEAD on reacquisition).
                unsafe { libc::pthread_mutex_consistent(m) };
                Wait::OwnerDied
            }
            e => Wait::Err(e),
        }
    }

    pub(crate) fn cond_broadcast(&self, cond_off: usize) {
        let c = self.cond(cond_off);
        // SAFETY: the condvar is inside the mapping (checked).
        unsafe { libc::pthread_cond_broadcast(c) };
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len come from a successful mmap and nothing uses them after Drop.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn errno_result(rc: i32) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Absolute CLOCK_REALTIME time `d` from now (what glibc's pshared timed waits take).
pub(crate) fn realtime_deadline(d: Duration) -> libc::timespec {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid local out-parameter.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    let d = d.min(Duration::from_secs(365 * 24 * 3600));
    let mut sec = now.tv_sec + d.as_secs() as libc::time_t;
    let mut nsec = now.tv_nsec + d.subsec_nanos() as libc::c_long;
    if nsec >= 1_000_000_000 {
        sec += 1;
        nsec -= 1_000_000_000;
    }
    libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    }
}

/// Seconds since the epoch, as VPP's `time(0)` for `gc_mark_timestamp`.
pub(crate) fn unix_time() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

pub(crate) fn getpid() -> u32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() as u32 }
}

/// `kill(pid, 0)`: true if the process exists (EPERM counts as existing).
pub(crate) fn process_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

pub(crate) fn pread_exact(fd: BorrowedFd<'_>, buf: &mut [u8], off: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is a valid writable private buffer of rest.len() bytes.
        let n = unsafe {
            libc::pread(
                fd.as_raw_fd(),
                rest.as_mut_ptr().cast(),
                rest.len(),
                (off + done as u64) as libc::off_t,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        done += n as usize;
    }
    Ok(())
}

/// `memfd_create(name, MFD_CLOEXEC|MFD_ALLOW_SEALING)`, `F_SEAL_SHRINK`, `ftruncate(size)`.
pub(crate) fn memfd_sealed(name: &str, size: u64) -> io::Result<OwnedFd> {
    let cname = std::ffi::CString::new(name.replace('\0', "_"))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: cname is a valid NUL-terminated string.
    let fd =
        unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: plain fcntl/ftruncate on our own descriptor.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_SHRINK) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    let rc = unsafe { libc::ftruncate(fd.as_raw_fd(), size as libc::off_t) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Create a memfd holding `bytes` (zero-extended to `size`): used by the fixture tests.
pub(crate) fn memfd_with(name: &str, bytes: &[u8], size: u64) -> io::Result<OwnedFd> {
    let fd = memfd_sealed(name, size)?;
    let mut done = 0;
    while done < bytes.len() {
        let rest = &bytes[done..];
        // SAFETY: `rest` is a valid readable buffer.
        let n = unsafe {
            libc::pwrite(
                fd.as_raw_fd(),
                rest.as_ptr().cast(),
                rest.len(),
                done as libc::off_t,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        done += n as usize;
    }
    Ok(fd)
}

pub(crate) fn file_size(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: st is a valid out-parameter.
    let rc = unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstat succeeded and filled it.
    Ok(unsafe { st.assume_init() }.st_size as u64)
}

/// Control buffer: room for several SCM_RIGHTS fds plus credentials (`CMSG_SPACE(4) +
/// CMSG_SPACE(12)` is the minimum the spec asks for), u64-aligned as cmsghdr needs.
const CMSG_BUF_WORDS: usize = 32;

pub(crate) fn recv_with_fd(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, Option<OwnedFd>)> {
    let mut cbuf = [0u64; CMSG_BUF_WORDS];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    loop {
        // SAFETY: msghdr is plain data; zeroed is a valid "empty" value we then fill.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
        // SAFETY: msg points to a valid iovec (the caller's buffer) and a private control buffer.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut first: Option<OwnedFd> = None;
        // SAFETY: CMSG_FIRSTHDR/NXTHDR walk the control buffer the kernel just filled, bounded by
        // msg_controllen; each SCM_RIGHTS payload holds (cmsg_len - CMSG_LEN(0)) / 4 fds, which
        // are fresh descriptors owned by us from now on (read unaligned to be safe).
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(c);
                    let bytes = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                    for i in 0..bytes / 4 {
                        let fd: i32 = std::ptr::read_unaligned(data.add(i * 4).cast());
                        let owned = OwnedFd::from_raw_fd(fd);
                        if first.is_none() {
                            first = Some(owned);
                        } // else: dropped = closed
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        return Ok((n as usize, first));
    }
}

pub(crate) fn send_with_fd(
    sock: BorrowedFd<'_>,
    bytes: &[u8],
    fd: BorrowedFd<'_>,
) -> io::Result<usize> {
    let mut cbuf = [0u64; CMSG_BUF_WORDS];
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    loop {
        // SAFETY: msghdr is plain data; we fill iov (read-only use by sendmsg) and a control
        // buffer big enough for CMSG_SPACE(4) (checked: CMSG_SPACE(4) <= 256 bytes).
        let n = unsafe {
            let space = libc::CMSG_SPACE(4) as usize;
            assert!(space <= std::mem::size_of_val(&cbuf));
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = cbuf.as_mut_ptr().cast();
            msg.msg_controllen = space as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>(), fd.as_raw_fd());
            libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(n as usize);
    }
}
