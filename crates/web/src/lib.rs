//! `bedside-web`: Bedside in the browser. The page (Yew) never scores anything itself: it validates
//! benchmark files with `bedside-bench`, hands them and the model to a Web Worker, and shows the records the
//! worker streams back from `bedside-eval`. Reports and charts come from `bedside-eval` too.

pub mod converter;
pub mod jobs;
pub mod lab;
pub mod library;
pub mod pool;
pub mod protocol;
pub mod runner;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod pages;
#[cfg(target_arch = "wasm32")]
pub mod storage;
#[cfg(target_arch = "wasm32")]
pub mod worker_link;
