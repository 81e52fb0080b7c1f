//! The worker's side: holds the loaded model and benchmark and drives `bedside-eval` one item at a time.
//! Nothing here touches the DOM or JavaScript; `bin/worker.rs` wires it to `postMessage`, so the same
//! logic is testable natively.

use crate::protocol::{FromWorker, ModelInfo, RunSpec};
use bedside_bench::hash::sha256_hex;
use bedside_bench::{validate, Benchmark, BenchmarkFiles, ValidateOptions};
use bedside_eval::config::{default_max_tokens, BenchmarkRef, ModelRef};
use bedside_eval::fewshot::FewshotSampler;
use bedside_eval::record::RUN_FORMAT;
use bedside_eval::{plan, Evaluator, ItemRecord, Plan, RunConfig, RunHeader, RunState, Template};
use bedside_model::{registry, Gguf, Model};
use burn::backend::Flex;
use burn::tensor::backend::Backend;
use std::collections::BTreeMap;

pub type Cpu = Flex<f32>;

pub const CPU_BACKEND: &str = "cpu (burn-flex, WebAssembly), quantized weights";

/// The GPU backend: Burn's wgpu on the browser's WebGPU.
pub type Gpu = burn::backend::Wgpu;

/// Name, size, parameters and quantisation of a GGUF, read from its header (before building the model).
pub fn describe(name: &str, bytes: &[u8]) -> Result<ModelInfo, String> {
    let g = Gguf::parse(name, bytes).map_err(|e| e.to_string())?;
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &g.tensors {
        *by_type.entry(t.ty.name()).or_default() += t.byte_len();
    }
    let quantization = by_type
        .iter()
        .max_by_key(|(_, b)| **b)
        .map(|(t, _)| t.to_string())
        .unwrap_or_default();
    let params = g.parameter_count() as u64;
    let sha = sha256_hex(bytes);
    let known = registry::by_sha256(&sha);
    Ok(ModelInfo {
        name: known
            .map(|e| e.name.to_string())
            .or_else(|| {
                g.get("general.name")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| name.to_string()),
        file: name.to_string(),
        architecture: g.architecture().unwrap_or("?").to_string(),
        parameters: params,
        quantization,
        file_bytes: bytes.len() as u64,
        // The worker keeps the weights in their quantised blocks (the file's bytes, shared, not copied);
        // the rest (norms, KV cache, activations) is small next to them.
        memory_bytes: bytes.len() as u64,
        sha256: sha,
        load_ms: 0.0,
        backend: CPU_BACKEND.into(),
    })
}

/// Validate benchmark files given as text; `Err` carries every problem, one line each (file:line: message).
pub fn load_bench(files: &BTreeMap<String, String>) -> Result<(Benchmark, String), Vec<String>> {
    let mut bf = BenchmarkFiles::default();
    for (name, text) in files {
        if name == bedside_bench::MANIFEST_FILE {
            bf.manifest = Some(text.as_bytes().to_vec());
        } else {
            bf.shards.insert(name.clone(), text.as_bytes().to_vec());
        }
    }
    let (bench, problems, _) = validate(&bf, &ValidateOptions::default());
    match bench {
        Some(b) => {
            let hash = bf.content_hash();
            Ok((b, hash))
        }
        None => Err(problems.problems.iter().map(|p| p.to_string()).collect()),
    }
}

/// The run configuration for a spec, the same one `bedside eval` builds (so the hashes match).
pub fn config(
    spec: &RunSpec,
    info: &ModelInfo,
    bench: &Benchmark,
    bench_hash: &str,
) -> Result<RunConfig, String> {
    let template = Template::resolve(&spec.format, bench)?;
    Ok(RunConfig {
        model: ModelRef {
            name: info.name.clone(),
            file: info
                .file
                .rsplit('/')
                .next()
                .unwrap_or(&info.file)
                .to_string(),
            sha256: info.sha256.clone(),
        },
        benchmark: BenchmarkRef {
            name: bench.manifest.name.clone(),
            hash: bench_hash.to_string(),
            split: spec.split.clone(),
        },
        template,
        method: spec.method,
        shots: spec.shots,
        fewshot: if template.shots_first_n_same_subject() {
            FewshotSampler::FirstN
        } else {
            FewshotSampler::Random
        },
        chat: spec.chat,
        cot: false,
        samples: 1,
        temperature: 0.0,
        top_p: 0.95,
        max_tokens: default_max_tokens(false),
        seed: 1234,
        probes: spec.probes.clone(),
    })
}

/// A run in progress inside the worker.
pub struct ActiveRun {
    pub cfg: RunConfig,
    pub plan: Plan,
    pub header: RunHeader,
    pub state: RunState,
}

impl ActiveRun {
    pub fn start(
        spec: &RunSpec,
        info: &ModelInfo,
        bench: &Benchmark,
        bench_hash: &str,
        previous: &[ItemRecord],
        backend: &str,
    ) -> Result<ActiveRun, String> {
        let cfg = config(spec, info, bench, bench_hash)?;
        let plan = plan(bench, &cfg, None, spec.limit)?;
        let header = RunHeader {
            bedside_run: RUN_FORMAT,
            bedside_version: env!("CARGO_PKG_VERSION").to_string(),
            config_hash: cfg.hash(),
            config: cfg.clone(),
            slice: None,
            planned_items: plan.planned,
            backend: backend.to_string(),
            merged_from: Vec::new(),
        };
        let state = RunState::new(&plan, previous);
        Ok(ActiveRun {
            cfg,
            plan,
            header,
            state,
        })
    }

    pub fn total(&self) -> usize {
        self.plan.items.len()
    }

    /// Evaluate the next unfinished item; `None` when the run is complete. Asynchronous: on WebGPU the
    /// scores can only be read back by awaiting. `Some(Err(message))` when the device failed: the item is
    /// not counted, so the caller can switch to another backend and redo it.
    pub async fn step<B: Backend>(
        &mut self,
        model: &Model<B>,
        now: fn() -> f64,
    ) -> Option<Result<FromWorker, String>> {
        let p = self.state.next_item(&self.plan)?;
        let mut ev = Evaluator::new(model, self.cfg.clone());
        ev.clock = now;
        let t0 = now();
        let record = ev.evaluate_async(&self.plan, p).await;
        if let Some(e) = record
            .error
            .as_deref()
            .filter(|e| bedside_model::error::is_device_error(e))
        {
            self.state.retry_last();
            return Some(Err(e.to_string()));
        }
        self.state.finished(&record, now() - t0);
        Some(Ok(FromWorker::Record {
            record,
            progress: self.state.progress.clone(),
        }))
    }
}
