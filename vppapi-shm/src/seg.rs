//! Safe layer over [`sys::Mapping`]: VPP-address translation with bounds checks, the shared
//! structure layouts (offsets derived from glibc's type sizes), and `svm_queue_t` operations.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::sys::{self, Lock, Mapping, Wait, COND_SIZE, MUTEX_SIZE};
use crate::ShmError;

// ---- svm_queue_t (spec 4.1): mutex, condvar, then eight 4-byte fields, then data ----
pub(crate) const Q_MUTEX: usize = 0;
pub(crate) const Q_COND: usize = MUTEX_SIZE;
pub(crate) const Q_HEAD: usize = MUTEX_SIZE + COND_SIZE;
pub(crate) const Q_TAIL: usize = Q_HEAD + 4;
pub(crate) const Q_CURSIZE: usize = Q_HEAD + 8;
pub(crate) const Q_MAXSIZE: usize = Q_HEAD + 12;
pub(crate) const Q_ELSIZE: usize = Q_HEAD + 16;
pub(crate) const Q_CONSUMER_PID: usize = Q_HEAD + 20;
pub(crate) const Q_PRODUCER_EVTFD: usize = Q_HEAD + 24;
pub(crate) const Q_CONSUMER_EVTFD: usize = Q_HEAD + 28;
/// `sizeof(svm_queue_t)`: 120 on x86-64.
pub(crate) const Q_HDR: usize = Q_HEAD + 32;
/// glibc's `__data.__kind` inside `pthread_mutex_t` (64-bit layouts: +16; 32-bit: +12).
#[cfg(target_pointer_width = "64")]
pub(crate) const MUTEX_KIND_OFF: usize = 16;
#[cfg(not(target_pointer_width = "64"))]
pub(crate) const MUTEX_KIND_OFF: usize = 12;
/// `PTHREAD_MUTEX_ROBUST_NORMAL_NP | PTHREAD_MUTEX_PSHARED_BIT`.
pub(crate) const MUTEX_KIND_ROBUST_PSHARED: u32 = 0x90;

// ---- msgbuf_t (spec 5.1) ----
pub(crate) const MB_Q: usize = 0;
pub(crate) const MB_LEN: usize = 8;
pub(crate) const MB_GC: usize = 12;
pub(crate) const MB_SIZE: usize = 16;

// ---- ring_alloc_t (spec 2.3) ----
pub(crate) const RA_RP: usize = 0;
pub(crate) const RA_SIZE: usize = 8;
pub(crate) const RA_NITEMS: usize = 10;
pub(crate) const RA_HITS: usize = 12;
pub(crate) const RA_MISSES: usize = 16;
pub(crate) const RA_SIZEOF: usize = 24;

// ---- vl_shmem_hdr_t ----
pub(crate) const H_VERSION: usize = 0;
pub(crate) const H_PID: usize = 4;
pub(crate) const H_INPUT_QUEUE: usize = 8;
pub(crate) const H_VL_RINGS: usize = 16;
pub(crate) const H_CLIENT_RINGS: usize = 24;
pub(crate) const H_GARBAGE_COLLECTS: usize = 40;
pub(crate) const H_CLIB_FILE_INDEX: usize = 44;
pub(crate) const H_SIZEOF: usize = 48;
pub(crate) const VL_SHM_VERSION: u32 = 2;

// ---- ssvm_shared_header_t (page 0) ----
pub(crate) const SSVM_HEAP: usize = 16;
pub(crate) const SSVM_VA: usize = 24;
pub(crate) const SSVM_SIZE: usize = 32;
pub(crate) const SSVM_SERVER_PID: usize = 40;
pub(crate) const SSVM_CLIENT_PID: usize = 44;
pub(crate) const SSVM_NAME: usize = 48;
pub(crate) const SSVM_READY: usize = 112;
pub(crate) const SSVM_TYPE: usize = 116;
pub(crate) const SSVM_TYPE_MEMFD: u32 = 1;

// ---- svm_region_t (at S+P) ----
pub(crate) const R_VERSION: usize = 0;
pub(crate) const R_MUTEX: usize = 8;
pub(crate) const R_COND: usize = 8 + MUTEX_SIZE;
pub(crate) const R_OWNER_PID: usize = 8 + MUTEX_SIZE + COND_SIZE;
pub(crate) const R_FLAGS: usize = R_OWNER_PID + 8;
pub(crate) const R_VIRTUAL_BASE: usize = R_FLAGS + 8;
pub(crate) const R_VIRTUAL_SIZE: usize = R_FLAGS + 16;
pub(crate) const R_REGION_HEAP: usize = R_FLAGS + 24;
pub(crate) const R_DATA_BASE: usize = R_FLAGS + 32;
pub(crate) const R_DATA_HEAP: usize = R_FLAGS + 40;
pub(crate) const R_USER_CTX: usize = R_FLAGS + 48;
pub(crate) const R_BITMAP_SIZE: usize = R_FLAGS + 56;
pub(crate) const R_BITMAP: usize = R_FLAGS + 64;
pub(crate) const R_REGION_NAME: usize = R_FLAGS + 72;
pub(crate) const R_CLIENT_PIDS: usize = R_FLAGS + 96;
pub(crate) const SVM_VERSION: u64 = 0x10001;

/// Lock waits that are not bounded by a caller's timeout (a peer holds a queue mutex only for a
/// few instructions; longer means it stalled or died).
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// The mapping plus "VPP's address" S and the segment size Z.
pub(crate) struct Seg {
    pub(crate) map: Mapping,
    /// S: VPP's base address (for a server segment: our own mapping address).
    pub(crate) base: u64,
    /// Z: `ssvm_size`, the bound of every translation (<= mapping length).
    pub(crate) size: u64,
}

impl Seg {
    /// Translate a VPP address range `[addr, addr+len)` into a mapping offset; `None` if any
    /// byte is outside `[S, S+Z)` or `addr` is not `align`-aligned.
    pub(crate) fn tr(&self, addr: u64, len: u64, align: u64) -> Option<usize> {
        let off = addr.checked_sub(self.base)?;
        let end = off.checked_add(len)?;
        if end > self.size || end > self.map.len() as u64 || addr % align.max(1) != 0 {
            return None;
        }
        Some(off as usize)
    }

    pub(crate) fn tr_err(
        &self,
        what: &str,
        addr: u64,
        len: u64,
        align: u64,
    ) -> Result<usize, ShmError> {
        self.tr(addr, len, align).ok_or_else(|| {
            layout(format!(
                "{what} at {addr:#x} (+{len:#x}) is outside the segment [{:#x}, {:#x}) or not {align}-aligned",
                self.base,
                self.base.wrapping_add(self.size)
            ))
        })
    }

    pub(crate) fn vaddr(&self, off: usize) -> u64 {
        self.base + off as u64
    }

    pub(crate) fn r32(&self, off: usize) -> u32 {
        self.map.load_u32(off, Ordering::Relaxed)
    }
    pub(crate) fn w32(&self, off: usize, v: u32) {
        self.map.store_u32(off, v, Ordering::Relaxed)
    }
    pub(crate) fn r64(&self, off: usize) -> u64 {
        self.map.load_u64(off, Ordering::Relaxed)
    }
    pub(crate) fn w64(&self, off: usize, v: u64) {
        self.map.store_u64(off, v, Ordering::Relaxed)
    }
    pub(crate) fn r16(&self, off: usize) -> u16 {
        let mut b = [0u8; 2];
        self.map.read(off, &mut b);
        u16::from_ne_bytes(b)
    }
    pub(crate) fn w16(&self, off: usize, v: u16) {
        self.map.write(off, &v.to_ne_bytes())
    }
}

pub(crate) fn layout(what: String) -> ShmError {
    ShmError::Layout { what }
}

/// A validated `svm_queue_t`: geometry cached at validation time, so later corruption of
/// `maxsize`/`elsize` in the segment cannot move our accesses outside its data area.
#[derive(Clone, Debug)]
pub(crate) struct Queue {
    pub(crate) name: &'static str,
    pub(crate) off: usize,
    pub(crate) addr: u64,
    pub(crate) maxsize: u32,
    pub(crate) elsize: u32,
}

/// Outcome of [`Queue::add`].
pub(crate) enum AddOutcome {
    Added,
    Full,
}

/// Holds a queue mutex; unlocks on drop.
pub(crate) struct Guard<'a> {
    seg: &'a Seg,
    q: &'a Queue,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.seg.map.mutex_unlock(self.q.off + Q_MUTEX);
    }
}

impl Queue {
    /// Check a queue header found at VPP address `addr`: inside, 8-aligned, `elsize` (and
    /// `maxsize` if given) as expected, data area inside, robust+pshared mutex kind.
    pub(crate) fn validate(
        seg: &Seg,
        name: &'static str,
        addr: u64,
        elsize: u32,
        maxsize: Option<u32>,
    ) -> Result<Queue, ShmError> {
        let off = seg.tr(addr, Q_HDR as u64, 8).ok_or_else(|| {
            layout(format!(
                "{name} at {addr:#x}: header outside the segment or misaligned"
            ))
        })?;
        let es = seg.r32(off + Q_ELSIZE);
        if es != elsize {
            return Err(layout(format!(
                "{name} at {addr:#x}: elsize {es}, expected {elsize}"
            )));
        }
        let ms = seg.r32(off + Q_MAXSIZE);
        if let Some(m) = maxsize {
            if ms != m {
                return Err(layout(format!(
                    "{name} at {addr:#x}: maxsize {ms}, expected {m}"
                )));
            }
        }
        if ms == 0 || ms > 1 << 24 {
            return Err(layout(format!(
                "{name} at {addr:#x}: maxsize {ms} is not usable"
            )));
        }
        let data_len = ms as u64 * es as u64;
        if seg.tr(addr + Q_HDR as u64, data_len, 1).is_none() {
            return Err(layout(format!(
                "{name} at {addr:#x}: data area of {ms} x {es} bytes runs past the segment end"
            )));
        }
        let kind = seg.r32(off + Q_MUTEX + MUTEX_KIND_OFF);
        if kind & MUTEX_KIND_ROBUST_PSHARED != MUTEX_KIND_ROBUST_PSHARED {
            return Err(layout(format!(
                "{name} at {addr:#x}: mutex kind {kind:#x}, expected pshared+robust (0x90)"
            )));
        }
        Ok(Queue {
            name,
            off,
            addr,
            maxsize: ms,
            elsize: es,
        })
    }

    /// Initialise a queue in place through libc (VPP's svm_queue_init): zeroed header,
    /// pshared+robust mutex, pshared condvar, evtfds -1.
    pub(crate) fn init(
        seg: &Seg,
        name: &'static str,
        off: usize,
        maxsize: u32,
        elsize: u32,
        consumer_pid: u32,
    ) -> Result<Queue, ShmError> {
        seg.map.zero(off, Q_HDR);
        seg.w32(off + Q_ELSIZE, elsize);
        seg.w32(off + Q_MAXSIZE, maxsize);
        seg.w32(off + Q_PRODUCER_EVTFD, u32::MAX);
        seg.w32(off + Q_CONSUMER_EVTFD, u32::MAX);
        seg.map
            .mutex_init(off + Q_MUTEX, true)
            .map_err(|source| ShmError::Io {
                what: "pthread_mutex_init (queue)",
                source,
            })?;
        seg.map
            .cond_init(off + Q_COND)
            .map_err(|source| ShmError::Io {
                what: "pthread_cond_init (queue)",
                source,
            })?;
        seg.w32(off + Q_CONSUMER_PID, consumer_pid);
        Ok(Queue {
            name,
            off,
            addr: seg.vaddr(off),
            maxsize,
            elsize,
        })
    }

    fn died(&self) -> ShmError {
        ShmError::PeerDied {
            what: format!("{} at {:#x}", self.name, self.addr),
        }
    }

    /// Lock with a deadline (`None`: a single trylock).
    pub(crate) fn lock<'a>(
        &'a self,
        seg: &'a Seg,
        timeout: Option<Duration>,
    ) -> Result<Guard<'a>, ShmError> {
        let r = match timeout {
            None => seg.map.mutex_trylock(self.off + Q_MUTEX),
            Some(t) => seg
                .map
                .mutex_timedlock(self.off + Q_MUTEX, &sys::realtime_deadline(t)),
        };
        match r {
            Lock::Locked => Ok(Guard { seg, q: self }),
            Lock::OwnerDied => {
                drop(Guard { seg, q: self });
                Err(self.died())
            }
            Lock::Timeout | Lock::Busy => Err(ShmError::Timeout {
                what: "queue mutex held by a stalled peer",
            }),
            Lock::Err(e) => Err(ShmError::Io {
                what: "pthread_mutex_lock (queue)",
                source: std::io::Error::from_raw_os_error(e),
            }),
        }
    }

    pub(crate) fn cursize(&self, seg: &Seg) -> u32 {
        seg.r32(self.off + Q_CURSIZE)
    }

    fn index(&self, seg: &Seg, field: usize) -> Result<u32, ShmError> {
        let v = seg.r32(self.off + field);
        if v >= self.maxsize {
            return Err(layout(format!(
                "{} at {:#x}: {} {v} out of range (maxsize {})",
                self.name,
                self.addr,
                if field == Q_HEAD { "head" } else { "tail" },
                self.maxsize
            )));
        }
        Ok(v)
    }

    /// Wait on the condvar while `cond(seg)` holds, until `deadline`. Returns false on timeout.
    /// `stop` is checked after each wake-up (for `wake()`).
    pub(crate) fn wait_while(
        &self,
        g: &Guard<'_>,
        deadline: Instant,
        mut cond: impl FnMut() -> bool,
        mut stop: impl FnMut() -> bool,
    ) -> Result<bool, ShmError> {
        while cond() {
            if stop() {
                return Ok(false);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let ts = sys::realtime_deadline(deadline - now);
            match g
                .seg
                .map
                .cond_timedwait(self.off + Q_COND, self.off + Q_MUTEX, &ts)
            {
                Wait::Woken | Wait::Timeout => {}
                Wait::OwnerDied => return Err(self.died()),
                Wait::Err(e) => {
                    return Err(ShmError::Io {
                        what: "pthread_cond_timedwait",
                        source: std::io::Error::from_raw_os_error(e),
                    })
                }
            }
        }
        Ok(true)
    }

    /// svm_queue_add under the held lock: full -> `Full` (the caller decides to wait).
    pub(crate) fn push_locked(&self, g: &Guard<'_>, elem: u64) -> Result<AddOutcome, ShmError> {
        let seg = g.seg;
        let cur = self.cursize(seg);
        if cur >= self.maxsize {
            return Ok(AddOutcome::Full);
        }
        let tail = self.index(seg, Q_TAIL)?;
        let slot = self.off + Q_HDR + tail as usize * self.elsize as usize;
        seg.map.write(slot, &elem.to_ne_bytes());
        seg.w32(self.off + Q_TAIL, (tail + 1) % self.maxsize);
        seg.map
            .store_u32(self.off + Q_CURSIZE, cur + 1, Ordering::Release);
        if cur + 1 == 1 {
            seg.map.cond_broadcast(self.off + Q_COND);
        }
        Ok(AddOutcome::Added)
    }

    /// Pop one 8-byte element under the held lock; `broadcast_at` is the cursize (before the pop)
    /// at which to broadcast: `maxsize` for sub, `maxsize/2` for sub2.
    pub(crate) fn pop_locked(
        &self,
        g: &Guard<'_>,
        broadcast_at: u32,
    ) -> Result<Option<u64>, ShmError> {
        let seg = g.seg;
        let cur = self.cursize(seg);
        if cur == 0 {
            return Ok(None);
        }
        if cur > self.maxsize {
            return Err(layout(format!(
                "{} at {:#x}: cursize {cur} > maxsize {}",
                self.name, self.addr, self.maxsize
            )));
        }
        let head = self.index(seg, Q_HEAD)?;
        let slot = self.off + Q_HDR + head as usize * self.elsize as usize;
        let mut b = [0u8; 8];
        seg.map.read(slot, &mut b);
        seg.w32(self.off + Q_HEAD, (head + 1) % self.maxsize);
        seg.map
            .store_u32(self.off + Q_CURSIZE, cur - 1, Ordering::Release);
        if cur == broadcast_at {
            seg.map.cond_broadcast(self.off + Q_COND);
        }
        Ok(Some(u64::from_ne_bytes(b)))
    }

    /// Add with a bounded wait while full (VPP's blocking add waits forever; we never do).
    /// `timeout == None` is the `nowait` form (trylock, full -> Full).
    pub(crate) fn add(
        &self,
        seg: &Seg,
        elem: u64,
        timeout: Option<Duration>,
    ) -> Result<AddOutcome, ShmError> {
        let start = Instant::now();
        let g = self.lock(seg, Some(timeout.unwrap_or(Duration::ZERO)))?;
        match self.push_locked(&g, elem)? {
            AddOutcome::Added => Ok(AddOutcome::Added),
            AddOutcome::Full => {
                let Some(t) = timeout else {
                    return Ok(AddOutcome::Full);
                };
                let room = self.wait_while(
                    &g,
                    start + t,
                    || self.cursize(seg) >= self.maxsize,
                    || false,
                )?;
                if !room {
                    return Ok(AddOutcome::Full);
                }
                self.push_locked(&g, elem)
            }
        }
    }

    pub(crate) fn broadcast(&self, seg: &Seg) {
        seg.map.cond_broadcast(self.off + Q_COND);
    }
}

/// A validated ring of `vl_rings` / `client_rings`.
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    /// Offset of its `ring_alloc_t`.
    pub(crate) ra_off: usize,
    pub(crate) q: Queue,
    /// Slot bytes (`ring_alloc_t.size` = config size + 24).
    pub(crate) size: u32,
    pub(crate) nitems: u32,
}

impl Ring {
    /// The slot (msgbuf) offset for slot index `i`.
    pub(crate) fn slot(&self, i: u32) -> usize {
        self.q.off + Q_HDR + i as usize * self.q.elsize as usize
    }

    pub(crate) fn bump(&self, seg: &Seg, field: usize) {
        let v = seg.r32(self.ra_off + field);
        seg.w32(self.ra_off + field, v.wrapping_add(1));
    }
}

/// Outcome of looking at one ring's head slot (spec 5.2).
pub(crate) enum SlotPick {
    Got(usize),
    Busy,
}

/// Spec 5.2 on one ring (caller holds the ring lock if it is a client): examine the head slot
/// only; busy -> gc mark / steal after 10 s / miss; else take it (q = rp, gc = 0, head++).
pub(crate) fn take_head_slot(seg: &Seg, r: &Ring, hdr_off: usize) -> Result<SlotPick, ShmError> {
    let head = seg.r32(r.q.off + Q_HEAD);
    if head >= r.nitems {
        return Err(layout(format!(
            "ring queue at {:#x}: head {head} >= nitems {}",
            r.q.addr, r.nitems
        )));
    }
    let slot = r.slot(head);
    let q = seg.map.load_u64(slot + MB_Q, Ordering::Acquire);
    if q != 0 {
        let gc = seg.r32(slot + MB_GC);
        let now = sys::unix_time();
        if gc == 0 {
            seg.w32(slot + MB_GC, now);
            r.bump(seg, RA_MISSES);
            return Ok(SlotPick::Busy);
        } else if now.wrapping_sub(gc) <= 10 {
            r.bump(seg, RA_MISSES);
            return Ok(SlotPick::Busy);
        }
        // steal (VPP: garbage_collects++)
        let g = seg.r32(hdr_off + H_GARBAGE_COLLECTS);
        seg.w32(hdr_off + H_GARBAGE_COLLECTS, g.wrapping_add(1));
    }
    r.bump(seg, RA_HITS);
    seg.w64(slot + MB_Q, r.q.addr);
    seg.w32(slot + MB_GC, 0);
    seg.w32(r.q.off + Q_HEAD, (head + 1) % r.nitems);
    Ok(SlotPick::Got(slot))
}

/// Read a ring vector (`vl_rings` or `client_rings`) at VPP address `vec` and validate each
/// ring's geometry against the expected (size+24, count) list.
pub(crate) fn read_rings(
    seg: &Seg,
    what: &'static str,
    vec: u64,
    expected: &[(u32, u32)],
) -> Result<Vec<Ring>, ShmError> {
    let hdr = seg.tr_err(&format!("{what} vector header"), vec.wrapping_sub(8), 8, 8)?;
    let len = seg.r32(hdr);
    if len as usize != expected.len() {
        return Err(layout(format!(
            "{what} vector at {vec:#x}: {len} rings, the config sent has {}",
            expected.len()
        )));
    }
    let data = seg.tr_err(
        &format!("{what} vector"),
        vec,
        len as u64 * RA_SIZEOF as u64,
        8,
    )?;
    let mut out = Vec::with_capacity(len as usize);
    for (i, &(size, nitems)) in expected.iter().enumerate() {
        let ra = data + i * RA_SIZEOF;
        let rs = seg.r16(ra + RA_SIZE) as u32;
        let rn = seg.r16(ra + RA_NITEMS) as u32;
        if rs != size || rn != nitems {
            return Err(layout(format!(
                "{what}[{i}] at {:#x}: size {rs} x {rn} items, expected {size} x {nitems}",
                seg.vaddr(ra)
            )));
        }
        if size < MB_SIZE as u32 + 8 || size % 8 != 0 {
            return Err(layout(format!("{what}[{i}]: slot size {size} unusable")));
        }
        let rp = seg.r64(ra + RA_RP);
        let q = Queue::validate(seg, what, rp, size, Some(nitems))?;
        out.push(Ring {
            ra_off: ra,
            q,
            size,
            nitems,
        });
    }
    Ok(out)
}
