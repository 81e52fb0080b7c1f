//! Multi-class Brier score (Brier, 1950, "Verification of forecasts expressed in terms of
//! probability", Monthly Weather Review 78:1-3): mean over items of sum_j (p_j - y_j)^2, where y is the
//! one-hot gold answer. 0 is perfect; always answering uniformly over k options scores 1 - 1/k.

pub fn brier_score(probs: &[Vec<f64>], gold: &[usize]) -> Option<f64> {
    if probs.is_empty() || probs.len() != gold.len() {
        return None;
    }
    let total: f64 = probs
        .iter()
        .zip(gold)
        .map(|(p, &g)| {
            p.iter()
                .enumerate()
                .map(|(j, &pj)| (pj - f64::from(u8::from(j == g))).powi(2))
                .sum::<f64>()
        })
        .sum();
    Some(total / probs.len() as f64)
}
