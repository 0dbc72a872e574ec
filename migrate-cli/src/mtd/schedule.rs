//! When `migrate mtd` moves the program next: every period, randomized
//! within the jitter by a seeded generator, so a run can be repeated.

use std::time::Duration;

/// The periods of successive legs.
pub struct Schedule {
    period: Duration,
    jitter: f64,
    state: u64,
}

impl Schedule {
    /// Legs of `period` ± `jitter` × `period` (jitter in 0..=1), drawn
    /// uniformly from `seed`.
    pub fn new(period: Duration, jitter: f64, seed: u64) -> Schedule {
        Schedule {
            period,
            jitter: jitter.clamp(0.0, 1.0),
            // Zero would be a fixed point of xorshift.
            state: (seed ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0x100_0000_01b3) | 1,
        }
    }

    /// The next leg's length: at least 1 ms (the runtime's timer counts
    /// whole milliseconds).
    pub fn next_period(&mut self) -> Duration {
        // xorshift64*: the top 53 bits make a uniform double in [0, 1).
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let bits = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        let unit = bits as f64 / (1u64 << 53) as f64;
        let factor = 1.0 + self.jitter * (2.0 * unit - 1.0);
        self.period.mul_f64(factor).max(Duration::from_millis(1))
    }
}

/// Parses a jitter: `50%` or a fraction such as `0.5`, from 0 to 100%.
pub fn parse_jitter(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("{s:?}: expected a jitter such as 50% or 0.5"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{s:?}: must be between 0% and 100%"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_stay_within_the_jitter_and_repeat_with_the_seed() {
        let period = Duration::from_millis(100);
        let draw = |seed| {
            let mut s = Schedule::new(period, 0.5, seed);
            (0..1000).map(|_| s.next_period()).collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        assert!(a
            .iter()
            .all(|d| *d >= Duration::from_millis(50) && *d <= Duration::from_millis(150)));
        // Spread over the range, not stuck at one end.
        assert!(a.iter().any(|d| *d < Duration::from_millis(60)));
        assert!(a.iter().any(|d| *d > Duration::from_millis(140)));
        let fixed = Schedule::new(period, 0.0, 1).next_period();
        assert_eq!(fixed, period);
    }

    #[test]
    fn jitters() {
        assert_eq!(parse_jitter("50%"), Ok(0.5));
        assert_eq!(parse_jitter("0.25"), Ok(0.25));
        assert_eq!(parse_jitter("0"), Ok(0.0));
        assert!(parse_jitter("150%").is_err());
        assert!(parse_jitter("lots").is_err());
    }
}
