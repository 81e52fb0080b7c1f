//! The area under the ROC curve of a score separating two groups: the probability that a random
//! member of the first group scores higher than one of the second, ties counting one half (the
//! Mann–Whitney U statistic divided by n₁·n₂).

/// AUC of `score` for telling `positive` from `negative`; `None` when either group is empty.
pub fn auc(positive: &[f64], negative: &[f64]) -> Option<f64> {
    if positive.is_empty() || negative.is_empty() {
        return None;
    }
    // Rank-based: O((n + m) log(n + m)) with midranks for ties.
    let mut all: Vec<(f64, bool)> = positive
        .iter()
        .map(|&x| (x, true))
        .chain(negative.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (n1, n2) = (positive.len() as f64, negative.len() as f64);
    Some((rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn against_pair_counting() {
        let p = [0.9, 0.4, 0.4, 0.1];
        let n = [0.4, 0.2, 0.0];
        // Count pairs by hand: wins + half ties.
        let mut s = 0.0;
        for x in p {
            for y in n {
                s += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert!((auc(&p, &n).unwrap() - s / 12.0).abs() < 1e-12);
        assert_eq!(auc(&[1.0], &[0.0]), Some(1.0));
        assert_eq!(auc(&[0.0], &[1.0]), Some(0.0));
        assert_eq!(auc(&[], &[1.0]), None);
    }
}
