//! What Bedside stores, where, and a button to wipe it.

use crate::app::Ctx;
use crate::state::Action;
use crate::storage;
use yew::prelude::*;

#[component]
pub fn Privacy() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = &*ctx.state;
    let wipe = {
        let ctx = ctx.clone();
        Callback::from(move |_| {
            let ctx = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                storage::wipe().await;
                ctx.dispatch(Action::View(None));
                ctx.dispatch(Action::Library(Vec::new()));
                ctx.refresh_storage();
            });
        })
    };
    html! {
        <section id="privacy-page">
            <h2>{ "Stays on this device" }</h2>
            <ul>
                <li>{ "Models and benchmarks you choose are read by this page and never uploaded. The app requests nothing outside its own site (its Content-Security-Policy forbids it)." }</li>
                <li>{ "The model runs in a Web Worker in this tab: on this computer's GPU (WebGPU) when the browser offers one, otherwise on its CPU (WebAssembly)." }</li>
                <li>{ "Stored in this browser only: every run and its per-item records (the Runs page lists them), the benchmark files they used and the benchmarks you loaded (IndexedDB, database \"bedside\"); model files you picked or dropped, a .gguf or a Hugging Face folder (the Origin Private File System, folder \"models\"), so the next visit works without picking them again." }</li>
            </ul>
            <p id="storage-used">{ format!("Storage used by this site: {:.1} MB", s.storage.used / 1e6) }</p>
            <ul>{ for s.storage.models.iter().map(|(n, b)| {
                let ctx = ctx.clone();
                let name = n.clone();
                html! { <li>{ format!("{n} ({:.1} MB) ", b / 1e6) }<button onclick={Callback::from(move |_| { let ctx = ctx.clone(); let name = name.clone(); wasm_bindgen_futures::spawn_local(async move { storage::delete_model(&name).await; ctx.refresh_storage(); }); })}>{ "Delete" }</button></li> }
            }) }</ul>
            <button id="wipe" onclick={wipe}>{ "Delete everything Bedside stored in this browser" }</button>
        </section>
    }
}
