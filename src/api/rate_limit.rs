//! Per-key request budgets in fixed windows of the engine's clock.

use std::collections::HashMap;

use super::config::RateLimit;
use super::credentials::SecretDigest;
use crate::model::Timestamp;

/// Counts requests per key in fixed windows; keys are held as digests.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    limit: Option<RateLimit>,
    windows: HashMap<SecretDigest, (Timestamp, u32)>,
}

impl RateLimiter {
    /// A limiter enforcing `limit`, or nothing when `None`.
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            windows: HashMap::new(),
        }
    }

    /// Counts one request of `key` at `now`. `Err` carries the whole seconds until the
    /// key's window ends when its budget is spent.
    pub(crate) fn admit(&mut self, key: &str, now: Timestamp) -> Result<(), u32> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let window = i64::from(limit.per_seconds.get());
        let (start, count) = self
            .windows
            .entry(SecretDigest::of(key))
            .or_insert((now, 0));
        if now >= start.plus_seconds(window) || now < *start {
            *start = now;
            *count = 0;
        }
        if *count >= limit.requests.get() {
            let left = start.plus_seconds(window).as_micros() - now.as_micros();
            let seconds = left.saturating_add(999_999) / 1_000_000;
            return Err(u32::try_from(seconds.max(1)).unwrap_or(u32::MAX));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_per_key_and_refills_with_the_window() {
        let limit = serde_json::from_str(r#"{"requests": 2, "perSeconds": 10}"#).unwrap();
        let mut limiter = RateLimiter::new(Some(limit));
        let start = Timestamp::from_millis(0);
        assert_eq!(limiter.admit("a", start), Ok(()));
        assert_eq!(limiter.admit("a", start.plus_seconds(1)), Ok(()));
        assert_eq!(limiter.admit("a", start.plus_seconds(2)), Err(8));
        assert_eq!(limiter.admit("b", start.plus_seconds(2)), Ok(()));
        assert_eq!(limiter.admit("a", start.plus_seconds(10)), Ok(()));
    }

    #[test]
    fn no_limit_admits_everything() {
        let mut limiter = RateLimiter::new(None);
        for _ in 0..1_000 {
            assert_eq!(limiter.admit("a", Timestamp::EPOCH), Ok(()));
        }
    }
}
