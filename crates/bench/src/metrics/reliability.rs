//! Reliability-diagram data: per equal-width confidence bin, how many items fell in it, their mean
//! confidence and their accuracy (with a Wilson interval), ready to draw.

use super::calibration::equal_width_bin;
use super::wilson::wilson_interval;
use super::Interval;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub low: f64,
    pub high: f64,
    pub count: usize,
    /// `None` for an empty bin.
    pub mean_confidence: Option<f64>,
    pub accuracy: Option<f64>,
    pub accuracy_interval: Option<Interval>,
}

pub fn reliability_bins(samples: &[(f64, bool)], bins: usize, level: f64) -> Vec<ReliabilityBin> {
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for &(c, ok) in samples {
        let b = &mut sums[equal_width_bin(c, bins)];
        b.0 += 1;
        b.1 += c;
        b.2 += usize::from(ok);
    }
    sums.into_iter()
        .enumerate()
        .map(|(b, (n, csum, k))| ReliabilityBin {
            low: b as f64 / bins as f64,
            high: (b + 1) as f64 / bins as f64,
            count: n,
            mean_confidence: (n > 0).then(|| csum / n as f64),
            accuracy: (n > 0).then(|| k as f64 / n as f64),
            accuracy_interval: (n > 0).then(|| wilson_interval(k as u64, n as u64, level)),
        })
        .collect()
}
