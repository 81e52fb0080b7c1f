//! Results: what was run, warnings, summary cards each with its explanation, per-subject chart with
//! intervals, reliability diagram, answer positions and the confusion table, the per-item table
//! (filter, open an item to see exactly what the model was shown), and exports (records JSONL as
//! `bedside report` reads it, CSV, the HTML report). Every number comes from `bedside_eval::report`
//! and `bedside_eval::cards`, the same code as `bedside report`.

use crate::app::Ctx;
use crate::library;
use crate::storage;
use bedside_bench::task::option_letter;
use bedside_eval::{cards, html as report_html, report, ItemRecord, Status};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn svg(markup: String) -> Html {
    Html::from_html_unchecked(AttrValue::from(markup))
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV export: one row per item with gold, prediction, status and every option's probability.
pub fn csv(records: &[ItemRecord]) -> String {
    let k = records.iter().map(|r| r.options).max().unwrap_or(0);
    let mut t = String::from("id,subject,gold,pred,correct,status,confidence");
    for i in 0..k {
        t.push_str(&format!(",p_{}", option_letter(i)));
    }
    t.push_str(",latency_ms,error\n");
    for r in records {
        let letter = |i: Option<usize>| i.map(|g| option_letter(g).to_string()).unwrap_or_default();
        let probs = r.probs.clone().unwrap_or_default();
        let conf = probs
            .iter()
            .cloned()
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        t.push_str(&format!(
            "{},{},{},{},{},{},{}",
            csv_escape(&r.id),
            csv_escape(r.subject.as_deref().unwrap_or("")),
            r.gold_value
                .map(|v| v.to_string())
                .unwrap_or_else(|| letter(r.gold)),
            r.pred_value
                .map(|v| v.to_string())
                .unwrap_or_else(|| letter(r.pred)),
            r.correct,
            status_word(r),
            conf.map(|c| format!("{c:.4}")).unwrap_or_default()
        ));
        for i in 0..k {
            t.push_str(&format!(
                ",{}",
                probs.get(i).map(|p| format!("{p:.4}")).unwrap_or_default()
            ));
        }
        t.push_str(&format!(
            ",{:.1},{}\n",
            r.latency_ms,
            csv_escape(r.error.as_deref().unwrap_or(""))
        ));
    }
    t
}

fn status_word(r: &ItemRecord) -> &'static str {
    match r.status {
        Status::Unextractable => "unextractable",
        Status::Failed => "failed",
        _ if r.correct => "correct",
        _ => "wrong",
    }
}

#[derive(Properties, PartialEq)]
struct DetailProps {
    record: ItemRecord,
    on_close: Callback<()>,
}

/// One item as the model saw it: the exact prompt, the options in the order shown, gold and prediction.
#[component]
fn ItemDetail(p: &DetailProps) -> Html {
    let rec = &p.record;
    let close = p.on_close.clone();
    let close_key = p.on_close.clone();
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Escape" {
            close_key.emit(())
        }
    });
    // Focus the panel so Escape works at once.
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(rec.id.clone(), move |_| {
            if let Some(el) = node.cast::<web_sys::HtmlElement>() {
                el.focus().ok();
            }
        });
    }
    html! {
        <div class="detail" id="item-detail" role="dialog" aria-label={format!("item {}", rec.id)} tabindex="-1" ref={node} {onkeydown}>
            <button class="close" id="detail-close" aria-label="close" onclick={Callback::from(move |_| close.emit(()))}>{ "×" }</button>
            <h3>{ format!("Item {}", rec.id) }{ rec.subject.as_ref().map(|s| format!(" · {s}")).unwrap_or_default() }</h3>
            if rec.prompt.is_empty() {
                <p class="hint">{ "This run file was written by an older Bedside that did not keep the prompt." }</p>
            } else {
                <p class="hint">{ "Exactly what the model was given (few-shot examples and chat template included):" }</p>
                <pre class="prompt" id="detail-prompt">{ rec.prompt.clone() }</pre>
            }
            if let Some(src) = rec.source_id.as_ref() {
                <p class="hint" id="detail-source">{ format!("A probe's variant of item {src}{}.", if rec.order.is_empty() { String::new() } else { format!(" with its options in the order {}", rec.order.iter().map(|&o| option_letter(o).to_string()).collect::<Vec<_>>().join(" ")) }) }</p>
            }
            if let Some(t) = rec.injected.as_ref() {
                <p class="hint" id="detail-injected">{ format!("Sentence added by the probe: \u{201c}{t}\u{201d}") }</p>
            }
            <table class="options" id="detail-options"><thead><tr><th>{ "" }</th><th>{ "option as shown" }</th><th>{ "probability" }</th><th>{ "" }</th></tr></thead>
            <tbody>{ for (0..rec.options).map(|i| {
                let text = rec.presented.get(i).cloned().unwrap_or_default();
                let p = rec.probs.as_ref().and_then(|p| p.get(i)).copied();
                let gold = Some(i) == rec.gold;
                let pred = Some(i) == rec.pred;
                let suggested = Some(i) == rec.suggested;
                html! { <tr class={classes!(gold.then_some("gold"), pred.then_some("pred"))}>
                    <td>{ option_letter(i) }</td><td>{ text }</td><td>{ p.map(pct).unwrap_or_default() }</td>
                    <td>{ format!("{}{}{}", if gold { "✓ gold " } else { "" }, if pred { "← predicted " } else { "" }, if suggested { "(suggested by the probe)" } else { "" }) }</td></tr> }
            }) }</tbody></table>
            { for rec.outputs.iter().map(|o| html! { <p><b>{ "Output: " }</b>{ if o.is_empty() { "(empty)".to_string() } else { o.clone() } }</p> }) }
            { rec.rule.as_ref().map(|r| html! { <p class="hint">{ format!("answer read by the rule `{r}`") }</p> }).unwrap_or_default() }
            { rec.error.as_ref().map(|e| html! { <p class="error">{ e.clone() }</p> }).unwrap_or_default() }
        </div>
    }
}

#[component]
pub fn Results() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    let filter = use_state(|| "all".to_string());
    let open = use_state(|| None::<String>);
    let Some((header, records, total)) = s.shown() else {
        return html! { <section id="results-page"><h2>{ "Results" }</h2><p>{ "No run yet: start one on the Run page, or open one on the Runs page." }</p></section> };
    };
    let rep = report::build(&header, &records);
    let on_filter = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            filter.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let subjects: Vec<String> = rep.subjects.iter().map(|x| x.subject.clone()).collect();
    let shown: Vec<&ItemRecord> = records
        .iter()
        .filter(|r| match filter.as_str() {
            "all" => true,
            "correct" => r.correct,
            "incorrect" => !r.correct,
            sub => r.subject.as_deref() == Some(sub),
        })
        .collect();
    let stem = library::export_stem(&header);
    let export = |kind: &'static str| {
        let header = header.clone();
        let records = records.clone();
        let stem = stem.clone();
        Callback::from(move |_| match kind {
            "jsonl" => storage::download(
                &format!("{stem}.jsonl"),
                "application/jsonl",
                &library::run_file(&header, &records),
            ),
            "csv" => storage::download(&format!("{stem}.csv"), "text/csv", &csv(&records)),
            _ => {
                let rep = report::build(&header, &records);
                storage::download(
                    &format!("{stem}.html"),
                    "text/html",
                    &report_html::render(&rep, &records),
                );
            }
        })
    };
    let detail = open.as_ref().and_then(|id| {
        let rec = records.iter().find(|r| &r.id == id)?.clone();
        let open = open.clone();
        Some(html! { <ItemDetail record={rec} on_close={Callback::from(move |_| open.set(None))} /> })
    });
    let letters: Vec<String> = (0..rep.gold_positions.len())
        .map(|i| option_letter(i).to_string())
        .collect();
    let live = matches!(s.view, Some(crate::state::View::Job(id)) if s.jobs.get(id).is_some_and(|j| j.status.active()));
    html! {
        <section id="results-page">
            <h2>{ format!("{} on {}", header.config.model.name, header.config.benchmark.name) }</h2>
            <dl class="facts" id="run-facts">{ for cards::run_facts(&header).into_iter().map(|(k, v)| html! {
                <div><dt>{ k }</dt><dd data-fact={k}>{ v }</dd></div>
            }) }
                <div><dt>{ "items" }</dt><dd data-fact="items">{ format!("{} of {}{}", records.len(), total.max(records.len()), if live { " (running)" } else { "" }) }</dd></div>
            </dl>
            if !rep.warnings.is_empty() {
                <ul class="warnings" id="warnings">{ for rep.warnings.iter().map(|w| html! { <li>{ w.message() }</li> }) }</ul>
            }
            <div class="cards">{ for cards::cards(&rep).into_iter().map(|c| html! {
                <div class={classes!("card", c.alarm.then_some("alarm"))} id={format!("card-{}", c.id)}>
                    <div class="t">{ c.title }</div><div class="v">{ c.value }</div><div class="n">{ c.note }</div>
                    <div class="x">{ c.explain }</div>
                </div>
            }) }</div>
            <div class="exports">
                <button id="export-jsonl" onclick={export("jsonl")}>{ "Records (JSONL)" }</button>
                <button id="export-csv" onclick={export("csv")}>{ "CSV" }</button>
                <button id="export-html" onclick={export("html")}>{ "HTML report" }</button>
                <span class="hint">{ format!(" files named {stem}.*; the JSONL opens with `bedside report` and on the Runs page") }</span>
            </div>
            <div class="charts">
                <figure class="wide"><figcaption>{ "Accuracy by subject: bars are accuracy, whiskers the 95% Wilson interval, (n) the items; the dashed red line is chance." }</figcaption>{ svg(report_html::subject_chart(&rep)) }</figure>
                <figure><figcaption>{ "Reliability: for the items in each confidence bin, how often the model was right (bars) against how sure it was (dots); on the dashed diagonal confidence equals accuracy." }</figcaption>{ svg(report_html::reliability_chart(&rep)) }</figure>
                <figure><figcaption>{ "Answer positions: how often each letter is the gold answer (grey) and the model's answer (blue), with counts. A tall blue bar over a short grey one is a position preference." }</figcaption>{ svg(report_html::positions_chart(&rep)) }</figure>
            </div>
            if !rep.confusion.is_empty() {
                <div class="scroll"><table class="confusion" id="confusion">
                    <caption>{ "Confusion: rows are the gold answer, columns the model's answer (counts)" }</caption>
                    <thead><tr><th>{ "gold \\ predicted" }</th>{ for letters.iter().map(|l| html! { <th>{ l.clone() }</th> }) }</tr></thead>
                    <tbody>{ for rep.confusion.iter().enumerate().map(|(g, row)| html! {
                        <tr><th>{ letters[g].clone() }</th>{ for row.iter().enumerate().map(|(p, n)| html! { <td class={classes!((g == p).then_some("diag"))}>{ n }</td> }) }</tr>
                    }) }</tbody>
                </table></div>
            }
            <h3>{ "Items" }</h3>
            <p class="hint">{ "Click a row (or focus it and press Enter) to see the exact prompt and the options as the model saw them." }</p>
            <label>{ "Show " }<select id="filter" onchange={on_filter}>
                { for ["all", "correct", "incorrect"].iter().map(|x| html! { <option value={*x} selected={filter.as_str() == *x}>{ *x }</option> }) }
                { for subjects.iter().map(|x| html! { <option value={x.clone()} selected={filter.as_str() == x.as_str()}>{ x.clone() }</option> }) }
            </select></label>
            <div class="scroll"><table class="items" id="items"><thead><tr><th>{ "id" }</th><th>{ "subject" }</th><th>{ "gold" }</th><th>{ "pred" }</th><th>{ "result" }</th><th>{ "confidence" }</th></tr></thead>
            <tbody>{ for shown.iter().map(|r| {
                let (open_click, open_key) = (open.clone(), open.clone());
                let (id_click, id_key) = (r.id.clone(), r.id.clone());
                let result = status_word(r);
                html! { <tr class={result} tabindex="0" data-id={r.id.clone()}
                        onclick={Callback::from(move |_| open_click.set(Some(id_click.clone())))}
                        onkeydown={Callback::from(move |e: KeyboardEvent| if e.key() == "Enter" { open_key.set(Some(id_key.clone())) })}>
                    <td>{ r.id.clone() }</td><td>{ r.subject.clone().unwrap_or_default() }</td>
                    <td>{ r.gold.map(|g| option_letter(g).to_string()).unwrap_or_default() }</td>
                    <td>{ r.pred.map(|g| option_letter(g).to_string()).unwrap_or("-".into()) }</td>
                    <td>{ result }</td>
                    <td>{ r.probs.as_ref().and_then(|p| p.iter().cloned().fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))).map(pct).unwrap_or_default() }</td>
                </tr> }
            }) }</tbody></table></div>
            { detail.unwrap_or_default() }
        </section>
    }
}
