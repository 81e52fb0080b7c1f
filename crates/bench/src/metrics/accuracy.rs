//! Accuracy: the share of items answered correctly.

/// Fraction of `true` values; `None` for no items.
pub fn accuracy(correct: &[bool]) -> Option<f64> {
    (!correct.is_empty())
        .then(|| correct.iter().filter(|&&c| c).count() as f64 / correct.len() as f64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic() {
        assert_eq!(super::accuracy(&[true, false, true, true]), Some(0.75));
        assert_eq!(super::accuracy(&[]), None);
    }
}
