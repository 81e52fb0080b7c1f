//! Compare: two or more runs of one benchmark, item by item. The runs are this browser's (started on
//! the Run page, or run files imported here or on the Runs page); the worker computes the comparison
//! with the engine `bedside compare` uses (paired bootstrap, exact McNemar with Holm, kappa, power,
//! subjects, calibration, IRT and Bradley-Terry), and this page shows the engine's rendering of it and
//! exports it as one HTML page and a CSV of the items.

use crate::app::{Ctx, BUNDLED_MODEL, SECOND_MODEL};
use crate::jobs::{JobId, JobSpec, JobStatus};
use crate::library::ModelSource;
use crate::library::{self, RunSummary};
use crate::protocol::BenchFiles;
use crate::protocol::{CompareRun, ToWorker};
use crate::state::Action;
use crate::storage;
use std::collections::BTreeSet;
use std::rc::Rc;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

fn describe(r: &RunSummary) -> String {
    let c = &r.meta.header.config;
    let mut parts = vec![
        c.method.to_string(),
        format!("{}-shot", c.shots),
        if c.chat {
            "chat".into()
        } else {
            "no chat".into()
        },
    ];
    if !c.probes.is_empty() {
        parts.push(bedside_bench::probes::describe(&c.probes));
    }
    parts.join(", ")
}

const GEMMA_KEY: &str = "url:gemma";

/// A model the Compare page can run.
#[derive(Clone, PartialEq)]
struct ModelChoice {
    key: String,
    source: ModelSource,
    label: String,
    bundled: bool,
}

/// The bundled models, then every model kept in this browser (by name, with its size).
fn model_choices(stored: &[(String, f64)]) -> Vec<ModelChoice> {
    let mut out = vec![
        ModelChoice {
            key: "bundled".into(),
            source: ModelSource::Bundled,
            label: format!("{BUNDLED_MODEL} (bundled)"),
            bundled: true,
        },
        ModelChoice {
            key: GEMMA_KEY.into(),
            source: ModelSource::Url(format!("./{SECOND_MODEL}")),
            label: format!("{SECOND_MODEL} (bundled)"),
            bundled: true,
        },
    ];
    out.extend(stored.iter().map(|(name, bytes)| ModelChoice {
        key: format!("stored:{name}"),
        source: ModelSource::Stored(name.clone()),
        label: format!("{name} (kept in this browser, {:.0} MB)", bytes / 1e6),
        bundled: false,
    }));
    out
}

#[component]
pub fn Compare() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    let selected = use_state(BTreeSet::<String>::new);
    // Jobs queued by "run both bundled models": when they are over, their runs are selected.
    let waiting = use_state(Vec::<JobId>::new);
    // The last batch of jobs queued here: its progress line stays after the batch is over.
    let batch = use_state(Vec::<JobId>::new);
    {
        let (selected, waiting) = (selected.clone(), waiting.clone());
        let jobs = s.jobs.clone();
        let library_len = s.library.len();
        use_effect_with((jobs, library_len), move |(jobs, _)| {
            let mine: Vec<_> = waiting.iter().filter_map(|id| jobs.get(*id)).collect();
            if !mine.is_empty() && mine.iter().all(|j| j.status.over()) {
                let mut next = BTreeSet::new();
                for j in mine {
                    if let Some(h) = &j.header {
                        next.insert(h.config_hash.clone());
                    }
                }
                selected.set(next);
                waiting.set(Vec::new());
            }
        });
    }
    // The models to run: the two bundled ones (checked at first) and those kept in this browser.
    let choices = model_choices(&s.storage.models);
    let chosen = use_state(|| {
        choices
            .iter()
            .filter(|c| c.bundled)
            .map(|c| c.key.clone())
            .collect::<BTreeSet<String>>()
    });
    let run_models = {
        let ctx = ctx.clone();
        let waiting = waiting.clone();
        let batch = batch.clone();
        let chosen = chosen.clone();
        let choices = choices.clone();
        Callback::from(move |_| {
            let s = &*ctx.state;
            let Some(name) = s.bench.name.clone() else {
                return;
            };
            let bench = Rc::new(BenchFiles {
                name,
                files: s.bench.files.as_ref().clone(),
            });
            let first = s.jobs.next_id();
            let models: Vec<ModelSource> = choices
                .iter()
                .filter(|c| chosen.contains(&c.key))
                .map(|c| c.source.clone())
                .collect();
            for model in &models {
                ctx.dispatch(Action::Enqueue(JobSpec {
                    spec: s.spec.clone(),
                    bench: bench.clone(),
                    model: model.clone(),
                    resume: None,
                }));
            }
            let ids: Vec<JobId> = (first..first + models.len() as JobId).collect();
            batch.set(ids.clone());
            waiting.set(ids);
        })
    };
    let running: Vec<String> = batch
        .iter()
        .filter_map(|id| s.jobs.get(*id))
        .map(|j| {
            format!(
                "{}: {}/{}{}",
                j.header
                    .as_ref()
                    .map(|h| h.config.model.name.clone())
                    .unwrap_or_else(|| match &j.what.model {
                        ModelSource::Url(u) => u.trim_start_matches("./").to_string(),
                        ModelSource::Stored(n) => n.clone(),
                        ModelSource::Bundled => crate::app::BUNDLED_MODEL.to_string(),
                    }),
                j.done(),
                j.total,
                match (&j.status, j.records.is_empty() && j.what.resume.is_some()) {
                    (JobStatus::Finished, true) => " (already run with this configuration: reused)",
                    (JobStatus::Finished, false) => " (done)",
                    (JobStatus::Failed(_), _) => " (failed: see the Run page)",
                    (JobStatus::Cancelled, _) => " (cancelled)",
                    _ => "",
                }
            )
        })
        .collect();
    {
        let ctx = ctx.clone();
        use_effect_with((), move |_| ctx.refresh_library());
    }
    // The benchmark of the first selected run: runs of other benchmarks cannot join it.
    let bench_of = |hash: &str| {
        s.library
            .iter()
            .find(|r| r.meta.hash() == hash)
            .map(|r| r.meta.header.config.benchmark.hash.clone())
    };
    let chosen_bench = selected.iter().next().and_then(|h| bench_of(h));
    let import = {
        let ctx = ctx.clone();
        Callback::from(move |files: Vec<File>| ctx.import_runs(files, false))
    };
    let on_pick = {
        let import = import.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            import.emit(storage::files_of(input.files()));
        })
    };
    let on_drop = {
        let import = import.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            import.emit(storage::files_of(e.data_transfer().and_then(|d| d.files())));
        })
    };
    let on_compare = {
        let ctx = ctx.clone();
        let selected = selected.clone();
        Callback::from(move |_| {
            let ctx = ctx.clone();
            let hashes: Vec<String> = selected.iter().cloned().collect();
            ctx.dispatch(Action::ComparePending);
            // The Run page's benchmark, in case the runs were imported (their own files are not kept).
            let current = ctx.state.bench.files.as_ref().clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut runs = Vec::new();
                for h in hashes {
                    if let Some(meta) = library::meta(&h).await {
                        let records = library::records(&h).await;
                        let name = meta.imported.clone().unwrap_or_else(|| {
                            format!("{}.jsonl", library::export_stem(&meta.header))
                        });
                        runs.push(CompareRun {
                            name,
                            header: meta.header,
                            records,
                        });
                    }
                }
                // The benchmark's files (kept with runs made here), for its items' expert labels.
                let bench = match runs.first() {
                    Some(r) => library::bench_files(&r.header.config.benchmark.hash)
                        .await
                        .or(Some(current).filter(|f| !f.is_empty())),
                    None => None,
                };
                ctx.send(&ToWorker::Compare { runs, bench });
            });
        })
    };
    let rows: Html = s
        .library
        .iter()
        .map(|r| {
            let hash = r.meta.hash().to_string();
            let c = &r.meta.header.config;
            let other_bench = chosen_bench
                .as_ref()
                .is_some_and(|b| *b != c.benchmark.hash && !selected.contains(&hash));
            let checked = selected.contains(&hash);
            let toggle = {
                let selected = selected.clone();
                let hash = hash.clone();
                Callback::from(move |_| {
                    let mut next = (*selected).clone();
                    if !next.remove(&hash) {
                        next.insert(hash.clone());
                    }
                    selected.set(next);
                })
            };
            let acc = match (r.accuracy, r.wilson) {
                (Some(a), Some(w)) => format!(
                    "{:.1}% [{:.1}, {:.1}]",
                    100.0 * a,
                    100.0 * w.low,
                    100.0 * w.high
                ),
                _ => "-".into(),
            };
            html! {
                <tr class="compare-row" data-hash={hash.clone()} title={ if other_bench { "another benchmark: runs are compared on the same benchmark, item by item" } else { "" } }>
                    <td><input type="checkbox" class="compare-pick" checked={checked} disabled={other_bench} onchange={toggle} /></td>
                    <td>{ c.model.name.clone() }</td>
                    <td>{ r.meta.bench_name.clone() }{ format!(" ({})", c.benchmark.split) }</td>
                    <td class="small">{ describe(r) }</td>
                    <td>{ format!("{}{}", r.done, if r.meta.finished { "" } else { " (unfinished)" }) }</td>
                    <td>{ acc }</td>
                    <td class="small">{ r.meta.imported.clone().map(|f| format!("imported from {f}")).unwrap_or_else(|| "run here".into()) }</td>
                </tr>
            }
        })
        .collect();
    let n = selected.len();
    // Chosen models that are still listed (a kept model may have been deleted since).
    let n_chosen = choices.iter().filter(|c| chosen.contains(&c.key)).count();
    let cmp = &s.comparison;
    let exports = cmp.result.as_ref().map(|r| {
        let (page, csv) = (r.page.clone(), r.csv.clone());
        html! {
            <p class="exports">
                <button id="export-compare-html" onclick={Callback::from(move |_| storage::download("bedside-comparison.html", "text/html", &page))}>{ "Download as HTML page" }</button>
                <button id="export-compare-csv" onclick={Callback::from(move |_| storage::download("bedside-comparison-items.csv", "text/csv", &csv))}>{ "Download items as CSV" }</button>
            </p>
        }
    });
    html! {
        <section id="compare-page">
            <h2>{ "Compare runs" }</h2>
            <p class="hint">{ "Pick two or more runs of the same benchmark. They are paired item by item: the difference with its paired-bootstrap interval, the exact McNemar test (Holm-adjusted for three or more runs), agreement and Cohen's kappa, how many items would be needed to tell the runs apart, subjects, calibration, and with three or more runs item response theory and Bradley-Terry strengths. Runs of one model with and without its chat template, with 0 and 5 shots, or under probes count as separate runs." }</p>
            if s.library.is_empty() {
                <p id="no-compare-runs">{ if s.library_loaded { "No runs yet: run models on the Run page, or import run files below." } else { "reading…" } }</p>
            } else {
                <div class="scroll"><table class="runs" id="compare-runs">
                    <thead><tr><th></th><th>{ "model" }</th><th>{ "benchmark" }</th><th>{ "configuration" }</th><th>{ "items" }</th><th>{ "accuracy [95% CI]" }</th><th>{ "source" }</th></tr></thead>
                    <tbody>{ rows }</tbody>
                </table></div>
            }
            <div class="compare-models" id="compare-models">
                <h3>{ "Run models on this benchmark" }</h3>
                <p class="hint">{ format!("Each chosen model runs on {}, one after the other, with the Run page's settings ({}, {}-shot{}, {} items). A configuration already run in this browser is reused (or extended), not redone. Models you pick on the Run page are kept in this browser and appear here.", s.bench.name.clone().unwrap_or_else(|| "the Run page's benchmark".into()), s.spec.settings.method, s.spec.settings.shots, if s.spec.settings.chat { ", chat template" } else { "" }, s.spec.limit.map(|n| n.to_string()).unwrap_or_else(|| "all".into())) }</p>
                <ul class="model-choices">
                    { for choices.iter().map(|c| {
                        let toggle = {
                            let chosen = chosen.clone();
                            let key = c.key.clone();
                            Callback::from(move |_| {
                                let mut next = (*chosen).clone();
                                if !next.remove(&key) {
                                    next.insert(key.clone());
                                }
                                chosen.set(next);
                            })
                        };
                        html! { <li><label>
                            <input type="checkbox" class="compare-model" data-model={c.key.clone()} checked={chosen.contains(&c.key)} onchange={toggle} />
                            { format!(" {}", c.label) }
                            if c.key == GEMMA_KEY { <span class="small">{ " (used under the " }<a href="./GEMMA_TERMS.html" target="_blank">{ "Gemma Terms of Use" }</a>{ ")" }</span> }
                        </label></li> }
                    }) }
                </ul>
                <button id="compare-run-models" disabled={s.bench.name.is_none() || !waiting.is_empty() || n_chosen == 0} onclick={run_models}>
                    { match n_chosen { 0 => "Choose a model to run".to_string(), 1 => format!("Run 1 model on {}", s.bench.name.clone().unwrap_or_default()), n => format!("Run {n} models on {}", s.bench.name.clone().unwrap_or_default()) } }
                </button>
                if !running.is_empty() {
                    <p id="compare-progress" class="small">{ running.join(" · ") }</p>
                }
            </div>
            <div class="drop" id="compare-drop" ondragover={Callback::from(|e: DragEvent| e.prevent_default())} ondrop={on_drop}>
                { "Add run files (.jsonl from `bedside eval --out` on any machine, or exported from another browser): drop them here, or pick them: " }
                <input type="file" id="compare-files" multiple=true accept=".jsonl,.json" onchange={on_pick} />
            </div>
            <p>
                <button id="compare-go" disabled={n < 2 || cmp.pending} onclick={on_compare}>
                    { if cmp.pending { "Comparing…".to_string() } else { format!("Compare {n} runs") } }
                </button>
                if n < 2 { <span class="hint">{ " pick at least two runs" }</span> }
            </p>
            if let Some(e) = &cmp.error {
                <p class="error" id="compare-error">{ format!("Cannot compare: {e}") }</p>
            }
            if let Some(r) = &cmp.result {
                <div id="comparison">
                    <p class="small">{ format!("{} runs on {} shared items", r.runs, r.items) }</p>
                    { exports.unwrap_or_default() }
                    { Html::from_html_unchecked(AttrValue::from(r.body.clone())) }
                </div>
            }
        </section>
    }
}
