//! Option shuffle: the same question with its options in a seeded random order. A model that scores
//! differently on shuffled options is partly answering by position ("Large Language Models Are Not Robust
//! Multiple Choice Selectors", Zheng et al., 2024).

use crate::item::{Answer, Item};
use crate::metrics::rng::{splitmix64, Rng};

/// Permute the options with a generator seeded by `seed` and the item id; the gold answer follows its
/// option. `None` for items without options.
pub fn shuffle(item: &Item, seed: u64) -> Option<Item> {
    let gold = item.answer.index()?;
    let n = item.options.len();
    let mut h = splitmix64(seed ^ 0x5348_5546);
    for b in item.id.bytes() {
        h = splitmix64(h ^ b as u64);
    }
    let mut rng = Rng::new(h);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut out = item.clone();
    out.options = order.iter().map(|&i| item.options[i].clone()).collect();
    out.answer = Answer::Index(order.iter().position(|&i| i == gold)?);
    out.meta
        .insert("probe_shuffle_order".into(), serde_json::Value::from(order));
    Some(out)
}

#[cfg(test)]
mod tests {
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
            let s = shuffle(&it, 7).unwrap();
            assert_eq!(s.options[s.answer.index().unwrap()], it.options[k % 5]);
            assert_eq!(s, shuffle(&it, 7).unwrap());
            let mut sorted = s.options.clone();
            sorted.sort();
            let mut orig = opts.clone();
            orig.sort();
            assert_eq!(sorted, orig);
            moved += (s.answer.index() != it.answer.index()) as usize;
        }
        // With 5 options a uniform shuffle keeps the gold in place 1 time in 5.
        assert!(moved > 25, "gold moved in only {moved} of 50 items");
    }
}
