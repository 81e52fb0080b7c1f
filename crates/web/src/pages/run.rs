//! Run: choose a benchmark (bundled sample, or your own files) and a model (bundled, your own .gguf or
//! Hugging Face folder, or one kept in this browser), the method, then run with live progress.

use crate::app::{Ctx, BENCH_PREFIX, BUNDLED_BENCHES, BUNDLED_MODEL};
use crate::components::queue::Queue;
use crate::converter::{self, Raw};
use crate::library::ModelSource;
use crate::pages::convert::Converter;
use crate::protocol::BackendChoice;
use crate::protocol::RunSpec;
use crate::runner;
use crate::state::Action;
use crate::storage;
use bedside_bench::importers::InputFile;
use bedside_eval::Method;
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

async fn fetch_text(url: &str) -> Result<String, String> {
    let w = web_sys::window().ok_or("no window")?;
    let resp: web_sys::Response = JsFuture::from(w.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {e:?}"))?
        .unchecked_into();
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let t = JsFuture::from(resp.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(t.as_string().unwrap_or_default())
}

/// Fetch a bundled sample (its manifest, then every shard it lists).
pub(crate) async fn fetch_bundled(name: &str) -> Result<BTreeMap<String, String>, String> {
    let base = format!("./samples/{name}");
    let manifest = fetch_text(&format!("{base}/manifest.json")).await?;
    let v: serde_json::Value =
        serde_json::from_str(&manifest).map_err(|e| format!("{base}/manifest.json: {e}"))?;
    let mut files = BTreeMap::new();
    for s in v["shards"].as_array().into_iter().flatten() {
        if let Some(f) = s["file"].as_str() {
            files.insert(f.to_string(), fetch_text(&format!("{base}/{f}")).await?);
        }
    }
    files.insert("manifest.json".into(), manifest);
    Ok(files)
}

/// The bytes of each file (raw data to convert may be binary, e.g. Parquet).
async fn read_files(files: Vec<File>) -> Vec<InputFile> {
    let mut out = Vec::new();
    for f in files {
        if let Ok(b) = JsFuture::from(f.array_buffer()).await {
            out.push(InputFile::new(
                f.name(),
                js_sys::Uint8Array::new(&b).to_vec(),
            ));
        }
    }
    out
}

/// Files as text by name, as a benchmark is kept (UTF-8, without a byte-order mark, as `File.text()`).
fn as_text(files: &[InputFile]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|f| {
            let b = bedside_bench::manifest::strip_bom(&f.bytes);
            (f.name.clone(), String::from_utf8_lossy(b).into_owned())
        })
        .collect()
}

/// Validate `files` (once) and make them the current benchmark. Without a `name`, a valid benchmark is
/// called by its manifest's name and an invalid one by its file names. Returns the name when valid.
pub(crate) fn set_bench(
    ctx: &Ctx,
    name: Option<String>,
    files: BTreeMap<String, String>,
) -> Option<String> {
    let (name, items, problems, valid) = match runner::load_bench(&files) {
        Ok((b, _)) => (
            name.unwrap_or(b.manifest.name.clone()),
            b.len(),
            Vec::new(),
            true,
        ),
        Err(p) => (
            name.unwrap_or_else(|| files.keys().cloned().collect::<Vec<_>>().join(", ")),
            0,
            p,
            false,
        ),
    };
    ctx.dispatch(Action::BenchLoaded {
        name: name.clone(),
        files,
        items,
        problems,
    });
    valid.then_some(name)
}

/// The value of the input or select an event came from.
pub(crate) fn field(t: &web_sys::EventTarget) -> String {
    match t.dyn_ref::<HtmlInputElement>() {
        Some(i) => i.value(),
        None => t
            .dyn_ref::<HtmlSelectElement>()
            .map(|x| x.value())
            .unwrap_or_default(),
    }
}

fn file_list(input: &HtmlInputElement) -> Vec<File> {
    let Some(list) = input.files() else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// A drop handler that hands the dropped files (walking into folders) to `then`.
fn on_files_dropped(then: Callback<storage::FileSet>) -> Callback<DragEvent> {
    Callback::from(move |e: DragEvent| {
        e.prevent_default();
        let Some(dropped) = e.data_transfer().map(|d| storage::dropped(&d)) else {
            return;
        };
        let then = then.clone();
        wasm_bindgen_futures::spawn_local(async move { then.emit(dropped.await) });
    })
}

#[component]
pub fn Run() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;

    // Load the first bundled sample on first visit.
    {
        let ctx = ctx.clone();
        let empty = s.bench.name.is_none();
        use_effect_with((), move |_| {
            if empty {
                wasm_bindgen_futures::spawn_local(async move {
                    match fetch_bundled(BUNDLED_BENCHES[0]).await {
                        Ok(files) => {
                            set_bench(&ctx, Some(BUNDLED_BENCHES[0].to_string()), files);
                        }
                        Err(e) => ctx.dispatch(Action::Error(Some(e))),
                    }
                });
            }
        });
    }

    // Raw files being converted (numbered, so a new drop starts a fresh converter).
    let converting = use_state(|| None::<(u32, Raw)>);
    let on_sample = {
        let ctx = ctx.clone();
        let converting = converting.clone();
        Callback::from(move |e: Event| {
            let name = e.target_unchecked_into::<HtmlSelectElement>().value();
            converting.set(None);
            let ctx = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match fetch_bundled(&name).await {
                    Ok(files) => {
                        set_bench(&ctx, Some(name), files);
                    }
                    Err(e) => ctx.dispatch(Action::Error(Some(e))),
                }
            });
        })
    };
    let load_files = {
        let ctx = ctx.clone();
        let converting = converting.clone();
        Callback::from(move |files: Vec<File>| {
            let ctx = ctx.clone();
            let converting = converting.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let inputs = read_files(files).await;
                let map = as_text(&inputs);
                // Raw data (CSV, JSON, Parquet, ...) opens the converter; the benchmark says what it is.
                if let Some(raw) = converter::raw_files(&inputs) {
                    let problems = raw.files.iter().map(converter::raw_notice).collect();
                    ctx.dispatch(Action::BenchLoaded {
                        name: raw.names(),
                        files: map,
                        items: 0,
                        problems,
                    });
                    let n = converting.as_ref().map_or(0, |(n, _)| n + 1);
                    converting.set(Some((n, raw)));
                    return;
                }
                converting.set(None);
                let text = serde_json::to_string(&map).ok();
                // A valid benchmark is kept in this browser for the next visit.
                if let (Some(name), Some(text)) = (set_bench(&ctx, None, map), text) {
                    storage::put(&format!("{BENCH_PREFIX}{name}"), &text)
                        .await
                        .ok();
                }
                ctx.refresh_storage();
            });
        })
    };
    let on_bench_files = {
        let load = load_files.clone();
        Callback::from(move |e: Event| {
            load.emit(file_list(&e.target_unchecked_into::<HtmlInputElement>()))
        })
    };
    // A dropped folder is walked into; shards are named by their file names.
    let on_drop = on_files_dropped(load_files.reform(|set: storage::FileSet| set.files));
    // The user's own model: one .gguf, or a Hugging Face checkpoint's files (picked, a folder, or
    // dropped). The worker reads them; a copy is streamed into the browser's storage for next time.
    let use_model_files = {
        let ctx = ctx.clone();
        Callback::from(move |set: storage::FileSet| {
            if set.files.is_empty() {
                return;
            }
            let sel = match runner::select_model(&set.paths) {
                Ok(s) => s,
                Err(e) => return ctx.dispatch(Action::Error(Some(e))),
            };
            if ctx.state.busy() {
                // The running job keeps its model (the worker would refuse too).
                return ctx.load_model_from(ModelSource::Stored(sel.name.clone()));
            }
            let chosen = set.select(&sel.files);
            ctx.dispatch(Action::ModelChosen(ModelSource::Stored(sel.name.clone())));
            ctx.dispatch(Action::ModelLoading(ModelSource::Stored(sel.name.clone())));
            ctx.send_model_files(
                &sel.name,
                &storage::FileSet {
                    paths: sel.stored_as.clone(),
                    files: chosen.files.clone(),
                },
            );
            let ctx = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // Keep it for the next visit (offline); a failure to store is not fatal.
                if let Err(e) = storage::save_model_files(&sel.stored_as, &chosen).await {
                    web_sys::console::warn_1(&format!("{} not stored: {e}", sel.name).into());
                }
                ctx.refresh_storage();
            });
        })
    };
    let on_model_files = {
        let use_files = use_model_files.clone();
        Callback::from(move |e: Event| {
            use_files.emit(storage::picked(
                &e.target_unchecked_into::<HtmlInputElement>(),
            ))
        })
    };
    let on_model_drop = on_files_dropped(use_model_files);
    let on_model_url = {
        let ctx = ctx.clone();
        Callback::from(move |e: Event| {
            let url = e
                .target_unchecked_into::<HtmlInputElement>()
                .value()
                .trim()
                .to_string();
            if !url.is_empty() {
                ctx.load_model_from(ModelSource::Url(url));
            }
        })
    };
    let spec = s.spec.clone();
    // One callback per setting: read the control's value, update a copy of the spec.
    let setting = |apply: fn(&mut RunSpec, &web_sys::EventTarget)| {
        let ctx = ctx.clone();
        let spec = spec.clone();
        Callback::from(move |e: Event| {
            let mut next = spec.clone();
            if let Some(t) = e.target() {
                apply(&mut next, &t);
            }
            ctx.dispatch(Action::Spec(next));
        })
    };
    let on_method =
        setting(|s, t| s.settings.method = Method::parse(&field(t)).unwrap_or(Method::Loglik));
    let on_limit =
        setting(|s, t| s.limit = field(t).trim().parse().ok().filter(|&n: &usize| n > 0));
    let on_shots = setting(|s, t| s.settings.shots = field(t).trim().parse().unwrap_or(0));
    let on_chat = setting(|s, t| {
        s.settings.chat = t.dyn_ref::<HtmlInputElement>().is_some_and(|i| i.checked())
    });
    let on_probe = setting(|s, t| {
        let v = field(t);
        s.settings.probes = bedside_bench::probes::Probe::parse(&v)
            .into_iter()
            .collect();
    });
    let on_workers = setting(|s, t| s.workers = field(t).trim().parse().ok());
    let on_backend = {
        let ctx = ctx.clone();
        Callback::from(move |e: Event| {
            if let Some(t) = e.target() {
                ctx.dispatch(Action::Backend(BackendChoice::parse(&field(&t))));
            }
        })
    };
    let on_run = {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.enqueue_current())
    };
    let busy = s.busy();
    let can_run = s.bench.problems.is_empty() && s.bench.items > 0 && s.worker_ready;
    let describe = |m: &crate::protocol::ModelInfo| {
        format!(
            "{} · {} · {:.0}M parameters · {} · {} {:.1} MB · about {:.0} MB in memory on the CPU, {:.0} MB on the GPU (f32)",
            m.name,
            m.architecture,
            m.parameters as f64 / 1e6,
            m.quantization,
            if m.format == "safetensors" { "files" } else { "file" },
            m.file_bytes as f64 / 1e6,
            m.memory_bytes as f64 / 1e6,
            m.parameters as f64 * 4.0 / 1e6,
        )
    };
    // While a model loads, the line describes it (from its header), not the one loaded before.
    let model_line = match (s.model.info(), s.model.loading.is_some(), &s.model.preview) {
        (_, true, Some(p)) => describe(p),
        (_, true, None) => format!("loading… {}", s.status),
        (Some(m), false, _) => format!(
            "{} · {} · {:.0}M parameters · {} · file {:.1} MB · about {:.0} MB in memory · loaded in {:.1} s",
            m.name,
            m.architecture,
            m.parameters as f64 / 1e6,
            m.quantization,
            m.file_bytes as f64 / 1e6,
            m.memory_bytes as f64 / 1e6,
            m.load_ms / 1000.0
        ),
        (None, false, _) => format!("{BUNDLED_MODEL} (bundled, 98 MB, about the same in memory once loaded: weights stay quantized); loads when you run"),
    };
    let load_bar = match (s.model.loading.is_some(), s.model.progress) {
        (true, Some((done, total))) => html! {
            <p class="load-progress">
                <progress id="model-progress" max={total.max(done).max(1).to_string()} value={done.to_string()}></progress>
                { format!(" read {:.0} of {} MB", done as f64 / 1e6, if total > 0 { format!("{:.0}", total as f64 / 1e6) } else { "?".into() }) }
            </p>
        },
        _ => html! {},
    };
    let chat_hint = if spec.settings.method == Method::Generate && !spec.settings.chat {
        html! { <p class="hint" id="chat-hint">{ "Generating without the chat template: instruction-tuned models (such as the bundled SmolLM2-Instruct) often produce nothing outside it. Turn on \"chat template\" unless the model is a base model." }</p> }
    } else {
        html! {}
    };
    // A benchmark whose items may have several correct options is answered by generation only.
    let multi = s
        .bench
        .files
        .get(bedside_bench::MANIFEST_FILE)
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .is_some_and(|m| m["task"] == "mcq_multi");
    let multi_hint = if multi && spec.settings.method != Method::Generate {
        html! { <p class="hint warn" id="multi-hint">{ "This benchmark's items may have several correct options (mcq_multi): the model answers by writing the letters it chooses, so choose \"generate + extract\" as the method (scoring options one at a time cannot pick a set)." }</p> }
    } else {
        html! {}
    };
    html! {
        <section id="run-page">
            <h2>{ "Benchmark" }</h2>
            <label>{ "Bundled sample: " }
                <select id="sample" onchange={on_sample}>
                    { for BUNDLED_BENCHES.iter().map(|b| html! { <option value={*b} selected={s.bench.name.as_deref() == Some(*b)}>{ *b }</option> }) }
                </select>
            </label>
            <div class="drop" id="drop" ondragover={Callback::from(|e: DragEvent| e.prevent_default())} ondrop={on_drop}>
                { "…or drop a benchmark folder's manifest.json and .jsonl shards here (or raw data to convert: JSON, JSON Lines, CSV, TSV, Parquet), or " }
                <input type="file" id="bench-files" multiple=true accept=".jsonl,.json,.csv,.tsv,.parquet" onchange={on_bench_files} />
            </div>
            if !s.storage.benches.is_empty() {
                <p id="stored-benches">{ "Your benchmarks in this browser: " }{ for s.storage.benches.iter().map(|n| {
                    let (ctx_load, ctx_del) = (ctx.clone(), ctx.clone());
                    let (name_load, name_del) = (n.clone(), n.clone());
                    html! { <span class="stored">
                        <button onclick={Callback::from(move |_| { let ctx = ctx_load.clone(); let name = name_load.clone(); wasm_bindgen_futures::spawn_local(async move {
                            if let Some(map) = storage::get(&format!("{BENCH_PREFIX}{name}")).await.and_then(|t| serde_json::from_str::<BTreeMap<String, String>>(&t).ok()) {
                                set_bench(&ctx, Some(name), map);
                            }
                        }); })}>{ n.clone() }</button>
                        <button title="delete" onclick={Callback::from(move |_| { let ctx = ctx_del.clone(); let name = name_del.clone(); wasm_bindgen_futures::spawn_local(async move {
                            storage::delete(&format!("{BENCH_PREFIX}{name}")).await;
                            ctx.refresh_storage();
                        }); })}>{ "×" }</button>
                    </span> }
                }) }</p>
            }
            <p id="bench-summary">{ match &s.bench.name {
                Some(n) if s.bench.problems.is_empty() => format!("{n}: {} items, valid", s.bench.items),
                Some(n) => format!("{n}: INVALID ({} problems)", s.bench.problems.len()),
                None => "loading the bundled sample…".into(),
            } }</p>
            if !s.bench.problems.is_empty() {
                <ul class="problems" id="bench-problems">{ for s.bench.problems.iter().map(|p| html! { <li><pre>{ p.clone() }</pre></li> }) }</ul>
            }
            if let Some((n, raw)) = (*converting).clone() {
                <Converter key={n.to_string()} raw={raw} on_close={ { let c = converting.clone(); Callback::from(move |_| c.set(None)) } } />
            }
            <h2>{ "Model" }</h2>
            <p id="model-info">{ model_line }</p>
            { load_bar }
            <div class="drop" id="model-drop" ondragover={Callback::from(|e: DragEvent| e.prevent_default())} ondrop={on_model_drop}>
                { "Your own model: drop a .gguf file or a Hugging Face folder (config.json, tokenizer.json, *.safetensors) here, or pick " }
                <label>{ "files " }<input type="file" id="model-files" multiple=true accept=".gguf,.safetensors,.json" onchange={on_model_files.clone()} /></label>
                <label>{ " or a folder " }<input type="file" id="model-folder" webkitdirectory=true onchange={on_model_files} /></label>
            </div>
            <label>{ "…or a .gguf URL on this site: " }<input type="text" id="model-url" placeholder="models/my-model.gguf" onchange={on_model_url} /></label>
            <p id="stored-models">{ "Models in this browser: " }
                <button onclick={ { let ctx = ctx.clone(); Callback::from(move |_| ctx.load_model_from(ModelSource::Bundled)) } }>{ "bundled SmolLM2" }</button>
                { for s.storage.models.iter().map(|(n, bytes)| {
                    let (ctx_load, ctx_del) = (ctx.clone(), ctx.clone());
                    let (name_load, name_del) = (n.clone(), n.clone());
                    html! { <span class="stored">
                        <button class="stored-model" onclick={Callback::from(move |_| ctx_load.load_model_from(ModelSource::Stored(name_load.clone())))}>{ format!("{n} ({:.0} MB)", bytes / 1e6) }</button>
                        <button title="delete from this browser" onclick={Callback::from(move |_| { let ctx = ctx_del.clone(); let name = name_del.clone(); wasm_bindgen_futures::spawn_local(async move {
                            storage::delete_model(&name).await;
                            ctx.refresh_storage();
                        }); })}>{ "×" }</button>
                    </span> }
                }) }
            </p>
            <h2>{ "Settings" }</h2>
            <div class="settings">
                <label>{ "Method " }<select id="method" onchange={on_method}>
                    <option value="loglik" selected={spec.settings.method == Method::Loglik}>{ "option log-likelihood (lm-eval)" }</option>
                    <option value="letter" selected={spec.settings.method == Method::Letter}>{ "letter probability" }</option>
                    <option value="generate" selected={spec.settings.method == Method::Generate}>{ "generate + extract" }</option>
                </select></label>
                <label>{ "Backend " }<select id="backend-choice" disabled={busy} title={if busy { "fixed while a run is in progress" } else { "" }} onchange={on_backend}>
                    <option value="auto" selected={s.backend == BackendChoice::Auto}>{ "auto (WebGPU when available)" }</option>
                    <option value="gpu" selected={s.backend == BackendChoice::Gpu}>{ "GPU (WebGPU)" }</option>
                    <option value="cpu" selected={s.backend == BackendChoice::Cpu}>{ "CPU (WebAssembly)" }</option>
                </select></label>
                <label title="Each CPU worker evaluates its share of the items on one core, with its own copy of the model (records do not depend on how many). Auto: one per core, up to 4, as many as fit in 2 GB.">{ "CPU workers " }<select id="workers" onchange={on_workers}>
                    <option value="" selected={spec.workers.is_none()}>{ format!("auto ({} cores here)", crate::worker_link::cores()) }</option>
                    { for [1usize, 2, 3, 4, 6, 8].into_iter().map(|n| html! { <option value={n.to_string()} selected={spec.workers == Some(n)}>{ n.to_string() }</option> }) }
                </select></label>
                <label>{ "Items " }<input id="limit" type="number" min="1" value={spec.limit.map(|l| l.to_string()).unwrap_or_default()} placeholder="all" onchange={on_limit} /></label>
                <label>{ "Shots " }<input id="shots" type="number" min="0" max="10" value={spec.settings.shots.to_string()} onchange={on_shots} /></label>
                <label><input id="chat" type="checkbox" checked={spec.settings.chat} onchange={on_chat} />{ " chat template" }</label>
                <label>{ "Probe " }<select id="probe" onchange={on_probe}>
                    <option value="" selected={spec.settings.probes.is_empty()}>{ "none" }</option>
                    { for bedside_bench::probes::menu().into_iter().map(|p| { let sel = spec.settings.probes.first().map(|x| x.to_string()) == Some(p.clone()); html! { <option value={p.clone()} selected={sel}>{ p }</option> } }) }
                </select></label>
            </div>
            { chat_hint }
            { multi_hint }
            <button id="run" class="primary" disabled={!can_run} onclick={on_run}>{ if busy { "Queue this run" } else { "Run" } }</button>
            if busy { <span class="hint">{ " A run is in progress; this one will start when it ends, with the model, benchmark and settings chosen now." }</span> }
            <Queue />
            <p class="status" id="status">{ s.status.clone() }</p>
        </section>
    }
}
