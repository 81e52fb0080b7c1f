//! Option shuffle: the same question with its options in a seeded random order. A model that scores
//! differently on shuffled options is partly answering by position ("Large Language Models Are Not Robust
//! Multiple Choice Selectors", Zheng et al., ICLR 2024; "Large Language Models Sensitivity to The Order of
//! Options in Multiple-Choice Questions", Pezeshkpour & Hruschka, NAACL Findings 2024, report 13-75 point
//! gaps from option order alone).

use crate::item::Item;
use crate::metrics::rng::splitmix64;

/// A seeded random order of the item's options (`order[i]`: the option shown at position `i`), from a
/// generator seeded by `seed` and the item id. `None` for items without options.
pub fn shuffle_order(item: &Item, seed: u64) -> Option<Vec<usize>> {
    item.answer.index()?;
    let n = item.options.len();
    let mut rng = super::item_rng(seed, 0x5348_5546, &item.id);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    Some(order)
}

/// The seed of the `j`-th order of `shuffle:k` (1-based).
pub fn variant_seed(seed: u64, j: usize) -> u64 {
    splitmix64(seed ^ (j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

#[cfg(test)]
mod tests {
    use super::super::{Probe, Variant};
    use super::*;

    #[test]
    fn gold_follows_its_option_and_is_reproducible() {
        let opts: Vec<String> = ["w", "x", "y", "z", "v"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut moved = 0;
        for k in 0..50 {
            let it = Item::choice(format!("q{k}"), "Q", opts.clone(), k % 5);
            let vs = Probe::Shuffle { k: 1 }.apply(&Variant::plain(it.clone()), 7);
            let s = &vs[0];
            assert_eq!(s.item.id, it.id, "one order keeps the id");
            assert_eq!(
                s.item.options[s.item.answer.index().unwrap()],
                it.options[k % 5]
            );
            assert_eq!(
                vs,
                Probe::Shuffle { k: 1 }.apply(&Variant::plain(it.clone()), 7)
            );
            let mut sorted = s.item.options.clone();
            sorted.sort();
            let mut orig = opts.clone();
            orig.sort();
            assert_eq!(sorted, orig);
            moved += (s.item.answer.index() != it.answer.index()) as usize;
        }
        // With 5 options a uniform shuffle keeps the gold in place 1 time in 5.
        assert!(moved > 25, "gold moved in only {moved} of 50 items");
    }

    #[test]
    fn k_orders_are_tagged_and_differ() {
        let it = Item::choice(
            "q",
            "Q",
            ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
            1,
        );
        let vs = Probe::Shuffle { k: 3 }.apply(&Variant::plain(it), 7);
        let ids: Vec<&str> = vs.iter().map(|v| v.item.id.as_str()).collect();
        assert_eq!(ids, ["q#p1", "q#p2", "q#p3"]);
        assert!(vs
            .iter()
            .all(|v| v.source_id == "q" && v.item.options[v.item.answer.index().unwrap()] == "b"));
        assert!(vs[0].order != vs[1].order || vs[1].order != vs[2].order);
    }
}
