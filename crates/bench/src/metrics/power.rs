//! How many items a paired comparison needs: the sample size at which the exact-McNemar-style test of
//! two runs on the same items detects the observed difference with the given power. Connor's formula
//! for the paired design (Connor, 1987, "Sample size for testing differences in proportions for the
//! paired-sample design", Biometrics 43:207-211), from the discordant shares p10 (only A right) and
//! p01 (only B right), with psi = p10 + p01 and delta = p10 - p01:
//!
//! n = ( z(1 - alpha/2) * sqrt(psi) + z(power) * sqrt(psi - delta^2) )^2 / delta^2
//!
//! It is a normal approximation, so an estimate ("about how many items"), and it plugs in the observed
//! shares as if they were the truth: with few discordant items the estimate itself is uncertain.

use super::special::normal_quantile;

/// Items needed (rounded up) for a two-sided test at level `alpha` with probability `power` of
/// detecting a true difference equal to the observed one. `None` when the observed difference is 0
/// (nothing to detect) or the inputs are not proportions.
pub fn paired_items_needed(p10: f64, p01: f64, alpha: f64, power: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&p10) || !(0.0..=1.0).contains(&p01) || p10 + p01 > 1.0 + 1e-12 {
        return None;
    }
    let psi = p10 + p01;
    let delta = p10 - p01;
    if delta.abs() < 1e-12 || !(0.0 < alpha && alpha < 1.0) || !(0.0 < power && power < 1.0) {
        return None;
    }
    let za = normal_quantile(1.0 - alpha / 2.0);
    let zb = normal_quantile(power);
    let n =
        (za * psi.sqrt() + zb * (psi - delta * delta).max(0.0).sqrt()).powi(2) / (delta * delta);
    Some(n.ceil())
}

#[cfg(test)]
mod tests {
    use super::paired_items_needed;

    #[test]
    fn hand_worked_and_edges() {
        // p10 = .2, p01 = .1: psi .3, delta .1; (1.959964*0.547723 + 0.841621*0.538516)^2 / 0.01.
        let n = paired_items_needed(0.2, 0.1, 0.05, 0.8).unwrap();
        let expect: f64 = (1.959_964 * 0.3f64.sqrt() + 0.841_621 * 0.29f64.sqrt()).powi(2) / 0.01;
        assert_eq!(n, expect.ceil());
        // Symmetric in the sign of the difference; larger differences need fewer items.
        assert_eq!(paired_items_needed(0.1, 0.2, 0.05, 0.8), Some(n));
        assert!(paired_items_needed(0.3, 0.0, 0.05, 0.8).unwrap() < n);
        assert_eq!(paired_items_needed(0.1, 0.1, 0.05, 0.8), None);
        assert_eq!(paired_items_needed(0.8, 0.5, 0.05, 0.8), None);
    }
}
