//! The Lab's lessons, kept as data: each names a claim from the literature, the probe that tests it, the
//! bundled sample and method it runs on, and a question for discussion. [`reading`] turns the measured
//! numbers of a lesson's two runs (the probed run and its plain twin) into plain sentences, so what the
//! page says always follows from what was measured — "not distinguishable at this sample size" when
//! the interval covers zero. The app's Lab page and the exported lesson page both use it.

use crate::config::{Method, Probe};
use crate::paired::{p_text, reading as comparison_reading, Comparison, Paired};
use crate::report::pct;
use crate::report::Report;
use serde::Serialize;

/// What a lesson's reading is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Focus {
    /// The answer-position prior and the debiased accuracy.
    Position,
    /// Consistency and strict accuracy across option orders.
    Orders,
    /// The probed accuracy against chance (choices only).
    Chance,
    /// The paired drop under the probe.
    Drop,
    /// How often the answer moved to the suggested option.
    Bias,
    /// The plain run against always giving the most common answer.
    Majority,
}

#[derive(Debug, Clone, Serialize)]
pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    /// The claim, in one sentence.
    pub claim: &'static str,
    /// Where the claim comes from: title, venue, year.
    pub source: &'static str,
    /// The probe's canonical text; `None` for a lesson about the plain run alone.
    pub probe: Option<&'static str>,
    /// A bundled sample (folder under `samples/` in the app, `data/samples/` in the repository).
    pub bench: &'static str,
    /// The prompt template (`auto`, or `cloze` where a small model needs the option texts scored).
    pub format: &'static str,
    pub method: Method,
    /// Items of the sample a run uses by default (small enough for a CPU in a class).
    pub items: usize,
    pub focus: Focus,
    /// What the lesson showed when it was measured for this list (model, items, numbers), shown
    /// before running; the reading after a run comes from that run's own numbers.
    pub expect: &'static str,
    pub question: &'static str,
}

impl Lesson {
    pub fn probe(&self) -> Option<Probe> {
        self.probe
            .map(|p| Probe::parse(p).expect("lesson probes parse"))
    }
}

/// Every lesson, in teaching order.
pub const LESSONS: [Lesson; 8] = [
    Lesson {
        id: "position-prior",
        title: "A letter, not an answer",
        claim: "A model can prefer an answer position (\"A\") whatever the options say; its accuracy then reflects where the gold answers happen to sit.",
        source: "Zheng et al., \"Large Language Models Are Not Robust Multiple Choice Selectors\", ICLR 2024 (PriDe)",
        probe: Some("position"),
        bench: "mmlu-medical",
        format: "auto",
        method: Method::Letter,
        items: 12,
        focus: Focus::Position,
        expect: "Measured on the bundled SmolLM2-135M, 40 MMLU items: \"A\" on all 40 (gold on 10%); with every option \"N/A\" it still gave \"A\" 70.8% on average; removing the prior raised accuracy from 10.0% to 32.5%.",
        question: "A test whose gold answers are mostly \"C\" would score this model near zero, and one with mostly \"A\" near perfect. What does its accuracy measure?",
    },
    Lesson {
        id: "option-order",
        title: "Same question, other order",
        claim: "Reordering the options changes the answers of many models; counting an item right only when it is right in every order (CircularEval) removes the luck of the order.",
        source: "Pezeshkpour & Hruschka, \"Large Language Models Sensitivity to The Order of Options in Multiple-Choice Questions\", Findings of NAACL 2024; Liu et al., \"MMBench\", ECCV 2024 (CircularEval)",
        probe: Some("circular"),
        bench: "mmlu-medical",
        format: "auto",
        method: Method::Letter,
        items: 12,
        focus: Focus::Orders,
        expect: "Measured on SmolLM2-135M, 40 MMLU items: the same option text in every order on 0 of 40 items; right in every order on none (10.0% in the original order).",
        question: "If a student changed their answer every time the options were reordered, would you say they know the material?",
    },
    Lesson {
        id: "choices-only",
        title: "No question, still a score?",
        claim: "Models can beat chance with the question removed, using cues in the options alone.",
        source: "Balepur et al., \"Artifacts or Abduction: How Do LLMs Answer Multiple-Choice Questions Without the Question?\", ACL 2024",
        probe: Some("choices_only"),
        bench: "medqa-4options",
        format: "cloze",
        method: Method::Loglik,
        items: 16,
        focus: Focus::Chance,
        expect: "Measured on SmolLM2-135M (cloze), 40 MedQA items: 22.5% without the question, 17.5% with it; both within what guessing gives.",
        question: "Which features of an option (length, wording, being the most specific) could give its answer away?",
    },
    Lesson {
        id: "none-of-the-above",
        title: "When the right answer disappears",
        claim: "Replacing the correct option with \"None of the above\" (now correct) lowers accuracy: recognising a familiar answer is not the same as ruling the others out.",
        source: "Bedi et al., \"Fidelity of Medical Reasoning in Large Language Models\", JAMA Network Open 2025 (drops of 8.8 to 38.2 points)",
        probe: Some("nota:gold"),
        bench: "medqa-4options",
        format: "cloze",
        method: Method::Loglik,
        items: 16,
        focus: Focus::Drop,
        expect: "Measured on SmolLM2-135M (cloze), 40 MedQA items: 100% here against 17.5% plain: it chose \"None of the above\" on every item, so this \"drop\" is a rise; the next lesson shows why.",
        question: "Why would a model that truly reasons from the case be unaffected by this change?",
    },
    Lesson {
        id: "nota-distractor",
        title: "A phrase that attracts answers",
        claim: "Replacing a wrong option with \"None of the above\" keeps the right answer, so any change in accuracy comes from the phrase itself.",
        source: "Bedi et al., \"Fidelity of Medical Reasoning in Large Language Models\", JAMA Network Open 2025",
        probe: Some("nota:distractor"),
        bench: "medqa-4options",
        format: "cloze",
        method: Method::Loglik,
        items: 16,
        focus: Focus::Drop,
        expect: "Measured on SmolLM2-135M (cloze), 40 MedQA items: 2.5% against 17.5% plain: the short phrase wins whatever the question, which is also why the previous lesson rose.",
        question: "Compare this drop with the previous lesson's: which part of that drop was about the phrase?",
    },
    Lesson {
        id: "cognitive-bias",
        title: "\"Most of your colleagues agree...\"",
        claim: "A sentence in the question that argues for a wrong answer (a cognitive bias) moves models towards it.",
        source: "Schmidgall et al., \"Addressing cognitive bias in medical language models\", arXiv 2024 (BiasMedQA)",
        probe: Some("bias:false_consensus"),
        bench: "medqa-4options",
        format: "cloze",
        method: Method::Loglik,
        items: 16,
        focus: Focus::Bias,
        expect: "Measured on SmolLM2-135M (cloze), 40 MedQA items: the suggested wrong option was chosen on 38 of 40 items; 27 of the 29 items answered otherwise without the sentence switched to it.",
        question: "A clinician hears a colleague's opinion before examining the patient. What does this result suggest about giving a model such context?",
    },
    Lesson {
        id: "truncated-case",
        title: "A fifth of the case",
        claim: "Keeping only the first 20% of a case's words shows how much of the score does not need the case at all.",
        source: "Perets et al., \"CUPCase: Clinically Uncommon Patient Cases and Diagnoses Dataset\", AAAI 2025",
        probe: Some("truncate:20"),
        bench: "medqa-4options",
        format: "cloze",
        method: Method::Loglik,
        items: 16,
        focus: Focus::Drop,
        expect: "Measured on SmolLM2-135M (cloze), 40 MedQA items: 17.5% with a fifth of each case, the same as with all of it: the case was not what it used.",
        question: "What would it mean for a benchmark if models scored the same with a fifth of each question?",
    },
    Lesson {
        id: "majority-baseline",
        title: "Worse than always saying \"yes\"",
        claim: "On unbalanced answers, always giving the most common answer beats guessing, and small models can score below both.",
        source: "Yan et al., \"Worse than Random? An Embarrassingly Simple Probing Evaluation of Large Multimodal Models in Medical VQA\", arXiv 2024 (ProbMed)",
        probe: None,
        bench: "pubmedqa",
        format: "auto",
        method: Method::Loglik,
        items: 20,
        focus: Focus::Majority,
        expect: "Measured on SmolLM2-135M, 40 PubMedQA items: 37.5% against 52.5% for always \"yes\" (and 33.3% for guessing).",
        question: "Before trusting a score, which two numbers should it be compared with?",
    },
];

pub fn lesson(id: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.id == id)
}

fn find<'a>(p: &'a Paired, label: &str) -> Option<&'a Comparison> {
    p.comparisons.iter().find(|c| c.label == label)
}

/// Sentences reading a lesson's measured result: the focus first, then what limits it (a plain run
/// not above chance has nothing to lose). `paired` is `None` for a lesson without a probe.
pub fn reading(lesson: &Lesson, plain: &Report, paired: Option<&Paired>) -> Vec<String> {
    let mut out = Vec::new();
    let chance = plain.chance.as_ref();
    match (lesson.focus, paired) {
        (Focus::Position, Some(p)) => match &p.position {
            Some(x) => {
                let total: usize = x.chosen.iter().sum::<usize>().max(1);
                let (top, count) = x
                    .chosen
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, c)| **c)
                    .map(|(i, c)| (x.letters[i].clone(), *c))
                    .unwrap_or_default();
                let gold_top = x
                    .gold
                    .get(x.letters.iter().position(|l| *l == top).unwrap_or(0))
                    .copied()
                    .unwrap_or(0);
                out.push(format!(
                    "In the original order the model chose \"{top}\" on {count} of {total} items ({}), while \"{top}\" was the gold answer on {gold_top} ({}).",
                    pct(count as f64 / total as f64),
                    pct(gold_top as f64 / x.gold.iter().sum::<usize>().max(1) as f64)
                ));
                let cf_top = x
                    .content_free_mean_prob
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(i, p)| (x.letters[i].clone(), *p));
                let uniform = 1.0 / x.options as f64;
                if let Some((l, pr)) = cf_top.filter(|_| x.content_free_items > 0) {
                    out.push(if pr < uniform + 0.05 {
                        format!(
                            "With every option replaced by \"N/A\" no letter stood out (the highest mean probability, \"{l}\", was {} against {} for no preference).",
                            pct(pr),
                            pct(uniform)
                        )
                    } else {
                        format!(
                            "With every option replaced by \"N/A\" it still gave \"{l}\" a mean probability of {} (no preference would be {}): the preference is for the letter, not for any content.",
                            pct(pr),
                            pct(uniform)
                        )
                    });
                }
                out.push(comparison_reading(&x.comparison));
            }
            None => out.push(
                "The run has no complete item (every rotation and the content-free item) yet."
                    .into(),
            ),
        },
        (Focus::Orders, Some(p)) => {
            if let Some(c) = &p.consistency {
                out.push(format!(
                    "Over {} orders of each of {} items, the model chose the same option text in every order on {} of them ({}), and was right in every order on {} ({}), against a mean accuracy of {} over the orders.",
                    c.orders, c.items, c.consistent.correct, pct(c.consistent.accuracy), c.strict.correct, pct(c.strict.accuracy), pct(c.mean_accuracy)
                ));
            }
            if let Some(c) = find(p, "strict") {
                out.push(comparison_reading(c));
            }
        }
        (Focus::Chance, Some(p)) => {
            if let (Some(c), Some(ch)) = (p.comparisons.first(), chance) {
                let above = c.probed.wilson.low > ch.expected_accuracy;
                let below = c.probed.wilson.high < ch.expected_accuracy;
                out.push(format!(
                    "Without the question the model scored {} [{}, {}] on {} items; guessing gives {} (95% of guessers between {} and {}). {}",
                    pct(c.probed.accuracy),
                    pct(c.probed.wilson.low),
                    pct(c.probed.wilson.high),
                    c.items,
                    pct(ch.expected_accuracy),
                    pct(ch.interval.low),
                    pct(ch.interval.high),
                    if above {
                        "Its interval lies above chance: the options alone carry information the model uses."
                    } else if below {
                        "Its whole interval lies below chance: without the question the model is drawn to wrong options (e.g. the shortest or most common text)."
                    } else {
                        "Its interval includes chance: on these items the options alone are not shown to give the answer away (not distinguishable at this sample size)."
                    }
                ));
                out.push(comparison_reading(c));
            }
        }
        (Focus::Drop, Some(p)) => {
            if let Some(c) = p.comparisons.first() {
                out.push(comparison_reading(c));
            }
        }
        (Focus::Bias, Some(p)) => {
            for b in &p.bias {
                out.push(format!(
                    "The added sentence named a wrong option; the model chose it on {} of {} items (it chose that option on {} in the plain run). Of the {} items answered otherwise in the plain run, {} switched to the suggested option ({} [{}, {}]).",
                    b.chose_suggested.correct, b.items, b.baseline_chose_suggested, b.switched.items, b.switched.correct,
                    pct(b.switched.accuracy), pct(b.switched.wilson.low), pct(b.switched.wilson.high)
                ));
            }
            if let Some(c) = p.comparisons.first() {
                out.push(comparison_reading(c));
            }
        }
        (Focus::Majority, _) => match (&plain.accuracy, &plain.wilson, &plain.majority) {
            (Some(a), Some(w), Some(m)) => {
                out.push(format!(
                    "The model scored {} [{}, {}] on {} items. Always answering \"{}\" scores {} on the same items{}.",
                    pct(*a), pct(w.low), pct(w.high), plain.answered, m.answer, pct(m.accuracy),
                    chance.map(|c| format!(", and guessing uniformly {}", pct(c.expected_accuracy))).unwrap_or_default()
                ));
                out.push(if w.high < m.accuracy {
                    format!("Its whole interval lies below the always-\"{}\" line: the model is worse than a rule that ignores the question.", m.answer)
                } else if *a < m.accuracy {
                    format!("It scored below the always-\"{}\" line, though its interval still reaches it: at this sample size it is not distinguishable from that rule.", m.answer)
                } else if w.low > m.accuracy {
                    format!("Its interval lies above the always-\"{}\" line.", m.answer)
                } else {
                    format!("It scored at or above the always-\"{}\" line, but its interval includes it: not distinguishable at this sample size.", m.answer)
                });
            }
            _ => out.push("The run has no answered item yet.".into()),
        },
        (_, None) => out.push("Run the lesson to see its result.".into()),
    }
    if let Some(crate::report::Warning::SamePrediction { answer, items }) = plain
        .warnings
        .iter()
        .find(|w| matches!(w, crate::report::Warning::SamePrediction { .. }))
    {
        if lesson.focus != Focus::Position {
            out.push(format!(
                "Note: in the plain run the model answered \"{answer}\" on all {items} items; a probe that keeps the answer positions cannot change such answers (see the lesson \"A letter, not an answer\")."
            ));
        }
    }
    if let (Some(ch), Some(a)) = (chance, plain.accuracy) {
        if !ch.beats_chance
            && lesson.focus != Focus::Majority
            && lesson.focus != Focus::Chance
            && lesson.focus != Focus::Position
        {
            out.push(format!(
                "Note: the plain run itself ({} on {} items) is not distinguishable from guessing (p = {}), so the model has little accuracy for a probe to take away; this lesson shows more on a bigger model (load your own on the Run page).",
                pct(a),
                plain.answered,
                p_text(ch.p_value)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_parses_and_is_complete() {
        let mut ids = std::collections::HashSet::new();
        for l in &LESSONS {
            assert!(ids.insert(l.id));
            let _ = l.probe();
            assert!(l.source.contains("20"), "{} cites a year", l.id);
            assert!(!l.claim.is_empty() && !l.question.is_empty() && l.items > 0);
        }
        assert!(LESSONS.len() >= 7);
    }
}
