//! How failed pushes are retried: exponential backoff with jitter, up to a number of failures.

use std::time::{Duration, SystemTime};

/// How failed pushes are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Failures after which an entry is `failed` (stored per entry as `max_retries`).
    pub max_retries: u32,
    /// Delay after the first failure.
    pub base_delay: Duration,
    /// Upper bound of the delay.
    pub max_delay: Duration,
    /// Fraction (0..=1) of the delay that random jitter may remove.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 10 retries, 1 s doubling up to 60 s, 20 % jitter.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The delay after failure number `failures` (1-based), before jitter:
    /// `min(base * 2^(failures-1), max_delay)`.
    pub fn delay(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(32);
        self.base_delay
            .saturating_mul(1u32 << exponent.min(31))
            .min(self.max_delay)
    }

    /// [`RetryPolicy::delay`] shortened by `unit * jitter` of itself, `unit` in `[0, 1)`.
    pub fn jittered(&self, failures: u32, unit: f64) -> Duration {
        let delay = self.delay(failures);
        delay.mul_f64(1.0 - self.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0))
    }
}

/// What [`crate::Queue::fail`] did with the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// The entry is `pending` again and is handed out no earlier than `next_attempt_at`.
    Retrying {
        /// When the entry becomes eligible again.
        next_attempt_at: SystemTime,
    },
    /// The entry reached `max_retries` and is `failed`.
    Failed,
}
