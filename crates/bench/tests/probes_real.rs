//! Every probe on real items of the bundled samples (MedQA, MMLU, PubMedQA): what each transform keeps
//! and changes, checked against the source item.

use bedside_bench::probes::{
    apply_all, nota::NONE_OF_THE_ABOVE, position::PLACEHOLDER, Bias, NotaMode, Probe,
};
use bedside_bench::{Item, Task};
use std::collections::HashSet;
use std::path::PathBuf;

fn items(sample: &str, task: Task) -> Vec<Item> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/samples")
        .join(sample)
        .join("test-000.jsonl");
    std::fs::read_to_string(&p)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            Item::from_json(
                &serde_json::from_str(l).unwrap(),
                task,
                "test-000.jsonl",
                i + 1,
            )
            .0
            .unwrap()
        })
        .take(40)
        .collect()
}

fn real() -> Vec<Item> {
    let mut v = items("medqa-4options", Task::Mcq);
    v.extend(items("mmlu-medical", Task::Mcq));
    v.extend(items("pubmedqa", Task::YesNoMaybe));
    v
}

fn gold_text(it: &Item) -> &str {
    &it.options[it.answer.index().unwrap()]
}

#[test]
fn shuffle_keeps_each_option_text_with_its_letter_and_the_gold_text_on_the_gold_index() {
    for it in real() {
        for v in apply_all(&[Probe::Shuffle { k: 3 }], it.clone(), 1234) {
            assert_eq!(v.source_id, it.id);
            assert_eq!(gold_text(&v.item), gold_text(&it));
            for (i, &o) in v.order.iter().enumerate() {
                assert_eq!(
                    v.item.options[i], it.options[o],
                    "{}: position {i}",
                    v.item.id
                );
            }
            let (mut a, mut b) = (v.item.options.clone(), it.options.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b);
            assert_eq!(
                (v.item.question.as_str(), &v.item.context),
                (it.question.as_str(), &it.context)
            );
        }
    }
}

#[test]
fn circular_gives_k_distinct_rotations() {
    for it in real() {
        let vs = apply_all(&[Probe::Circular], it.clone(), 0);
        let k = it.options.len();
        assert_eq!(vs.len(), k);
        let distinct: HashSet<Vec<usize>> = vs.iter().map(|v| v.order.clone()).collect();
        assert_eq!(distinct.len(), k, "{}", it.id);
        let golds: HashSet<usize> = vs.iter().map(|v| v.item.answer.index().unwrap()).collect();
        assert_eq!(golds.len(), k, "the gold visits every letter");
        assert!(vs.iter().all(|v| gold_text(&v.item) == gold_text(&it)));
    }
}

#[test]
fn nota_sets_the_right_gold_in_both_modes() {
    for it in real() {
        let g = apply_all(&[Probe::Nota(NotaMode::Gold)], it.clone(), 5);
        let d = apply_all(&[Probe::Nota(NotaMode::Distractor)], it.clone(), 5);
        if it
            .options
            .iter()
            .any(|o| o.to_lowercase().starts_with("none of the"))
        {
            assert!(g.is_empty() && d.is_empty());
            continue;
        }
        let g = &g[0].item;
        assert_eq!(gold_text(g), NONE_OF_THE_ABOVE);
        assert_eq!(g.answer, it.answer);
        let d = &d[0].item;
        assert_eq!(gold_text(d), gold_text(&it), "the gold is unchanged");
        let at = d
            .options
            .iter()
            .position(|o| o == NONE_OF_THE_ABOVE)
            .unwrap();
        assert_ne!(Some(at), it.answer.index());
        for (i, o) in d.options.iter().enumerate() {
            if i != at {
                assert_eq!(o, &it.options[i]);
            }
        }
    }
}

#[test]
fn choices_only_removes_the_stem_and_keeps_the_options() {
    for it in real() {
        let v = &apply_all(&[Probe::ChoicesOnly], it.clone(), 0)[0].item;
        assert_eq!((v.question.as_str(), v.context.as_deref()), ("", None));
        assert_eq!((&v.options, &v.answer), (&it.options, &it.answer));
    }
}

#[test]
fn truncate_keeps_the_first_p_percent_of_words() {
    for it in real() {
        let v = &apply_all(&[Probe::Truncate { percent: 20 }], it.clone(), 0)[0].item;
        let words: Vec<&str> = it.question.split_whitespace().collect();
        let kept: Vec<&str> = v.question.split_whitespace().collect();
        assert_eq!(kept.len(), (words.len() * 20).div_ceil(100).max(1));
        assert_eq!(kept[..], words[..kept.len()]);
        assert_eq!((&v.options, &v.context), (&it.options, &it.context));
    }
}

#[test]
fn bias_inserts_a_sentence_naming_a_non_gold_option_and_the_variant_names_it() {
    let mut suggested_positions = HashSet::new();
    for it in real() {
        let vs = apply_all(&[Probe::Bias(None)], it.clone(), 1234);
        assert_eq!(vs.len(), Bias::ALL.len());
        for v in vs {
            let s = v.suggested.unwrap();
            assert_ne!(Some(s), it.answer.index(), "{}: never the gold", v.item.id);
            let text = v.injected.unwrap();
            assert!(
                text.contains(it.options[s].trim().trim_end_matches('.')),
                "{text}"
            );
            assert_eq!(
                v.item.question,
                format!("{} {text}", it.question.trim_end())
            );
            assert_eq!(v.item.options, it.options);
            suggested_positions.insert(s);
        }
    }
    assert!(
        suggested_positions.len() >= 3,
        "the suggested option varies across items"
    );
}

#[test]
fn position_adds_a_content_free_variant_to_the_rotations() {
    for it in real() {
        let vs = apply_all(&[Probe::Position], it.clone(), 0);
        assert_eq!(vs.len(), it.options.len() + 1);
        let cf = vs.last().unwrap();
        assert_eq!(cf.item.id, format!("{}#cf", it.id));
        assert!(cf.item.options.iter().all(|o| o == PLACEHOLDER));
        assert_eq!(cf.item.question, it.question);
    }
}
