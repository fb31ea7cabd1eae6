//! Values copied out of the segment.

use crate::layout::EntryType;

/// A combined counter (`vlib_counter_t`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Combined {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Combined {
    /// Element-wise wrapping sum (VPP counters wrap).
    pub fn wrapping_add(self, o: Combined) -> Combined {
        Combined {
            packets: self.packets.wrapping_add(o.packets),
            bytes: self.bytes.wrapping_add(o.bytes),
        }
    }
}

/// Per-thread vectors of counters: `values[thread][object]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerThread<T> {
    /// `values[thread][object]`.
    pub values: Vec<Vec<T>>,
}

/// A simple counter vector (`counter_t` = u64).
pub type SimpleCounters = PerThread<u64>;
/// A combined counter vector.
pub type CombinedCounters = PerThread<Combined>;

/// Summing of counter elements (wrapping, as VPP's counters wrap).
pub trait CounterSum: Copy + Default {
    /// `self + o`, wrapping.
    fn add(self, o: Self) -> Self;
}
impl CounterSum for u64 {
    fn add(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
}
impl CounterSum for Combined {
    fn add(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
}

impl<T: CounterSum> PerThread<T> {
    /// Number of threads (vectors).
    pub fn n_threads(&self) -> usize {
        self.values.len()
    }
    /// Number of objects (the longest thread vector).
    pub fn n_objects(&self) -> usize {
        self.values.iter().map(Vec::len).max().unwrap_or(0)
    }
    /// The value of `object` in `thread`, if present.
    pub fn get(&self, thread: usize, object: usize) -> Option<T> {
        self.values.get(thread)?.get(object).copied()
    }
    /// The values of `object` in every thread (missing ones as zero).
    pub fn per_thread(&self, object: usize) -> Vec<T> {
        self.values
            .iter()
            .map(|t| t.get(object).copied().unwrap_or_default())
            .collect()
    }
    /// The sum of `object` over all threads.
    pub fn sum(&self, object: usize) -> T {
        self.values
            .iter()
            .filter_map(|t| t.get(object))
            .fold(T::default(), |a, b| a.add(*b))
    }
    /// The sums over threads for every object.
    pub fn sums(&self) -> Vec<T> {
        let mut out = vec![T::default(); self.n_objects()];
        for t in &self.values {
            for (o, v) in out.iter_mut().zip(t) {
                *o = o.add(*v);
            }
        }
        out
    }
}

/// One thread's log2 histogram: bin `i` counts values in `[2^(min_exp+i-1), 2^(min_exp+i))`
/// as VPP defines it (`vlib_stats_histogram_log2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log2Histogram {
    /// Element 0 of the thread's vector: the minimum exponent.
    pub min_exp: u64,
    /// The remaining elements: the bins.
    pub bins: Vec<u64>,
}

/// A ring buffer's descriptor and per-thread metadata (the ring contents are not decoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RingBufferInfo {
    /// Size of one entry in bytes.
    pub entry_size: u32,
    /// Entries per thread.
    pub ring_size: u32,
    /// Number of threads.
    pub n_threads: u32,
    /// Size of the schema blob.
    pub schema_size: u32,
    /// Version of the schema.
    pub schema_version: u32,
    /// Offset of the metadata blocks from the descriptor.
    pub metadata_offset: u32,
    /// Offset of the ring data from the descriptor.
    pub data_offset: u32,
    /// Per-thread metadata.
    pub threads: Vec<RingBufferThread>,
}

/// Per-thread ring buffer metadata (64 bytes in the segment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingBufferThread {
    /// Next slot to be written.
    pub head: u32,
    /// Schema version for this thread.
    pub schema_version: u32,
    /// Number of entries written so far.
    pub sequence: u64,
    /// Offset of the schema.
    pub schema_offset: u32,
    /// Size of the schema.
    pub schema_size: u32,
}

/// The value of one directory entry, copied out under the epoch protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum StatValue {
    /// A scalar (`/sys/boottime`, `/sys/heartbeat`, ...).
    Scalar(u64),
    /// A gauge (`/sys/vector_rate`, ...).
    Gauge(u64),
    /// A simple counter vector `[thread][object]`.
    Simple(SimpleCounters),
    /// A combined counter vector `[thread][object]`.
    Combined(CombinedCounters),
    /// A name vector; `None` for unused slots (NULL pointers).
    Names(Vec<Option<String>>),
    /// A symlink into a simple counter vector: the object's value per thread.
    SimpleColumn(Vec<u64>),
    /// A symlink into a combined counter vector: the object's value per thread.
    CombinedColumn(Vec<Combined>),
    /// Per-thread log2 histograms.
    HistogramLog2(Vec<Log2Histogram>),
    /// A ring buffer (descriptor and per-thread metadata).
    RingBuffer(RingBufferInfo),
    /// A deleted (or illegal) entry.
    Empty,
    /// An entry type this reader does not know; `raw` is the union as a u64.
    Unknown {
        /// The type code.
        type_code: u32,
        /// The entry's union field.
        raw: u64,
    },
}

impl StatValue {
    /// A short description of the value's kind, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Scalar(_) => "scalar",
            Self::Gauge(_) => "gauge",
            Self::Simple(_) => "simple counter vector",
            Self::Combined(_) => "combined counter vector",
            Self::Names(_) => "name vector",
            Self::SimpleColumn(_) => "simple counter (symlink)",
            Self::CombinedColumn(_) => "combined counter (symlink)",
            Self::HistogramLog2(_) => "log2 histogram",
            Self::RingBuffer(_) => "ring buffer",
            Self::Empty => "empty entry",
            Self::Unknown { .. } => "unknown entry",
        }
    }
}

/// A directory entry with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Directory index.
    pub index: u32,
    /// Name (bytes up to the NUL, lossily decoded as UTF-8).
    pub name: String,
    /// The entry's own type (`Symlink` for symlinks, whose `value` is the target's column).
    pub entry_type: EntryType,
    /// For symlinks: `(target directory index, object index)`.
    pub link: Option<(u32, u32)>,
    /// The value.
    pub value: StatValue,
}
