//! Holm's step-down correction for several tests at once (Holm, 1979, "A simple sequentially rejective
//! multiple test procedure", Scandinavian Journal of Statistics 6:65-70): comparing three runs makes
//! three pairwise tests, and the chance that at least one of them looks significant by luck grows with
//! their number. Holm controls that family-wise error rate at the nominal level, like Bonferroni, but
//! rejects more often. Adjusted p-values: sort the m p-values ascending; the j-th smallest (1-based)
//! becomes `min(1, max over i <= j of (m - i + 1) * p_(i))`; compare each adjusted value with 0.05.

/// Holm-adjusted p-values, in the order of `p` (ties keep their input order, as statsmodels does).
pub fn holm_adjust(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let v = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(v);
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::holm_adjust;

    #[test]
    fn worked_example() {
        // Sorted 0.01, 0.02, 0.04 -> 3*0.01, max(0.03, 2*0.02), max(0.04, 1*0.04).
        let a = holm_adjust(&[0.04, 0.01, 0.02]);
        for (x, y) in a.iter().zip([0.04, 0.03, 0.04]) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
        // The step-down monotonicity: a large multiplier on a small p carries forward.
        let a = holm_adjust(&[0.02, 0.021, 0.5]);
        assert!((a[0] - 0.06).abs() < 1e-12 && (a[1] - 0.06).abs() < 1e-12);
        assert!((a[2] - 0.5).abs() < 1e-12);
        assert_eq!(holm_adjust(&[0.9, 0.8]), vec![1.0, 1.0]);
        assert!(holm_adjust(&[]).is_empty());
        assert_eq!(holm_adjust(&[0.3]), vec![0.3]);
    }
}
