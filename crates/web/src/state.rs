//! The app's state, one small part per domain — the model, the benchmark, the jobs, the runs library,
//! browser storage — and one pure reducer over them. Nothing here touches the browser (times come in
//! with the actions), so the reducer is tested natively (`tests/state.rs`), and the Lab and Compare
//! pages can add their own parts without touching the rest.

use crate::jobs::{JobEvent, JobId, JobSpec, Jobs};
use crate::library::{ModelSource, RunMeta, RunSummary};
use crate::protocol::{BackendChoice, FromWorker, ModelInfo, RunSpec};
use bedside_eval::{ItemRecord, RunHeader};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The pages, each with its own address (`#/run`, `#/results`, ...), so back, forward and reload keep
/// the page.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Page {
    #[default]
    Run,
    Results,
    Runs,
    Compare,
    Lab,
    Privacy,
}

impl Page {
    pub const ALL: [Page; 6] = [
        Page::Run,
        Page::Results,
        Page::Runs,
        Page::Compare,
        Page::Lab,
        Page::Privacy,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Page::Run => "run",
            Page::Results => "results",
            Page::Runs => "runs",
            Page::Compare => "compare",
            Page::Lab => "lab",
            Page::Privacy => "privacy",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Page::Run => "Run",
            Page::Results => "Results",
            Page::Runs => "Runs",
            Page::Compare => "Compare",
            Page::Lab => "Lab",
            Page::Privacy => "Privacy",
        }
    }

    /// The page of a location hash (`#/results`); unknown or empty is the Run page.
    pub fn from_hash(hash: &str) -> Page {
        let slug = hash.trim_start_matches('#').trim_start_matches('/');
        let slug = slug.split('/').next().unwrap_or("");
        Page::ALL
            .into_iter()
            .find(|p| p.slug() == slug)
            .unwrap_or_default()
    }

    pub fn hash(self) -> String {
        format!("#/{}", self.slug())
    }
}

/// The model: what the user chose, what is loading, what the worker has loaded.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct ModelState {
    pub chosen: Option<ModelSource>,
    /// Being loaded (for a job, or because the user picked it).
    pub loading: Option<ModelSource>,
    /// Described from its header before its weights arrive.
    pub preview: Option<ModelInfo>,
    /// Bytes read so far, of how many (0: unknown).
    pub progress: Option<(u64, u64)>,
    /// Loaded in the worker: from where, on which backend choice.
    pub loaded: Option<(ModelSource, BackendChoice, ModelInfo)>,
}

impl ModelState {
    pub fn info(&self) -> Option<&ModelInfo> {
        self.loaded.as_ref().map(|(_, _, i)| i)
    }

    /// Whether `src` is loaded on `backend`: loaded with that choice, or with Auto where Auto took the
    /// device now asked for (no reload, and a CPU model's helper workers are kept).
    pub fn is_loaded(&self, src: &ModelSource, backend: BackendChoice) -> bool {
        self.loaded.as_ref().is_some_and(|(s, b, i)| {
            s == src
                && (*b == backend
                    || *b == BackendChoice::Auto
                        && match backend {
                            BackendChoice::Cpu => !i.on_gpu,
                            BackendChoice::Gpu => i.on_gpu,
                            BackendChoice::Auto => false,
                        })
        })
    }
}

/// The benchmark chosen on the Run page.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct BenchState {
    pub name: Option<String>,
    pub files: Rc<BTreeMap<String, String>>,
    pub items: usize,
    pub problems: Vec<String>,
}

/// What browser storage holds.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct StorageState {
    pub models: Vec<(String, f64)>,
    pub benches: Vec<String>,
    pub used: f64,
    pub quota: f64,
    pub persisted: Option<bool>,
    /// The last write that failed (the records written before it are kept).
    pub write_error: Option<String>,
}

/// The run the Results page shows.
#[derive(Clone, PartialEq, Debug)]
pub enum View {
    /// A job of this session (live while it runs).
    Job(JobId),
    /// A run from the library.
    Stored {
        meta: RunMeta,
        records: Rc<Vec<ItemRecord>>,
    },
}

#[derive(Clone, PartialEq, Debug, Default)]
pub struct AppState {
    pub page: Page,
    pub worker_ready: bool,
    pub status: String,
    pub error: Option<String>,
    /// A request that was refused, and why (e.g. loading a model while a run is in progress).
    pub notice: Option<String>,
    pub gpu: Option<String>,
    pub backend: BackendChoice,
    pub model: ModelState,
    pub bench: BenchState,
    pub spec: RunSpec,
    pub jobs: Jobs,
    /// The job whose `Run` message was sent to the worker.
    pub run_sent: Option<JobId>,
    pub library: Vec<RunSummary>,
    pub library_loaded: bool,
    pub storage: StorageState,
    pub view: Option<View>,
    /// The last visit's settings have been read (they are saved only after, so the defaults of a
    /// fresh page never overwrite them).
    pub settings_loaded: bool,
    pub comparison: CompareState,
}

/// The Compare page: the runs sent to the worker, and what came back.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct CompareState {
    /// Waiting for the worker.
    pub pending: bool,
    /// The engine's comparison: the HTML shown, the page and CSV exported.
    pub result: Option<Compared>,
    pub error: Option<String>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Compared {
    pub body: String,
    pub page: String,
    pub csv: String,
    pub runs: usize,
    pub items: usize,
}

pub enum Action {
    Go(Page),
    Gpu(String),
    Error(Option<String>),
    Notice(Option<String>),
    Spec(RunSpec),
    /// Settings read back from the last visit (`None`: there were none).
    Restore(Option<(RunSpec, BackendChoice)>),
    Backend(BackendChoice),
    ModelChosen(ModelSource),
    ModelLoading(ModelSource),
    BenchLoaded {
        name: String,
        files: BTreeMap<String, String>,
        items: usize,
        problems: Vec<String>,
    },
    Enqueue(JobSpec),
    Job(JobEvent),
    RunSent(JobId),
    Worker(FromWorker, f64),
    Library(Vec<RunSummary>),
    View(Option<View>),
    Storage {
        models: Vec<(String, f64)>,
        benches: Vec<String>,
        used: f64,
        quota: f64,
    },
    Persisted(bool),
    WriteFailed(Option<String>),
    /// Runs were sent to the worker to compare.
    ComparePending,
}

impl AppState {
    /// Whether a job is starting or running (then the model cannot change).
    pub fn busy(&self) -> bool {
        self.jobs.active().is_some()
    }

    /// The run the Results page shows: its header, every record so far, and the items it plans.
    pub fn shown(&self) -> Option<(RunHeader, Vec<ItemRecord>, usize)> {
        match self.view.as_ref()? {
            View::Job(id) => {
                let j = self.jobs.get(*id)?;
                Some((j.header.clone()?, j.all_records(), j.total))
            }
            View::Stored { meta, records } => {
                Some((meta.header.clone(), records.as_ref().clone(), meta.total))
            }
        }
    }

    /// The configuration hash of the run shown.
    pub fn shown_hash(&self) -> Option<String> {
        match self.view.as_ref()? {
            View::Job(id) => Some(self.jobs.get(*id)?.header.as_ref()?.config_hash.clone()),
            View::Stored { meta, .. } => Some(meta.header.config_hash.clone()),
        }
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Go(p) => self.page = p,
            Action::Gpu(g) => self.gpu = Some(g),
            Action::Error(e) => self.error = e,
            Action::Notice(n) => self.notice = n,
            Action::Spec(spec) => self.spec = spec,
            Action::Restore(saved) => {
                if let Some((spec, backend)) = saved {
                    self.spec = spec;
                    self.backend = backend;
                }
                self.settings_loaded = true;
            }
            Action::Backend(b) => {
                if !self.busy() {
                    self.backend = b;
                }
            }
            Action::ModelChosen(m) => self.model.chosen = Some(m),
            Action::ModelLoading(m) => {
                self.model.loading = Some(m);
                self.model.preview = None;
                self.model.progress = None;
                self.error = None;
            }
            Action::BenchLoaded {
                name,
                files,
                items,
                problems,
            } => {
                self.bench = BenchState {
                    name: Some(name),
                    files: Rc::new(files),
                    items,
                    problems,
                }
            }
            Action::Enqueue(what) => {
                self.error = None;
                self.notice = None;
                self.jobs.apply(JobEvent::Enqueue(what));
            }
            Action::Job(ev) => {
                self.jobs.apply(ev);
            }
            Action::RunSent(id) => self.run_sent = Some(id),
            Action::Library(list) => {
                self.library = list;
                self.library_loaded = true;
            }
            Action::View(v) => self.view = v,
            Action::Storage {
                models,
                benches,
                used,
                quota,
            } => {
                self.storage.models = models;
                self.storage.benches = benches;
                self.storage.used = used;
                self.storage.quota = quota;
            }
            Action::Persisted(p) => self.storage.persisted = Some(p),
            Action::WriteFailed(e) => self.storage.write_error = e,
            Action::Worker(msg, now_ms) => self.worker(msg, now_ms),
            Action::ComparePending => {
                self.comparison = CompareState {
                    pending: true,
                    result: None,
                    error: None,
                }
            }
        }
    }

    fn worker(&mut self, msg: FromWorker, now_ms: f64) {
        match msg {
            FromWorker::Ready => self.worker_ready = true,
            FromWorker::Status { text } => self.status = text,
            FromWorker::ModelInspected { info } => self.model.preview = Some(info),
            FromWorker::LoadProgress { done, total } => self.model.progress = Some((done, total)),
            FromWorker::ModelLoaded { info } => {
                self.model.progress = None;
                self.status = if info.fell_back {
                    "The GPU failed; the run continues on the CPU from the last completed item."
                        .into()
                } else {
                    format!("{} loaded in {:.1} s", info.name, info.load_ms / 1000.0)
                };
                let src = self
                    .model
                    .loading
                    .take()
                    .or_else(|| self.model.loaded.as_ref().map(|(s, _, _)| s.clone()))
                    .or_else(|| self.model.chosen.clone())
                    .unwrap_or(ModelSource::Bundled);
                let backend = self
                    .model
                    .loaded
                    .as_ref()
                    .filter(|_| info.fell_back)
                    .map(|(_, b, _)| *b)
                    .unwrap_or(self.backend);
                self.model.loaded = Some((src, backend, info));
            }
            FromWorker::Backend { text } => {
                if let Some((_, _, info)) = self.model.loaded.as_mut() {
                    info.backend = text;
                }
            }
            FromWorker::Header { job, header, total } => {
                if self.jobs.apply(JobEvent::Header {
                    job,
                    header,
                    total,
                    now_ms,
                }) {
                    self.status = "running".into();
                    if !matches!(self.view, Some(View::Stored { .. })) {
                        self.view = Some(View::Job(job));
                    }
                }
            }
            FromWorker::Record {
                job,
                record,
                progress,
            } => {
                self.jobs.apply(JobEvent::Record {
                    job,
                    record,
                    progress,
                    now_ms,
                });
            }
            FromWorker::Done { job, cancelled } => {
                if self.jobs.apply(JobEvent::Done { job, cancelled }) {
                    self.status = if cancelled { "cancelled" } else { "finished" }.into();
                    if self.jobs.active().is_none() && self.jobs.queued() == 0 {
                        // What was refused because of the run no longer applies.
                        self.notice = None;
                    }
                    if !cancelled && self.jobs.queued() == 0 {
                        self.view = Some(View::Job(job));
                        // The Lab shows its lessons' results itself.
                        if self.page != Page::Lab && self.page != Page::Compare {
                            self.page = Page::Results;
                        }
                    }
                }
            }
            FromWorker::JobFailed { job, message } => {
                if self.jobs.apply(JobEvent::Failed {
                    job,
                    message: message.clone(),
                }) {
                    self.error = Some(message);
                }
            }
            FromWorker::Busy { message } => {
                self.notice = Some(message);
                self.model.loading = None;
                self.model.preview = None;
                self.model.progress = None;
            }
            FromWorker::Compared {
                body,
                page,
                csv,
                runs,
                items,
            } => {
                self.comparison = CompareState {
                    pending: false,
                    result: Some(Compared {
                        body,
                        page,
                        csv,
                        runs,
                        items,
                    }),
                    error: None,
                }
            }
            FromWorker::CompareFailed { message } => {
                self.comparison = CompareState {
                    pending: false,
                    result: None,
                    error: Some(message),
                }
            }
            // Between the worker and its helpers only.
            FromWorker::Shared { .. } | FromWorker::Evaluated { .. } => {}
            FromWorker::Error { message } => {
                // A model that failed to load fails the job waiting for it.
                if self.model.loading.take().is_some() {
                    if let Some(id) = self.jobs.active().map(|j| j.id) {
                        self.jobs.apply(JobEvent::Failed {
                            job: id,
                            message: message.clone(),
                        });
                    }
                }
                self.model.preview = None;
                self.model.progress = None;
                self.error = Some(message);
            }
        }
    }
}

impl yew::Reducible for AppState {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        s.apply(action);
        Rc::new(s)
    }
}
