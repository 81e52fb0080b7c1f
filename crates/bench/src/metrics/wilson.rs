//! Wilson score interval for a binomial proportion (Wilson, 1927, "Probable inference, the law of
//! succession, and statistical inference", JASA 22:209-212). Unlike the normal ("Wald") interval it
//! stays inside [0, 1] and behaves at small n and at accuracies near 0 or 1.

use super::special::normal_quantile;
use super::Interval;

/// Wilson interval for `k` successes out of `n` at confidence `level` (e.g. 0.95).
pub fn wilson_interval(k: u64, n: u64, level: f64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    let n = n as f64;
    let p = k as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}
