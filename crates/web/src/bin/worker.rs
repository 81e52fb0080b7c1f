//! The Web Worker that runs the engine. Messages in and out are `protocol` JSON; the model's bytes come
//! with `load_model` as an ArrayBuffer (user file) or are fetched here from the app's own origin.

#[cfg(target_arch = "wasm32")]
mod imp {
    use bedside_model::{Model, Precision};
    use bedside_web::protocol::{BackendChoice, FromWorker, ModelInfo, ToWorker};
    use bedside_web::runner::{self, ActiveRun, Cpu, Gpu, CPU_BACKEND};
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    /// The loaded model, on the backend it runs on.
    enum Loaded {
        Cpu(Model<Cpu>),
        /// On the GPU, with the file's bytes kept to rebuild the model on the CPU if the GPU is lost.
        Gpu(Model<Gpu>, bedside_model::Blob),
    }

    struct State {
        model: Option<(Rc<Loaded>, ModelInfo)>,
        bench: Option<(bedside_bench::Benchmark, String)>,
    }

    thread_local! {
        static STATE: RefCell<State> = const { RefCell::new(State { model: None, bench: None }) };
        /// The WebGPU adapter's name once Burn's wgpu runtime is set up on it ("" = no adapter).
        static GPU: RefCell<Option<String>> = const { RefCell::new(None) };
        static CANCEL: Cell<bool> = const { Cell::new(false) };
        static RUNNING: Cell<bool> = const { Cell::new(false) };
        static SIMULATE_LOSS: Cell<bool> = const { Cell::new(false) };
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

    /// The WebGPU adapter's description, or `None` when the browser has none (no `navigator.gpu`, or
    /// `requestAdapter()` gives null).
    async fn webgpu_adapter() -> Option<String> {
        let nav = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
        let gpu = js_sys::Reflect::get(&nav, &"gpu".into()).ok()?;
        if gpu.is_undefined() || gpu.is_null() {
            return None;
        }
        let req = js_sys::Reflect::get(&gpu, &"requestAdapter".into()).ok()?;
        let req: js_sys::Function = req.dyn_into().ok()?;
        let promise: js_sys::Promise = req.call0(&gpu).ok()?.dyn_into().ok()?;
        let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
        if adapter.is_null() || adapter.is_undefined() {
            return None;
        }
        let info = js_sys::Reflect::get(&adapter, &"info".into()).ok();
        let field = |k: &str| {
            info.as_ref()
                .and_then(|i| js_sys::Reflect::get(i, &k.into()).ok())
                .and_then(|v| v.as_string())
                .filter(|s| !s.is_empty())
        };
        let name = [field("vendor"), field("architecture"), field("description")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        // An adapter that describes itself with nothing is still an adapter ("" means none below).
        Some(if name.is_empty() {
            "WebGPU adapter".into()
        } else {
            name
        })
    }

    /// Set up Burn's wgpu runtime on the browser's WebGPU once; `None` without an adapter.
    async fn gpu_setup() -> Option<String> {
        if let Some(g) = GPU.with(|g| g.borrow().clone()) {
            return (!g.is_empty()).then_some(g);
        }
        let adapter = webgpu_adapter().await;
        if adapter.is_some() {
            use burn::backend::wgpu::{graphics::WebGpu, init_setup_async, WgpuDevice};
            init_setup_async::<WebGpu>(&WgpuDevice::default(), Default::default()).await;
        }
        let name = adapter.unwrap_or_default();
        GPU.with(|g| *g.borrow_mut() = Some(name.clone()));
        (!name.is_empty()).then_some(name)
    }

    /// The model on the CPU, its weights kept in their quantised blocks (the tab's memory is the
    /// constraint).
    fn cpu_model(name: &str, blob: bedside_model::Blob) -> bedside_model::Result<Model<Cpu>> {
        Model::<Cpu>::from_gguf_blob(name, blob, Precision::Quantized, &Default::default())
    }

    async fn load_model(name: String, bytes: Vec<u8>, choice: BackendChoice) {
        let mut info = match runner::describe(&name, &bytes) {
            Ok(i) => i,
            Err(e) => return send(&FromWorker::Error { message: e }),
        };
        let gpu = match choice {
            BackendChoice::Cpu => None,
            _ => gpu_setup().await,
        };
        if choice == BackendChoice::Gpu && gpu.is_none() {
            send(&FromWorker::Status {
                text: "no WebGPU adapter in this browser; running on the CPU".into(),
            });
        }
        send(&FromWorker::Status {
            text: format!(
                "building {} ({} parameters, {}) on the {}",
                info.name,
                info.parameters,
                info.quantization,
                if gpu.is_some() { "GPU" } else { "CPU" }
            ),
        });
        yield_now().await;
        let t0 = now();
        let loaded = match &gpu {
            // On the GPU the weights are dequantised to f32 (4 bytes a parameter).
            Some(adapter) => {
                info.memory_bytes = info.parameters * 4;
                info.backend = format!("gpu (burn-wgpu, WebGPU: {adapter}), f32 weights");
                let blob: bedside_model::Blob = std::sync::Arc::new(bytes);
                Model::<Gpu>::from_gguf_blob(
                    &name,
                    blob.clone(),
                    Precision::F32,
                    &Default::default(),
                )
                .map(|m| Loaded::Gpu(m, blob))
            }
            None => {
                info.backend = CPU_BACKEND.into();
                cpu_model(&name, std::sync::Arc::new(bytes)).map(Loaded::Cpu)
            }
        };
        match loaded {
            Ok(m) => {
                info.load_ms = now() - t0;
                STATE.with(|s| s.borrow_mut().model = Some((Rc::new(m), info.clone())));
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
            ActiveRun::start(&spec, info, bench, hash, &previous, &info.backend)
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
            let Some(model) = STATE.with(|s| s.borrow().model.as_ref().map(|(m, _)| m.clone()))
            else {
                break;
            };
            let msg = match &*model {
                Loaded::Cpu(m) => active.step(m, now).await,
                Loaded::Gpu(m, _) => {
                    if SIMULATE_LOSS.replace(false) {
                        bedside_model::scoring::simulate_device_loss();
                    }
                    active.step(m, now).await
                }
            };
            match msg {
                Some(Ok(m)) => send(&m),
                Some(Err(e)) => {
                    // The GPU failed: rebuild the model on the CPU from the kept bytes and redo the item.
                    let Loaded::Gpu(_, blob) = &*model else {
                        send(&FromWorker::Error { message: e });
                        break;
                    };
                    send(&FromWorker::Status {
                        text: format!(
                            "the GPU failed ({e}); continuing on the CPU from item {}",
                            active.state.progress.done + 1
                        ),
                    });
                    let name = STATE
                        .with(|s| s.borrow().model.as_ref().map(|(_, i)| i.file.clone()))
                        .unwrap_or_default();
                    match cpu_model(&name, blob.clone()) {
                        Ok(cpu) => {
                            let info = STATE.with(|s| {
                                let mut s = s.borrow_mut();
                                let mut info = s.model.as_ref().map(|(_, i)| i.clone())?;
                                info.backend = format!("{CPU_BACKEND} (after the GPU failed)");
                                info.memory_bytes = info.file_bytes;
                                s.model = Some((Rc::new(Loaded::Cpu(cpu)), info.clone()));
                                Some(info)
                            });
                            if let Some(info) = info {
                                send(&FromWorker::ModelLoaded { info });
                            }
                        }
                        Err(err) => {
                            send(&FromWorker::Error {
                                message: format!("{e}; the CPU fallback failed too: {err}"),
                            });
                            break;
                        }
                    }
                }
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
            ToWorker::SimulateDeviceLoss => SIMULATE_LOSS.set(true),
            ToWorker::LoadModel { name, url, backend } => {
                wasm_bindgen_futures::spawn_local(async move {
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
                        Ok(b) => load_model(name, b, backend).await,
                        Err(e) => send(&FromWorker::Error { message: e }),
                    }
                })
            }
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
