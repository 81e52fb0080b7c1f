//! The job queue: each job is one run with the model, benchmark and settings it was queued with, kept
//! for its whole life — changing the Run page's choices, or loading another model, never changes a
//! job already queued or running. Messages from the worker carry the job id; a message for another job
//! than the running one is ignored, so two runs can never mix their records.
//!
//! Plain Rust with a pure reducer (`Jobs::apply`), tested natively.

use crate::library::ModelSource;
use crate::protocol::{BenchFiles, RunSpec};
use bedside_eval::{ItemRecord, Progress, RunConfig, RunHeader};
use std::rc::Rc;

pub type JobId = u32;

#[derive(Clone, Debug, PartialEq)]
pub enum JobStatus {
    Queued,
    /// Its model is loading (or it waits for the worker).
    Starting,
    Running,
    Finished,
    Cancelled,
    Failed(String),
}

impl JobStatus {
    pub fn active(&self) -> bool {
        matches!(self, JobStatus::Starting | JobStatus::Running)
    }

    pub fn over(&self) -> bool {
        matches!(
            self,
            JobStatus::Finished | JobStatus::Cancelled | JobStatus::Failed(_)
        )
    }
}

/// What a job runs: fixed when it is queued.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    pub spec: RunSpec,
    pub bench: Rc<BenchFiles>,
    pub model: ModelSource,
    /// Resuming a stored run: its configuration (the worker refuses to continue under another one)
    /// and its records so far.
    pub resume: Option<(RunConfig, Rc<Vec<ItemRecord>>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub what: JobSpec,
    pub status: JobStatus,
    pub header: Option<RunHeader>,
    /// Records of this session (a resumed job's earlier records are in `what.resume`).
    pub records: Vec<ItemRecord>,
    pub total: usize,
    pub progress: Option<Progress>,
    /// Milliseconds (page clock) when it started running and when its first record came.
    pub started_ms: Option<f64>,
    pub first_result_ms: Option<f64>,
}

impl Job {
    /// Every record of the run: earlier sessions' (resume) then this session's.
    pub fn all_records(&self) -> Vec<ItemRecord> {
        let mut out: Vec<ItemRecord> = self
            .what
            .resume
            .as_ref()
            .map(|(_, r)| r.as_ref().clone())
            .unwrap_or_default();
        out.extend(self.records.iter().cloned());
        out
    }

    /// How many records the run has (earlier sessions' and this one's), without copying them.
    pub fn done(&self) -> usize {
        self.what.resume.as_ref().map_or(0, |(_, r)| r.len()) + self.records.len()
    }

    /// A short label: model (once known), benchmark, method.
    pub fn label(&self) -> String {
        match &self.header {
            Some(h) => format!(
                "{} on {} · {}{}{}",
                h.config.model.name,
                h.config.benchmark.name,
                h.config.method,
                if h.config.chat { " · chat" } else { "" },
                if h.config.probes.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", bedside_bench::probes::describe(&h.config.probes))
                }
            ),
            None => format!(
                "{} · {}{}",
                self.what.bench.name,
                self.what.spec.settings.method,
                if self.what.spec.settings.probes.is_empty() {
                    String::new()
                } else {
                    format!(
                        " · {}",
                        bedside_bench::probes::describe(&self.what.spec.settings.probes)
                    )
                }
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Jobs {
    pub list: Vec<Job>,
    next_id: JobId,
}

/// Something that happens to the queue.
#[derive(Clone, Debug)]
pub enum JobEvent {
    Enqueue(JobSpec),
    /// The head job is being started (its model is loading or the run was sent).
    Starting(JobId),
    Header {
        job: JobId,
        header: RunHeader,
        total: usize,
        now_ms: f64,
    },
    Record {
        job: JobId,
        record: ItemRecord,
        progress: Progress,
        now_ms: f64,
    },
    Done {
        job: JobId,
        cancelled: bool,
    },
    Failed {
        job: JobId,
        message: String,
    },
    /// The job continues a stored run of the same configuration: its earlier records count as its own.
    Continue {
        job: JobId,
        config: RunConfig,
        records: Rc<Vec<ItemRecord>>,
    },
    /// Remove a queued job (a running one is cancelled through the worker, then reports `Done`).
    Remove(JobId),
    /// Forget finished, cancelled and failed jobs.
    ClearOver,
}

impl Jobs {
    /// The job now starting or running, if any.
    pub fn active(&self) -> Option<&Job> {
        self.list.iter().find(|j| j.status.active())
    }

    /// The next job to start, when none is active.
    pub fn next_queued(&self) -> Option<&Job> {
        if self.active().is_some() {
            return None;
        }
        self.list.iter().find(|j| j.status == JobStatus::Queued)
    }

    pub fn get(&self, id: JobId) -> Option<&Job> {
        self.list.iter().find(|j| j.id == id)
    }

    pub fn queued(&self) -> usize {
        self.list
            .iter()
            .filter(|j| j.status == JobStatus::Queued)
            .count()
    }

    /// The id the next enqueued job gets.
    pub fn next_id(&self) -> JobId {
        self.next_id + 1
    }

    fn get_mut(&mut self, id: JobId) -> Option<&mut Job> {
        self.list.iter_mut().find(|j| j.id == id)
    }

    /// Apply an event. Events about a job that is not the active one (a stale message from a job
    /// already over, or an unknown id) change nothing and return `false`.
    pub fn apply(&mut self, ev: JobEvent) -> bool {
        match ev {
            JobEvent::Enqueue(what) => {
                self.next_id += 1;
                self.list.push(Job {
                    id: self.next_id,
                    what,
                    status: JobStatus::Queued,
                    header: None,
                    records: Vec::new(),
                    total: 0,
                    progress: None,
                    started_ms: None,
                    first_result_ms: None,
                });
                true
            }
            JobEvent::Starting(id) => {
                if self.active().is_some() {
                    return false;
                }
                match self.get_mut(id) {
                    Some(j) if j.status == JobStatus::Queued => {
                        j.status = JobStatus::Starting;
                        true
                    }
                    _ => false,
                }
            }
            JobEvent::Header {
                job,
                header,
                total,
                now_ms,
            } => match self.get_mut(job) {
                Some(j) if j.status == JobStatus::Starting => {
                    j.header = Some(header);
                    j.total = total;
                    j.status = JobStatus::Running;
                    j.started_ms = Some(now_ms);
                    true
                }
                _ => false,
            },
            JobEvent::Record {
                job,
                record,
                progress,
                now_ms,
            } => match self.get_mut(job) {
                Some(j) if j.status == JobStatus::Running => {
                    if j.first_result_ms.is_none() {
                        j.first_result_ms = Some(now_ms - j.started_ms.unwrap_or(now_ms));
                    }
                    j.records.push(record);
                    j.progress = Some(progress);
                    true
                }
                _ => false,
            },
            JobEvent::Done { job, cancelled } => match self.get_mut(job) {
                Some(j) if j.status.active() => {
                    j.status = if cancelled {
                        JobStatus::Cancelled
                    } else {
                        JobStatus::Finished
                    };
                    true
                }
                _ => false,
            },
            JobEvent::Failed { job, message } => match self.get_mut(job) {
                Some(j) if !j.status.over() => {
                    j.status = JobStatus::Failed(message);
                    true
                }
                _ => false,
            },
            JobEvent::Continue {
                job,
                config,
                records,
            } => match self.get_mut(job) {
                Some(j) if j.status == JobStatus::Starting && j.what.resume.is_none() => {
                    j.what.resume = Some((config, records));
                    true
                }
                _ => false,
            },
            JobEvent::Remove(id) => {
                let before = self.list.len();
                self.list
                    .retain(|j| !(j.id == id && j.status == JobStatus::Queued));
                self.list.len() != before
            }
            JobEvent::ClearOver => {
                self.list.retain(|j| !j.status.over());
                true
            }
        }
    }
}
