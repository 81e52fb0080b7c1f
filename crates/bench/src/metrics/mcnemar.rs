//! Exact McNemar test (McNemar, 1947, "Note on the sampling error of the difference between correlated
//! proportions or percentages", Psychometrika 12:153-157) for two systems scored on the same items:
//! only the discordant items count; under "no difference" each is equally likely to favour either side.

use super::special::binom_cdf;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McNemar {
    /// Items A got right and B got wrong.
    pub a_only: usize,
    /// Items B got right and A got wrong.
    pub b_only: usize,
    /// Two-sided exact p-value: min(1, 2 * P(X <= min(b, c))), X ~ Binomial(b + c, 1/2).
    pub p_value: f64,
}

/// `None` if the two lists differ in length.
pub fn mcnemar_exact(a: &[bool], b: &[bool]) -> Option<McNemar> {
    if a.len() != b.len() {
        return None;
    }
    let a_only = a.iter().zip(b).filter(|(x, y)| **x && !**y).count();
    let b_only = a.iter().zip(b).filter(|(x, y)| !**x && **y).count();
    let n = (a_only + b_only) as u64;
    let p_value = if n == 0 {
        1.0
    } else {
        (2.0 * binom_cdf(a_only.min(b_only) as u64, n, 0.5)).min(1.0)
    };
    Some(McNemar {
        a_only,
        b_only,
        p_value,
    })
}
