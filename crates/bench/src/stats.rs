//! `bedside stats`: what a benchmark looks like before any model runs on it. Counts per shard and
//! subject, option counts, the answer-position distribution (gold answers that are not uniform over
//! A-D let a model score above chance by position alone), length statistics including how often the
//! longest option is the gold one (a known test-writing cue), and duplicate / near-duplicate items.

use crate::benchmark::Benchmark;
use crate::item::{normalize_text, Item};
use crate::metrics::chance::chance_baseline;
use crate::metrics::special::chi2_sf;
use crate::metrics::DEFAULT_LEVEL;
use crate::task::option_letter;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Serialize)]
pub struct BenchmarkStats {
    pub name: String,
    pub task: String,
    pub items: usize,
    pub shards: Vec<ShardCount>,
    pub subjects: Vec<(String, usize)>,
    /// Option count -> number of items.
    pub option_counts: BTreeMap<usize, usize>,
    pub answer_positions: Option<AnswerPositions>,
    pub chance_accuracy: Option<f64>,
    pub question_chars: Summary,
    pub question_words: Summary,
    pub option_chars: Option<Summary>,
    pub context_words: Option<Summary>,
    pub longest_option_cue: Option<LongestOptionCue>,
    pub duplicates: Duplicates,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShardCount {
    pub file: String,
    pub split: String,
    pub items: usize,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Summary {
    pub min: f64,
    pub median: f64,
    pub mean: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(mut v: Vec<f64>) -> Option<Summary> {
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Summary {
            min: v[0],
            median,
            mean: v.iter().sum::<f64>() / n as f64,
            max: v[n - 1],
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerPositions {
    /// Letters A, B, ... up to the largest option count.
    pub letters: Vec<char>,
    /// How many items have their gold answer at each position.
    pub counts: Vec<usize>,
    /// Expected counts if gold positions were uniform within each item: sum over items of 1/k_i for positions < k_i.
    pub expected: Vec<f64>,
    /// Pearson chi-square goodness of fit against `expected`, its degrees of freedom and p-value.
    pub chi2: f64,
    pub df: usize,
    pub p_value: f64,
    /// Accuracy of always answering the most common gold position.
    pub majority_position_accuracy: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LongestOptionCue {
    /// Items with a unique longest option.
    pub items: usize,
    /// Share of those whose longest option is the gold answer.
    pub rate: f64,
    /// What that share would be if length carried no information (mean 1/k).
    pub expected: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Duplicates {
    /// Groups of item ids whose question and options are identical after normalisation.
    pub exact_groups: Vec<Vec<String>>,
    /// Pairs whose word 3-gram Jaccard similarity is at least `near_threshold` (exact duplicates excluded).
    pub near_pairs: Vec<NearPair>,
    pub near_threshold: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NearPair {
    pub a: String,
    pub b: String,
    pub jaccard: f64,
}

pub const NEAR_DUPLICATE_THRESHOLD: f64 = 0.8;

pub fn benchmark_stats(b: &Benchmark) -> BenchmarkStats {
    let items: Vec<&Item> = b.all_items().map(|(_, li)| &li.item).collect();
    let shards = b
        .shards
        .iter()
        .map(|s| ShardCount {
            file: s.entry.file.clone(),
            split: s.entry.split().to_string(),
            items: s.items.len(),
        })
        .collect();
    let mut subj: BTreeMap<String, usize> = BTreeMap::new();
    for it in &items {
        *subj
            .entry(
                it.subject
                    .clone()
                    .unwrap_or_else(|| crate::metrics::subjects::NO_SUBJECT.into()),
            )
            .or_default() += 1;
    }
    let mut option_counts = BTreeMap::new();
    for it in items.iter().filter(|i| !i.options.is_empty()) {
        *option_counts.entry(it.options.len()).or_default() += 1;
    }
    let choice: Vec<(usize, usize)> = items
        .iter()
        .filter_map(|i| i.answer.index().map(|a| (i.options.len(), a)))
        .collect();
    let counts: Vec<usize> = choice.iter().map(|c| c.0).collect();
    let option_chars: Vec<f64> = items
        .iter()
        .flat_map(|i| i.options.iter().map(|o| o.chars().count() as f64))
        .collect();
    let contexts: Vec<f64> = items
        .iter()
        .filter_map(|i| i.context.as_ref())
        .map(|c| c.split_whitespace().count() as f64)
        .collect();
    let zero = Summary {
        min: 0.0,
        median: 0.0,
        mean: 0.0,
        max: 0.0,
    };
    BenchmarkStats {
        name: b.manifest.name.clone(),
        task: b.manifest.task.to_string(),
        items: items.len(),
        shards,
        subjects: subj.into_iter().collect(),
        option_counts,
        answer_positions: answer_positions(&choice),
        chance_accuracy: chance_baseline(&counts, 0, DEFAULT_LEVEL).map(|c| c.expected_accuracy),
        question_chars: Summary::of(
            items
                .iter()
                .map(|i| i.question.chars().count() as f64)
                .collect(),
        )
        .unwrap_or(zero),
        question_words: Summary::of(
            items
                .iter()
                .map(|i| i.question.split_whitespace().count() as f64)
                .collect(),
        )
        .unwrap_or(zero),
        option_chars: Summary::of(option_chars),
        context_words: Summary::of(contexts),
        longest_option_cue: longest_option_cue(&items),
        duplicates: duplicates(&items, NEAR_DUPLICATE_THRESHOLD),
    }
}

/// Gold-position counts against the uniform expectation. `items` holds (option count, gold index).
pub fn answer_positions(items: &[(usize, usize)]) -> Option<AnswerPositions> {
    let width = items.iter().map(|i| i.0).max()?;
    let mut counts = vec![0usize; width];
    let mut expected = vec![0f64; width];
    for &(k, a) in items {
        counts[a] += 1;
        for e in expected.iter_mut().take(k) {
            *e += 1.0 / k as f64;
        }
    }
    let chi2: f64 = counts
        .iter()
        .zip(&expected)
        .filter(|(_, e)| **e > 0.0)
        .map(|(&o, &e)| (o as f64 - e).powi(2) / e)
        .sum();
    let df = expected
        .iter()
        .filter(|e| **e > 0.0)
        .count()
        .saturating_sub(1);
    let p_value = if df == 0 {
        1.0
    } else {
        chi2_sf(chi2, df as f64)
    };
    let majority = *counts.iter().max().unwrap_or(&0);
    Some(AnswerPositions {
        letters: (0..width).map(option_letter).collect(),
        majority_position_accuracy: majority as f64 / items.len() as f64,
        counts,
        expected,
        chi2,
        df,
        p_value,
    })
}

fn longest_option_cue(items: &[&Item]) -> Option<LongestOptionCue> {
    let mut n = 0usize;
    let mut hit = 0usize;
    let mut expected = 0.0;
    for it in items {
        let (Some(gold), true) = (it.answer.index(), it.options.len() >= 2) else {
            continue;
        };
        let lens: Vec<usize> = it.options.iter().map(|o| o.chars().count()).collect();
        let max = *lens.iter().max().unwrap_or(&0);
        if lens.iter().filter(|&&l| l == max).count() != 1 {
            continue;
        }
        n += 1;
        expected += 1.0 / lens.len() as f64;
        hit += usize::from(lens[gold] == max);
    }
    (n > 0).then(|| LongestOptionCue {
        items: n,
        rate: hit as f64 / n as f64,
        expected: expected / n as f64,
    })
}

fn item_text(it: &Item) -> String {
    let mut opts: Vec<String> = it.options.iter().map(|o| normalize_text(o)).collect();
    opts.sort();
    format!("{}\n{}", normalize_text(&it.question), opts.join("\n"))
}

fn shingles(text: &str) -> HashSet<u64> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let k = 3.min(words.len().max(1));
    words
        .windows(k)
        .map(|w| fnv1a(w.join(" ").as_bytes()))
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn mix(x: u64, seed: u64) -> u64 {
    crate::metrics::rng::splitmix64(x ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

pub fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    a.intersection(b).count() as f64 / a.union(b).count() as f64
}

/// Exact duplicates by normalised text; near duplicates by MinHash LSH candidates (32 bands x 4 rows,
/// which finds pairs at Jaccard 0.8 with probability > 0.99) confirmed with the exact Jaccard.
pub fn duplicates(items: &[&Item], threshold: f64) -> Duplicates {
    let texts: Vec<String> = items.iter().map(|i| item_text(i)).collect();
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in texts.iter().enumerate() {
        groups.entry(t.as_str()).or_default().push(i);
    }
    let mut exact_groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    exact_groups.sort();
    let exact_of: HashMap<usize, usize> = exact_groups
        .iter()
        .enumerate()
        .flat_map(|(g, v)| v.iter().map(move |&i| (i, g)))
        .collect();

    const BANDS: usize = 32;
    const ROWS: usize = 4;
    let sets: Vec<HashSet<u64>> = texts.iter().map(|t| shingles(t)).collect();
    let mut buckets: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
    for (i, s) in sets.iter().enumerate() {
        if s.is_empty() {
            continue;
        }
        let sig: Vec<u64> = (0..BANDS * ROWS)
            .map(|h| s.iter().map(|&x| mix(x, h as u64 + 1)).min().unwrap_or(0))
            .collect();
        for band in 0..BANDS {
            let key = sig[band * ROWS..(band + 1) * ROWS]
                .iter()
                .fold(0u64, |acc, &v| mix(acc ^ v, band as u64));
            buckets.entry((band, key)).or_default().push(i);
        }
    }
    let mut seen = HashSet::new();
    let mut near = Vec::new();
    for v in buckets.values().filter(|v| v.len() > 1) {
        for (x, &i) in v.iter().enumerate() {
            for &j in &v[x + 1..] {
                let same_group =
                    matches!((exact_of.get(&i), exact_of.get(&j)), (Some(a), Some(b)) if a == b);
                if same_group || !seen.insert((i.min(j), i.max(j))) {
                    continue;
                }
                let s = jaccard(&sets[i], &sets[j]);
                if s >= threshold {
                    near.push((i.min(j), i.max(j), s));
                }
            }
        }
    }
    near.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    Duplicates {
        exact_groups: exact_groups
            .into_iter()
            .map(|g| g.into_iter().map(|i| items[i].id.clone()).collect())
            .collect(),
        near_pairs: near
            .into_iter()
            .map(|(i, j, s)| NearPair {
                a: items[i].id.clone(),
                b: items[j].id.clone(),
                jaccard: s,
            })
            .collect(),
        near_threshold: threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, q: &str, opts: &[&str], a: usize) -> Item {
        Item::choice(id, q, opts.iter().map(|s| s.to_string()).collect(), a)
    }

    #[test]
    fn positions_and_chi_square() {
        // 4-option items, all gold at A: maximally skewed.
        let p = answer_positions(&vec![(4, 0); 40]).unwrap();
        assert_eq!(p.counts, vec![40, 0, 0, 0]);
        assert_eq!(p.expected, vec![10.0; 4]);
        assert!((p.chi2 - 120.0).abs() < 1e-9);
        assert!(p.p_value < 1e-20);
        assert_eq!(p.majority_position_accuracy, 1.0);
        // Mixed counts: a 2-option item adds 0.5 to A and B only.
        let p = answer_positions(&[(2, 0), (4, 3)]).unwrap();
        assert_eq!(p.expected, vec![0.75, 0.75, 0.25, 0.25]);
    }

    #[test]
    fn finds_exact_and_near_duplicates() {
        let q = "A 45-year-old man presents with crushing chest pain radiating to the left arm and diaphoresis for two hours. His blood pressure is 150/90 mm Hg and the ECG shows ST elevation in leads II, III and aVF.";
        let a = item("a", q, &["MI", "GERD", "PE"], 0);
        let b = item("b", &q.to_uppercase(), &["PE", "MI", "GERD"], 1); // same after normalisation and option sort
        let c = item("c", &format!("{q} today"), &["MI", "GERD", "PE"], 0);
        let d = item(
            "d",
            "Which vitamin deficiency causes scurvy in sailors on long voyages",
            &["C", "D"],
            0,
        );
        let dups = duplicates(&[&a, &b, &c, &d], 0.8);
        assert_eq!(
            dups.exact_groups,
            vec![vec!["a".to_string(), "b".to_string()]]
        );
        let pairs: Vec<_> = dups
            .near_pairs
            .iter()
            .map(|p| (p.a.as_str(), p.b.as_str()))
            .collect();
        assert!(
            pairs.contains(&("a", "c")) && pairs.contains(&("b", "c")),
            "{pairs:?}"
        );
        assert!(!pairs.iter().any(|p| p.0 == "d" || p.1 == "d"));
    }

    #[test]
    fn longest_option_cue_counts_unique_longest() {
        let a = item("a", "q", &["short", "the longest option here"], 1);
        let b = item("b", "q", &["same", "same2", "xx"], 0); // "same2" longest, gold 0
        let c = item("c", "q", &["tie1", "tie2"], 0); // tie: ignored
        let cue = longest_option_cue(&[&a, &b, &c]).unwrap();
        assert_eq!(cue.items, 2);
        assert_eq!(cue.rate, 0.5);
        assert!((cue.expected - (0.5 + 1.0 / 3.0) / 2.0).abs() < 1e-12);
    }
}
