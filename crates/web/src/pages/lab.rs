//! Lab: guided lessons on why a multiple-choice score can mislead. Each lesson (data in
//! `bedside_eval::lessons`) runs its probe and the plain twin on a bundled sample with the bundled
//! model (or on the Run page's benchmark and model), then shows the paired result from
//! `bedside_eval::paired` as a chart with intervals next to the baselines, a reading generated from
//! the measured numbers, one item that flipped, and a question for discussion; a teacher exports it as
//! one self-contained HTML page.

use crate::app::Ctx;
use crate::components::queue::Queue;
use crate::jobs::JobSpec;
use crate::lab::{self, Found};
use crate::library::{self, ModelSource};
use crate::pages::run::fetch_bundled;
use crate::protocol::BenchFiles;
use crate::state::Action;
use crate::storage;
use bedside_eval::lessons::{self, Lesson, LESSONS};
use bedside_eval::{html as report_html, paired, report, ItemRecord, RunHeader};
use std::collections::HashMap;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn raw(markup: String) -> Html {
    Html::from_html_unchecked(AttrValue::from(markup))
}

/// Records of runs in the library, loaded on demand: hash -> records.
type Loaded = HashMap<String, Rc<Vec<ItemRecord>>>;

/// The header and records of a found run (`None` while its records are being read).
fn run_data(
    ctx: &Ctx,
    found: &Option<Found>,
    loaded: &Loaded,
) -> Option<(RunHeader, Rc<Vec<ItemRecord>>)> {
    let s = &*ctx.state;
    match found.as_ref()? {
        Found::Job(id) => {
            let j = s.jobs.get(*id)?;
            Some((j.header.clone()?, Rc::new(j.all_records())))
        }
        Found::Stored(hash) => {
            let meta = s.library.iter().find(|r| r.meta.hash() == hash)?;
            Some((meta.meta.header.clone(), loaded.get(hash)?.clone()))
        }
    }
}

#[component]
pub fn Lab() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    let chosen = use_state(|| LESSONS[0].id);
    let items = use_state(|| None::<usize>);
    let own = use_state(|| false);
    let loaded = use_state(Loaded::new);
    let l: &'static Lesson = lessons::lesson(*chosen).unwrap_or(&LESSONS[0]);
    let n = items.unwrap_or(l.items);

    let (bench, model) = if *own {
        (
            s.bench.name.clone().unwrap_or_default(),
            s.model.chosen.clone().unwrap_or(ModelSource::Bundled),
        )
    } else {
        (l.bench.to_string(), ModelSource::Bundled)
    };
    let plain_found = lab::find(
        &s.jobs,
        &s.library,
        &bench,
        &model,
        &lab::settings(l, false),
    );
    let probed_found = l
        .probe
        .and_then(|_| lab::find(&s.jobs, &s.library, &bench, &model, &lab::settings(l, true)));

    // Read stored runs' records (again when the library says they grew).
    {
        let want: Vec<(String, usize)> = [&plain_found, &probed_found]
            .into_iter()
            .filter_map(|f| match f {
                Some(Found::Stored(h)) => s
                    .library
                    .iter()
                    .find(|r| r.meta.hash() == h)
                    .map(|r| (h.clone(), r.done)),
                _ => None,
            })
            .collect();
        let loaded = loaded.clone();
        use_effect_with(want, move |want| {
            for (hash, done) in want.clone() {
                if loaded.get(&hash).is_some_and(|r| r.len() == done) {
                    continue;
                }
                let loaded = loaded.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let recs = library::records(&hash).await;
                    let mut m = (*loaded).clone();
                    m.insert(hash, Rc::new(recs));
                    loaded.set(m);
                });
            }
        });
    }

    let plain = run_data(&ctx, &plain_found, &loaded);
    let probed = run_data(&ctx, &probed_found, &loaded);
    let busy = s.jobs.active().is_some() || s.jobs.queued() > 0;

    let on_run = {
        let ctx = ctx.clone();
        let own = *own;
        let bench = bench.clone();
        let model = model.clone();
        Callback::from(move |_: MouseEvent| {
            let ctx = ctx.clone();
            let bench = bench.clone();
            let model = model.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let files = if own {
                    ctx.state.bench.files.as_ref().clone()
                } else {
                    match fetch_bundled(l.bench).await {
                        Ok(f) => f,
                        Err(e) => return ctx.dispatch(Action::Error(Some(e))),
                    }
                };
                let files = Rc::new(BenchFiles { name: bench, files });
                // The plain twin first (continued, not redone, when it exists); then the probe.
                let mut twins = vec![false];
                if l.probe.is_some() {
                    twins.push(true);
                }
                for probed in twins {
                    ctx.dispatch(Action::Enqueue(JobSpec {
                        spec: lab::spec(l, probed, n),
                        bench: files.clone(),
                        model: model.clone(),
                        resume: None,
                    }));
                }
            });
        })
    };
    let on_items = {
        let items = items.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlInputElement>().value();
            items.set(v.parse::<usize>().ok().filter(|&k| k > 0));
        })
    };
    let on_own = {
        let own = own.clone();
        Callback::from(move |e: Event| {
            own.set(e.target_unchecked_into::<HtmlInputElement>().checked())
        })
    };

    // The result, computed from the records by the engine.
    let result = plain.as_ref().map(|(ph, precs)| {
        let rep = report::build(ph, precs);
        let pr = probed
            .as_ref()
            .map(|(qh, qrecs)| paired::pair((ph, precs), (qh, qrecs)));
        (rep, pr)
    });
    let body = match &result {
        None => {
            html! { <p class="hint" id="lesson-none">{ format!("Not run yet on {bench}. Running it evaluates {n} items{}, on the CPU in a minute or a few.", if l.probe.is_some() { " twice (plain, then probed)" } else { "" }) }</p> }
        }
        Some((_, Some(Err(e)))) => html! { <p class="error">{ e.clone() }</p> },
        Some((rep, pr)) => {
            let pr = pr.as_ref().and_then(|r| r.as_ref().ok());
            if l.probe.is_some() && pr.is_none() {
                html! { <p class="hint" id="lesson-waiting">{ "The plain run is there; the probed run has not started yet." }</p> }
            } else {
                let reading = lessons::reading(l, rep, pr);
                let chart = match pr {
                    Some(p) => report_html::paired_chart(p),
                    None => report_html::baseline_chart(rep),
                };
                let figures = pr
                    .and_then(|p| p.position.as_ref())
                    .map(|x| paired::position_text(x));
                let example = pr.and_then(|p| p.flips.first()).map(report_html::flip_html);
                let export = {
                    let page = report_html::render_lesson(l, rep, pr);
                    let name = format!("bedside-lesson-{}.html", l.id);
                    Callback::from(move |_: MouseEvent| {
                        storage::download(&name, "text/html", &page)
                    })
                };
                html! {
                    <div id="lesson-result" data-paired={pr.map(|p| p.items_paired.to_string()).unwrap_or_default()} data-items={rep.items.to_string()}>
                        <h4>{ "What was measured" }</h4>
                        <p class="meta">{ format!("{} on {} · {} · {} items{}", rep.model, rep.benchmark, rep.method, rep.items, pr.map(|p| format!(" · {} paired with its plain run", p.items_paired)).unwrap_or_default()) }</p>
                        <div class="chart" id="lesson-chart">{ raw(chart) }</div>
                        <p class="hint">{ "Bars: accuracy with its 95% Wilson interval. Dashed line: guessing; dotted: always the most common answer." }</p>
                        <div class="reading" id="lesson-reading">{ for reading.into_iter().map(|t| html! { <p>{ t }</p> }) }</div>
                        if let Some(f) = figures { <pre class="figures" id="lesson-figures">{ f }</pre> }
                        <h4>{ "One item that flipped" }</h4>
                        <div id="lesson-example">{ match example { Some(e) => raw(e), None => html! { <p>{ "No item changed between right and wrong." }</p> } } }</div>
                        <h4>{ "For discussion" }</h4>
                        <p class="question">{ l.question }</p>
                        <button id="lesson-export" onclick={export}>{ "Export this lesson (HTML)" }</button>
                    </div>
                }
            }
        }
    };

    html! {
        <section id="lab-page">
            <h2>{ "Lab" }</h2>
            <p class="hint">{ "Each lesson runs a probe from the literature and its plain twin on the same items, then reads the paired difference from the numbers it measured. Everything runs in this tab." }</p>
            <div class="lessons" id="lessons">
                { for LESSONS.iter().map(|x| {
                    let chosen = chosen.clone();
                    let id = x.id;
                    let items = items.clone();
                    html! { <button class={classes!("lesson-tab", (x.id == l.id).then_some("active"))} id={format!("lesson-{}", x.id)} onclick={Callback::from(move |_| { chosen.set(id); items.set(None); })}>{ x.title }</button> }
                }) }
            </div>
            <article class="lesson" id="lesson" data-lesson={l.id}>
                <h3>{ l.title }</h3>
                <p class="claim">{ l.claim }</p>
                <p class="meta">{ format!("Source: {}", l.source) }</p>
                <p class="meta">{ format!("Probe: {} · {} · format {} · method {}. {}", l.probe.unwrap_or("none (the plain run against its baselines)"), l.bench, l.format, l.method, l.expect) }</p>
                <div class="settings">
                    <label>{ "Items " }<input id="lesson-items" type="number" min="1" value={n.to_string()} onchange={on_items} /></label>
                    <label title={s.bench.name.clone().unwrap_or_default()}><input id="lesson-own" type="checkbox" checked={*own} onchange={on_own} />{ " on the benchmark and model chosen on the Run page" }</label>
                </div>
                <button id="lesson-run" class="primary" disabled={*own && s.bench.name.is_none()} onclick={on_run}>{ if busy { "Queue this lesson" } else { "Run this lesson" } }</button>
                <Queue />
                { body }
            </article>
        </section>
    }
}
