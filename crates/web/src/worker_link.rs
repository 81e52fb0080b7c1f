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
        let opts = WorkerOptions::new();
        opts.set_type(WorkerType::Module);
        let worker = Worker::new_with_options("./worker_loader.js", &opts)
            .map_err(|e| format!("could not start the worker: {e:?}"))?;
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

    fn envelope(msg: &ToWorker) -> js_sys::Object {
        let o = js_sys::Object::new();
        js_sys::Reflect::set(
            &o,
            &"msg".into(),
            &JsValue::from_str(&serde_json::to_string(msg).unwrap_or_default()),
        )
        .ok();
        o
    }

    pub fn send(&self, msg: &ToWorker) {
        self.worker.post_message(&Self::envelope(msg)).ok();
    }

    /// Send with files (`File` objects are handles: the worker reads them, nothing is copied here).
    pub fn send_files(&self, msg: &ToWorker, files: &js_sys::Array) {
        let o = Self::envelope(msg);
        js_sys::Reflect::set(&o, &"files".into(), files).ok();
        self.worker.post_message(&o).ok();
    }
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
