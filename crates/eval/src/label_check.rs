//! IRT's negative-discrimination flags against experts' labels of item quality.
//!
//! MMLU-Redux (Gema et al., "Are We Done with MMLU?", NAACL 2025) re-annotated MMLU questions with an
//! `error_type`: `ok`, or what is wrong (`wrong_groundtruth`, `no_correct_answer`,
//! `multiple_correct_answers`, `bad_question_clarity`, `bad_options_clarity`); `expert` marks questions
//! the annotators left to a domain expert. The importer keeps it in each item's `meta.error_type`. An
//! item with a wrong key or two defensible answers is one the stronger runs can get "wrong" more
//! often: negative discrimination. This check says how far the flag and the experts agree:
//!
//! - the 2×2 table flagged × labelled-an-error over the fitted items that carry a label (`ok` or an
//!   error; `expert` and unlabelled items are counted and left out), with the one-sided Fisher exact p
//!   that the flagged items are enriched for errors;
//! - the AUC of the fitted discrimination for telling error items from `ok` items (the chance that an
//!   error item has the lower discrimination: 0.5 is no signal), which uses every labelled fitted item,
//!   not only the few that clear the flag's threshold;
//! - per label: items, flagged, and the mean discrimination.

use crate::compare::IrtResult;
use bedside_bench::benchmark::Benchmark;
use bedside_bench::metrics::{auc::auc, fisher::fisher_greater};
use serde::Serialize;
use std::collections::BTreeMap;

/// The item field (under `meta`) the check reads.
pub const LABEL_FIELD: &str = "error_type";

/// A label's normalised form: lower case, words joined by `_` (`Wrong Groundtruth` → `wrong_groundtruth`).
pub fn normalise(label: &str) -> String {
    label
        .trim()
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// What a normalised label says about the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    Ok,
    Error,
    /// Left to an expert, or no label: not counted either way.
    Unresolved,
}

pub fn kind(normalised: &str) -> LabelKind {
    match normalised {
        "ok" => LabelKind::Ok,
        "" | "expert" => LabelKind::Unresolved,
        _ => LabelKind::Error,
    }
}

/// Each item's label in `split` (normalised), for items that carry `meta.<field>` as a string.
pub fn item_labels(bench: &Benchmark, split: &str, field: &str) -> BTreeMap<String, String> {
    bench
        .items_in_split(split)
        .filter_map(|(_, li)| {
            li.item
                .meta
                .get(field)
                .and_then(|v| v.as_str())
                .map(normalise)
                .filter(|s| !s.is_empty())
                .map(|s| (li.item.id.clone(), s))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelRow {
    pub label: String,
    pub kind: LabelKind,
    /// Fitted items with this label.
    pub items: usize,
    pub flagged: usize,
    pub mean_discrimination: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelCheck {
    pub field: String,
    /// Items in the IRT fit.
    pub fitted: usize,
    /// Fitted items labelled `ok` or an error (the ones counted).
    pub labelled: usize,
    /// Of those, labelled an error.
    pub errors: usize,
    /// Fitted items left out: labelled `expert`, or without a label.
    pub unresolved: usize,
    /// Flagged items among the labelled ones, and how many of them are labelled errors.
    pub flagged: usize,
    pub flagged_errors: usize,
    /// One-sided Fisher exact p: flags enriched for errors.
    pub fisher_p: f64,
    /// P(an error item's discrimination < an ok item's), ties one half; `None` without both groups.
    pub auc: Option<f64>,
    pub labels: Vec<LabelRow>,
    /// Every flagged item with its label (unresolved included).
    pub flagged_items: Vec<(String, String)>,
}

impl LabelCheck {
    /// Share of the flagged (labelled) items that experts labelled an error.
    pub fn precision(&self) -> Option<f64> {
        (self.flagged > 0).then(|| self.flagged_errors as f64 / self.flagged as f64)
    }

    /// Share of the labelled errors that were flagged.
    pub fn recall(&self) -> Option<f64> {
        (self.errors > 0).then(|| self.flagged_errors as f64 / self.errors as f64)
    }

    /// Share of labelled items that are errors: what a flag picking items at random would reach.
    pub fn base_rate(&self) -> Option<f64> {
        (self.labelled > 0).then(|| self.errors as f64 / self.labelled as f64)
    }

    /// One plain sentence.
    pub fn reading(&self) -> String {
        let pct = |x: f64| format!("{:.0}%", 100.0 * x);
        let auc = match self.auc {
            Some(a) => format!(
                "; over all {} labelled items, an error item has the lower discrimination with probability {:.2} (AUC; 0.5 = no signal)",
                self.labelled, a
            ),
            None => String::new(),
        };
        match (self.precision(), self.base_rate()) {
            (_, None) => format!(
                "none of the {} fitted items carries an ok/error `{}` label",
                self.fitted, self.field
            ),
            (None, Some(b)) => format!(
                "no labelled item was flagged ({} of {} labelled items are errors, {}){auc}",
                self.errors,
                self.labelled,
                pct(b)
            ),
            (Some(p), Some(b)) => format!(
                "{} of {} flagged items are labelled errors by the experts ({}, against {} of all labelled items; one-sided Fisher p {}); the flag found {} of {} labelled errors{auc}",
                self.flagged_errors,
                self.flagged,
                pct(p),
                pct(b),
                crate::paired::p_text(self.fisher_p),
                self.flagged_errors,
                self.errors
            ),
        }
    }
}

/// Check the fit's flags against `labels` (item id → normalised label). `None` when no fitted item
/// has a label at all.
pub fn check(
    irt: &IrtResult,
    labels: &BTreeMap<String, String>,
    field: &str,
) -> Option<LabelCheck> {
    let mut rows: BTreeMap<String, (LabelKind, usize, usize, f64)> = BTreeMap::new();
    let (mut labelled, mut errors, mut unresolved, mut flagged, mut flagged_errors) =
        (0, 0, 0, 0, 0);
    let (mut err_a, mut ok_a) = (Vec::new(), Vec::new());
    let mut flagged_items = Vec::new();
    let mut any = false;
    for (p, id) in irt.fit.items.iter().zip(&irt.item_ids) {
        let label = labels.get(id).cloned().unwrap_or_default();
        any |= !label.is_empty();
        let k = kind(&label);
        let e = rows
            .entry(if label.is_empty() {
                "(no label)".into()
            } else {
                label.clone()
            })
            .or_insert((k, 0, 0, 0.0));
        e.1 += 1;
        e.3 += p.discrimination;
        if p.negative_discrimination {
            e.2 += 1;
            flagged_items.push((id.clone(), label.clone()));
        }
        match k {
            LabelKind::Unresolved => unresolved += 1,
            LabelKind::Ok | LabelKind::Error => {
                labelled += 1;
                let err = k == LabelKind::Error;
                errors += err as usize;
                if p.negative_discrimination {
                    flagged += 1;
                    flagged_errors += err as usize;
                }
                if err {
                    err_a.push(-p.discrimination);
                } else {
                    ok_a.push(-p.discrimination);
                }
            }
        }
    }
    if !any {
        return None;
    }
    let (a, b) = (flagged_errors as u64, (flagged - flagged_errors) as u64);
    let (c, d) = (
        (errors - flagged_errors) as u64,
        (labelled - errors - (flagged - flagged_errors)) as u64,
    );
    let mut labels: Vec<LabelRow> = rows
        .into_iter()
        .map(|(label, (kind, items, flagged, sum))| LabelRow {
            label,
            kind,
            items,
            flagged,
            mean_discrimination: sum / items as f64,
        })
        .collect();
    labels.sort_by(|x, y| y.items.cmp(&x.items).then(x.label.cmp(&y.label)));
    Some(LabelCheck {
        field: field.to_string(),
        fitted: irt.item_ids.len(),
        labelled,
        errors,
        unresolved,
        flagged,
        flagged_errors,
        fisher_p: fisher_greater(a, b, c, d),
        auc: auc(&err_a, &ok_a),
        labels,
        flagged_items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_normalise_and_classify() {
        assert_eq!(normalise(" Wrong Groundtruth"), "wrong_groundtruth");
        assert_eq!(normalise("bad question clarity"), "bad_question_clarity");
        assert_eq!(normalise("bad_options_clarity"), "bad_options_clarity");
        assert_eq!(kind(&normalise("OK")), LabelKind::Ok);
        assert_eq!(kind("expert"), LabelKind::Unresolved);
        assert_eq!(kind(""), LabelKind::Unresolved);
        assert_eq!(kind("no_correct_answer"), LabelKind::Error);
    }
}
