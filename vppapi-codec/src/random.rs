//! Seeded random instances of wire types, for differential and property tests.

/// A small deterministic generator (SplitMix64): seeded test vectors must be reproducible.
#[derive(Debug, Clone)]
pub struct SmallRng {
    state: u64,
    /// Whether to produce values outside the declared enumerators / union cases (unknown enum
    /// values, unknown flag bits, unknown tags), which some peers such as vpp_papi reject.
    pub unknowns: bool,
}

impl SmallRng {
    /// A generator for `seed`; `unknowns` as the field.
    pub fn new(seed: u64, unknowns: bool) -> Self {
        Self {
            state: seed,
            unknowns,
        }
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    /// A printable ASCII string of at most `max` bytes.
    pub fn string(&mut self, max: usize) -> String {
        // Sometimes exactly `max` (the N-1 boundary of fixed strings), mostly short.
        let len = if self.one_in(4) {
            max
        } else {
            self.below(max.min(24) as u64 + 1) as usize
        };
        (0..len)
            .map(|_| char::from(b' ' + self.below(95) as u8))
            .collect()
    }
    /// A length for a collection (small, at most `max`).
    pub fn len(&mut self, max: u64) -> usize {
        self.below(max.min(5) + 1) as usize
    }
}

/// Produce a random valid instance. Implemented by the derives.
pub trait Random: Sized {
    /// A random value.
    fn random(rng: &mut SmallRng) -> Self;
}

macro_rules! int_random {
    ($($t:ty),*) => {$(
        impl Random for $t {
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            fn random(rng: &mut SmallRng) -> Self {
                // Mix edge values in: they find byte-order bugs faster.
                match rng.below(4) {
                    0 => 0,
                    1 => <$t>::MAX,
                    2 => <$t>::MIN,
                    _ => rng.next_u64() as $t,
                }
            }
        }
    )*};
}
int_random!(u8, i8, u16, i16, u32, i32, u64, i64);

impl Random for bool {
    fn random(rng: &mut SmallRng) -> Self {
        rng.one_in(2)
    }
}

impl Random for f64 {
    fn random(rng: &mut SmallRng) -> Self {
        loop {
            let v = match rng.below(3) {
                0 => 1.0,
                1 => (rng.next_u64() % 2_000_000) as f64 / 7.0 - 100_000.0,
                _ => f64::from_bits(rng.next_u64()),
            };
            if v.is_finite() {
                return v;
            }
        }
    }
}

impl<T: Random, const N: usize> Random for [T; N] {
    fn random(rng: &mut SmallRng) -> Self {
        core::array::from_fn(|_| T::random(rng))
    }
}
