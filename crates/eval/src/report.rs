//! A run's report, computed from its records alone (so `bedside report`, the web app and anyone holding
//! the JSONL get the same numbers): accuracy with Wilson and bootstrap intervals, the chance baseline,
//! acc_norm, per-subject scores, calibration (ECE, Brier, reliability), answer positions, extraction.

use crate::record::{ItemRecord, RunHeader, Status};
use bedside_bench::metrics::bootstrap::{bootstrap_accuracy_interval, bootstrap_mean_interval};
use bedside_bench::metrics::brier::brier_score;
use bedside_bench::metrics::calibration::{adaptive_ece, confidence_pairs, ece};
use bedside_bench::metrics::chance::{chance_baseline, chance_baseline_of, ChanceBaseline};
use bedside_bench::metrics::multi_answer::{chance_exact_match, chance_hamming, hamming_score};
use bedside_bench::metrics::reliability::{reliability_bins, ReliabilityBin};
use bedside_bench::metrics::subjects::{by_subject, SubjectScore};
use bedside_bench::metrics::wilson::wilson_interval;
use bedside_bench::metrics::{Interval, DEFAULT_LEVEL};
use bedside_bench::task::option_letter;
use serde::Serialize;

/// Bins of the ECE and the reliability diagram (the usual 15: "On Calibration of Modern Neural
/// Networks", Guo et al., 2017).
pub const CALIBRATION_BINS: usize = 15;
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;
pub const BOOTSTRAP_SEED: u64 = 20_240_601;

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub items: usize,
    pub ece: f64,
    pub adaptive_ece: Option<f64>,
    pub brier: f64,
    pub mean_confidence: f64,
    pub reliability: Vec<ReliabilityBin>,
}

/// Always giving the most common gold answer: the score a model gets with no knowledge at all when the
/// answers are unbalanced (PubMedQA's test split is 55% "yes").
#[derive(Debug, Clone, Serialize)]
pub struct MajorityBaseline {
    /// The most common gold answer: its option text when it is the same on every item (`yes`),
    /// otherwise its letter (`B`).
    pub answer: String,
    pub option: usize,
    /// Its share of the answered items.
    pub accuracy: f64,
    pub items: usize,
    /// The run's accuracy is below this baseline.
    pub below: bool,
}

/// Scores of items with several correct options (`mcq_multi`). Their `accuracy` is the exact-match
/// ratio (the chosen set equals the gold set); the Hamming score also credits partly right sets.
#[derive(Debug, Clone, Serialize)]
pub struct MultiAnswerScore {
    pub items: usize,
    /// Mean share of options classified right (1 - Hamming loss).
    pub hamming: f64,
    /// Percentile-bootstrap 95% interval of the mean Hamming score.
    pub hamming_interval: Option<Interval>,
    /// Expected Hamming score of a uniform random non-empty subset of the options.
    pub chance_hamming: f64,
    /// Mean size of the chosen and of the gold sets.
    pub mean_chosen: f64,
    pub mean_gold: f64,
}

/// Something in a run that makes its score misleading, with what to do about it. Typed, so the CLI,
/// the HTML report and the app say the same thing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// Generation produced empty text on every item.
    NoOutput { items: usize, chat: bool },
    /// Most generated answers could not be read as an option.
    MostlyUnextractable {
        unextractable: usize,
        items: usize,
        /// Items whose output was empty, and whether the chat template was on.
        empty: usize,
        chat: bool,
    },
    /// Every scored item gave each option the same probability: the scores did not depend on the
    /// options (a scoring defect, or options that encode alike).
    UniformProbabilities { items: usize },
    /// Every answer was the same option.
    SamePrediction { answer: String, items: usize },
    /// Accuracy not above what guessing gives.
    NotAboveChance { accuracy: f64, chance: f64 },
    /// Accuracy below always giving the most common answer.
    BelowMajority {
        accuracy: f64,
        majority: f64,
        answer: String,
    },
    /// Some items could not be evaluated.
    Failed { failed: usize, items: usize },
}

impl Warning {
    /// One plain sentence: what happened, and what to do.
    pub fn message(&self) -> String {
        match self {
            Warning::NoOutput { items, chat: false } => format!("the model generated no text on any of the {items} items (all unextractable): an instruction-tuned model usually answers only inside its chat template; turn on the chat template (`--chat`, or \"chat template\" in the app)"),
            Warning::NoOutput { items, chat: true } => format!("the model generated no text on any of the {items} items, even with its chat template; try --method loglik, or more --max-tokens"),
            Warning::MostlyUnextractable { unextractable, items, empty, chat } => {
                let why = if *empty * 2 >= *items && !chat {
                    format!(" ({empty} of them empty: an instruction-tuned model usually answers only inside its chat template; turn on the chat template, `--chat`)")
                } else {
                    String::new()
                };
                format!("{unextractable} of {items} generated answers could not be read as an option{why}; accuracy counts only the rest: look at the outputs, or use --method loglik")
            }
            Warning::UniformProbabilities { items } => format!("on all {items} items every option got the same probability: the score did not depend on the options, so the accuracy says nothing about the model; try --method loglik"),
            Warning::SamePrediction { answer, items } => format!("the model answered \"{answer}\" on all {items} items: a position or label preference, not knowledge; compare the answer positions with the gold ones"),
            Warning::NotAboveChance { accuracy, chance } => format!("accuracy {} is not distinguishable from guessing ({} expected by chance)", pct(*accuracy), pct(*chance)),
            Warning::BelowMajority { accuracy, majority, answer } => format!("accuracy {} is below always answering \"{answer}\" ({})", pct(*accuracy), pct(*majority)),
            Warning::Failed { failed, items } => format!("{failed} of {items} items failed (see the errors); they are left out of the accuracy"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub model: String,
    pub benchmark: String,
    pub split: String,
    pub template: String,
    pub method: String,
    pub shots: usize,
    pub chat: bool,
    pub probes: Vec<String>,
    pub config_hash: String,
    /// Items in the plan (slice) of the run; `items < planned` means the run is incomplete.
    pub planned: usize,
    pub items: usize,
    /// Items with an answer (scored or extracted).
    pub answered: usize,
    pub unextractable: usize,
    pub failed: usize,
    pub correct: usize,
    /// Accuracy over answered items.
    pub accuracy: Option<f64>,
    pub wilson: Option<Interval>,
    pub bootstrap: Option<Interval>,
    /// Accuracy counting unextractable and failed items as wrong.
    pub accuracy_all_items: Option<f64>,
    pub acc_norm: Option<f64>,
    pub chance: Option<ChanceBaseline>,
    pub majority: Option<MajorityBaseline>,
    pub subjects: Vec<SubjectScore>,
    pub calibration: Option<Calibration>,
    /// For `mcq_multi` runs: the Hamming score next to exact match, and their chance levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi: Option<MultiAnswerScore>,
    /// `confusion[gold][pred]` over answered choice items (letters A, B, ...).
    pub confusion: Vec<Vec<usize>>,
    /// Share of each letter among gold answers and among predictions.
    pub gold_positions: Vec<usize>,
    pub pred_positions: Vec<usize>,
    /// Extraction rules that matched (generate), with counts.
    pub rules: Vec<(String, usize)>,
    pub seconds: f64,
    pub items_per_s: Option<f64>,
    pub prompt_tokens: usize,
    pub extra_tokens: usize,
    pub errors: Vec<(String, String)>,
    pub warnings: Vec<Warning>,
}

impl Report {
    /// What `accuracy` measures: `exact match` for items with several correct options, else `accuracy`.
    pub fn metric_name(&self) -> &'static str {
        if self.multi.is_some() {
            "exact match"
        } else {
            "accuracy"
        }
    }
}

/// How to name option `option` across `records`: its text when it is the same on at least two items
/// and every one (PubMedQA's "yes"), otherwise its letter ("B").
fn answer_name<'a>(records: impl Iterator<Item = &'a ItemRecord>, option: usize) -> String {
    let texts: Vec<Option<&String>> = records.map(|r| r.presented.get(option)).collect();
    match texts.first().copied().flatten() {
        Some(t) if texts.len() >= 2 && texts.iter().all(|x| *x == Some(t)) => t.clone(),
        _ => option_letter(option).to_string(),
    }
}

/// Below this many items a score under the majority baseline is shown but not warned about.
const MAJORITY_WARNING_ITEMS: usize = 10;

/// The majority baseline over the answered items with a gold option.
fn majority_baseline(answered: &[&ItemRecord], accuracy: Option<f64>) -> Option<MajorityBaseline> {
    let with_gold: Vec<(&ItemRecord, usize)> = answered
        .iter()
        .filter(|r| r.options > 0)
        .filter_map(|r| Some((*r, r.gold?)))
        .collect();
    if with_gold.is_empty() {
        return None;
    }
    let k = with_gold.iter().map(|(r, _)| r.options).max().unwrap_or(0);
    let mut counts = vec![0usize; k.max(1)];
    for (_, g) in &with_gold {
        if *g < counts.len() {
            counts[*g] += 1;
        }
    }
    let (option, best) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, usize::MAX - i))
        .map(|(i, c)| (i, *c))?;
    let answer = answer_name(with_gold.iter().map(|(r, _)| *r), option);
    let share = best as f64 / with_gold.len() as f64;
    Some(MajorityBaseline {
        answer,
        option,
        accuracy: share,
        items: with_gold.len(),
        below: accuracy.is_some_and(|a| a < share),
    })
}

fn warnings(r: &Report, records: &[ItemRecord], generate: bool) -> Vec<Warning> {
    let mut w = Vec::new();
    if generate && !records.is_empty() {
        let empty = records
            .iter()
            .filter(|x| x.status != Status::Failed)
            .all(|x| x.outputs.iter().all(|o| o.trim().is_empty()));
        if empty && r.failed < records.len() {
            w.push(Warning::NoOutput {
                items: records.len() - r.failed,
                chat: r.chat,
            });
        } else if r.unextractable * 2 > records.len() {
            w.push(Warning::MostlyUnextractable {
                unextractable: r.unextractable,
                items: records.len(),
                empty: records
                    .iter()
                    .filter(|x| x.status != Status::Failed)
                    .filter(|x| x.outputs.iter().all(|o| o.trim().is_empty()))
                    .count(),
                chat: r.chat,
            });
        }
    }
    let scored: Vec<&Vec<f64>> = records
        .iter()
        .filter(|x| x.status == Status::Scored)
        .filter_map(|x| x.probs.as_ref())
        .filter(|p| p.len() > 1)
        .collect();
    if !scored.is_empty()
        && scored
            .iter()
            .all(|p| p.iter().all(|x| (x - p[0]).abs() < 1e-9))
    {
        w.push(Warning::UniformProbabilities {
            items: scored.len(),
        });
    }
    let preds: Vec<usize> = records
        .iter()
        .filter(|x| x.answered() && x.options > 1)
        .filter_map(|x| x.pred)
        .collect();
    if preds.len() >= 5 && preds.iter().all(|&p| p == preds[0]) {
        let answer = answer_name(
            records
                .iter()
                .filter(|x| x.answered() && x.options > 1 && x.pred.is_some()),
            preds[0],
        );
        w.push(Warning::SamePrediction {
            answer,
            items: preds.len(),
        });
    }
    if let (Some(a), Some(c)) = (r.accuracy, &r.chance) {
        if !c.beats_chance {
            w.push(Warning::NotAboveChance {
                accuracy: a,
                chance: c.expected_accuracy,
            });
        }
    }
    if let (Some(a), Some(m)) = (r.accuracy, &r.majority) {
        if m.below && m.items >= MAJORITY_WARNING_ITEMS {
            w.push(Warning::BelowMajority {
                accuracy: a,
                majority: m.accuracy,
                answer: m.answer.clone(),
            });
        }
    }
    if r.failed > 0 {
        w.push(Warning::Failed {
            failed: r.failed,
            items: records.len(),
        });
    }
    w
}

pub fn build(header: &RunHeader, records: &[ItemRecord]) -> Report {
    let c = &header.config;
    // A `position` run's content-free items (every option "N/A") have no meaningful gold: they are
    // read by `paired::position_figures`, not scored.
    let records: Vec<ItemRecord> = records
        .iter()
        .filter(|r| r.tag() != Some(bedside_bench::probes::position::CONTENT_FREE_TAG))
        .cloned()
        .collect();
    let records = &records[..];
    let answered: Vec<&ItemRecord> = records.iter().filter(|r| r.answered()).collect();
    let correct = answered.iter().filter(|r| r.correct).count();
    let n = answered.len();
    let flags: Vec<bool> = answered.iter().map(|r| r.correct).collect();
    let choice: Vec<&&ItemRecord> = answered
        .iter()
        .filter(|r| r.options > 0 && r.pred.is_some())
        .collect();
    let option_counts: Vec<usize> = answered
        .iter()
        .filter(|r| r.options > 0)
        .map(|r| r.options)
        .collect();
    let multi_items: Vec<&&ItemRecord> =
        answered.iter().filter(|r| !r.gold_set.is_empty()).collect();
    let chance = if !multi_items.is_empty() {
        // Exact match by a uniform random non-empty subset: 1 / (2^k - 1) per item.
        (multi_items.len() == n)
            .then(|| {
                let ps: Vec<f64> = multi_items
                    .iter()
                    .map(|r| chance_exact_match(r.options))
                    .collect();
                chance_baseline_of(&ps, correct, DEFAULT_LEVEL)
            })
            .flatten()
    } else if !option_counts.is_empty() && option_counts.len() == n {
        chance_baseline(&option_counts, correct, DEFAULT_LEVEL)
    } else {
        None
    };
    let multi = (!multi_items.is_empty()).then(|| {
        let scores: Vec<f64> = multi_items
            .iter()
            .map(|r| hamming_score(&r.pred_set, &r.gold_set, r.options))
            .collect();
        let m = multi_items.len() as f64;
        MultiAnswerScore {
            items: multi_items.len(),
            hamming: scores.iter().sum::<f64>() / m,
            hamming_interval: bootstrap_mean_interval(
                &scores,
                DEFAULT_LEVEL,
                BOOTSTRAP_RESAMPLES,
                BOOTSTRAP_SEED,
            ),
            chance_hamming: multi_items
                .iter()
                .map(|r| chance_hamming(r.gold_set.len(), r.options))
                .sum::<f64>()
                / m,
            mean_chosen: multi_items.iter().map(|r| r.pred_set.len()).sum::<usize>() as f64 / m,
            mean_gold: multi_items.iter().map(|r| r.gold_set.len()).sum::<usize>() as f64 / m,
        }
    });
    let norm: Vec<bool> = answered.iter().filter_map(|r| r.correct_norm).collect();
    let with_probs: Vec<(&Vec<f64>, usize)> = answered
        .iter()
        .filter_map(|r| Some((r.probs.as_ref()?, r.gold?)))
        .filter(|(p, g)| *g < p.len())
        .collect();
    let calibration = (!with_probs.is_empty()).then(|| {
        let probs: Vec<Vec<f64>> = with_probs.iter().map(|(p, _)| (*p).clone()).collect();
        let gold: Vec<usize> = with_probs.iter().map(|(_, g)| *g).collect();
        let pairs = confidence_pairs(&probs, &gold);
        Calibration {
            items: probs.len(),
            ece: ece(&pairs, CALIBRATION_BINS).unwrap_or(f64::NAN),
            adaptive_ece: adaptive_ece(&pairs, CALIBRATION_BINS),
            brier: brier_score(&probs, &gold).unwrap_or(f64::NAN),
            mean_confidence: pairs.iter().map(|p| p.0).sum::<f64>() / pairs.len().max(1) as f64,
            reliability: reliability_bins(&pairs, 10, DEFAULT_LEVEL),
        }
    });
    let k = choice.iter().map(|r| r.options).max().unwrap_or(0);
    let mut confusion = vec![vec![0usize; k]; k];
    for r in &choice {
        if let (Some(g), Some(p)) = (r.gold, r.pred) {
            if g < k && p < k {
                confusion[g][p] += 1;
            }
        }
    }
    let gold_positions = (0..k).map(|g| confusion[g].iter().sum()).collect();
    let pred_positions = (0..k)
        .map(|p| confusion.iter().map(|row| row[p]).sum())
        .collect();
    let mut rules: Vec<(String, usize)> = Vec::new();
    for r in records.iter().filter_map(|r| r.rule.as_ref()) {
        match rules.iter_mut().find(|(k, _)| k == r) {
            Some(e) => e.1 += 1,
            None => rules.push((r.clone(), 1)),
        }
    }
    let ms: f64 = records.iter().map(|r| r.latency_ms).sum();
    let accuracy = (n > 0).then(|| correct as f64 / n as f64);
    let majority = majority_baseline(&answered, accuracy);
    let mut report = Report {
        model: c.model.name.clone(),
        benchmark: c.benchmark.name.clone(),
        split: c.benchmark.split.clone(),
        template: c.template.to_string(),
        method: c.method.to_string(),
        shots: c.shots,
        chat: c.chat,
        probes: c.probes.iter().map(|p| p.to_string()).collect(),
        config_hash: header.config_hash.clone(),
        planned: header.planned_items,
        items: records.len(),
        answered: n,
        unextractable: records
            .iter()
            .filter(|r| r.status == Status::Unextractable)
            .count(),
        failed: records
            .iter()
            .filter(|r| r.status == Status::Failed)
            .count(),
        correct,
        accuracy,
        wilson: (n > 0).then(|| wilson_interval(correct as u64, n as u64, DEFAULT_LEVEL)),
        bootstrap: bootstrap_accuracy_interval(
            &flags,
            DEFAULT_LEVEL,
            BOOTSTRAP_RESAMPLES,
            BOOTSTRAP_SEED,
        ),
        accuracy_all_items: (!records.is_empty()).then(|| correct as f64 / records.len() as f64),
        acc_norm: (!norm.is_empty())
            .then(|| norm.iter().filter(|&&b| b).count() as f64 / norm.len() as f64),
        chance,
        majority,
        subjects: by_subject(
            answered.iter().map(|r| (r.subject.as_deref(), r.correct)),
            DEFAULT_LEVEL,
        ),
        calibration,
        multi,
        confusion,
        gold_positions,
        pred_positions,
        rules,
        seconds: ms / 1000.0,
        items_per_s: (ms > 0.0).then(|| records.len() as f64 / (ms / 1000.0)),
        prompt_tokens: records.iter().map(|r| r.prompt_tokens).sum(),
        extra_tokens: records.iter().map(|r| r.extra_tokens).sum(),
        errors: records
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.error.clone()?)))
            .take(20)
            .collect(),
        warnings: Vec::new(),
    };
    report.warnings = warnings(&report, records, c.method == crate::Method::Generate);
    report
}

/// A share as a percentage with one decimal (`37.5%`), as every report, card and page writes it.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn iv(i: &Option<Interval>) -> String {
    i.map(|i| format!("[{}, {}]", pct(i.low), pct(i.high)))
        .unwrap_or_else(|| "-".into())
}

/// Values right-aligned in 6-character columns (the answer-position table).
fn cols<T: std::fmt::Display>(xs: &[T]) -> String {
    xs.iter().map(|x| format!("{x:>6}")).collect()
}

/// The plain-text report printed by `bedside report`.
pub fn render_text(r: &Report) -> String {
    let mut s = String::new();
    let mut line = |t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    line(format!(
        "{} on {} ({} split)",
        r.model, r.benchmark, r.split
    ));
    line(format!(
        "method {} | template {} | {}-shot{}{}",
        r.method,
        r.template,
        r.shots,
        if r.chat { " | chat template" } else { "" },
        if r.probes.is_empty() {
            String::new()
        } else {
            format!(" | probes {}", r.probes.join(","))
        }
    ));
    let incomplete = if r.items < r.planned {
        format!(" (incomplete: {} of {} planned)", r.items, r.planned)
    } else {
        String::new()
    };
    line(format!(
        "items {}{incomplete} | answered {} | unextractable {} | failed {}",
        r.items, r.answered, r.unextractable, r.failed
    ));
    line(String::new());
    let label = if r.multi.is_some() {
        "exact match  "
    } else {
        "accuracy     "
    };
    match r.accuracy {
        Some(a) => line(format!(
            "{label} {}  ({}/{})  95% Wilson {}  bootstrap {}",
            pct(a),
            r.correct,
            r.answered,
            iv(&r.wilson),
            iv(&r.bootstrap)
        )),
        None => line("accuracy      - (no answered items)".into()),
    }
    if r.unextractable + r.failed > 0 {
        if let Some(a) = r.accuracy_all_items {
            line(format!(
                "  counting unextractable/failed as wrong: {}",
                pct(a)
            ));
        }
    }
    if let Some(a) = r.acc_norm {
        line(format!(
            "acc_norm      {}  (log-likelihood per character of the choice, as lm-eval)",
            pct(a)
        ));
    }
    if let Some(m) = &r.multi {
        line(format!(
            "hamming       {}  95% bootstrap {}  (share of options rightly chosen or left out; chance {})",
            pct(m.hamming),
            iv(&m.hamming_interval),
            pct(m.chance_hamming)
        ));
        line(format!(
            "  {} item(s) with several correct options allowed: {:.2} chosen per item on average, {:.2} correct",
            m.items, m.mean_chosen, m.mean_gold
        ));
    }
    if let Some(c) = &r.chance {
        line(format!(
            "chance        {}  (95% range {}); p = {:.2e} that guessing does this well: {}",
            pct(c.expected_accuracy),
            iv(&Some(c.interval)),
            c.p_value,
            if c.beats_chance {
                "beats chance"
            } else {
                "NOT distinguishable from chance"
            }
        ));
    }
    if let Some(m) = &r.majority {
        line(format!(
            "majority      {}  (always answering \"{}\", the most common gold answer of these {} items){}",
            pct(m.accuracy),
            m.answer,
            m.items,
            if m.below { ": accuracy is BELOW it" } else { "" }
        ));
    }
    if let Some(c) = &r.calibration {
        line(format!(
            "calibration   ECE {:.3} ({} bins) | adaptive ECE {} | Brier {:.3} | mean confidence {} vs accuracy {}",
            c.ece,
            CALIBRATION_BINS,
            c.adaptive_ece.map(|x| format!("{x:.3}")).unwrap_or("-".into()),
            c.brier,
            pct(c.mean_confidence),
            r.accuracy.map(pct).unwrap_or("-".into())
        ));
    }
    if !r.gold_positions.is_empty() {
        let letters: Vec<String> = (0..r.gold_positions.len())
            .map(|i| option_letter(i).to_string())
            .collect();
        line(String::new());
        line(format!("answer positions   {}", cols(&letters)));
        line(format!("  gold             {}", cols(&r.gold_positions)));
        line(format!("  predicted        {}", cols(&r.pred_positions)));
        line("  confusion (rows gold, columns predicted)".into());
        for (g, row) in r.confusion.iter().enumerate() {
            line(format!("    {}              {}", letters[g], cols(row)));
        }
    }
    if r.subjects.len() > 1 {
        line(String::new());
        line(format!(
            "{:<40} {:>6} {:>8}  95% Wilson",
            "subject", "items", "acc"
        ));
        for sub in &r.subjects {
            line(format!(
                "{:<40} {:>6} {:>8}  {}",
                sub.subject,
                sub.items,
                pct(sub.accuracy),
                iv(&Some(sub.interval))
            ));
        }
    }
    if let Some(c) = &r.calibration {
        line(String::new());
        line("reliability (confidence bin: items, mean confidence, accuracy)".into());
        for b in c.reliability.iter().filter(|b| b.count > 0) {
            line(format!(
                "  [{:.1}, {:.1})  {:>5}  {:>7}  {:>7}",
                b.low,
                b.high,
                b.count,
                b.mean_confidence.map(pct).unwrap_or_default(),
                b.accuracy.map(pct).unwrap_or_default()
            ));
        }
    }
    if !r.rules.is_empty() {
        line(String::new());
        line(format!(
            "extraction   {}",
            r.rules
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    line(String::new());
    line(format!(
        "time {:.1} s | {} | prompt tokens {} | other tokens {}",
        r.seconds,
        r.items_per_s
            .map(|x| format!("{x:.2} items/s"))
            .unwrap_or("-".into()),
        r.prompt_tokens,
        r.extra_tokens
    ));
    for (id, e) in &r.errors {
        line(format!("failed item {id}: {e}"));
    }
    if !r.warnings.is_empty() {
        line(String::new());
        for w in &r.warnings {
            line(format!("warning: {}", w.message()));
        }
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{BenchmarkRef, ModelRef, RunSettings};
    use crate::record::RUN_FORMAT;

    pub(crate) fn header(method: crate::Method, chat: bool) -> RunHeader {
        let cfg = crate::RunConfig {
            model: ModelRef {
                name: "m".into(),
                file: "m.gguf".into(),
                sha256: "0".into(),
            },
            benchmark: BenchmarkRef {
                name: "b".into(),
                hash: "h".into(),
                split: "test".into(),
            },
            template: crate::Template::Generic,
            method,
            shots: 0,
            fewshot: crate::fewshot::FewshotSampler::Random,
            chat,
            cot: false,
            samples: 1,
            temperature: 0.0,
            top_p: RunSettings::default().top_p,
            max_tokens: 24,
            seed: 1,
            probes: Vec::new(),
        };
        RunHeader {
            bedside_run: RUN_FORMAT,
            bedside_version: "test".into(),
            config_hash: cfg.hash(),
            config: cfg,
            slice: None,
            planned_items: 0,
            backend: "cpu".into(),
            merged_from: Vec::new(),
        }
    }

    pub(crate) fn rec(
        i: usize,
        gold: usize,
        pred: Option<usize>,
        presented: &[&str],
        extra: serde_json::Value,
    ) -> ItemRecord {
        let mut v = serde_json::json!({
            "index": i, "id": format!("q{i}"), "shard": "s.jsonl", "prompt_hash": "", "options": presented.len(),
            "pred": pred, "gold": gold, "correct": pred == Some(gold), "status": "scored",
            "prompt_tokens": 1, "extra_tokens": 0, "latency_ms": 1.0, "presented": presented,
        });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    /// Three mcq_multi items of 4 options, scored by hand: exact match 1/3; Hamming (1 + 1/2 + 3/4) / 3;
    /// chance exact match 1/15; chance Hamming (29/60 + 1/2 + 1/2) / 3 (see metrics::multi_answer).
    #[test]
    fn multi_answer_items_report_exact_match_and_hamming_with_their_chance_levels() {
        let m = |i: usize, gold: &[usize], pred: &[usize]| {
            let mut r = rec(
                i,
                0,
                None,
                &["a", "b", "c", "d"],
                serde_json::json!({
                "gold": null, "gold_set": gold, "pred_set": pred, "correct": gold == pred, "status": "extracted"}),
            );
            r.gold = None;
            r
        };
        let records = vec![
            m(0, &[0, 2], &[0, 2]), // exact: 4/4
            m(1, &[1, 3], &[1, 2]), // B right, C wrong, D missed: 2/4
            m(2, &[3], &[2, 3]),    // C wrong: 3/4
        ];
        let r = build(&header(crate::Method::Generate, false), &records);
        assert_eq!(r.metric_name(), "exact match");
        assert_eq!((r.correct, r.answered), (1, 3));
        let multi = r.multi.as_ref().unwrap();
        assert!((multi.hamming - (1.0 + 0.5 + 0.75) / 3.0).abs() < 1e-12);
        assert!((multi.chance_hamming - (29.0 / 60.0 + 0.5 + 0.5) / 3.0).abs() < 1e-12);
        assert!((r.chance.as_ref().unwrap().expected_accuracy - 1.0 / 15.0).abs() < 1e-12);
        assert!(
            r.majority.is_none() && r.confusion.is_empty(),
            "single-answer figures are not applied"
        );
        let text = render_text(&r);
        assert!(
            text.contains("exact match") && text.contains("hamming       75.0%"),
            "{text}"
        );
        // The app's and the HTML report's cards say the same.
        let cards = crate::cards::cards(&r);
        assert_eq!(cards[0].title, "Exact match");
        let h = cards.iter().find(|c| c.id == "hamming").unwrap();
        assert_eq!(h.value, "75.0%");
        assert!(h.note.contains("chance 49.4%"), "{}", h.note);
    }

    /// PubMedQA-like answers, 11 of 20 "yes": the majority baseline is 55% "yes"; a model at 50% is
    /// below it (flagged, with a warning) although it beats a third.
    #[test]
    fn majority_baseline_names_the_answer_and_flags_a_score_under_it() {
        let opts = ["yes", "no", "maybe"];
        let records: Vec<ItemRecord> = (0..20)
            .map(|i| {
                let gold = if i < 11 {
                    0
                } else if i < 17 {
                    1
                } else {
                    2
                };
                let pred = if i % 2 == 0 { gold } else { (gold + 1) % 3 };
                rec(i, gold, Some(pred), &opts, serde_json::json!({}))
            })
            .collect();
        let r = build(&header(crate::Method::Loglik, false), &records);
        let m = r.majority.as_ref().unwrap();
        assert_eq!((m.answer.as_str(), m.option, m.items), ("yes", 0, 20));
        assert!((m.accuracy - 0.55).abs() < 1e-12);
        assert!((r.accuracy.unwrap() - 0.5).abs() < 1e-12);
        assert!(m.below);
        assert!(r
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::BelowMajority { .. })));
        assert!(render_text(&r).contains("majority      55.0%  (always answering \"yes\""));
        // Options whose texts differ per item are named by letter.
        let mcq: Vec<ItemRecord> = (0..6)
            .map(|i| {
                rec(
                    i,
                    1,
                    Some(1),
                    &[&format!("a{i}"), &format!("b{i}")],
                    serde_json::json!({}),
                )
            })
            .collect();
        let r = build(&header(crate::Method::Loglik, false), &mcq);
        assert_eq!(r.majority.as_ref().unwrap().answer, "B");
        assert!(!r.majority.as_ref().unwrap().below);
    }

    /// The failure shapes of issue 12 are named, each with what to do.
    #[test]
    fn warnings_say_why_a_score_is_empty_or_meaningless() {
        let opts = ["w", "x", "y", "z"];
        let empty: Vec<ItemRecord> = (0..5)
            .map(|i| {
                rec(
                    i,
                    i % 4,
                    None,
                    &opts,
                    serde_json::json!({"status": "unextractable", "outputs": [""]}),
                )
            })
            .collect();
        let r = build(&header(crate::Method::Generate, false), &empty);
        assert_eq!(r.answered, 0);
        assert_eq!(
            r.warnings,
            vec![Warning::NoOutput {
                items: 5,
                chat: false
            }]
        );
        assert!(r.warnings[0]
            .message()
            .contains("turn on the chat template"));
        // Mostly empty, one answer read: still pointed at the chat template.
        let mut mostly = empty.clone();
        mostly[0] = rec(
            0,
            0,
            Some(0),
            &opts,
            serde_json::json!({"status": "extracted", "outputs": ["A"]}),
        );
        let m = build(&header(crate::Method::Generate, false), &mostly);
        assert!(
            matches!(
                &m.warnings[0],
                Warning::MostlyUnextractable {
                    unextractable: 4,
                    items: 5,
                    empty: 4,
                    chat: false
                }
            ),
            "{:?}",
            m.warnings
        );
        assert!(m.warnings[0]
            .message()
            .contains("turn on the chat template"));
        let cards = crate::cards::cards(&r);
        assert!(cards[0].alarm && cards[0].note.contains("no item answered"));
        // Uniform probabilities, always the first option (named by its text, the same on every item).
        let uniform: Vec<ItemRecord> = (0..6)
            .map(|i| {
                rec(
                    i,
                    i % 4,
                    Some(0),
                    &opts,
                    serde_json::json!({"probs": [0.25, 0.25, 0.25, 0.25]}),
                )
            })
            .collect();
        let r = build(&header(crate::Method::Letter, true), &uniform);
        assert!(r
            .warnings
            .contains(&Warning::UniformProbabilities { items: 6 }));
        assert!(r
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::SamePrediction { answer, items: 6 } if answer == "w")));
        // A healthy run has none of these.
        let fine: Vec<ItemRecord> = (0..30)
            .map(|i| {
                rec(
                    i,
                    i % 4,
                    Some(i % 4),
                    &opts,
                    serde_json::json!({"probs": [0.7, 0.1, 0.1, 0.1]}),
                )
            })
            .collect();
        let r = build(&header(crate::Method::Loglik, false), &fine);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }
}
