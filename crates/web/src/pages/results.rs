//! Results: summary cards, per-subject chart with intervals, reliability diagram, answer positions, the
//! per-item table (filter, open an item), and exports (records JSONL as `bedside report` reads it, CSV,
//! the HTML report). Every number comes from `bedside_eval::report`, the same code as `bedside report`.

use crate::app::Ctx;
use crate::runner;
use crate::storage;
use bedside_bench::task::option_letter;
use bedside_eval::record::to_line;
use bedside_eval::{html as report_html, report, Status};
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

#[component]
pub fn Results() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    let filter = use_state(|| "all".to_string());
    let open = use_state(|| None::<String>);
    let bench = {
        let files = s.bench_files.clone();
        use_memo(s.bench_name.clone(), move |_| {
            runner::load_bench(&files).ok()
        })
    };
    let Some(header) = s.header.clone() else {
        return html! { <section id="results-page"><h2>{ "Results" }</h2><p>{ "No run yet: start one on the Run page." }</p></section> };
    };
    let rep = report::build(&header, &s.records);
    let mut cards = vec![(
        "Accuracy",
        rep.accuracy.map(pct).unwrap_or("-".into()),
        format!(
            "{}/{} · 95% CI {}",
            rep.correct,
            rep.answered,
            rep.wilson
                .map(|w| format!("{}–{}", pct(w.low), pct(w.high)))
                .unwrap_or_default()
        ),
        "card-accuracy",
    )];
    if let Some(c) = &rep.chance {
        cards.push((
            "Chance baseline",
            pct(c.expected_accuracy),
            if c.beats_chance {
                format!("beats chance (p = {:.1e})", c.p_value)
            } else {
                "not distinguishable from chance".into()
            },
            "card-chance",
        ));
    }
    if let Some(a) = rep.acc_norm {
        cards.push((
            "acc_norm",
            pct(a),
            "per-character normalised".into(),
            "card-accnorm",
        ));
    }
    if let Some(c) = &rep.calibration {
        cards.push((
            "ECE",
            format!("{:.3}", c.ece),
            format!("Brier {:.3}", c.brier),
            "card-ece",
        ));
    }
    cards.push((
        "Items",
        format!("{}", rep.items),
        format!(
            "of {} · {} unextractable · {} failed",
            s.total, rep.unextractable, rep.failed
        ),
        "card-items",
    ));
    cards.push((
        "Time",
        format!("{:.1} s", rep.seconds),
        rep.items_per_s
            .map(|x| format!("{x:.2} items/s"))
            .unwrap_or_default(),
        "card-time",
    ));
    cards.push((
        "Backend",
        header.backend.clone(),
        format!(
            "{} · {} · {}-shot",
            header.config.model.name, header.config.method, header.config.shots
        ),
        "card-backend",
    ));

    let on_filter = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            filter.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let subjects: Vec<String> = rep.subjects.iter().map(|x| x.subject.clone()).collect();
    let shown: Vec<&bedside_eval::ItemRecord> = s
        .records
        .iter()
        .filter(|r| match filter.as_str() {
            "all" => true,
            "correct" => r.correct,
            "incorrect" => !r.correct,
            sub => r.subject.as_deref() == Some(sub),
        })
        .collect();
    let export = |kind: &'static str| {
        let header = header.clone();
        let records = s.records.clone();
        Callback::from(move |_| {
            let stem = format!(
                "bedside-{}-{}",
                header.config.benchmark.name,
                header.config.model.file.trim_end_matches(".gguf")
            );
            match kind {
                "jsonl" => {
                    let mut t = to_line(&header);
                    records.iter().for_each(|r| t.push_str(&to_line(r)));
                    storage::download(&format!("{stem}.jsonl"), "application/jsonl", &t);
                }
                "csv" => {
                    let mut t = String::from("id,subject,gold,pred,correct,status,latency_ms\n");
                    for r in &records {
                        t.push_str(&format!(
                            "{},{},{},{},{},{:?},{:.1}\n",
                            csv_escape(&r.id),
                            csv_escape(r.subject.as_deref().unwrap_or("")),
                            r.gold
                                .map(|g| option_letter(g).to_string())
                                .unwrap_or_default(),
                            r.pred
                                .map(|g| option_letter(g).to_string())
                                .unwrap_or_default(),
                            r.correct,
                            r.status,
                            r.latency_ms
                        ));
                    }
                    storage::download(&format!("{stem}.csv"), "text/csv", &t);
                }
                _ => {
                    let rep = report::build(&header, &records);
                    storage::download(
                        &format!("{stem}.html"),
                        "text/html",
                        &report_html::render(&rep, &records),
                    );
                }
            }
        })
    };
    let detail = open.as_ref().and_then(|id| {
        let rec = s.records.iter().find(|r| &r.id == id)?;
        let (b, _) = bench.as_ref().as_ref()?;
        let item = b.all_items().map(|(_, li)| &li.item).find(|i| &i.id == id)?;
        let prompt = bedside_eval::prompt::build(header.config.template, item, &[], None, false).ok()?;
        Some(html! {
            <div class="detail" id="item-detail">
                <h3>{ format!("Item {id}") }</h3>
                <pre class="prompt">{ prompt.context }</pre>
                <table><tbody>{ for item.options.iter().enumerate().map(|(i, o)| {
                    let p = rec.probs.as_ref().and_then(|p| p.get(i)).copied();
                    let mark = if Some(i) == rec.gold { " ✓ gold" } else { "" };
                    let pred = if Some(i) == rec.pred { " ← predicted" } else { "" };
                    html! { <tr><td>{ option_letter(i) }</td><td>{ o.clone() }</td><td>{ p.map(pct).unwrap_or_default() }</td><td>{ format!("{mark}{pred}") }</td></tr> }
                }) }</tbody></table>
                { item.explanation.as_ref().map(|e| html! { <p><b>{ "Explanation: " }</b>{ e.clone() }</p> }).unwrap_or_default() }
                { for rec.outputs.iter().map(|o| html! { <p><b>{ "Output: " }</b>{ o.clone() }</p> }) }
            </div>
        })
    });
    html! {
        <section id="results-page">
            <h2>{ format!("{} on {}", header.config.model.name, header.config.benchmark.name) }</h2>
            <div class="cards">{ for cards.into_iter().map(|(t, v, n, id)| html! {
                <div class="card" id={id}><div class="t">{ t }</div><div class="v">{ v }</div><div class="n">{ n }</div></div>
            }) }</div>
            <div class="exports">
                <button id="export-jsonl" onclick={export("jsonl")}>{ "Records (JSONL)" }</button>
                <button id="export-csv" onclick={export("csv")}>{ "CSV" }</button>
                <button id="export-html" onclick={export("html")}>{ "HTML report" }</button>
            </div>
            <div class="charts">
                <figure class="wide"><figcaption>{ "Accuracy by subject (95% Wilson; dashed: chance)" }</figcaption>{ svg(report_html::subject_chart(&rep)) }</figure>
                <figure><figcaption>{ "Reliability diagram" }</figcaption>{ svg(report_html::reliability_chart(&rep)) }</figure>
                <figure><figcaption>{ "Answer positions (grey gold, blue predicted)" }</figcaption>{ svg(report_html::positions_chart(&rep)) }</figure>
            </div>
            <h3>{ "Items" }</h3>
            <label>{ "Show " }<select id="filter" onchange={on_filter}>
                { for ["all", "correct", "incorrect"].iter().map(|x| html! { <option value={*x} selected={filter.as_str() == *x}>{ *x }</option> }) }
                { for subjects.iter().map(|x| html! { <option value={x.clone()} selected={filter.as_str() == x.as_str()}>{ x.clone() }</option> }) }
            </select></label>
            <table class="items" id="items"><thead><tr><th>{ "id" }</th><th>{ "subject" }</th><th>{ "gold" }</th><th>{ "pred" }</th><th>{ "result" }</th><th>{ "confidence" }</th></tr></thead>
            <tbody>{ for shown.iter().map(|r| {
                let open = open.clone();
                let id = r.id.clone();
                let result = match r.status { Status::Unextractable => "unextractable", Status::Failed => "failed", _ if r.correct => "correct", _ => "wrong" };
                html! { <tr class={result} onclick={Callback::from(move |_| open.set(Some(id.clone())))}>
                    <td>{ r.id.clone() }</td><td>{ r.subject.clone().unwrap_or_default() }</td>
                    <td>{ r.gold.map(|g| option_letter(g).to_string()).unwrap_or_default() }</td>
                    <td>{ r.pred.map(|g| option_letter(g).to_string()).unwrap_or("-".into()) }</td>
                    <td>{ result }</td>
                    <td>{ r.probs.as_ref().and_then(|p| p.iter().cloned().fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))).map(pct).unwrap_or_default() }</td>
                </tr> }
            }) }</tbody></table>
            { detail.unwrap_or_default() }
        </section>
    }
}
