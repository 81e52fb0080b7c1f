//! A run's report, computed from its records alone (so `bedside report`, the web app and anyone holding
//! the JSONL get the same numbers): accuracy with Wilson and bootstrap intervals, the chance baseline,
//! acc_norm, per-subject scores, calibration (ECE, Brier, reliability), answer positions, extraction.

use crate::record::{ItemRecord, RunHeader, Status};
use bedside_bench::metrics::bootstrap::bootstrap_accuracy_interval;
use bedside_bench::metrics::brier::brier_score;
use bedside_bench::metrics::calibration::{adaptive_ece, confidence_pairs, ece};
use bedside_bench::metrics::chance::{chance_baseline, ChanceBaseline};
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
    pub subjects: Vec<SubjectScore>,
    pub calibration: Option<Calibration>,
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
}

pub fn build(header: &RunHeader, records: &[ItemRecord]) -> Report {
    let c = &header.config;
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
    let chance = if !option_counts.is_empty() && option_counts.len() == n {
        chance_baseline(&option_counts, correct, DEFAULT_LEVEL)
    } else {
        None
    };
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
    Report {
        model: c.model.name.clone(),
        benchmark: c.benchmark.name.clone(),
        split: c.benchmark.split.clone(),
        template: c.template.to_string(),
        method: c.method.to_string(),
        shots: c.shots,
        chat: c.chat,
        probes: c.probes.clone(),
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
        accuracy: (n > 0).then(|| correct as f64 / n as f64),
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
        subjects: by_subject(
            answered.iter().map(|r| (r.subject.as_deref(), r.correct)),
            DEFAULT_LEVEL,
        ),
        calibration,
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
    }
}

fn pct(x: f64) -> String {
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
    match r.accuracy {
        Some(a) => line(format!(
            "accuracy      {}  ({}/{})  95% Wilson {}  bootstrap {}",
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
    s
}
