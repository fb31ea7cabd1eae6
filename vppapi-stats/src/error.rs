//! Errors of the stats segment reader, client and writer.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong reading VPP's stats segment.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// Connecting to the stats socket or receiving the segment failed.
    #[error("stats socket {path}: {source}")]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// VPP answered on the socket but sent no file descriptor.
    #[error("stats socket {path}: the server sent no segment file descriptor")]
    NoSegmentFd {
        /// The socket path.
        path: PathBuf,
    },
    /// Mapping or reading the segment file failed.
    #[error("stats segment: {0}")]
    Io(#[from] io::Error),
    /// The segment is smaller than its header.
    #[error("stats segment too small: {size} bytes, the shared header needs 40")]
    TooSmall {
        /// Size of the mapping in bytes.
        size: usize,
    },
    /// The header's version is not 2.
    #[error("unsupported stats segment version {found} (this reader supports version 2 only)")]
    UnsupportedVersion {
        /// The version found in the header.
        found: u64,
    },
    /// A pointer, length or value in the segment is invalid (a corrupt segment: the epoch was
    /// stable while we read it).
    #[error("corrupt stats segment at {at}: {what}")]
    Corrupt {
        /// Where: e.g. `directory entry 12 ("/if/rx") thread 1 vector`.
        at: String,
        /// What is wrong.
        what: String,
    },
    /// VPP kept the segment locked (`in_progress`) or kept changing it (`epoch`) for longer
    /// than the configured wait.
    #[error("stats segment busy: VPP kept it locked or changing for {waited:?} (limit reached)")]
    Busy {
        /// How long we waited.
        waited: Duration,
    },
    /// No entry with this name.
    #[error("no stats entry named {0:?}")]
    NotFound(String),
    /// The entry exists but has another type than the operation needs.
    #[error("stats entry {name:?} is a {found}, expected {expected}")]
    WrongType {
        /// Entry name.
        name: String,
        /// Its type.
        found: String,
        /// What was needed.
        expected: &'static str,
    },
    /// No interface with this sw_if_index or name.
    #[error("no interface {0} in the stats segment")]
    NoSuchInterface(String),
    /// An invalid name pattern.
    #[error("invalid stats name pattern: {0}")]
    Pattern(#[from] regex::Error),
    /// Writer-side misuse (e.g. a duplicate name, a segment too small for the layout).
    #[error("stats segment writer: {0}")]
    Writer(String),
}

/// `Result` with [`StatsError`].
pub type Result<T, E = StatsError> = std::result::Result<T, E>;

pub(crate) fn corrupt(at: impl Into<String>, what: impl Into<String>) -> StatsError {
    StatsError::Corrupt {
        at: at.into(),
        what: what.into(),
    }
}
