//! The only module with `unsafe`: owning a mapping of (possibly shared, concurrently written)
//! memory and accessing it without ever creating Rust references (`&[u8]`, `&[u64]`) into it.
//!
//! The stats segment is written by another process (VPP) while we read it, so any ordinary
//! reference into it would be a data race. Every access here is bounds-checked and goes through
//! atomics (`AtomicU64::from_ptr` and friends, relaxed unless stated), which is defined behaviour
//! for memory that changes under us. Values may be stale or mutually inconsistent; the caller's
//! epoch / `in_progress` protocol decides whether to trust them.

use std::io;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

enum Backing {
    /// A `mmap`ed file (memfd); unmapped on drop.
    Mapped,
    /// A private heap buffer (recorded segments, fuzzing); `u64` elements keep it 8-aligned.
    Heap(#[allow(dead_code)] Box<[u64]>),
}

/// A contiguous region of memory that may be modified concurrently by someone else.
pub(crate) struct SharedMemory {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
    backing: Backing,
}

// SAFETY: `SharedMemory` only hands out copies of the data (never references) through atomic
// operations, so sharing or sending it between threads cannot cause data races. The pointer
// stays valid until `drop` (which needs exclusive ownership).
unsafe impl Send for SharedMemory {}
// SAFETY: see `Send`: all accesses through `&self` are atomic.
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    /// Maps `len` bytes of `fd` from offset 0, `MAP_SHARED`, read-only or read-write.
    pub(crate) fn map_fd(fd: impl AsFd, len: usize, writable: bool) -> io::Result<Self> {
        use rustix::mm::{MapFlags, ProtFlags};
        if len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot map an empty segment",
            ));
        }
        let prot = if writable {
            ProtFlags::READ | ProtFlags::WRITE
        } else {
            ProtFlags::READ
        };
        // SAFETY: we ask the kernel for a fresh mapping at an address of its choosing (null
        // hint, no MAP_FIXED), so no existing Rust object is affected. The result is only
        // accessed through bounds-checked atomic operations below and unmapped in `drop`.
        let p = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                MapFlags::SHARED,
                fd.as_fd(),
                0,
            )
        }?;
        let ptr = NonNull::new(p.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null pointer"))?;
        Ok(Self {
            ptr,
            len,
            writable,
            backing: Backing::Mapped,
        })
    }

    /// A private, 8-byte aligned copy of `bytes` (e.g. a recorded segment).
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        let words = bytes.len().div_ceil(8).max(1);
        let mut buf = vec![0u64; words].into_boxed_slice();
        for (w, chunk) in buf.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u64::from_ne_bytes(b);
        }
        let ptr = NonNull::new(buf.as_mut_ptr().cast::<u8>()).expect("Box pointer is non-null");
        Self {
            ptr,
            len: bytes.len(),
            writable: false,
            backing: Backing::Heap(buf),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The address of the mapping in this process (what a writer publishes as `base`).
    pub(crate) fn address(&self) -> u64 {
        self.ptr.as_ptr() as usize as u64
    }

    fn in_bounds(&self, off: usize, size: usize) -> bool {
        off.checked_add(size).is_some_and(|end| end <= self.len)
    }

    fn atomic_u64(&self, off: usize) -> Option<&AtomicU64> {
        if !self.in_bounds(off, 8) || (self.address() as usize + off) % 8 != 0 {
            return None;
        }
        // SAFETY: `off..off+8` lies inside the live mapping (checked above) and the address is
        // 8-aligned (checked above). `AtomicU64` has interior mutability, so a shared reference
        // to it is valid even while another thread or process writes the same bytes. The
        // lifetime is tied to `&self`, which keeps the mapping alive.
        Some(unsafe { AtomicU64::from_ptr(self.ptr.as_ptr().add(off).cast::<u64>()) })
    }

    fn atomic_u32(&self, off: usize) -> Option<&AtomicU32> {
        if !self.in_bounds(off, 4) || (self.address() as usize + off) % 4 != 0 {
            return None;
        }
        // SAFETY: in bounds and 4-aligned (checked above); atomics tolerate concurrent writers.
        Some(unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(off).cast::<u32>()) })
    }

    fn atomic_u8(&self, off: usize) -> Option<&AtomicU8> {
        if !self.in_bounds(off, 1) {
            return None;
        }
        // SAFETY: in bounds (checked above); u8 needs no alignment; atomics tolerate
        // concurrent writers.
        Some(unsafe { AtomicU8::from_ptr(self.ptr.as_ptr().add(off)) })
    }

    /// Relaxed load of a native-endian u64; `None` when out of bounds. Unaligned offsets are
    /// read byte by byte (then the value may be torn, which the epoch check catches).
    pub(crate) fn load_u64(&self, off: usize) -> Option<u64> {
        if let Some(a) = self.atomic_u64(off) {
            return Some(a.load(Ordering::Relaxed));
        }
        let mut b = [0u8; 8];
        for (i, x) in b.iter_mut().enumerate() {
            *x = self.atomic_u8(off.checked_add(i)?)?.load(Ordering::Relaxed);
        }
        Some(u64::from_ne_bytes(b))
    }

    /// Acquire load of an aligned u64 (header fields); `None` when out of bounds or unaligned.
    pub(crate) fn load_u64_acquire(&self, off: usize) -> Option<u64> {
        self.atomic_u64(off).map(|a| a.load(Ordering::Acquire))
    }

    /// Relaxed load of a native-endian u32; `None` when out of bounds.
    pub(crate) fn load_u32(&self, off: usize) -> Option<u32> {
        if let Some(a) = self.atomic_u32(off) {
            return Some(a.load(Ordering::Relaxed));
        }
        let mut b = [0u8; 4];
        for (i, x) in b.iter_mut().enumerate() {
            *x = self.atomic_u8(off.checked_add(i)?)?.load(Ordering::Relaxed);
        }
        Some(u32::from_ne_bytes(b))
    }

    /// Appends `n` u64s starting at `off` to `out`; `None` (nothing appended) when out of bounds.
    pub(crate) fn copy_u64s(&self, off: usize, n: usize, out: &mut Vec<u64>) -> Option<()> {
        if !self.in_bounds(off, n.checked_mul(8)?) {
            return None;
        }
        out.reserve(n);
        if (self.address() as usize + off) % 8 == 0 {
            // Bounds and alignment are checked once for the whole run (the hot path of
            // counter reads), not per element.
            let first = self.ptr.as_ptr().wrapping_add(off).cast::<u64>();
            for i in 0..n {
                // SAFETY: `off .. off + 8n` lies inside the live mapping and `first` is 8-aligned
                // (both checked above), so element `i < n` is a valid, aligned u64 location;
                // atomics tolerate concurrent writers; the reference does not outlive `self`.
                let a = unsafe { AtomicU64::from_ptr(first.add(i)) };
                out.push(a.load(Ordering::Relaxed));
            }
        } else {
            for i in 0..n {
                out.push(self.load_u64(off + i * 8)?);
            }
        }
        Some(())
    }

    /// Appends `len` bytes starting at `off` to `out`; `None` (nothing appended) when out of
    /// bounds.
    pub(crate) fn copy_bytes(&self, off: usize, len: usize, out: &mut Vec<u8>) -> Option<()> {
        if !self.in_bounds(off, len) {
            return None;
        }
        out.reserve(len);
        let mut i = 0;
        // Word-sized loads for the aligned middle: much faster than one load per byte.
        while i < len {
            let addr = self.address() as usize + off + i;
            if addr % 8 == 0 && len - i >= 8 {
                let w = self.atomic_u64(off + i)?.load(Ordering::Relaxed);
                out.extend_from_slice(&w.to_ne_bytes());
                i += 8;
            } else {
                out.push(self.atomic_u8(off + i)?.load(Ordering::Relaxed));
                i += 1;
            }
        }
        Some(())
    }

    fn check_writable(&self) -> io::Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "read-only mapping",
            ))
        }
    }

    fn oob(off: usize) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("write at offset {off} outside the mapping or unaligned"),
        )
    }

    /// Stores an aligned u64 with the given ordering (writer side).
    pub(crate) fn store_u64(&self, off: usize, v: u64, order: Ordering) -> io::Result<()> {
        self.check_writable()?;
        self.atomic_u64(off)
            .ok_or_else(|| Self::oob(off))?
            .store(v, order);
        Ok(())
    }

    /// Atomically adds to an aligned u64 (writer side), returning the previous value.
    pub(crate) fn fetch_add_u64(&self, off: usize, v: u64) -> io::Result<u64> {
        self.check_writable()?;
        Ok(self
            .atomic_u64(off)
            .ok_or_else(|| Self::oob(off))?
            .fetch_add(v, Ordering::Relaxed))
    }

    /// Stores an aligned u32 (writer side).
    pub(crate) fn store_u32(&self, off: usize, v: u32) -> io::Result<()> {
        self.check_writable()?;
        self.atomic_u32(off)
            .ok_or_else(|| Self::oob(off))?
            .store(v, Ordering::Relaxed);
        Ok(())
    }

    /// Stores bytes (writer side).
    pub(crate) fn store_bytes(&self, off: usize, bytes: &[u8]) -> io::Result<()> {
        self.check_writable()?;
        if !self.in_bounds(off, bytes.len()) {
            return Err(Self::oob(off));
        }
        for (i, b) in bytes.iter().enumerate() {
            self.atomic_u8(off + i)
                .ok_or_else(|| Self::oob(off + i))?
                .store(*b, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        if let Backing::Mapped = self.backing {
            // SAFETY: `ptr`/`len` are exactly what `mmap` returned in `map_fd`; no reference
            // into the mapping outlives `self` (all accessors borrow `self`), and this is the
            // only unmap.
            let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_alignment() {
        let m = SharedMemory::from_bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 2, 3, 4]);
        assert_eq!(m.len(), 11);
        assert_eq!(
            m.load_u64(0),
            Some(u64::from_ne_bytes([1, 0, 0, 0, 0, 0, 0, 0]))
        );
        assert_eq!(m.load_u64(4), None);
        assert_eq!(
            m.load_u64(3),
            Some(u64::from_ne_bytes([0, 0, 0, 0, 0, 2, 3, 4]))
        );
        assert_eq!(m.load_u64(8), None);
        assert_eq!(m.load_u64(usize::MAX), None);
        assert_eq!(m.load_u32(7), Some(u32::from_ne_bytes([0, 2, 3, 4])));
        assert_eq!(m.load_u64_acquire(1), None);
        let mut v = Vec::new();
        assert!(m.copy_bytes(1, 10, &mut v).is_some());
        assert_eq!(v, [0, 0, 0, 0, 0, 0, 0, 2, 3, 4]);
        assert!(m.copy_bytes(2, 10, &mut v).is_none());
        assert!(m.copy_u64s(0, usize::MAX / 4, &mut Vec::new()).is_none());
        assert!(m.store_u64(0, 1, Ordering::Relaxed).is_err());
    }

    #[test]
    fn memfd_shared_between_mappings() {
        let fd = rustix::fs::memfd_create("t", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
        rustix::fs::ftruncate(&fd, 4096).unwrap();
        let w = SharedMemory::map_fd(&fd, 4096, true).unwrap();
        let r = SharedMemory::map_fd(&fd, 4096, false).unwrap();
        assert_ne!(w.address(), r.address());
        w.store_u64(16, 0xdead_beef, Ordering::Release).unwrap();
        w.store_bytes(100, b"abc").unwrap();
        w.store_u32(200, 7).unwrap();
        assert_eq!(w.fetch_add_u64(16, 1).unwrap(), 0xdead_beef);
        assert_eq!(r.load_u64_acquire(16), Some(0xdead_bef0));
        assert_eq!(r.load_u32(200), Some(7));
        let mut v = Vec::new();
        r.copy_bytes(100, 3, &mut v).unwrap();
        assert_eq!(v, b"abc");
        assert!(w.store_u64(4093, 1, Ordering::Relaxed).is_err());
        assert!(SharedMemory::map_fd(&fd, 0, false).is_err());
    }
}
