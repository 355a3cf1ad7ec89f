//! A keyed, full-cycle permutation of `[0, n)`: every position maps to a
//! distinct index, the order is fixed by the seed, and any position can be
//! computed directly, so a scan resumes at position `p` without replaying the
//! first `p` steps.
//!
//! It is a 4-round balanced Feistel network over the smallest even-bit-width
//! domain `[0, 4^h)` that holds `n`, restricted to `[0, n)` by cycle walking
//! (re-encrypting values that fall outside). Because `4^h < 4n`, a position
//! needs fewer than four walks on average.

const ROUNDS: usize = 4;

#[derive(Clone, Debug)]
pub struct Permutation {
    size: u64,
    half_bits: u32,
    round_keys: [u64; ROUNDS],
}

impl Permutation {
    pub fn new(size: u64, seed: u64) -> Permutation {
        let needed_bits = 64 - size.saturating_sub(1).leading_zeros();
        let half_bits = needed_bits.div_ceil(2).max(1);
        let mut state = seed;
        let round_keys = std::array::from_fn(|_| splitmix64(&mut state));
        Permutation {
            size,
            half_bits,
            round_keys,
        }
    }

    pub fn len(&self) -> u64 {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The index scanned at `position`; `None` when `position >= len()`.
    pub fn index_at(&self, position: u64) -> Option<u64> {
        if position >= self.size {
            return None;
        }
        let mut value = self.encrypt(position);
        while value >= self.size {
            value = self.encrypt(value);
        }
        Some(value)
    }

    fn encrypt(&self, value: u64) -> u64 {
        let mask = if self.half_bits >= 64 {
            u64::MAX
        } else {
            (1u64 << self.half_bits) - 1
        };
        let mut left = (value >> self.half_bits) & mask;
        let mut right = value & mask;
        for key in self.round_keys {
            let mut mixed = right ^ key;
            let next_right = left ^ (splitmix64(&mut mixed) & mask);
            left = right;
            right = next_right;
        }
        (left << self.half_bits) | right
    }
}

/// SplitMix64 step: a fast, well-mixed 64-bit hash, enough to shuffle scan order (this is not cryptography).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(size: u64, seed: u64) -> Vec<u64> {
        let permutation = Permutation::new(size, seed);
        (0..size)
            .map(|p| permutation.index_at(p).expect("in range"))
            .collect()
    }

    #[test]
    fn full_cycle_for_many_sizes() {
        for size in [
            1u64, 2, 3, 4, 5, 7, 16, 17, 100, 255, 256, 257, 1000, 4096, 65_537,
        ] {
            let mut seen = vec![false; size as usize];
            for index in collect(size, 42) {
                assert!(
                    !seen[index as usize],
                    "index {index} repeated for size {size}"
                );
                seen[index as usize] = true;
            }
            assert!(seen.iter().all(|&s| s), "size {size} missed an index");
        }
        assert!(Permutation::new(0, 1).index_at(0).is_none());
    }

    #[test]
    fn reproducible_from_seed_and_different_across_seeds() {
        assert_eq!(collect(1000, 7), collect(1000, 7));
        assert_ne!(collect(1000, 7), collect(1000, 8));
        // The order is actually shuffled, not the identity.
        assert_ne!(collect(1000, 7), (0..1000).collect::<Vec<u64>>());
    }

    #[test]
    fn resume_continues_the_same_order() {
        let full = collect(5000, 99);
        let permutation = Permutation::new(5000, 99);
        let resumed: Vec<u64> = (1234..5000)
            .map(|p| permutation.index_at(p).expect("in range"))
            .collect();
        assert_eq!(resumed, full[1234..]);
    }

    #[test]
    fn huge_domains_work() {
        let permutation = Permutation::new(u64::MAX, 3);
        let index = permutation.index_at(u64::MAX - 1).expect("in range");
        assert!(index < u64::MAX);
        let slash8 = Permutation::new(1 << 24, 3);
        assert!(slash8.index_at((1 << 24) - 1).expect("in range") < 1 << 24);
    }
}
