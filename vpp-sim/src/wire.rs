//! Byte-level helpers: reading request fields at their offsets and writing framed replies.
//!
//! Offsets follow the wire layout in `vpp-wire.md` section 2 (all integers big-endian).

/// Size of the socket frame header (`msgbuf_t`: q, data_len, gc_mark_timestamp).
pub const FRAME_HEADER: usize = 16;

/// A request body with bounds-checked accessors (out-of-range reads give zeros; the caller has
/// already checked the fixed size, and variable tails are checked explicitly).
#[derive(Clone, Copy)]
pub struct Body<'a>(pub &'a [u8]);

impl<'a> Body<'a> {
    pub fn bytes(&self, off: usize, n: usize) -> &'a [u8] {
        self.0.get(off..off + n).unwrap_or(&[])
    }
    pub fn u8(&self, off: usize) -> u8 {
        self.0.get(off).copied().unwrap_or(0)
    }
    pub fn bool(&self, off: usize) -> bool {
        self.u8(off) != 0
    }
    pub fn u16(&self, off: usize) -> u16 {
        self.arr::<2>(off).map(u16::from_be_bytes).unwrap_or(0)
    }
    pub fn u32(&self, off: usize) -> u32 {
        self.arr::<4>(off).map(u32::from_be_bytes).unwrap_or(0)
    }
    pub fn arr<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.0.get(off..off + N)?.try_into().ok()
    }
    /// Fixed string `string x[n]`: up to the first NUL.
    pub fn fixed_str(&self, off: usize, n: usize) -> String {
        let b = self.bytes(off, n);
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    }
    /// Variable string at `off` (u32 length + bytes); `None` if it runs past the body.
    pub fn var_str(&self, off: usize) -> Option<String> {
        let len = self.arr::<4>(off).map(u32::from_be_bytes)? as usize;
        let b = self.0.get(off + 4..(off + 4).checked_add(len)?)?;
        Some(String::from_utf8_lossy(b).into_owned())
    }
}

/// Writes one frame (header + body) at the end of `buf`; fields are appended in order.
pub struct FrameWriter<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
}

impl<'a> FrameWriter<'a> {
    pub fn new(buf: &'a mut Vec<u8>, msg_id: u16) -> Self {
        let start = buf.len();
        buf.extend_from_slice(&[0u8; FRAME_HEADER]);
        buf.extend_from_slice(&msg_id.to_be_bytes());
        FrameWriter { buf, start }
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.buf.resize(self.buf.len() + n, 0);
        self
    }
    /// `string x[n]`: NUL-padded, cut at n-1 bytes like VPP's `strncpy`.
    pub fn fixed_str(&mut self, s: &str, n: usize) -> &mut Self {
        let b = &s.as_bytes()[..s.len().min(n.saturating_sub(1))];
        self.buf.extend_from_slice(b);
        self.zeros(n - b.len())
    }
    /// `string x[]`: u32 length + bytes.
    pub fn var_str(&mut self, s: &str) -> &mut Self {
        self.u32(s.len() as u32);
        self.bytes(s.as_bytes())
    }
    /// Body length so far.
    pub fn body_len(&self) -> usize {
        self.buf.len() - self.start - FRAME_HEADER
    }
    /// Pads the body with zeros to at least `n` bytes.
    pub fn pad_to(&mut self, n: usize) -> &mut Self {
        let l = self.body_len();
        if l < n {
            self.zeros(n - l);
        }
        self
    }
}

impl Drop for FrameWriter<'_> {
    fn drop(&mut self) {
        let len = (self.buf.len() - self.start - FRAME_HEADER) as u32;
        self.buf[self.start + 8..self.start + 12].copy_from_slice(&len.to_be_bytes());
    }
}

/// Appends a frame header for a body of `len` bytes (for clients and tests).
pub fn frame_header(len: usize) -> [u8; FRAME_HEADER] {
    let mut h = [0u8; FRAME_HEADER];
    h[8..12].copy_from_slice(&(len as u32).to_be_bytes());
    h
}

/// VPP's `vl_api_address_t` (17 bytes: af + 16-byte union) as an ip46 value
/// (`ip46_address_t`: IPv4 in the last 4 bytes, first 12 zero).
pub fn ip46_from_address(a: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    if a.first() == Some(&0) {
        out[12..16].copy_from_slice(&a[1..5]);
    } else if a.len() >= 17 {
        out.copy_from_slice(&a[1..17]);
    }
    out
}

/// `ip46_address_is_ip4`: the first 12 bytes are zero.
pub fn ip46_is_ip4(a: &[u8; 16]) -> bool {
    a[..12].iter().all(|&b| b == 0)
}

/// `ip_address_encode(…, IP46_TYPE_ANY, …)`: 17 bytes.
pub fn address_from_ip46(a: &[u8; 16]) -> [u8; 17] {
    let mut out = [0u8; 17];
    if ip46_is_ip4(a) {
        out[1..5].copy_from_slice(&a[12..16]);
    } else {
        out[0] = 1;
        out[1..17].copy_from_slice(a);
    }
    out
}

/// Keeps the first `len` bits of `a`.
pub fn mask_prefix<const N: usize>(a: &mut [u8; N], len: u8) {
    let len = usize::from(len).min(N * 8);
    for (i, b) in a.iter_mut().enumerate() {
        let bits = len.saturating_sub(i * 8).min(8);
        *b &= if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
    }
}
