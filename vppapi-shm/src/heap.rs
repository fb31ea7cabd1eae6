//! A bookkeeping model of the dlmalloc data heap VPP puts at `data_base` (pure safe code: the
//! chunk headers are kept here, not written into the segment).
//!
//! It reproduces the chunk arithmetic that decides where VPP's structures land: 16-byte chunk
//! overhead in front of each user pointer, chunk sizes `max(32, (n + 8 + 15) & !15)`,
//! `internal_memalign` (over-allocate `nb + align + 32 - 8`, give back the leader and a trailing
//! remainder of at least 32 bytes), coalescing frees, a top chunk, and in-place realloc into a
//! following free chunk or the top (`mspace_realloc_in_place`). Free chunks are picked best-fit,
//! which is what dlmalloc's bins amount to for the handful of chunks VPP's segment setup creates.
//! With the fixture's config this places every structure at the offset recorded on VPP 26.06.

use std::collections::BTreeMap;

const MIN_CHUNK: u64 = 32;

pub(crate) fn chunk_size(n: u64) -> u64 {
    ((n + 8 + 15) & !15).max(MIN_CHUNK)
}

#[derive(Debug)]
pub(crate) struct DlHeap {
    top: u64,
    end: u64,
    free: BTreeMap<u64, u64>,
    used: BTreeMap<u64, u64>,
}

impl DlHeap {
    /// `first_chunk`: where the first chunk header goes; `end`: the heap end (exclusive).
    pub(crate) fn new(first_chunk: u64, end: u64) -> DlHeap {
        DlHeap {
            top: first_chunk,
            end,
            free: BTreeMap::new(),
            used: BTreeMap::new(),
        }
    }

    fn take_chunk(&mut self, nb: u64) -> Option<u64> {
        let best = self
            .free
            .iter()
            .filter(|(_, &z)| z >= nb)
            .min_by_key(|(&a, &z)| (z, a))
            .map(|(&a, &z)| (a, z));
        if let Some((a, z)) = best {
            self.free.remove(&a);
            let size = if z - nb >= MIN_CHUNK {
                self.free.insert(a + nb, z - nb);
                nb
            } else {
                z
            };
            self.used.insert(a, size);
            return Some(a);
        }
        let a = self.top;
        if a.checked_add(nb)? > self.end {
            return None;
        }
        self.top += nb;
        self.used.insert(a, nb);
        Some(a)
    }

    fn dispose(&mut self, mut a: u64, mut z: u64) {
        if let Some((&b, &y)) = self.free.range(..a).next_back() {
            if b + y == a {
                self.free.remove(&b);
                a = b;
                z += y;
            }
        }
        if a + z == self.top {
            self.top = a;
            return;
        }
        if let Some(y) = self.free.remove(&(a + z)) {
            z += y;
        }
        self.free.insert(a, z);
    }

    /// `malloc(n)`: the user offset (chunk + 16).
    pub(crate) fn malloc(&mut self, n: u64) -> Option<u64> {
        Some(self.take_chunk(chunk_size(n))? + 16)
    }

    /// `mspace_memalign(align, n)`.
    pub(crate) fn memalign(&mut self, align: u64, n: u64) -> Option<u64> {
        if align <= 16 {
            return self.malloc(n);
        }
        let nb = chunk_size(n);
        let mut p = self.take_chunk(chunk_size(nb + align + MIN_CHUNK - 8))?;
        let mem = p + 16;
        if mem % align != 0 {
            let br = ((mem + align - 1) & !(align - 1)) - 16;
            let pos = if br - p >= MIN_CHUNK { br } else { br + align };
            let size = self.used.remove(&p).unwrap_or(0);
            let lead = pos - p;
            self.used.insert(pos, size - lead);
            self.dispose(p, lead);
            p = pos;
        }
        let size = self.used.get(&p).copied().unwrap_or(0);
        if size > nb + MIN_CHUNK {
            self.used.insert(p, nb);
            self.dispose(p + nb, size - nb);
        }
        Some(p + 16)
    }

    /// Bytes usable at user offset `mem` (`mspace_usable_size`).
    pub(crate) fn usable(&self, mem: u64) -> u64 {
        self.used.get(&(mem - 16)).map(|z| z - 8).unwrap_or(0)
    }

    /// `mspace_realloc_in_place`: grow into the top or a following free chunk.
    pub(crate) fn realloc_in_place(&mut self, mem: u64, n: u64) -> bool {
        let p = mem - 16;
        let Some(&size) = self.used.get(&p) else {
            return false;
        };
        let nb = chunk_size(n);
        if nb <= size {
            return true;
        }
        let next = p + size;
        if next == self.top {
            if p + nb > self.end {
                return false;
            }
            self.top = p + nb;
            self.used.insert(p, nb);
            return true;
        }
        if let Some(&z) = self.free.get(&next) {
            if size + z >= nb {
                self.free.remove(&next);
                let total = size + z;
                if total - nb >= MIN_CHUNK {
                    self.free.insert(p + nb, total - nb);
                    self.used.insert(p, nb);
                } else {
                    self.used.insert(p, total);
                }
                return true;
            }
        }
        false
    }

    /// `free(mem)`; false if `mem` is not an allocated user offset.
    pub(crate) fn free(&mut self, mem: u64) -> bool {
        let Some(z) = self.used.remove(&(mem.wrapping_sub(16))) else {
            return false;
        };
        self.dispose(mem - 16, z);
        true
    }

    /// Bytes in use (chunk sizes).
    pub(crate) fn used_bytes(&self) -> u64 {
        self.used.values().sum()
    }
}

/// A vppinfra vector with an 8-byte header in front of its data, grown like `vec_add2`
/// (`_vec_realloc_internal`: in place if possible, else a new allocation of 1.5x the data).
pub(crate) struct VecModel {
    /// User offset of the allocation (= vector header).
    pub(crate) mem: Option<u64>,
    pub(crate) len: u64,
    elt: u64,
}

impl VecModel {
    pub(crate) fn new(elt: u64) -> VecModel {
        VecModel {
            mem: None,
            len: 0,
            elt,
        }
    }

    /// Append one element; returns (old mem, new mem) if the vector moved.
    pub(crate) fn push(&mut self, h: &mut DlHeap) -> Option<Option<(u64, u64)>> {
        let Some(mem) = self.mem else {
            self.mem = Some(h.malloc(8 + self.elt)?);
            self.len = 1;
            return Some(None);
        };
        self.len += 1;
        let need = 8 + self.len * self.elt;
        if h.usable(mem) >= need {
            return Some(None);
        }
        let req = need + (self.len * self.elt) / 2;
        if h.realloc_in_place(mem, req) {
            return Some(None);
        }
        let new = h.malloc(req)?;
        h.free(mem);
        self.mem = Some(new);
        Some(Some((mem, new)))
    }

    /// The vector's data offset (header + 8).
    #[cfg(test)]
    pub(crate) fn data(&self) -> Option<u64> {
        self.mem.map(|m| m + 8)
    }

    pub(crate) fn grow_elts(&self, h: &DlHeap) -> u64 {
        self.mem
            .map(|m| h.usable(m).saturating_sub(8 + self.len * self.elt) / self.elt)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The allocation sequence of VPP's vl_init_shmem/vl_api_mem_config with the fixture's
    /// config lands exactly where VPP 26.06 put things (offsets from segment-after-connect.json).
    #[test]
    fn fixture_sequence() {
        let mut h = DlHeap::new(0x223f0, 64 << 20);
        assert_eq!(h.malloc(56).map(|m| m + 8), Some(0x22408));
        let mut vl = VecModel::new(24);
        let mut cl = VecModel::new(24);
        let mut qs = vec![];
        for (kind, count, size) in [
            (0, 32, 256),
            (0, 16, 1024),
            (0, 2, 4096),
            (1, 32, 256),
            (1, 16, 1024),
            (1, 2, 4096),
        ] {
            let v = if kind == 0 { &mut vl } else { &mut cl };
            v.push(&mut h).unwrap();
            qs.push(h.memalign(64, 120 + count * (size + 24)).unwrap());
        }
        qs.push(h.memalign(64, 120 + 128 * 8).unwrap());
        assert_eq!(
            qs,
            [0x224c0, 0x24880, 0x28a80, 0x2ab80, 0x2cfc0, 0x31200, 0x33300]
        );
        assert_eq!(vl.data(), Some(0x22448));
        assert_eq!(cl.data(), Some(0x2cf18));
        // frees: the leader/trailer chunks visible in the dump
        assert_eq!(h.free.get(&0x22490), Some(&0x20));
        assert_eq!(h.free.get(&0x24840), Some(&0x30));
        assert_eq!(h.free.get(&0x332a0), Some(&0x50));
        assert!(h.free(0x33300));
        assert!(!h.free(0x33300));
    }
}
