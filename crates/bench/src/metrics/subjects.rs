//! Per-subject breakdown: items, correct, accuracy and its Wilson interval for each subject.

use super::wilson::wilson_interval;
use super::Interval;
use serde::Serialize;
use std::collections::BTreeMap;

/// Label used for items without a subject.
pub const NO_SUBJECT: &str = "(no subject)";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectScore {
    pub subject: String,
    pub items: usize,
    pub correct: usize,
    pub accuracy: f64,
    pub interval: Interval,
}

/// Scores per subject, sorted by subject name.
pub fn by_subject<'a>(
    rows: impl IntoIterator<Item = (Option<&'a str>, bool)>,
    level: f64,
) -> Vec<SubjectScore> {
    let mut acc: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (s, ok) in rows {
        let e = acc.entry(s.unwrap_or(NO_SUBJECT)).or_default();
        e.0 += 1;
        e.1 += usize::from(ok);
    }
    acc.into_iter()
        .map(|(s, (n, k))| SubjectScore {
            subject: s.to_string(),
            items: n,
            correct: k,
            accuracy: k as f64 / n as f64,
            interval: wilson_interval(k as u64, n as u64, level),
        })
        .collect()
}
