//! The version-2 segment layout (`src/vlib/stats/shared.h`, `stats.h` in VPP).

use std::fmt;

/// The only supported `vlib_stats_shared_header_t.version`.
pub const SEGMENT_VERSION: u64 = 2;
/// Size of the shared header at offset 0.
pub const HEADER_SIZE: usize = 40;
pub(crate) const OFF_VERSION: usize = 0;
pub(crate) const OFF_BASE: usize = 8;
pub(crate) const OFF_EPOCH: usize = 16;
pub(crate) const OFF_IN_PROGRESS: usize = 24;
pub(crate) const OFF_DIRECTORY: usize = 32;

/// Size of one `vlib_stats_entry_t`.
pub const ENTRY_SIZE: usize = 144;
/// Offset of the union (`value`, `data`, `index1`/`index2`) in an entry.
pub(crate) const ENTRY_OFF_VALUE: usize = 8;
/// Offset of the name in an entry.
pub(crate) const ENTRY_OFF_NAME: usize = 16;
/// Size of the NUL-terminated name field (`VLIB_STATS_MAX_NAME_SZ`).
pub const NAME_SIZE: usize = 128;
/// Size of the vppinfra `vec_header_t` before element 0 (length = u32 at `ptr - 8`).
pub const VEC_HEADER_SIZE: usize = 8;

/// Ring buffer descriptor: config (5 × u32) + metadata_offset + data_offset.
pub(crate) const RING_DESC_SIZE: usize = 28;
/// Per-thread ring buffer metadata block.
pub(crate) const RING_METADATA_SIZE: usize = 64;

/// `stat_directory_type_t`: what a directory entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    /// 0: unused.
    Illegal,
    /// 1: a u64 value.
    Scalar,
    /// 2: per-thread vectors of u64 counters.
    CounterSimple,
    /// 3: per-thread vectors of `{packets, bytes}`.
    CounterCombined,
    /// 4: a vector of strings (e.g. `/if/names`).
    NameVector,
    /// 5: a deleted entry.
    Empty,
    /// 6: a link to one column of a counter vector.
    Symlink,
    /// 7: per-thread log2 histograms (VPP 26.02+).
    HistogramLog2,
    /// 8: per-thread ring buffers (VPP 26.02+).
    RingBuffer,
    /// 9: a u64 gauge (VPP 26.02+).
    Gauge,
    /// A type code this reader does not know.
    Unknown(u32),
}

impl EntryType {
    /// From the C enum value.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => Self::Illegal,
            1 => Self::Scalar,
            2 => Self::CounterSimple,
            3 => Self::CounterCombined,
            4 => Self::NameVector,
            5 => Self::Empty,
            6 => Self::Symlink,
            7 => Self::HistogramLog2,
            8 => Self::RingBuffer,
            9 => Self::Gauge,
            n => Self::Unknown(n),
        }
    }

    /// The C enum value.
    pub fn code(self) -> u32 {
        match self {
            Self::Illegal => 0,
            Self::Scalar => 1,
            Self::CounterSimple => 2,
            Self::CounterCombined => 3,
            Self::NameVector => 4,
            Self::Empty => 5,
            Self::Symlink => 6,
            Self::HistogramLog2 => 7,
            Self::RingBuffer => 8,
            Self::Gauge => 9,
            Self::Unknown(n) => n,
        }
    }
}

impl fmt::Display for EntryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Illegal => f.write_str("illegal entry"),
            Self::Scalar => f.write_str("scalar"),
            Self::CounterSimple => f.write_str("simple counter vector"),
            Self::CounterCombined => f.write_str("combined counter vector"),
            Self::NameVector => f.write_str("name vector"),
            Self::Empty => f.write_str("empty entry"),
            Self::Symlink => f.write_str("symlink"),
            Self::HistogramLog2 => f.write_str("log2 histogram"),
            Self::RingBuffer => f.write_str("ring buffer"),
            Self::Gauge => f.write_str("gauge"),
            Self::Unknown(n) => write!(f, "unknown entry type {n}"),
        }
    }
}

/// The shared header (`vlib_stats_shared_header_t`) as read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Segment version (2).
    pub version: u64,
    /// VPP's address of the mapping; every pointer is relative to it.
    pub base: u64,
    /// Incremented on every structural change.
    pub epoch: u64,
    /// Non-zero while VPP modifies the directory or vectors.
    pub in_progress: u64,
    /// VPP's address of the directory vector.
    pub directory_vector: u64,
}
