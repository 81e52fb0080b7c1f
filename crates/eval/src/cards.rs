//! The summary figures of a report, each with a one-line explanation in plain words, and the facts of
//! what was run. The HTML report and the web app both show exactly these, so every number is explained
//! the same way wherever it appears.

use crate::record::RunHeader;
use crate::report::pct;
use crate::report::{Report, CALIBRATION_BINS};
use serde::Serialize;

/// One summary figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    /// A stable id (`accuracy`, `chance`, ...): the page's element ids are `card-<id>`.
    pub id: &'static str,
    pub title: &'static str,
    pub value: String,
    pub note: String,
    /// What the figure means, in one sentence.
    pub explain: String,
    /// The figure is a warning sign (accuracy under a baseline, no answers).
    pub alarm: bool,
}

/// The cards of a report, in display order.
pub fn cards(r: &Report) -> Vec<Card> {
    let mut out = Vec::new();
    let below = r.chance.as_ref().is_some_and(|c| !c.beats_chance)
        || r.majority.as_ref().is_some_and(|m| m.below);
    out.push(Card {
        id: "accuracy",
        title: if r.multi.is_some() {
            "Exact match"
        } else {
            "Accuracy"
        },
        value: r.accuracy.map(pct).unwrap_or("-".into()),
        note: match (r.accuracy, r.wilson) {
            (Some(_), Some(w)) => format!("{}/{} · 95% CI {}–{}", r.correct, r.answered, pct(w.low), pct(w.high)),
            _ if r.items > 0 => format!("no item answered (0 of {})", r.items),
            _ => "no items yet".into(),
        },
        explain: if r.answered == 0 && r.items > 0 {
            "No item has an answer, so there is no accuracy: see the warnings below for why.".into()
        } else if r.multi.is_some() {
            "Share of answered items where the model chose exactly the correct options, no more and no fewer (items may have several). The 95% Wilson interval is the range of true rates these items are consistent with.".into()
        } else {
            "Share of answered items the model got right. The 95% Wilson interval is the range of true accuracies these items are consistent with; it narrows as items are added.".into()
        },
        alarm: below || (r.answered == 0 && r.items > 0),
    });
    if let Some(m) = &r.multi {
        out.push(Card {
            id: "hamming",
            title: "Hamming score",
            value: pct(m.hamming),
            note: match m.hamming_interval {
                Some(i) => format!("95% CI {}–{} · chance {}", pct(i.low), pct(i.high), pct(m.chance_hamming)),
                None => format!("chance {}", pct(m.chance_hamming)),
            },
            explain: format!("Share of options the model classified right, chosen when correct and left out when not, averaged over {} items: partial credit that exact match does not give. Chance is what a random non-empty choice of options scores; the model chose {:.2} options per item, {:.2} were correct.", m.items, m.mean_chosen, m.mean_gold),
            alarm: m.hamming_interval.is_some_and(|i| i.contains(m.chance_hamming)),
        });
    }
    if let Some(c) = &r.chance {
        out.push(Card {
            id: "chance",
            title: "Chance baseline",
            value: pct(c.expected_accuracy),
            note: if c.beats_chance {
                format!("beats chance (p = {:.1e})", c.p_value)
            } else {
                "NOT distinguishable from chance".into()
            },
            explain: if r.multi.is_some() {
                "What choosing a random non-empty set of options scores in exact match (1 in 2^k - 1 for k options); p is the probability that guessing alone does as well as the model.".into()
            } else {
                "What picking an option at random scores on these items; p is the probability that guessing alone does as well as the model.".into()
            },
            alarm: !c.beats_chance,
        });
    }
    if let Some(m) = &r.majority {
        out.push(Card {
            id: "majority",
            title: "Majority baseline",
            value: pct(m.accuracy),
            note: if m.below {
                format!("always \"{}\" · the model is BELOW it", m.answer)
            } else {
                format!("always \"{}\"", m.answer)
            },
            explain: format!("What always giving the most common correct answer (\"{}\") scores on these {} items: a model under it does worse than a constant answer.", m.answer, m.items),
            alarm: m.below,
        });
    }
    if let Some(a) = r.acc_norm {
        out.push(Card {
            id: "accnorm",
            title: "acc_norm",
            value: pct(a),
            note: "per-character normalised".into(),
            explain: "Accuracy when each option's log-likelihood is divided by its length in characters (lm-eval's acc_norm), so long options are not penalised for having more tokens.".into(),
            alarm: false,
        });
    }
    if let Some(c) = &r.calibration {
        out.push(Card {
            id: "ece",
            title: "ECE",
            value: format!("{:.3}", c.ece),
            note: format!(
                "Brier {:.3} · mean confidence {} vs accuracy {}",
                c.brier,
                pct(c.mean_confidence),
                r.accuracy.map(pct).unwrap_or("-".into())
            ),
            explain: format!("Expected calibration error: the average gap between how sure the model is and how often it is right, over {CALIBRATION_BINS} confidence bins (0 = confidence matches accuracy). Brier: the mean squared error of the option probabilities (0 best, 2 worst)."),
            alarm: false,
        });
    }
    out.push(Card {
        id: "items",
        title: "Items",
        value: r.items.to_string(),
        note: format!(
            "{} in the split{} · {} unextractable · {} failed",
            r.planned.max(r.items),
            if r.probes.is_empty() { "" } else { " after probes" },
            r.unextractable,
            r.failed
        ),
        explain: "Items evaluated (an item limit runs the first ones of the split). Unextractable: generated text with no readable answer; failed: could not be evaluated. Neither counts in the accuracy.".into(),
        alarm: r.failed > 0,
    });
    out.push(Card {
        id: "time",
        title: "Time",
        value: format!("{:.1} s", r.seconds),
        note: r
            .items_per_s
            .map(|x| format!("{x:.2} items/s"))
            .unwrap_or_default(),
        explain: "Time spent evaluating items (model loading excluded), summed over sessions if the run was resumed.".into(),
        alarm: false,
    });
    out
}

/// What was run, as (label, value) pairs: model, benchmark, split, method, template, shots, chat,
/// probes, backend and the configuration hash.
pub fn run_facts(h: &RunHeader) -> Vec<(&'static str, String)> {
    let c = &h.config;
    vec![
        ("model", format!("{} ({})", c.model.name, c.model.file)),
        ("benchmark", c.benchmark.name.clone()),
        ("split", c.benchmark.split.clone()),
        ("method", c.method.to_string()),
        ("template", c.template.to_string()),
        ("shots", c.shots.to_string()),
        ("chat template", if c.chat { "on" } else { "off" }.into()),
        (
            "probe",
            if c.probes.is_empty() {
                "none".into()
            } else {
                bedside_bench::probes::describe(&c.probes)
            },
        ),
        ("backend", h.backend.clone()),
        ("configuration", h.config_hash.chars().take(12).collect()),
    ]
}
