//! Several finished runs of one benchmark, compared item by item (`bedside compare`, the app's Compare
//! page and its HTML export all use this one implementation).
//!
//! Runs are joined by the benchmark's item id (`ItemRecord::source`). Runs of different benchmarks or
//! splits are refused; runs over different item sets (slices, `--limit`) are compared on the items they
//! share, and the report says how many were left out. Each run is reported over the shared items with
//! the same engine report a single run gets (accuracy with its Wilson interval, chance line, majority
//! baseline, calibration, subjects). Every pair of runs gets the paired difference with its bootstrap
//! interval, the exact McNemar test (Holm-adjusted when more than two runs are compared), agreement and
//! Cohen's kappa, and the number of items a paired design would need to detect the observed difference
//! with 80% power. With three or more runs, an item response theory fit (item difficulty and
//! discrimination, each run's ability) and Bradley-Terry strengths from the item-by-item wins are added.
//!
//! A probed run takes part with one record per item: the one in the original option order when it has
//! one, else its first variant (a `position` probe's content-free items are left out, as in its own
//! report). An item a run could not answer (unextractable or failed) is left out of that run's accuracy
//! and of every pair it is in, never counted as wrong, as `bedside report` does.

use crate::label_check::{self, LabelCheck};
use crate::paired::{compare, p_text, pts, rate, Comparison, Rate};
use crate::record::{ItemRecord, RunHeader};
use crate::report::{self, pct, Report};
use bedside_bench::benchmark::Benchmark;
use bedside_bench::metrics::bradley_terry::{self, BtFit, BtOptions};
use bedside_bench::metrics::holm::holm_adjust;
use bedside_bench::metrics::irt::{self, IrtFit, IrtOptions};
use bedside_bench::metrics::kappa::{agreement, Agreement};
use bedside_bench::metrics::power::paired_items_needed;
use bedside_bench::probes::position::CONTENT_FREE_TAG;
use bedside_bench::task::option_letter;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// Power the "items needed" estimate is for.
pub const POWER: f64 = 0.8;
/// Runs needed before IRT and Bradley-Terry are fitted: with two runs there is one pair and one
/// contrast, which the pairwise line already says.
pub const MIN_RUNS_FOR_MODELS: usize = 3;
/// Informative items (some runs right, some wrong) an IRT fit needs before its abilities are shown.
pub const MIN_ITEMS_FOR_IRT: usize = 10;

/// One run to compare: a name for it (its file name) and what the run file holds.
pub struct RunInput<'a> {
    pub file: String,
    pub header: &'a RunHeader,
    pub records: &'a [ItemRecord],
}

/// One run, reported over the shared items.
#[derive(Debug, Clone, Serialize)]
pub struct ComparedRun {
    /// A short name that tells the runs apart: the model, plus what differs between same-model runs.
    pub label: String,
    pub file: String,
    pub model: String,
    pub model_sha256: String,
    pub config_hash: String,
    /// Distinct items in the run file.
    pub items_in_run: usize,
    /// The engine's report over the shared items only.
    pub report: Report,
}

/// Two runs on the shared items both answered.
#[derive(Debug, Clone, Serialize)]
pub struct PairRow {
    /// Indices into `Compared::runs`: `b` is compared against `a` (difference = b - a).
    pub a: usize,
    pub b: usize,
    pub comparison: Comparison,
    /// Holm-adjusted McNemar p-value over all pairs (equal to the raw one with two runs).
    pub p_holm: f64,
    pub agreement: Option<Agreement>,
    /// About how many items a paired comparison needs to detect the observed difference with 80% power
    /// at the 5% level (Connor 1987); `None` when the runs did not differ.
    pub items_needed: Option<f64>,
    /// Bootstrap interval excludes 0 and the (Holm-adjusted) exact McNemar test rejects at 5%.
    pub distinguishable: bool,
    /// The plain sentence shown with the numbers.
    pub reading: String,
}

/// One item, as each run answered it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemAnswer {
    /// The chosen option's letter and text, in the order that run presented the options.
    pub answer: Option<String>,
    pub answer_text: Option<String>,
    /// The probability the run gave its chosen option (scored methods only).
    pub probability: Option<f64>,
    /// `None` when the run could not answer the item (unextractable or failed).
    pub correct: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: String,
    pub subject: Option<String>,
    /// The correct option's letter and text as the first run presented them.
    pub gold: Option<String>,
    pub gold_text: Option<String>,
    pub answers: Vec<ItemAnswer>,
    /// Some run got it right and another wrong.
    pub disagree: bool,
}

/// Runs × subjects accuracies over the shared items: `cells[run][subject]`.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectGrid {
    pub subjects: Vec<String>,
    pub cells: Vec<Vec<Option<Rate>>>,
}

/// The IRT fit over the runs × shared items matrix.
#[derive(Debug, Clone, Serialize)]
pub struct IrtResult {
    pub fit: IrtFit,
    /// The runs fitted (indices into `Compared::runs`), in `fit.abilities` order: runs that answered no
    /// shared item are left out.
    pub runs: Vec<usize>,
    /// Item ids of the fitted items, in `fit.items` order.
    pub item_ids: Vec<String>,
    /// Items flagged for negative discrimination (the stronger runs got them wrong more often: a
    /// mislabelled or ambiguous item is the usual reason).
    pub flagged: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    pub benchmark: String,
    pub split: String,
    pub benchmark_hash: String,
    pub runs: Vec<ComparedRun>,
    /// Items present in every run.
    pub shared_items: usize,
    /// Items present in some runs but not all (left out).
    pub unshared_items: usize,
    pub pairs: Vec<PairRow>,
    pub subjects: SubjectGrid,
    pub items: Vec<ItemRow>,
    pub irt: Option<IrtResult>,
    /// The IRT flags against experts' item labels (MMLU-Redux's `error_type`), when the benchmark was
    /// given (`check_labels`) and its items carry them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_check: Option<LabelCheck>,
    pub bradley_terry: Option<BtFit>,
    /// What was left out or could not be fitted, and why.
    pub notes: Vec<String>,
}

/// The record that stands for the item in a run: original order first, else the first variant.
fn per_item(records: &[ItemRecord]) -> HashMap<&str, &ItemRecord> {
    let mut m: HashMap<&str, &ItemRecord> = HashMap::new();
    for r in records {
        if r.tag() == Some(CONTENT_FREE_TAG) {
            continue;
        }
        let e = m.entry(r.source()).or_insert(r);
        if !e.order.is_empty() && r.order.is_empty() {
            *e = r;
        }
    }
    m
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// Labels that tell the runs apart: the model name, then what differs among runs of the same model.
fn labels(inputs: &[RunInput]) -> Vec<String> {
    let describe = |h: &RunHeader| -> Vec<String> {
        let c = &h.config;
        vec![
            c.method.to_string(),
            format!("template {}", c.template),
            format!("{}-shot", c.shots),
            if c.chat {
                "chat".into()
            } else {
                "no chat".into()
            },
            if c.probes.is_empty() {
                "no probe".into()
            } else {
                bedside_bench::probes::describe(&c.probes)
            },
            if c.cot { "CoT".into() } else { String::new() },
            format!("{} samples", c.samples),
        ]
    };
    let mut out: Vec<String> = inputs
        .iter()
        .map(|r| r.header.config.model.name.clone())
        .collect();
    for i in 0..inputs.len() {
        let same: Vec<usize> = (0..inputs.len())
            .filter(|&j| inputs[j].header.config.model.name == inputs[i].header.config.model.name)
            .collect();
        if same.len() < 2 {
            continue;
        }
        let mine = describe(inputs[i].header);
        let mut extra = Vec::new();
        for (k, d) in mine.iter().enumerate() {
            if same
                .iter()
                .any(|&j| describe(inputs[j].header)[k] != *d && !d.is_empty())
            {
                extra.push(d.clone());
            }
        }
        if !extra.is_empty() {
            out[i] = format!("{} ({})", out[i], extra.join(", "));
        }
    }
    // Still equal (the same configuration twice): add the file name.
    for i in 0..out.len() {
        if out.iter().filter(|l| **l == out[i]).count() > 1 {
            let dup = out[i].clone();
            for (j, l) in out.iter_mut().enumerate() {
                if *l == dup {
                    *l = format!("{dup} [{}]", inputs[j].file);
                }
            }
        }
    }
    out
}

/// Compare two or more runs of one benchmark. Refused, with the reason, for fewer than two runs, runs
/// of different benchmarks or splits, or runs that share no item.
pub fn compare_runs(inputs: &[RunInput]) -> Result<Compared, String> {
    if inputs.len() < 2 {
        return Err("a comparison needs at least two run files".into());
    }
    let first = &inputs[0].header.config.benchmark;
    for r in &inputs[1..] {
        let b = &r.header.config.benchmark;
        if b.hash != first.hash {
            return Err(format!(
                "{} is a run of benchmark {} ({}) but {} is of {} ({}): runs are compared on the same benchmark, item by item; re-run one model on the other's benchmark",
                r.file,
                b.name,
                short(&b.hash),
                inputs[0].file,
                first.name,
                short(&first.hash)
            ));
        }
        if b.split != first.split {
            return Err(format!(
                "{} is of split {} but {} is of split {}: compare runs of the same split",
                r.file, b.split, inputs[0].file, first.split
            ));
        }
    }
    let maps: Vec<HashMap<&str, &ItemRecord>> =
        inputs.iter().map(|r| per_item(r.records)).collect();
    // Shared items in the first run's record order.
    let mut shared: Vec<&str> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in inputs[0].records {
        let s = r.source();
        if maps[0].contains_key(s) && seen.insert(s) && maps.iter().all(|m| m.contains_key(s)) {
            shared.push(s);
        }
    }
    let all: BTreeSet<&str> = maps.iter().flat_map(|m| m.keys().copied()).collect();
    let unshared = all.len() - shared.len();
    if shared.is_empty() {
        return Err(format!(
            "the runs share no item of {} (each covers a different part: check --slice / --limit); nothing to compare",
            first.name
        ));
    }
    let mut notes = Vec::new();
    if unshared > 0 {
        notes.push(format!(
            "{unshared} item(s) are not in every run and are left out; the comparison uses the {} items all runs have",
            shared.len()
        ));
    }
    let label = labels(inputs);
    let mut runs = Vec::new();
    for (i, r) in inputs.iter().enumerate() {
        let recs: Vec<ItemRecord> = shared.iter().map(|s| maps[i][s].clone()).collect();
        runs.push(ComparedRun {
            label: label[i].clone(),
            file: r.file.clone(),
            model: r.header.config.model.name.clone(),
            model_sha256: r.header.config.model.sha256.clone(),
            config_hash: r.header.config_hash.clone(),
            items_in_run: maps[i].len(),
            report: report::build(r.header, &recs),
        });
    }
    // outcome[run][item]: None when the run did not answer.
    let outcome: Vec<Vec<Option<bool>>> = (0..inputs.len())
        .map(|i| {
            shared
                .iter()
                .map(|s| {
                    let r = maps[i][s];
                    r.answered().then_some(r.correct)
                })
                .collect()
        })
        .collect();

    let mut pairs = Vec::new();
    for a in 0..inputs.len() {
        for b in a + 1..inputs.len() {
            let both: Vec<(bool, bool)> = outcome[a]
                .iter()
                .zip(&outcome[b])
                .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
                .collect();
            let c = compare(
                &label[b],
                &format!("{} against {}", label[b], label[a]),
                &label[a],
                &both,
            );
            let (xa, xb): (Vec<bool>, Vec<bool>) = both.iter().copied().unzip();
            let n = both.len().max(1) as f64;
            pairs.push(PairRow {
                a,
                b,
                p_holm: c.mcnemar_p,
                agreement: agreement(&xa, &xb),
                // p10: only the first right (a), p01: only the second.
                items_needed: paired_items_needed(
                    c.right_to_wrong as f64 / n,
                    c.wrong_to_right as f64 / n,
                    0.05,
                    POWER,
                ),
                distinguishable: c.distinguishable,
                reading: String::new(),
                comparison: c,
            });
        }
    }
    let adjusted = holm_adjust(
        &pairs
            .iter()
            .map(|p| p.comparison.mcnemar_p)
            .collect::<Vec<_>>(),
    );
    for (p, adj) in pairs.iter_mut().zip(adjusted) {
        p.p_holm = adj;
        let c = &p.comparison;
        p.distinguishable = c.items > 0 && !c.interval.contains(0.0) && adj < 0.05;
        p.reading = reading(p, &label, inputs.len() > 2);
    }

    // Subjects.
    let mut subjects: Vec<String> = runs
        .iter()
        .flat_map(|r| r.report.subjects.iter().map(|s| s.subject.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if subjects.len() == 1 {
        subjects.clear();
    }
    let cells = runs
        .iter()
        .map(|r| {
            subjects
                .iter()
                .map(|s| {
                    r.report
                        .subjects
                        .iter()
                        .find(|x| &x.subject == s)
                        .map(|x| Rate {
                            correct: x.correct,
                            items: x.items,
                            accuracy: x.accuracy,
                            wilson: x.interval,
                        })
                })
                .collect()
        })
        .collect();

    // Items.
    let items: Vec<ItemRow> = shared
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let r0 = maps[0][s];
            let answers: Vec<ItemAnswer> = (0..inputs.len())
                .map(|i| {
                    let r = maps[i][s];
                    ItemAnswer {
                        answer: if r.pred_set.is_empty() {
                            r.pred.map(|p| option_letter(p).to_string())
                        } else {
                            Some(
                                r.pred_set
                                    .iter()
                                    .map(|&p| option_letter(p).to_string())
                                    .collect::<Vec<_>>()
                                    .join(","),
                            )
                        },
                        answer_text: r.pred.and_then(|p| r.presented.get(p).cloned()),
                        probability: r.pred.and_then(|p| r.probs.as_ref()?.get(p).copied()),
                        correct: outcome[i][k],
                    }
                })
                .collect();
            let known: Vec<bool> = answers.iter().filter_map(|a| a.correct).collect();
            ItemRow {
                id: s.to_string(),
                subject: r0.subject.clone(),
                gold: if r0.gold_set.is_empty() {
                    r0.gold.map(|g| option_letter(g).to_string())
                } else {
                    Some(
                        r0.gold_set
                            .iter()
                            .map(|&g| option_letter(g).to_string())
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                },
                gold_text: r0.gold.and_then(|g| r0.presented.get(g).cloned()),
                disagree: known.iter().any(|&x| x) && known.iter().any(|&x| !x),
                answers,
            }
        })
        .collect();

    // Models over the matrix, of the runs that answered at least one shared item (a run whose every
    // item failed, e.g. a base model asked for its chat template, would get the prior's ability and
    // an unbounded strength).
    let active: Vec<usize> = (0..inputs.len())
        .filter(|&i| outcome[i].iter().any(|x| x.is_some()))
        .collect();
    for i in (0..inputs.len()).filter(|i| !active.contains(i)) {
        notes.push(format!(
            "{} answered none of the shared items: it is left out of item response theory and Bradley-Terry",
            label[i]
        ));
    }
    let outcome: Vec<Vec<Option<bool>>> = active.iter().map(|&i| outcome[i].clone()).collect();
    let (mut irt_result, mut bt) = (None, None);
    if active.len() >= MIN_RUNS_FOR_MODELS {
        match irt::fit(&outcome, &IrtOptions::default()) {
            Ok(fit) if fit.items_used < MIN_ITEMS_FOR_IRT => notes.push(format!(
                "IRT was not fitted: only {} item(s) got different outcomes across the runs, and abilities from fewer than {MIN_ITEMS_FOR_IRT} would mean nothing; compare on more items",
                fit.items_used
            )),
            Ok(fit) => {
                let used: Vec<usize> = fit.items.iter().map(|p| p.item).collect();
                let item_ids: Vec<String> = used.iter().map(|&k| shared[k].to_string()).collect();
                let flagged = fit
                    .items
                    .iter()
                    .filter(|p| p.negative_discrimination)
                    .map(|p| shared[p.item].to_string())
                    .collect();
                for w in &fit.warnings {
                    notes.push(format!("IRT: {}", w.message()));
                }
                irt_result = Some(IrtResult {
                    fit,
                    runs: active.clone(),
                    item_ids,
                    flagged,
                });
            }
            Err(e) => notes.push(format!("IRT was not fitted: {e}")),
        }
        let k = active.len();
        let mut wins = vec![vec![0u32; k]; k];
        let mut ties = 0u32;
        for a in 0..k {
            for b in a + 1..k {
                for (x, y) in outcome[a].iter().zip(&outcome[b]) {
                    match (x, y) {
                        (Some(true), Some(false)) => wins[a][b] += 1,
                        (Some(false), Some(true)) => wins[b][a] += 1,
                        (Some(_), Some(_)) => ties += 1,
                        _ => {}
                    }
                }
            }
        }
        match bradley_terry::fit(&wins, ties, &BtOptions::default()) {
            Ok(mut f) => {
                // Players are the active runs: name them by their place among all runs.
                for x in &mut f.strengths {
                    x.player = active[x.player];
                }
                bt = Some(f)
            }
            Err(e) => notes.push(format!("Bradley-Terry was not fitted: {e}")),
        }
    } else {
        notes.push(format!(
            "item response theory and Bradley-Terry strengths need at least {MIN_RUNS_FOR_MODELS} runs (runs of other models, or of one model with and without its chat template, with 0 and 5 shots, under probes, all count)"
        ));
    }

    Ok(Compared {
        benchmark: first.name.clone(),
        split: first.split.clone(),
        benchmark_hash: first.hash.clone(),
        runs,
        shared_items: shared.len(),
        unshared_items: unshared,
        pairs,
        subjects: SubjectGrid { subjects, cells },
        items,
        irt: irt_result,
        label_check: None,
        bradley_terry: bt,
        notes,
    })
}

/// Check the IRT flags against the experts' item labels of `bench` (the benchmark the runs were made
/// on: its content hash must be the runs'). Adds a note when there is nothing to check.
pub fn check_labels(c: &mut Compared, bench: &Benchmark, bench_hash: &str) -> Result<(), String> {
    if bench_hash != c.benchmark_hash {
        return Err(format!(
            "the benchmark given ({}, {}) is not the one the runs were made on ({}, {}): give the runs' own benchmark folder",
            bench.manifest.name,
            short(bench_hash),
            c.benchmark,
            short(&c.benchmark_hash)
        ));
    }
    let labels = label_check::item_labels(bench, &c.split, label_check::LABEL_FIELD);
    if labels.is_empty() {
        c.notes.push(format!(
            "the benchmark's items carry no `meta.{}` labels (MMLU-Redux's expert annotations), so the IRT flags are not checked against any",
            label_check::LABEL_FIELD
        ));
        return Ok(());
    }
    match &c.irt {
        None => c.notes.push(
            "the items carry expert labels, but the IRT flags can only be checked against them once IRT is fitted".into(),
        ),
        Some(irt) => {
            c.label_check = label_check::check(irt, &labels, label_check::LABEL_FIELD);
            if c.label_check.is_none() {
                c.notes.push(format!(
                    "none of the {} items IRT fitted carries a `meta.{}` label, so its flags are not checked",
                    irt.item_ids.len(),
                    label_check::LABEL_FIELD
                ));
            }
        }
    }
    Ok(())
}

/// One plain sentence on a pair, from its numbers.
fn reading(p: &PairRow, label: &[String], holm: bool) -> String {
    let c = &p.comparison;
    let (a, b) = (&label[p.a], &label[p.b]);
    if c.items == 0 {
        return format!("{b} and {a} answered no item in common.");
    }
    let p_part = if holm {
        format!(
            "McNemar p {} (Holm-adjusted {})",
            p_text(c.mcnemar_p),
            p_text(p.p_holm)
        )
    } else {
        format!("McNemar p {}", p_text(c.mcnemar_p))
    };
    let head = format!(
        "{b} {} against {a} {} on {} items: {} (95% interval {} to {}), {p_part}",
        pct(c.probed.accuracy),
        pct(c.baseline.accuracy),
        c.items,
        pts(c.difference),
        pts(c.interval.low),
        pts(c.interval.high),
    );
    let verdict = if c.right_to_wrong + c.wrong_to_right == 0 {
        "they got exactly the same items right, so there is no difference to test".to_string()
    } else if p.distinguishable {
        "distinguishable at this sample size".to_string()
    } else {
        match p.items_needed {
            Some(n) => format!(
                "not distinguishable at {} items; about {} items would be needed to detect a difference this size with 80% power",
                c.items, n as u64
            ),
            None => format!(
                "not distinguishable at {} items: the two runs got as many items right that the other got wrong",
                c.items
            ),
        }
    };
    format!("{head}; {verdict}.")
}

/// The comparison as text (`bedside compare`).
pub fn render_text(c: &Compared) -> String {
    let mut s = format!(
        "Comparison on {} ({} split), {} shared items, {} runs\n",
        c.benchmark,
        c.split,
        c.shared_items,
        c.runs.len()
    );
    for n in &c.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s.push_str("\nRuns (over the shared items; unanswered items left out of accuracy)\n");
    for (i, r) in c.runs.iter().enumerate() {
        let rep = &r.report;
        let acc = match (rep.accuracy, rep.wilson) {
            (Some(a), Some(w)) => format!(
                "{} {} [{}, {}] ({}/{})",
                rep.metric_name(),
                pct(a),
                pct(w.low),
                pct(w.high),
                rep.correct,
                rep.answered
            ),
            _ => "no answered item".into(),
        };
        let mut extra = Vec::new();
        if let Some(ch) = &rep.chance {
            extra.push(format!("chance {}", pct(ch.expected_accuracy)));
        }
        if let Some(m) = &rep.majority {
            extra.push(format!("always \"{}\" {}", m.answer, pct(m.accuracy)));
        }
        if let Some(cal) = &rep.calibration {
            extra.push(format!("ECE {:.3}, Brier {:.3}", cal.ece, cal.brier));
        }
        if rep.unextractable + rep.failed > 0 {
            extra.push(format!("{} unanswered", rep.unextractable + rep.failed));
        }
        s.push_str(&format!(
            "  {}. {}: {acc}; {}\n     {}\n",
            i + 1,
            r.label,
            extra.join("; "),
            r.file
        ));
    }
    s.push_str("\nPairs (paired on the items both answered)\n");
    for p in &c.pairs {
        let k = p
            .agreement
            .map(|g| {
                format!(
                    "agree on {} of items, Cohen's kappa {}",
                    pct(g.observed),
                    g.kappa
                        .map(|k| format!("{k:.2}"))
                        .unwrap_or_else(|| "undefined".into())
                )
            })
            .unwrap_or_default();
        s.push_str(&format!(
            "  {}\n    {} right only in {}, {} right only in {}; {k}\n",
            p.reading,
            p.comparison.wrong_to_right,
            c.runs[p.b].label,
            p.comparison.right_to_wrong,
            c.runs[p.a].label,
        ));
    }
    if !c.subjects.subjects.is_empty() {
        s.push_str("\nSubjects (accuracy [95% Wilson interval] (items))\n");
        for (j, subj) in c.subjects.subjects.iter().enumerate() {
            s.push_str(&format!("  {subj}\n"));
            for (i, r) in c.runs.iter().enumerate() {
                if let Some(x) = &c.subjects.cells[i][j] {
                    s.push_str(&format!("    {}: {}\n", r.label, rate(x)));
                }
            }
        }
    }
    if let Some(irt) = &c.irt {
        let f = &irt.fit;
        s.push_str(&format!(
            "\nItem response theory ({}, {} runs x {} items)\n",
            match f.model {
                irt::IrtModel::TwoPl => "2PL",
                irt::IrtModel::Rasch => "Rasch",
            },
            f.respondents,
            f.items_used
        ));
        for (r, a) in irt.runs.iter().map(|&i| &c.runs[i]).zip(&f.abilities) {
            s.push_str(&format!(
                "  {}: ability {:+.2} (SE {:.2})\n",
                r.label, a.theta, a.se
            ));
        }
        if irt.flagged.is_empty() {
            s.push_str("  no item has a clearly negative discrimination\n");
        } else {
            s.push_str(&format!(
                "  {} item(s) with negative discrimination (stronger runs got them wrong more often; check the key): {}\n",
                irt.flagged.len(),
                irt.flagged.join(", ")
            ));
        }
    }
    if let Some(l) = &c.label_check {
        s.push_str(&format!(
            "\nIRT flags against the experts' `{}` labels ({} fitted items: {} labelled ok or an error, {} left to an expert or unlabelled)\n  {}\n",
            l.field, l.fitted, l.labelled, l.unresolved, l.reading()
        ));
        for r in &l.labels {
            s.push_str(&format!(
                "  {}: {} item(s), {} flagged, mean discrimination {:+.2}\n",
                r.label, r.items, r.flagged, r.mean_discrimination
            ));
        }
    }
    if let Some(bt) = &c.bradley_terry {
        s.push_str(&format!(
            "\nBradley-Terry strengths (from {} decisive items; {} ties left out)\n",
            bt.comparisons, bt.ties
        ));
        let mut order: Vec<&bradley_terry::Strength> = bt.strengths.iter().collect();
        order.sort_by_key(|x| x.rank);
        for x in order {
            s.push_str(&format!(
                "  {}. {}: {:+.2} [{:+.2}, {:+.2}] ({} wins, {} losses)\n",
                x.rank, c.runs[x.player].label, x.strength, x.low, x.high, x.wins, x.losses
            ));
        }
    }
    let d = c.items.iter().filter(|i| i.disagree).count();
    s.push_str(&format!(
        "\n{d} of {} items got different outcomes across the runs (--csv writes every item with each run's answer)\n",
        c.items.len()
    ));
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The per-item table as CSV: id, subject, gold, then each run's answer, probability and outcome.
pub fn items_csv(c: &Compared) -> String {
    let mut head = vec![
        "id".to_string(),
        "subject".into(),
        "gold".into(),
        "gold_text".into(),
    ];
    for r in &c.runs {
        head.push(format!("{} answer", r.label));
        head.push(format!("{} probability", r.label));
        head.push(format!("{} correct", r.label));
    }
    head.push("disagree".into());
    let mut s = head
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for it in &c.items {
        let mut row = vec![
            it.id.clone(),
            it.subject.clone().unwrap_or_default(),
            it.gold.clone().unwrap_or_default(),
            it.gold_text.clone().unwrap_or_default(),
        ];
        for a in &it.answers {
            row.push(a.answer.clone().unwrap_or_default());
            row.push(a.probability.map(|p| format!("{p:.4}")).unwrap_or_default());
            row.push(match a.correct {
                Some(true) => "1".into(),
                Some(false) => "0".into(),
                None => String::new(),
            });
        }
        row.push(if it.disagree { "1" } else { "0" }.into());
        s += &(row
            .iter()
            .map(|f| csv_field(f))
            .collect::<Vec<_>>()
            .join(",")
            + "\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{header, rec};
    use crate::Method;
    use serde_json::json;

    /// A run of model `model` whose outcome on item i is `right[i]` (None: unextractable).
    fn run(model: &str, chat: bool, right: &[Option<bool>]) -> (RunHeader, Vec<ItemRecord>) {
        let mut h = header(Method::Loglik, chat);
        h.config.model.name = model.into();
        h.config.model.sha256 = model.into();
        h.config_hash = h.config.hash();
        let recs = right
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let pred = match r {
                    Some(true) => Some(1),
                    Some(false) => Some(2),
                    None => None,
                };
                let mut x = rec(
                    i,
                    1,
                    pred,
                    &["w", "x", "y", "z"],
                    json!({"probs": [0.1, if pred == Some(1) {0.6} else {0.2}, if pred == Some(2) {0.6} else {0.2}, 0.1],
                           "subject": if i % 2 == 0 {"anatomy"} else {"virology"}}),
                );
                if r.is_none() {
                    x.status = crate::record::Status::Unextractable;
                    x.probs = None;
                }
                x
            })
            .collect();
        (h, recs)
    }

    /// Exact two-sided McNemar computed here from the binomial sum, independently of the metrics crate.
    fn mcnemar_here(b: usize, c: usize) -> f64 {
        let n = b + c;
        if n == 0 {
            return 1.0;
        }
        let choose = |n: usize, k: usize| -> f64 {
            (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
        };
        let tail: f64 = (0..=b.min(c)).map(|k| choose(n, k)).sum::<f64>() / 2f64.powi(n as i32);
        (2.0 * tail).min(1.0)
    }

    fn outcomes(seed: u64, n: usize, p: f64) -> Vec<Option<bool>> {
        let mut r = bedside_bench::metrics::rng::Rng::new(seed);
        (0..n).map(|_| Some(r.unit() < p)).collect()
    }

    #[test]
    fn three_runs_are_paired_item_by_item_with_holm_kappa_and_power_recomputed_here() {
        let (ha, ra) = run("small", false, &outcomes(1, 60, 0.35));
        let (hb, rb) = run("small", true, &outcomes(2, 60, 0.55));
        let mut c_out = outcomes(3, 60, 0.8);
        c_out[5] = None; // one item the third run could not answer
        let (hc, rc) = run("large", false, &c_out);
        let inputs = [
            RunInput {
                file: "a.jsonl".into(),
                header: &ha,
                records: &ra,
            },
            RunInput {
                file: "b.jsonl".into(),
                header: &hb,
                records: &rb,
            },
            RunInput {
                file: "c.jsonl".into(),
                header: &hc,
                records: &rc,
            },
        ];
        let c = compare_runs(&inputs).unwrap();
        assert_eq!(c.shared_items, 60);
        let labels: Vec<&str> = c.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["small (no chat)", "small (chat)", "large"]);
        assert_eq!(c.pairs.len(), 3);
        let runs = [&ra, &rb, &rc];
        let mut raw = Vec::new();
        for p in &c.pairs {
            // Recompute from the records: items both answered, discordant counts.
            let (x, y) = (runs[p.a], runs[p.b]);
            let both: Vec<(bool, bool)> = x
                .iter()
                .zip(y.iter())
                .filter(|(r, s)| r.answered() && s.answered())
                .map(|(r, s)| (r.correct, s.correct))
                .collect();
            let b10 = both.iter().filter(|(u, v)| *u && !*v).count();
            let b01 = both.iter().filter(|(u, v)| !*u && *v).count();
            assert_eq!(p.comparison.items, both.len());
            assert_eq!(
                (p.comparison.right_to_wrong, p.comparison.wrong_to_right),
                (b10, b01)
            );
            let pv = mcnemar_here(b10, b01);
            assert!((p.comparison.mcnemar_p - pv).abs() < 1e-12);
            raw.push(pv);
            // Kappa from the 2x2 table.
            let n = both.len() as f64;
            let pa = both.iter().filter(|t| t.0).count() as f64 / n;
            let pb = both.iter().filter(|t| t.1).count() as f64 / n;
            let po = 1.0 - (b10 + b01) as f64 / n;
            let pe = pa * pb + (1.0 - pa) * (1.0 - pb);
            let k = p.agreement.unwrap().kappa.unwrap();
            assert!((k - (po - pe) / (1.0 - pe)).abs() < 1e-12);
            // Connor's formula.
            let (p10, p01) = (b10 as f64 / n, b01 as f64 / n);
            let (psi, d) = (p10 + p01, p10 - p01);
            let need = ((1.959_963_985 * psi.sqrt() + 0.841_621_234 * (psi - d * d).sqrt())
                .powi(2)
                / (d * d))
                .ceil();
            assert_eq!(p.items_needed, Some(need));
            assert!(p.reading.contains("Holm-adjusted"), "{}", p.reading);
        }
        assert_eq!(
            c.pairs[1].comparison.items, 59,
            "the unanswered item is left out of its pairs"
        );
        // Holm by hand: sort, multiply by m, m-1, 1, running max.
        let mut order: Vec<usize> = (0..3).collect();
        order.sort_by(|&i, &j| raw[i].total_cmp(&raw[j]));
        let mut run_max: f64 = 0.0;
        for (rank, &i) in order.iter().enumerate() {
            run_max = run_max.max(((3 - rank) as f64 * raw[i]).min(1.0));
            assert!((c.pairs[i].p_holm - run_max).abs() < 1e-12);
        }
        // The large run is clearly ahead of the small plain one.
        let big = c.pairs.iter().find(|p| p.a == 0 && p.b == 2).unwrap();
        assert!(big.distinguishable && big.reading.contains("distinguishable at this sample size"));
        // Subjects grid, items table, models.
        assert_eq!(c.subjects.subjects, ["anatomy", "virology"]);
        assert_eq!(c.subjects.cells[0][0].as_ref().unwrap().items, 30);
        assert_eq!(c.items[5].answers[2].correct, None);
        let dis = c.items.iter().filter(|i| i.disagree).count();
        assert!(dis > 0 && dis < 60);
        assert!(
            c.bradley_terry.is_some() && c.irt.is_some(),
            "{:?}",
            c.notes
        );
        let bt = c.bradley_terry.as_ref().unwrap();
        assert_eq!(bt.strengths[2].rank, 1, "the most accurate run ranks first");
        let text = render_text(&c);
        assert!(
            text.contains("Bradley-Terry") && text.contains("Item response theory"),
            "{text}"
        );
        let csv = items_csv(&c);
        assert_eq!(csv.lines().count(), 61);
        assert!(csv.lines().next().unwrap().contains("small (chat) correct"));
    }

    #[test]
    fn different_benchmarks_or_splits_are_refused_and_item_sets_are_intersected() {
        let (ha, ra) = run("a", false, &outcomes(1, 10, 0.5));
        let (mut hb, rb) = run("b", false, &outcomes(2, 10, 0.5));
        hb.config.benchmark.hash = "other".into();
        let e = compare_runs(&[
            RunInput {
                file: "a.jsonl".into(),
                header: &ha,
                records: &ra,
            },
            RunInput {
                file: "b.jsonl".into(),
                header: &hb,
                records: &rb,
            },
        ])
        .unwrap_err();
        assert!(
            e.contains("b.jsonl is a run of benchmark") && e.contains("same benchmark"),
            "{e}"
        );
        hb.config.benchmark.hash = ha.config.benchmark.hash.clone();
        hb.config.benchmark.split = "dev".into();
        let e = compare_runs(&[
            RunInput {
                file: "a.jsonl".into(),
                header: &ha,
                records: &ra,
            },
            RunInput {
                file: "b.jsonl".into(),
                header: &hb,
                records: &rb,
            },
        ])
        .unwrap_err();
        assert!(e.contains("split"), "{e}");
        hb.config.benchmark.split = "test".into();
        let c = compare_runs(&[
            RunInput {
                file: "a.jsonl".into(),
                header: &ha,
                records: &ra,
            },
            RunInput {
                file: "b.jsonl".into(),
                header: &hb,
                records: &rb[..6],
            },
        ])
        .unwrap();
        assert_eq!((c.shared_items, c.unshared_items), (6, 4));
        assert!(
            c.notes[0].contains("4 item(s) are not in every run"),
            "{:?}",
            c.notes
        );
        assert!(c.notes.iter().any(|n| n.contains("at least 3 runs")));
        assert!(c.irt.is_none() && c.bradley_terry.is_none());
        assert!(compare_runs(&[RunInput {
            file: "a".into(),
            header: &ha,
            records: &ra
        }])
        .is_err());
        // Three runs that differ on only two items: no IRT abilities from two items, and the note says so.
        let same = outcomes(9, 20, 0.5);
        let mut other = same.clone();
        other[0] = other[0].map(|x| !x);
        other[1] = other[1].map(|x| !x);
        let (h1, r1) = run("p", false, &same);
        let (h2, r2) = run("q", false, &other);
        let (h3, r3) = run("r", false, &same);
        let c = compare_runs(&[
            RunInput {
                file: "1".into(),
                header: &h1,
                records: &r1,
            },
            RunInput {
                file: "2".into(),
                header: &h2,
                records: &r2,
            },
            RunInput {
                file: "3".into(),
                header: &h3,
                records: &r3,
            },
        ])
        .unwrap();
        assert!(c.irt.is_none());
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("only 2 item(s) got different outcomes")),
            "{:?}",
            c.notes
        );
    }

    /// A benchmark of `n` items `q0..` whose `meta.error_type` is `label(i)`.
    fn labelled_bench(n: usize, label: impl Fn(usize) -> &'static str) -> Benchmark {
        let shard: String = (0..n)
            .map(|i| {
                json!({"id": format!("q{i}"), "question": format!("question {i}?"), "options": ["w", "x", "y", "z"],
                       "answer": 1, "meta": {"error_type": label(i)}})
                .to_string()
                    + "\n"
            })
            .collect();
        // No manifest: the split comes from the shard's name, the task is mcq.
        let files = bedside_bench::benchmark::BenchmarkFiles {
            manifest: None,
            shards: [("test-000.jsonl".to_string(), shard.into_bytes())].into(),
        };
        let (b, problems, _) = bedside_bench::benchmark::validate(&files, &Default::default());
        b.unwrap_or_else(|| panic!("{problems:?}"))
    }

    #[test]
    fn irt_flags_are_checked_against_expert_labels() {
        // 12 runs of rising skill over 80 items; items 0..8 are keyed wrong (the better a run, the more
        // often it "misses" them) and labelled so; items 8..10 are left to an expert.
        let n = 80;
        let label = |i: usize| match i {
            0..=7 => "Wrong Groundtruth",
            8 | 9 => "expert",
            _ => "OK",
        };
        let runs: Vec<(RunHeader, Vec<ItemRecord>)> = (0..12)
            .map(|k| {
                let skill = 0.15 + 0.06 * k as f64;
                let mut r = bedside_bench::metrics::rng::Rng::new(500 + k as u64);
                let right: Vec<Option<bool>> = (0..n)
                    .map(|i| {
                        let u = r.unit();
                        Some(if i < 8 { u > skill } else { u < skill })
                    })
                    .collect();
                run(&format!("m{k}"), false, &right)
            })
            .collect();
        let inputs: Vec<RunInput> = runs
            .iter()
            .enumerate()
            .map(|(k, (h, r))| RunInput {
                file: format!("m{k}.jsonl"),
                header: h,
                records: r,
            })
            .collect();
        let mut c = compare_runs(&inputs).unwrap();
        let bench = labelled_bench(n, label);
        let e = check_labels(&mut c, &bench, "not-h").unwrap_err();
        assert!(e.contains("not the one the runs were made on"), "{e}");
        // Twelve runs are too few for the flag to clear its threshold reliably (irt.rs's recovery tests
        // need 40 and more): set the fitted discriminations here, so the check's counts are known.
        let idx = |id: &str| id[1..].parse::<usize>().unwrap();
        {
            let irt = c.irt.as_mut().unwrap();
            assert_eq!(irt.fit.model, irt::IrtModel::TwoPl);
            for (p, id) in irt.fit.items.iter_mut().zip(&irt.item_ids) {
                let i = idx(id);
                // Errors 0..6 flagged (below every ok item), 6..8 not flagged but still low; one ok
                // item (10) flagged too; the rest spread over [0.5, 1.5).
                p.discrimination = match i {
                    0..=5 => -2.0 + 0.1 * i as f64,
                    6 | 7 => 0.1,
                    10 => -1.0,
                    _ => 0.5 + (i % 10) as f64 / 10.0,
                };
                p.negative_discrimination = i <= 5 || i == 10;
            }
        }
        check_labels(&mut c, &bench, "h").unwrap();
        let irt = c.irt.as_ref().unwrap();
        let l = c.label_check.as_ref().expect("a label check");
        // The table, recounted here from the fit's items and the labels.
        let fitted: Vec<usize> = irt.item_ids.iter().map(|id| idx(id)).collect();
        let counted: Vec<usize> = fitted
            .iter()
            .copied()
            .filter(|i| !(8..10).contains(i))
            .collect();
        let errors = counted.iter().filter(|&&i| i < 8).count();
        let flagged_errors = counted.iter().filter(|&&i| i <= 5).count();
        let flagged_ok = counted.iter().filter(|&&i| i == 10).count();
        assert_eq!(l.fitted, fitted.len());
        assert_eq!(l.labelled, counted.len());
        assert_eq!(l.unresolved, fitted.len() - counted.len());
        assert_eq!(l.errors, errors);
        assert_eq!(
            (l.flagged, l.flagged_errors),
            (flagged_errors + flagged_ok, flagged_errors)
        );
        // Fisher's one-sided p from the hypergeometric tail, computed here.
        let (nl, k) = (counted.len() as u64, (flagged_errors + flagged_ok) as u64);
        let ch = |n: u64, r: u64| -> f64 {
            (0..r).fold(1.0, |a, j| a * (n - j) as f64 / (j + 1) as f64)
        };
        let tail: f64 = (flagged_errors as u64..=k.min(errors as u64))
            .map(|x| ch(errors as u64, x) * ch(nl - errors as u64, k - x) / ch(nl, k))
            .sum();
        assert!(
            (l.fisher_p - tail).abs() < 1e-9 * tail.max(1e-12),
            "{} vs {tail}",
            l.fisher_p
        );
        // AUC by pair counting: an error item's discrimination below an ok item's.
        let disc: HashMap<usize, f64> = irt
            .item_ids
            .iter()
            .zip(&irt.fit.items)
            .map(|(id, p)| (idx(id), p.discrimination))
            .collect();
        let (mut wins, mut pairs) = (0.0, 0.0);
        for &e in counted.iter().filter(|&&i| i < 8) {
            for &o in counted.iter().filter(|&&i| i >= 10) {
                pairs += 1.0;
                wins += if disc[&e] < disc[&o] {
                    1.0
                } else if disc[&e] == disc[&o] {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert!((l.auc.unwrap() - wins / pairs).abs() < 1e-12);
        let wrong = l
            .labels
            .iter()
            .find(|r| r.label == "wrong_groundtruth")
            .unwrap();
        assert_eq!((wrong.items, wrong.flagged), (errors, flagged_errors));
        assert!(
            l.reading().contains(&format!(
                "{flagged_errors} of {} flagged items are labelled errors",
                flagged_errors + flagged_ok
            )),
            "{}",
            l.reading()
        );
        let text = render_text(&c);
        assert!(
            text.contains("IRT flags against the experts' `error_type` labels"),
            "{text}"
        );
        // Without labels: a note, no check.
        let mut c2 = compare_runs(&inputs).unwrap();
        let plain = labelled_bench(n, |_| "");
        check_labels(&mut c2, &plain, "h").unwrap();
        assert!(c2.label_check.is_none());
        assert!(
            c2.notes.iter().any(|x| x.contains("no `meta.error_type`")),
            "{:?}",
            c2.notes
        );
    }

    #[test]
    fn a_run_that_answered_nothing_is_left_out_of_irt_and_bradley_terry() {
        // The second run failed every item (a base model asked for its chat template, say).
        let (h0, r0) = run("a", false, &outcomes(11, 60, 0.3));
        let (h1, r1) = run("dead", false, &[None; 60]);
        let (h2, r2) = run("b", false, &outcomes(12, 60, 0.5));
        let (h3, r3) = run("c", false, &outcomes(13, 60, 0.7));
        let hs = [(&h0, &r0), (&h1, &r1), (&h2, &r2), (&h3, &r3)];
        let inputs: Vec<RunInput> = hs
            .iter()
            .enumerate()
            .map(|(k, (h, r))| RunInput {
                file: format!("r{k}.jsonl"),
                header: h,
                records: r,
            })
            .collect();
        let c = compare_runs(&inputs).unwrap();
        assert!(
            c.notes
                .iter()
                .any(|n| n.starts_with("dead answered none of the shared items")),
            "{:?}",
            c.notes
        );
        let irt = c
            .irt
            .as_ref()
            .expect("IRT over the three runs that answered");
        assert_eq!(irt.runs, [0, 2, 3]);
        assert_eq!(irt.fit.respondents, 3);
        let bt = c.bradley_terry.as_ref().unwrap();
        let players: Vec<usize> = bt.strengths.iter().map(|x| x.player).collect();
        assert_eq!(players, [0, 2, 3]);
        // The most accurate run (c, index 3) ranks first; intervals stay finite and narrow-ish.
        let top = bt.strengths.iter().find(|x| x.rank == 1).unwrap();
        assert_eq!(top.player, 3);
        assert!(bt.strengths.iter().all(|x| x.high - x.low < 2.0), "{bt:?}");
        let text = render_text(&c);
        assert!(!text.contains("dead: ability"), "{text}");
    }
}
