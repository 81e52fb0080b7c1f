//! Scores for items with several correct options (`mcq_multi`): exact match and the Hamming score, and
//! what a guesser choosing a uniformly random non-empty subset of the options would score.
//!
//! - Exact match: the predicted set equals the gold set (the item's `correct` flag).
//! - Hamming score: the share of options whose in/out decision is right, 1 - Hamming loss
//!   (|P Δ G| / k for k options). An empty prediction is unextractable, not a score of its own.
//!
//! Chance, for a uniform random non-empty subset of k options (2^k - 1 equally likely sets):
//! - exact match: 1 / (2^k - 1);
//! - Hamming score: each option is in the guess with probability q = 2^(k-1) / (2^k - 1), so an item
//!   with g gold options scores (g q + (k - g)(1 - q)) / k in expectation.

/// Hamming score of one item: the share of its `k` options classified right.
pub fn hamming_score(pred: &[usize], gold: &[usize], k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let wrong = (0..k)
        .filter(|i| pred.contains(i) != gold.contains(i))
        .count();
    1.0 - wrong as f64 / k as f64
}

/// Probability that a uniform random non-empty subset of `k` options is exactly the gold set.
pub fn chance_exact_match(k: usize) -> f64 {
    if k == 0 || k > 60 {
        return 0.0;
    }
    1.0 / ((1u64 << k) - 1) as f64
}

/// Expected Hamming score of a uniform random non-empty subset of `k` options, `g` of them gold.
pub fn chance_hamming(g: usize, k: usize) -> f64 {
    if k == 0 || k > 60 {
        return 0.0;
    }
    let q = (1u64 << (k - 1)) as f64 / ((1u64 << k) - 1) as f64;
    (g as f64 * q + (k - g) as f64 * (1.0 - q)) / k as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // Gold {A, C} of 4; predicted {A, B}: A right, B wrong, C wrong, D right -> 2/4.
        assert_eq!(hamming_score(&[0, 1], &[0, 2], 4), 0.5);
        assert_eq!(hamming_score(&[0, 2], &[0, 2], 4), 1.0);
        assert_eq!(hamming_score(&[1, 3], &[0, 2], 4), 0.0);
        // 4 options: 15 non-empty subsets.
        assert!((chance_exact_match(4) - 1.0 / 15.0).abs() < 1e-15);
        // q = 8/15; gold of 2: (2 * 8/15 + 2 * 7/15) / 4 = 0.5.
        assert!((chance_hamming(2, 4) - 0.5).abs() < 1e-15);
        // gold of 1 of 4: (8/15 + 3 * 7/15) / 4 = 29/60.
        assert!((chance_hamming(1, 4) - 29.0 / 60.0).abs() < 1e-15);
    }

    #[test]
    fn chance_matches_enumerating_every_subset() {
        for k in 1..=6usize {
            for g in 1..=k {
                let gold: Vec<usize> = (0..g).collect();
                let (mut em, mut ham, mut n) = (0.0, 0.0, 0.0);
                for mask in 1u32..(1 << k) {
                    let pred: Vec<usize> = (0..k).filter(|i| mask & (1 << i) != 0).collect();
                    em += (pred == gold) as u8 as f64;
                    ham += hamming_score(&pred, &gold, k);
                    n += 1.0;
                }
                assert!((em / n - chance_exact_match(k)).abs() < 1e-12);
                assert!(
                    (ham / n - chance_hamming(g, k)).abs() < 1e-12,
                    "k {k} g {g}"
                );
            }
        }
    }
}
