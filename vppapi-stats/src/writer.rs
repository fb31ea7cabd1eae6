//! Building and serving version-2 stats segments the way VPP lays them out: for tests, benches
//! and the VPP simulator.
//!
//! [`SegmentWriter`] creates a memfd ("stat segment"), maps it read-write and writes the shared
//! header at offset 0 (`version` 2, `base` = the writer's own address of the mapping, `epoch`
//! starting at 1). The rest of the segment is a small heap (size classes, first page skipped as
//! in VPP) holding vppinfra-style vectors: an 8-byte header whose first u32 is the length, then
//! the elements. The directory is such a vector of 144-byte entries; counters are a vector of
//! per-thread pointers to vectors of u64 (`{packets, bytes}` pairs for combined counters);
//! name vectors are vectors of pointers to NUL-terminated u8 vectors.
//!
//! Structural changes (adding, removing, growing) follow VPP's writer protocol
//! (`vlib_stats_segment_lock/unlock`): `in_progress = 1`, modify (vectors may move), `epoch++`,
//! release-store `in_progress = 0`. Several changes can be grouped with
//! [`SegmentWriter::begin_update`] / [`SegmentWriter::end_update`]. Counter values are written
//! without the lock, as VPP's workers do, with single atomic u64 stores.
//!
//! [`StatsServer`] serves the memfd on a `SOCK_SEQPACKET` socket like VPP: each accepted
//! connection gets one empty message carrying the fd (`SCM_RIGHTS`) and is closed.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::error::{Result, StatsError};
use crate::layout::*;
use crate::segment::StatsSegment;
use crate::shm::SharedMemory;

/// Options of a new segment.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Segment size in bytes (VPP's default is 32 MiB).
    pub size: usize,
    /// Number of threads (main + workers): the length of every per-thread counter vector.
    pub n_threads: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            size: 32 << 20,
            n_threads: 1,
        }
    }
}

/// Offset of the heap: VPP keeps the first page for the shared header.
const HEAP_START: usize = 4096;
const MIN_CLASS: u32 = 4; // 16 bytes

/// A size-class allocator inside the segment (offsets, not pointers).
#[derive(Debug)]
struct Heap {
    next: usize,
    end: usize,
    free: Vec<Vec<usize>>,
    class_of: HashMap<usize, u32>,
}

impl Heap {
    fn new(end: usize) -> Self {
        Self {
            next: HEAP_START,
            end,
            free: vec![Vec::new(); 64],
            class_of: HashMap::new(),
        }
    }

    /// A block of at least `bytes`, aligned to 16; returns its offset.
    fn alloc(&mut self, bytes: usize) -> Result<usize> {
        let class = bytes
            .max(1 << MIN_CLASS)
            .checked_next_power_of_two()
            .ok_or_else(|| StatsError::Writer(format!("allocation of {bytes} bytes")))?
            .trailing_zeros();
        let off = match self.free[class as usize].pop() {
            Some(off) => off,
            None => {
                let size = 1usize << class;
                let off = self.next.next_multiple_of(16);
                if off.checked_add(size).is_none_or(|e| e > self.end) {
                    return Err(StatsError::Writer(format!(
                        "segment full: cannot allocate {bytes} bytes"
                    )));
                }
                self.next = off + size;
                off
            }
        };
        self.class_of.insert(off, class);
        Ok(off)
    }

    fn free(&mut self, off: usize) {
        if let Some(class) = self.class_of.remove(&off) {
            self.free[class as usize].push(off);
        }
    }
}

#[derive(Debug, Clone)]
enum Meta {
    Value,
    /// `width` u64s per object: 1 simple, 2 combined; histograms use width 1.
    Counter {
        threads: usize,
        per_thread: Vec<usize>,
        len: usize,
        width: usize,
    },
    Names {
        vec: usize,
        strings: Vec<usize>,
    },
    Symlink {
        target: u32,
    },
    Ring {
        block: usize,
    },
}

#[derive(Debug, Clone)]
struct Slot {
    name: String,
    entry_type: EntryType,
    meta: Meta,
}

/// Writes a version-2 stats segment in a memfd. See the [module docs](self).
pub struct SegmentWriter {
    fd: OwnedFd,
    mem: SharedMemory,
    heap: Heap,
    n_threads: usize,
    dir: usize,
    dir_cap: usize,
    slots: Vec<Option<Slot>>,
    by_name: HashMap<String, u32>,
    free_slots: Vec<u32>,
    lock_depth: u32,
}

impl std::fmt::Debug for SegmentWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentWriter")
            .field("size", &self.mem.len())
            .field("entries", &self.by_name.len())
            .finish()
    }
}

fn werr(e: io::Error) -> StatsError {
    StatsError::Writer(e.to_string())
}

impl SegmentWriter {
    /// Creates the memfd, maps it and writes the header and an empty directory.
    pub fn new(opts: WriterOptions) -> Result<Self> {
        if opts.size < 2 * HEAP_START || opts.n_threads == 0 {
            return Err(StatsError::Writer(format!(
                "need at least {} bytes and one thread",
                2 * HEAP_START
            )));
        }
        let fd = rustix::fs::memfd_create("stat segment", rustix::fs::MemfdFlags::CLOEXEC)
            .map_err(io::Error::from)?;
        rustix::fs::ftruncate(&fd, opts.size as u64).map_err(io::Error::from)?;
        let mem = SharedMemory::map_fd(&fd, opts.size, true)?;
        let mut w = Self {
            fd,
            mem,
            heap: Heap::new(opts.size),
            n_threads: opts.n_threads,
            dir: 0,
            dir_cap: 0,
            slots: Vec::new(),
            by_name: HashMap::new(),
            free_slots: Vec::new(),
            lock_depth: 0,
        };
        let base = w.mem.address();
        w.put(OFF_VERSION, SEGMENT_VERSION)?;
        w.put(OFF_BASE, base)?;
        w.put(OFF_EPOCH, 1)?;
        w.put(OFF_IN_PROGRESS, 0)?;
        w.dir_cap = 64;
        w.dir = w.alloc_vec(ENTRY_SIZE, w.dir_cap, 0)?;
        let dir_ptr = w.ptr(w.dir);
        w.mem
            .store_u64(OFF_DIRECTORY, dir_ptr, Ordering::Release)
            .map_err(werr)?;
        Ok(w)
    }

    fn put(&self, off: usize, v: u64) -> Result<()> {
        self.mem.store_u64(off, v, Ordering::Relaxed).map_err(werr)
    }

    fn get(&self, off: usize) -> u64 {
        self.mem.load_u64(off).unwrap_or(0)
    }

    /// The writer's address of an offset (what VPP stores in the segment).
    fn ptr(&self, off: usize) -> u64 {
        if off == 0 {
            0
        } else {
            self.mem.address() + off as u64
        }
    }

    /// Allocates a vector with room for `cap` elements of `elem` bytes, length `len`, zeroed;
    /// returns the offset of element 0.
    fn alloc_vec(&mut self, elem: usize, cap: usize, len: usize) -> Result<usize> {
        let bytes = elem
            .checked_mul(cap.max(1))
            .and_then(|b| b.checked_add(VEC_HEADER_SIZE))
            .ok_or_else(|| StatsError::Writer("vector too large".into()))?;
        let block = self.heap.alloc(bytes)?;
        let data = block + VEC_HEADER_SIZE;
        // vec_header_t {u32 len; u8 hdr_size; u8 log2_align; u8 grow_elts; u8 vpad}
        self.put(block, u64::from(len as u32) | (3 << 40))?;
        for i in (0..elem * cap).step_by(8) {
            self.put(data + i, 0)?;
        }
        Ok(data)
    }

    fn free_vec(&mut self, data: usize) {
        if data != 0 {
            self.heap.free(data - VEC_HEADER_SIZE);
        }
    }

    fn set_vec_len(&self, data: usize, len: usize) -> Result<()> {
        self.mem
            .store_u32(data - VEC_HEADER_SIZE, len as u32)
            .map_err(werr)
    }

    /// The memfd (e.g. to hand to a reader in the same process).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The address published as `base` in the header.
    pub fn base(&self) -> u64 {
        self.mem.address()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.get(OFF_EPOCH)
    }

    /// Bytes from the start of the segment up to the end of the last heap block ever used:
    /// a copy of this prefix reads the same as the whole segment (small fixtures, fuzz seeds).
    pub fn used_len(&self) -> usize {
        self.heap.next
    }

    /// Segment size.
    pub fn size(&self) -> usize {
        self.mem.len()
    }

    /// Number of threads of every counter vector.
    pub fn n_threads(&self) -> usize {
        self.n_threads
    }

    /// A read-only [`StatsSegment`] on a separate mapping of the same memfd.
    pub fn reader(&self) -> Result<StatsSegment> {
        StatsSegment::from_fd(self.fd.as_fd())
    }

    /// Serves the segment on a `SOCK_SEQPACKET` socket at `path`, like VPP's `stats.sock`.
    pub fn serve(&self, path: impl AsRef<Path>) -> Result<StatsServer> {
        let fd = self.fd.try_clone()?;
        Ok(StatsServer::bind(path.as_ref(), fd)?)
    }

    /// The directory index of a live entry.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// Names of the live entries.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Starts a group of structural changes (`in_progress = 1`); nests.
    pub fn begin_update(&mut self) {
        if self.lock_depth == 0 {
            let _ = self.mem.store_u64(OFF_IN_PROGRESS, 1, Ordering::Relaxed);
            // Readers that see any of the following writes must also see in_progress = 1.
            fence(Ordering::Release);
        }
        self.lock_depth += 1;
    }

    /// Ends a group: on the outermost call `epoch++` and release-store `in_progress = 0`.
    pub fn end_update(&mut self) {
        if self.lock_depth == 0 {
            return;
        }
        self.lock_depth -= 1;
        if self.lock_depth == 0 {
            let e = self.get(OFF_EPOCH);
            let _ = self.mem.store_u64(OFF_EPOCH, e + 1, Ordering::Release);
            let _ = self.mem.store_u64(OFF_IN_PROGRESS, 0, Ordering::Release);
        }
    }

    /// Runs `f` as one structural change (one epoch step).
    pub fn update<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.begin_update();
        let r = f(self);
        self.end_update();
        r
    }

    /// Sets `in_progress` without ever clearing it: simulates a VPP that died holding the lock.
    pub fn wedge(&mut self) {
        let _ = self.mem.store_u64(OFF_IN_PROGRESS, 1, Ordering::Release);
        self.lock_depth = u32::MAX / 2;
    }

    fn entry_off(&self, index: u32) -> usize {
        self.dir + index as usize * ENTRY_SIZE
    }

    fn write_entry(&self, index: u32, t: EntryType, value: u64, name: &str) -> Result<()> {
        let off = self.entry_off(index);
        self.put(off, u64::from(t.code()))?;
        self.put(off + ENTRY_OFF_VALUE, value)?;
        let mut raw = [0u8; NAME_SIZE];
        raw[..name.len()].copy_from_slice(name.as_bytes());
        self.mem
            .store_bytes(off + ENTRY_OFF_NAME, &raw)
            .map_err(werr)
    }

    fn slot(&self, index: u32) -> Result<&Slot> {
        self.slots
            .get(index as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| StatsError::Writer(format!("no live entry at index {index}")))
    }

    /// Adds an entry in a free slot (or at the end, growing and moving the directory).
    fn add_entry(&mut self, name: &str, t: EntryType, value: u64, meta: Meta) -> Result<u32> {
        if name.len() >= NAME_SIZE || name.contains('\0') {
            return Err(StatsError::Writer(format!(
                "entry name {name:?} longer than {} bytes or with NUL",
                NAME_SIZE - 1
            )));
        }
        if self.by_name.contains_key(name) {
            return Err(StatsError::Writer(format!("duplicate entry {name:?}")));
        }
        self.update(|w| {
            let index = match w.free_slots.pop() {
                Some(i) => i,
                None => {
                    let i = w.slots.len();
                    if i == w.dir_cap {
                        w.grow_directory()?;
                    }
                    w.slots.push(None);
                    w.set_vec_len(w.dir, i + 1)?;
                    i as u32
                }
            };
            w.write_entry(index, t, value, name)?;
            w.slots[index as usize] = Some(Slot {
                name: name.to_string(),
                entry_type: t,
                meta,
            });
            w.by_name.insert(name.to_string(), index);
            Ok(index)
        })
    }

    fn grow_directory(&mut self) -> Result<()> {
        let cap = self.dir_cap * 2;
        let len = self.slots.len();
        let new = self.alloc_vec(ENTRY_SIZE, cap, len)?;
        for i in (0..len * ENTRY_SIZE).step_by(8) {
            self.put(new + i, self.get(self.dir + i))?;
        }
        let old = self.dir;
        self.dir = new;
        self.dir_cap = cap;
        self.put(OFF_DIRECTORY, self.ptr(new))?;
        self.free_vec(old);
        Ok(())
    }

    /// Adds a scalar (type 1).
    pub fn add_scalar(&mut self, name: &str, value: u64) -> Result<u32> {
        self.add_entry(name, EntryType::Scalar, value, Meta::Value)
    }

    /// Adds a gauge (type 9).
    pub fn add_gauge(&mut self, name: &str, value: u64) -> Result<u32> {
        self.add_entry(name, EntryType::Gauge, value, Meta::Value)
    }

    /// Adds an entry with an arbitrary type code and raw union value (e.g. unknown types).
    pub fn add_raw(&mut self, name: &str, type_code: u32, raw: u64) -> Result<u32> {
        self.add_entry(name, EntryType::from_code(type_code), raw, Meta::Value)
    }

    fn alloc_counter(&mut self, n_objects: usize, width: usize) -> Result<(usize, Vec<usize>)> {
        let threads = self.alloc_vec(8, self.n_threads, self.n_threads)?;
        let mut per_thread = Vec::with_capacity(self.n_threads);
        for t in 0..self.n_threads {
            let v = self.alloc_vec(8 * width, n_objects, n_objects)?;
            self.put(threads + t * 8, self.ptr(v))?;
            per_thread.push(v);
        }
        Ok((threads, per_thread))
    }

    fn add_counter(&mut self, name: &str, t: EntryType, n: usize, width: usize) -> Result<u32> {
        self.begin_update();
        let r = self
            .alloc_counter(n, width)
            .and_then(|(threads, per_thread)| {
                let meta = Meta::Counter {
                    threads,
                    per_thread,
                    len: n,
                    width,
                };
                self.add_entry(name, t, self.ptr(threads), meta)
            });
        self.end_update();
        r
    }

    /// Adds a simple counter vector (type 2) of `n_objects` zeroed counters per thread.
    pub fn add_simple_counter(&mut self, name: &str, n_objects: usize) -> Result<u32> {
        self.add_counter(name, EntryType::CounterSimple, n_objects, 1)
    }

    /// Adds a combined counter vector (type 3) of `n_objects` zeroed counters per thread.
    pub fn add_combined_counter(&mut self, name: &str, n_objects: usize) -> Result<u32> {
        self.add_counter(name, EntryType::CounterCombined, n_objects, 2)
    }

    /// Adds a log2 histogram (type 7): per thread `[min_exp, bin 0, ..]` with `n_bins` bins.
    pub fn add_histogram_log2(&mut self, name: &str, min_exp: u64, n_bins: usize) -> Result<u32> {
        let i = self.add_counter(name, EntryType::HistogramLog2, n_bins + 1, 1)?;
        for t in 0..self.n_threads {
            self.set_simple(i, t, 0, min_exp)?;
        }
        Ok(i)
    }

    /// Adds a ring buffer descriptor (type 8) with zeroed per-thread metadata and data.
    pub fn add_ring_buffer(&mut self, name: &str, entry_size: u32, ring_size: u32) -> Result<u32> {
        let n = self.n_threads;
        let meta_off = RING_DESC_SIZE.next_multiple_of(8);
        let data_off = meta_off + n * RING_METADATA_SIZE;
        let total = data_off + n * entry_size as usize * ring_size as usize;
        self.begin_update();
        let r = (|| {
            let block = self.alloc_vec(1, total, total)?;
            let fields = [
                entry_size,
                ring_size,
                n as u32,
                0,
                1,
                meta_off as u32,
                data_off as u32,
            ];
            for (i, f) in fields.iter().enumerate() {
                self.mem.store_u32(block + i * 4, *f).map_err(werr)?;
            }
            self.add_entry(
                name,
                EntryType::RingBuffer,
                self.ptr(block),
                Meta::Ring { block },
            )
        })();
        self.end_update();
        r
    }

    /// Sets thread `thread`'s ring buffer metadata (`head`, `sequence`).
    pub fn set_ring_position(
        &mut self,
        index: u32,
        thread: usize,
        head: u32,
        sequence: u64,
    ) -> Result<()> {
        let Meta::Ring { block } = self.slot(index)?.meta else {
            return Err(StatsError::Writer(format!(
                "entry {index} is no ring buffer"
            )));
        };
        if thread >= self.n_threads {
            return Err(StatsError::Writer(format!("no thread {thread}")));
        }
        let m = block + RING_DESC_SIZE.next_multiple_of(8) + thread * RING_METADATA_SIZE;
        self.mem.store_u32(m, head).map_err(werr)?;
        self.mem.store_u32(m + 4, 1).map_err(werr)?;
        self.put(m + 8, sequence)
    }

    fn make_string(&mut self, s: &str) -> Result<usize> {
        let v = self.alloc_vec(1, s.len() + 1, s.len() + 1)?;
        self.mem.store_bytes(v, s.as_bytes()).map_err(werr)?;
        self.mem.store_bytes(v + s.len(), &[0]).map_err(werr)?;
        Ok(v)
    }

    /// Adds a name vector (type 4); `None` slots are NULL pointers.
    pub fn add_name_vector(&mut self, name: &str, names: &[Option<&str>]) -> Result<u32> {
        self.begin_update();
        let r = (|| {
            let vec = self.alloc_vec(8, names.len(), names.len())?;
            let mut strings = Vec::with_capacity(names.len());
            for (i, n) in names.iter().enumerate() {
                let s = match n {
                    Some(n) => self.make_string(n)?,
                    None => 0,
                };
                self.put(vec + i * 8, self.ptr(s))?;
                strings.push(s);
            }
            self.add_entry(
                name,
                EntryType::NameVector,
                self.ptr(vec),
                Meta::Names { vec, strings },
            )
        })();
        self.end_update();
        r
    }

    /// Sets (or clears) name `object` of a name vector, growing (moving) the vector if needed.
    pub fn set_name(&mut self, index: u32, object: usize, value: Option<&str>) -> Result<()> {
        let Meta::Names { vec, strings } = self.slot(index)?.meta.clone() else {
            return Err(StatsError::Writer(format!(
                "entry {index} is no name vector"
            )));
        };
        self.begin_update();
        let r = (|| {
            let mut vec = vec;
            let mut strings = strings;
            if object >= strings.len() {
                let n = object + 1;
                let new = self.alloc_vec(8, n, n)?;
                for (i, s) in strings.iter().enumerate() {
                    self.put(new + i * 8, self.ptr(*s))?;
                }
                self.free_vec(vec);
                vec = new;
                strings.resize(n, 0);
                self.put(self.entry_off(index) + ENTRY_OFF_VALUE, self.ptr(vec))?;
            }
            let s = match value {
                Some(v) => self.make_string(v)?,
                None => 0,
            };
            self.put(vec + object * 8, self.ptr(s))?;
            self.free_vec(strings[object]);
            strings[object] = s;
            if let Some(slot) = self.slots[index as usize].as_mut() {
                slot.meta = Meta::Names { vec, strings };
            }
            Ok(())
        })();
        self.end_update();
        r
    }

    /// Adds a symlink (type 6) to object `object` of counter vector `target`.
    pub fn add_symlink(&mut self, name: &str, target: u32, object: u32) -> Result<u32> {
        match self.slot(target)?.entry_type {
            EntryType::CounterSimple | EntryType::CounterCombined => {}
            t => {
                return Err(StatsError::Writer(format!(
                    "symlink target {target} is a {t}"
                )))
            }
        }
        let raw = u64::from(target) | (u64::from(object) << 32);
        // The union is {u32 index1; u32 index2}: store as two u32 so it is right on any endian.
        let i = self.add_entry(name, EntryType::Symlink, raw, Meta::Symlink { target })?;
        let off = self.entry_off(i) + ENTRY_OFF_VALUE;
        self.mem.store_u32(off, target).map_err(werr)?;
        self.mem.store_u32(off + 4, object).map_err(werr)?;
        Ok(i)
    }

    /// Removes an entry (it becomes EMPTY, its slot is reused later) and frees its data.
    /// Symlinks pointing at a removed counter are removed too.
    pub fn remove(&mut self, name: &str) -> Result<()> {
        let index = self
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| StatsError::NotFound(name.to_string()))?;
        self.begin_update();
        let links: Vec<String> = self
            .slots
            .iter()
            .flatten()
            .filter(|s| matches!(s.meta, Meta::Symlink { target } if target == index))
            .map(|s| s.name.clone())
            .collect();
        let r = (|| {
            for l in links {
                self.remove(&l)?;
            }
            let slot = self.slots[index as usize]
                .take()
                .ok_or_else(|| StatsError::Writer("slot vanished".into()))?;
            self.by_name.remove(&slot.name);
            self.write_entry(index, EntryType::Empty, 0, "")?;
            match slot.meta {
                Meta::Counter {
                    threads,
                    per_thread,
                    ..
                } => {
                    for v in per_thread {
                        self.free_vec(v);
                    }
                    self.free_vec(threads);
                }
                Meta::Names { vec, strings } => {
                    for s in strings {
                        self.free_vec(s);
                    }
                    self.free_vec(vec);
                }
                Meta::Ring { block } => self.free_vec(block),
                Meta::Value | Meta::Symlink { .. } => {}
            }
            self.free_slots.push(index);
            Ok(())
        })();
        self.end_update();
        r
    }

    /// Grows or shrinks a counter vector to `n_objects` per thread. The vectors are reallocated
    /// (they move in the segment, as in VPP's `vec_validate`), values kept.
    pub fn resize_counter(&mut self, index: u32, n_objects: usize) -> Result<()> {
        let Meta::Counter {
            threads,
            per_thread,
            len,
            width,
        } = self.slot(index)?.meta.clone()
        else {
            return Err(StatsError::Writer(format!(
                "entry {index} is no counter vector"
            )));
        };
        self.begin_update();
        let r = (|| {
            let mut new_pt = Vec::with_capacity(per_thread.len());
            for (t, old) in per_thread.iter().enumerate() {
                let new = self.alloc_vec(8 * width, n_objects, n_objects)?;
                for i in 0..len.min(n_objects) * width {
                    self.put(new + i * 8, self.get(old + i * 8))?;
                }
                self.put(threads + t * 8, self.ptr(new))?;
                self.free_vec(*old);
                new_pt.push(new);
            }
            if let Some(slot) = self.slots[index as usize].as_mut() {
                slot.meta = Meta::Counter {
                    threads,
                    per_thread: new_pt,
                    len: n_objects,
                    width,
                };
            }
            Ok(())
        })();
        self.end_update();
        r
    }

    fn counter_off(&self, index: u32, thread: usize, object: usize, want: usize) -> Result<usize> {
        let Meta::Counter {
            per_thread,
            len,
            width,
            ..
        } = &self.slot(index)?.meta
        else {
            return Err(StatsError::Writer(format!(
                "entry {index} is no counter vector"
            )));
        };
        if *width != want || thread >= per_thread.len() || object >= *len {
            return Err(StatsError::Writer(format!(
                "entry {index}: no thread {thread} object {object} of width {want}"
            )));
        }
        Ok(per_thread[thread] + object * 8 * width)
    }

    /// Sets a scalar or gauge value (no lock, like VPP).
    pub fn set_value(&mut self, index: u32, value: u64) -> Result<()> {
        if !matches!(self.slot(index)?.meta, Meta::Value) {
            return Err(StatsError::Writer(format!(
                "entry {index} is no scalar/gauge"
            )));
        }
        self.mem
            .store_u64(
                self.entry_off(index) + ENTRY_OFF_VALUE,
                value,
                Ordering::Relaxed,
            )
            .map_err(werr)
    }

    /// Sets a simple counter (or histogram element) of one thread (no lock, like a worker).
    pub fn set_simple(&mut self, index: u32, thread: usize, object: usize, v: u64) -> Result<()> {
        let off = self.counter_off(index, thread, object, 1)?;
        self.mem.store_u64(off, v, Ordering::Relaxed).map_err(werr)
    }

    /// Adds to a simple counter of one thread (no lock, like a worker).
    pub fn add_simple(&mut self, index: u32, thread: usize, object: usize, d: u64) -> Result<()> {
        let off = self.counter_off(index, thread, object, 1)?;
        self.mem.fetch_add_u64(off, d).map_err(werr).map(drop)
    }

    /// Sets a combined counter of one thread (two stores, no lock, like a worker).
    pub fn set_combined(
        &mut self,
        index: u32,
        thread: usize,
        object: usize,
        packets: u64,
        bytes: u64,
    ) -> Result<()> {
        let off = self.counter_off(index, thread, object, 2)?;
        self.mem
            .store_u64(off, packets, Ordering::Relaxed)
            .map_err(werr)?;
        self.mem
            .store_u64(off + 8, bytes, Ordering::Relaxed)
            .map_err(werr)
    }

    /// Adds to a combined counter of one thread (no lock, like a worker).
    pub fn add_combined(
        &mut self,
        index: u32,
        thread: usize,
        object: usize,
        packets: u64,
        bytes: u64,
    ) -> Result<()> {
        let off = self.counter_off(index, thread, object, 2)?;
        self.mem.fetch_add_u64(off, packets).map_err(werr)?;
        self.mem
            .fetch_add_u64(off + 8, bytes)
            .map_err(werr)
            .map(drop)
    }
}

/// Serves a segment memfd on a `SOCK_SEQPACKET` Unix socket like VPP's `stats.sock`: every
/// accepted connection gets one empty message with the fd in `SCM_RIGHTS`, then is closed.
/// Dropping the server stops its thread and removes the socket file.
#[derive(Debug)]
pub struct StatsServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl StatsServer {
    /// Binds `path` (replacing a stale socket file) and starts serving `fd`.
    pub fn bind(path: &Path, fd: OwnedFd) -> io::Result<Self> {
        use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
        let _ = std::fs::remove_file(path);
        let listener = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        rustix::net::bind(&listener, &SocketAddrUnix::new(path)?)?;
        rustix::net::listen(&listener, 64)?;
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let (stop2, served2) = (stop.clone(), served.clone());
        let thread = std::thread::Builder::new()
            .name("stats-server".into())
            .spawn(move || serve_loop(listener, fd, &stop2, &served2))?;
        Ok(Self {
            path: path.to_path_buf(),
            stop,
            served,
            thread: Some(thread),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many clients received the fd.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
}

fn serve_loop(listener: OwnedFd, fd: OwnedFd, stop: &AtomicBool, served: &AtomicU64) {
    use rustix::event::{PollFd, PollFlags, Timespec};
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags};
    let tick = Timespec {
        tv_sec: 0,
        tv_nsec: 20_000_000,
    };
    while !stop.load(Ordering::Relaxed) {
        let mut pfd = [PollFd::new(&listener, PollFlags::IN)];
        if !matches!(rustix::event::poll(&mut pfd, Some(&tick)), Ok(n) if n > 0) {
            continue;
        }
        let Ok(conn) = rustix::net::accept_with(&listener, SocketFlags::CLOEXEC) else {
            continue;
        };
        let fds = [fd.as_fd()];
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if control.push(SendAncillaryMessage::ScmRights(&fds))
            && rustix::net::sendmsg(&conn, &[], &mut control, SendFlags::NOSIGNAL).is_ok()
        {
            served.fetch_add(1, Ordering::Relaxed);
        }
        drop(conn);
    }
}

impl Drop for StatsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A segment shaped like VPP's interface counters: `/if/names` (`local0`, `if1`, ...), every
/// simple and combined `/if/*` vector with `n_interfaces` objects per thread, filled with
/// deterministic non-zero values (thread `t`, interface `i`: packets `i + t + 1`, bytes
/// `64 × packets`, simple counters `i + t`), and with `symlinks` also VPP's per-interface
/// `/interfaces/<name>/<counter>` symlinks (17 per interface). Used by benches and tests.
pub fn interface_segment(
    n_interfaces: usize,
    n_threads: usize,
    symlinks: bool,
) -> Result<SegmentWriter> {
    use crate::interfaces::{COMBINED_INTERFACE_COUNTERS, SIMPLE_INTERFACE_COUNTERS};
    let per_if = 9 * 8 + 8 * 16;
    let dir = if symlinks { 18 * 144 } else { 0 };
    let size = (n_interfaces * (n_threads * per_if + 64 + dir) * 2 + (1 << 20))
        .next_multiple_of(4096)
        .max(32 << 20);
    let mut w = SegmentWriter::new(WriterOptions { size, n_threads })?;
    let names: Vec<String> = (0..n_interfaces)
        .map(|i| {
            if i == 0 {
                "local0".into()
            } else {
                format!("if{i}")
            }
        })
        .collect();
    let refs: Vec<Option<&str>> = names.iter().map(|n| Some(n.as_str())).collect();
    w.begin_update();
    let r = (|| {
        w.add_name_vector("/if/names", &refs)?;
        let mut vectors = Vec::new();
        for c in SIMPLE_INTERFACE_COUNTERS {
            let v = w.add_simple_counter(&format!("/if/{c}"), n_interfaces)?;
            for t in 0..n_threads {
                for i in 0..n_interfaces {
                    w.set_simple(v, t, i, (i + t) as u64)?;
                }
            }
            vectors.push((c, v));
        }
        for c in COMBINED_INTERFACE_COUNTERS {
            let v = w.add_combined_counter(&format!("/if/{c}"), n_interfaces)?;
            for t in 0..n_threads {
                for i in 0..n_interfaces {
                    let p = (i + t + 1) as u64;
                    w.set_combined(v, t, i, p, 64 * p)?;
                }
            }
            vectors.push((c, v));
        }
        if symlinks {
            for (i, n) in names.iter().enumerate() {
                for (c, v) in &vectors {
                    w.add_symlink(&format!("/interfaces/{n}/{c}"), *v, i as u32)?;
                }
            }
        }
        Ok(())
    })();
    w.end_update();
    r.map(|()| w)
}
