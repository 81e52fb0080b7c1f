//! Compare: two runs side by side (paired tests live in `bedside-bench`: McNemar, paired bootstrap).

use yew::prelude::*;

#[component]
pub fn Compare() -> Html {
    html! {
        <section id="compare-page">
            <h2>{ "Compare" }</h2>
            <p>{ "Comparing two models on the same items (exact McNemar test, paired bootstrap of the accuracy difference) comes to this page next. Meanwhile, export each run's records and use " }<code>{ "bedside report" }</code>{ "." }</p>
        </section>
    }
}
