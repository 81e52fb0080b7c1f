//! Runs: every run kept in this browser (and run files imported from the CLI), with what was run, how
//! far it got and its accuracy; open, resume, export or delete each. Storage use and quota.

use crate::app::Ctx;
use crate::library::{self, RunSummary};
use crate::storage;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

fn date(ms: f64) -> String {
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

fn row(ctx: &Ctx, r: &RunSummary) -> Html {
    let c = &r.meta.header.config;
    let hash = r.meta.hash().to_string();
    let acc = match (r.accuracy, r.wilson) {
        (Some(a), Some(w)) => format!(
            "{:.1}% [{:.1}, {:.1}]",
            100.0 * a,
            100.0 * w.low,
            100.0 * w.high
        ),
        _ => "-".into(),
    };
    let (c_open, c_resume, c_del, c_export) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
    let (h_open, h_del, h_export) = (hash.clone(), hash.clone(), hash.clone());
    let run = r.clone();
    let state = if r.meta.finished {
        "finished"
    } else if ctx
        .state
        .jobs
        .active()
        .and_then(|j| j.header.as_ref())
        .is_some_and(|h| h.config_hash == hash)
    {
        "running"
    } else {
        "unfinished"
    };
    html! {
        <tr class="run-row" data-hash={hash.clone()}>
            <td>{ c.model.name.clone() }</td>
            <td>{ r.meta.bench_name.clone() }</td>
            <td>{ c.benchmark.split.clone() }</td>
            <td>{ c.method.to_string() }</td>
            <td>{ c.shots }</td>
            <td>{ if c.chat { "on" } else { "off" } }</td>
            <td>{ if c.probes.is_empty() { "none".to_string() } else { bedside_bench::probes::describe(&c.probes) } }</td>
            <td class="small">{ r.meta.header.backend.clone() }</td>
            <td class="done">{ format!("{}/{} · {state}", r.done, r.meta.total.max(r.done)) }</td>
            <td class="acc">{ acc }</td>
            <td class="small">{ date(r.meta.created_ms) }{ r.meta.imported.as_ref().map(|f| format!(" · imported from {f}")).unwrap_or_default() }</td>
            <td class="actions">
                <button class="open-run" onclick={Callback::from(move |_| c_open.open_run(&h_open))}>{ "Open" }</button>
                if r.resumable() && state == "unfinished" {
                    <button class="resume-run" onclick={Callback::from(move |_| c_resume.resume(&run))}>{ "Resume" }</button>
                }
                <button class="export-run" onclick={Callback::from(move |_| {
                    let h = h_export.clone();
                    let _ = &c_export;
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Some(meta) = library::meta(&h).await {
                            let recs = library::records(&h).await;
                            storage::download(&format!("{}.jsonl", library::export_stem(&meta.header)), "application/jsonl", &library::run_file(&meta.header, &recs));
                        }
                    });
                })}>{ "Export" }</button>
                <button class="delete-run" disabled={state == "running"} onclick={Callback::from(move |_| c_del.delete_run(&h_del))}>{ "Delete" }</button>
            </td>
        </tr>
    }
}

#[component]
pub fn Runs() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    {
        let ctx = ctx.clone();
        use_effect_with((), move |_| ctx.refresh_library());
    }
    let import = {
        let ctx = ctx.clone();
        Callback::from(move |files: Vec<File>| ctx.import_runs(files, true))
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
    let quota = if s.storage.quota > 0.0 {
        format!(
            "{:.1} MB of {:.0} MB ({:.1}%)",
            s.storage.used / 1e6,
            s.storage.quota / 1e6,
            100.0 * s.storage.used / s.storage.quota
        )
    } else {
        format!("{:.1} MB", s.storage.used / 1e6)
    };
    html! {
        <section id="runs-page">
            <h2>{ "Runs in this browser" }</h2>
            <p class="hint">{ "Every run is kept here as it goes, one record at a time, under its configuration: running the same configuration again continues it instead of starting over." }</p>
            if s.library.is_empty() {
                <p id="no-runs">{ if s.library_loaded { "No runs yet: start one on the Run page, or import a run file below." } else { "reading…" } }</p>
            } else {
                <div class="scroll"><table class="runs" id="runs">
                    <thead><tr><th>{ "model" }</th><th>{ "benchmark" }</th><th>{ "split" }</th><th>{ "method" }</th><th>{ "shots" }</th><th>{ "chat" }</th><th>{ "probe" }</th><th>{ "backend" }</th><th>{ "items" }</th><th>{ "accuracy [95% CI]" }</th><th>{ "date" }</th><th></th></tr></thead>
                    <tbody>{ for s.library.iter().map(|r| row(&ctx, r)) }</tbody>
                </table></div>
            }
            <h3>{ "Import a run file" }</h3>
            <div class="drop" id="run-drop" ondragover={Callback::from(|e: DragEvent| e.prevent_default())} ondrop={on_drop}>
                { "Drop run files (.jsonl from `bedside eval --out`, here or on a cluster, or exported from Results) here, or pick them: " }
                <input type="file" id="run-files" multiple=true accept=".jsonl,.json" onchange={on_pick} />
            </div>
            <p id="storage-quota">{ format!("Storage used by this site: {quota}{}", match s.storage.persisted {
                Some(true) => " · persistent (the browser will not evict it)",
                Some(false) => " · not persistent: the browser may clear it when space runs low; export runs you need",
                None => "",
            }) }</p>
        </section>
    }
}
