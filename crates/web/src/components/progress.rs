//! The live progress of a run: items done of total, items/s, ETA, running accuracy with its 95% CI.

use bedside_bench::metrics::wilson::wilson_interval;
use bedside_eval::Progress;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub progress: Option<Progress>,
    pub total: usize,
    pub running: bool,
    pub on_cancel: Callback<()>,
}

#[component]
pub fn ProgressBar(p: &Props) -> Html {
    let (done, total) = p
        .progress
        .as_ref()
        .map(|x| (x.done, x.total))
        .unwrap_or((0, p.total));
    let pct = if total > 0 {
        100.0 * done as f64 / total as f64
    } else {
        0.0
    };
    let acc = p.progress.as_ref().filter(|x| x.answered > 0).map(|x| {
        let w = wilson_interval(x.correct as u64, x.answered as u64, 0.95);
        format!(
            "accuracy {:.1}% (95% CI {:.1}–{:.1}%)",
            100.0 * x.correct as f64 / x.answered as f64,
            100.0 * w.low,
            100.0 * w.high
        )
    });
    let rate = p.progress.as_ref().map(|x| {
        let e = x.eta_s();
        let eta = if e.is_finite() {
            format!("{}:{:02}", e as u64 / 60, e as u64 % 60)
        } else {
            "--:--".into()
        };
        format!("{:.2} items/s · ETA {eta}", x.items_per_s())
    });
    let cancel = p.on_cancel.clone();
    html! {
        <div class="progress" id="progress" data-done={done.to_string()} data-total={total.to_string()}>
            <div class="bar"><div class="fill" style={format!("width:{pct:.1}%")}></div></div>
            <span id="progress-text">{ format!("{done} / {total} items") }</span>
            { rate.map(|r| html! { <span>{ format!(" · {r}") }</span> }).unwrap_or_default() }
            { acc.map(|a| html! { <span id="running-accuracy">{ format!(" · {a}") }</span> }).unwrap_or_default() }
            if p.running {
                <button id="cancel" onclick={Callback::from(move |_| cancel.emit(()))}>{ "Cancel" }</button>
            }
        </div>
    }
}
