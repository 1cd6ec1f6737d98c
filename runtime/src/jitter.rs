//! The random numbers of backoff jitter: a small seedable generator (xorshift64*), so tests can
//! make retry times reproducible ([`crate::OpenOptions::jitter_seed`]).

use std::sync::Mutex;

use uuid::Uuid;

/// A seedable source of uniform numbers in `[0, 1)`.
#[derive(Debug)]
pub(crate) struct Jitter {
    state: Mutex<u64>,
}

impl Jitter {
    /// A generator seeded with `seed`, or randomly.
    pub fn new(seed: Option<u64>) -> Jitter {
        let seed = seed.unwrap_or_else(|| {
            let bytes = Uuid::new_v4().into_bytes();
            u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default())
        });
        // xorshift never leaves 0; an odd state is never 0.
        Jitter {
            state: Mutex::new(seed | 1),
        }
    }

    /// The next number, uniform in `[0, 1)`.
    pub fn unit(&self) -> f64 {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        #[allow(clippy::cast_precision_loss)]
        let unit = bits as f64 / (1u64 << 53) as f64;
        unit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_repeats_its_sequence_within_zero_and_one() {
        let (a, b) = (Jitter::new(Some(7)), Jitter::new(Some(7)));
        for _ in 0..100 {
            let x = a.unit();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x.to_bits(), b.unit().to_bits());
        }
    }
}
