//! Writing a benchmark: items -> shard files of bounded size + a manifest with counts and hashes.

use crate::benchmark::BenchmarkFiles;
use crate::hash::sha256_hex;
use crate::item::Item;
use crate::manifest::{Manifest, ShardEntry, SubjectNode, SPLITS};
use crate::shard::write_shard;
use crate::task::Task;
use std::collections::HashSet;

/// Default number of items per shard file.
pub const DEFAULT_SHARD_SIZE: usize = 250;

/// The descriptive half of a manifest (everything but the shard list).
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub license: String,
    pub citation: String,
    pub source: String,
    pub language: String,
    pub task: Task,
    pub subjects: Vec<SubjectNode>,
}

impl BenchmarkInfo {
    pub fn new(name: &str, task: Task) -> Self {
        BenchmarkInfo {
            name: name.to_string(),
            version: "1.0".into(),
            description: name.to_string(),
            license: "NOASSERTION".into(),
            citation: "unknown".into(),
            source: "unknown".into(),
            language: "en".into(),
            task,
            subjects: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuiltBenchmark {
    pub manifest: Manifest,
    /// (file name, bytes) of every shard, in manifest order.
    pub shards: Vec<(String, Vec<u8>)>,
}

impl BuiltBenchmark {
    pub fn to_files(&self) -> BenchmarkFiles {
        BenchmarkFiles {
            manifest: Some(self.manifest.to_json_pretty().into_bytes()),
            shards: self.shards.iter().cloned().collect(),
        }
    }
}

/// A seeded random subset of `n` items that keeps their original order (all items if there are fewer).
pub fn sample_in_order<T: Clone>(items: &[T], n: usize, seed: u64) -> Vec<T> {
    if n >= items.len() {
        return items.to_vec();
    }
    // Partial Fisher-Yates over indices, then restore order.
    let mut rng = crate::metrics::rng::Rng::new(seed);
    let mut idx: Vec<usize> = (0..items.len()).collect();
    for i in 0..n {
        let j = i + rng.below((items.len() - i) as u64) as usize;
        idx.swap(i, j);
    }
    let mut chosen = idx[..n].to_vec();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| items[i].clone()).collect()
}

/// Shard each split's items (`shard_size` per file, named `<split>-000.jsonl`, ...) and build the manifest.
/// Fails on an unknown split name, a zero shard size, or duplicate item ids.
pub fn build_benchmark(
    info: &BenchmarkInfo,
    splits: &[(&str, Vec<Item>)],
    shard_size: usize,
) -> Result<BuiltBenchmark, String> {
    if shard_size == 0 {
        return Err("shard size must be at least 1".into());
    }
    let mut seen = HashSet::new();
    for (split, items) in splits {
        if !SPLITS.contains(split) {
            return Err(format!("unknown split `{split}` (use one of {SPLITS:?})"));
        }
        for it in items {
            if !seen.insert(it.id.as_str()) {
                return Err(format!(
                    "duplicate item id {:?}: ids must be unique across the benchmark",
                    it.id
                ));
            }
        }
    }
    let mut shards = Vec::new();
    let mut entries = Vec::new();
    for (split, items) in splits {
        for (k, chunk) in items.chunks(shard_size).enumerate() {
            let file = format!("{split}-{k:03}.jsonl");
            let bytes = write_shard(chunk);
            entries.push(ShardEntry {
                file: file.clone(),
                items: chunk.len(),
                sha256: sha256_hex(&bytes),
                split: (*split != "test").then(|| split.to_string()),
            });
            shards.push((file, bytes));
        }
    }
    let i = info.clone();
    let manifest = Manifest {
        name: i.name,
        version: i.version,
        description: i.description,
        license: i.license,
        citation: i.citation,
        source: i.source,
        language: i.language,
        task: i.task,
        shards: entries,
        subjects: i.subjects,
    };
    Ok(BuiltBenchmark { manifest, shards })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_seeded_ordered_and_without_repeats() {
        let v: Vec<u32> = (0..1000).collect();
        let a = sample_in_order(&v, 100, 3);
        assert_eq!(a, sample_in_order(&v, 100, 3));
        assert_ne!(a, sample_in_order(&v, 100, 4));
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_in_order(&v[..5], 100, 3), v[..5].to_vec());
    }

    #[test]
    fn shards_are_bounded_and_named_by_split() {
        let items: Vec<Item> = (0..5)
            .map(|i| Item::choice(format!("{i}"), "q", vec!["a".into(), "b".into()], 0))
            .collect();
        let b = build_benchmark(
            &BenchmarkInfo::new("x", Task::Mcq),
            &[("test", items[..3].to_vec()), ("dev", items[3..].to_vec())],
            2,
        )
        .unwrap();
        let names: Vec<_> = b
            .manifest
            .shards
            .iter()
            .map(|s| (s.file.as_str(), s.items, s.split()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("test-000.jsonl", 2, "test"),
                ("test-001.jsonl", 1, "test"),
                ("dev-000.jsonl", 2, "dev")
            ]
        );
        assert!(build_benchmark(
            &BenchmarkInfo::new("x", Task::Mcq),
            &[("test", vec![items[0].clone(), items[0].clone()])],
            2
        )
        .unwrap_err()
        .contains("duplicate"));
    }
}
