//! Circular evaluation: every cyclic rotation of the options, so each option is shown once at every
//! position ("MMBench: Is Your Multi-modal Model an All-around Player?", Liu et al., ECCV 2024, whose
//! CircularEval counts an item right only when it is right under every rotation; OpenCompass uses it for
//! text benchmarks too).

/// The `n` rotations of `n` options: rotation `r` shows option `(i + r) % n` at position `i`.
pub fn rotations(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|r| (0..n).map(|i| (i + r) % n).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{Probe, Variant};
    use super::*;
    use crate::item::Item;
    use std::collections::HashSet;

    #[test]
    fn k_distinct_rotations_with_the_gold_at_every_position() {
        let it = Item::choice("q", "Q", ["a", "b", "c", "d"].map(String::from).to_vec(), 2);
        let vs = Probe::Circular.apply(&Variant::plain(it), 0);
        assert_eq!(vs.len(), 4);
        let distinct: HashSet<Vec<String>> = vs.iter().map(|v| v.item.options.clone()).collect();
        assert_eq!(distinct.len(), 4);
        let golds: HashSet<usize> = vs.iter().map(|v| v.item.answer.index().unwrap()).collect();
        assert_eq!(golds.len(), 4, "the gold visits every position");
        assert!(vs
            .iter()
            .all(|v| v.item.options[v.item.answer.index().unwrap()] == "c"));
        assert!(vs[0].in_source_order() && vs[0].item.id == "q#r0");
        assert_eq!(rotations(3)[1], vec![1, 2, 0]);
    }
}
