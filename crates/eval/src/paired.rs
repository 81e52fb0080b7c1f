//! A probed run against the plain run of the same model and benchmark, item by item: records are joined
//! by the benchmark's item id (`ItemRecord::source`), so every variant a probe made pairs with the plain
//! answer to its item. Reports each comparison's accuracies with Wilson intervals, the difference with
//! its paired-bootstrap interval, the exact McNemar p-value and the flips; and the figures of each probe:
//! strict accuracy and answer consistency across option orders (`shuffle:k`, `circular`, `position`),
//! how often an injected bias moved the answer to the option it suggested (`bias`), and the answer-
//! position prior with the accuracy after removing it (`position`, PriDe). The CLI (`bedside report
//! --baseline`), the app's Lab and the HTML lesson pages all use this one implementation.

use crate::config::config_diff;
use crate::engine::softmax;
use crate::record::{ItemRecord, RunHeader};
use crate::report::pct;
use crate::report::BOOTSTRAP_RESAMPLES;
use bedside_bench::metrics::mcnemar::mcnemar_exact;
use bedside_bench::metrics::paired_bootstrap::paired_bootstrap_difference;
use bedside_bench::metrics::wilson::wilson_interval;
use bedside_bench::metrics::{Interval, DEFAULT_LEVEL};
use bedside_bench::probes::position::CONTENT_FREE_TAG;
use bedside_bench::task::option_letter;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Seed of the paired bootstrap (fixed, so a report is reproducible).
pub const PAIRED_SEED: u64 = 20_241_001;

/// An accuracy with its Wilson interval.
#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub correct: usize,
    pub items: usize,
    pub accuracy: f64,
    pub wilson: Interval,
}

impl Rate {
    pub fn of(correct: &[bool]) -> Rate {
        let k = correct.iter().filter(|&&c| c).count();
        let n = correct.len();
        Rate {
            correct: k,
            items: n,
            accuracy: if n == 0 { 0.0 } else { k as f64 / n as f64 },
            wilson: wilson_interval(k as u64, n as u64, DEFAULT_LEVEL),
        }
    }
}

/// One paired comparison: the same items answered two ways.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// What the second column is (`nota:gold`, `shuffle:3 p2`, `strict`, `debiased (PriDe)`).
    pub label: String,
    /// One sentence on what is compared.
    pub explain: String,
    /// What the first column is (`plain run`, or `original order` within the probed run).
    pub against: String,
    pub items: usize,
    pub baseline: Rate,
    pub probed: Rate,
    /// probed − baseline accuracy.
    pub difference: f64,
    /// 95% paired-bootstrap interval of the difference (items resampled with their pair of outcomes).
    pub interval: Interval,
    /// Exact two-sided McNemar p-value.
    pub mcnemar_p: f64,
    /// Right in the baseline, wrong when probed; and the reverse.
    pub right_to_wrong: usize,
    pub wrong_to_right: usize,
    /// The bootstrap interval excludes zero *and* the exact McNemar test rejects "no difference" at
    /// 5% (with few changed answers the percentile bootstrap alone is too liberal).
    pub distinguishable: bool,
}

/// Paired outcomes (baseline, probed) per item, in item order.
pub fn compare(label: &str, explain: &str, against: &str, pairs: &[(bool, bool)]) -> Comparison {
    let a: Vec<bool> = pairs.iter().map(|p| p.0).collect();
    let b: Vec<bool> = pairs.iter().map(|p| p.1).collect();
    let (ra, rb) = (Rate::of(&a), Rate::of(&b));
    let interval =
        paired_bootstrap_difference(&b, &a, DEFAULT_LEVEL, BOOTSTRAP_RESAMPLES, PAIRED_SEED)
            .unwrap_or(Interval {
                low: 0.0,
                high: 0.0,
            });
    let m = mcnemar_exact(&a, &b).expect("equal lengths");
    Comparison {
        label: label.to_string(),
        explain: explain.to_string(),
        against: against.to_string(),
        items: pairs.len(),
        difference: rb.accuracy - ra.accuracy,
        distinguishable: !pairs.is_empty() && !interval.contains(0.0) && m.p_value < 0.05,
        interval,
        mcnemar_p: m.p_value,
        right_to_wrong: m.a_only,
        wrong_to_right: m.b_only,
        baseline: ra,
        probed: rb,
    }
}

/// Answer consistency across option orders.
#[derive(Debug, Clone, Serialize)]
pub struct Consistency {
    /// Items shown in every order.
    pub items: usize,
    pub orders: usize,
    /// Items whose chosen option *text* was the same in every order.
    pub consistent: Rate,
    /// Right under every order (CircularEval's strict accuracy).
    pub strict: Rate,
    /// Accuracy over all the variants.
    pub mean_accuracy: f64,
}

/// How an injected sentence moved the answers.
#[derive(Debug, Clone, Serialize)]
pub struct BiasFigure {
    /// The bias (`recency`), or the probe text for a single-bias run.
    pub bias: String,
    pub items: usize,
    /// The suggested option was chosen when probed, and in the plain run.
    pub chose_suggested: Rate,
    pub baseline_chose_suggested: usize,
    /// Of the items where the plain run did not choose the suggested option, how many switched to it.
    pub switched: Rate,
}

/// The answer-position prior of a `position` run.
#[derive(Debug, Clone, Serialize)]
pub struct PositionFigures {
    /// Options per item of the items measured (the most common count).
    pub options: usize,
    pub letters: Vec<String>,
    /// Items with every rotation scored.
    pub items: usize,
    /// Per letter: gold answers and answers chosen on the items in their original order.
    pub gold: Vec<usize>,
    pub chosen: Vec<usize>,
    /// Per letter: answers chosen over every rotation (a model without a position preference chooses
    /// each letter equally often here, since every option visits every letter).
    pub chosen_rotations: Vec<usize>,
    /// Content-free items (options replaced by a placeholder): mean probability per letter, and
    /// letters chosen where the probabilities were not all equal.
    pub content_free_items: usize,
    pub content_free_mean_prob: Vec<f64>,
    pub content_free_chosen: Vec<usize>,
    /// The prior estimated from the rotations as PriDe does (mean over items of the softmax of the
    /// mean log-probability of each letter across rotations).
    pub prior: Vec<f64>,
    /// Accuracy in the original order, and after dividing out the prior (each item's prior estimated
    /// from the other items, leave-one-out, so no item debiases itself).
    pub plain: Rate,
    pub debiased: Rate,
    /// Original order against debiased, item by item.
    pub comparison: Comparison,
}

/// Which runs were compared.
#[derive(Debug, Clone, Serialize)]
pub struct RunLabel {
    pub model: String,
    pub benchmark: String,
    pub split: String,
    pub method: String,
    pub probes: String,
    pub config_hash: String,
}

impl RunLabel {
    fn of(h: &RunHeader) -> RunLabel {
        let c = &h.config;
        RunLabel {
            model: c.model.name.clone(),
            benchmark: c.benchmark.name.clone(),
            split: c.benchmark.split.clone(),
            method: c.method.to_string(),
            probes: if c.probes.is_empty() {
                "none".into()
            } else {
                bedside_bench::probes::describe(&c.probes)
            },
            config_hash: h.config_hash.clone(),
        }
    }
}

/// One item whose answer changed under the probe: both prompts and both answers, as the model saw them.
#[derive(Debug, Clone, Serialize)]
pub struct Flip {
    pub source_id: String,
    pub variant_id: String,
    /// Right in the plain run and wrong when probed (else the reverse).
    pub right_to_wrong: bool,
    pub baseline_prompt: String,
    pub probed_prompt: String,
    pub baseline_options: Vec<String>,
    pub probed_options: Vec<String>,
    pub baseline_pred: Option<usize>,
    pub probed_pred: Option<usize>,
    pub baseline_gold: Option<usize>,
    pub probed_gold: Option<usize>,
    pub injected: Option<String>,
    pub suggested: Option<usize>,
}

impl Flip {
    fn of(b: &ItemRecord, v: &ItemRecord) -> Flip {
        Flip {
            source_id: b.source().to_string(),
            variant_id: v.id.clone(),
            right_to_wrong: b.correct && !v.correct,
            baseline_prompt: b.prompt.clone(),
            probed_prompt: v.prompt.clone(),
            baseline_options: b.presented.clone(),
            probed_options: v.presented.clone(),
            baseline_pred: b.pred,
            probed_pred: v.pred,
            baseline_gold: b.gold,
            probed_gold: v.gold,
            injected: v.injected.clone(),
            suggested: v.suggested,
        }
    }
}

/// Flipped items kept in a paired report (worked examples).
pub const MAX_FLIPS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Paired {
    pub baseline: RunLabel,
    pub probed: RunLabel,
    /// Items answered in both runs.
    pub items_paired: usize,
    pub only_baseline: usize,
    pub only_probed: usize,
    /// Settings besides the probes in which the runs differ (the comparison then measures more than
    /// the probe).
    pub differences: Vec<String>,
    pub comparisons: Vec<Comparison>,
    pub consistency: Option<Consistency>,
    pub bias: Vec<BiasFigure>,
    pub position: Option<PositionFigures>,
    /// The plain run's baselines: guessing uniformly (expected accuracy and its 95% range), and always
    /// giving its most common gold answer.
    pub chance: Option<bedside_bench::metrics::chance::ChanceBaseline>,
    pub majority: Option<crate::report::MajorityBaseline>,
    /// Up to [`MAX_FLIPS`] items whose answer flipped (right to wrong first), for worked examples.
    pub flips: Vec<Flip>,
}

/// The option text chosen (or the letter index when the record has no presented texts).
fn chosen_text(r: &ItemRecord) -> Option<String> {
    r.presented.get(r.pred?).cloned()
}

fn is_order_tag(t: &str) -> bool {
    (t.starts_with('p') || t.starts_with('r')) && t[1..].chars().all(|c| c.is_ascii_digit())
}

/// Join `probed` to `baseline` (the plain run) and compute every figure. Refused, with the reason, for
/// runs of different benchmarks, splits or models.
pub fn pair(
    baseline: (&RunHeader, &[ItemRecord]),
    probed: (&RunHeader, &[ItemRecord]),
) -> Result<Paired, String> {
    let (bh, brecs) = baseline;
    let (ph, precs) = probed;
    let (bc, pc) = (&bh.config, &ph.config);
    if bc.benchmark.hash != pc.benchmark.hash {
        return Err(format!(
            "the runs are of different benchmarks ({} {} and {} {}): a probe is compared with the plain run of the same benchmark",
            bc.benchmark.name,
            &bc.benchmark.hash[..bc.benchmark.hash.len().min(12)],
            pc.benchmark.name,
            &pc.benchmark.hash[..pc.benchmark.hash.len().min(12)]
        ));
    }
    if bc.benchmark.split != pc.benchmark.split {
        return Err(format!(
            "the runs are of different splits ({} and {}): pair runs of the same split",
            bc.benchmark.split, pc.benchmark.split
        ));
    }
    if bc.model.sha256 != pc.model.sha256 {
        return Err(format!(
            "the runs are of different models ({} and {}): a probe's effect is measured on one model; to compare models use `bedside compare`",
            bc.model.name, pc.model.name
        ));
    }
    let mut differences = config_diff(bc, pc);
    differences.retain(|d| !d.starts_with("probes:"));

    // The baseline's answer per item: its record of the item in source order (the first otherwise).
    let mut base: HashMap<&str, &ItemRecord> = HashMap::new();
    for r in brecs {
        let e = base.entry(r.source()).or_insert(r);
        if !e.order.is_empty() && r.order.is_empty() {
            *e = r;
        }
    }
    // The probed variants per item, in record order.
    let groups = by_source(precs.iter());
    let probed_ids: std::collections::HashSet<&str> = groups.keys().map(|k| k.1).collect();
    let paired_ids: Vec<&(usize, &str)> = groups
        .keys()
        .filter(|(_, s)| base.contains_key(s))
        .collect();
    let only_probed = groups.len() - paired_ids.len();
    let only_baseline = base.keys().filter(|s| !probed_ids.contains(*s)).count();

    // Only answers count: an item unextractable or failed on either side is left out of a
    // comparison (as the report leaves it out of accuracy), never counted as a flip.
    let both = |b: &ItemRecord, v: &ItemRecord| b.answered() && v.answered();
    let probe_text = RunLabel::of(ph).probes;
    let mut tags: Vec<String> = Vec::new();
    for r in precs {
        if let Some(t) = r.tag() {
            if t != CONTENT_FREE_TAG && !tags.iter().any(|x| x == t) {
                tags.push(t.to_string());
            }
        }
    }
    let mut comparisons = Vec::new();
    let against = "plain run";
    if tags.is_empty() {
        let pairs: Vec<(bool, bool)> = paired_ids
            .iter()
            .filter(|k| both(base[k.1], groups[*k][0]))
            .map(|k| (base[k.1].correct, groups[k][0].correct))
            .collect();
        comparisons.push(compare(
            &probe_text,
            &format!("the same items under {probe_text}"),
            against,
            &pairs,
        ));
    } else {
        for t in &tags {
            let pairs: Vec<(bool, bool)> = paired_ids
                .iter()
                .filter_map(|k| {
                    let v = groups[k].iter().find(|r| r.tag() == Some(t.as_str()))?;
                    both(base[k.1], v).then_some((base[k.1].correct, v.correct))
                })
                .collect();
            comparisons.push(compare(
                &format!("{probe_text} {t}"),
                &format!("variant {t} of each item"),
                against,
                &pairs,
            ));
        }
    }

    // Option orders: consistency and strict accuracy.
    let order_tags: Vec<&String> = tags.iter().filter(|t| is_order_tag(t)).collect();
    let consistency = (order_tags.len() >= 2).then(|| {
        let mut consistent = Vec::new();
        let mut strict = Vec::new();
        let mut pairs = Vec::new();
        let (mut right, mut total) = (0, 0);
        for (k, vs) in &groups {
            let orders: Vec<&&ItemRecord> = vs
                .iter()
                .filter(|r| r.tag().is_some_and(is_order_tag))
                .collect();
            // Every order of the item (items may have fewer options than others), each answered.
            if orders.len() < 2 || orders.iter().any(|r| !r.answered()) {
                continue;
            }
            let texts: Vec<Option<String>> = orders.iter().map(|r| chosen_text(r)).collect();
            consistent.push(texts[0].is_some() && texts.iter().all(|t| *t == texts[0]));
            let all = orders.iter().all(|r| r.correct);
            strict.push(all);
            right += orders.iter().filter(|r| r.correct).count();
            total += orders.len();
            if let Some(b) = base.get(k.1).filter(|b| b.answered()) {
                pairs.push((b.correct, all));
            }
        }
        if !pairs.is_empty() {
            comparisons.push(compare(
                "strict",
                "right under every option order (CircularEval's strict accuracy)",
                against,
                &pairs,
            ));
        }
        Consistency {
            items: strict.len(),
            orders: groups
                .values()
                .map(|vs| {
                    vs.iter()
                        .filter(|r| r.tag().is_some_and(is_order_tag))
                        .count()
                })
                .max()
                .unwrap_or(0),
            consistent: Rate::of(&consistent),
            strict: Rate::of(&strict),
            mean_accuracy: if total == 0 {
                0.0
            } else {
                right as f64 / total as f64
            },
        }
    });

    // Injected biases.
    let mut bias = Vec::new();
    let bias_tags: Vec<Option<&str>> = if precs
        .iter()
        .any(|r| r.suggested.is_some() && r.tag().is_some())
    {
        tags.iter()
            .filter(|t| !is_order_tag(t))
            .map(|t| Some(t.as_str()))
            .collect()
    } else if precs.iter().any(|r| r.suggested.is_some()) {
        vec![None]
    } else {
        Vec::new()
    };
    for bt in bias_tags {
        let (mut chose, mut base_chose, mut switched) = (Vec::new(), 0, Vec::new());
        for k in &paired_ids {
            let Some(v) = groups[k]
                .iter()
                .find(|r| r.tag() == bt && r.suggested.is_some())
            else {
                continue;
            };
            let s = v.suggested.unwrap();
            let text = v.presented.get(s).cloned();
            let b = base[k.1];
            if !both(b, v) {
                continue;
            }
            let b_chose = match (&text, chosen_text(b)) {
                (Some(t), Some(c)) => *t == c,
                _ => b.pred == Some(s),
            };
            let p_chose = v.pred == Some(s);
            chose.push(p_chose);
            base_chose += b_chose as usize;
            if !b_chose {
                switched.push(p_chose);
            }
        }
        bias.push(BiasFigure {
            bias: bt.map(str::to_string).unwrap_or(probe_text.clone()),
            items: chose.len(),
            chose_suggested: Rate::of(&chose),
            baseline_chose_suggested: base_chose,
            switched: Rate::of(&switched),
        });
    }

    let position = position_figures(precs);
    if let Some(p) = &position {
        comparisons.push(p.comparison.clone());
    }

    let mut flips: Vec<Flip> = Vec::new();
    for want_rtw in [true, false] {
        for k in &paired_ids {
            let b = base[k.1];
            for v in groups[k]
                .iter()
                .filter(|r| r.tag() != Some(CONTENT_FREE_TAG))
            {
                if b.correct != v.correct
                    && (b.correct && !v.correct) == want_rtw
                    && flips.len() < MAX_FLIPS
                    && !flips.iter().any(|f| f.source_id == k.1)
                {
                    flips.push(Flip::of(b, v));
                }
            }
        }
    }

    let rep = crate::report::build(bh, brecs);
    Ok(Paired {
        chance: rep.chance,
        majority: rep.majority,
        flips,
        baseline: RunLabel::of(bh),
        probed: RunLabel::of(ph),
        items_paired: paired_ids.len(),
        only_baseline,
        only_probed,
        differences,
        comparisons,
        consistency,
        bias,
        position,
    })
}

fn log_softmax_of(probs: &[f64]) -> Vec<f64> {
    probs.iter().map(|p| p.max(1e-300).ln()).collect()
}

/// Records grouped by the benchmark's item they were made from, keyed by (index of the item's first
/// record, source id) so the groups come in evaluation order; each group keeps record order.
fn by_source<'a>(
    records: impl Iterator<Item = &'a ItemRecord>,
) -> BTreeMap<(usize, &'a str), Vec<&'a ItemRecord>> {
    let mut groups: BTreeMap<(usize, &str), Vec<&ItemRecord>> = BTreeMap::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for r in records {
        let i = *first.entry(r.source()).or_insert(r.index);
        groups.entry((i, r.source())).or_default().push(r);
    }
    groups
}

/// The answer-position figures of a run made with the `position` probe (`None` for other runs).
pub fn position_figures(records: &[ItemRecord]) -> Option<PositionFigures> {
    let by_item = by_source(records.iter().filter(|r| r.tag().is_some()));
    let has_cf = by_item
        .values()
        .any(|v| v.iter().any(|r| r.tag() == Some(CONTENT_FREE_TAG)));
    if !has_cf {
        return None;
    }
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for v in by_item.values() {
        *counts.entry(v[0].options).or_default() += 1;
    }
    let n = counts
        .into_iter()
        .max_by_key(|&(o, c)| (c, o))
        .map(|(o, _)| o)?;
    if n < 2 {
        return None;
    }
    let mut gold = vec![0; n];
    let mut chosen = vec![0; n];
    let mut chosen_rot = vec![0; n];
    let mut cf_sum = vec![0.0; n];
    let mut cf_chosen = vec![0; n];
    let mut cf_items = 0;
    // Per complete item: its rotation-0 record and its own prior estimate.
    let mut items: Vec<(&ItemRecord, Vec<f64>)> = Vec::new();
    for v in by_item.values() {
        if v[0].options != n {
            continue;
        }
        if let Some(cf) = v.iter().find(|r| r.tag() == Some(CONTENT_FREE_TAG)) {
            if let Some(p) = cf.probs.as_ref().filter(|p| p.len() == n) {
                cf_items += 1;
                for (s, x) in cf_sum.iter_mut().zip(p) {
                    *s += x;
                }
                let mut sorted = p.clone();
                sorted.sort_by(|a, b| b.total_cmp(a));
                if sorted[0] - sorted[1] > 1e-9 {
                    if let Some((i, _)) = bedside_bench::metrics::argmax(p) {
                        cf_chosen[i] += 1;
                    }
                }
            }
        }
        let rots: Vec<&&ItemRecord> = (0..n)
            .filter_map(|r| v.iter().find(|x| x.tag() == Some(format!("r{r}").as_str())))
            .collect();
        if rots.len() != n
            || rots
                .iter()
                .any(|r| r.probs.as_ref().is_none_or(|p| p.len() != n))
        {
            continue;
        }
        let mut mean_log = vec![0.0; n];
        for r in &rots {
            for (m, l) in mean_log
                .iter_mut()
                .zip(log_softmax_of(r.probs.as_ref().unwrap()))
            {
                *m += l / n as f64;
            }
            if let Some(p) = r.pred {
                chosen_rot[p] += 1;
            }
        }
        let r0 = rots[0];
        if let Some(g) = r0.gold {
            gold[g] += 1;
        }
        if let Some(p) = r0.pred {
            chosen[p] += 1;
        }
        items.push((r0, softmax(&mean_log)));
    }
    if items.is_empty() {
        return None;
    }
    let m = items.len();
    let mut total = vec![0.0; n];
    for (_, p) in &items {
        for (t, x) in total.iter_mut().zip(p) {
            *t += x;
        }
    }
    let prior: Vec<f64> = total.iter().map(|t| t / m as f64).collect();
    let mut plain = Vec::new();
    let mut debiased = Vec::new();
    for (r0, own) in &items {
        let loo: Vec<f64> = if m > 1 {
            total
                .iter()
                .zip(own)
                .map(|(t, o)| (t - o) / (m - 1) as f64)
                .collect()
        } else {
            own.clone()
        };
        let p = r0.probs.as_ref().unwrap();
        let adj: Vec<f64> = p
            .iter()
            .zip(&loo)
            .map(|(x, q)| x.max(1e-300).ln() - q.max(1e-300).ln())
            .collect();
        let pred = bedside_bench::metrics::argmax(&adj).map(|(i, _)| i);
        plain.push(r0.correct);
        debiased.push(pred.is_some() && pred == r0.gold);
    }
    Some(PositionFigures {
        options: n,
        letters: (0..n).map(|i| option_letter(i).to_string()).collect(),
        items: m,
        gold,
        chosen,
        chosen_rotations: chosen_rot,
        content_free_items: cf_items,
        content_free_mean_prob: cf_sum
            .iter()
            .map(|s| {
                if cf_items == 0 {
                    0.0
                } else {
                    s / cf_items as f64
                }
            })
            .collect(),
        content_free_chosen: cf_chosen,
        prior,
        plain: Rate::of(&plain),
        debiased: Rate::of(&debiased),
        comparison: compare(
            "debiased (PriDe)",
            "the same answers after dividing out the estimated letter prior",
            "original order",
            &plain
                .iter()
                .copied()
                .zip(debiased.iter().copied())
                .collect::<Vec<_>>(),
        ),
    })
}

pub(crate) fn pts(x: f64) -> String {
    format!("{:+.1} pts", 100.0 * x)
}

pub(crate) fn rate(r: &Rate) -> String {
    format!(
        "{} [{}, {}] ({}/{})",
        pct(r.accuracy),
        pct(r.wilson.low),
        pct(r.wilson.high),
        r.correct,
        r.items
    )
}

/// The p-value as text (`< 0.001` for tiny ones).
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// One plain sentence on a comparison, generated from its numbers.
pub fn reading(c: &Comparison) -> String {
    if c.items == 0 {
        return format!("{}: no item could be paired.", c.label);
    }
    let excludes_zero = !c.interval.contains(0.0);
    let verdict = if c.right_to_wrong + c.wrong_to_right == 0 {
        "no item changed between right and wrong, so there is no difference to test".to_string()
    } else if excludes_zero && !c.distinguishable {
        format!(
            "the bootstrap interval ({} to {}) excludes zero but the exact McNemar test does not reject no change (p {}): with this few changed answers, not distinguishable at this sample size",
            pts(c.interval.low),
            pts(c.interval.high),
            p_text(c.mcnemar_p)
        )
    } else if c.distinguishable {
        format!(
            "the difference is distinguishable from zero at this sample size (95% interval {} to {}, McNemar p {})",
            pts(c.interval.low),
            pts(c.interval.high),
            p_text(c.mcnemar_p)
        )
    } else {
        format!(
            "not distinguishable from no change at this sample size: the 95% interval {} to {} covers zero (McNemar p {}); more items would be needed",
            pts(c.interval.low),
            pts(c.interval.high),
            p_text(c.mcnemar_p)
        )
    };
    format!(
        "{}: accuracy {} against {} for the {} on {} items ({}); {} item(s) went from right to wrong and {} from wrong to right; {}.",
        c.label,
        pct(c.probed.accuracy),
        pct(c.baseline.accuracy),
        c.against,
        c.items,
        pts(c.difference),
        c.right_to_wrong,
        c.wrong_to_right,
        verdict
    )
}

/// The paired report as text (`bedside report --baseline`).
pub fn render_text(p: &Paired) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{} on {} ({}) · {}\nprobed: {} (config {})\nplain:  {} (config {})\n",
        p.probed.model,
        p.probed.benchmark,
        p.probed.split,
        p.probed.method,
        p.probed.probes,
        &p.probed.config_hash[..p.probed.config_hash.len().min(12)],
        p.baseline.probes,
        &p.baseline.config_hash[..p.baseline.config_hash.len().min(12)],
    ));
    s.push_str(&format!(
        "items paired: {}{}{}\n",
        p.items_paired,
        if p.only_baseline > 0 {
            format!(" ({} only in the plain run, left out)", p.only_baseline)
        } else {
            String::new()
        },
        if p.only_probed > 0 {
            format!(" ({} only in the probed run, left out)", p.only_probed)
        } else {
            String::new()
        },
    ));
    if !p.differences.is_empty() {
        s.push_str(&format!(
            "note: the runs also differ in {}; the differences below measure those too\n",
            p.differences.join("; ")
        ));
    }
    s.push_str("\ncomparison                   baseline                      probed                        difference [95% paired bootstrap]    McNemar p  right→wrong  wrong→right\n");
    for c in &p.comparisons {
        s.push_str(&format!(
            "{:<28} {:<29} {:<29} {:>9} [{}, {}]   {:>9}  {:>11}  {:>11}\n",
            c.label,
            format!(
                "{} {}",
                if c.against == "plain run" {
                    "plain"
                } else {
                    "orig."
                },
                rate(&c.baseline)
            ),
            rate(&c.probed),
            pts(c.difference),
            pts(c.interval.low),
            pts(c.interval.high),
            p_text(c.mcnemar_p),
            c.right_to_wrong,
            c.wrong_to_right
        ));
    }
    if let Some(c) = &p.consistency {
        s.push_str(&format!(
            "\noption orders ({} per item, {} items): same option text chosen in every order {}; right in every order (strict) {}; mean accuracy over the orders {}\n",
            c.orders,
            c.items,
            rate(&c.consistent),
            rate(&c.strict),
            pct(c.mean_accuracy)
        ));
    }
    for b in &p.bias {
        s.push_str(&format!(
            "\nbias {}: the suggested (wrong) option was chosen on {} of {} items ({} in the plain run); switched to it from another answer: {}\n",
            b.bias,
            b.chose_suggested.correct,
            b.items,
            b.baseline_chose_suggested,
            rate(&b.switched)
        ));
    }
    if let Some(x) = &p.position {
        s.push_str(&position_text(x));
    }
    s.push_str("\nreading:\n");
    for c in &p.comparisons {
        s.push_str(&format!("- {}\n", reading(c)));
    }
    s
}

/// The position figures as text.
pub fn position_text(x: &PositionFigures) -> String {
    let row = |name: &str, v: &[usize]| {
        let t: usize = v.iter().sum::<usize>().max(1);
        format!(
            "  {name:<34}{}\n",
            v.iter()
                .map(|c| format!("{:>8}", pct(*c as f64 / t as f64)))
                .collect::<String>()
        )
    };
    let mut s = format!(
        "\nanswer positions ({} items with {} options, every rotation scored):\n  {:<34}{}\n",
        x.items,
        x.options,
        "",
        x.letters
            .iter()
            .map(|l| format!("{l:>8}"))
            .collect::<String>()
    );
    s.push_str(&row("gold answers", &x.gold));
    s.push_str(&row("chosen, original order", &x.chosen));
    s.push_str(&row("chosen, over every rotation", &x.chosen_rotations));
    s.push_str(&format!(
        "  {:<34}{}\n",
        format!("content-free mean prob ({})", x.content_free_items),
        x.content_free_mean_prob
            .iter()
            .map(|p| format!("{:>8}", pct(*p)))
            .collect::<String>()
    ));
    s.push_str(&format!(
        "  {:<34}{}\n",
        "estimated prior (PriDe)",
        x.prior
            .iter()
            .map(|p| format!("{:>8}", pct(*p)))
            .collect::<String>()
    ));
    s.push_str(&format!(
        "  accuracy in the original order {}; after removing the prior {}\n",
        rate(&x.plain),
        rate(&x.debiased)
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{header, rec};
    use crate::Method;
    use serde_json::json;

    /// A model with a known letter prior `q` and a content preference for the gold option: PriDe's
    /// estimate from the rotations recovers `q`, and dividing it out recovers the content's answer.
    #[test]
    fn position_prior_is_recovered_and_removed() {
        let q = [0.7, 0.1, 0.15, 0.05];
        let content = [3.0, 1.0, 1.0, 1.0]; // the source's option 0 is preferred by content...
        let mut recs = Vec::new();
        let mut idx = 0;
        for item in 0..6 {
            let gold_src = item % 4; // ...and the gold is source option `gold_src`
            for r in 0..4 {
                // Rotation r shows source option (i + r) % 4 at position i.
                let c: Vec<f64> = (0..4)
                    .map(|i| {
                        if (i + r) % 4 == gold_src {
                            content[0]
                        } else {
                            content[1]
                        }
                    })
                    .collect();
                let raw: Vec<f64> = (0..4).map(|i| q[i] * c[i]).collect();
                let z: f64 = raw.iter().sum();
                let probs: Vec<f64> = raw.iter().map(|x| x / z).collect();
                let gold = (0..4).find(|i| (i + r) % 4 == gold_src).unwrap();
                let pred = bedside_bench::metrics::argmax(&probs).unwrap().0;
                let mut x = rec(
                    idx,
                    gold,
                    Some(pred),
                    &["a", "b", "c", "d"],
                    json!({"probs": probs, "source_id": format!("s{item}")}),
                );
                x.id = format!("s{item}#r{r}");
                recs.push(x);
                idx += 1;
            }
            let mut cf = rec(
                idx,
                0,
                Some(0),
                &["N/A"; 4],
                json!({"probs": q, "source_id": format!("s{item}")}),
            );
            cf.id = format!("s{item}#cf");
            recs.push(cf);
            idx += 1;
        }
        let x = position_figures(&recs).unwrap();
        assert_eq!((x.items, x.options), (6, 4));
        for (a, b) in x.prior.iter().zip(q) {
            assert!((a - b).abs() < 1e-9, "{:?}", x.prior);
        }
        assert_eq!(x.debiased.correct, 6, "the prior removed, content decides");
        assert_eq!(x.chosen, vec![6, 0, 0, 0], "the prior dominates: always A");
        assert_eq!(
            x.plain.correct, 2,
            "right only where the gold is A (items 0 and 4)"
        );
        assert_eq!(x.comparison.wrong_to_right, 4);
        for (a, b) in x.content_free_mean_prob.iter().zip(q) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn orders_give_strict_accuracy_and_consistency_and_pairs_refuse_other_models() {
        let h = header(Method::Letter, false);
        let plain: Vec<ItemRecord> = (0..3)
            .map(|i| rec(i, 0, Some(0), &["x", "y"], json!({})))
            .collect();
        let mut ph = h.clone();
        ph.config.probes = vec![bedside_bench::probes::Probe::Circular];
        ph.config_hash = ph.config.hash();
        let mut probed = Vec::new();
        for i in 0..3 {
            // Item 0: same text both orders, right both; item 1: always letter A (inconsistent);
            // item 2: wrong in both orders, same text.
            let rows: [(usize, usize, [&str; 2]); 2] = match i {
                0 => [(0, 0, ["x", "y"]), (1, 1, ["y", "x"])],
                1 => [(0, 0, ["x", "y"]), (1, 0, ["y", "x"])],
                _ => [(0, 1, ["x", "y"]), (1, 0, ["y", "x"])],
            };
            for (r, (gold, pred, pres)) in rows.into_iter().enumerate() {
                let mut x = rec(
                    10 + 2 * i + r,
                    gold,
                    Some(pred),
                    &pres,
                    json!({"source_id": format!("q{i}")}),
                );
                x.id = format!("q{i}#r{r}");
                probed.push(x);
            }
        }
        let p = pair((&h, &plain), (&ph, &probed)).unwrap();
        let c = p.consistency.unwrap();
        assert_eq!(
            (c.items, c.orders, c.consistent.correct, c.strict.correct),
            (3, 2, 2, 1)
        );
        let strict = p.comparisons.iter().find(|c| c.label == "strict").unwrap();
        assert_eq!(
            (
                strict.baseline.correct,
                strict.probed.correct,
                strict.right_to_wrong
            ),
            (3, 1, 2)
        );
        assert!(reading(strict).contains("right to wrong"));
        let mut other = ph.clone();
        other.config.model.sha256 = "1".into();
        assert!(pair((&h, &plain), (&other, &probed))
            .unwrap_err()
            .contains("different models"));
    }

    #[test]
    fn few_changed_answers_are_not_called_a_difference_and_unanswered_items_are_left_out() {
        // 4 of 16 items flip right -> wrong: the bootstrap interval excludes zero, McNemar p = 0.125.
        let pairs: Vec<(bool, bool)> = (0..16).map(|i| (i < 8, i < 4)).collect();
        let c = compare("x", "", "plain run", &pairs);
        assert!(c.interval.high < 0.0 && (c.mcnemar_p - 0.125).abs() < 1e-12);
        assert!(!c.distinguishable);
        assert!(
            reading(&c).contains("not distinguishable at this sample size"),
            "{}",
            reading(&c)
        );

        let h = header(Method::Loglik, false);
        let plain: Vec<ItemRecord> = (0..3)
            .map(|i| rec(i, 0, Some(0), &["x", "y"], json!({})))
            .collect();
        let mut probed = plain.clone();
        probed[1] = rec(
            1,
            0,
            None,
            &["x", "y"],
            json!({"status": "failed", "correct": false}),
        );
        let mut ph = h.clone();
        ph.config.probes = vec![bedside_bench::probes::Probe::ChoicesOnly];
        let p = pair((&h, &plain), (&ph, &probed)).unwrap();
        let c = &p.comparisons[0];
        assert_eq!(
            (c.items, c.right_to_wrong),
            (2, 0),
            "a failed item is no flip"
        );
    }

    #[test]
    fn two_probes_making_variants_are_refused_together() {
        let s = crate::config::RunSettings {
            probes: vec![
                bedside_bench::probes::Probe::Circular,
                bedside_bench::probes::Probe::Bias(None),
            ],
            ..Default::default()
        };
        assert!(s.check().unwrap_err().contains("run them separately"));
    }
}
