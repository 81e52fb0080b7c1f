//! Statistics for reporting scores honestly. One concept per file; every function is tested against
//! reference numbers from SciPy/statsmodels/NumPy (`scripts/reference_stats.py` ->
//! `crates/bench/tests/fixtures/stats_reference.json`).

pub mod accuracy;
pub mod auc;
pub mod bootstrap;
pub mod bradley_terry;
pub mod brier;
pub mod calibration;
pub mod chance;
pub mod fisher;
pub mod holm;
pub mod irt;
pub mod kappa;
pub mod mcnemar;
pub mod multi_answer;
pub mod paired_bootstrap;
pub mod power;
pub mod reliability;
pub mod rng;
pub mod special;
pub mod subjects;
pub mod wilson;

use serde::Serialize;

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// Default confidence level of every interval Bedside reports.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// Index of the largest probability (first one on ties) and that probability.
pub fn argmax(p: &[f64]) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &x) in p.iter().enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best
}
