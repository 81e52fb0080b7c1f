//! The converter on the Run page: raw files (CSV, JSON, JSON Lines, Parquet) that are not a Bedside
//! benchmark, shown with their detected shape and fields, a mapping form filled from the suggestion,
//! a live preview of what converting gives, and Save (kept in this browser, selected for the run,
//! downloadable as a folder). The logic is in `converter.rs`.

use crate::app::{Ctx, BENCH_PREFIX};
use crate::converter::{self, Built, Form, Preview, Raw, ANSWER_FORMATS, MAP_FIELDS};
use crate::pages::run::{field, set_bench};
use crate::state::Action;
use crate::storage;
use bedside_bench::importers::AnswerFormat;
use bedside_bench::Task;
use std::rc::Rc;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub raw: Raw,
    pub on_close: Callback<()>,
}

type Saved = UseStateHandle<Option<Rc<Built>>>;

/// A callback that applies a control's value to a copy of the form (a changed form is not saved yet).
fn edit(
    form: &UseStateHandle<Form>,
    saved: &Saved,
    apply: impl Fn(&mut Form, String) + 'static,
) -> Callback<Event> {
    let (form, saved) = (form.clone(), saved.clone());
    Callback::from(move |e: Event| {
        let mut next = (*form).clone();
        if let Some(t) = e.target() {
            apply(&mut next, field(&t));
        }
        if next != *form {
            saved.set(None);
            form.set(next);
        }
    })
}

fn preview_html(p: &Preview) -> Html {
    let splits: Vec<String> = p.splits.iter().map(|(s, n)| format!("{s} {n}")).collect();
    html! {
        <>
        <p id="conv-counts" data-converted={p.converted.to_string()} data-skipped={p.skipped.to_string()}>
            { format!("converted {}, skipped {}", p.converted, p.skipped) }
            if !splits.is_empty() { { format!(" (splits: {})", splits.join(", ")) } }
        </p>
        if !p.reasons.is_empty() {
            <ul class="problems" id="conv-reasons">{ for p.reasons.iter().map(|(r, n)| html! { <li>{ format!("{n} × {r}") }</li> }) }</ul>
            <ul class="hint" id="conv-examples">{ for p.examples.iter().map(|e| html! { <li>{ format!("skipped {e}") }</li> }) }</ul>
        }
        if !p.notes.is_empty() {
            <ul class="hint" id="conv-notes">{ for p.notes.iter().map(|n| html! { <li>{ n.clone() }</li> }) }</ul>
        }
        if let Some(r) = &p.refusal {
            <pre class="problems" id="conv-refusal">{ r.clone() }</pre>
        }
        if !p.items.is_empty() {
            <p class="hint">{ format!("The first {} item(s) as the model will see them (the correct answer marked):", p.items.len()) }</p>
            <div class="conv-items" id="conv-items">
                { for p.items.iter().map(|it| html! {
                    <div class="conv-item" data-id={it.id.clone()}>
                        <div class="hint">{ it.id.clone() }{ it.subject.as_ref().map(|s| format!(" · {s}")).unwrap_or_default() }</div>
                        if let Some(c) = &it.context { <p class="conv-context">{ c.clone() }</p> }
                        <p class="conv-question">{ it.question.clone() }</p>
                        <ul class="conv-options">{ for it.options.iter().map(|(l, t, gold)| html! {
                            <li class={classes!(gold.then_some("gold"))}>{ format!("{l}. {t}") }{ if *gold { " ✓" } else { "" } }</li>
                        }) }</ul>
                        <div class="hint conv-answer">{ format!("Answer: {}", it.answer) }</div>
                    </div>
                }) }
            </div>
        }
        </>
    }
}

#[component]
pub fn Converter(props: &Props) -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let raw = props.raw.clone();
    let form = {
        let raw = raw.clone();
        use_state(move || {
            let insp = raw.inspect("").ok();
            let name = raw.files.first().map_or("benchmark", |f| f.stem());
            Form::suggested(insp.as_ref(), name)
        })
    };
    let saved: Saved = use_state(|| None);
    let save_error = use_state(|| None::<String>);
    // The shape and fields (at the form's record path), and the conversion with the form's mapping:
    // recomputed when what they depend on changes.
    let inspection = use_memo((raw.clone(), form.records.clone()), |(raw, records)| {
        raw.inspect(records)
    });
    let key = (
        form.map.clone(),
        form.id.clone(),
        form.records.clone(),
        form.task,
        form.answer_format,
    );
    let converted = {
        let form = (*form).clone();
        use_memo((raw.clone(), key), move |(raw, _)| {
            converter::convert(raw, &form)
        })
    };
    let preview = converted.as_ref().as_ref().map(|i| Preview::of(i, &raw));
    let can_save = matches!(&preview, Ok(p) if p.refusal.is_none());

    let on_save = {
        let (ctx, raw, form, converted) =
            (ctx.clone(), raw.clone(), form.clone(), converted.clone());
        let (saved, save_error) = (saved.clone(), save_error.clone());
        Callback::from(move |_| {
            let Ok(imported) = converted.as_ref() else {
                return;
            };
            match converter::build(imported, &form, &raw) {
                Ok(b) => {
                    let b = Rc::new(b);
                    save_error.set(None);
                    saved.set(Some(b.clone()));
                    set_bench(&ctx, Some(b.name.clone()), b.files.clone());
                    let ctx = ctx.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let text = serde_json::to_string(&b.files).unwrap_or_default();
                        if let Err(e) =
                            storage::put(&format!("{BENCH_PREFIX}{}", b.name), &text).await
                        {
                            ctx.dispatch(Action::Error(Some(format!(
                                "{} is selected for the run but was not kept in this browser: {e}",
                                b.name
                            ))));
                        }
                        ctx.refresh_storage();
                    });
                }
                Err(e) => save_error.set(Some(e)),
            }
        })
    };
    let on_download = {
        let (ctx, saved) = (ctx.clone(), saved.clone());
        Callback::from(move |_| {
            if let Some(b) = saved.as_ref() {
                let name = format!("{}.zip", b.folder());
                if let Err(e) = storage::download_bytes(&name, "application/zip", &b.zip()) {
                    ctx.dispatch(Action::Error(Some(e)));
                }
            }
        })
    };
    let on_license_file = {
        let (form, saved) = (form.clone(), saved.clone());
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            let file = input.files().and_then(|l| l.get(0));
            let (form, saved) = (form.clone(), saved.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let text = match file {
                    Some(f) => JsFuture::from(f.text())
                        .await
                        .ok()
                        .and_then(|t| t.as_string()),
                    None => None,
                };
                let mut next = (*form).clone();
                next.license_file = text;
                saved.set(None);
                form.set(next);
            });
        })
    };

    let fields: Vec<String> = match inspection.as_ref() {
        Ok(i) => i.fields.iter().map(|f| f.path.clone()).collect(),
        Err(_) => Vec::new(),
    };
    let map_inputs = MAP_FIELDS.iter().map(|f| {
        let name = f.to_string();
        let on = edit(&form, &saved, move |form, v| form.set(&name, &v));
        html! {
            <label>{ format!("{f} ") }
                <input type="text" id={format!("conv-{f}")} list="conv-fields" value={form.get(f).to_string()} placeholder="not mapped" onchange={on} />
            </label>
        }
    });
    let detected = match inspection.as_ref() {
        Ok(i) => html! {
            <>
            <p id="conv-shape" data-records={i.records_path.clone().unwrap_or_default()}>
                { format!("{} ({}): {}; {} record(s)", i.file, i.format, i.shape.replace("set with --records", "change it below"), i.records) }
            </p>
            <details class="conv-fields">
                <summary>{ format!("{} field(s) in the first {} record(s)", i.fields.len(), i.sampled) }</summary>
                <div class="scroll"><table class="options">
                    <thead><tr><th>{ "field" }</th><th>{ "holds" }</th><th>{ "example" }</th><th>{ "in" }</th></tr></thead>
                    <tbody>{ for i.fields.iter().map(|f| html! {
                        <tr><td><code>{ f.path.clone() }</code></td><td>{ f.kind.clone() }</td><td>{ f.example.clone() }</td><td>{ format!("{} of {}", f.present, i.sampled) }</td></tr>
                    }) }</tbody>
                </table></div>
            </details>
            </>
        },
        Err(e) => html! { <pre class="problems" id="conv-inspect-error">{ e.clone() }</pre> },
    };
    let on_close = props.on_close.reform(|_| ());

    html! {
        <section class="converter" id="converter">
            <button class="close" id="conv-close" aria-label="close the converter" onclick={on_close}>{ "×" }</button>
            <h3>{ format!("Convert {}", raw.names()) }</h3>
            <p class="hint">{ "These files are data, not a Bedside benchmark. Say which field holds the question, the options and the answer; the preview below shows what converting gives. Everything happens on this device." }</p>
            { detected }
            <datalist id="conv-fields">{ for fields.iter().map(|f| html! { <option value={f.clone()} /> }) }</datalist>
            <div class="settings conv-form">
                { for map_inputs }
                <label>{ "id " }<input type="text" id="conv-id" list="conv-fields" value={form.id.clone()} placeholder="<file>-<record>" title="a field with unique ids, or a template over fields such as {section}-{n}" onchange={edit(&form, &saved, |f, v| f.id = v.trim().to_string())} /></label>
                <label>{ "records at " }<input type="text" id="conv-records" value={form.records.clone()} placeholder="detected" title="for JSON documents: keys separated by dots, * for every key, {name} to keep the key as a field" onchange={edit(&form, &saved, |f, v| f.records = v.trim().to_string())} /></label>
                <label>{ "task " }<select id="conv-task" onchange={edit(&form, &saved, |f, v| if let Ok(t) = v.parse::<Task>() { f.task = t })}>
                    { for Task::ALL.into_iter().map(|t| html! { <option value={t.as_str()} selected={form.task == t}>{ t.as_str() }</option> }) }
                </select></label>
                <label>{ "answer format " }<select id="conv-answer-format" onchange={edit(&form, &saved, |f, v| if let Ok(a) = v.parse::<AnswerFormat>() { f.answer_format = a })}>
                    { for ANSWER_FORMATS.iter().map(|a| html! { <option value={*a} selected={a.parse::<AnswerFormat>() == Ok(form.answer_format)}>{ *a }</option> }) }
                </select></label>
            </div>
            <div class="settings conv-form">
                <label>{ "name " }<input type="text" id="conv-name" value={form.name.clone()} onchange={edit(&form, &saved, |f, v| f.name = v.trim().to_string())} /></label>
                <label>{ "license " }<input type="text" id="conv-license" value={form.license.clone()} placeholder="SPDX id, e.g. CC-BY-4.0" onchange={edit(&form, &saved, |f, v| f.license = v.trim().to_string())} /></label>
                <label>{ "license file " }<input type="file" id="conv-license-file" onchange={on_license_file} /></label>
            </div>
            if form.license_missing() {
                <p class="warn" id="conv-license-warning">{ "No license given: the manifest will say NOASSERTION. Give the data's license (an SPDX id such as CC-BY-4.0) before sharing this benchmark." }</p>
            }
            <div id="conv-preview">{ match &preview {
                Ok(p) => preview_html(p),
                Err(e) => html! { <pre class="problems" id="conv-error">{ e.to_string() }</pre> },
            } }</div>
            <p class="hint">{ "The same conversion on the command line, for the whole data set: " }<code id="conv-command">{ form.command(&raw) }</code></p>
            <button id="conv-save" class="primary" disabled={!can_save} onclick={on_save}>{ "Save benchmark" }</button>
            if let Some(e) = save_error.as_ref() {
                <pre class="problems" id="conv-save-error">{ e.clone() }</pre>
            }
            if let Some(b) = saved.as_ref() {
                <p id="conv-saved">
                    { format!("Saved {}: {} item(s) in {} shard(s), task {}, license {}. It is kept in this browser and selected for the run. ", b.name, b.items, b.shards, b.task, b.license) }
                    <button id="conv-download" onclick={on_download}>{ "Download as folder (zip)" }</button>
                </p>
            }
        </section>
    }
}
