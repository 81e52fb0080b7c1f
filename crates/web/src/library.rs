//! The runs library: every run kept in this browser's IndexedDB under its configuration hash, its
//! records appended one key each as they finish (`rec:<hash>:<index>`), so saving a record costs the
//! same at item 10 and at item 10,000. The run's description (`run:<hash>`) is written when it starts
//! and when it ends; its benchmark's files once per benchmark (`benchfiles:<benchmark hash>`).
//!
//! The key layout and what a list row shows are plain Rust (tested natively); the reads and writes go
//! through `storage`.

use crate::protocol::RunSpec;
use bedside_bench::metrics::wilson::wilson_interval;
use bedside_bench::metrics::{Interval, DEFAULT_LEVEL};
use bedside_eval::record::to_line;
use bedside_eval::{parse_run, ItemRecord, RunHeader};
use serde::{Deserialize, Serialize};

pub const RUN_PREFIX: &str = "run:";
pub const RECORD_PREFIX: &str = "rec:";
pub const BENCH_FILES_PREFIX: &str = "benchfiles:";
/// The single run the app kept before the library (read once, moved into the library).
pub const LEGACY_RUN_KEY: &str = "run";

/// Where a model comes from.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ModelSource {
    Bundled,
    /// A file the user picked, kept in the browser's private file system under this name.
    Stored(String),
    /// A URL on the app's own origin (the CSP blocks any other).
    Url(String),
}

/// A run's description in the library.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct RunMeta {
    pub header: RunHeader,
    pub bench_name: String,
    /// The benchmark's content hash when its files are kept (`benchfiles:<hash>`): needed to resume.
    #[serde(default)]
    pub bench_files: Option<String>,
    /// Where its model came from (`None` for a run imported from a file).
    #[serde(default)]
    pub model: Option<ModelSource>,
    #[serde(default)]
    pub spec: Option<RunSpec>,
    /// Items the run plans to evaluate (after the item limit).
    pub total: usize,
    pub finished: bool,
    /// Milliseconds since 1970 when the run was started (or imported).
    pub created_ms: f64,
    /// Imported from a run file (made by `bedside eval` or exported from an app).
    #[serde(default)]
    pub imported: Option<String>,
}

impl RunMeta {
    pub fn hash(&self) -> &str {
        &self.header.config_hash
    }
}

pub fn run_key(hash: &str) -> String {
    format!("{RUN_PREFIX}{hash}")
}

/// Records sort by their position in the evaluation order (zero-padded).
pub fn record_key(hash: &str, index: usize) -> String {
    format!("{RECORD_PREFIX}{hash}:{index:09}")
}

pub fn records_prefix(hash: &str) -> String {
    format!("{RECORD_PREFIX}{hash}:")
}

/// One row of the Runs page.
#[derive(Clone, PartialEq, Debug)]
pub struct RunSummary {
    pub meta: RunMeta,
    pub done: usize,
    pub correct: usize,
    pub answered: usize,
    pub accuracy: Option<f64>,
    pub wilson: Option<Interval>,
}

impl RunSummary {
    pub fn new(meta: RunMeta, records: &[ItemRecord]) -> RunSummary {
        let answered = records.iter().filter(|r| r.answered()).count();
        let correct = records.iter().filter(|r| r.answered() && r.correct).count();
        RunSummary {
            meta,
            done: records.len(),
            correct,
            answered,
            accuracy: (answered > 0).then(|| correct as f64 / answered as f64),
            wilson: (answered > 0)
                .then(|| wilson_interval(correct as u64, answered as u64, DEFAULT_LEVEL)),
        }
    }

    pub fn resumable(&self) -> bool {
        !self.meta.finished && self.meta.bench_files.is_some() && self.meta.model.is_some()
    }
}

/// The run file of a run (the JSONL `bedside report` reads): header, then records in the split's order
/// (as `bedside eval` writes them; CPU workers finish items out of order).
pub fn run_file(header: &RunHeader, records: &[ItemRecord]) -> String {
    let mut t = to_line(header);
    let mut ordered: Vec<&ItemRecord> = records.iter().collect();
    ordered.sort_by_key(|r| r.index);
    ordered.iter().for_each(|r| t.push_str(&to_line(r)));
    t
}

/// A run file read for import: its description and records. Errors name the file and line.
pub fn import(file: &str, bytes: &[u8], now_ms: f64) -> Result<(RunMeta, Vec<ItemRecord>), String> {
    let trimmed = std::str::from_utf8(bytes)
        .map(|t| t.trim_start())
        .unwrap_or("");
    if trimmed.starts_with('{') && !trimmed.contains("\"bedside_run\"") {
        return Err(format!("{file}: not a Bedside run file (its first line has no `bedside_run` header); runs are made by `bedside eval --out run.jsonl` or exported from Results. To load a benchmark, use the Run page."));
    }
    let run = parse_run(file, bytes)?;
    let planned = run.header.planned_items.max(run.records.len());
    let meta = RunMeta {
        bench_name: run.header.config.benchmark.name.clone(),
        header: run.header,
        bench_files: None,
        model: None,
        spec: None,
        total: planned,
        finished: run.records.len() >= planned,
        created_ms: now_ms,
        imported: Some(file.to_string()),
    };
    Ok((meta, run.records))
}

/// A short file name for a run's exports: `bedside-<model>-<benchmark>-<method>[-<probe>]`.
pub fn export_stem(h: &RunHeader) -> String {
    let c = &h.config;
    let model = c
        .model
        .file
        .trim_end_matches(".gguf")
        .trim_end_matches(".safetensors");
    let mut parts = vec![
        "bedside".to_string(),
        model.to_string(),
        c.benchmark.name.clone(),
        c.method.to_string(),
    ];
    if c.chat {
        parts.push("chat".into());
    }
    if c.shots > 0 {
        parts.push(format!("{}shot", c.shots));
    }
    parts.extend(c.probes.iter().map(|p| p.to_string().replace(':', "-")));
    parts
        .join("-")
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '-' || ch == '.' || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads and writes (IndexedDB through `storage`).
#[cfg(target_arch = "wasm32")]
mod io {
    use super::*;
    use crate::storage::{self, StorageError};
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeMap;
    use std::collections::VecDeque;
    use std::future::Future;
    use std::pin::Pin;

    thread_local! {
        static WRITES: RefCell<VecDeque<Pin<Box<dyn Future<Output = ()>>>>> = RefCell::new(VecDeque::new());
        static WRITING: Cell<bool> = const { Cell::new(false) };
    }

    /// Run library writes one after another, in the order they were asked for (a run's final
    /// description can never be overtaken by its first).
    pub fn in_order(write: impl Future<Output = ()> + 'static) {
        WRITES.with(|q| q.borrow_mut().push_back(Box::pin(write)));
        if WRITING.replace(true) {
            return;
        }
        wasm_bindgen_futures::spawn_local(async {
            while let Some(next) = WRITES.with(|q| q.borrow_mut().pop_front()) {
                next.await;
            }
            WRITING.set(false);
        });
    }

    /// Write a run's description.
    pub async fn save_meta(meta: &RunMeta) -> Result<(), StorageError> {
        let text = serde_json::to_string(meta).map_err(|e| StorageError::Other(e.to_string()))?;
        storage::put(&run_key(meta.hash()), &text).await
    }

    /// Keep a benchmark's files under its hash (once; later runs on it find them there).
    pub async fn save_bench_files(
        hash: &str,
        files: &BTreeMap<String, String>,
    ) -> Result<(), StorageError> {
        let key = format!("{BENCH_FILES_PREFIX}{hash}");
        if storage::get(&key).await.is_some() {
            return Ok(());
        }
        let text = serde_json::to_string(files).map_err(|e| StorageError::Other(e.to_string()))?;
        storage::put(&key, &text).await
    }

    pub async fn bench_files(hash: &str) -> Option<BTreeMap<String, String>> {
        let t = storage::get(&format!("{BENCH_FILES_PREFIX}{hash}")).await?;
        serde_json::from_str(&t).ok()
    }

    /// Append one record of a run (one small write, whatever the run's length).
    pub async fn append_record(hash: &str, rec: &ItemRecord) -> Result<(), StorageError> {
        let text = serde_json::to_string(rec).map_err(|e| StorageError::Other(e.to_string()))?;
        storage::put(&record_key(hash, rec.index), &text).await
    }

    pub async fn records(hash: &str) -> Vec<ItemRecord> {
        storage::with_prefix(&records_prefix(hash))
            .await
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_str(&v).ok())
            .collect()
    }

    pub async fn meta(hash: &str) -> Option<RunMeta> {
        serde_json::from_str(&storage::get(&run_key(hash)).await?).ok()
    }

    /// Every run in the library, newest first, with its records counted.
    pub async fn list() -> Vec<RunSummary> {
        let metas: Vec<RunMeta> = storage::with_prefix(RUN_PREFIX)
            .await
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_str(&v).ok())
            .collect();
        let mut out = Vec::new();
        for m in metas {
            let recs = records(m.hash()).await;
            out.push(RunSummary::new(m, &recs));
        }
        out.sort_by(|a, b| b.meta.created_ms.total_cmp(&a.meta.created_ms));
        out
    }

    pub async fn delete(hash: &str) {
        storage::delete(&run_key(hash)).await;
        storage::delete_prefix(&records_prefix(hash)).await;
    }

    /// Add a run read from a file (its records replace any kept under the same configuration).
    pub async fn add_imported(meta: &RunMeta, records: &[ItemRecord]) -> Result<(), StorageError> {
        storage::delete_prefix(&records_prefix(meta.hash())).await;
        save_meta(meta).await?;
        for r in records {
            append_record(meta.hash(), r).await?;
        }
        Ok(())
    }

    /// The run the app kept before the library existed: moved into the library, then removed.
    #[derive(Deserialize)]
    struct LegacyRun {
        bench_name: String,
        bench_files: BTreeMap<String, String>,
        model: ModelSource,
        spec: RunSpec,
        header: Option<RunHeader>,
        records: Vec<ItemRecord>,
        total: usize,
        finished: bool,
    }

    pub async fn migrate_legacy(now_ms: f64) {
        let Some(text) = storage::get(LEGACY_RUN_KEY).await else {
            return;
        };
        if let Ok(old) = serde_json::from_str::<LegacyRun>(&text) {
            if let Some(header) = old.header {
                let meta = RunMeta {
                    bench_files: Some(header.config.benchmark.hash.clone()),
                    header,
                    bench_name: old.bench_name,
                    model: Some(old.model),
                    spec: Some(old.spec),
                    total: old.total,
                    finished: old.finished,
                    created_ms: now_ms,
                    imported: None,
                };
                let ok =
                    save_bench_files(meta.header.config.benchmark.hash.as_str(), &old.bench_files)
                        .await
                        .is_ok()
                        && add_imported(&meta, &old.records).await.is_ok();
                if !ok {
                    return;
                }
            }
        }
        storage::delete(LEGACY_RUN_KEY).await;
    }
}
#[cfg(target_arch = "wasm32")]
pub use io::*;
