//! The retry schedule shared by platform delivery and webhook delivery.

use rand::Rng;

/// Exponential backoff with jitter: `base_ms` × 2^(attempts−1), capped at `max_ms`, then a random
/// 50–100 % of it (so that many failures at once do not come back at once). At least 1 ms.
pub fn backoff_ms(base_ms: u64, max_ms: u64, attempts: i64) -> u64 {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    let full = base_ms.saturating_mul(1u64 << exp.min(20)).min(max_ms);
    (full / 2 + rand::rng().random_range(0..=full / 2)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_per_attempt_within_jitter_and_cap() {
        for _ in 0..100 {
            let first = backoff_ms(1000, 60_000, 1);
            assert!((500..=1000).contains(&first));
            let third = backoff_ms(1000, 60_000, 3);
            assert!((2000..=4000).contains(&third));
            assert!(backoff_ms(1000, 60_000, 30) <= 60_000);
        }
    }
}
