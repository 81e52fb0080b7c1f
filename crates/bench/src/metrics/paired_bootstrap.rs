//! Paired bootstrap interval of the accuracy difference between two systems on the same items: items
//! are resampled with replacement, keeping each item's pair of outcomes together.

use super::bootstrap::bootstrap_mean_interval;
use super::Interval;

/// Percentile interval of acc(A) - acc(B). `None` if the lists differ in length or are empty.
pub fn paired_bootstrap_difference(
    a: &[bool],
    b: &[bool],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    if a.len() != b.len() {
        return None;
    }
    // The mean of per-item differences equals the difference of means, resample by resample.
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(u8::from(x)) - f64::from(u8::from(y)))
        .collect();
    bootstrap_mean_interval(&d, level, resamples, seed)
}
