//! SplitMix64: the one small seeded generator of the server's tests (fault schedules, device
//! schedules), so a failing seed replays exactly.

/// SplitMix64's increment (the golden ratio in 64 bits).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// One step of SplitMix64: a well-mixed number from `x`, so each seed gives its own sequence.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded generator: the schedule of one test case.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        let z = splitmix64(self.0);
        self.0 = self.0.wrapping_add(GOLDEN);
        z % n
    }

    /// One of `ids`, or `None` when there are none.
    pub fn pick<T: Copy>(&mut self, ids: &[T]) -> Option<T> {
        (!ids.is_empty()).then(|| ids[self.below(ids.len() as u64) as usize])
    }
}
