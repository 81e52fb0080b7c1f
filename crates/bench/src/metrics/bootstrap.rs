//! Seeded percentile bootstrap (Efron, 1979, "Bootstrap methods: another look at the jackknife") of the
//! mean of per-item scores, e.g. the accuracy of 0/1 correctness.

use super::rng::Rng;
use super::Interval;

/// Default number of bootstrap resamples.
pub const DEFAULT_RESAMPLES: usize = 10_000;

/// Percentile bootstrap interval of the mean of `values`: resample items with replacement
/// `resamples` times and take the (1-level)/2 and (1+level)/2 quantiles (linear interpolation, as
/// NumPy's default) of the resampled means. Deterministic for a given `seed`.
pub fn bootstrap_mean_interval(
    values: &[f64],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    if values.is_empty() || resamples == 0 {
        return None;
    }
    let n = values.len();
    let mut rng = Rng::new(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            (0..n)
                .map(|_| values[rng.below(n as u64) as usize])
                .sum::<f64>()
                / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let a = (1.0 - level) / 2.0;
    Some(Interval {
        low: quantile_sorted(&means, a),
        high: quantile_sorted(&means, 1.0 - a),
    })
}

/// Bootstrap interval of accuracy from per-item correctness.
pub fn bootstrap_accuracy_interval(
    correct: &[bool],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    let v: Vec<f64> = correct.iter().map(|&c| c as u8 as f64).collect();
    bootstrap_mean_interval(&v, level, resamples, seed)
}

/// Quantile `q` of sorted data with linear interpolation between order statistics (h = (n-1) q).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}
