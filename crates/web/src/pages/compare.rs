//! Compare: two or more runs of one benchmark, item by item. The runs are this browser's (started on
//! the Run page, or run files imported here or on the Runs page); the worker computes the comparison
//! with the engine `bedside compare` uses (paired bootstrap, exact McNemar with Holm, kappa, power,
//! subjects, calibration, IRT and Bradley-Terry), and this page shows the engine's rendering of it and
//! exports it as one HTML page and a CSV of the items.

use crate::app::{Ctx, SECOND_MODEL};
use crate::jobs::{JobId, JobSpec};
use crate::library::ModelSource;
use crate::library::{self, RunSummary};
use crate::protocol::BenchFiles;
use crate::protocol::{CompareRun, ToWorker};
use crate::state::Action;
use crate::storage;
use js_sys::Uint8Array;
use std::collections::BTreeSet;
use std::rc::Rc;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

async fn read_bytes(f: &File) -> Option<Vec<u8>> {
    let buf = JsFuture::from(f.array_buffer()).await.ok()?;
    Some(Uint8Array::new(&buf).to_vec())
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
        .unwrap_or_default()
}

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

#[component]
pub fn Compare() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    let selected = use_state(BTreeSet::<String>::new);
    // Jobs queued by "run both bundled models": when they are over, their runs are selected.
    let waiting = use_state(Vec::<JobId>::new);
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
    let run_both = {
        let ctx = ctx.clone();
        let waiting = waiting.clone();
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
            for model in [
                ModelSource::Bundled,
                ModelSource::Url(format!("./{SECOND_MODEL}")),
            ] {
                ctx.dispatch(Action::Enqueue(JobSpec {
                    spec: s.spec.clone(),
                    bench: bench.clone(),
                    model,
                    resume: None,
                }));
            }
            waiting.set(vec![first, first + 1]);
        })
    };
    let running: Vec<String> = waiting
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
                        _ => crate::app::BUNDLED_MODEL.to_string(),
                    }),
                j.done(),
                j.total,
                if j.status.over() { " (done)" } else { "" }
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
        Callback::from(move |files: Vec<File>| {
            let ctx = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut out = Vec::new();
                for f in files {
                    if let Some(b) = read_bytes(&f).await {
                        out.push((f.name(), b));
                    }
                }
                ctx.import_runs(out, false);
            });
        })
    };
    let on_pick = {
        let import = import.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            import.emit(files_of(input.files()));
        })
    };
    let on_drop = {
        let import = import.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            import.emit(files_of(e.data_transfer().and_then(|d| d.files())));
        })
    };
    let on_compare = {
        let ctx = ctx.clone();
        let selected = selected.clone();
        Callback::from(move |_| {
            let ctx = ctx.clone();
            let hashes: Vec<String> = selected.iter().cloned().collect();
            ctx.dispatch(Action::ComparePending);
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
                ctx.send(&ToWorker::Compare { runs });
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
            <div class="compare-both">
                <button id="compare-both" disabled={s.bench.name.is_none() || !waiting.is_empty()} onclick={run_both}>
                    { format!("Run both bundled models on {}", s.bench.name.clone().unwrap_or_else(|| "the Run page's benchmark".into())) }
                </button>
                <span class="hint">{ format!(" SmolLM2-135M-Instruct and Gemma 3 270M, one after the other, with the Run page's settings ({}, {} items); a configuration already run here is extended, not redone. Gemma is used under the ", s.spec.settings.method, s.spec.limit.map(|n| n.to_string()).unwrap_or_else(|| "all".into())) }<a href="./GEMMA_TERMS.html" target="_blank">{ "Gemma Terms of Use" }</a>{ "." }</span>
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
