//! Lab: experiments that show why an MCQ score can mislead.

use yew::prelude::*;

#[component]
pub fn Lab() -> Html {
    html! {
        <section id="lab-page">
            <h2>{ "Lab" }</h2>
            <p>{ "Probes already run from the Run page: option shuffle, choices only (no question), none-of-the-above swap. Side-by-side probe reports come to this page next." }</p>
        </section>
    }
}
