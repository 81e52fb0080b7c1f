//! Expected calibration error (Naeini et al., 2015, "Obtaining Well Calibrated Probabilities Using
//! Bayesian Binning", AAAI; Guo et al., 2017, "On Calibration of Modern Neural Networks", ICML):
//! how far a model's confidence is from its accuracy, averaged over confidence bins.
//!
//! Confidence is the probability of the predicted option. Equal-width bins are (b/B, (b+1)/B] with
//! confidence 0 in the first bin. Adaptive ECE (Nixon et al., 2019, "Measuring Calibration in Deep
//! Learning", CVPR workshops) uses equal-mass bins: items sorted by confidence and split into B groups
//! whose sizes differ by at most one, larger groups first (NumPy's `array_split`).

/// Default number of bins (Guo et al., 2017).
pub const DEFAULT_BINS: usize = 15;

/// Equal-width bin of a confidence in [0, 1].
pub fn equal_width_bin(conf: f64, bins: usize) -> usize {
    // The bin b with b/B < conf <= (b+1)/B, found by comparing against the same edges a reader would use.
    let mut b = 0;
    while b + 1 < bins && conf > (b + 1) as f64 / bins as f64 {
        b += 1;
    }
    b
}

fn weighted_gap(groups: &[Vec<(f64, bool)>], total: usize) -> f64 {
    groups
        .iter()
        .filter(|g| !g.is_empty())
        .map(|g| {
            let n = g.len() as f64;
            let conf = g.iter().map(|x| x.0).sum::<f64>() / n;
            let acc = g.iter().filter(|x| x.1).count() as f64 / n;
            n / total as f64 * (acc - conf).abs()
        })
        .sum()
}

/// ECE with `bins` equal-width bins over (confidence, correct) pairs.
pub fn ece(samples: &[(f64, bool)], bins: usize) -> Option<f64> {
    if samples.is_empty() || bins == 0 {
        return None;
    }
    let mut groups = vec![Vec::new(); bins];
    for &(c, ok) in samples {
        groups[equal_width_bin(c, bins)].push((c, ok));
    }
    Some(weighted_gap(&groups, samples.len()))
}

/// Adaptive (equal-mass) ECE with `bins` bins.
pub fn adaptive_ece(samples: &[(f64, bool)], bins: usize) -> Option<f64> {
    if samples.is_empty() || bins == 0 {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = sorted.len();
    let (base, extra) = (n / bins, n % bins);
    let mut groups = Vec::with_capacity(bins);
    let mut start = 0;
    for b in 0..bins {
        let len = base + usize::from(b < extra);
        groups.push(sorted[start..start + len].to_vec());
        start += len;
    }
    Some(weighted_gap(&groups, n))
}

/// (confidence, correct) pairs from option probabilities and gold indices.
pub fn confidence_pairs(probs: &[Vec<f64>], gold: &[usize]) -> Vec<(f64, bool)> {
    probs
        .iter()
        .zip(gold)
        .filter_map(|(p, &g)| super::argmax(p).map(|(i, c)| (c, i == g)))
        .collect()
}
