//! The page: mounts the Yew app.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    yew::Renderer::<bedside_web::app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("bedside-web is the browser app: build it with `trunk build` (see README), or use the `bedside` CLI");
}
