//! The Lab's bookkeeping, plain Rust (tested natively): the settings of a lesson's two runs, and
//! finding those runs among this session's jobs and the runs library, so a lesson shows its last
//! result after a reload and a plain run that already exists is reused rather than redone.

use crate::jobs::{JobId, JobStatus, Jobs};
use crate::library::{ModelSource, RunSummary};
use crate::protocol::RunSpec;
use bedside_eval::config::RunSettings;
use bedside_eval::lessons::Lesson;

/// The settings of a lesson's run: its method and, for the probed twin, its probe; every other
/// setting at its default (so the two runs differ in the probe alone).
pub fn settings(l: &Lesson, probed: bool) -> RunSettings {
    RunSettings {
        format: l.format.to_string(),
        method: l.method,
        probes: if probed {
            l.probe().into_iter().collect()
        } else {
            Vec::new()
        },
        ..RunSettings::default()
    }
}

pub fn spec(l: &Lesson, probed: bool, items: usize) -> RunSpec {
    RunSpec {
        settings: settings(l, probed),
        limit: Some(items),
        workers: None,
    }
}

/// Where a lesson's run is.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// A job of this session (queued, running or over).
    Job(JobId),
    /// A run in the library, by configuration hash.
    Stored(String),
}

/// The newest run of `settings` on benchmark `bench` with `model`: a job of this session (not one
/// cancelled or failed before its first record) first, then the library's newest.
pub fn find(
    jobs: &Jobs,
    library: &[RunSummary],
    bench: &str,
    model: &ModelSource,
    settings: &RunSettings,
) -> Option<Found> {
    let job = jobs.list.iter().rev().find(|j| {
        j.what.bench.name == bench
            && j.what.model == *model
            && j.what.spec.settings == *settings
            && !(matches!(j.status, JobStatus::Cancelled | JobStatus::Failed(_)) && j.done() == 0)
    });
    if let Some(j) = job {
        return Some(Found::Job(j.id));
    }
    library
        .iter()
        .filter(|r| {
            r.meta.bench_name == bench
                && r.meta.model.as_ref() == Some(model)
                && r.meta.spec.as_ref().map(|s| &s.settings) == Some(settings)
        })
        .max_by(|a, b| a.meta.created_ms.total_cmp(&b.meta.created_ms))
        .map(|r| Found::Stored(r.meta.hash().to_string()))
}
