//! The page's handle on the engine worker.

use crate::protocol::{FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};
use yew::Callback;

pub struct WorkerLink {
    worker: Worker,
    _handler: Closure<dyn Fn(MessageEvent)>,
}

impl PartialEq for WorkerLink {
    fn eq(&self, other: &Self) -> bool {
        self.worker == other.worker
    }
}

impl WorkerLink {
    /// Start the worker (`worker_loader.js`, built by Trunk from `src/bin/worker.rs`).
    pub fn spawn(on_message: Callback<FromWorker>) -> Result<WorkerLink, String> {
        let worker = start_worker().map_err(|e| format!("could not start the worker: {e:?}"))?;
        let handler = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            let text = ev.data().as_string().unwrap_or_default();
            match serde_json::from_str::<FromWorker>(&text) {
                Ok(m) => on_message.emit(m),
                Err(e) => on_message.emit(FromWorker::Error {
                    message: format!("bad message from the worker: {e}"),
                }),
            }
        });
        worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Ok(WorkerLink {
            worker,
            _handler: handler,
        })
    }

    pub fn send(&self, msg: &ToWorker) {
        post(&self.worker, msg, None);
    }

    /// Send with files (`File` objects are handles: the worker reads them, nothing is copied here).
    pub fn send_files(&self, msg: &ToWorker, files: &js_sys::Array) {
        post(&self.worker, msg, Some(files));
    }
}

/// Start one more engine worker (`worker_loader.js`, a module worker): the page's, or a helper of the
/// primary worker's CPU pool.
pub fn start_worker() -> Result<Worker, JsValue> {
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    Worker::new_with_options("./worker_loader.js", &opts)
}

/// Post `msg` to `worker` in the envelope the worker reads: `{msg: <JSON>, files?: [File…]}`.
pub fn post(worker: &Worker, msg: &ToWorker, files: Option<&js_sys::Array>) {
    post_text(
        worker,
        &serde_json::to_string(msg).unwrap_or_default(),
        files,
    );
}

/// [`post`] for a message already serialised (one shared with several workers).
pub fn post_text(worker: &Worker, msg: &str, files: Option<&js_sys::Array>) {
    let o = js_sys::Object::new();
    js_sys::Reflect::set(&o, &"msg".into(), &JsValue::from_str(msg)).ok();
    if let Some(files) = files {
        js_sys::Reflect::set(&o, &"files".into(), files).ok();
    }
    worker.post_message(&o).ok();
}

/// The device's logical cores (`navigator.hardwareConcurrency`, on the page and in a worker alike); 1
/// where the browser does not say.
pub fn cores() -> usize {
    js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"hardwareConcurrency".into()))
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(1, |n| (n as usize).max(1))
}
