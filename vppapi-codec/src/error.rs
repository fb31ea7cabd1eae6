//! Errors of the codec. Every error names the type and, where it applies, the field.

use thiserror::Error;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended before the fixed part of a type (or a length prefix) was complete.
    #[error("{ty}: truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Wire name of the type being decoded.
        ty: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A VLA count or string length points beyond the end of the frame.
    #[error("{ty}.{field}: length {count} needs {need} bytes, only {have} left in the frame")]
    LengthBeyondFrame {
        /// Wire name of the containing type.
        ty: &'static str,
        /// Field name.
        field: &'static str,
        /// Count / length read from the wire.
        count: u64,
        /// Bytes that count needs.
        need: u64,
        /// Bytes left.
        have: usize,
    },
    /// A VLA count field holds a negative value.
    #[error("{ty}.{field}: negative element count {count}")]
    NegativeCount {
        /// Wire name of the containing type.
        ty: &'static str,
        /// Field name.
        field: &'static str,
        /// The count read.
        count: i64,
    },
    /// A string is not valid UTF-8.
    #[error("{ty}.{field}: string is not valid UTF-8 (first bad byte at {valid_up_to})")]
    InvalidUtf8 {
        /// Wire name of the containing type.
        ty: &'static str,
        /// Field name.
        field: &'static str,
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// A VLA element type has size 0 (would make a count loop without consuming input).
    #[error("{ty}.{field}: VLA of zero-sized elements")]
    ZeroSizedElement {
        /// Wire name of the containing type.
        ty: &'static str,
        /// Field name.
        field: &'static str,
    },
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The caller's buffer is shorter than [`crate::codec::Wire::encoded_len`].
    #[error("{ty}: buffer too small: need {need} bytes, have {have}")]
    BufferTooSmall {
        /// Wire name of the type being encoded.
        ty: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A fixed string `string x[N]` got more than N-1 bytes (VPP needs the NUL).
    #[error("{ty}.{field}: string of {len} bytes does not fit string[{size}] (at most {} bytes)", size - 1)]
    StringTooLong {
        /// Wire name of the containing type.
        ty: &'static str,
        /// Field name.
        field: &'static str,
        /// Length given.
        len: usize,
        /// N of `string x[N]`.
        size: usize,
    },
    /// A string or VLA is longer than its `limit=`.
    #[error("{ty}.{field}: length {len} exceeds limit {limit}")]
    LimitExceeded {
        /// Wire name of the containing type.
        ty: &'static str,
        /// Field name.
        field: &'static str,
        /// Length given.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A VLA has more elements (or a variable string more bytes) than its count/length field holds.
    #[error("{ty}.{field}: {len} elements do not fit the count field (max {max})")]
    CountOverflow {
        /// Wire name of the containing type.
        ty: &'static str,
        /// Field name.
        field: &'static str,
        /// Length given.
        len: usize,
        /// Largest count the field can hold.
        max: u64,
    },
}
