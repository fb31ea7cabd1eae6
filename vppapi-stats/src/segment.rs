//! The reader: a mapped segment, the epoch / `in_progress` retry loop, pointer relocation with
//! bounds checks, and decoding of every entry type.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regex::RegexSet;

use crate::error::{corrupt, Result, StatsError};
use crate::layout::*;
use crate::shm::SharedMemory;
use crate::value::*;

/// How long and how a reader waits for a consistent view.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Longest time one read may wait for VPP to finish an update (`in_progress`) or stop
    /// changing the epoch before it fails with [`StatsError::Busy`]. Default 1 s.
    pub busy_timeout: Duration,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(1),
        }
    }
}

static NEXT_SEGMENT_ID: AtomicU64 = AtomicU64::new(1);

/// Directory name -> index map, valid for one epoch of one segment.
#[derive(Debug)]
pub(crate) struct DirIndex {
    epoch: u64,
    /// `(index, name, type)` of every non-empty entry, in directory order.
    pub(crate) entries: Vec<(u32, String, EntryType)>,
    by_name: HashMap<String, u32>,
}

/// A prepared handle: a name resolved once to a directory index. Reading through it re-resolves
/// the name by itself when the segment's epoch changed (or the client re-connected to a new
/// segment), so it stays correct when entries move, are removed or are re-added.
#[derive(Debug, Clone)]
pub struct StatHandle {
    name: String,
    index: u32,
    epoch: u64,
    segment_id: u64,
}

impl StatHandle {
    /// The entry name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The directory index as last resolved.
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// A mapped VPP stats segment (version 2), read-only.
///
/// Every read copies the requested data out inside VPP's optimistic concurrency protocol and
/// validates it before returning, so results are consistent snapshots. A corrupt segment gives
/// [`StatsError::Corrupt`]; a segment VPP keeps locked gives [`StatsError::Busy`].
pub struct StatsSegment {
    mem: SharedMemory,
    id: u64,
    opts: ReadOptions,
    cache: Mutex<Option<Arc<DirIndex>>>,
    identity: Option<(u64, u64)>,
    retries: AtomicU64,
}

impl std::fmt::Debug for StatsSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsSegment")
            .field("size", &self.mem.len())
            .field("header", &self.header())
            .finish()
    }
}

/// One read attempt: relocation, bounds checks and a copy budget.
pub(crate) struct Ctx<'a> {
    mem: &'a SharedMemory,
    base: u64,
    dir_off: usize,
    dir_len: usize,
    /// Bytes we may still copy in this attempt: a corrupt segment whose vectors all point at the
    /// same big block must not make us copy (or allocate) without bound.
    budget: u64,
}

fn name_from_bytes(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

impl<'a> Ctx<'a> {
    fn charge(&mut self, bytes: u64, at: &dyn Fn() -> String) -> Result<()> {
        self.budget = self.budget.checked_sub(bytes).ok_or_else(|| {
            corrupt(
                at(),
                "vectors add up to more than the segment size (overlapping or looping pointers)",
            )
        })?;
        Ok(())
    }

    /// Translates a VPP address of `size` bytes to an offset in our mapping.
    fn reloc(&self, ptr: u64, size: u64, at: &dyn Fn() -> String) -> Result<usize> {
        let off = ptr.checked_sub(self.base).ok_or_else(|| {
            corrupt(
                at(),
                format!("pointer {ptr:#x} below the segment base {:#x}", self.base),
            )
        })?;
        match off.checked_add(size) {
            Some(end) if end <= self.mem.len() as u64 => Ok(off as usize),
            _ => Err(corrupt(
                at(),
                format!(
                    "{size} bytes at {ptr:#x} (offset {off:#x}) outside the {}-byte segment",
                    self.mem.len()
                ),
            )),
        }
    }

    /// Locates a vppinfra vector: `(offset of element 0, length)`. A NULL vector is empty.
    fn vec_at(&mut self, ptr: u64, elem: u64, at: &dyn Fn() -> String) -> Result<(usize, usize)> {
        if ptr == 0 {
            return Ok((0, 0));
        }
        let hdr_ptr = ptr
            .checked_sub(VEC_HEADER_SIZE as u64)
            .ok_or_else(|| corrupt(at(), format!("vector pointer {ptr:#x} too small")))?;
        let hdr = self.reloc(hdr_ptr, VEC_HEADER_SIZE as u64, at)?;
        let len = self
            .mem
            .load_u32(hdr)
            .ok_or_else(|| corrupt(at(), "vector header out of bounds"))?;
        let bytes = u64::from(len)
            .checked_mul(elem)
            .ok_or_else(|| corrupt(at(), "vector length overflows"))?;
        let off = self.reloc(ptr, bytes, &|| {
            format!("{} (vector of {len} elements)", at())
        })?;
        self.charge(bytes + VEC_HEADER_SIZE as u64, at)?;
        Ok((off, len as usize))
    }

    fn u64_at(&self, off: usize, at: &dyn Fn() -> String) -> Result<u64> {
        self.mem
            .load_u64(off)
            .ok_or_else(|| corrupt(at(), "read outside the segment"))
    }

    fn u32_at(&self, off: usize, at: &dyn Fn() -> String) -> Result<u32> {
        self.mem
            .load_u32(off)
            .ok_or_else(|| corrupt(at(), "read outside the segment"))
    }

    fn entry_off(&self, index: u32) -> Result<usize> {
        if (index as usize) >= self.dir_len {
            return Err(corrupt(
                format!("directory entry {index}"),
                format!("index beyond the directory ({} entries)", self.dir_len),
            ));
        }
        Ok(self.dir_off + index as usize * ENTRY_SIZE)
    }

    fn entry_type(&self, index: u32) -> Result<EntryType> {
        let off = self.entry_off(index)?;
        Ok(EntryType::from_code(
            self.u32_at(off, &|| format!("directory entry {index}"))?,
        ))
    }

    fn entry_name(&self, index: u32) -> Result<String> {
        let off = self.entry_off(index)?;
        let mut raw = Vec::with_capacity(NAME_SIZE);
        self.mem
            .copy_bytes(off + ENTRY_OFF_NAME, NAME_SIZE, &mut raw)
            .ok_or_else(|| corrupt(format!("directory entry {index}"), "name out of bounds"))?;
        Ok(name_from_bytes(&raw))
    }

    fn entry_value(&self, index: u32) -> Result<u64> {
        let off = self.entry_off(index)?;
        self.u64_at(off + ENTRY_OFF_VALUE, &|| {
            format!("directory entry {index}")
        })
    }

    fn build_dir(&mut self, epoch: u64) -> Result<DirIndex> {
        let mut entries = Vec::with_capacity(self.dir_len);
        let mut by_name = HashMap::with_capacity(self.dir_len);
        for i in 0..self.dir_len as u32 {
            let t = self.entry_type(i)?;
            if matches!(t, EntryType::Empty | EntryType::Illegal) {
                continue;
            }
            let name = self.entry_name(i)?;
            by_name.entry(name.clone()).or_insert(i);
            entries.push((i, name, t));
        }
        Ok(DirIndex {
            epoch,
            entries,
            by_name,
        })
    }

    /// Copies the per-thread u64 vectors of a counter entry. `width` is 1 (simple) or 2
    /// (combined).
    fn per_thread_u64s(
        &mut self,
        data: u64,
        width: usize,
        at: &dyn Fn() -> String,
    ) -> Result<Vec<Vec<u64>>> {
        let (toff, n_threads) = self.vec_at(data, 8, at)?;
        let mut out = Vec::with_capacity(n_threads);
        for t in 0..n_threads {
            let at_t = || format!("{} thread {t}", at());
            let p = self.u64_at(toff + t * 8, &at_t)?;
            let (off, n) = self.vec_at(p, 8 * width as u64, &at_t)?;
            let mut v = Vec::new();
            self.mem
                .copy_u64s(off, n * width, &mut v)
                .ok_or_else(|| corrupt(at_t(), "counter vector out of bounds"))?;
            out.push(v);
        }
        Ok(out)
    }

    /// One object's value in every thread of a counter vector (symlinks, per-interface reads).
    fn column(
        &mut self,
        data: u64,
        width: usize,
        object: u32,
        at: &dyn Fn() -> String,
    ) -> Result<Vec<u64>> {
        let (toff, n_threads) = self.vec_at(data, 8, at)?;
        let mut out = Vec::with_capacity(n_threads * width);
        for t in 0..n_threads {
            let at_t = || format!("{} thread {t}", at());
            let p = self.u64_at(toff + t * 8, &at_t)?;
            // Only the one element is copied: charge that, not the whole vector.
            let (off, n) = self.vec_at_no_charge(p, 8 * width as u64, &at_t)?;
            self.charge(8 * width as u64, &at_t)?;
            if object as usize >= n {
                return Err(corrupt(
                    at_t(),
                    format!("object {object} beyond the counter vector ({n} objects)"),
                ));
            }
            self.mem
                .copy_u64s(off + object as usize * 8 * width, width, &mut out)
                .ok_or_else(|| corrupt(at_t(), "counter out of bounds"))?;
        }
        Ok(out)
    }

    fn names(&mut self, data: u64, at: &dyn Fn() -> String) -> Result<Vec<Option<String>>> {
        let (off, n) = self.vec_at(data, 8, at)?;
        let mut out = Vec::with_capacity(n);
        let mut raw = Vec::new();
        for i in 0..n {
            let at_i = || format!("{} name {i}", at());
            let p = self.u64_at(off + i * 8, &at_i)?;
            if p == 0 {
                out.push(None);
                continue;
            }
            let (soff, len) = self.vec_at(p, 1, &at_i)?;
            raw.clear();
            self.mem
                .copy_bytes(soff, len, &mut raw)
                .ok_or_else(|| corrupt(at_i(), "string out of bounds"))?;
            out.push(Some(name_from_bytes(&raw)));
        }
        Ok(out)
    }

    fn ring_buffer(&mut self, data: u64, at: &dyn Fn() -> String) -> Result<RingBufferInfo> {
        let off = self.reloc(data, RING_DESC_SIZE as u64, at)?;
        let mut f = [0u32; 7];
        for (i, x) in f.iter_mut().enumerate() {
            *x = self.u32_at(off + i * 4, at)?;
        }
        let [entry_size, ring_size, n_threads, schema_size, schema_version, metadata_offset, data_offset] =
            f;
        let mut info = RingBufferInfo {
            entry_size,
            ring_size,
            n_threads,
            schema_size,
            schema_version,
            metadata_offset,
            data_offset,
            threads: Vec::new(),
        };
        for t in 0..u64::from(n_threads) {
            let at_t = || format!("{} thread {t} metadata", at());
            let p = data
                .checked_add(u64::from(metadata_offset))
                .and_then(|p| p.checked_add(t * RING_METADATA_SIZE as u64))
                .ok_or_else(|| corrupt(at_t(), "metadata address overflows"))?;
            let m = self.reloc(p, RING_METADATA_SIZE as u64, &at_t)?;
            self.charge(RING_METADATA_SIZE as u64, &at_t)?;
            info.threads.push(RingBufferThread {
                head: self.u32_at(m, &at_t)?,
                schema_version: self.u32_at(m + 4, &at_t)?,
                sequence: self.u64_at(m + 8, &at_t)?,
                schema_offset: self.u32_at(m + 16, &at_t)?,
                schema_size: self.u32_at(m + 20, &at_t)?,
            });
        }
        Ok(info)
    }

    /// Reads entry `index`, following a symlink to its target's column.
    pub(crate) fn read_entry(&mut self, index: u32) -> Result<Entry> {
        let off = self.entry_off(index)?;
        let t = self.entry_type(index)?;
        let name = self.entry_name(index)?;
        let raw = self.entry_value(index)?;
        let at = || format!("directory entry {index} ({name:?})");
        let mut link = None;
        let value = match t {
            EntryType::Scalar => StatValue::Scalar(raw),
            EntryType::Gauge => StatValue::Gauge(raw),
            EntryType::Empty | EntryType::Illegal => StatValue::Empty,
            EntryType::CounterSimple => StatValue::Simple(PerThread {
                values: self.per_thread_u64s(raw, 1, &at)?,
            }),
            EntryType::CounterCombined => StatValue::Combined(PerThread {
                values: self
                    .per_thread_u64s(raw, 2, &at)?
                    .into_iter()
                    .map(pairs)
                    .collect(),
            }),
            EntryType::NameVector => StatValue::Names(self.names(raw, &at)?),
            EntryType::Symlink => {
                let target = self.u32_at(off + ENTRY_OFF_VALUE, &at)?;
                let object = self.u32_at(off + ENTRY_OFF_VALUE + 4, &at)?;
                link = Some((target, object));
                let tt = self.entry_type(target).map_err(|_| {
                    corrupt(
                        at(),
                        format!("symlink target {target} beyond the directory"),
                    )
                })?;
                let data = self.entry_value(target)?;
                let at_l = || format!("{} -> entry {target} object {object}", at());
                match tt {
                    EntryType::CounterSimple => {
                        StatValue::SimpleColumn(self.column(data, 1, object, &at_l)?)
                    }
                    EntryType::CounterCombined => {
                        StatValue::CombinedColumn(pairs(self.column(data, 2, object, &at_l)?))
                    }
                    other => {
                        return Err(corrupt(
                            at(),
                            format!("symlink to entry {target}, a {other} (not a counter vector)"),
                        ))
                    }
                }
            }
            EntryType::HistogramLog2 => {
                let threads = self.per_thread_u64s(raw, 1, &at)?;
                StatValue::HistogramLog2(
                    threads
                        .into_iter()
                        .map(|v| match v.split_first() {
                            Some((m, bins)) => Log2Histogram {
                                min_exp: *m,
                                bins: bins.to_vec(),
                            },
                            None => Log2Histogram::default(),
                        })
                        .collect(),
                )
            }
            EntryType::RingBuffer => StatValue::RingBuffer(self.ring_buffer(raw, &at)?),
            EntryType::Unknown(code) => StatValue::Unknown {
                type_code: code,
                raw,
            },
        };
        Ok(Entry {
            index,
            name,
            entry_type: t,
            link,
            value,
        })
    }

    /// One object of a counter entry summed over threads, without copying whole vectors.
    pub(crate) fn counter_column(&mut self, index: u32, object: u32) -> Result<ColumnValue> {
        let t = self.entry_type(index)?;
        let data = self.entry_value(index)?;
        let at = || format!("directory entry {index} object {object}");
        match t {
            EntryType::CounterSimple => Ok(ColumnValue::Simple(self.column(data, 1, object, &at)?)),
            EntryType::CounterCombined => Ok(ColumnValue::Combined(pairs(
                self.column(data, 2, object, &at)?,
            ))),
            other => Err(corrupt(
                at(),
                format!("expected a counter vector, found a {other}"),
            )),
        }
    }

    pub(crate) fn names_of(&mut self, index: u32) -> Result<Vec<Option<String>>> {
        let t = self.entry_type(index)?;
        if t != EntryType::NameVector {
            return Err(corrupt(
                format!("directory entry {index}"),
                format!("expected a name vector, found a {t}"),
            ));
        }
        let data = self.entry_value(index)?;
        self.names(data, &|| format!("directory entry {index}"))
    }

    pub(crate) fn name_at(&mut self, index: u32, object: u32) -> Result<Option<String>> {
        let data = self.entry_value(index)?;
        let at = || format!("directory entry {index} name {object}");
        let (off, n) = self.vec_at_no_charge(data, 8, &at)?;
        if object as usize >= n {
            return Ok(None);
        }
        let p = self.u64_at(off + object as usize * 8, &at)?;
        if p == 0 {
            return Ok(None);
        }
        let (soff, len) = self.vec_at(p, 1, &at)?;
        let mut raw = Vec::new();
        self.mem
            .copy_bytes(soff, len, &mut raw)
            .ok_or_else(|| corrupt(at(), "string out of bounds"))?;
        Ok(Some(name_from_bytes(&raw)))
    }

    /// Like `vec_at` for a vector we index into without copying it.
    fn vec_at_no_charge(
        &mut self,
        ptr: u64,
        elem: u64,
        at: &dyn Fn() -> String,
    ) -> Result<(usize, usize)> {
        let before = self.budget;
        let r = self.vec_at(ptr, elem, at);
        self.budget = before;
        r
    }
}

/// One object of a counter vector, per thread.
pub(crate) enum ColumnValue {
    Simple(Vec<u64>),
    Combined(Vec<Combined>),
}

fn pairs(v: Vec<u64>) -> Vec<Combined> {
    v.chunks_exact(2)
        .map(|c| Combined {
            packets: c[0],
            bytes: c[1],
        })
        .collect()
}

/// What a consistent read attempt has at hand.
pub(crate) struct View<'c, 'a> {
    pub(crate) ctx: &'c mut Ctx<'a>,
    epoch: u64,
    cached: Option<Arc<DirIndex>>,
    built: Option<Arc<DirIndex>>,
}

impl View<'_, '_> {
    pub(crate) fn dir(&mut self) -> Result<Arc<DirIndex>> {
        if let Some(d) = &self.built {
            return Ok(d.clone());
        }
        if let Some(d) = &self.cached {
            if d.epoch == self.epoch {
                return Ok(d.clone());
            }
        }
        let d = Arc::new(self.ctx.build_dir(self.epoch)?);
        self.built = Some(d.clone());
        Ok(d)
    }

    /// The directory index of `name` (non-empty entries only).
    pub(crate) fn lookup(&mut self, name: &str) -> Result<u32> {
        self.dir()?
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| StatsError::NotFound(name.to_string()))
    }

    pub(crate) fn find(&mut self, name: &str) -> Result<Option<u32>> {
        Ok(self.dir()?.by_name.get(name).copied())
    }
}

impl StatsSegment {
    fn new(mem: SharedMemory, identity: Option<(u64, u64)>) -> Result<Self> {
        if mem.len() < HEADER_SIZE {
            return Err(StatsError::TooSmall { size: mem.len() });
        }
        let seg = Self {
            mem,
            id: NEXT_SEGMENT_ID.fetch_add(1, Ordering::Relaxed),
            opts: ReadOptions::default(),
            cache: Mutex::new(None),
            identity,
            retries: AtomicU64::new(0),
        };
        let version = seg.header().version;
        if version != SEGMENT_VERSION {
            return Err(StatsError::UnsupportedVersion { found: version });
        }
        Ok(seg)
    }

    /// Maps a segment from a file descriptor (a memfd received from VPP, or any file), read-only.
    /// The size comes from `fstat`; the descriptor may be closed afterwards.
    pub fn from_fd(fd: impl AsFd) -> Result<Self> {
        let st = rustix::fs::fstat(fd.as_fd()).map_err(std::io::Error::from)?;
        let size = usize::try_from(st.st_size).map_err(|_| StatsError::TooSmall { size: 0 })?;
        if size < HEADER_SIZE {
            return Err(StatsError::TooSmall { size });
        }
        let mem = SharedMemory::map_fd(fd.as_fd(), size, false)?;
        Self::new(mem, Some(file_id(&st)))
    }

    /// Opens a segment stored in a file (e.g. a recording), mapped read-only.
    pub fn open_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_fd(File::open(path)?)
    }

    /// A segment from bytes (copied into a private buffer): recordings, tests, fuzzing.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::new(SharedMemory::from_bytes(bytes), None)
    }

    /// Replaces the read options.
    pub fn with_options(mut self, opts: ReadOptions) -> Self {
        self.opts = opts;
        self
    }

    /// The read options.
    pub fn options(&self) -> &ReadOptions {
        &self.opts
    }

    /// Size of the mapping in bytes.
    pub fn size(&self) -> usize {
        self.mem.len()
    }

    /// `(st_dev, st_ino)` of the file the segment was mapped from (None for byte buffers).
    pub fn file_identity(&self) -> Option<(u64, u64)> {
        self.identity
    }

    /// The shared header as it is right now (not validated against concurrent updates).
    pub fn header(&self) -> Header {
        let ld = |off| self.mem.load_u64_acquire(off).unwrap_or(0);
        // `in_progress` first, then `epoch`: VPP ends an update with `epoch++` and then
        // `in_progress = 0`. Loaded the other way round, a check after a read could see the old
        // epoch and then the new `in_progress = 0` of an update that ran in between, and accept
        // a torn copy. Loaded in this order, seeing that `in_progress = 0` (acquire) makes the
        // new epoch visible to the epoch load that follows, so the check fails and retries.
        let in_progress = ld(OFF_IN_PROGRESS);
        let epoch = ld(OFF_EPOCH);
        Header {
            version: ld(OFF_VERSION),
            base: ld(OFF_BASE),
            epoch,
            in_progress,
            directory_vector: ld(OFF_DIRECTORY),
        }
    }

    /// How many read attempts were discarded (overlapping an update, or waiting on one) since
    /// this segment was mapped.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.header().epoch
    }

    /// Runs `f` inside VPP's optimistic protocol until it saw a consistent segment, or until the
    /// busy timeout. Results (and errors) of attempts that overlapped an update are discarded.
    pub(crate) fn consistent<T>(
        &self,
        mut f: impl FnMut(&mut View<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let start = Instant::now();
        let mut attempt = 0u32;
        let cached = self.cache.lock().map(|c| c.clone()).unwrap_or(None);
        loop {
            let h = self.header();
            if h.in_progress == 0 {
                if h.version != SEGMENT_VERSION {
                    return Err(StatsError::UnsupportedVersion { found: h.version });
                }
                let r = self.attempt(&h, cached.clone(), &mut f);
                fence(Ordering::Acquire);
                let after = self.header();
                if after.in_progress == 0 && after.epoch == h.epoch {
                    let (r, built) = r;
                    if let Some(b) = built {
                        if let Ok(mut c) = self.cache.lock() {
                            *c = Some(b);
                        }
                    }
                    return r;
                }
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            let waited = start.elapsed();
            if waited >= self.opts.busy_timeout {
                return Err(StatsError::Busy { waited });
            }
            attempt += 1;
            if attempt < 32 {
                std::hint::spin_loop();
            } else if attempt < 256 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
    }

    fn attempt<T>(
        &self,
        h: &Header,
        cached: Option<Arc<DirIndex>>,
        f: &mut impl FnMut(&mut View<'_, '_>) -> Result<T>,
    ) -> (Result<T>, Option<Arc<DirIndex>>) {
        let mut ctx = Ctx {
            mem: &self.mem,
            base: h.base,
            dir_off: 0,
            dir_len: 0,
            budget: 2 * self.mem.len() as u64 + (1 << 16),
        };
        match ctx.vec_at(h.directory_vector, ENTRY_SIZE as u64, &|| {
            "the directory vector".to_string()
        }) {
            Ok((off, len)) => {
                ctx.dir_off = off;
                ctx.dir_len = len;
            }
            Err(e) => return (Err(e), None),
        }
        let mut view = View {
            ctx: &mut ctx,
            epoch: h.epoch,
            cached,
            built: None,
        };
        let r = f(&mut view);
        (r, view.built)
    }

    /// Names of the non-empty entries matching any of `patterns` (regular expressions, `regex`
    /// crate syntax, unanchored: `"^/if/"` matches names starting with `/if/`), in directory
    /// order. No patterns: every name.
    pub fn ls(&self, patterns: &[&str]) -> Result<Vec<String>> {
        Ok(self
            .list(patterns)?
            .into_iter()
            .map(|(_, name, _)| name)
            .collect())
    }

    /// `(index, name, type)` of the non-empty entries matching any of `patterns` (see [`ls`]).
    ///
    /// [`ls`]: Self::ls
    pub fn list(&self, patterns: &[&str]) -> Result<Vec<(u32, String, EntryType)>> {
        let set = pattern_set(patterns)?;
        self.consistent(|v| {
            let dir = v.dir()?;
            Ok(dir
                .entries
                .iter()
                .filter(|(_, n, _)| set.as_ref().is_none_or(|s| s.is_match(n)))
                .cloned()
                .collect())
        })
    }

    /// Reads the entry named `name` (symlinks followed).
    pub fn read(&self, name: &str) -> Result<StatValue> {
        Ok(self.read_entry(name)?.value)
    }

    /// Reads the entry named `name` with its index, type and link.
    pub fn read_entry(&self, name: &str) -> Result<Entry> {
        self.consistent(|v| {
            let i = v.lookup(name)?;
            v.ctx.read_entry(i)
        })
    }

    /// Reads the entry at directory index `index` (possibly `Empty`).
    pub fn read_index(&self, index: u32) -> Result<Entry> {
        self.consistent(|v| v.ctx.read_entry(index))
    }

    /// Reads every non-empty entry matching any of `patterns` (see [`ls`]) in one consistent
    /// snapshot.
    ///
    /// [`ls`]: Self::ls
    pub fn dump(&self, patterns: &[&str]) -> Result<Vec<Entry>> {
        let set = pattern_set(patterns)?;
        self.consistent(|v| {
            let dir = v.dir()?;
            let mut out = Vec::new();
            for (i, n, _) in &dir.entries {
                if set.as_ref().is_none_or(|s| s.is_match(n)) {
                    out.push(v.ctx.read_entry(*i)?);
                }
            }
            Ok(out)
        })
    }

    /// Resolves `name` once; read it with [`read_handle`](Self::read_handle).
    pub fn prepare(&self, name: &str) -> Result<StatHandle> {
        let (index, epoch) = self.consistent(|v| Ok((v.lookup(name)?, v.epoch)))?;
        Ok(StatHandle {
            name: name.to_string(),
            index,
            epoch,
            segment_id: self.id,
        })
    }

    fn resolve(&self, v: &mut View<'_, '_>, h: &StatHandle) -> Result<u32> {
        if h.segment_id == self.id && h.epoch == v.epoch {
            Ok(h.index)
        } else {
            v.lookup(&h.name)
        }
    }

    /// Reads through a prepared handle, re-resolving it when the epoch (or segment) changed.
    pub fn read_handle(&self, h: &mut StatHandle) -> Result<StatValue> {
        let (i, epoch, e) = self.consistent(|v| {
            let i = self.resolve(v, h)?;
            Ok((i, v.epoch, v.ctx.read_entry(i)?))
        })?;
        h.index = i;
        h.epoch = epoch;
        h.segment_id = self.id;
        Ok(e.value)
    }

    /// Reads several handles in one consistent snapshot.
    pub fn read_handles(&self, hs: &mut [StatHandle]) -> Result<Vec<StatValue>> {
        let (idx, epoch, vals) = self.consistent(|v| {
            let mut idx = Vec::with_capacity(hs.len());
            let mut vals = Vec::with_capacity(hs.len());
            for h in hs.iter() {
                let i = self.resolve(v, h)?;
                idx.push(i);
                vals.push(v.ctx.read_entry(i)?.value);
            }
            Ok((idx, v.epoch, vals))
        })?;
        for (h, i) in hs.iter_mut().zip(idx) {
            h.index = i;
            h.epoch = epoch;
            h.segment_id = self.id;
        }
        Ok(vals)
    }
}

fn pattern_set(patterns: &[&str]) -> Result<Option<RegexSet>> {
    if patterns.is_empty() {
        Ok(None)
    } else {
        Ok(Some(RegexSet::new(patterns)?))
    }
}

/// `(st_dev, st_ino)`: identifies a memfd or socket file.
// The field types differ between targets (u64 here, u32/i64 elsewhere).
#[allow(clippy::unnecessary_cast)]
pub(crate) fn file_id(st: &rustix::fs::Stat) -> (u64, u64) {
    (st.st_dev as u64, st.st_ino as u64)
}
