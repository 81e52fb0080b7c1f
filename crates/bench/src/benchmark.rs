//! A whole benchmark (manifest + shards) held in memory, and the full validation behind `bedside validate`.
//!
//! Works on bytes, not paths, so the browser (which has no filesystem) uses exactly the same checks.

use crate::hash::sha256_hex;
use crate::manifest::{Manifest, ShardEntry, MANIFEST_FILE};
use crate::problem::{Problem, Problems, DEFAULT_PROBLEM_CAP};
use crate::shard::{parse_shard, LineItem};
use crate::task::Task;
use std::collections::{BTreeMap, HashMap};

/// The raw files of a benchmark folder: `manifest.json` (if any) and every `*.jsonl` file.
#[derive(Debug, Clone, Default)]
pub struct BenchmarkFiles {
    pub manifest: Option<Vec<u8>>,
    /// File name -> bytes, for every shard file present.
    pub shards: BTreeMap<String, Vec<u8>>,
}

impl BenchmarkFiles {
    /// What identifies this benchmark's content in run files: the SHA-256 of the manifest (which lists
    /// every shard's SHA-256), or, without a manifest, of the shards' SHA-256s in name order.
    pub fn content_hash(&self) -> String {
        match &self.manifest {
            Some(m) => sha256_hex(m),
            None => sha256_hex(
                self.shards
                    .values()
                    .flat_map(|b| sha256_hex(b).into_bytes())
                    .collect::<Vec<u8>>()
                    .as_slice(),
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub max_problems: usize,
    /// Task to assume for shards checked without a manifest.
    pub task_without_manifest: Task,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            max_problems: DEFAULT_PROBLEM_CAP,
            task_without_manifest: Task::Mcq,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Shard {
    pub entry: ShardEntry,
    pub items: Vec<LineItem>,
}

/// A benchmark that passed validation.
#[derive(Debug, Clone)]
pub struct Benchmark {
    pub manifest: Manifest,
    pub shards: Vec<Shard>,
}

impl Benchmark {
    /// All items of the given split (e.g. `test`), in shard order.
    pub fn items_in_split<'a>(
        &'a self,
        split: &'a str,
    ) -> impl Iterator<Item = (&'a Shard, &'a LineItem)> + 'a {
        self.shards
            .iter()
            .filter(move |s| s.entry.split() == split)
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    pub fn all_items(&self) -> impl Iterator<Item = (&Shard, &LineItem)> {
        self.shards
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.items.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Summary of what was checked.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Checked {
    pub shards: usize,
    pub records: usize,
    pub valid_items: usize,
}

/// Validate every file and cross-file rule; returns the benchmark only when there is no error.
pub fn validate(
    files: &BenchmarkFiles,
    opts: &ValidateOptions,
) -> (Option<Benchmark>, Problems, Checked) {
    let mut problems = Problems::with_cap(opts.max_problems);
    let mut checked = Checked::default();

    let manifest = match &files.manifest {
        Some(bytes) => {
            let (m, ps) = Manifest::parse(bytes, MANIFEST_FILE);
            problems.extend(ps);
            if m.is_none() {
                // Still check the shards we can see, so the user gets every problem in one pass.
                check_loose_shards(
                    files,
                    opts.task_without_manifest,
                    &mut problems,
                    &mut checked,
                );
                return (None, problems, checked);
            }
            m
        }
        None => None,
    };

    let entries: Vec<ShardEntry> = match &manifest {
        Some(m) => m.shards.clone(),
        None => {
            problems.push(Problem::warning(
                MANIFEST_FILE,
                None,
                None,
                format!("no manifest: checked shard contents only, assuming task `{}`", opts.task_without_manifest),
                "create a benchmark folder with `bedside convert --from jsonl ...` to get a manifest with counts and hashes",
            ));
            files
                .shards
                .iter()
                .map(|(f, b)| ShardEntry {
                    file: f.clone(),
                    items: 0,
                    sha256: sha256_hex(b),
                    split: None,
                })
                .collect()
        }
    };
    let task = manifest
        .as_ref()
        .map_or(opts.task_without_manifest, |m| m.task);
    let taxonomy: Vec<String> = manifest
        .as_ref()
        .map(|m| m.subject_names().into_iter().map(str::to_string).collect())
        .unwrap_or_default();

    let mut seen_ids: HashMap<String, (String, usize)> = HashMap::new();
    let mut shards = Vec::new();
    let mut unknown_subjects: BTreeMap<String, (String, usize, usize)> = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(bytes) = files.shards.get(&entry.file) else {
            problems.push(Problem::error(
                MANIFEST_FILE,
                None,
                Some(&format!("shards[{i}].file")),
                format!("shard file {:?} is listed but not found", entry.file),
                "add the file to the benchmark folder, or remove it from `shards`",
            ));
            continue;
        };
        checked.shards += 1;
        let parsed = parse_shard(&entry.file, bytes, task);
        checked.records += parsed.records;
        checked.valid_items += parsed.items.len();
        problems.extend(parsed.problems);
        if manifest.is_some() {
            let actual = sha256_hex(bytes);
            if actual != entry.sha256 {
                problems.push(Problem::error(
                    MANIFEST_FILE,
                    None,
                    Some(&format!("shards[{i}].sha256")),
                    format!("sha256 of {} is {actual}, the manifest says {}", entry.file, entry.sha256),
                    format!("if the shard was changed on purpose, set `sha256` to \"{actual}\"; otherwise restore the original file"),
                ));
            }
            if parsed.records != entry.items {
                problems.push(Problem::error(
                    MANIFEST_FILE,
                    None,
                    Some(&format!("shards[{i}].items")),
                    format!("{} has {} item line(s), the manifest says {}", entry.file, parsed.records, entry.items),
                    format!("set `items` to {} if the shard is right, otherwise restore the missing lines", parsed.records),
                ));
            }
        }
        for li in &parsed.items {
            match seen_ids.get(&li.item.id) {
                Some((f, l)) => problems.push(Problem::error(
                    &entry.file,
                    Some(li.line),
                    Some("id"),
                    format!("duplicate id {:?} (first used at {f}:{l})", li.item.id),
                    "give every item a unique id across all shards of the benchmark",
                )),
                None => {
                    seen_ids.insert(li.item.id.clone(), (entry.file.clone(), li.line));
                }
            }
            if let Some(s) = &li.item.subject {
                if !taxonomy.is_empty() && !taxonomy.iter().any(|t| t == s) {
                    unknown_subjects
                        .entry(s.clone())
                        .or_insert((entry.file.clone(), li.line, 0))
                        .2 += 1;
                }
            }
        }
        shards.push(Shard {
            entry: entry.clone(),
            items: parsed.items,
        });
    }
    for (s, (file, line, n)) in unknown_subjects {
        problems.push(Problem::warning(
            &file,
            Some(line),
            Some("subject"),
            format!("subject {s:?} ({n} item(s)) is not in the manifest's `subjects` taxonomy"),
            "add it to `subjects` or correct the item's subject",
        ));
    }
    if manifest.is_some() {
        for name in files.shards.keys() {
            if !entries.iter().any(|e| &e.file == name) {
                problems.push(Problem::warning(
                    name,
                    None,
                    None,
                    "shard file is not listed in the manifest and was not checked",
                    "add it to `shards` in manifest.json, or remove it",
                ));
            }
        }
    }

    // Shards without a manifest still make a benchmark (e.g. one .jsonl dropped in the browser): splits
    // come from the file names, the task from the options.
    let manifest = manifest.or_else(|| {
        for s in shards.iter_mut() {
            s.entry.items = s.items.len();
            let split = crate::importers::InputFile::new(s.entry.file.clone(), Vec::new())
                .split_from_name();
            s.entry.split = (split != "test").then(|| split.to_string());
        }
        let stems: Vec<&str> = shards
            .iter()
            .map(|s| s.entry.file.trim_end_matches(".jsonl"))
            .collect();
        Some(Manifest {
            name: stems.join("+"),
            version: String::new(),
            description: "shards checked without a manifest".into(),
            license: String::new(),
            citation: String::new(),
            source: String::new(),
            language: String::new(),
            task,
            shards: shards.iter().map(|s| s.entry.clone()).collect(),
            subjects: Vec::new(),
        })
    });
    match manifest {
        Some(manifest) if !problems.has_errors() => {
            (Some(Benchmark { manifest, shards }), problems, checked)
        }
        _ => (None, problems, checked),
    }
}

fn check_loose_shards(
    files: &BenchmarkFiles,
    task: Task,
    problems: &mut Problems,
    checked: &mut Checked,
) {
    for (name, bytes) in &files.shards {
        let p = parse_shard(name, bytes, task);
        checked.shards += 1;
        checked.records += p.records;
        checked.valid_items += p.items.len();
        problems.extend(p.problems);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Item;
    use crate::writer::{build_benchmark, BenchmarkInfo};

    fn sample() -> BenchmarkFiles {
        let items: Vec<Item> = (0..5)
            .map(|i| {
                Item::choice(
                    format!("q{i}"),
                    format!("Question {i}?"),
                    vec!["a".into(), "b".into(), "c".into()],
                    i % 3,
                )
            })
            .collect();
        let info = BenchmarkInfo::new("t", Task::Mcq);
        let out = build_benchmark(&info, &[("test", items)], 2).unwrap();
        out.to_files()
    }

    #[test]
    fn written_benchmark_validates() {
        let (b, ps, c) = validate(&sample(), &ValidateOptions::default());
        assert!(!ps.has_errors(), "{ps}");
        assert_eq!(b.unwrap().len(), 5);
        assert_eq!((c.shards, c.records), (3, 5));
    }

    #[test]
    fn tampered_shard_reports_hash_and_count() {
        let mut f = sample();
        let (name, bytes) = f.shards.iter_mut().next().unwrap();
        let name = name.clone();
        let cut = bytes.len() - 10;
        bytes.truncate(cut); // cuts the last line short
        let (b, ps, _) = validate(&f, &ValidateOptions::default());
        assert!(b.is_none());
        let fields: Vec<_> = ps.problems.iter().filter_map(|p| p.field.clone()).collect();
        assert!(fields.contains(&"shards[0].sha256".to_string()), "{ps}");
        assert!(
            ps.problems
                .iter()
                .any(|p| p.file == name && p.line == Some(2) && p.message.contains("invalid JSON")),
            "{ps}"
        );
    }

    #[test]
    fn duplicate_ids_across_shards() {
        let mut f = sample();
        let names: Vec<String> = f.shards.keys().cloned().collect();
        let first = f.shards[&names[0]].clone();
        f.shards.insert(names[1].clone(), first);
        let (_, ps, _) = validate(&f, &ValidateOptions::default());
        assert!(
            ps.problems
                .iter()
                .any(|p| p.message.contains("duplicate id \"q0\"")),
            "{ps}"
        );
    }

    #[test]
    fn missing_shard_file() {
        let mut f = sample();
        let k = f.shards.keys().last().unwrap().clone();
        f.shards.remove(&k);
        let (_, ps, _) = validate(&f, &ValidateOptions::default());
        assert!(ps
            .problems
            .iter()
            .any(|p| p.message.contains("listed but not found")));
    }

    #[test]
    fn problem_cap_counts_the_rest() {
        let mut f = BenchmarkFiles::default();
        f.shards
            .insert("x.jsonl".into(), "garbage\n".repeat(50).into_bytes());
        let (_, ps, _) = validate(
            &f,
            &ValidateOptions {
                max_problems: 10,
                ..Default::default()
            },
        );
        assert_eq!(ps.problems.len(), 10);
        assert_eq!(ps.errors, 50);
        assert_eq!(ps.omitted, 41); // 50 errors + 1 no-manifest warning, 10 kept
    }
}
