//! The Web Worker that runs the engine. Messages in and out are `protocol` JSON. A model comes as the
//! user's `File`s (picked, dropped or kept in the browser's storage) or as a same-origin URL; either way
//! it is read here in chunks, described from its header first, with progress, so the page never waits.

#[cfg(target_arch = "wasm32")]
mod imp {
    use bedside_model::{Blob, Gguf, Model, Precision};
    use bedside_web::pool::{self, Pool};
    use bedside_web::protocol::{
        BackendChoice, BenchFiles, FromWorker, ModelInfo, RunSpec, ToWorker,
    };
    use bedside_web::runner::{self, base_name, ActiveRun, Cpu, Gpu, ModelFileSet};
    use bedside_web::worker_link;
    use burn::tensor::backend::Backend;
    use js_sys::Uint8Array;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::sync::Arc;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    /// A model's weights as read: the bytes of a GGUF, or a Hugging Face checkpoint's GGUF view over
    /// its safetensors bytes. Shared, not copied, by the model built from them.
    enum Weights {
        Gguf { file: String, blob: Blob },
        Hf { view: Gguf, blob: Blob },
    }

    impl Weights {
        fn build<B: Backend>(&self, precision: Precision) -> bedside_model::Result<Model<B>> {
            let device = Default::default();
            match self {
                Weights::Gguf { file, blob } => {
                    Model::from_gguf_blob(file, blob.clone(), precision, &device)
                }
                Weights::Hf { view, blob } => {
                    Model::from_hf_checkpoint(view.clone(), blob.clone(), precision, &device)
                }
            }
        }

        /// On the GPU a GGUF's quantised matrices stay in their blocks, dequantised inside the kernel
        /// (`bedside_model::gpu_blocks`): about the file's size of GPU memory, where f32 takes 4 bytes
        /// a parameter and a browser caps buffers. A Hugging Face checkpoint goes as f32. Returns the
        /// model, its precision and the GPU memory its weights take.
        fn gpu_model(
            &self,
            parameters: u64,
        ) -> bedside_model::Result<(Model<Gpu>, Precision, u64)> {
            let device = Default::default();
            match self {
                Weights::Gguf { file, blob } => {
                    let bytes = Gguf::parse(file, (**blob).as_ref())?.device_block_bytes();
                    let m = Model::from_gguf_blob_on_device(
                        file,
                        blob.clone(),
                        bedside_model::gpu_blocks::upload,
                        &device,
                    )?;
                    Ok((m, Precision::Quantized, bytes))
                }
                Weights::Hf { .. } => {
                    Ok((self.build(Precision::F32)?, Precision::F32, parameters * 4))
                }
            }
        }

        /// On the CPU the weights stay in their quantised (or 16-bit) blocks: the tab's memory is the
        /// constraint.
        fn cpu_model(&self) -> bedside_model::Result<Model<Cpu>> {
            self.build(runner::CPU_PRECISION)
        }
    }

    /// The loaded model, on the backend it runs on.
    enum Loaded {
        Cpu(Model<Cpu>),
        /// On the GPU, with the weights kept to rebuild the model on the CPU if the GPU is lost.
        Gpu(Model<Gpu>, Weights),
    }

    struct State {
        model: Option<(Rc<Loaded>, ModelInfo)>,
        /// Where the model was read from: helper workers read the same files.
        source: Option<ModelSource>,
    }

    /// A model's origin as `LoadModel` gave it.
    #[derive(Clone)]
    struct ModelSource {
        name: String,
        url: Option<String>,
        paths: Vec<String>,
        files: Vec<web_sys::File>,
    }

    /// The helper workers of this (primary) worker, see `bedside_web::pool`.
    struct Helpers {
        pool: Pool,
        links: Vec<HelperLink>,
        /// The current run's `Share` message, for helpers that finish loading during it.
        share: Option<String>,
        /// The current run's configuration hash, which a helper must build too.
        config_hash: String,
        /// The loaded model's SHA-256, which a helper's copy must have too.
        sha256: String,
        /// Records from helpers, for the run loop to count.
        records: Vec<(usize, u32, bedside_eval::ItemRecord)>,
    }

    struct HelperLink {
        worker: web_sys::Worker,
        /// The model's files were sent (on the helper's `Ready`: a message posted before its handler
        /// is set up can be lost).
        load_sent: bool,
        _on_message: Closure<dyn Fn(MessageEvent)>,
        _on_error: Closure<dyn Fn(JsValue)>,
    }

    /// A helper's share of a run: the run's plan, built from the same spec and benchmark.
    type Shared = (u32, Rc<ActiveRun>);

    thread_local! {
        static STATE: RefCell<State> = const { RefCell::new(State { model: None, source: None }) };
        static HELPERS: RefCell<Helpers> = RefCell::new(Helpers {
            pool: Pool::new(0),
            links: Vec::new(),
            share: None,
            config_hash: String::new(),
            sha256: String::new(),
            records: Vec::new(),
        });
        /// In a helper worker: the run whose items it is given.
        static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
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

    /// Wait `ms` milliseconds (while helpers finish the last items).
    async fn sleep(ms: i32) {
        let p = js_sys::Promise::new(&mut |resolve, _| {
            scope()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
                .ok();
        });
        wasm_bindgen_futures::JsFuture::from(p).await.ok();
    }

    fn js_err(what: &str) -> impl Fn(JsValue) -> String + '_ {
        move |e| {
            let m = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| format!("{e:?}"));
            format!("{what}: {m}")
        }
    }

    /// Bytes read per step from a file (the page's `File`s are read lazily from disk).
    const CHUNK: f64 = 8.0 * 1024.0 * 1024.0;
    /// Stop looking for the end of a GGUF header after this many bytes (real headers take a few MB).
    const MAX_HEADER: usize = 64 << 20;

    /// Where a model's bytes come from, one chunk at a time.
    enum Source {
        Blob { blob: web_sys::Blob, pos: f64 },
        Stream(web_sys::ReadableStreamDefaultReader),
    }

    impl Source {
        async fn next(&mut self, what: &str) -> Result<Option<Uint8Array>, String> {
            match self {
                Source::Blob { blob, pos } => {
                    if *pos >= blob.size() {
                        return Ok(None);
                    }
                    let end = (*pos + CHUNK).min(blob.size());
                    let part = read_range(blob, *pos, end, what).await?;
                    *pos = end;
                    Ok(Some(part))
                }
                Source::Stream(reader) => {
                    let r = JsFuture::from(reader.read()).await.map_err(js_err(what))?;
                    let done = js_sys::Reflect::get(&r, &"done".into())
                        .ok()
                        .and_then(|v| v.as_bool())
                        .unwrap_or(true);
                    if done {
                        return Ok(None);
                    }
                    let v = js_sys::Reflect::get(&r, &"value".into()).map_err(js_err(what))?;
                    Ok(Some(v.unchecked_into()))
                }
            }
        }
    }

    async fn read_range(
        blob: &web_sys::Blob,
        start: f64,
        end: f64,
        what: &str,
    ) -> Result<Uint8Array, String> {
        let part = blob
            .slice_with_f64_and_f64(start, end)
            .map_err(js_err(what))?;
        let buf = JsFuture::from(part.array_buffer())
            .await
            .map_err(js_err(what))?;
        Ok(Uint8Array::new(&buf))
    }

    async fn read_text(file: &web_sys::File, what: &str) -> Result<String, String> {
        let t = JsFuture::from(file.text()).await.map_err(js_err(what))?;
        Ok(t.as_string().unwrap_or_default())
    }

    /// Progress of reading the model's bytes, across its files.
    struct Progress {
        done: u64,
        total: u64,
    }

    impl Progress {
        fn add(&mut self, n: u64) {
            self.done += n;
            send(&FromWorker::LoadProgress {
                done: self.done,
                total: self.total,
            });
        }
    }

    /// Read a whole source into memory, reporting progress; `peek` sees the bytes so far after each
    /// chunk (to describe the model from its header early), can stop the read with an error, and can
    /// give the total when the source did not (a download without a length).
    async fn read_all(
        what: &str,
        mut src: Source,
        size_hint: u64,
        progress: &mut Progress,
        mut peek: impl FnMut(&[u8]) -> Result<Option<u64>, String>,
    ) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        out.try_reserve_exact(size_hint as usize).map_err(|_| {
            format!("{what}: not enough memory in this tab for {size_hint} bytes; close other tabs or pick a smaller model")
        })?;
        while let Some(chunk) = src.next(what).await? {
            let start = out.len();
            let n = chunk.length() as usize;
            out.try_reserve(n).map_err(|_| {
                format!("{what}: not enough memory in this tab after {start} bytes")
            })?;
            out.resize(start + n, 0);
            chunk.copy_to(&mut out[start..]);
            if let Some(total) = peek(&out)? {
                progress.total = total;
            }
            progress.add(n as u64);
        }
        Ok(out)
    }

    /// Open a same-origin URL as a stream, with its length when the server gives one.
    async fn open_url(url: &str) -> Result<(Source, u64), String> {
        let resp = JsFuture::from(scope().fetch_with_str(url))
            .await
            .map_err(js_err(&format!("fetching {url}")))?;
        let resp: web_sys::Response = resp.unchecked_into();
        if !resp.ok() {
            return Err(format!("fetching {url}: HTTP {}", resp.status()));
        }
        let len = resp
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body = resp.body().ok_or(format!("fetching {url}: no body"))?;
        let reader = web_sys::ReadableStreamDefaultReader::new(&body).map_err(js_err(url))?;
        Ok((Source::Stream(reader), len))
    }

    /// The SHA-256 of `bytes` by the browser's WebCrypto (`crypto.subtle.digest`, native code: a 98 MB
    /// model in a fraction of a second, against 5.7 s for the wasm implementation), as lowercase hex.
    /// `None` where WebCrypto is missing (a page not served from a secure context): the caller then
    /// hashes in wasm, with the same result.
    async fn sha256_subtle(bytes: &[u8]) -> Option<String> {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let subtle = scope.crypto().ok()?.subtle();
        let p = subtle.digest_with_str_and_u8_array("SHA-256", bytes).ok()?;
        let digest = JsFuture::from(p).await.ok()?;
        let d = Uint8Array::new(&digest).to_vec();
        Some(d.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Read a GGUF, describing it (ModelInspected) as soon as its header has arrived.
    async fn read_gguf(name: &str, src: Source, len: u64) -> Result<(Weights, ModelInfo), String> {
        let mut progress = Progress {
            done: 0,
            total: len,
        };
        let mut seen = false;
        let bytes = read_all(name, src, len, &mut progress, |b| {
            if seen || b.len() < 4 {
                return Ok(None);
            }
            if &b[..4] != b"GGUF" {
                // The full parse gives the message (and the fix).
                return runner::describe(name, &b[..4]).map(|_| None);
            }
            match runner::inspect_gguf(name, b, len) {
                Ok(info) => {
                    seen = true;
                    let total = info.file_bytes;
                    send(&FromWorker::ModelInspected { info });
                    Ok((len == 0).then_some(total))
                }
                Err(e) if b.len() >= MAX_HEADER => Err(e),
                Err(_) => Ok(None),
            }
        })
        .await?;
        send(&FromWorker::Status {
            text: format!("checking {name} (SHA-256)"),
        });
        yield_now().await;
        let sha = match sha256_subtle(&bytes).await {
            Some(h) => h,
            None => bedside_bench::hash::sha256_hex(&bytes),
        };
        let info = runner::describe_hashed(name, &bytes, sha)?;
        Ok((
            Weights::Gguf {
                file: name.to_string(),
                blob: Arc::new(bytes),
            },
            info,
        ))
    }

    /// Read a Hugging Face checkpoint: its JSON files, then every safetensors header (ModelInspected),
    /// then the weights.
    async fn read_hf(
        folder: &str,
        files: &[web_sys::File],
        paths: &[String],
        hf: &runner::HfFileSet,
    ) -> Result<(Weights, ModelInfo), String> {
        let (config, tokenizer, tokenizer_config) = (hf.config, hf.tokenizer, hf.tokenizer_config);
        let shards = &hf.safetensors;
        let path = |i: usize| format!("{folder}/{}", base_name(&paths[i]));
        let config_text = read_text(&files[config], &path(config)).await?;
        let tokenizer_text = read_text(&files[tokenizer], &path(tokenizer)).await?;
        let tokenizer_config_text = match tokenizer_config {
            Some(i) => Some(read_text(&files[i], &path(i)).await?),
            None => None,
        };
        let mut heads = Vec::new();
        for &i in shards {
            let f: &web_sys::Blob = &files[i];
            let first = read_range(f, 0.0, 8.0_f64.min(f.size()), &path(i))
                .await?
                .to_vec();
            let n = bedside_model::hf::safetensors_header_len(&first)
                .ok_or(format!("{}: too short to be a safetensors file", path(i)))?;
            let head = read_range(f, 0.0, (n as f64).min(f.size()), &path(i)).await?;
            heads.push((
                base_name(&paths[i]).to_string(),
                head.to_vec(),
                f.size() as u64,
            ));
        }
        let others = [Some(config), Some(tokenizer), tokenizer_config]
            .into_iter()
            .flatten()
            .map(|i| files[i].size() as u64)
            .sum();
        let mut info = runner::inspect_hf(folder, &config_text, &heads, others)?;
        send(&FromWorker::ModelInspected { info: info.clone() });
        let mut progress = Progress {
            done: 0,
            total: heads.iter().map(|h| h.2).sum(),
        };
        let mut safetensors = Vec::new();
        for &i in shards {
            let f = files[i].clone();
            let size = f.size() as u64;
            let src = Source::Blob {
                blob: f.into(),
                pos: 0.0,
            };
            let bytes = read_all(&path(i), src, size, &mut progress, |_| Ok(None)).await?;
            safetensors.push((base_name(&paths[i]).to_string(), bytes));
        }
        send(&FromWorker::Status {
            text: format!("checking {folder} (SHA-256)"),
        });
        yield_now().await;
        info.sha256 =
            bedside_eval::config::ModelRef::hf_sha256(&config_text, &tokenizer_text, &safetensors);
        let ck = bedside_model::hf::HfCheckpoint::read(
            folder,
            bedside_model::hf::HfFiles {
                config: config_text,
                tokenizer: tokenizer_text,
                tokenizer_config: tokenizer_config_text,
                safetensors,
            },
        )
        .map_err(|e| e.to_string())?;
        Ok((
            Weights::Hf {
                view: ck.gguf,
                blob: Arc::new(ck.bytes),
            },
            info,
        ))
    }

    /// Read a model from a URL or from the page's files.
    async fn read_model(
        name: &str,
        url: Option<String>,
        files: Vec<web_sys::File>,
        paths: Vec<String>,
    ) -> Result<(Weights, ModelInfo), String> {
        if let Some(url) = url {
            send(&FromWorker::Status {
                text: format!("downloading {url} from this site"),
            });
            let (src, len) = open_url(&url).await?;
            return read_gguf(name, src, len).await;
        }
        if files.len() != paths.len() || files.is_empty() {
            return Err(format!("{name}: no model files arrived; pick them again"));
        }
        match runner::classify(&paths)? {
            ModelFileSet::Gguf(i) => {
                let f = files[i].clone();
                let len = f.size() as u64;
                let src = Source::Blob {
                    blob: f.into(),
                    pos: 0.0,
                };
                read_gguf(base_name(&paths[i]), src, len).await
            }
            ModelFileSet::Hf(hf) => read_hf(name, &files, &paths, &hf).await,
        }
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

    async fn load_model(
        name: String,
        url: Option<String>,
        files: Vec<web_sys::File>,
        paths: Vec<String>,
        choice: BackendChoice,
        helper: bool,
    ) {
        let t0 = now();
        // Another model: helpers holding the old one go.
        stop_helpers();
        let source = ModelSource {
            name: name.clone(),
            url: url.clone(),
            paths: paths.clone(),
            files: files.clone(),
        };
        let (weights, mut info) = match read_model(&name, url, files, paths).await {
            Ok(w) => w,
            Err(e) => return send(&FromWorker::Error { message: e }),
        };
        let gpu = match choice {
            BackendChoice::Cpu => None,
            BackendChoice::Gpu => gpu_setup().await,
            // A software adapter (SwiftShader) is slower than the CPU path: Auto takes the CPU.
            BackendChoice::Auto => {
                match webgpu_adapter().await {
                    Some(a) if runner::is_software_adapter(&a) => {
                        send(&FromWorker::Status {
                        text: format!("software WebGPU ({a}), slower than the CPU here: running on the CPU"),
                    });
                        None
                    }
                    _ => gpu_setup().await,
                }
            }
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
        let loaded = match &gpu {
            Some(adapter) => weights.gpu_model(info.parameters).map(|(m, p, bytes)| {
                info.memory_bytes = bytes;
                info.on_gpu = true;
                info.backend = format!(
                    "gpu (burn-wgpu, WebGPU: {adapter}), {}",
                    p.weights_label(true)
                );
                Loaded::Gpu(m, weights)
            }),
            None => {
                info.backend = runner::cpu_backend();
                weights.cpu_model().map(Loaded::Cpu)
            }
        };
        match loaded {
            Ok(m) => {
                info.load_ms = now() - t0;
                // On the CPU the default pool's helpers start loading their copies now, so they are
                // ready when a run starts (a run asking for another number of workers changes it).
                let workers = (!helper && matches!(m, Loaded::Cpu(_)))
                    .then(|| pool::workers(None, worker_link::cores(), info.memory_bytes));
                if let Some(w) = workers {
                    info.backend = runner::cpu_backend_at(runner::CPU_PRECISION, w);
                }
                STATE.with(|s| {
                    let mut s = s.borrow_mut();
                    s.model = Some((Rc::new(m), info.clone()));
                    s.source = Some(source);
                });
                HELPERS.with(|h| h.borrow_mut().sha256 = info.sha256.clone());
                send(&FromWorker::ModelLoaded { info });
                if let Some(w) = workers {
                    ensure_helpers(w - 1);
                }
            }
            Err(e) => send(&FromWorker::Error {
                message: e.to_string(),
            }),
        }
    }

    /// Terminate every helper worker (another model is loading, or the run goes to the GPU).
    fn stop_helpers() {
        HELPERS.with(|h| {
            let mut h = h.borrow_mut();
            for l in h.links.drain(..) {
                l.worker.terminate();
            }
            h.pool = Pool::new(0);
            h.share = None;
            h.records.clear();
        });
    }

    fn post_to_helper(h: usize, text: &str) {
        HELPERS.with(|hs| {
            if let Some(l) = hs.borrow().links.get(h) {
                worker_link::post_text(&l.worker, text, None);
            }
        });
    }

    /// Drop helper `h` (its items go back to the run) and say so on the page.
    fn lose_helper(h: usize, why: String) {
        let dropped = HELPERS.with(|hs| {
            let mut hs = hs.borrow_mut();
            if matches!(hs.pool.helpers.get(h), None | Some(pool::Helper::Gone(_))) {
                return false;
            }
            hs.pool.lost(h, why.clone());
            if let Some(l) = hs.links.get(h) {
                l.worker.terminate();
            }
            true
        });
        if dropped {
            tell_lost(h, &why);
        }
    }

    /// Say on the page that helper `h` stopped, and why.
    fn tell_lost(h: usize, why: &str) {
        let left = HELPERS.with(|hs| hs.borrow().pool.alive()) + 1;
        send(&FromWorker::Status {
            text: format!(
                "CPU worker {} stopped ({why}); its items go to the other {left} worker{}",
                h + 2,
                if left == 1 { "" } else { "s" }
            ),
        });
    }

    /// A message from helper `h`.
    fn on_helper(h: usize, msg: FromWorker) {
        match msg {
            FromWorker::Ready => load_helper(h),
            FromWorker::ModelLoaded { info } => {
                let (ours, share) = HELPERS.with(|hs| {
                    let hs = hs.borrow();
                    (hs.sha256.clone(), hs.share.clone())
                });
                if info.sha256 != ours {
                    return lose_helper(
                        h,
                        format!(
                            "it read another model: SHA-256 {} instead of {ours}",
                            info.sha256
                        ),
                    );
                }
                if HELPERS.with(|hs| hs.borrow_mut().pool.loaded(h)) {
                    if let Some(text) = share {
                        post_to_helper(h, &text);
                    }
                }
            }
            FromWorker::Shared { job, config_hash } => {
                let (dropped, joined) = HELPERS.with(|hs| {
                    let mut hs = hs.borrow_mut();
                    let ours = hs.config_hash.clone();
                    let dropped = hs.pool.shared(h, job, &config_hash, &ours);
                    let joined =
                        matches!(hs.pool.helpers.get(h), Some(pool::Helper::Working { .. }))
                            .then(|| hs.pool.helpers.len() + 1);
                    (dropped, joined)
                });
                if let Some(n) = joined {
                    send(&FromWorker::Status {
                        text: format!("CPU worker {} of {n} joined the run", h + 2),
                    });
                }
                if let Some(why) = dropped {
                    HELPERS.with(|hs| {
                        if let Some(l) = hs.borrow().links.get(h) {
                            l.worker.terminate();
                        }
                    });
                    tell_lost(h, &why);
                }
            }
            FromWorker::Evaluated { job, record } => {
                HELPERS.with(|hs| hs.borrow_mut().records.push((h, job, record)))
            }
            FromWorker::Error { message } | FromWorker::JobFailed { message, .. } => {
                lose_helper(h, message)
            }
            _ => {}
        }
    }

    /// Have `n` helper workers on the loaded model (each, once ready, is sent the same files as this
    /// worker's model, and reads and checks them itself). Helpers already there are kept when their number is right.
    fn ensure_helpers(n: usize) {
        let (have, alive) = HELPERS.with(|h| {
            let h = h.borrow();
            (h.pool.helpers.len(), h.pool.alive())
        });
        if have == n && alive == n {
            return;
        }
        stop_helpers();
        if STATE.with(|s| s.borrow().source.is_none()) {
            return;
        }
        let mut links = Vec::new();
        for i in 0..n {
            let worker = match worker_link::start_worker() {
                Ok(w) => w,
                Err(e) => {
                    send(&FromWorker::Status {
                        text: format!("could not start more CPU workers ({e:?}); running on one"),
                    });
                    break;
                }
            };
            let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
                let text = ev.data().as_string().unwrap_or_default();
                if let Ok(m) = serde_json::from_str::<FromWorker>(&text) {
                    on_helper(i, m);
                }
            });
            let on_error = Closure::<dyn Fn(JsValue)>::new(move |e: JsValue| {
                let m = js_sys::Reflect::get(&e, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| "it crashed".into());
                lose_helper(i, m);
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            links.push(HelperLink {
                worker,
                load_sent: false,
                _on_message: on_message,
                _on_error: on_error,
            });
        }
        HELPERS.with(|h| {
            let mut h = h.borrow_mut();
            h.pool = Pool::new(links.len());
            h.links = links;
        });
    }

    /// Helper `h` is ready (its message handler is set up): send it the model to load, from the same
    /// files or URL as this worker's, once.
    fn load_helper(h: usize) {
        let Some(src) = STATE.with(|s| s.borrow().source.clone()) else {
            return;
        };
        HELPERS.with(|hs| {
            let mut hs = hs.borrow_mut();
            let Some(link) = hs.links.get_mut(h).filter(|l| !l.load_sent) else {
                return;
            };
            link.load_sent = true;
            let load = ToWorker::LoadModel {
                name: src.name.clone(),
                url: src.url.clone(),
                backend: BackendChoice::Cpu,
                files: src.paths.clone(),
                helper: true,
            };
            let files: js_sys::Array = src.files.iter().collect();
            worker_link::post(&link.worker, &load, Some(&files));
        });
    }

    /// In a helper: build job's plan from the primary's spec and benchmark, answer with its hash.
    fn share(job: u32, spec: RunSpec, bench: BenchFiles) {
        let started = runner::load_bench(&bench.files)
            .map_err(|p| format!("{}: {}", bench.name, p.join("\n")))
            .and_then(|(b, hash)| {
                STATE.with(|s| {
                    let s = s.borrow();
                    let (_, info) = s.model.as_ref().ok_or("no model loaded")?;
                    ActiveRun::start(&spec, info, &b, &hash, &[], &info.backend, None)
                })
            });
        match started {
            Ok(a) => {
                let config_hash = a.header.config_hash.clone();
                SHARED.with(|s| *s.borrow_mut() = Some((job, Rc::new(a))));
                send(&FromWorker::Shared { job, config_hash });
            }
            Err(message) => send(&FromWorker::JobFailed { job, message }),
        }
    }

    /// In a helper: evaluate item `id` of the shared run.
    async fn evaluate(job: u32, id: String) {
        let shared = SHARED
            .with(|s| s.borrow().clone())
            .filter(|(j, _)| *j == job);
        let model = STATE.with(|s| s.borrow().model.as_ref().map(|(m, _)| m.clone()));
        let (Some((_, active)), Some(model)) = (shared, model) else {
            return send(&FromWorker::JobFailed {
                job,
                message: "asked for an item of a run it was not given".into(),
            });
        };
        let Some(i) = active.index_of(&id) else {
            return send(&FromWorker::JobFailed {
                job,
                message: format!("item {id} is not in its plan"),
            });
        };
        let Loaded::Cpu(m) = &*model else {
            return send(&FromWorker::JobFailed {
                job,
                message: "its model is not on the CPU".into(),
            });
        };
        match active.evaluate(m, i, now).await {
            Ok(record) => send(&FromWorker::Evaluated { job, record }),
            Err(message) => send(&FromWorker::JobFailed { job, message }),
        }
    }

    async fn run(
        job: u32,
        spec: RunSpec,
        bench_files: BenchFiles,
        previous: Vec<bedside_eval::ItemRecord>,
        expect: Option<bedside_eval::RunConfig>,
    ) {
        if RUNNING.get() {
            return send(&FromWorker::JobFailed {
                job,
                message: "another run is in progress; this one waits in the queue".into(),
            });
        }
        let (bench, hash) = match runner::load_bench(&bench_files.files) {
            Ok(b) => b,
            Err(problems) => {
                return send(&FromWorker::JobFailed {
                    job,
                    message: format!("{}: {}", bench_files.name, problems.join("\n")),
                })
            }
        };
        // On the CPU, the run's items are shared among workers (see `bedside_web::pool`); a model the
        // GPU handed over mid-run (exact products) keeps to this worker, as helpers build the default.
        let workers = STATE.with(|s| {
            let s = s.borrow();
            match s.model.as_ref() {
                Some((m, info)) if matches!(&**m, Loaded::Cpu(_)) && !info.fell_back => Some(
                    pool::workers(spec.workers, worker_link::cores(), info.memory_bytes),
                ),
                _ => None,
            }
        });
        ensure_helpers(workers.unwrap_or(1) - 1);
        if let Some(workers) = workers {
            let text = runner::cpu_backend_at(runner::CPU_PRECISION, workers);
            let changed = STATE.with(|s| match s.borrow_mut().model.as_mut() {
                Some((_, info)) if info.backend != text => {
                    info.backend = text.clone();
                    true
                }
                _ => false,
            });
            if changed {
                send(&FromWorker::Backend { text });
            }
        }
        let start = STATE.with(|s| {
            let s = s.borrow();
            let (_, info) = s.model.as_ref().ok_or("load a model first")?;
            ActiveRun::start(
                &spec,
                info,
                &bench,
                &hash,
                &previous,
                &info.backend,
                expect.as_ref(),
            )
        });
        let mut active = match start {
            Ok(a) => a,
            Err(e) => return send(&FromWorker::JobFailed { job, message: e }),
        };
        let checked = match STATE.with(|s| s.borrow().model.as_ref().map(|(m, _)| m.clone())) {
            Some(m) => match &*m {
                Loaded::Cpu(c) => active.check(c),
                Loaded::Gpu(g, _) => active.check(g),
            },
            None => Ok(()),
        };
        if let Err(message) = checked {
            return send(&FromWorker::JobFailed { job, message });
        }
        RUNNING.set(true);
        CANCEL.set(false);
        let share = serde_json::to_string(&ToWorker::Share {
            job,
            spec: spec.clone(),
            bench: bench_files,
        })
        .unwrap_or_default();
        let to_share = HELPERS.with(|h| {
            let mut h = h.borrow_mut();
            h.config_hash = active.header.config_hash.clone();
            h.share = Some(share.clone());
            h.records.clear();
            h.pool.start(job)
        });
        for h in to_share {
            post_to_helper(h, &share);
        }
        send(&FromWorker::Header {
            job,
            header: active.header.clone(),
            total: active.total(),
        });
        let mut cancelled = false;
        let mut last = now();
        loop {
            yield_now().await;
            if CANCEL.get() {
                cancelled = true;
                break;
            }
            // Records the helpers sent: counted once, if the run still waits for them from there.
            let arrived = HELPERS.with(|h| std::mem::take(&mut h.borrow_mut().records));
            for (h, j, record) in arrived {
                let expected = HELPERS.with(|hs| {
                    hs.borrow_mut()
                        .pool
                        .finished(h, j, &active.plan, &record.id)
                });
                if !expected {
                    continue;
                }
                let t = now();
                if let Some(m) = active.counted(job, record, t - last) {
                    send(&m);
                    last = t;
                }
            }
            let given =
                HELPERS.with(|h| h.borrow_mut().pool.assign(&mut active.state, &active.plan));
            for (h, i) in given {
                let id = active.plan.items[i].item.id.clone();
                let text =
                    serde_json::to_string(&ToWorker::Evaluate { job, id }).unwrap_or_default();
                post_to_helper(h, &text);
            }
            let Some(model) = STATE.with(|s| s.borrow().model.as_ref().map(|(m, _)| m.clone()))
            else {
                break;
            };
            let Some(i) = active.state.next_index(&active.plan) else {
                if HELPERS.with(|h| h.borrow().pool.in_flight()) > 0 {
                    sleep(10).await;
                    continue;
                }
                break;
            };
            let result = match &*model {
                Loaded::Cpu(m) => active.evaluate(m, i, now).await,
                Loaded::Gpu(m, _) => {
                    if SIMULATE_LOSS.replace(false) {
                        bedside_model::scoring::simulate_device_loss();
                    }
                    active.evaluate(m, i, now).await
                }
            };
            match result {
                Ok(record) => {
                    let t = now();
                    if let Some(m) = active.counted(job, record, t - last) {
                        send(&m);
                    }
                    last = t;
                }
                Err(e) => {
                    // The GPU failed: rebuild the model on the CPU from the kept bytes and redo the item.
                    active.state.retry(i);
                    let Loaded::Gpu(_, weights) = &*model else {
                        send(&FromWorker::JobFailed { job, message: e });
                        break;
                    };
                    send(&FromWorker::Status {
                        text: format!(
                            "the GPU failed ({e}); continuing on the CPU from item {}",
                            active.state.progress.done + 1
                        ),
                    });
                    match weights.build::<Cpu>(runner::FALLBACK_PRECISION) {
                        Ok(cpu) => {
                            let info = STATE.with(|s| {
                                let mut s = s.borrow_mut();
                                let mut info = s.model.as_ref().map(|(_, i)| i.clone())?;
                                info.backend = format!(
                                    "{} (after the GPU failed)",
                                    runner::cpu_backend_at(runner::FALLBACK_PRECISION, 1)
                                );
                                info.fell_back = true;
                                info.on_gpu = false;
                                info.memory_bytes = info.file_bytes;
                                s.model = Some((Rc::new(Loaded::Cpu(cpu)), info.clone()));
                                Some(info)
                            });
                            if let Some(info) = info {
                                send(&FromWorker::ModelLoaded { info });
                            }
                        }
                        Err(err) => {
                            send(&FromWorker::JobFailed {
                                job,
                                message: format!("{e}; the CPU fallback failed too: {err}"),
                            });
                            break;
                        }
                    }
                }
            }
        }
        HELPERS.with(|h| {
            let mut h = h.borrow_mut();
            h.pool.end();
            h.share = None;
        });
        RUNNING.set(false);
        send(&FromWorker::Done { job, cancelled });
    }

    /// The comparison the CLI's `bedside compare` prints, rendered for the page and its exports.
    fn compare(
        runs: &[bedside_web::protocol::CompareRun],
        bench: Option<&std::collections::BTreeMap<String, String>>,
    ) -> FromWorker {
        use bedside_eval::compare::{check_labels, compare_runs, items_csv, RunInput};
        let inputs: Vec<RunInput> = runs
            .iter()
            .map(|r| RunInput {
                file: r.name.clone(),
                header: &r.header,
                records: &r.records,
            })
            .collect();
        match compare_runs(&inputs) {
            Ok(mut c) => {
                // The benchmark's expert labels, when its files are here and it is the runs' own.
                if let Some(Ok((b, hash))) = bench.map(bedside_web::runner::load_bench) {
                    if hash == c.benchmark_hash {
                        check_labels(&mut c, &b, &hash).ok();
                    }
                }
                FromWorker::Compared {
                    body: bedside_eval::html::compare_body(&c),
                    page: bedside_eval::html::render_compare(&c),
                    csv: items_csv(&c),
                    runs: c.runs.len(),
                    items: c.shared_items,
                }
            }
            Err(message) => FromWorker::CompareFailed { message },
        }
    }

    fn on_message(ev: MessageEvent) {
        let data = ev.data();
        // `{msg: "<json>", bytes?: ArrayBuffer}`
        let text = js_sys::Reflect::get(&data, &"msg".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        // The model's files, when the page sent them (File objects: read lazily, never copied whole).
        let files: Vec<web_sys::File> = js_sys::Reflect::get(&data, &"files".into())
            .ok()
            .filter(|f| f.is_object())
            .map(|f| {
                js_sys::Array::from(&f)
                    .iter()
                    .filter_map(|x| x.dyn_into().ok())
                    .collect()
            })
            .unwrap_or_default();
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
            ToWorker::Compare { runs, bench } => send(&compare(&runs, bench.as_ref())),
            ToWorker::LoadModel { .. } if RUNNING.get() => send(&FromWorker::Busy {
                message: "a run is in progress: its model stays loaded until it ends, so no record can come from another model; cancel it first, or queue a run with the other model".into(),
            }),
            ToWorker::LoadModel {
                name,
                url,
                backend,
                files: paths,
                helper,
            } => wasm_bindgen_futures::spawn_local(load_model(
                name, url, files, paths, backend, helper,
            )),
            ToWorker::Run {
                job,
                spec,
                bench,
                previous,
                expect,
            } => wasm_bindgen_futures::spawn_local(run(job, spec, bench, previous, expect)),
            ToWorker::Share { job, spec, bench } => share(job, spec, bench),
            ToWorker::Evaluate { job, id } => wasm_bindgen_futures::spawn_local(evaluate(job, id)),
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
