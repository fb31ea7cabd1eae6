//! The server role: what VPP 26.06 builds in the memfd and how it uses it (for the simulator).

use std::collections::HashSet;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::heap::{DlHeap, VecModel};
use crate::seg::*;
use crate::sys::{self, Mapping};
use crate::{
    check_configs, effective_configs, AllocStats, QueueState, Request, RingConfig, RingKind,
    RingStat, ShmError, MEMCLNT_KEEPALIVE_ID,
};

/// Size of VPP's region private heap (`api-segment { api-pvt-heap-size }` default).
const PVT_HEAP_SIZE: usize = 0x20000;
/// Where dlmalloc's first chunk goes in the data heap (after the mstate and the
/// `clib_mem_heap_t`, as recorded: the `vl_shmem_hdr_t` vector header at data_base + 0x400).
const FIRST_CHUNK: usize = 0x3f0;
/// `VL_API_INVALID_FI`: VPP sets the socket's file index after `vl_init_shmem`.
const INVALID_FILE_INDEX: u32 = u32::MAX;

struct State {
    heap: DlHeap,
    /// Body addresses of heap replies handed to clients and not yet returned.
    handed: HashSet<u64>,
    /// Body addresses of `heap_copy` buffers.
    copies: HashSet<u64>,
}

/// "What VPP builds": a memfd segment laid out as VPP 26.06 does, plus VPP's side of the
/// protocol. Its own mapping address plays VPP's address S. `Send + Sync`.
pub struct ServerSegment {
    seg: Seg,
    page: usize,
    data_base: usize,
    hdr_off: usize,
    vpp_pid: u32,
    input: Queue,
    vl_rings: Vec<Ring>,
    client_rings: Vec<Ring>,
    state: Mutex<State>,
    heap_fallbacks: AtomicU64,
}

impl std::fmt::Debug for ServerSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSegment")
            .field("vpp_base", &format_args!("{:#x}", self.seg.base))
            .field("size", &self.seg.size)
            .field("vpp_pid", &self.vpp_pid)
            .finish_non_exhaustive()
    }
}

fn exhausted() -> ShmError {
    ShmError::WouldCrashVpp(
        "the segment's data heap is exhausted: VPP would panic (os_out_of_memory)".into(),
    )
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> ShmError {
    move |source| ShmError::Io { what, source }
}

/// vppinfra vector header: len, hdr_size (in 8-byte units), log2_align 3 | default_heap, grow.
fn vec_header(len: u32, grow: u8) -> [u8; 8] {
    let l = len.to_ne_bytes();
    [l[0], l[1], l[2], l[3], 1, 0x83, grow, 0]
}

impl ServerSegment {
    /// `memfd_create(name)` + `F_SEAL_SHRINK`, `ftruncate` to the page-rounded size, `mmap(NULL)`,
    /// page 0 and the `svm_region_t` as spec 2.3, then the data heap from S + 2P + 128 KiB with
    /// `vl_shmem_hdr_t`, the ring vectors and queues and the input queue in VPP's order, placed by
    /// a model of dlmalloc's chunk arithmetic (so the fixture's config gives the fixture's
    /// offsets); queues through libc (robust + pshared mutex, pshared cond), `user_ctx` set last,
    /// then `ready = 1`. Refuses whatever [`check_configs`] refuses.
    pub fn create(
        name: &str,
        requested_size: u32,
        configs: &[RingConfig],
        vpp_pid: u32,
    ) -> Result<(ServerSegment, OwnedFd), ShmError> {
        check_configs(requested_size, configs)?;
        let configs = effective_configs(configs);
        let page = sys::page_size();
        let z = requested_size as usize;
        let fsize = z.div_ceil(page) * page;
        let data_base = 2 * page + PVT_HEAP_SIZE;
        if z < data_base + 0x1000 {
            return Err(exhausted());
        }
        let fd = sys::memfd_sealed(name, fsize as u64).map_err(io("memfd_create/ftruncate"))?;
        let map = Mapping::map_shared(fd.as_fd(), fsize).map_err(io("mmap of the new segment"))?;
        let s = map.addr();
        let seg = Seg {
            map,
            base: s,
            size: z as u64,
        };

        // page 0: ssvm_shared_header_t (heap and name dangle into page 1, as in VPP)
        seg.w64(SSVM_HEAP, s + page as u64 + 0x3c0);
        seg.w64(SSVM_VA, s);
        seg.w64(SSVM_SIZE, z as u64);
        seg.w32(SSVM_SERVER_PID, vpp_pid);
        seg.w32(SSVM_CLIENT_PID, 0);
        seg.w64(SSVM_NAME, s + page as u64 + 0x408);
        seg.w32(SSVM_TYPE, crate::seg::SSVM_TYPE_MEMFD);

        // svm_region_t at P
        let r = page;
        let sp = s + page as u64;
        seg.w64(r + R_VERSION, SVM_VERSION);
        seg.map
            .mutex_init(r + R_MUTEX, false)
            .map_err(io("pthread_mutex_init (region)"))?;
        seg.map
            .cond_init(r + R_COND)
            .map_err(io("pthread_cond_init (region)"))?;
        seg.w64(r + R_FLAGS, 1);
        seg.w64(r + R_VIRTUAL_BASE, sp);
        seg.w64(r + R_VIRTUAL_SIZE, (z - page) as u64);
        seg.w64(r + R_REGION_HEAP, sp + page as u64 + 0x3c0);
        seg.w64(r + R_DATA_BASE, s + data_base as u64);
        seg.w64(r + R_DATA_HEAP, s + (data_base + 0x3c0) as u64);
        seg.w64(r + R_BITMAP_SIZE, ((z - page) / page) as u64);
        seg.w64(r + R_BITMAP, sp + page as u64 + 0x448);
        seg.w64(r + R_REGION_NAME, sp + page as u64 + 0x408);
        seg.w64(r + R_CLIENT_PIDS, sp + page as u64 + 0x428);

        // vl_init_shmem: vec_validate (shmem_hdr, 0), then vl_api_mem_config.
        let mut heap = DlHeap::new((data_base + FIRST_CHUNK) as u64, z as u64);
        let hdr_mem = heap.malloc(8 + H_SIZEOF as u64).ok_or_else(exhausted)? as usize;
        seg.map.write(hdr_mem, &vec_header(1, 0));
        let hdr_off = hdr_mem + 8;
        seg.w32(hdr_off + H_VERSION, VL_SHM_VERSION);
        seg.w32(hdr_off + H_CLIB_FILE_INDEX, INVALID_FILE_INDEX);

        let mut vecs = [
            VecModel::new(RA_SIZEOF as u64),
            VecModel::new(RA_SIZEOF as u64),
        ];
        let mut input = None;
        for c in &configs {
            match c.kind {
                RingKind::Queue => {
                    let off = heap
                        .memalign(64, (Q_HDR + c.count as usize * c.size as usize) as u64)
                        .ok_or_else(exhausted)? as usize;
                    let q =
                        Queue::init(&seg, "vl_input_queue", off, c.count as u32, c.size, vpp_pid)?;
                    seg.w64(hdr_off + H_INPUT_QUEUE, q.addr);
                    input = Some(q); // the last QUEUE entry wins, as in VPP
                }
                RingKind::Vlib | RingKind::Client => {
                    let (vi, field) = match c.kind {
                        RingKind::Vlib => (0, H_VL_RINGS),
                        _ => (1, H_CLIENT_RINGS),
                    };
                    let v = &mut vecs[vi];
                    let moved = v.push(&mut heap).ok_or_else(exhausted)?;
                    if let Some((old, new)) = moved {
                        let mut b = vec![0u8; 8 + (v.len as usize - 1) * RA_SIZEOF];
                        seg.map.read(old as usize, &mut b);
                        seg.map.write(new as usize, &b);
                    }
                    let vmem = v.mem.ok_or_else(exhausted)? as usize;
                    seg.map
                        .write(vmem, &vec_header(v.len as u32, v.grow_elts(&heap) as u8));
                    seg.w64(hdr_off + field, seg.vaddr(vmem + 8));
                    let slot = c.size + 24;
                    let off = heap
                        .memalign(64, (Q_HDR + c.count as usize * slot as usize) as u64)
                        .ok_or_else(exhausted)? as usize;
                    let q = Queue::init(&seg, "ring", off, c.count as u32, slot, 0)?;
                    let ra = vmem + 8 + (v.len as usize - 1) * RA_SIZEOF;
                    seg.w64(ra + RA_RP, q.addr);
                    seg.w16(ra + RA_SIZE, slot as u16);
                    seg.w16(ra + RA_NITEMS, c.count);
                    seg.w32(ra + RA_HITS, 0);
                    seg.w32(ra + RA_MISSES, 0);
                }
            }
        }
        seg.w32(hdr_off + H_PID, vpp_pid);
        let input = input.ok_or_else(|| ShmError::WouldCrashVpp("no QUEUE entry".into()))?;
        let geo = |k| {
            configs
                .iter()
                .filter(|c| c.kind == k)
                .map(|c| (c.size + 24, c.count as u32))
                .collect::<Vec<_>>()
        };
        let vl_rings = read_rings(
            &seg,
            "vl_rings",
            seg.r64(hdr_off + H_VL_RINGS),
            &geo(RingKind::Vlib),
        )?;
        let client_rings = read_rings(
            &seg,
            "client_rings",
            seg.r64(hdr_off + H_CLIENT_RINGS),
            &geo(RingKind::Client),
        )?;
        // "declare the shmem region valid" last, then ready.
        seg.map
            .store_u64(r + R_USER_CTX, seg.vaddr(hdr_off), Ordering::Release);
        seg.map.store_u32(SSVM_READY, 1, Ordering::Release);

        Ok((
            ServerSegment {
                seg,
                page,
                data_base,
                hdr_off,
                vpp_pid,
                input,
                vl_rings,
                client_rings,
                state: Mutex::new(State {
                    heap,
                    handed: HashSet::new(),
                    copies: HashSet::new(),
                }),
                heap_fallbacks: AtomicU64::new(0),
            },
            fd,
        ))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// S (this mapping's address).
    pub fn vpp_base(&self) -> u64 {
        self.seg.base
    }

    /// Z.
    pub fn size(&self) -> u64 {
        self.seg.size
    }

    /// The page size P used for the layout.
    pub fn page_size(&self) -> usize {
        self.page
    }

    /// VPP address of `data_base` (S + 2P + 128 KiB).
    pub fn data_base(&self) -> u64 {
        self.seg.vaddr(self.data_base)
    }

    /// VPP address of `vl_shmem_hdr_t`.
    pub fn hdr_addr(&self) -> u64 {
        self.seg.vaddr(self.hdr_off)
    }

    /// VPP address of VPP's input queue.
    pub fn input_queue_addr(&self) -> u64 {
        self.input.addr
    }

    /// The pid written as VPP's.
    pub fn vpp_pid(&self) -> u32 {
        self.vpp_pid
    }

    /// VPP addresses of the `vl_rings` / `client_rings` vectors (data, 8 bytes after the header).
    pub fn ring_vectors(&self) -> (u64, u64) {
        (
            self.seg.r64(self.hdr_off + H_VL_RINGS),
            self.seg.r64(self.hdr_off + H_CLIENT_RINGS),
        )
    }

    /// VPP addresses of the ring queues, VLIB then CLIENT, in config order.
    pub fn ring_queue_addrs(&self) -> (Vec<u64>, Vec<u64>) {
        (
            self.vl_rings.iter().map(|r| r.q.addr).collect(),
            self.client_rings.iter().map(|r| r.q.addr).collect(),
        )
    }

    /// VPP reads cursize of its input queue without the lock (polling): true if a message waits.
    pub fn input_pending(&self) -> bool {
        self.seg
            .map
            .load_u32(self.input.off + Q_CURSIZE, Ordering::Acquire)
            != 0
    }

    /// sub2 semantics (no wait, broadcast when cursize == maxsize/2): pop ONE request, copy its
    /// body into `out` (cleared first), return its VPP address and whether it was
    /// ring-allocated. `msgbuf.q` must name a CLIENT ring, or be 0 for a heap buffer this server
    /// handed out (the keepalive-reply free trick); `data_len` must be > 0 and fit its buffer.
    /// Otherwise Err (the request is dropped, nothing written).
    pub fn take_request(&self, out: &mut Vec<u8>) -> Result<Option<Request>, ShmError> {
        out.clear();
        let elem = {
            let g = self.input.lock(&self.seg, Some(LOCK_TIMEOUT))?;
            self.input.pop_locked(&g, self.input.maxsize / 2)?
        };
        let Some(a) = elem else { return Ok(None) };
        let mb = a
            .checked_sub(MB_SIZE as u64)
            .and_then(|m| self.seg.tr(m, MB_SIZE as u64, 8))
            .ok_or_else(|| {
                layout(format!(
                    "request address {a:#x} is outside the segment or misaligned"
                ))
            })?;
        let q = self.seg.map.load_u64(mb + MB_Q, Ordering::Acquire);
        let len = u32::from_be(self.seg.r32(mb + MB_LEN)) as u64;
        let cap = if q == 0 {
            let st = self.state();
            if !st.handed.contains(&a) {
                return Err(layout(format!(
                    "request at {a:#x}: msgbuf.q 0 but not a heap buffer VPP handed out (double free?)"
                )));
            }
            st.heap.usable(mb as u64).saturating_sub(MB_SIZE as u64)
        } else {
            let r = self
                .client_rings
                .iter()
                .find(|r| r.q.addr == q)
                .ok_or_else(|| {
                    layout(format!(
                        "request at {a:#x}: msgbuf.q {q:#x} names no CLIENT ring"
                    ))
                })?;
            (r.size as usize - MB_SIZE) as u64
        };
        if len == 0 || len > cap {
            return Err(layout(format!(
                "request at {a:#x}: data_len {len} (buffer holds {cap})"
            )));
        }
        let body = self.seg.tr_err("request body", a, len, 1)?;
        out.resize(len as usize, 0);
        self.seg.map.read(body, out);
        Ok(Some(Request {
            addr: a,
            ring: q != 0,
        }))
    }

    /// Free a request like VPP after its handler: ring → `q = 0`; heap buffer (the
    /// keepalive-reply free trick) → back to the tracked heap.
    pub fn free_request(&self, req: &Request) {
        let Some(mb) = req
            .addr
            .checked_sub(MB_SIZE as u64)
            .and_then(|m| self.seg.tr(m, MB_SIZE as u64, 8))
        else {
            return;
        };
        if req.ring {
            self.seg.w32(mb + MB_GC, 0);
            self.seg.map.store_u64(mb + MB_Q, 0, Ordering::Release);
        } else {
            let mut st = self.state();
            if st.handed.remove(&req.addr) {
                st.heap.free(mb as u64);
            }
        }
    }

    /// `memclnt_create(_v2)` validation of `input_queue` (spec 9.4): inside the segment,
    /// 8-aligned, elsize 8, mutex kind 0x90, evtfds −1.
    pub fn check_client_queue(&self, vpp_addr: u64) -> Result<(), ShmError> {
        self.client_queue(vpp_addr).map(|_| ())
    }

    fn client_queue(&self, addr: u64) -> Result<Queue, ShmError> {
        let q = Queue::validate(&self.seg, "client input queue", addr, 8, None)?;
        let kind = self.seg.r32(q.off + Q_MUTEX + MUTEX_KIND_OFF);
        if kind != MUTEX_KIND_ROBUST_PSHARED {
            return Err(layout(format!(
                "client input queue at {addr:#x}: mutex kind {kind:#x}, expected 0x90"
            )));
        }
        let p = self.seg.r32(q.off + Q_PRODUCER_EVTFD) as i32;
        let c = self.seg.r32(q.off + Q_CONSUMER_EVTFD) as i32;
        if p != -1 || c != -1 {
            return Err(layout(format!(
                "client input queue at {addr:#x}: evtfds {p}/{c}, expected -1/-1 (condvar signalling)"
            )));
        }
        Ok(q)
    }

    /// Allocate a reply like VPP: `vl_rings` without the ring lock, head slot only, gc rules;
    /// fallback to the tracked heap with `q = 0`. Returns the msgbuf offset.
    fn alloc_reply(&self, len: usize) -> Result<usize, ShmError> {
        let need = len + MB_SIZE;
        let mut st = self.state();
        for r in self.vl_rings.iter().filter(|r| r.size as usize >= need) {
            if let SlotPick::Got(off) = take_head_slot(&self.seg, r, self.hdr_off)? {
                return Ok(off);
            }
        }
        let off = st.heap.malloc(need as u64).ok_or_else(exhausted)? as usize;
        self.seg.w64(off + MB_Q, 0);
        self.seg.w32(off + MB_GC, 0);
        st.handed.insert(self.seg.vaddr(off + MB_SIZE));
        self.heap_fallbacks.fetch_add(1, Ordering::Relaxed);
        Ok(off)
    }

    fn free_buffer(&self, off: usize) {
        let q = self.seg.r64(off + MB_Q);
        self.free_request(&Request {
            addr: self.seg.vaddr(off + MB_SIZE),
            ring: q != 0,
        });
    }

    fn fill(&self, off: usize, body: &[u8]) {
        self.seg.map.write(off + MB_SIZE, body);
        self.seg.w32(off + MB_LEN, (body.len() as u32).to_be());
    }

    /// Allocate like VPP (see `alloc_reply`), copy `body`, `data_len` BE, then the BLOCKING add
    /// of `svm_queue_add` to the client queue at `queue`, bounded by `timeout`: a timeout is
    /// `Err(ShmError::Timeout { what: "client queue full: VPP would hang here" })` (the buffer is
    /// taken back). Broadcasts when cursize becomes 1.
    pub fn send_to(&self, queue: u64, body: &[u8], timeout: Duration) -> Result<(), ShmError> {
        if body.is_empty() {
            return Err(ShmError::BadMessage("empty reply".into()));
        }
        let cq = self.client_queue(queue)?;
        let off = self.alloc_reply(body.len())?;
        self.fill(off, body);
        let addr = self.seg.vaddr(off + MB_SIZE);
        match cq.add(&self.seg, addr, Some(timeout)) {
            Ok(AddOutcome::Added) => Ok(()),
            Ok(AddOutcome::Full) => {
                self.free_buffer(off);
                Err(ShmError::Timeout {
                    what: "client queue full: VPP would hang here",
                })
            }
            Err(e) => {
                self.free_buffer(off);
                Err(e)
            }
        }
    }

    /// Allocate a `memclnt_keepalive` (`@2 client_index = @6 context = index`) from a CLIENT ring
    /// under the ring lock (heap fallback), `nowait` add: `Ok(false)` if the queue was full or
    /// its lock busy (the buffer is taken back).
    pub fn send_keepalive(&self, queue: u64, index: [u8; 4]) -> Result<bool, ShmError> {
        let cq = self.client_queue(queue)?;
        let mut body = Vec::with_capacity(10);
        body.extend_from_slice(&MEMCLNT_KEEPALIVE_ID.to_be_bytes());
        body.extend_from_slice(&index);
        body.extend_from_slice(&index);
        let need = body.len() + MB_SIZE;
        let mut got = None;
        for r in self.client_rings.iter().filter(|r| r.size as usize >= need) {
            let g = r.q.lock(&self.seg, Some(LOCK_TIMEOUT))?;
            let pick = take_head_slot(&self.seg, r, self.hdr_off)?;
            drop(g);
            if let SlotPick::Got(off) = pick {
                got = Some(off);
                break;
            }
        }
        let off = match got {
            Some(o) => o,
            None => {
                let mut st = self.state();
                let off = st.heap.malloc(need as u64).ok_or_else(exhausted)? as usize;
                self.seg.w64(off + MB_Q, 0);
                self.seg.w32(off + MB_GC, 0);
                st.handed.insert(self.seg.vaddr(off + MB_SIZE));
                self.heap_fallbacks.fetch_add(1, Ordering::Relaxed);
                off
            }
        };
        self.fill(off, &body);
        match cq.add(&self.seg, self.seg.vaddr(off + MB_SIZE), None) {
            Ok(AddOutcome::Added) => Ok(true),
            Ok(AddOutcome::Full) | Err(ShmError::Timeout { .. }) => {
                self.free_buffer(off);
                Ok(false)
            }
            Err(e) => {
                self.free_buffer(off);
                Err(e)
            }
        }
    }

    /// Put a raw element (any u64, e.g. a foreign address) into a client queue, waiting at most
    /// `timeout` while it is full. `Ok(false)`: still full. For fault injection.
    pub fn enqueue_raw(&self, queue: u64, elem: u64, timeout: Duration) -> Result<bool, ShmError> {
        let cq = self.client_queue(queue)?;
        Ok(matches!(
            cq.add(&self.seg, elem, Some(timeout))?,
            AddOutcome::Added
        ))
    }

    /// Copy bytes into the tracked heap (e.g. the serialized message table of
    /// `memclnt_create_reply`); returns the VPP address.
    pub fn heap_copy(&self, bytes: &[u8]) -> Result<u64, ShmError> {
        let mut st = self.state();
        let off = st
            .heap
            .malloc(bytes.len().max(1) as u64)
            .ok_or_else(exhausted)? as usize;
        self.seg.map.write(off, bytes);
        let a = self.seg.vaddr(off);
        st.copies.insert(a);
        Ok(a)
    }

    /// Return a [`heap_copy`](Self::heap_copy) buffer; false if `addr` is not one.
    pub fn heap_free(&self, addr: u64) -> bool {
        let mut st = self.state();
        if !st.copies.remove(&addr) {
            return false;
        }
        st.heap.free(addr - self.seg.base)
    }

    /// Heap buffers handed to clients and not yet returned.
    pub fn heap_outstanding(&self) -> usize {
        self.state().handed.len()
    }

    /// Bytes in use in the data heap model (structures, copies and outstanding replies).
    pub fn heap_used(&self) -> u64 {
        self.state().heap.used_bytes()
    }

    /// head (keepalive heuristic: did the client dequeue?), tail, cursize, maxsize of a queue,
    /// read without its lock as VPP does.
    pub fn queue_state(&self, queue: u64) -> Result<QueueState, ShmError> {
        let off = self.seg.tr_err("queue", queue, Q_HDR as u64, 8)?;
        Ok(QueueState {
            head: self.seg.r32(off + Q_HEAD),
            tail: self.seg.r32(off + Q_TAIL),
            cursize: self.seg.r32(off + Q_CURSIZE),
            maxsize: self.seg.r32(off + Q_MAXSIZE),
        })
    }

    /// Per ring: kind, slot size, nitems, hits, misses (VLIB rings first, config order).
    pub fn ring_stats(&self) -> Vec<RingStat> {
        let one = |kind, r: &Ring| RingStat {
            kind,
            size: r.size,
            nitems: r.nitems,
            hits: self.seg.r32(r.ra_off + RA_HITS),
            misses: self.seg.r32(r.ra_off + RA_MISSES),
        };
        self.vl_rings
            .iter()
            .map(|r| one(RingKind::Vlib, r))
            .chain(self.client_rings.iter().map(|r| one(RingKind::Client, r)))
            .collect()
    }

    /// Heap fallbacks and `garbage_collects`.
    pub fn alloc_stats(&self) -> AllocStats {
        AllocStats {
            heap_fallbacks: self.heap_fallbacks.load(Ordering::Relaxed),
            garbage_collects: self.seg.r32(self.hdr_off + H_GARBAGE_COLLECTS),
        }
    }

    /// Copy `len` bytes at VPP address `addr` (bounds-checked).
    pub fn read_vpp(&self, addr: u64, len: usize) -> Result<Vec<u8>, ShmError> {
        let off = self.seg.tr_err("read", addr, len as u64, 1)?;
        let mut v = vec![0; len];
        self.seg.map.read(off, &mut v);
        Ok(v)
    }

    /// Write bytes at VPP address `addr` (bounds-checked), for fault injection. Never use it on
    /// a mutex or condvar.
    pub fn write_vpp(&self, addr: u64, bytes: &[u8]) -> Result<(), ShmError> {
        let off = self.seg.tr_err("write", addr, bytes.len() as u64, 1)?;
        self.seg.map.write(off, bytes);
        Ok(())
    }

    /// Record the socket's file index in `vl_shmem_hdr_t.clib_file_index` (VPP does after init).
    pub fn set_clib_file_index(&self, index: u32) {
        self.seg.w32(self.hdr_off + H_CLIB_FILE_INDEX, index);
    }
}
