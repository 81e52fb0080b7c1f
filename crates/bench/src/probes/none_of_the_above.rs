//! None-of-the-above swap: the gold option's text is replaced by "None of the above", which is then the
//! correct answer. A model that picked the right answer by recognising its familiar text, rather than by
//! ruling the others out, loses accuracy here.

use crate::item::Item;

pub const NONE_OF_THE_ABOVE: &str = "None of the above";

/// Replace the gold option's text with "None of the above". `None` for items without options, or when an
/// option already says none of the above (the swap would make two correct answers).
pub fn none_of_the_above(item: &Item) -> Option<Item> {
    let gold = item.answer.index()?;
    if item.options.iter().any(|o| {
        o.trim()
            .trim_end_matches('.')
            .eq_ignore_ascii_case(NONE_OF_THE_ABOVE)
    }) {
        return None;
    }
    let mut out = item.clone();
    out.options[gold] = NONE_OF_THE_ABOVE.to_string();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gold_text_becomes_none_of_the_above() {
        let it = Item::choice("1", "Q", vec!["a".into(), "b".into(), "c".into()], 2);
        let n = none_of_the_above(&it).unwrap();
        assert_eq!(n.options, vec!["a", "b", NONE_OF_THE_ABOVE]);
        assert_eq!(n.answer.index(), Some(2));
        assert!(none_of_the_above(&n).is_none());
    }
}
