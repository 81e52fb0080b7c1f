//! The chance baseline: what uniform random guessing scores on a set of items whose option counts may
//! differ (e.g. MMLU-Pro's 3-10 options), and whether an observed score is distinguishable from it.
//!
//! Under guessing, item i is correct with probability 1/k_i independently, so the number correct
//! follows a Poisson-binomial distribution, computed here exactly by dynamic programming.

use super::Interval;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChanceBaseline {
    pub items: usize,
    /// Expected accuracy of uniform guessing: mean of 1/k_i.
    pub expected_accuracy: f64,
    /// Central interval of the accuracy that guessing produces, at the requested level.
    pub interval: Interval,
    /// P(guessing gets at least the observed number right): one-sided p-value.
    pub p_value: f64,
    /// Whether the observed score is above chance at the requested level (p < 1 - level).
    pub beats_chance: bool,
}

/// Exact distribution of the number of successes of independent Bernoulli(p_i) trials.
pub fn poisson_binomial_pmf(ps: &[f64]) -> Vec<f64> {
    let mut pmf = vec![1.0];
    for &p in ps {
        let mut next = vec![0.0; pmf.len() + 1];
        for (k, &m) in pmf.iter().enumerate() {
            next[k] += m * (1.0 - p);
            next[k + 1] += m * p;
        }
        pmf = next;
    }
    pmf
}

/// Chance baseline for items with the given option counts, compared with `observed_correct` right answers.
pub fn chance_baseline(
    option_counts: &[usize],
    observed_correct: usize,
    level: f64,
) -> Option<ChanceBaseline> {
    if option_counts.is_empty() || option_counts.contains(&0) {
        return None;
    }
    let ps: Vec<f64> = option_counts.iter().map(|&k| 1.0 / k as f64).collect();
    chance_baseline_of(&ps, observed_correct, level)
}

/// The chance baseline when item `i` is guessed right with probability `ps[i]` (e.g. `1 / (2^k - 1)`
/// for an item with several correct options, guessed as a random non-empty subset).
pub fn chance_baseline_of(
    ps: &[f64],
    observed_correct: usize,
    level: f64,
) -> Option<ChanceBaseline> {
    if ps.is_empty() {
        return None;
    }
    let n = ps.len();
    let ps = ps.to_vec();
    let pmf = poisson_binomial_pmf(&ps);
    let alpha = (1.0 - level) / 2.0;
    // Smallest k with CDF(k) >= q, the same convention as scipy's ppf for discrete distributions.
    let ppf = |q: f64| {
        let mut c = 0.0;
        for (k, m) in pmf.iter().enumerate() {
            c += m;
            if c >= q - 1e-12 {
                return k;
            }
        }
        n
    };
    let p_value: f64 = pmf[observed_correct.min(n)..].iter().sum::<f64>().min(1.0);
    Some(ChanceBaseline {
        items: n,
        expected_accuracy: ps.iter().sum::<f64>() / n as f64,
        interval: Interval {
            low: ppf(alpha) as f64 / n as f64,
            high: ppf(1.0 - alpha) as f64 / n as f64,
        },
        p_value,
        beats_chance: p_value < 1.0 - level,
    })
}
