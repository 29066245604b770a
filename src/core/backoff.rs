//! Reconnection delays: exponential backoff with jitter, as socket.io-client
//! computes them, made deterministic by taking the random draw as an input.

/// How long to wait before each reconnection attempt.
///
/// Attempt `n` (0-based) waits `delay * 2^n` ms, moved up or down by at most
/// `randomization_factor` of itself, and capped at `delay_max`. After
/// `attempts` failed attempts it gives up (`None`).
///
/// ```
/// use frinny_agent::core::Backoff;
/// let b = Backoff { delay_ms: 1000, delay_max_ms: 5000, randomization_factor: 0.0, attempts: None };
/// let delays: Vec<_> = (0..5).map(|n| b.delay(n, 0.5).unwrap()).collect();
/// assert_eq!(delays, [1000, 2000, 4000, 5000, 5000]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// First delay, in ms (default 1000).
    pub delay_ms: u64,
    /// Largest delay, in ms (default 5000).
    pub delay_max_ms: u64,
    /// Jitter as a fraction of the delay, 0 to 1 (default 0.5).
    pub randomization_factor: f64,
    /// Attempts before giving up; `None` retries for ever (default).
    pub attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            delay_ms: 1000,
            delay_max_ms: 5000,
            randomization_factor: 0.5,
            attempts: None,
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (0 = first retry), given a uniform
    /// random draw `rand` in [0, 1); `None` once the attempts are spent.
    pub fn delay(&self, attempt: u32, rand: f64) -> Option<u64> {
        if self.attempts.is_some_and(|max| attempt >= max) {
            return None;
        }
        let base = (self.delay_ms as f64) * 2f64.powi(attempt.min(62) as i32);
        let factor = self.randomization_factor.clamp(0.0, 1.0);
        let rand = if rand.is_finite() {
            rand.clamp(0.0, 1.0)
        } else {
            0.5
        };
        // socket.io-client: the same draw picks the direction and the size.
        let deviation = (rand * factor * base).floor();
        let jittered = if ((rand * 10.0).floor() as u64) & 1 == 0 {
            base - deviation
        } else {
            base + deviation
        };
        let capped = jittered.min(self.delay_max_ms as f64).max(0.0);
        Some(capped as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps_without_jitter() {
        let b = Backoff {
            randomization_factor: 0.0,
            ..Backoff::default()
        };
        assert_eq!(b.delay(0, 0.3), Some(1000));
        assert_eq!(b.delay(1, 0.3), Some(2000));
        assert_eq!(b.delay(2, 0.3), Some(4000));
        assert_eq!(b.delay(3, 0.3), Some(5000));
        assert_eq!(b.delay(1000, 0.3), Some(5000));
    }

    #[test]
    fn jitter_stays_within_the_factor() {
        let b = Backoff::default();
        for i in 0..1000 {
            let r = f64::from(i) / 1000.0;
            let d = b.delay(0, r).unwrap();
            assert!((500..=1500).contains(&d), "{d} for {r}");
        }
        // Direction follows the tenths digit, as in socket.io-client.
        assert_eq!(b.delay(0, 0.05), Some(975));
        assert_eq!(b.delay(0, 0.15), Some(1075));
    }

    #[test]
    fn gives_up_after_the_attempts() {
        let b = Backoff {
            attempts: Some(2),
            ..Backoff::default()
        };
        assert!(b.delay(1, 0.0).is_some());
        assert_eq!(b.delay(2, 0.0), None);
    }

    #[test]
    fn hostile_inputs_do_not_misbehave() {
        let b = Backoff {
            randomization_factor: 7.0,
            ..Backoff::default()
        };
        assert!(b.delay(u32::MAX, f64::NAN).is_some());
        assert_eq!(b.delay(0, -3.0), Some(1000));
    }
}
