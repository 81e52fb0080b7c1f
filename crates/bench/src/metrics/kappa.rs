//! Agreement between two runs on the same items, beyond what their accuracies alone would give: the
//! share of items both got right or both got wrong, and Cohen's kappa on that right/wrong table
//! (Cohen, 1960, "A coefficient of agreement for nominal scales", Educational and Psychological
//! Measurement 20:37-46). Two runs at 90% accuracy agree on at least 80% of items by arithmetic alone;
//! kappa says how much of the agreement is more than that: 1 = the same items right, 0 = as if
//! independent, negative = they tend to get *different* items right.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    pub items: usize,
    /// Both right, both wrong.
    pub both_right: usize,
    pub both_wrong: usize,
    /// Share of items with the same outcome.
    pub observed: f64,
    /// Agreement expected if the runs were independent with their accuracies.
    pub expected: f64,
    /// (observed - expected) / (1 - expected); `None` when expected is 1 (both runs all right, or all
    /// wrong, or one of each constant): kappa is undefined there.
    pub kappa: Option<f64>,
}

/// `None` if the lists differ in length or are empty.
pub fn agreement(a: &[bool], b: &[bool]) -> Option<Agreement> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let n = a.len() as f64;
    let both_right = a.iter().zip(b).filter(|(x, y)| **x && **y).count();
    let both_wrong = a.iter().zip(b).filter(|(x, y)| !**x && !**y).count();
    let pa = a.iter().filter(|x| **x).count() as f64 / n;
    let pb = b.iter().filter(|x| **x).count() as f64 / n;
    let observed = (both_right + both_wrong) as f64 / n;
    let expected = pa * pb + (1.0 - pa) * (1.0 - pb);
    let kappa = if (1.0 - expected).abs() < 1e-12 {
        None
    } else {
        Some((observed - expected) / (1.0 - expected))
    };
    Some(Agreement {
        items: a.len(),
        both_right,
        both_wrong,
        observed,
        expected,
        kappa,
    })
}

#[cfg(test)]
mod tests {
    use super::agreement;

    #[test]
    fn hand_worked() {
        // 10 items: 4 both right, 2 both wrong, 3 only A, 1 only B. pa = .7, pb = .5.
        let a = [1, 1, 1, 1, 0, 0, 1, 1, 1, 0].map(|x| x == 1);
        let b = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1].map(|x| x == 1);
        let g = agreement(&a, &b).unwrap();
        assert_eq!((g.both_right, g.both_wrong), (4, 2));
        assert!((g.observed - 0.6).abs() < 1e-12);
        assert!((g.expected - 0.5).abs() < 1e-12);
        assert!((g.kappa.unwrap() - 0.2).abs() < 1e-12);
        // Identical runs: kappa 1; complementary: -1; constant: undefined.
        assert!((agreement(&a, &a).unwrap().kappa.unwrap() - 1.0).abs() < 1e-12);
        let not_a: Vec<bool> = a.iter().map(|x| !x).collect();
        assert!(agreement(&a, &not_a).unwrap().kappa.unwrap() < 0.0);
        assert_eq!(agreement(&[true; 3], &[true; 3]).unwrap().kappa, None);
        assert!(agreement(&[true], &[]).is_none());
    }
}
