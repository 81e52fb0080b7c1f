//! Items of one run shared among several workers, so a CPU run uses every core of the device.
//!
//! The worker the page talks to (the primary) holds the run: its plan, its [`RunState`] and its
//! records. It starts helper workers (the same worker program, one level down), each with its own copy
//! of the model, read from the same files. A helper builds the run's configuration from the same spec
//! and benchmark and answers with its hash, which names the model's SHA-256 and the benchmark's hash:
//! only a helper whose hash equals the primary's is given items, so a run can never mix in another
//! model or configuration. The primary evaluates items itself and keeps each helper `depth` items
//! ahead; records come back to the primary, which alone counts them and sends them to the page.
//!
//! A helper that fails (it could not load, it crashed, it ran out of memory) is dropped and its items
//! are handed out again; a record arriving for an item the primary no longer waits for (a cancelled
//! run, a dropped helper) is ignored. Each item is evaluated on one thread by the same code and model,
//! so its record does not depend on which worker ran it.
//!
//! Plain Rust: the page's worker (`bin/worker.rs`) does the messaging, this file the bookkeeping,
//! tested natively.

use bedside_eval::{Plan, RunState};

pub type JobId = u32;

/// One helper worker, as the primary sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Helper {
    /// Reading and building its copy of the model.
    Loading,
    /// Model loaded, not part of a run.
    Idle,
    /// Building job's configuration; given no item until its hash is checked.
    Sharing(JobId),
    /// Evaluating job's items: their plan indices, oldest first.
    Working { job: JobId, in_flight: Vec<usize> },
    /// Dropped, and why.
    Gone(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub helpers: Vec<Helper>,
    /// Items a helper holds at once: one running, one waiting, so it never idles while the primary is
    /// busy with an item of its own.
    pub depth: usize,
    /// The job being run, if any.
    pub job: Option<JobId>,
    /// Plan indices taken back from dropped helpers, to hand out again.
    returned: Vec<usize>,
}

impl Pool {
    /// `n` helpers, all loading.
    pub fn new(n: usize) -> Pool {
        Pool {
            helpers: vec![Helper::Loading; n],
            depth: 2,
            job: None,
            returned: Vec::new(),
        }
    }

    /// Helpers not dropped.
    pub fn alive(&self) -> usize {
        self.helpers
            .iter()
            .filter(|h| !matches!(h, Helper::Gone(_)))
            .count()
    }

    /// Helpers evaluating items of the current job.
    pub fn working(&self) -> usize {
        self.helpers
            .iter()
            .filter(|h| matches!(h, Helper::Working { job, .. } if Some(*job) == self.job))
            .count()
    }

    /// Items given to helpers and not back yet.
    pub fn in_flight(&self) -> usize {
        self.helpers
            .iter()
            .map(|h| match h {
                Helper::Working { in_flight, .. } => in_flight.len(),
                _ => 0,
            })
            .sum()
    }

    /// Helper `h` loaded its model. `true` when it should be sent the current job now.
    pub fn loaded(&mut self, h: usize) -> bool {
        if self.helpers.get(h) != Some(&Helper::Loading) {
            return false;
        }
        self.helpers[h] = match self.job {
            Some(job) => Helper::Sharing(job),
            None => Helper::Idle,
        };
        self.job.is_some()
    }

    /// A run starts: the idle helpers to send it to.
    pub fn start(&mut self, job: JobId) -> Vec<usize> {
        self.end();
        self.job = Some(job);
        let mut out = Vec::new();
        for (i, h) in self.helpers.iter_mut().enumerate() {
            if *h == Helper::Idle {
                *h = Helper::Sharing(job);
                out.push(i);
            }
        }
        out
    }

    /// Helper `h` built job's configuration with hash `theirs`; `ours` is the primary's. A helper with
    /// another hash is dropped (its model or benchmark is not the run's): then `Some(why)`.
    pub fn shared(&mut self, h: usize, job: JobId, theirs: &str, ours: &str) -> Option<String> {
        if self.helpers.get(h) != Some(&Helper::Sharing(job)) {
            return None;
        }
        if theirs != ours {
            let why =
                format!("it built another configuration (hash {theirs}, the run's is {ours})");
            self.helpers[h] = Helper::Gone(why.clone());
            return Some(why);
        }
        self.helpers[h] = if Some(job) == self.job {
            Helper::Working {
                job,
                in_flight: Vec::new(),
            }
        } else {
            Helper::Idle
        };
        None
    }

    /// Hand out items to the working helpers, up to `depth` each: `(helper, plan index)` to send.
    /// Items taken back from dropped helpers go first.
    pub fn assign(&mut self, state: &mut RunState, plan: &Plan) -> Vec<(usize, usize)> {
        self.give_back(state);
        let mut out = Vec::new();
        let Some(current) = self.job else {
            return out;
        };
        for (h, helper) in self.helpers.iter_mut().enumerate() {
            if let Helper::Working { job, in_flight } = helper {
                while *job == current && in_flight.len() < self.depth {
                    let Some(i) = state.next_index(plan) else {
                        return out;
                    };
                    in_flight.push(i);
                    out.push((h, i));
                }
            }
        }
        out
    }

    /// Items taken back from dropped helpers not handed out yet: give them to `state` (the primary
    /// then takes them itself when no helper is left).
    pub fn give_back(&mut self, state: &mut RunState) {
        for i in self.returned.drain(..) {
            state.retry(i);
        }
    }

    /// Helper `h` finished the item `id` of `job`. `true` when the primary was waiting for it from
    /// this helper: only then is the record counted.
    pub fn finished(&mut self, h: usize, job: JobId, plan: &Plan, id: &str) -> bool {
        if Some(job) != self.job {
            return false;
        }
        let Some(Helper::Working { job: j, in_flight }) = self.helpers.get_mut(h) else {
            return false;
        };
        if *j != job {
            return false;
        }
        match in_flight
            .iter()
            .position(|&i| plan.items.get(i).is_some_and(|p| p.item.id == id))
        {
            Some(k) => {
                in_flight.remove(k);
                true
            }
            None => false,
        }
    }

    /// Drop helper `h`; its items in flight are handed out again.
    pub fn lost(&mut self, h: usize, why: String) {
        let Some(helper) = self.helpers.get_mut(h) else {
            return;
        };
        if let Helper::Working { in_flight, .. } = helper {
            self.returned.append(in_flight);
        }
        *helper = Helper::Gone(why);
    }

    /// The run is over (finished, cancelled or failed): helpers go idle, and what they still send for
    /// it is ignored.
    pub fn end(&mut self) {
        self.job = None;
        self.returned.clear();
        for h in self.helpers.iter_mut() {
            if matches!(h, Helper::Sharing(_) | Helper::Working { .. }) {
                *h = Helper::Idle;
            }
        }
    }
}

/// Most workers a run uses on its own (more cores rarely pay for another copy of the model in a tab).
pub const MAX_AUTO_WORKERS: usize = 4;
/// Most workers a user can ask for.
pub const MAX_WORKERS: usize = 8;
/// Memory the model copies of all workers may take together.
pub const MEMORY_BUDGET: u64 = 2 << 30;

/// Workers (the primary included) for a CPU run: `requested`, or by default one per core up to
/// [`MAX_AUTO_WORKERS`]; either way no more than fit [`MEMORY_BUDGET`] at about twice the model's
/// memory each (the file's bytes and the model built on them), and at least one.
pub fn workers(requested: Option<usize>, cores: usize, model_bytes: u64) -> usize {
    let want = requested
        .unwrap_or(cores.min(MAX_AUTO_WORKERS))
        .clamp(1, MAX_WORKERS);
    let per = model_bytes.saturating_mul(2).max(1);
    let fit = (MEMORY_BUDGET / per).max(1) as usize;
    want.min(fit)
}
