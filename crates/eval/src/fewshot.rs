//! Choosing few-shot examples from a benchmark's dev/train pool: a seeded sample (lm-eval's default
//! sampler), the first k of the same subject (lm-eval's MMLU `first_n`), or the k nearest neighbours by
//! BM25 over the question and options (the OpenMedLM recipe: "OpenMedLM: prompt engineering can
//! out-perform fine-tuning in medical question-answering with open-source large language models", 2024).

use bedside_bench::metrics::rng::Rng;
use bedside_bench::Item;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FewshotSampler {
    /// Seeded sample without replacement, per item (seed mixed with the item id).
    Random,
    /// The first k pool items of the item's subject (falls back to the whole pool when the subject has
    /// fewer than k).
    FirstN,
    /// The k pool items most similar to the item (BM25).
    Nearest,
}

impl FewshotSampler {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(FewshotSampler::Random),
            "first" | "first_n" => Ok(FewshotSampler::FirstN),
            "nearest" | "bm25" => Ok(FewshotSampler::Nearest),
            _ => Err(format!(
                "unknown few-shot sampler `{s}`; expected random, first or nearest"
            )),
        }
    }
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(|w| w.to_lowercase())
        .collect()
}

fn item_text(item: &Item) -> String {
    let mut s = item.question.clone();
    for o in &item.options {
        s.push(' ');
        s.push_str(o);
    }
    s
}

/// A BM25 index over the pool (k1 = 1.2, b = 0.75).
pub struct Bm25 {
    docs: Vec<HashMap<String, f64>>,
    lens: Vec<f64>,
    idf: HashMap<String, f64>,
    avg_len: f64,
}

impl Bm25 {
    pub fn new(pool: &[Item]) -> Bm25 {
        let mut df: HashMap<String, f64> = HashMap::new();
        let mut docs = Vec::new();
        let mut lens = Vec::new();
        for it in pool {
            let mut tf: HashMap<String, f64> = HashMap::new();
            let ts = tokens(&item_text(it));
            lens.push(ts.len() as f64);
            for t in ts {
                *tf.entry(t).or_default() += 1.0;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
            docs.push(tf);
        }
        let n = pool.len() as f64;
        let idf = df
            .into_iter()
            .map(|(t, d)| (t, ((n - d + 0.5) / (d + 0.5) + 1.0).ln()))
            .collect();
        let avg_len = if lens.is_empty() {
            0.0
        } else {
            lens.iter().sum::<f64>() / n
        };
        Bm25 {
            docs,
            lens,
            idf,
            avg_len,
        }
    }

    /// Pool indices of the k best matches for `query`, best first (ties keep pool order).
    pub fn top(&self, query: &Item, k: usize, exclude_id: &str, pool: &[Item]) -> Vec<usize> {
        let (k1, b) = (1.2, 0.75);
        let q = tokens(&item_text(query));
        let mut scored: Vec<(usize, f64)> = self
            .docs
            .iter()
            .enumerate()
            .filter(|(i, _)| pool[*i].id != exclude_id)
            .map(|(i, tf)| {
                let norm = k1 * (1.0 - b + b * self.lens[i] / self.avg_len.max(1e-9));
                let s = q
                    .iter()
                    .filter_map(|t| {
                        tf.get(t).map(|&f| {
                            self.idf.get(t).copied().unwrap_or(0.0) * f * (k1 + 1.0) / (f + norm)
                        })
                    })
                    .sum::<f64>();
                (i, s)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.into_iter().take(k).map(|(i, _)| i).collect()
    }
}

/// Pick `k` examples for `item` from `pool` (never the item itself).
pub fn select(
    sampler: FewshotSampler,
    pool: &[Item],
    bm25: Option<&Bm25>,
    item: &Item,
    k: usize,
    seed: u64,
) -> Vec<usize> {
    if k == 0 || pool.is_empty() {
        return Vec::new();
    }
    let eligible: Vec<usize> = (0..pool.len()).filter(|&i| pool[i].id != item.id).collect();
    match sampler {
        FewshotSampler::FirstN => {
            let same: Vec<usize> = eligible
                .iter()
                .copied()
                .filter(|&i| pool[i].subject == item.subject)
                .collect();
            if same.len() >= k {
                same.into_iter().take(k).collect()
            } else {
                let mut out = same.clone();
                out.extend(
                    eligible
                        .into_iter()
                        .filter(|i| !same.contains(i))
                        .take(k - out.len()),
                );
                out
            }
        }
        FewshotSampler::Random => {
            let mut h = seed;
            for b in item.id.bytes() {
                h = bedside_bench::metrics::rng::splitmix64(h ^ b as u64);
            }
            let mut rng = Rng::new(h);
            let mut idx = eligible;
            // Partial Fisher-Yates: the first k positions are a uniform sample.
            let k = k.min(idx.len());
            for i in 0..k {
                let j = i + rng.below((idx.len() - i) as u64) as usize;
                idx.swap(i, j);
            }
            idx.truncate(k);
            idx
        }
        FewshotSampler::Nearest => match bm25 {
            Some(index) => index.top(item, k, &item.id, pool),
            None => Bm25::new(pool).top(item, k, &item.id, pool),
        },
    }
}
