//! None of the above. `nota:gold`: the gold option's text is replaced by "None of the above", which is
//! then the correct answer; a model that picked the right answer by recognising its familiar text,
//! rather than by ruling the others out, loses accuracy. `nota:distractor`: a seeded wrong option is
//! replaced instead, and the gold is unchanged; a drop there means the phrase itself attracts answers.
//! "Fidelity of Medical Reasoning in Large Language Models" (Bedi et al., JAMA Network Open, 2025)
//! report drops of 8.8 to 38.2 points with the gold replaced.

use crate::item::Item;

pub const NONE_OF_THE_ABOVE: &str = "None of the above";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotaMode {
    Gold,
    Distractor,
}

impl NotaMode {
    pub fn name(self) -> &'static str {
        match self {
            NotaMode::Gold => "gold",
            NotaMode::Distractor => "distractor",
        }
    }
}

fn says_none_of_the_above(o: &str) -> bool {
    let t = o.trim().trim_end_matches('.');
    t.eq_ignore_ascii_case(NONE_OF_THE_ABOVE) || t.eq_ignore_ascii_case("none of these")
}

/// The item with one option replaced by "None of the above", and the replaced position. `None` for
/// items without options, with fewer than two, or when an option already says none of the above (the
/// swap would make two such options).
pub fn nota(item: &Item, mode: NotaMode, seed: u64) -> Option<(Item, usize)> {
    let gold = item.answer.index()?;
    let n = item.options.len();
    if n < 2 || item.options.iter().any(|o| says_none_of_the_above(o)) {
        return None;
    }
    let at = match mode {
        NotaMode::Gold => gold,
        NotaMode::Distractor => {
            let wrong: Vec<usize> = (0..n).filter(|&i| i != gold).collect();
            let mut rng = super::item_rng(seed, 0x4E4F_5441, &item.id);
            wrong[rng.below(wrong.len() as u64) as usize]
        }
    };
    let mut out = item.clone();
    out.options[at] = NONE_OF_THE_ABOVE.to_string();
    Some((out, at))
}

#[cfg(test)]
mod tests {
    use super::super::{Probe, Variant};
    use super::*;

    fn item(gold: usize) -> Item {
        Item::choice(
            "1",
            "Q",
            vec!["a".into(), "b".into(), "c".into(), "d".into()],
            gold,
        )
    }

    #[test]
    fn gold_mode_makes_none_of_the_above_the_answer() {
        let (n, at) = nota(&item(2), NotaMode::Gold, 0).unwrap();
        assert_eq!(
            (n.options.clone(), at),
            (
                vec![
                    "a".to_string(),
                    "b".into(),
                    NONE_OF_THE_ABOVE.into(),
                    "d".into()
                ],
                2
            )
        );
        assert_eq!(n.answer.index(), Some(2));
        assert!(
            nota(&n, NotaMode::Gold, 0).is_none(),
            "never two none-of-the-above options"
        );
    }

    #[test]
    fn distractor_mode_keeps_the_gold_and_replaces_a_wrong_option() {
        let mut places = std::collections::HashSet::new();
        for s in 0..40 {
            let (n, at) = nota(&item(1), NotaMode::Distractor, s).unwrap();
            assert_ne!(at, 1);
            assert_eq!((n.answer.index(), n.options[1].as_str()), (Some(1), "b"));
            assert_eq!(n.options[at], NONE_OF_THE_ABOVE);
            assert_eq!(
                n.options.iter().filter(|o| *o == NONE_OF_THE_ABOVE).count(),
                1
            );
            places.insert(at);
        }
        assert_eq!(places.len(), 3, "the seed chooses among the distractors");
        let v = Probe::Nota(NotaMode::Distractor).apply(&Variant::plain(item(1)), 3);
        assert_eq!(v[0].item.id, "1");
    }
}
