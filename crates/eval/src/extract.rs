//! Reading an answer out of generated text. Patterns are tried in order; the first that matches wins.
//! Text no pattern matches is `unextractable` — counted and reported, never scored as right or wrong.

use bedside_bench::task::option_letter;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// What was extracted and by which rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    /// Option index (choice tasks).
    pub index: Option<usize>,
    /// Number (numeric tasks).
    pub value: Option<f64>,
    /// The rule that matched (`answer_is`, `boxed`, `lone_letter`, `option_text`, `first_word`, `last_number`).
    pub rule: String,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid pattern"))
}

fn letter_index(s: &str, n: usize) -> Option<usize> {
    let c = s.chars().next()?.to_ascii_uppercase();
    (0..n).find(|&i| option_letter(i) == c)
}

/// Extract an option index from `text` for an item with `options`.
pub fn extract_choice(text: &str, options: &[String]) -> Option<Extracted> {
    static ANSWER_IS: OnceLock<Regex> = OnceLock::new();
    static BOXED: OnceLock<Regex> = OnceLock::new();
    static LONE: OnceLock<Regex> = OnceLock::new();
    let n = options.len();
    let found = |index: usize, rule: &str| {
        Some(Extracted {
            index: Some(index),
            value: None,
            rule: rule.into(),
        })
    };
    // 1. "the answer is (B)", "Answer: B", "correct option is B."
    let answer_is = re(
        &ANSWER_IS,
        r"(?i)(?:answer|option|choice)\s*(?:is|:)\s*:?\s*\(?\s*([A-J])\s*\)?(?:[\s.,:;)]|$)",
    );
    if let Some(c) = answer_is
        .captures_iter(text)
        .filter_map(|c| letter_index(&c[1], n))
        .last()
    {
        return found(c, "answer_is");
    }
    // 2. \boxed{B}
    let boxed = re(&BOXED, r"\\boxed\{\s*\(?([A-Ja-j])\)?\s*\}");
    if let Some(c) = boxed
        .captures_iter(text)
        .filter_map(|c| letter_index(&c[1], n))
        .last()
    {
        return found(c, "boxed");
    }
    // 3. A lone letter at the start: "B", "(B)", "B.", "B) ..."
    let lone = re(&LONE, r"^\s*\(?([A-J])(?:[).:]|\s|$)");
    if let Some(c) = lone.captures(text).and_then(|c| letter_index(&c[1], n)) {
        return found(c, "lone_letter");
    }
    // 4. The text of exactly one option, at the start of the answer (case-insensitive).
    let t = text.trim().to_lowercase();
    let hits: Vec<usize> = (0..n)
        .filter(|&i| {
            let o = options[i].trim().to_lowercase();
            !o.is_empty()
                && (t == o
                    || t.starts_with(&o)
                        && !t[o.len()..].starts_with(|ch: char| ch.is_alphanumeric()))
        })
        .collect();
    if hits.len() == 1 {
        return found(hits[0], "option_text");
    }
    // Several options match as prefixes (e.g. "no" and "none"): prefer the longest.
    if hits.len() > 1 {
        let best = *hits
            .iter()
            .max_by_key(|&&i| options[i].trim().len())
            .unwrap();
        if hits
            .iter()
            .filter(|&&i| options[i].trim().len() == options[best].trim().len())
            .count()
            == 1
        {
            return found(best, "option_text");
        }
    }
    None
}

/// Extract a number: "answer is 12.5", `\boxed{12.5}`, else the last number in the text.
pub fn extract_number(text: &str) -> Option<Extracted> {
    static ANSWER_IS: OnceLock<Regex> = OnceLock::new();
    static BOXED: OnceLock<Regex> = OnceLock::new();
    static NUMBER: OnceLock<Regex> = OnceLock::new();
    const NUM: &str = r"(-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+)";
    let parse = |s: &str| {
        s.replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
    };
    let found = |v: f64, rule: &str| {
        Some(Extracted {
            index: None,
            value: Some(v),
            rule: rule.into(),
        })
    };
    let answer_is = re(
        &ANSWER_IS,
        &format!(r"(?i)answer\s*(?:is|:)\s*:?\s*\$?\s*{NUM}"),
    );
    if let Some(v) = answer_is
        .captures_iter(text)
        .filter_map(|c| parse(&c[1]))
        .last()
    {
        return found(v, "answer_is");
    }
    let boxed = re(&BOXED, &format!(r"\\boxed\{{\s*{NUM}"));
    if let Some(v) = boxed
        .captures_iter(text)
        .filter_map(|c| parse(&c[1]))
        .last()
    {
        return found(v, "boxed");
    }
    let number = re(&NUMBER, NUM);
    number
        .captures_iter(text)
        .filter_map(|c| parse(&c[1]))
        .last()
        .and_then(|v| found(v, "last_number"))
}

/// Cut generated text at the first stop sequence.
pub fn cut_at_stop<'a>(text: &'a str, stops: &[&str]) -> (&'a str, bool) {
    match stops.iter().filter_map(|s| text.find(s)).min() {
        Some(i) => (&text[..i], true),
        None => (text, false),
    }
}

/// Extract a set of options (`mcq_multi`) from `text` for an item with `n` options: the letters after
/// "Answer:"/"answers are" (`answer_is`), or a list of letters opening the answer (`lone_letters`), e.g.
/// "A, C", "(B) and (D)", "A C". Letters are upper case; every listed letter must name an option.
pub fn extract_choices(text: &str, n: usize) -> Option<(Vec<usize>, String)> {
    static ANSWER_IS: OnceLock<Regex> = OnceLock::new();
    static LONE: OnceLock<Regex> = OnceLock::new();
    const LIST: &str = r"(\(?[A-J]\)?(?:\s*(?:,|;|/|&|\band\b|\+)?\s*\(?[A-J]\)?)*)(?:[\s.,:;)]|$)";
    let answer_is = re(
        &ANSWER_IS,
        &format!(r"(?:[Aa]nswers?|[Oo]ptions?|[Cc]hoices?)\s*(?:is|are|:)\s*:?\s*{LIST}"),
    );
    let lone = re(&LONE, &format!(r"^\s*{LIST}"));
    let letters = |span: &str| -> Option<Vec<usize>> {
        let mut set: Vec<usize> = Vec::new();
        for c in span.chars().filter(|c| c.is_ascii_uppercase()) {
            let i = letter_index(&c.to_string(), n)?;
            if !set.contains(&i) {
                set.push(i);
            }
        }
        set.sort_unstable();
        (!set.is_empty()).then_some(set)
    };
    if let Some(set) = answer_is
        .captures_iter(text)
        .filter_map(|c| letters(&c[1]))
        .last()
    {
        return Some((set, "answer_is".into()));
    }
    let set = lone.captures(text).and_then(|c| letters(&c[1]))?;
    Some((set, "lone_letters".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_of_letters_are_extracted() {
        let got = |t: &str| extract_choices(t, 4).map(|(s, _)| s);
        assert_eq!(got(" A, C"), Some(vec![0, 2]));
        assert_eq!(got(" (B) and (D)."), Some(vec![1, 3]));
        assert_eq!(got(" The answers are C and A"), Some(vec![0, 2]));
        assert_eq!(got(" Answer: B"), Some(vec![1]));
        assert_eq!(got(" A B C"), Some(vec![0, 1, 2]));
        assert_eq!(
            got(" All of them"),
            None,
            "a word starting with a capital letter is no answer"
        );
        assert_eq!(got(" E"), None, "E names no option of four");
        assert_eq!(got(" I think so"), None);
    }

    fn opts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn choice_patterns_in_order() {
        let o = opts(&["Aspirin", "Heparin", "Warfarin", "Clopidogrel"]);
        let idx = |t: &str| extract_choice(t, &o).map(|e| (e.index.unwrap(), e.rule));
        assert_eq!(
            idx("Let's think. A is wrong. So the answer is (C)."),
            Some((2, "answer_is".into()))
        );
        assert_eq!(idx("Answer: B"), Some((1, "answer_is".into())));
        assert_eq!(idx("so \\boxed{D}"), Some((3, "boxed".into())));
        assert_eq!(idx(" B. Heparin"), Some((1, "lone_letter".into())));
        assert_eq!(idx("(A)"), Some((0, "lone_letter".into())));
        assert_eq!(
            idx("warfarin, because of its mechanism"),
            Some((2, "option_text".into()))
        );
        // A letter beyond the option count is not an answer; neither is prose.
        assert_eq!(idx("the answer is E"), None);
        assert_eq!(idx("I am not sure about this one"), None);
        assert_eq!(idx(""), None);
    }

    #[test]
    fn yes_no_maybe_by_text() {
        let o = opts(&["yes", "no", "maybe"]);
        assert_eq!(
            extract_choice(" yes, the data show", &o).and_then(|e| e.index),
            Some(0)
        );
        assert_eq!(extract_choice("Maybe.", &o).and_then(|e| e.index), Some(2));
        assert_eq!(extract_choice("not clear", &o), None);
    }

    #[test]
    fn numbers() {
        let v = |t: &str| extract_number(t).and_then(|e| e.value);
        assert_eq!(
            v("The creatinine clearance is 1,234.5 mL/min, so the answer is 61.2"),
            Some(61.2)
        );
        assert_eq!(v("\\boxed{7.5}"), Some(7.5));
        assert_eq!(v("BMI = 70 / 1.75^2 = 22.9"), Some(22.9));
        assert_eq!(v("no number here"), None);
    }

    #[test]
    fn stops() {
        assert_eq!(
            cut_at_stop(" B\n\nQuestion: next", &["\n\n", "Question:"]),
            (" B", true)
        );
        assert_eq!(cut_at_stop(" B", &["\n\n"]), (" B", false));
    }
}
