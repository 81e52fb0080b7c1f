//! The app shell: the state (`state.rs`), the worker link, page addresses, and the effects that start
//! queued jobs and keep every run in the library (`library.rs`) as its records arrive.

use crate::jobs::{JobEvent, JobId, JobSpec, JobStatus};
use crate::library::{self, ModelSource, RunMeta, RunSummary};
use crate::pages::{
    compare::Compare, lab::Lab, privacy::Privacy, results::Results, run::Run, runs::Runs,
};
use crate::protocol::{BackendChoice, BenchFiles, FromWorker, RunSpec, ToWorker};
use crate::runner;
use crate::state::{Action, AppState, Page, View};
use crate::storage;
use crate::worker_link::WorkerLink;
use bedside_eval::ItemRecord;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The bundled model, served from the app's own origin.
pub const BUNDLED_MODEL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// The second model in the served folder (Gemma 3 270M, under the Gemma Terms of Use, served next to
/// it as `GEMMA_TERMS.html`), so the Compare page can compare two models offline in one click.
pub const SECOND_MODEL: &str = "gemma-3-270m-q4_k_m.gguf";
/// The bundled sample benchmarks (folders under `samples/`).
pub const BUNDLED_BENCHES: [&str; 6] = [
    "mmlu-medical",
    "medqa-4options",
    "medmcqa",
    "pubmedqa",
    "mmlu-pro-health",
    "mmlu-redux-medical",
];
/// IndexedDB key prefix of benchmarks loaded from the user's files.
pub const BENCH_PREFIX: &str = "bench:";
/// IndexedDB key of the Run page's settings (kept across visits).
const SETTINGS_KEY: &str = "settings";

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Milliseconds since 1970 (run dates).
pub fn date_ms() -> f64 {
    js_sys::Date::now()
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

    pub fn go(&self, p: Page) {
        self.dispatch(Action::Go(p));
    }

    /// The user asked for another model. Refused while a job runs: the job keeps its model.
    pub fn load_model_from(&self, src: ModelSource) {
        if self.state.busy() {
            self.dispatch(Action::Notice(Some(
                "a run is in progress: its model stays loaded until it ends, so no record can come from another model; cancel it first, or queue a run after choosing the other model".into(),
            )));
            return;
        }
        self.dispatch(Action::ModelChosen(src.clone()));
        self.load(src);
    }

    /// Ask the worker to load `src` (for a job, or for the user when no job runs).
    fn load(&self, src: ModelSource) {
        self.dispatch(Action::ModelLoading(src.clone()));
        let backend = self.state.backend;
        match src {
            ModelSource::Bundled => self.send(&ToWorker::LoadModel {
                name: BUNDLED_MODEL.into(),
                url: Some(format!("./{BUNDLED_MODEL}")),
                backend,
                files: Vec::new(),
                helper: false,
            }),
            ModelSource::Url(url) => {
                let name = url.rsplit('/').next().unwrap_or(&url).to_string();
                self.send(&ToWorker::LoadModel {
                    name,
                    url: Some(url),
                    backend,
                    files: Vec::new(),
                    helper: false,
                });
            }
            ModelSource::Stored(name) => {
                let ctx = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match storage::model_files(&name).await {
                        Ok(set) => ctx.send_model_files(&name, &set),
                        Err(e) => ctx.dispatch(Action::Worker(
                            FromWorker::Error {
                                message: format!(
                                    "could not read {name} from browser storage: {e}; pick the file again"
                                ),
                            },
                            now_ms(),
                        )),
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
                    helper: false,
                },
                &set.js_files(),
            );
        }
    }

    /// Queue a run of the Run page's current choices (they are copied: later changes do not touch it).
    pub fn enqueue_current(&self) {
        let s = &*self.state;
        let Some(name) = s.bench.name.clone() else {
            return;
        };
        self.dispatch(Action::Enqueue(JobSpec {
            spec: s.spec.clone(),
            bench: Rc::new(BenchFiles {
                name,
                files: s.bench.files.as_ref().clone(),
            }),
            model: s.model.chosen.clone().unwrap_or(ModelSource::Bundled),
            resume: None,
        }));
    }

    /// Queue the rest of a stored run: its own model, benchmark and settings, its records so far.
    pub fn resume(&self, run: &RunSummary) {
        let meta = run.meta.clone();
        let ctx = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let (Some(model), Some(spec), Some(hash)) = (
                meta.model.clone(),
                meta.spec.clone(),
                meta.bench_files.clone(),
            ) else {
                return ctx.dispatch(Action::Error(Some(
                    "this run cannot be resumed here: it was imported from a file, so its model and benchmark are not in this browser".into(),
                )));
            };
            let Some(files) = library::bench_files(&hash).await else {
                return ctx.dispatch(Action::Error(Some(format!(
                    "the benchmark of this run ({}) is no longer in this browser; load it again and start a new run",
                    meta.bench_name
                ))));
            };
            let records = library::records(meta.hash()).await;
            ctx.dispatch(Action::Enqueue(JobSpec {
                spec,
                bench: Rc::new(BenchFiles {
                    name: meta.bench_name.clone(),
                    files,
                }),
                model,
                resume: Some((meta.header.config.clone(), Rc::new(records))),
            }));
            ctx.go(Page::Run);
        });
    }

    /// Cancel a job: a queued one leaves the queue; the running one stops after its current item.
    pub fn cancel(&self, id: JobId) {
        match self.state.jobs.get(id).map(|j| j.status.clone()) {
            Some(JobStatus::Queued) => self.dispatch(Action::Job(JobEvent::Remove(id))),
            Some(JobStatus::Running) => self.send(&ToWorker::Cancel),
            Some(JobStatus::Starting) => {
                self.dispatch(Action::Job(JobEvent::Done {
                    job: id,
                    cancelled: true,
                }));
            }
            _ => {}
        }
    }

    /// Show a stored run on the Results page.
    pub fn open_run(&self, hash: &str) {
        let hash = hash.to_string();
        let ctx = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(meta) = library::meta(&hash).await {
                let records = library::records(&hash).await;
                ctx.dispatch(Action::View(Some(View::Stored {
                    meta,
                    records: Rc::new(records),
                })));
                ctx.go(Page::Results);
            }
        });
    }

    pub fn delete_run(&self, hash: &str) {
        let hash = hash.to_string();
        let ctx = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            library::delete(&hash).await;
            if ctx.state.shown_hash().as_deref() == Some(hash.as_str()) {
                ctx.dispatch(Action::View(None));
            }
            ctx.refresh_library();
            ctx.refresh_storage();
        });
    }

    /// Add run files (made by `bedside eval` on any machine, or exported from a browser) to the library;
    /// `open_last` opens the last one in Results (the Runs page), else the page stays (the Compare page
    /// lists them to pick). A file that cannot be read or is not a run file is named in the error line.
    pub fn import_runs(&self, picked: Vec<web_sys::File>, open_last: bool) {
        let ctx = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut last = None;
            let mut errors = Vec::new();
            for f in picked {
                let name = f.name();
                let Some(bytes) = storage::read_bytes(&f).await else {
                    errors.push(format!("{name}: the browser could not read this file"));
                    continue;
                };
                match library::import(&name, &bytes, date_ms()) {
                    Ok((meta, records)) => match library::add_imported(&meta, &records).await {
                        Ok(()) => last = Some(meta.hash().to_string()),
                        Err(e) => errors.push(format!("{name}: {e}")),
                    },
                    Err(e) => errors.push(e),
                }
            }
            ctx.dispatch(Action::Error(
                (!errors.is_empty()).then(|| errors.join("\n")),
            ));
            ctx.refresh_library();
            if let Some(h) = last.filter(|_| open_last) {
                ctx.open_run(&h);
            }
        });
    }

    pub fn refresh_storage(&self) {
        let ctx = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let models = storage::list_models().await;
            let benches = storage::keys(BENCH_PREFIX).await;
            let used = storage::used_bytes().await;
            let quota = storage::quota_bytes().await;
            ctx.dispatch(Action::Storage {
                models,
                benches,
                used,
                quota,
            });
        });
    }

    pub fn refresh_library(&self) {
        let ctx = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            ctx.dispatch(Action::Library(library::list().await));
        });
    }
}

#[component]
pub fn App() -> Html {
    // The page comes from the address at once (a later switch would race the address effect).
    let state = use_reducer(|| AppState {
        page: Page::from_hash(&location_hash()),
        ..AppState::default()
    });
    let worker = {
        let state = state.clone();
        use_memo((), move |_| {
            let cb =
                Callback::from(move |m: FromWorker| state.dispatch(Action::Worker(m, now_ms())));
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

fn location_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Start the job that is starting: load its model if another is loaded, then send it to the worker
/// with the records already kept under its configuration (so a run is extended, never redone).
fn drive_jobs(ctx: &Ctx) {
    let s = &*ctx.state;
    if !s.worker_ready {
        return;
    }
    if let Some(job) = s.jobs.active() {
        if job.status != JobStatus::Starting || s.run_sent == Some(job.id) {
            return;
        }
        if s.model.loading.is_some() {
            return;
        }
        if !s.model.is_loaded(&job.what.model, s.backend) {
            ctx.load(job.what.model.clone());
            return;
        }
        let Some(info) = s.model.info().cloned() else {
            return;
        };
        let job = job.clone();
        ctx.dispatch(Action::RunSent(job.id));
        let ctx = ctx.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let (previous, expect) = match &job.what.resume {
                Some((cfg, records)) => (records.as_ref().clone(), Some(cfg.clone())),
                None => {
                    // The same configuration run before: continue it.
                    let cfg = runner::load_bench(&job.what.bench.files)
                        .ok()
                        .and_then(|(b, h)| runner::config(&job.what.spec, &info, &b, &h).ok());
                    match cfg {
                        Some(cfg) => {
                            let recs = library::records(&cfg.hash()).await;
                            if !recs.is_empty() {
                                ctx.dispatch(Action::Job(JobEvent::Continue {
                                    job: job.id,
                                    config: cfg.clone(),
                                    records: Rc::new(recs.clone()),
                                }));
                            }
                            let expect = (!recs.is_empty()).then_some(cfg);
                            (recs, expect)
                        }
                        None => (Vec::new(), None),
                    }
                }
            };
            ctx.send(&ToWorker::Run {
                job: job.id,
                spec: job.what.spec.clone(),
                bench: job.what.bench.as_ref().clone(),
                previous,
                expect,
            });
        });
    } else if let Some(next) = s.jobs.next_queued() {
        ctx.dispatch(Action::Job(JobEvent::Starting(next.id)));
    }
}

/// Per job: records written to the library so far, and whether its final description was written.
type Saved = Rc<RefCell<HashMap<JobId, (usize, bool)>>>;

/// Keep every job's run in the library: its description when it starts and ends, each record as it
/// arrives (one write each).
fn persist_jobs(ctx: &Ctx, saved: &Saved) {
    for job in &ctx.state.jobs.list {
        let Some(header) = job.header.clone() else {
            continue;
        };
        let over = job.status.over();
        let (first, from, final_written) = match saved.borrow().get(&job.id) {
            None => (true, 0, false),
            Some(&(n, f)) => (false, n, f),
        };
        if !first && from >= job.records.len() && (!over || final_written) {
            continue;
        }
        saved.borrow_mut().insert(job.id, (job.records.len(), over));
        let new: Vec<ItemRecord> = job.records[from.min(job.records.len())..].to_vec();
        let done = job.done();
        let meta = RunMeta {
            header: header.clone(),
            bench_name: job.what.bench.name.clone(),
            bench_files: Some(header.config.benchmark.hash.clone()),
            model: Some(job.what.model.clone()),
            spec: Some(job.what.spec.clone()),
            total: job.total,
            finished: job.status == JobStatus::Finished && done >= job.total,
            created_ms: date_ms(),
            imported: None,
        };
        let files = job.what.bench.files.clone();
        let write_meta = first || (over && !final_written);
        let ctx = ctx.clone();
        library::in_order(async move {
            let mut result = Ok(());
            if first {
                result =
                    library::save_bench_files(&meta.header.config.benchmark.hash, &files).await;
            }
            for r in &new {
                if result.is_err() {
                    break;
                }
                result = library::append_record(meta.hash(), r).await;
            }
            if write_meta && result.is_ok() {
                // A run continued keeps the date it was first started.
                let created = library::meta(meta.hash()).await.map(|m| m.created_ms);
                let meta = RunMeta {
                    created_ms: created.unwrap_or(meta.created_ms),
                    ..meta
                };
                result = library::save_meta(&meta).await;
                ctx.refresh_library();
                ctx.refresh_storage();
            }
            if let Err(e) = result {
                ctx.dispatch(Action::WriteFailed(Some(format!(
                    "{e}. Every record saved before this one is kept; the run goes on in this tab and can still be exported from Results."
                ))));
            }
        });
    }
}

#[component]
pub fn AppInner(props: &InnerProps) -> Html {
    let ctx = Ctx {
        state: props.state.clone(),
        worker: props.worker.clone(),
    };
    let s = &*props.state;
    let saved: Saved = use_mut_ref(HashMap::new);

    // Startup: the page from the address, the WebGPU adapter, the library (the newest run opens in
    // Results), the last visit's settings, storage.
    {
        let ctx = ctx.clone();
        use_effect_with((), move |_| {
            let c = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let saved = storage::get(SETTINGS_KEY)
                    .await
                    .and_then(|t| serde_json::from_str::<(RunSpec, BackendChoice)>(&t).ok());
                c.dispatch(Action::Restore(saved));
                c.dispatch(Action::Gpu(storage::gpu().await));
                library::migrate_legacy(date_ms()).await;
                let list = library::list().await;
                if let Some(newest) = list.first() {
                    let records = library::records(newest.meta.hash()).await;
                    c.dispatch(Action::View(Some(View::Stored {
                        meta: newest.meta.clone(),
                        records: Rc::new(records),
                    })));
                }
                c.dispatch(Action::Library(list));
            });
            ctx.refresh_storage();
            // Back and forward move between pages.
            let c = ctx.clone();
            let on_hash = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                c.go(Page::from_hash(&location_hash()))
            });
            // Fault injection for the browser tests: a `bedside-simulate-device-loss` event makes the
            // worker's next GPU read fail as a lost device would (it then continues on the CPU).
            let c = ctx.clone();
            let hook = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                c.send(&ToWorker::SimulateDeviceLoss)
            });
            if let Some(w) = web_sys::window() {
                w.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref())
                    .ok();
                w.add_event_listener_with_callback(
                    "bedside-simulate-device-loss",
                    hook.as_ref().unchecked_ref(),
                )
                .ok();
            }
            on_hash.forget();
            hook.forget();
        });
    }
    // The address follows the page.
    use_effect_with(s.page, |p| {
        if Page::from_hash(&location_hash()) != *p || location_hash().is_empty() {
            if let Some(w) = web_sys::window() {
                w.location().set_hash(&p.hash()).ok();
            }
        }
    });
    // Settings are kept for the next visit.
    use_effect_with(
        (s.spec.clone(), s.backend, s.settings_loaded),
        |(spec, backend, loaded)| {
            if !*loaded {
                return;
            }
            if let Ok(t) = serde_json::to_string(&(spec, backend)) {
                wasm_bindgen_futures::spawn_local(async move {
                    storage::put(SETTINGS_KEY, &t).await.ok();
                });
            }
        },
    );
    // Queued jobs start one after another.
    {
        let ctx = ctx.clone();
        let key = (
            s.worker_ready,
            s.jobs.clone(),
            s.model.loaded.clone(),
            s.model.loading.clone(),
            s.run_sent,
        );
        use_effect_with(key, move |_| drive_jobs(&ctx));
    }
    // The first job asks for persistent storage (so the browser does not evict the runs).
    {
        let ctx = ctx.clone();
        let any = !s.jobs.list.is_empty();
        use_effect_with(any, move |&any| {
            if any && ctx.state.storage.persisted.is_none() {
                let ctx = ctx.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    ctx.dispatch(Action::Persisted(storage::persist().await));
                });
            }
        });
    }
    // Every record is written to the library as it arrives.
    {
        let ctx = ctx.clone();
        let key: Vec<(JobId, bool, usize, bool)> = s
            .jobs
            .list
            .iter()
            .map(|j| (j.id, j.header.is_some(), j.records.len(), j.status.over()))
            .collect();
        use_effect_with(key, move |_| persist_jobs(&ctx, &saved));
    }

    let page = s.page;
    let nav = |p: Page| {
        let class = if p == page { "active" } else { "" };
        html! { <a class={classes!("nav", class)} href={p.hash()} data-page={p.slug()}>{ p.label() }</a> }
    };
    let backend = match (s.model.info(), &s.gpu) {
        (Some(m), _) => m.backend.clone(),
        (None, None) => "checking for WebGPU…".to_string(),
        (None, Some(g)) if g.is_empty() => {
            "CPU (WebAssembly): no WebGPU adapter in this browser".to_string()
        }
        (None, Some(g)) if runner::is_software_adapter(g) && s.backend == BackendChoice::Auto => {
            format!(
                "CPU (WebAssembly): the WebGPU adapter is software ({g}), slower than the CPU here"
            )
        }
        (None, Some(g)) => match s.backend {
            BackendChoice::Cpu => {
                format!("CPU (WebAssembly) as chosen; WebGPU adapter available ({g})")
            }
            _ => format!("GPU (WebGPU: {g}) once the model loads"),
        },
    };
    let resumable = s
        .library
        .iter()
        .find(|r| r.resumable())
        .filter(|_| s.jobs.list.is_empty())
        .cloned();
    let ctx_resume = ctx.clone();
    html! {
        <ContextProvider<Ctx> context={ctx.clone()}>
        <header>
            <h1>{ "Bedside" }</h1>
            <nav>{ for Page::ALL.into_iter().map(nav) }</nav>
            <p class="stays" id="stays">{ "Everything stays on this device: models and benchmarks are read here, the model runs here, results are stored in this browser only. " }
                <a href={Page::Privacy.hash()}>{ "What is stored?" }</a></p>
            <p class="backend" id="backend">{ format!("Backend: {backend}") }</p>
        </header>
        if let Some(run) = resumable {
            <div class="banner" id="resume-banner">
                { format!("An unfinished run of {} on {} was found ({} of {} items done).", run.meta.header.config.model.name, run.meta.bench_name, run.done, run.meta.total) }
                <button id="resume" onclick={Callback::from(move |_| ctx_resume.resume(&run))}>{ "Resume" }</button>
                <a href={Page::Runs.hash()}>{ "all runs" }</a>
            </div>
        }
        if let Some(n) = &s.notice {
            <div class="notice" id="notice">{ n.clone() }
                <button class="close" aria-label="close" onclick={ { let ctx = ctx.clone(); Callback::from(move |_| ctx.dispatch(Action::Notice(None))) } }>{ "×" }</button></div>
        }
        if let Some(e) = &s.storage.write_error {
            <div class="error" id="storage-error">{ e.clone() }</div>
        }
        if let Some(e) = &s.error {
            <div class="error" id="error"><pre>{ e.clone() }</pre>
                <button class="close" aria-label="close" onclick={ { let ctx = ctx.clone(); Callback::from(move |_| ctx.dispatch(Action::Error(None))) } }>{ "×" }</button></div>
        }
        <main>
        { match page {
            Page::Run => html! { <Run /> },
            Page::Results => html! { <Results /> },
            Page::Runs => html! { <Runs /> },
            Page::Compare => html! { <Compare /> },
            Page::Lab => html! { <Lab /> },
            Page::Privacy => html! { <Privacy /> },
        } }
        </main>
        </ContextProvider<Ctx>>
    }
}
