//! A small seeded generator (SplitMix64): the same data on every run, without a dependency the
//! test crate does not have.

use chrono::Duration;

#[derive(Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// The generator in state `state`, as it is.
    pub(crate) fn at(state: u64) -> Self {
        Self(state)
    }

    /// A generator for `seed` whose first draws do not resemble those of nearby seeds.
    pub(crate) fn seeded(seed: u64) -> Self {
        let mut rng = Self(seed.wrapping_mul(0xD134_2543_DE82_EF95) ^ 0x2026_1124_0000_0008);
        rng.next_u64();
        rng
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is of no consequence here).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n as u64).expect("fits")
    }

    pub(crate) fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.below(pool.len())]
    }

    /// `count` different entries of `pool`.
    pub(crate) fn pick_distinct(&mut self, pool: &[&str], count: usize) -> Vec<String> {
        let mut picked: Vec<String> = Vec::with_capacity(count);
        while picked.len() < count.min(pool.len()) {
            let candidate = pool[self.below(pool.len())];
            if !picked.iter().any(|existing| existing == candidate) {
                picked.push(candidate.to_owned());
            }
        }
        picked
    }

    pub(crate) fn minutes(&mut self, below: usize) -> Duration {
        Duration::minutes(i64::try_from(self.below(below)).expect("small"))
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            items.swap(index, self.below(index + 1));
        }
    }
}
