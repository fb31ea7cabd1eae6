//! Maglev new-flow tables: VPP's lb plugin, exactly, and the NSDI 2016 paper's variant.
//!
//! VPP's load-balancer plugin (`src/plugins/lb/lb.c`, `lb_vip_update_new_flow_table()`) picks the
//! application server (AS) for a new flow by looking up `table[hash(5-tuple) & (M - 1)]`. The
//! table is built with Maglev's round-robin permutation fill, but with VPP's own choices:
//!
//! * `M` is a **power of two** (`new_flows_table_length`, default 1024), not a prime;
//! * per entry, `seed = clib_xxhash(w0 ^ w1 [^ replica])` where `w0`/`w1` are the two native
//!   (little-endian) 64-bit words of the 16-byte `ip46_address_t`; `skip = ((seed & 0xffffffff) |
//!   1) & (M - 1)` (odd, hence coprime with `M`) and `offset = (seed >> 32) & (M - 1)`;
//! * entries are sorted by `memcmp` of the 16-byte address (v26.06: one entry per AS), or, on
//!   master (lb.api 1.2.0), each AS contributes `weight` replicas sorted by (replica, address);
//! * slot value 0 is VPP's "no server" placeholder AS.
//!
//! [`vpp_table`] rebuilds that table; [`paper_table`] builds the paper's variant (prime `M`,
//! SHA-256-derived offset/skip); [`disruption`] and [`balance`] compare and grade tables.
//! [`c_loop`] holds a literal transliteration of VPP's C loop, used as the reference in tests and
//! as the baseline in the benchmark.
//!
//! ```
//! use maglev::{vpp_table, Backend, Variant};
//!
//! let backends: Vec<Backend> = (1..=3)
//!     .map(|i| Backend::new(format!("2001:db8:1::{i}").parse().unwrap(), 1))
//!     .collect();
//! let t = vpp_table(&backends, 1024, Variant::Vpp2606).unwrap();
//! assert_eq!(t.buckets_per_backend(), vec![342, 341, 341]);
//! assert_eq!(&t.slots[..4], &[1, 3, 1, 2]);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod c_loop;

use std::fmt;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// Largest table length accepted by [`vpp_table`] and [`paper_table`] (2^24 slots), and the
/// largest number of fill entries (backends, or weight replicas for [`Variant::VppWeighted`]).
pub const MAX_TABLE_LEN: usize = 1 << 24;

const PRIME64_1: u64 = 11400714785074694791;
const PRIME64_2: u64 = 14029467366897019727;
const PRIME64_3: u64 = 1609587929392839161;
const PRIME64_4: u64 = 9650029242287828579;
const PRIME64_5: u64 = 2870177450012600261;

/// VPP's `clib_xxhash()` (`src/vppinfra/xxhash.h`): the xxHash64 finalisation of a single 64-bit
/// lane, all arithmetic modulo 2^64.
///
/// ```
/// assert_eq!(maglev::clib_xxhash(0), 0x6f06f901bfa27892);
/// ```
pub fn clib_xxhash(key: u64) -> u64 {
    let k1 = key
        .wrapping_mul(PRIME64_2)
        .rotate_left(31)
        .wrapping_mul(PRIME64_1);
    let mut h = 0x9e37_79b9_7f4a_7c13u64
        .wrapping_add(PRIME64_5)
        .wrapping_add(8);
    h ^= k1;
    h = h
        .rotate_left(27)
        .wrapping_mul(PRIME64_1)
        .wrapping_add(PRIME64_4);
    h ^= h >> 33;
    h = h.wrapping_mul(PRIME64_2);
    h ^= h >> 29;
    h = h.wrapping_mul(PRIME64_3);
    h ^= h >> 32;
    h
}

/// The 16 bytes of VPP's `ip46_address_t` for `addr`: an IPv6 address as is, an IPv4 address in
/// the last 4 bytes after 12 zero bytes.
pub fn ip46(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[12..].copy_from_slice(&a.octets());
            b
        }
    }
}

/// The hash key VPP uses for an address: `as_u64[0] ^ as_u64[1]` of the ip46 bytes, read as
/// little-endian words (the native order on x86-64 and arm64, where VPP runs).
///
/// ```
/// let k = maglev::ip46_key("192.0.2.10".parse().unwrap());
/// assert_eq!(k, 0x0a0200c000000000);
/// ```
pub fn ip46_key(addr: IpAddr) -> u64 {
    let b = ip46(addr);
    let w0 = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let w1 = u64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
    w0 ^ w1
}

/// VPP's permutation parameters `(skip, offset)` for the entry of `addr` with replica number
/// `replica` in a table of length `m` (a power of two; v26.06 has no replicas: pass 0, which
/// leaves the seed unchanged).
///
/// ```
/// let (skip, offset) = maglev::vpp_skip_offset("2001:db8:1::1".parse().unwrap(), 0, 1024);
/// assert_eq!((skip, offset), (947, 527));
/// ```
pub fn vpp_skip_offset(addr: IpAddr, replica: u32, m: usize) -> (u32, u32) {
    let mask = (m as u64).wrapping_sub(1);
    let seed = clib_xxhash(ip46_key(addr) ^ u64::from(replica));
    let skip = ((seed & 0xffff_ffff) | 1) & mask;
    let offset = (seed >> 32) & mask;
    (skip as u32, offset as u32)
}

/// One application server (AS) of a VIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backend {
    /// The AS address; VPP keys the permutation on its 16-byte ip46 form (see [`ip46`]).
    pub addr: IpAddr,
    /// Bucket weight, used only by [`Variant::VppWeighted`]: the AS gets `weight` entries
    /// (replicas) in the fill; 0 keeps it out of the table. VPP's API limits it to 0..=100
    /// (default 100); any `u32` is accepted here as long as the total stays within
    /// [`MAX_TABLE_LEN`].
    pub weight: u32,
}

impl Backend {
    /// A backend with the given address and weight.
    pub fn new(addr: IpAddr, weight: u32) -> Self {
        Backend { addr, weight }
    }
}

/// Which VPP build of `lb_vip_update_new_flow_table()` to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// VPP v26.06: one entry per AS (weights ignored, every backend is live), entries sorted by
    /// `memcmp` of the 16-byte ip46 address, `seed = clib_xxhash(w0 ^ w1)`.
    Vpp2606,
    /// VPP master (lb.api 1.2.0): `weight` replicas per AS (weight 0 = not in the table),
    /// entries sorted by (replica, address), `seed = clib_xxhash(w0 ^ w1 ^ replica)`.
    VppWeighted,
}

/// The identity of a backend, used by [`disruption`] to compare tables built from different
/// backend lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BackendId {
    /// A VPP AS, identified by its address ([`vpp_table`]).
    Addr(IpAddr),
    /// A named backend of [`paper_table`].
    Name(String),
}

impl fmt::Display for BackendId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendId::Addr(a) => a.fmt(f),
            BackendId::Name(n) => f.write_str(n),
        }
    }
}

/// A built new-flow table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Per slot, the backend: `i + 1` means `ids[i]` (the position in the input list, plus one),
    /// 0 means "no server" (VPP's placeholder AS 0; only when no backend is live). VPP itself
    /// stores AS pool indices here; the position in the input list, which the caller controls,
    /// is what tests and tools can map back.
    pub slots: Vec<u32>,
    /// The identity of each input backend, in input order.
    pub ids: Vec<BackendId>,
    /// The number of fill entries each input backend had: 1 per backend for
    /// [`Variant::Vpp2606`] and [`paper_table`], its weight for [`Variant::VppWeighted`] (0: not
    /// in the table).
    pub entries: Vec<u32>,
}

impl Table {
    /// Number of slots (M).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the table has no slots (never the case for a built table).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Number of slots held by each backend; index `i` is `ids[i]`, the i-th input backend.
    pub fn buckets_per_backend(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.ids.len()];
        for &s in &self.slots {
            if s != 0 {
                counts[s as usize - 1] += 1;
            }
        }
        counts
    }

    /// The backend that owns `slot`, `None` for "no server". Panics if `slot >= len()`.
    pub fn backend_at(&self, slot: usize) -> Option<&BackendId> {
        match self.slots[slot] {
            0 => None,
            s => Some(&self.ids[s as usize - 1]),
        }
    }

    /// Number of slots holding no server (M when no backend is live, else 0).
    pub fn empty_slots(&self) -> usize {
        self.slots.iter().filter(|&&s| s == 0).count()
    }
}

/// Why a table could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaglevError {
    /// [`vpp_table`] needs a power-of-two length (0 is not one).
    NotPowerOfTwo(usize),
    /// [`paper_table`] needs a prime length.
    NotPrime(usize),
    /// The length exceeds [`MAX_TABLE_LEN`].
    TooLarge(usize),
    /// More fill entries (backends, or weight replicas) than [`MAX_TABLE_LEN`].
    TooManyEntries(usize),
    /// Two backends share one ip46 address (VPP refuses that with `VALUE_EXIST`).
    DuplicateAddress(IpAddr),
    /// Two backends of [`paper_table`] share one name.
    DuplicateName(String),
}

impl fmt::Display for MaglevError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaglevError::NotPowerOfTwo(m) => {
                write!(f, "table length {m} is not a power of two")
            }
            MaglevError::NotPrime(m) => write!(f, "table length {m} is not prime"),
            MaglevError::TooLarge(m) => {
                write!(f, "table length {m} exceeds the maximum {MAX_TABLE_LEN}")
            }
            MaglevError::TooManyEntries(n) => {
                write!(f, "{n} fill entries exceed the maximum {MAX_TABLE_LEN}")
            }
            MaglevError::DuplicateAddress(a) => write!(f, "backend address {a} given twice"),
            MaglevError::DuplicateName(n) => write!(f, "backend name {n:?} given twice"),
        }
    }
}

impl std::error::Error for MaglevError {}

/// Checks a VPP table length.
pub(crate) fn check_pow2(m: usize) -> Result<(), MaglevError> {
    if !m.is_power_of_two() {
        return Err(MaglevError::NotPowerOfTwo(m));
    }
    if m > MAX_TABLE_LEN {
        return Err(MaglevError::TooLarge(m));
    }
    Ok(())
}

/// Checks a backend list for [`vpp_table`]: no duplicate ip46 address, a bounded entry count.
/// Returns the per-backend entry counts.
pub(crate) fn check_backends(
    backends: &[Backend],
    variant: Variant,
) -> Result<Vec<u32>, MaglevError> {
    let mut addrs: Vec<(u128, IpAddr)> = backends
        .iter()
        .map(|b| (u128::from_be_bytes(ip46(b.addr)), b.addr))
        .collect();
    addrs.sort_unstable_by_key(|a| a.0);
    if let Some(w) = addrs.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(MaglevError::DuplicateAddress(w[1].1));
    }
    let entries: Vec<u32> = match variant {
        Variant::Vpp2606 => vec![1; backends.len()],
        Variant::VppWeighted => backends.iter().map(|b| b.weight).collect(),
    };
    let total: u64 = entries.iter().map(|&e| u64::from(e)).sum();
    if total > MAX_TABLE_LEN as u64 {
        return Err(MaglevError::TooManyEntries(total as usize));
    }
    Ok(entries)
}

/// One backend's (or replica's) walk through its permutation.
#[derive(Debug, Clone, Copy)]
struct Walker {
    /// The next slot of the permutation to try.
    next: u32,
    /// Permutation step.
    skip: u32,
    /// Slot value to write (input position + 1).
    id: u32,
}

/// Modular arithmetic of a table length: the walk `next, next + skip, ...` and, for the end game,
/// the number of steps from one slot to another.
trait Ring: Copy {
    /// `(a + b) mod M`, for `a, b < M`.
    fn add(self, a: u32, b: u32) -> u32;
    /// The multiplicative inverse of `skip` mod M (skip coprime with M).
    fn inverse(self, skip: u32) -> u32;
    /// The number of steps `j` with `from + j * skip == to (mod M)`, given `inv = inverse(skip)`.
    fn steps(self, from: u32, to: u32, inv: u32) -> u32;
    /// For M = 2^n <= 2^16, the mask M - 1 as 16 bits: steps can then be computed on `u16`.
    fn mask16(self) -> Option<u16> {
        None
    }
}

/// M = 2^n: masks instead of modulo.
#[derive(Clone, Copy)]
struct Pow2 {
    mask: u32,
}

impl Ring for Pow2 {
    #[inline(always)]
    fn add(self, a: u32, b: u32) -> u32 {
        a.wrapping_add(b) & self.mask
    }

    fn inverse(self, skip: u32) -> u32 {
        // Newton's iteration for odd skip: each round doubles the number of correct low bits
        // (3 to start with: a * a == 1 mod 8 for odd a), 48 >= 32 after four rounds. For M = 1
        // (skip 0) every value is congruent and the result does not matter.
        let mut x = skip;
        for _ in 0..4 {
            x = x.wrapping_mul(2u32.wrapping_sub(skip.wrapping_mul(x)));
        }
        x & self.mask
    }

    #[inline(always)]
    fn steps(self, from: u32, to: u32, inv: u32) -> u32 {
        to.wrapping_sub(from).wrapping_mul(inv) & self.mask
    }

    fn mask16(self) -> Option<u16> {
        u16::try_from(self.mask).ok()
    }
}

/// M prime: conditional subtraction for the walk, `%` only in the end game.
#[derive(Clone, Copy)]
struct Prime {
    m: u32,
}

impl Ring for Prime {
    #[inline(always)]
    fn add(self, a: u32, b: u32) -> u32 {
        let s = a + b; // a, b < M <= 2^24: no overflow
        if s >= self.m {
            s - self.m
        } else {
            s
        }
    }

    fn inverse(self, skip: u32) -> u32 {
        // Fermat: skip^(M-2) mod M.
        let m = u64::from(self.m);
        let (mut base, mut exp, mut acc) = (u64::from(skip) % m, m.saturating_sub(2), 1 % m);
        while exp > 0 {
            if exp & 1 == 1 {
                acc = acc * base % m;
            }
            base = base * base % m;
            exp >>= 1;
        }
        acc as u32
    }

    #[inline(always)]
    fn steps(self, from: u32, to: u32, inv: u32) -> u32 {
        let m = u64::from(self.m);
        ((u64::from(to) + m - u64::from(from)) * u64::from(inv) % m) as u32
    }
}

/// Free slots below which the fill stops probing and picks slots directly. Probing for one of
/// the last `k` free slots costs about `M / k` reads; the direct pick scans the `k` free slots.
/// Measured (bench `maglev`, 2-core x86-64): at M = 65536 with 1,000 ASes, `sqrt(M)` free slots
/// save ~10 % over probing to the end (2·sqrt(M) and more cost more than they save); at M = 1024
/// probing the small, cache-resident table is cheaper than the scans, hence no end game there.
fn endgame_threshold(m: usize) -> usize {
    if m >= 4096 {
        m.isqrt()
    } else {
        0
    }
}

/// The position in `free` of the slot a walker at `from` reaches first: the one with the fewest
/// steps. Two simple passes (a minimum, then its position) vectorise; a fused arg-min does not.
fn first_reached<T: Copy + Ord>(free: &[T], steps: impl Fn(T) -> T) -> usize {
    let best = free.iter().map(|&s| steps(s)).min().expect("non-empty");
    free.iter()
        .position(|&s| steps(s) == best)
        .expect("the minimum is in the list")
}

/// Maglev's round-robin fill: each walker in turn takes the first free slot of its permutation,
/// until all `m` slots are taken. Walkers must describe full permutations of `0..m`.
///
/// The result is identical to probing slot by slot (VPP's loop); once few slots are free, the
/// slot a walker would reach first is computed instead: it is the free slot `s` with the fewest
/// steps `(s - next) / skip (mod M)` from the walker's position.
fn fill<R: Ring>(ring: R, walkers: &mut [Walker], m: usize) -> Vec<u32> {
    let mut slots = vec![0u32; m];
    if walkers.is_empty() {
        return slots;
    }
    let mut free = m;
    let mut i = 0;
    let threshold = endgame_threshold(m);
    while free > threshold {
        let w = &mut walkers[i];
        let mut c = w.next;
        while slots[c as usize] != 0 {
            c = ring.add(c, w.skip);
        }
        slots[c as usize] = w.id;
        w.next = ring.add(c, w.skip);
        free -= 1;
        i += 1;
        if i == walkers.len() {
            i = 0;
        }
    }
    if free == 0 {
        return slots;
    }
    // End game: the free slots, and each walker's inverse step, computed once.
    let mut inverses: Vec<Option<u32>> = vec![None; walkers.len()];
    let free_slots = (0..m as u32).filter(|&s| slots[s as usize] == 0);
    if let Some(mask) = ring.mask16() {
        // M <= 2^16: all arithmetic fits 16-bit lanes (SSE2 has a 16-bit multiply, not 32-bit).
        let mut free_slots: Vec<u16> = free_slots.map(|s| s as u16).collect();
        while !free_slots.is_empty() {
            let w = &mut walkers[i];
            let inv = *inverses[i].get_or_insert_with(|| ring.inverse(w.skip)) as u16;
            let from = w.next as u16;
            let pos = first_reached(&free_slots, |s| {
                s.wrapping_sub(from).wrapping_mul(inv) & mask
            });
            let s = free_slots.swap_remove(pos);
            slots[s as usize] = w.id;
            w.next = ring.add(u32::from(s), w.skip);
            i += 1;
            if i == walkers.len() {
                i = 0;
            }
        }
    } else {
        let mut free_slots: Vec<u32> = free_slots.collect();
        while !free_slots.is_empty() {
            let w = &mut walkers[i];
            let inv = *inverses[i].get_or_insert_with(|| ring.inverse(w.skip));
            let from = w.next;
            let pos = first_reached(&free_slots, |s| ring.steps(from, s, inv));
            let s = free_slots.swap_remove(pos);
            slots[s as usize] = w.id;
            w.next = ring.add(s, w.skip);
            i += 1;
            if i == walkers.len() {
                i = 0;
            }
        }
    }
    slots
}

/// Builds VPP's new-flow table for a VIP with the given ASes, exactly as
/// `lb_vip_update_new_flow_table()` does in the chosen [`Variant`].
///
/// `m` is the VIP's `new_flows_table_length`: a power of two, at most [`MAX_TABLE_LEN`].
/// `backends` plays VPP's AS pool: slot value `i + 1` stands for `backends[i]` (VPP stores the AS
/// pool index; the sort by address makes the table independent of the pool order, so only the
/// numbering differs). With no live backend (none given, or all weights 0 for
/// [`Variant::VppWeighted`]) every slot is 0, VPP's "no server" placeholder.
///
/// Errors: [`MaglevError::NotPowerOfTwo`], [`MaglevError::TooLarge`],
/// [`MaglevError::TooManyEntries`], [`MaglevError::DuplicateAddress`].
pub fn vpp_table(backends: &[Backend], m: usize, variant: Variant) -> Result<Table, MaglevError> {
    check_pow2(m)?;
    let entries = check_backends(backends, variant)?;
    // Sort key: (replica, address as a big-endian integer), the order of VPP's comparator
    // (memcmp of the 16 address bytes; replica first on master, always 0 for 26.06).
    let mut keyed: Vec<(u32, u128, u32)> = Vec::new();
    for (i, (b, &n)) in backends.iter().zip(&entries).enumerate() {
        let addr = u128::from_be_bytes(ip46(b.addr));
        keyed.extend((0..n).map(|r| (r, addr, i as u32)));
    }
    keyed.sort_unstable();
    let mut walkers: Vec<Walker> = keyed
        .iter()
        .map(|&(r, _, i)| {
            let (skip, offset) = vpp_skip_offset(backends[i as usize].addr, r, m);
            Walker {
                next: offset,
                skip,
                id: i + 1,
            }
        })
        .collect();
    let slots = fill(
        Pow2 {
            mask: (m - 1) as u32,
        },
        &mut walkers,
        m,
    );
    Ok(Table {
        slots,
        ids: backends.iter().map(|b| BackendId::Addr(b.addr)).collect(),
        entries,
    })
}

/// The paper's permutation parameters `(offset, skip)` for backend `name` in a table of prime
/// length `m`: with `d = SHA-256(name as UTF-8)`, `h1` = `d[0..8]` and `h2` = `d[8..16]` read as
/// big-endian `u64`; `offset = h1 mod m`, `skip = h2 mod (m - 1) + 1`.
pub fn paper_offset_skip(name: &str, m: usize) -> (u32, u32) {
    let d = Sha256::digest(name.as_bytes());
    let h1 = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    let h2 = u64::from_be_bytes(d[8..16].try_into().expect("8 bytes"));
    let m = m as u64;
    let offset = h1 % m;
    let skip = h2 % (m - 1).max(1) + 1;
    (offset as u32, skip as u32)
}

/// Builds the Maglev table of the NSDI 2016 paper (Eisenbud et al., "Maglev: A Fast and Reliable
/// Software Network Load Balancer", §3.4) for the named backends.
///
/// `m` must be prime (so every `skip` in `1..m` gives a full permutation) and at most
/// [`MAX_TABLE_LEN`]; the paper uses 65537 and 655373. Offsets and skips come from
/// [`paper_offset_skip`]; the round-robin fill visits backends in the given order. Slot value
/// `i + 1` stands for `names[i]`; with no names every slot is 0.
///
/// Errors: [`MaglevError::NotPrime`], [`MaglevError::TooLarge`],
/// [`MaglevError::TooManyEntries`], [`MaglevError::DuplicateName`].
pub fn paper_table(names: &[&str], m: usize) -> Result<Table, MaglevError> {
    if m > MAX_TABLE_LEN {
        return Err(MaglevError::TooLarge(m));
    }
    if !is_prime(m) {
        return Err(MaglevError::NotPrime(m));
    }
    if names.len() > MAX_TABLE_LEN {
        return Err(MaglevError::TooManyEntries(names.len()));
    }
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(MaglevError::DuplicateName(w[0].to_string()));
    }
    let mut walkers: Vec<Walker> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (offset, skip) = paper_offset_skip(name, m);
            Walker {
                next: offset,
                skip,
                id: i as u32 + 1,
            }
        })
        .collect();
    let slots = fill(Prime { m: m as u32 }, &mut walkers, m);
    Ok(Table {
        slots,
        ids: names
            .iter()
            .map(|n| BackendId::Name(n.to_string()))
            .collect(),
        entries: vec![1; names.len()],
    })
}

/// The fraction of slots whose backend changed from `a` to `b`.
///
/// Backends are compared by identity ([`BackendId`]: address or name), not by slot value, so
/// tables built from different backend lists (one removed, added, or reordered) compare
/// correctly. "No server" (slot value 0) is its own identity.
///
/// # Panics
///
/// If the tables differ in length: slot `i` of one has no counterpart in the other.
pub fn disruption(a: &Table, b: &Table) -> f64 {
    assert_eq!(a.len(), b.len(), "disruption needs tables of equal length");
    if a.is_empty() {
        return 0.0;
    }
    let changed = (0..a.len())
        .filter(|&i| a.backend_at(i) != b.backend_at(i))
        .count();
    changed as f64 / a.len() as f64
}

/// Load imbalance: the most loaded live backend's slots over the average, per fill entry.
///
/// A backend is live if it has fill entries ([`Table::entries`] > 0). Its load is its slot count
/// divided by its entries, and the average is M divided by all entries; for unweighted tables
/// that is max/avg of the slot counts. 1.0 is perfect balance; 0.0 means no live backend.
pub fn balance(t: &Table) -> f64 {
    let total: u64 = t.entries.iter().map(|&e| u64::from(e)).sum();
    if total == 0 || t.is_empty() {
        return 0.0;
    }
    let max = t
        .buckets_per_backend()
        .iter()
        .zip(&t.entries)
        .filter(|&(_, &e)| e > 0)
        .map(|(&c, &e)| c as f64 / f64::from(e))
        .fold(0.0f64, f64::max);
    max / (t.len() as f64 / total as f64)
}

/// Whether `n` is prime (deterministic Miller–Rabin, exact for every `u64`).
pub fn is_prime(n: usize) -> bool {
    let n = n as u64;
    if n < 2 {
        return false;
    }
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    for p in BASES {
        if n % p == 0 {
            return n == p;
        }
    }
    let mul = |a: u64, b: u64| (u128::from(a) * u128::from(b) % u128::from(n)) as u64;
    let pow = |mut b: u64, mut e: u64| {
        let mut acc = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                acc = mul(acc, b);
            }
            b = mul(b, b);
            e >>= 1;
        }
        acc
    };
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'bases: for a in BASES {
        let mut x = pow(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul(x, x);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_inverse() {
        for m in [1usize, 2, 1024, 1 << 24] {
            let ring = Pow2 {
                mask: (m - 1) as u32,
            };
            for skip in [1u32, 3, 947, 0x00ff_ffff] {
                let skip = skip & ring.mask;
                let inv = ring.inverse(skip);
                assert_eq!(skip.wrapping_mul(inv) & ring.mask, 1 & ring.mask);
            }
        }
    }

    #[test]
    fn prime_inverse_and_steps() {
        let ring = Prime { m: 65537 };
        for skip in [1u32, 2, 12345, 65536] {
            let inv = ring.inverse(skip);
            assert_eq!(u64::from(skip) * u64::from(inv) % 65537, 1);
            let from = 777;
            let to = (0..40u32).fold(from, |p, _| ring.add(p, skip));
            assert_eq!(ring.steps(from, to, inv), 40);
        }
    }

    #[test]
    fn primes() {
        let small: Vec<usize> = (0..40).filter(|&n| is_prime(n)).collect();
        assert_eq!(small, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]);
        assert!(is_prime(65537));
        assert!(is_prime(655373));
        assert!(!is_prime(65536));
        assert!(!is_prime(65535));
        assert!(!is_prime(3_215_031_751)); // strong pseudoprime to bases 2, 3, 5, 7
        assert!(is_prime(18_446_744_073_709_551_557)); // largest u64 prime
    }
}
