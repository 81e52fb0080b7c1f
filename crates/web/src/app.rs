//! The app shell: state (a `Reducible`), the worker link, navigation, and the effects that keep the run
//! saved in IndexedDB so a reload can resume it.

use crate::pages::{compare::Compare, lab::Lab, privacy::Privacy, results::Results, run::Run};
use crate::protocol::{BackendChoice, FromWorker, ModelInfo, RunSpec, ToWorker};
use crate::storage;
use crate::worker_link::WorkerLink;
use bedside_eval::{ItemRecord, RunHeader};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

/// The bundled model, served from the app's own origin.
pub const BUNDLED_MODEL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// The bundled sample benchmarks (folders under `samples/`).
pub const BUNDLED_BENCHES: [&str; 6] = [
    "mmlu-medical",
    "medqa-4options",
    "medmcqa",
    "pubmedqa",
    "mmlu-pro-health",
    "mmlu-redux-medical",
];
const RUN_KEY: &str = "run";
/// IndexedDB key prefix of benchmarks loaded from the user's files.
pub const BENCH_PREFIX: &str = "bench:";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Page {
    Run,
    Results,
    Compare,
    Lab,
    Privacy,
}

/// Where a model comes from.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum ModelSource {
    Bundled,
    /// A file the user picked, kept in the browser's private file system under this name.
    Stored(String),
    /// A URL on the app's own origin (the CSP blocks any other).
    Url(String),
}

/// A run as saved in IndexedDB after every record.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct SavedRun {
    pub bench_name: String,
    pub bench_files: BTreeMap<String, String>,
    pub model: ModelSource,
    pub spec: RunSpec,
    pub header: Option<RunHeader>,
    pub records: Vec<ItemRecord>,
    pub total: usize,
    pub finished: bool,
}

#[derive(Clone, PartialEq, Default)]
pub struct AppState {
    pub page: Option<Page>,
    pub worker_ready: bool,
    pub status: String,
    pub error: Option<String>,
    pub gpu: Option<String>,
    /// Where the user wants the model to run (Auto: WebGPU when there is an adapter).
    pub backend: BackendChoice,
    pub model_source: Option<ModelSource>,
    pub model: Option<ModelInfo>,
    pub model_loading: bool,
    /// The model being loaded, described from its header before its weights arrive.
    pub model_preview: Option<ModelInfo>,
    /// Bytes of the model read so far, of how many (0: unknown).
    pub load_progress: Option<(u64, u64)>,
    pub bench_name: Option<String>,
    pub bench_files: BTreeMap<String, String>,
    pub bench_items: usize,
    pub bench_problems: Vec<String>,
    pub spec: RunSpec,
    pub header: Option<RunHeader>,
    pub records: Vec<ItemRecord>,
    pub total: usize,
    pub progress: Option<bedside_eval::Progress>,
    pub running: bool,
    pub finished: bool,
    pub cancelled: bool,
    /// A run is queued until the model has loaded.
    pub pending_run: bool,
    pub resume_offer: Option<SavedRun>,
    pub run_started_ms: f64,
    pub first_result_ms: Option<f64>,
    pub stored_models: Vec<(String, f64)>,
    /// Benchmarks the user loaded from files, kept in IndexedDB (`bench:<name>`).
    pub stored_benches: Vec<String>,
    pub storage_used: f64,
}

pub enum Action {
    Worker(FromWorker),
    Go(Page),
    Gpu(String),
    BenchLoaded {
        name: String,
        files: BTreeMap<String, String>,
        items: usize,
        problems: Vec<String>,
    },
    ModelChosen(ModelSource),
    /// A different backend was chosen: the model is loaded again on it before the next run.
    Backend(BackendChoice),
    Spec(RunSpec),
    /// A run was requested: reset results, queue it.
    Start,
    Resume(SavedRun),
    ResumeOffer(Option<SavedRun>),
    Storage {
        models: Vec<(String, f64)>,
        benches: Vec<String>,
        used: f64,
    },
    Error(Option<String>),
    LoadingModel,
}

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

impl Reducible for AppState {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Go(p) => s.page = Some(p),
            Action::Gpu(g) => s.gpu = Some(g),
            Action::Error(e) => s.error = e,
            Action::LoadingModel => {
                s.model_loading = true;
                s.model_preview = None;
                s.load_progress = None;
                s.error = None;
            }
            Action::Spec(spec) => s.spec = spec,
            Action::Backend(b) => {
                if s.backend != b {
                    s.model = None;
                }
                s.backend = b;
            }
            Action::ModelChosen(m) => {
                if s.model_source.as_ref() != Some(&m) {
                    s.model = None;
                }
                s.model_source = Some(m);
            }
            Action::BenchLoaded {
                name,
                files,
                items,
                problems,
            } => {
                s.bench_name = Some(name);
                s.bench_files = files;
                s.bench_items = items;
                s.bench_problems = problems;
            }
            Action::Start => {
                s.header = None;
                s.records.clear();
                s.progress = None;
                s.finished = false;
                s.cancelled = false;
                s.pending_run = true;
                s.error = None;
                s.run_started_ms = now_ms();
                s.first_result_ms = None;
            }
            Action::Resume(saved) => {
                s.bench_name = Some(saved.bench_name.clone());
                s.bench_files = saved.bench_files.clone();
                s.model_source = Some(saved.model.clone());
                s.spec = saved.spec.clone();
                s.header = saved.header.clone();
                s.records = saved.records.clone();
                s.total = saved.total;
                s.finished = false;
                s.cancelled = false;
                s.pending_run = true;
                s.resume_offer = None;
                s.run_started_ms = now_ms();
                s.first_result_ms = None;
            }
            Action::ResumeOffer(o) => s.resume_offer = o,
            Action::Storage {
                models,
                benches,
                used,
            } => {
                s.stored_models = models;
                s.stored_benches = benches;
                s.storage_used = used;
            }
            Action::Worker(msg) => match msg {
                FromWorker::Ready => s.worker_ready = true,
                FromWorker::Status { text } => s.status = text,
                FromWorker::ModelInspected { info } => s.model_preview = Some(info),
                FromWorker::LoadProgress { done, total } => s.load_progress = Some((done, total)),
                FromWorker::ModelLoaded { info } => {
                    s.load_progress = None;
                    s.status = if info.backend.contains("after the GPU failed") {
                        "The GPU failed; the run continues on the CPU from the last completed item."
                            .into()
                    } else {
                        format!("{} loaded in {:.1} s", info.name, info.load_ms / 1000.0)
                    };
                    s.model = Some(info);
                    s.model_loading = false;
                }
                FromWorker::BenchLoaded { .. } => {}
                FromWorker::Header { header, total } => {
                    s.header = Some(header);
                    s.total = total;
                    s.running = true;
                    s.pending_run = false;
                    s.status = "running".into();
                }
                FromWorker::Record { record, progress } => {
                    if s.first_result_ms.is_none() {
                        s.first_result_ms = Some(now_ms() - s.run_started_ms);
                    }
                    s.records.push(record);
                    s.progress = Some(progress);
                }
                FromWorker::Done { cancelled } => {
                    s.running = false;
                    s.cancelled = cancelled;
                    s.finished = !cancelled;
                    s.status = if cancelled {
                        "cancelled".into()
                    } else {
                        "finished".into()
                    };
                    if !cancelled {
                        s.page = Some(Page::Results);
                    }
                }
                FromWorker::Error { message } => {
                    s.error = Some(message);
                    s.model_loading = false;
                    s.load_progress = None;
                    s.pending_run = false;
                    s.running = false;
                }
            },
        }
        Rc::new(s)
    }
}

/// Everything a page needs: the state, a dispatcher, and the worker.
#[derive(Clone, PartialEq)]
pub struct Ctx {
    pub state: UseReducerHandle<AppState>,
    pub worker: Rc<Option<WorkerLink>>,
}

impl Ctx {
    pub fn dispatch(&self, a: Action) {
        self.state.dispatch(a);
    }

    pub fn send(&self, m: &ToWorker) {
        if let Some(w) = self.worker.as_ref() {
            w.send(m);
        }
    }

    /// Ask the worker to load the chosen model (the bundled one when none was chosen).
    pub fn load_model(&self) {
        self.load_model_from(
            self.state
                .model_source
                .clone()
                .unwrap_or(ModelSource::Bundled),
        );
    }

    /// Ask the worker to load `src`.
    pub fn load_model_from(&self, src: ModelSource) {
        self.dispatch(Action::ModelChosen(src.clone()));
        self.dispatch(Action::LoadingModel);
        match src {
            ModelSource::Bundled => self.send(&ToWorker::LoadModel {
                name: BUNDLED_MODEL.into(),
                url: Some(format!("./{BUNDLED_MODEL}")),
                backend: self.state.backend,
                files: Vec::new(),
            }),
            ModelSource::Url(url) => {
                let name = url.rsplit('/').next().unwrap_or(&url).to_string();
                self.send(&ToWorker::LoadModel {
                    name,
                    url: Some(url),
                    backend: self.state.backend,
                    files: Vec::new(),
                });
            }
            ModelSource::Stored(name) => {
                let ctx = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match storage::model_files(&name).await {
                        Ok(set) => ctx.send_model_files(&name, &set),
                        Err(e) => ctx.dispatch(Action::Error(Some(format!(
                            "could not read {name} from browser storage: {e}; pick the file again"
                        )))),
                    }
                });
            }
        }
    }

    /// Send a model's files to the worker, which reads them (the page never holds their bytes).
    pub fn send_model_files(&self, name: &str, set: &storage::FileSet) {
        if let Some(w) = self.worker.as_ref() {
            w.send_files(
                &ToWorker::LoadModel {
                    name: name.to_string(),
                    url: None,
                    backend: self.state.backend,
                    files: set.paths.clone(),
                },
                &set.js_files(),
            );
        }
    }

    /// Start (or resume) the run once the model is loaded.
    pub fn send_run(&self) {
        let s = &*self.state;
        self.send(&ToWorker::LoadBench {
            name: s.bench_name.clone().unwrap_or_default(),
            files: s.bench_files.clone(),
        });
        self.send(&ToWorker::Run {
            spec: s.spec.clone(),
            previous: s.records.clone(),
        });
    }

    pub fn refresh_storage(&self) {
        let ctx = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let models = storage::list_models().await;
            let benches = storage::keys(BENCH_PREFIX).await;
            let used = storage::used_bytes().await;
            ctx.dispatch(Action::Storage {
                models,
                benches,
                used,
            });
        });
    }
}

#[component]
pub fn App() -> Html {
    let state = use_reducer(AppState::default);
    let worker = {
        let state = state.clone();
        use_memo((), move |_| {
            let cb = Callback::from(move |m: FromWorker| state.dispatch(Action::Worker(m)));
            WorkerLink::spawn(cb).ok()
        })
    };
    html! { <AppInner worker={worker} state={state} /> }
}

#[derive(Properties, PartialEq)]
pub struct InnerProps {
    pub worker: Rc<Option<WorkerLink>>,
    pub state: UseReducerHandle<AppState>,
}

#[component]
pub fn AppInner(props: &InnerProps) -> Html {
    let ctx = Ctx {
        state: props.state.clone(),
        worker: props.worker.clone(),
    };
    let s = &*props.state;

    // Startup: look for the WebGPU adapter, the stored run, stored models.
    {
        let ctx = ctx.clone();
        use_effect_with((), move |_| {
            let c = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                c.dispatch(Action::Gpu(storage::gpu().await));
                if let Some(saved) = storage::get(RUN_KEY)
                    .await
                    .and_then(|t| serde_json::from_str::<SavedRun>(&t).ok())
                {
                    if !saved.finished && !saved.records.is_empty() {
                        c.dispatch(Action::ResumeOffer(Some(saved)));
                    }
                }
            });
            ctx.refresh_storage();
            // Fault injection for the browser tests: a `bedside-simulate-device-loss` event makes the
            // worker's next GPU read fail as a lost device would (it then continues on the CPU).
            let c = ctx.clone();
            let hook = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                c.send(&ToWorker::SimulateDeviceLoss)
            });
            if let Some(w) = web_sys::window() {
                use wasm_bindgen::JsCast;
                w.add_event_listener_with_callback(
                    "bedside-simulate-device-loss",
                    hook.as_ref().unchecked_ref(),
                )
                .ok();
            }
            hook.forget();
        });
    }
    // A queued run starts when the worker is ready and the model is loaded.
    {
        let ctx = ctx.clone();
        let key = (
            s.pending_run,
            s.model.is_some(),
            s.worker_ready,
            s.model_loading,
        );
        use_effect_with(key, move |&(pending, loaded, ready, loading)| {
            if pending && ready {
                if loaded {
                    ctx.send_run();
                } else if !loading {
                    ctx.load_model();
                }
            }
        });
    }
    // Save the run after every record (and at the end), so a reload can resume it.
    {
        let s2 = s.clone();
        use_effect_with(
            (s.records.len(), s.finished, s.header.is_some()),
            move |_| {
                if s2.header.is_some() {
                    let saved = SavedRun {
                        bench_name: s2.bench_name.clone().unwrap_or_default(),
                        bench_files: s2.bench_files.clone(),
                        model: s2.model_source.clone().unwrap_or(ModelSource::Bundled),
                        spec: s2.spec.clone(),
                        header: s2.header.clone(),
                        records: s2.records.clone(),
                        total: s2.total,
                        finished: s2.finished,
                    };
                    if let Ok(text) = serde_json::to_string(&saved) {
                        wasm_bindgen_futures::spawn_local(async move {
                            storage::put(RUN_KEY, &text).await.ok();
                        });
                    }
                }
            },
        );
    }

    let page = s.page.unwrap_or(Page::Run);
    let nav = |p: Page, label: &str| {
        let ctx = ctx.clone();
        let class = if p == page { "active" } else { "" };
        html! { <button class={classes!("nav", class)} data-page={label.to_lowercase()} onclick={Callback::from(move |_| ctx.dispatch(Action::Go(p)))}>{ label }</button> }
    };
    let backend = match (&s.model, &s.gpu) {
        (Some(m), _) => m.backend.clone(),
        (None, None) => "checking for WebGPU…".to_string(),
        (None, Some(g)) if g.is_empty() => {
            "CPU (WebAssembly): no WebGPU adapter in this browser".to_string()
        }
        (None, Some(g)) => match s.backend {
            BackendChoice::Cpu => {
                format!("CPU (WebAssembly) as chosen; WebGPU adapter available ({g})")
            }
            _ => format!("GPU (WebGPU: {g}) once the model loads"),
        },
    };
    let ctx_resume = ctx.clone();
    let ctx_discard = ctx.clone();
    html! {
        <ContextProvider<Ctx> context={ctx.clone()}>
        <header>
            <h1>{ "Bedside" }</h1>
            <nav>{ nav(Page::Run, "Run") }{ nav(Page::Results, "Results") }{ nav(Page::Compare, "Compare") }{ nav(Page::Lab, "Lab") }{ nav(Page::Privacy, "Privacy") }</nav>
            <p class="stays" id="stays">{ "Everything stays on this device: models and benchmarks are read here, the model runs here, results are stored in this browser only. " }
                <a href="#" onclick={ { let ctx = ctx.clone(); Callback::from(move |e: MouseEvent| { e.prevent_default(); ctx.dispatch(Action::Go(Page::Privacy)) }) } }>{ "What is stored?" }</a></p>
            <p class="backend" id="backend">{ format!("Backend: {backend}") }</p>
        </header>
        if let Some(saved) = s.resume_offer.clone() {
            <div class="banner" id="resume-banner">
                { format!("An unfinished run of {} on {} was found ({} of {} items done).", saved.header.as_ref().map(|h| h.config.model.name.clone()).unwrap_or_default(), saved.bench_name, saved.records.len(), saved.total) }
                <button id="resume" onclick={Callback::from(move |_| { let sv = saved.clone(); ctx_resume.dispatch(Action::Resume(sv)); ctx_resume.dispatch(Action::Go(Page::Run)); })}>{ "Resume" }</button>
                <button onclick={Callback::from(move |_| { ctx_discard.dispatch(Action::ResumeOffer(None)); wasm_bindgen_futures::spawn_local(async { storage::delete(RUN_KEY).await; }); })}>{ "Discard" }</button>
            </div>
        }
        if let Some(e) = &s.error {
            <div class="error" id="error"><pre>{ e.clone() }</pre></div>
        }
        <main>
        { match page {
            Page::Run => html! { <Run /> },
            Page::Results => html! { <Results /> },
            Page::Compare => html! { <Compare /> },
            Page::Lab => html! { <Lab /> },
            Page::Privacy => html! { <Privacy /> },
        } }
        </main>
        </ContextProvider<Ctx>>
    }
}
