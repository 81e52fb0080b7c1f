//! The Web Worker that runs the engine. Messages in and out are `protocol` JSON; the model's bytes come
//! with `load_model` as an ArrayBuffer (user file) or are fetched here from the app's own origin.

#[cfg(target_arch = "wasm32")]
mod imp {
    use bedside_model::{Model, Precision};
    use bedside_web::protocol::ModelInfo;
    use bedside_web::protocol::{FromWorker, ToWorker};
    use bedside_web::runner::{self, ActiveRun, Cpu, CPU_BACKEND};
    use std::cell::{Cell, RefCell};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    struct State {
        model: Option<(Model<Cpu>, ModelInfo)>,
        bench: Option<(bedside_bench::Benchmark, String)>,
    }

    thread_local! {
        static STATE: RefCell<State> = const { RefCell::new(State { model: None, bench: None }) };
        static CANCEL: Cell<bool> = const { Cell::new(false) };
        static RUNNING: Cell<bool> = const { Cell::new(false) };
    }

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    fn send(msg: &FromWorker) {
        let text = serde_json::to_string(msg).unwrap_or_default();
        scope().post_message(&JsValue::from_str(&text)).ok();
    }

    fn now() -> f64 {
        js_sys::global()
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .performance()
            .map(|p| p.now())
            .unwrap_or(0.0)
    }

    /// Let the event loop run (so a `cancel` message can arrive) between items.
    async fn yield_now() {
        let p = js_sys::Promise::new(&mut |resolve, _| {
            scope()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
                .ok();
        });
        wasm_bindgen_futures::JsFuture::from(p).await.ok();
    }

    async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
        let resp = wasm_bindgen_futures::JsFuture::from(scope().fetch_with_str(url))
            .await
            .map_err(|e| format!("fetching {url}: {e:?}"))?;
        let resp: web_sys::Response = resp.unchecked_into();
        if !resp.ok() {
            return Err(format!("fetching {url}: HTTP {}", resp.status()));
        }
        let buf = wasm_bindgen_futures::JsFuture::from(
            resp.array_buffer().map_err(|e| format!("{e:?}"))?,
        )
        .await
        .map_err(|e| format!("{e:?}"))?;
        Ok(js_sys::Uint8Array::new(&buf).to_vec())
    }

    async fn load_model(name: String, bytes: Vec<u8>) {
        let mut info = match runner::describe(&name, &bytes) {
            Ok(i) => i,
            Err(e) => return send(&FromWorker::Error { message: e }),
        };
        send(&FromWorker::Status {
            text: format!(
                "building {} ({} parameters, {})",
                info.name, info.parameters, info.quantization
            ),
        });
        yield_now().await;
        let t0 = now();
        // Weights stay in their quantised blocks (the tab's memory is the constraint): about the file's size.
        let blob: bedside_model::Blob = std::sync::Arc::new(bytes);
        match Model::<Cpu>::from_gguf_blob(&name, blob, Precision::Quantized, &Default::default()) {
            Ok(m) => {
                info.load_ms = now() - t0;
                info.backend = CPU_BACKEND.into();
                STATE.with(|s| s.borrow_mut().model = Some((m, info.clone())));
                send(&FromWorker::ModelLoaded { info });
            }
            Err(e) => send(&FromWorker::Error {
                message: e.to_string(),
            }),
        }
    }

    async fn run(spec: bedside_web::protocol::RunSpec, previous: Vec<bedside_eval::ItemRecord>) {
        if RUNNING.get() {
            return send(&FromWorker::Error {
                message: "a run is already in progress".into(),
            });
        }
        let start = STATE.with(|s| {
            let s = s.borrow();
            let (_, info) = s.model.as_ref().ok_or("load a model first")?;
            let (bench, hash) = s.bench.as_ref().ok_or("load a benchmark first")?;
            ActiveRun::start(&spec, info, bench, hash, &previous, CPU_BACKEND)
        });
        let mut active = match start {
            Ok(a) => a,
            Err(e) => return send(&FromWorker::Error { message: e }),
        };
        RUNNING.set(true);
        CANCEL.set(false);
        send(&FromWorker::Header {
            header: active.header.clone(),
            total: active.total(),
        });
        let mut cancelled = false;
        loop {
            yield_now().await;
            if CANCEL.get() {
                cancelled = true;
                break;
            }
            let msg = STATE.with(|s| {
                s.borrow()
                    .model
                    .as_ref()
                    .and_then(|(m, _)| active.step(m, now))
            });
            match msg {
                Some(m) => send(&m),
                None => break,
            }
        }
        RUNNING.set(false);
        send(&FromWorker::Done { cancelled });
    }

    fn on_message(ev: MessageEvent) {
        let data = ev.data();
        // `{msg: "<json>", bytes?: ArrayBuffer}`
        let text = js_sys::Reflect::get(&data, &"msg".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let bytes = js_sys::Reflect::get(&data, &"bytes".into())
            .ok()
            .filter(|b| !b.is_undefined() && !b.is_null());
        let msg: ToWorker = match serde_json::from_str(&text) {
            Ok(m) => m,
            Err(e) => {
                return send(&FromWorker::Error {
                    message: format!("bad message: {e}"),
                })
            }
        };
        match msg {
            ToWorker::Cancel => CANCEL.set(true),
            ToWorker::LoadModel { name, url } => wasm_bindgen_futures::spawn_local(async move {
                let bytes = match (url, bytes) {
                    (Some(u), _) => {
                        send(&FromWorker::Status {
                            text: format!("downloading {u} from this site"),
                        });
                        fetch_bytes(&u).await
                    }
                    (None, Some(b)) => Ok(js_sys::Uint8Array::new(&b).to_vec()),
                    (None, None) => Err("no model bytes".to_string()),
                };
                match bytes {
                    Ok(b) => load_model(name, b).await,
                    Err(e) => send(&FromWorker::Error { message: e }),
                }
            }),
            ToWorker::LoadBench { name, files } => match runner::load_bench(&files) {
                Ok((b, h)) => {
                    let items = b.len();
                    STATE.with(|s| s.borrow_mut().bench = Some((b, h)));
                    send(&FromWorker::BenchLoaded { name, items });
                }
                Err(problems) => send(&FromWorker::Error {
                    message: problems.join("\n"),
                }),
            },
            ToWorker::Run { spec, previous } => {
                wasm_bindgen_futures::spawn_local(run(spec, previous))
            }
        }
    }

    pub fn main() {
        console_error_panic_hook::set_once();
        let handler = Closure::<dyn Fn(MessageEvent)>::new(on_message);
        scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
        handler.forget();
        send(&FromWorker::Ready);
    }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    imp::main();
}
