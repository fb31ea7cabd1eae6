//! The client role: attach to the memfd VPP sent, validate, build the own queue, send through
//! CLIENT rings, receive, free, answer keepalives.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;

use crate::seg::*;
use crate::sys::{self, Mapping};
use crate::{
    effective_configs, ClientStats, Recv, RingConfig, RingKind, SendError, ShmError,
    MEMCLNT_KEEPALIVE_ID, MEMCLNT_KEEPALIVE_REPLY_ID, OWN_QUEUE_LEN, OWN_QUEUE_OFFSET,
};

/// Timed add used when handing a buffer back to VPP from the receive path (keepalive answer,
/// heap free): the receiver must never block long on VPP's input queue.
const GIVE_BACK_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Stats {
    sent: AtomicU64,
    received: AtomicU64,
    heap_frees: AtomicU64,
    keepalives: AtomicU64,
    foreign_dropped: AtomicU64,
    corrupt_dropped: AtomicU64,
    no_slot: AtomicU64,
}

fn inc(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// A client's view of a VPP API segment. `Send + Sync`: share it via `Arc` between one receive
/// thread and any number of senders.
pub struct ClientSegment {
    pub(crate) seg: Seg,
    _fd: OwnedFd,
    hdr_off: usize,
    /// Offset of the region's data heap: every message VPP hands over lives above it.
    data_base_off: usize,
    /// Queue headers (offset, name): a message overlapping one is refused, never written.
    headers: Vec<(usize, &'static str)>,
    vpp_pid: u32,
    pub(crate) input: Queue,
    pub(crate) own: Queue,
    pub(crate) vl_rings: Vec<Ring>,
    pub(crate) client_rings: Vec<Ring>,
    client_index: AtomicU32,
    wake_gen: AtomicU64,
    stats: Stats,
}

impl std::fmt::Debug for ClientSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSegment")
            .field("vpp_base", &format_args!("{:#x}", self.seg.base))
            .field("local_base", &format_args!("{:#x}", self.seg.map.addr()))
            .field("size", &self.seg.size)
            .field("vpp_pid", &self.vpp_pid)
            .finish_non_exhaustive()
    }
}

fn geometry(configs: &[RingConfig], kind: RingKind) -> Vec<(u32, u32)> {
    configs
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| (c.size + 24, c.count as u32))
        .collect()
}

impl ClientSegment {
    /// pread S/Z from page 0 @24, `mmap(NULL, file size, MAP_SHARED)` anywhere, delta = local − S,
    /// validate everything of spec section 3 against `configs` (the config that was sent; empty =
    /// VPP's defaults), locate hdr / vl_input_queue / vl_rings / client_rings, build the own
    /// input queue in page 0 at S+0x80 (480 entries, pshared+robust mutex, pshared cond, elsize 8,
    /// consumer_pid = getpid(), evtfds −1), write client_pid at page 0 @44.
    pub fn attach(fd: OwnedFd, configs: &[RingConfig]) -> Result<ClientSegment, ShmError> {
        let configs = effective_configs(configs);
        let page = sys::page_size() as u64;
        let mut b = [0u8; 16];
        sys::pread_exact(fd.as_fd(), &mut b, SSVM_VA as u64).map_err(|source| ShmError::Io {
            what: "pread of the segment header",
            source,
        })?;
        let s = u64::from_ne_bytes(b[..8].try_into().unwrap_or_default());
        let z = u64::from_ne_bytes(b[8..].try_into().unwrap_or_default());
        let fsize = sys::file_size(fd.as_fd()).map_err(|source| ShmError::Io {
            what: "fstat of the memfd",
            source,
        })?;
        if s == 0 || s % page != 0 {
            return Err(layout(format!(
                "ssvm_va {s:#x} is not a page-aligned address"
            )));
        }
        if z > fsize || z < 2 * page + 0x1000 {
            return Err(layout(format!(
                "ssvm_size {z:#x} does not fit the memfd of {fsize:#x} bytes (or is too small)"
            )));
        }
        if s.checked_add(z).is_none() {
            return Err(layout(format!(
                "ssvm_va {s:#x} + ssvm_size {z:#x} overflows"
            )));
        }
        let map =
            Mapping::map_shared(fd.as_fd(), fsize as usize).map_err(|source| ShmError::Io {
                what: "mmap of the segment",
                source,
            })?;
        let seg = Seg {
            map,
            base: s,
            size: z,
        };

        // page 0
        let ty = seg.r32(SSVM_TYPE);
        let ready = seg.r32(SSVM_READY);
        if ty != SSVM_TYPE_MEMFD || ready != 1 {
            return Err(layout(format!(
                "ssvm header: type {ty}, ready {ready}; expected a ready memfd segment (1, 1)"
            )));
        }
        // region at S+P
        let p = page as usize;
        let version = seg.r64(p + R_VERSION);
        if version != SVM_VERSION {
            return Err(layout(format!(
                "svm_region_t at {:#x}: version {version:#x}, expected {SVM_VERSION:#x}",
                s + page
            )));
        }
        let vb = seg.r64(p + R_VIRTUAL_BASE);
        let vs = seg.r64(p + R_VIRTUAL_SIZE);
        if vb != s + page || vs != z - page {
            return Err(layout(format!(
                "svm_region_t: virtual_base {vb:#x} / virtual_size {vs:#x}, expected {:#x} / {:#x}",
                s + page,
                z - page
            )));
        }
        let data_base = seg.r64(p + R_DATA_BASE);
        if data_base < s + 2 * page || data_base >= s + z {
            return Err(layout(format!(
                "svm_region_t: data_base {data_base:#x} outside [{:#x}, {:#x})",
                s + 2 * page,
                s + z
            )));
        }
        let user_ctx = seg.r64(p + R_USER_CTX);
        let hdr_off = seg.tr_err(
            "vl_shmem_hdr_t (region user_ctx)",
            user_ctx,
            H_SIZEOF as u64,
            8,
        )?;
        let hv = seg.r32(hdr_off + H_VERSION);
        if hv != VL_SHM_VERSION {
            return Err(layout(format!(
                "vl_shmem_hdr_t at {user_ctx:#x}: version {hv}, expected {VL_SHM_VERSION}"
            )));
        }
        let vpp_pid = seg.r32(hdr_off + H_PID);
        let qcount = configs
            .iter()
            .rfind(|c| c.kind == RingKind::Queue)
            .map(|c| c.count as u32);
        let input = Queue::validate(
            &seg,
            "vl_input_queue",
            seg.r64(hdr_off + H_INPUT_QUEUE),
            8,
            qcount,
        )?;
        let vl_rings = read_rings(
            &seg,
            "vl_rings",
            seg.r64(hdr_off + H_VL_RINGS),
            &geometry(&configs, RingKind::Vlib),
        )?;
        let client_rings = read_rings(
            &seg,
            "client_rings",
            seg.r64(hdr_off + H_CLIENT_RINGS),
            &geometry(&configs, RingKind::Client),
        )?;
        if client_rings.is_empty() || vl_rings.is_empty() {
            return Err(layout("the segment has no VLIB or no CLIENT ring".into()));
        }

        // own queue in page 0
        let own_off = OWN_QUEUE_OFFSET as usize;
        let fit = ((page as usize - own_off - Q_HDR) / 8) as u32;
        let own = Queue::init(
            &seg,
            "own input queue",
            own_off,
            OWN_QUEUE_LEN.min(fit),
            8,
            sys::getpid(),
        )?;
        seg.w32(SSVM_CLIENT_PID, sys::getpid());
        let headers = [(&input, "vl_input_queue"), (&own, "own input queue")]
            .into_iter()
            .chain(vl_rings.iter().map(|r| (&r.q, "a vl_rings queue")))
            .chain(client_rings.iter().map(|r| (&r.q, "a client_rings queue")))
            .map(|(q, n)| (q.off, n))
            .collect();

        Ok(ClientSegment {
            seg,
            _fd: fd,
            hdr_off,
            data_base_off: (data_base - s) as usize,
            headers,
            vpp_pid,
            input,
            own,
            vl_rings,
            client_rings,
            client_index: AtomicU32::new(0),
            wake_gen: AtomicU64::new(0),
            stats: Stats::default(),
        })
    }

    /// S, VPP's base address.
    pub fn vpp_base(&self) -> u64 {
        self.seg.base
    }

    /// Z, the segment size.
    pub fn size(&self) -> u64 {
        self.seg.size
    }

    /// Where this process mapped the segment (local = VPP address + delta).
    pub fn local_base(&self) -> u64 {
        self.seg.map.addr()
    }

    /// `vl_shmem_hdr.vl_pid`.
    pub fn vpp_pid(&self) -> u32 {
        self.vpp_pid
    }

    /// S + 0x80: the VPP address to put in `memclnt_create(_v2).input_queue`.
    pub fn own_queue_addr(&self) -> u64 {
        self.own.addr
    }

    /// Entries of the own queue.
    pub fn own_queue_len(&self) -> u32 {
        self.own.maxsize
    }

    /// VPP address of VPP's input queue in this segment.
    pub fn input_queue_addr(&self) -> u64 {
        self.input.addr
    }

    /// Largest body that fits a CLIENT slot (ring size + 8 = slot − 16).
    pub fn max_request_body(&self) -> usize {
        self.client_rings
            .iter()
            .map(|r| r.size as usize - MB_SIZE)
            .max()
            .unwrap_or(0)
    }

    /// Sum of CLIENT ring counts (the bound on requests in flight).
    pub fn client_slots(&self) -> usize {
        self.client_rings.iter().map(|r| r.nitems as usize).sum()
    }

    /// After `memclnt_create(_v2)_reply`: the raw 4 index bytes (the context of the
    /// keepalive-reply free trick, spec 5.3).
    pub fn set_client_index(&self, raw: [u8; 4]) {
        self.client_index
            .store(u32::from_ne_bytes(raw), Ordering::Relaxed);
    }

    /// Allocate a CLIENT ring slot (spec 5.2, under the ring's mutex, head slot only, gc rules),
    /// copy `body` (from `_vl_msg_id`), set q / data_len (BE) / gc = 0, enqueue the body's VPP
    /// address to VPP's `vl_input_queue` (waiting at most `full_wait` while it is full, broadcast
    /// when cursize becomes 1). Never blocks longer than `full_wait` (plus a bounded lock wait).
    pub fn try_send(&self, body: &[u8], full_wait: Duration) -> Result<(), SendError> {
        let need = body.len() + MB_SIZE;
        let max = self.max_request_body();
        if body.is_empty() || body.len() > max {
            return Err(SendError::TooLarge {
                len: body.len(),
                max,
            });
        }
        let mut slot = None;
        for r in self.client_rings.iter().filter(|r| r.size as usize >= need) {
            let g = r.q.lock(&self.seg, Some(LOCK_TIMEOUT))?;
            let pick = take_head_slot(&self.seg, r, self.hdr_off)?;
            drop(g);
            if let SlotPick::Got(off) = pick {
                slot = Some(off);
                break;
            }
        }
        let Some(off) = slot else {
            inc(&self.stats.no_slot);
            return Err(SendError::NoSlot);
        };
        self.seg.map.write(off + MB_SIZE, body);
        self.seg.w32(off + MB_LEN, (body.len() as u32).to_be());
        let addr = self.seg.vaddr(off + MB_SIZE);
        let res = self.input.add(&self.seg, addr, Some(full_wait));
        match res {
            Ok(AddOutcome::Added) => {
                inc(&self.stats.sent);
                Ok(())
            }
            Ok(AddOutcome::Full) => {
                self.release_slot(off);
                Err(SendError::InputQueueFull)
            }
            Err(e) => {
                self.release_slot(off);
                Err(e.into())
            }
        }
    }

    fn release_slot(&self, off: usize) {
        self.seg.w32(off + MB_GC, 0);
        self.seg.map.store_u64(off + MB_Q, 0, Ordering::Release);
    }

    /// Wait up to `timeout` on the own queue, pop one address and handle it: foreign →
    /// [`Recv::Foreign`]; bad msgbuf → [`Recv::Corrupt`] (slot not written); keepalive → answered
    /// in place ([`Recv::Keepalive`]); otherwise the body is appended to `out` and the buffer
    /// freed (ring: `q = 0`; heap: the keepalive-reply trick).
    pub fn recv_into(&self, out: &mut BytesMut, timeout: Duration) -> Result<Recv, ShmError> {
        let gen = self.wake_gen.load(Ordering::Acquire);
        let deadline = Instant::now() + timeout;
        let elem = {
            let g = self.own.lock(&self.seg, Some(timeout.max(LOCK_TIMEOUT)))?;
            self.own.wait_while(
                &g,
                deadline,
                || self.own.cursize(&self.seg) == 0,
                || self.wake_gen.load(Ordering::Acquire) != gen,
            )?;
            self.own.pop_locked(&g, self.own.maxsize)?
        };
        match elem {
            None => Ok(Recv::Empty),
            Some(a) => self.handle(a, out),
        }
    }

    /// Non-blocking form of [`recv_into`](Self::recv_into) (for draining).
    pub fn try_recv_into(&self, out: &mut BytesMut) -> Result<Recv, ShmError> {
        let elem = {
            let g = self.own.lock(&self.seg, Some(LOCK_TIMEOUT))?;
            self.own.pop_locked(&g, self.own.maxsize)?
        };
        match elem {
            None => Ok(Recv::Empty),
            Some(a) => self.handle(a, out),
        }
    }

    fn corrupt(&self, what: String) -> Result<Recv, ShmError> {
        inc(&self.stats.corrupt_dropped);
        Ok(Recv::Corrupt(what))
    }

    fn is_ring_queue(&self, q: u64) -> bool {
        self.vl_rings
            .iter()
            .chain(self.client_rings.iter())
            .any(|r| r.q.addr == q)
    }

    fn handle(&self, a: u64, out: &mut BytesMut) -> Result<Recv, ShmError> {
        let Some(mb) = a
            .checked_sub(MB_SIZE as u64)
            .and_then(|m| self.seg.tr(m, MB_SIZE as u64 + 2, 1))
        else {
            // the msgbuf and the message id must be inside [S, S+Z)
            inc(&self.stats.foreign_dropped);
            return Ok(Recv::Foreign(a));
        };
        if a % 8 != 0 {
            return self.corrupt(format!("message at {a:#x} is not 8-aligned"));
        }
        let q = self.seg.map.load_u64(mb + MB_Q, Ordering::Acquire);
        let len = u32::from_be(self.seg.map.load_u32(mb + MB_LEN, Ordering::Acquire));
        if len == 0 {
            return self.corrupt(format!("message at {a:#x}: data_len 0"));
        }
        let Some(body) = self.seg.tr(a, len as u64, 1) else {
            return self.corrupt(format!(
                "message at {a:#x}: data_len {len} runs past the segment end"
            ));
        };
        if mb < self.data_base_off {
            return self.corrupt(format!(
                "message at {a:#x} is below the data heap (VPP allocates none there)"
            ));
        }
        if let Some((_, name)) = self
            .headers
            .iter()
            .find(|(h, _)| mb < h + Q_HDR && *h < body + len as usize)
        {
            return self.corrupt(format!(
                "message at {a:#x} (+{len}) overlaps the header of {name}"
            ));
        }
        if q != 0 && !self.is_ring_queue(q) {
            return self.corrupt(format!(
                "message at {a:#x}: msgbuf.q {q:#x} names no ring of this segment"
            ));
        }
        let mut idb = [0u8; 2];
        if len >= 2 {
            self.seg.map.read(body, &mut idb);
        }
        let id = u16::from_be_bytes(idb);
        if id == MEMCLNT_KEEPALIVE_ID && len >= 10 {
            // spec 7: id 22, @2 = old @6 (context), @6 = retval 0; enqueue frees it.
            let mut ctx = [0u8; 4];
            self.seg.map.read(body + 6, &mut ctx);
            self.seg
                .map
                .write(body, &MEMCLNT_KEEPALIVE_REPLY_ID.to_be_bytes());
            self.seg.map.write(body + 2, &ctx);
            self.seg.map.write(body + 6, &[0; 4]);
            self.give_back(a)?;
            inc(&self.stats.keepalives);
            return Ok(Recv::Keepalive);
        }
        if q == 0 && len < 6 {
            // A heap buffer too short to be turned into a keepalive_reply: not a VPP message.
            return self.corrupt(format!(
                "heap message at {a:#x}: data_len {len} too short to hand back"
            ));
        }
        let start = out.len();
        out.resize(start + len as usize, 0);
        self.seg.map.read(body, &mut out[start..]);
        if q != 0 {
            self.release_slot(mb);
        } else {
            // spec 5.3: heap buffer -> memclnt_keepalive_reply with context = own index; q and
            // data_len stay untouched.
            let idx = self.client_index.load(Ordering::Relaxed).to_ne_bytes();
            self.seg
                .map
                .write(body, &MEMCLNT_KEEPALIVE_REPLY_ID.to_be_bytes());
            self.seg.map.write(body + 2, &idx);
            self.give_back(a)?;
            inc(&self.stats.heap_frees);
        }
        inc(&self.stats.received);
        Ok(Recv::Message(len as usize))
    }

    fn give_back(&self, a: u64) -> Result<(), ShmError> {
        match self.input.add(&self.seg, a, Some(GIVE_BACK_TIMEOUT))? {
            AddOutcome::Added => Ok(()),
            AddOutcome::Full => Err(ShmError::Timeout {
                what: "VPP's input queue stayed full while handing a buffer back",
            }),
        }
    }

    /// Wake a thread blocked in [`recv_into`](Self::recv_into) (it returns [`Recv::Empty`]).
    pub fn wake(&self) {
        self.wake_gen.fetch_add(1, Ordering::AcqRel);
        if let Ok(g) = self.own.lock(&self.seg, Some(LOCK_TIMEOUT)) {
            self.own.broadcast(&self.seg);
            drop(g);
        } else {
            self.own.broadcast(&self.seg);
        }
    }

    /// Whether VPP (the server pid) is alive: `kill(pid, 0)`.
    pub fn vpp_alive(&self) -> bool {
        sys::process_alive(self.vpp_pid)
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        let s = &self.stats;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClientStats {
            sent: l(&s.sent),
            received: l(&s.received),
            heap_frees: l(&s.heap_frees),
            keepalives: l(&s.keepalives),
            foreign_dropped: l(&s.foreign_dropped),
            corrupt_dropped: l(&s.corrupt_dropped),
            no_slot: l(&s.no_slot),
        }
    }

    /// Per CLIENT ring: (VPP address of its queue, slot size, nitems, head) — for diagnostics.
    pub fn client_ring_heads(&self) -> Vec<(u64, u32, u32, u32)> {
        self.client_rings
            .iter()
            .map(|r| (r.q.addr, r.size, r.nitems, self.seg.r32(r.q.off + Q_HEAD)))
            .collect()
    }

    /// Per VLIB ring: (VPP address of its queue, slot size, nitems).
    pub fn vlib_rings(&self) -> Vec<(u64, u32, u32)> {
        self.vl_rings
            .iter()
            .map(|r| (r.q.addr, r.size, r.nitems))
            .collect()
    }

    /// Copy `len` bytes at VPP address `addr` (bounds-checked): for tests and diagnostics.
    pub fn read_vpp(&self, addr: u64, len: usize) -> Result<Vec<u8>, ShmError> {
        let off = self.seg.tr_err("read", addr, len as u64, 1)?;
        let mut v = vec![0; len];
        self.seg.map.read(off, &mut v);
        Ok(v)
    }
}
