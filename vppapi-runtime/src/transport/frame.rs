//! Framing (wire doc 4.2): every message in both directions is a 16-byte header
//! (`q` u64 = 0, `data_len` BE u32, `gc_mark_timestamp` u32 = 0) followed by the body, which
//! starts with the BE `_vl_msg_id`. Receivers ignore `q` and the timestamp (VPP puts a pointer
//! in `q`). The shared-memory transport's `msgbuf_t` has the same 16 bytes, so a frame
//! encoded here is also what goes into a ring slot.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::codec::{encode_message, message_len, EncodeError, Message};

/// Length of the frame header.
pub const HEADER_LEN: usize = 16;
/// Where VPP listens when started as root with `socksvr { default }`.
pub const DEFAULT_SOCKET: &str = "/run/vpp/api.sock";

/// Write a frame header for a body of `body_len` bytes.
pub fn write_header(out: &mut [u8; HEADER_LEN], body_len: u32) {
    *out = [0; HEADER_LEN];
    out[8..12].copy_from_slice(&body_len.to_be_bytes());
}

/// Append one frame (header + message) to `out`; encodes in place, no allocation beyond
/// `out`'s growth. Returns the frame length.
pub fn append_frame<M: Message>(
    out: &mut Vec<u8>,
    msg: &M,
    msg_id: u16,
    client_index: [u8; 4],
    context: u32,
) -> Result<usize, EncodeError> {
    let len = message_len(msg);
    let start = out.len();
    out.resize(start + HEADER_LEN + len, 0);
    let body_len = u32::try_from(len).map_err(|_| EncodeError::BufferTooSmall {
        ty: M::NAME,
        need: len,
        have: u32::MAX as usize,
    });
    let body_len = match body_len {
        Ok(l) => l,
        Err(e) => {
            out.truncate(start);
            return Err(e);
        }
    };
    out[start + 8..start + 12].copy_from_slice(&body_len.to_be_bytes());
    match encode_message(
        msg,
        msg_id,
        client_index,
        context,
        &mut out[start + HEADER_LEN..],
    ) {
        Ok(n) => {
            debug_assert_eq!(n, len);
            Ok(HEADER_LEN + len)
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// The `_vl_msg_id` of a body (0 if it is shorter than 2 bytes, which the reader rejects).
pub fn msg_id(body: &[u8]) -> u16 {
    match body {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

/// A framing error on receive.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The peer closed the socket in the middle of a frame.
    #[error("connection closed inside a frame ({have} of {need} bytes)")]
    Truncated {
        /// Bytes needed for the frame.
        need: usize,
        /// Bytes received.
        have: usize,
    },
    /// `data_len` above the configured maximum (a corrupt stream: never allocate for it).
    #[error("frame body of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// `data_len` below 2 (no room for `_vl_msg_id`).
    #[error("frame body of {0} bytes has no message id")]
    TooShort(usize),
}

/// Splits frames off one large receive buffer: [`Bytes`] shared with the buffer (no copy),
/// any number of frames per read. The parser of both readers (the async [`FrameReader`] and
/// the connection's in-place socket reader).
#[derive(Debug)]
pub struct FrameBuf {
    buf: BytesMut,
    max_body: usize,
}

/// Bytes asked from the OS per read (VPP writes in 4 KiB chunks; replies are small).
pub const READ_CHUNK: usize = 64 * 1024;

impl FrameBuf {
    /// An empty buffer refusing bodies longer than `max_body`.
    pub fn new(max_body: usize) -> Self {
        Self {
            buf: BytesMut::with_capacity(READ_CHUNK),
            max_body,
        }
    }

    /// Room to read into: the space of frames already dropped is taken back in place (no
    /// allocation in steady state); a new [`READ_CHUNK`] is allocated only while earlier
    /// frames are still held and less than a quarter of a chunk is free.
    pub fn spare(&mut self) -> &mut BytesMut {
        let free = self.buf.capacity() - self.buf.len();
        if free < READ_CHUNK / 2 && !self.buf.try_reclaim(READ_CHUNK) && free < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        &mut self.buf
    }

    /// Bytes received and not yet returned as frames.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Append bytes (e.g. read by someone else).
    pub fn extend_from_slice(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// The next complete frame's body (from `_vl_msg_id` on), if the buffer holds one.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = be32(&self.buf[8..12]);
        if len > self.max_body {
            return Err(FrameError::TooLong {
                len,
                max: self.max_body,
            });
        }
        if len < 2 {
            return Err(FrameError::TooShort(len));
        }
        if self.buf.len() < HEADER_LEN + len {
            // Reserve once for the whole frame (bounded by max_body above).
            self.buf.reserve(HEADER_LEN + len - self.buf.len());
            return Ok(None);
        }
        let _ = self.buf.split_to(HEADER_LEN);
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// The error for an end of stream now: `None` if the buffer is empty (a clean end).
    pub fn eof_error(&self) -> Option<FrameError> {
        if self.buf.is_empty() {
            return None;
        }
        let need = if self.buf.len() >= HEADER_LEN {
            HEADER_LEN + be32(&self.buf[8..12])
        } else {
            HEADER_LEN
        };
        Some(FrameError::Truncated {
            need,
            have: self.buf.len(),
        })
    }
}

/// Reads frames from an async byte stream (a [`FrameBuf`] over an [`AsyncRead`]).
pub struct FrameReader<R> {
    inner: R,
    buf: FrameBuf,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader refusing bodies longer than `max_body`.
    pub fn new(inner: R, max_body: usize) -> Self {
        Self {
            inner,
            buf: FrameBuf::new(max_body),
        }
    }

    /// The next frame's body (from `_vl_msg_id` on), or `None` at a clean end of stream.
    pub async fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        loop {
            if let Some(frame) = self.buf.next_frame()? {
                return Ok(Some(frame));
            }
            let n = self.inner.read_buf(self.buf.spare()).await?;
            if n == 0 {
                return match self.buf.eof_error() {
                    None => Ok(None),
                    Some(e) => Err(e),
                };
            }
        }
    }
}

/// The frames of a batch (header + body each, as [`append_frame`] writes them): `(start,
/// total length)` of each. A malformed tail (our own encoder never writes one) ends it.
pub fn frames(batch: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let hdr = batch.get(at..at + HEADER_LEN)?;
        let len = HEADER_LEN + be32(&hdr[8..12]);
        if at + len > batch.len() {
            return None;
        }
        let r = (at, len);
        at += len;
        Some(r)
    })
}

/// Rewrite the `client_index` of every request in `batch` that carries `from` (at body
/// offset 2, where every request header has it) to `to`: the shared-memory transport encodes
/// with its segment index and sends some requests on the socket instead.
pub fn patch_client_index(batch: &mut [u8], from: [u8; 4], to: [u8; 4]) {
    let mut at = 0usize;
    while at + HEADER_LEN <= batch.len() {
        let len = HEADER_LEN + be32(&batch[at + 8..at + 12]);
        if at + len > batch.len() {
            return;
        }
        if len >= HEADER_LEN + 6 {
            let ci = &mut batch[at + HEADER_LEN + 2..at + HEADER_LEN + 6];
            if *ci == from {
                ci.copy_from_slice(&to);
            }
        }
        at += len;
    }
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memclnt::ControlPing;

    #[tokio::test]
    async fn frames_split_across_and_within_reads() {
        let mut wire = Vec::new();
        append_frame(&mut wire, &ControlPing {}, 23, [0x80, 0, 0, 1], 7).unwrap();
        append_frame(&mut wire, &ControlPing {}, 23, [0x80, 0, 0, 1], 8).unwrap();
        assert_eq!(
            hex(&wire[..26]),
            "00000000000000000000000a0000000000178000000100000007"
        );
        let (a, mut b) = tokio::io::duplex(3); // tiny pipe: frames arrive in pieces
        let w = wire.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            b.write_all(&w).await.unwrap();
        });
        let mut r = FrameReader::new(a, 1024);
        let f1 = r.next_frame().await.unwrap().unwrap();
        let f2 = r.next_frame().await.unwrap().unwrap();
        assert_eq!(&f1[..], &wire[16..26]);
        assert_eq!(&f2[..], &wire[42..52]);
        assert!(r.next_frame().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn bad_lengths_are_errors_not_allocations() {
        let mut hdr = [0u8; HEADER_LEN];
        write_header(&mut hdr, u32::MAX);
        let mut r = FrameReader::new(&hdr[..], 1 << 20);
        assert!(matches!(
            r.next_frame().await,
            Err(FrameError::TooLong { .. })
        ));
        write_header(&mut hdr, 1);
        let mut r = FrameReader::new(&hdr[..], 1 << 20);
        assert!(matches!(r.next_frame().await, Err(FrameError::TooShort(1))));
        write_header(&mut hdr, 10);
        let mut r = FrameReader::new(&hdr[..], 1 << 20);
        assert!(matches!(
            r.next_frame().await,
            Err(FrameError::Truncated { need: 26, have: 16 })
        ));
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
