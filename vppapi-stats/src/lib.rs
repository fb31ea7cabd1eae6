//! # vppapi-stats
//!
//! A pure, safe Rust reader of VPP's stats segment: the shared memory where VPP publishes its
//! counters (interfaces, errors, nodes, buffers, memory, LB VIPs, gauges), plus a
//! [`writer`] that builds and serves such segments (for tests and simulators).
//!
//! - [`Client`] connects to VPP's stats socket (`/run/vpp/stats.sock`, `SOCK_SEQPACKET`),
//!   receives the segment memfd over `SCM_RIGHTS`, maps it read-only and re-maps it when VPP
//!   restarts. [`StatsSegment`] is the mapped segment; it can also be opened from any file
//!   descriptor, a file, or a byte buffer (recordings, fuzzing) with the same reader code.
//! - Only segment version 2 is accepted. Entry types 0-9 are decoded (scalar, simple and
//!   combined counter vectors, name vectors, empty, symlink, log2 histogram, ring buffer
//!   descriptor, gauge); unknown types come back as [`StatValue::Unknown`].
//! - Every read runs inside VPP's optimistic protocol (epoch / `in_progress`), copying data out
//!   with atomic loads, relocating every pointer against the header's base and bounds-checking
//!   it (vector lengths at `ptr - 8` included, with overflow-checked arithmetic). Results of an
//!   attempt that overlapped an update are discarded and the read retried, for at most
//!   [`ReadOptions::busy_timeout`] ([`StatsError::Busy`] after that). A corrupt segment gives
//!   [`StatsError::Corrupt`], never a panic. All `unsafe` code lives in the private `shm`
//!   module.
//! - Names are selected with regular expressions (`regex` crate syntax, unanchored, any of
//!   several patterns): `seg.ls(&["^/if/"])`.
//! - [`StatHandle`]s are resolved once and re-resolve by themselves when the epoch changes.
//! - [`prometheus::render`] exposes a selection of counters in the Prometheus text format.
//!
//! ```no_run
//! use vppapi_stats::{Client, StatValue};
//!
//! # fn main() -> vppapi_stats::Result<()> {
//! let mut client = Client::connect("/run/vpp/stats.sock")?;
//! for name in client.ls(&["^/sys/"])? {
//!     println!("{name}: {:?}", client.read(&name)?);
//! }
//! // Interface counters, summed over threads.
//! let pg0 = client.interface_by_name("pg0")?;
//! println!("pg0 rx {} packets, {} bytes", pg0.rx().packets, pg0.rx().bytes);
//! // A prepared handle: resolved once, re-resolved when the directory changes.
//! let mut drops = client.prepare("/if/drops")?;
//! if let StatValue::Simple(c) = client.read_handle(&mut drops)? {
//!     println!("drops on sw_if_index 1: {} (per thread {:?})", c.sum(1), c.per_thread(1));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The writer side builds a segment that this reader (and vpp_papi) can read:
//!
//! ```
//! use vppapi_stats::writer::{SegmentWriter, WriterOptions};
//! use vppapi_stats::StatValue;
//!
//! # fn main() -> vppapi_stats::Result<()> {
//! let mut w = SegmentWriter::new(WriterOptions { size: 1 << 20, n_threads: 2 })?;
//! let rx = w.add_combined_counter("/if/rx", 2)?;
//! w.add_name_vector("/if/names", &[Some("local0"), Some("pg0")])?;
//! w.add_combined(rx, 1, 1, 10, 640)?; // thread 1, sw_if_index 1
//! let seg = w.reader()?; // a separate read-only mapping of the same memfd
//! assert_eq!(seg.interface_by_name("pg0")?.rx().bytes, 640);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod interfaces;
mod layout;
pub mod prometheus;
mod segment;
mod shm;
mod value;
pub mod writer;

pub use client::{receive_segment_fd, Client, ClientOptions, DEFAULT_STATS_SOCKET};
pub use error::{Result, StatsError};
pub use interfaces::{
    InterfaceCounters, InterfaceStats, COMBINED_INTERFACE_COUNTERS, INTERFACE_NAMES,
    SIMPLE_INTERFACE_COUNTERS,
};
pub use layout::{EntryType, Header, ENTRY_SIZE, HEADER_SIZE, NAME_SIZE, SEGMENT_VERSION};
pub use segment::{ReadOptions, StatHandle, StatsSegment};
pub use value::{
    Combined, CombinedCounters, CounterSum, Entry, Log2Histogram, PerThread, RingBufferInfo,
    RingBufferThread, SimpleCounters, StatValue,
};
