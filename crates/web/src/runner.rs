//! The worker's side: holds the loaded model and benchmark and drives `bedside-eval` one item at a time.
//! Nothing here touches the DOM or JavaScript; `bin/worker.rs` wires it to `postMessage`, so the same
//! logic is testable natively.

use crate::protocol::{FromWorker, ModelInfo, RunSpec};
use bedside_bench::hash::sha256_hex;
use bedside_bench::{validate, Benchmark, BenchmarkFiles, ValidateOptions};
use bedside_eval::config::ModelRef;
use bedside_eval::record::RUN_FORMAT;
use bedside_eval::{plan, Evaluator, ItemRecord, Plan, RunConfig, RunHeader, RunState};
use bedside_model::{registry, Gguf, Model};
use burn::backend::Flex;
use burn::tensor::backend::Backend;
use std::collections::BTreeMap;

pub type Cpu = Flex<f32>;

/// How the worker holds a model on the CPU: in the file's blocks (the tab's memory is the constraint),
/// short products on 8-bit activations with integer dot products (the native CLI's default too).
pub const CPU_PRECISION: bedside_model::Precision = bedside_model::Precision::Q8Activations;

/// The CPU backend as records and the page name it: the runtime, the integer-dot kernels this build runs
/// (`simd128` when the worker was built with it, as `.cargo/config.toml` does), the threads, and the
/// precision.
pub fn cpu_backend() -> String {
    cpu_backend_at(CPU_PRECISION, 1)
}

/// A run that started on the GPU (the file's blocks dequantised in the kernel, or f32 for a Hugging Face
/// checkpoint) and lost it continues on the CPU with exact products: its numbers stay the GPU's up to
/// summation order, where `q8-activations` would change them mid-run.
pub const FALLBACK_PRECISION: bedside_model::Precision = bedside_model::Precision::Quantized;

/// [`cpu_backend`] at `precision`, with `workers` workers sharing a run's items (see `pool`).
pub fn cpu_backend_at(precision: bedside_model::Precision, workers: usize) -> String {
    let threads = bedside_model::qmatrix::threads();
    let threads = format!("{threads} thread{}", if threads == 1 { "" } else { "s" });
    format!(
        "cpu (burn-flex, WebAssembly, {} kernels, {}), {} weights",
        bedside_model::quant::dot::active().name(),
        if workers > 1 {
            format!("{workers} workers × {threads}")
        } else {
            threads
        },
        precision.name()
    )
}

/// The GPU backend: Burn's wgpu on the browser's WebGPU.
pub type Gpu = burn::backend::Wgpu;

/// The most common tensor type by bytes ("Q4_1", "BF16", ...): how a model is quantised.
fn dominant_type<'a>(types: impl IntoIterator<Item = (&'a str, usize)>) -> String {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for (t, b) in types {
        *by_type.entry(t).or_default() += b;
    }
    by_type
        .iter()
        .max_by_key(|(_, b)| **b)
        .map(|(t, _)| t.to_string())
        .unwrap_or_default()
}

/// Name, parameters and quantisation of a GGUF from its first bytes (`prefix`) and its size, before
/// its weights are read. `Err` when the prefix stops inside the header (read more) or the file is bad.
/// A `file_len` of 0 means unknown (a download without a length): the size is then taken from the
/// header (where the last tensor's data ends).
pub fn inspect_gguf(name: &str, prefix: &[u8], file_len: u64) -> Result<ModelInfo, String> {
    let assumed = if file_len == 0 {
        usize::MAX / 2
    } else {
        file_len as usize
    };
    let g = Gguf::parse_header(name, prefix, assumed).map_err(|e| e.to_string())?;
    let file_len = if file_len == 0 {
        g.tensors
            .iter()
            .map(|t| (g.data_offset + t.offset as usize + t.byte_len()) as u64)
            .max()
            .unwrap_or(prefix.len() as u64)
    } else {
        file_len
    };
    let quantization = dominant_type(g.tensors.iter().map(|t| (t.ty.name(), t.byte_len())));
    Ok(ModelInfo {
        name: g
            .get("general.name")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| name.to_string()),
        file: name.to_string(),
        format: "gguf".into(),
        architecture: g.architecture().unwrap_or("?").to_string(),
        parameters: g.parameter_count() as u64,
        quantization,
        file_bytes: file_len,
        // The worker keeps the weights in their quantised blocks (the file's bytes, shared, not copied);
        // the rest (norms, KV cache, activations) is small next to them.
        memory_bytes: file_len,
        sha256: String::new(),
        load_ms: 0.0,
        backend: cpu_backend(),
        fell_back: false,
        on_gpu: false,
    })
}

/// [`inspect_gguf`] on the whole file, with its SHA-256 and its name in the model registry.
pub fn describe(name: &str, bytes: &[u8]) -> Result<ModelInfo, String> {
    describe_hashed(name, bytes, sha256_hex(bytes))
}

/// [`describe`] with the file's SHA-256 already computed (lowercase hex; the worker uses WebCrypto).
pub fn describe_hashed(name: &str, bytes: &[u8], sha256: String) -> Result<ModelInfo, String> {
    let mut info = inspect_gguf(name, bytes, bytes.len() as u64)?;
    info.sha256 = sha256;
    if let Some(known) = registry::by_sha256(&info.sha256) {
        info.name = known.name.to_string();
    }
    Ok(info)
}

/// The files the user gave for one model, by role (indexes into the names given to [`classify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelFileSet {
    Gguf(usize),
    Hf(HfFileSet),
}

/// The files of a Hugging Face checkpoint, by role (indexes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfFileSet {
    pub config: usize,
    pub tokenizer: usize,
    pub tokenizer_config: Option<usize>,
    /// In name order (the order their bytes are joined and hashed in, as the CLI does).
    pub safetensors: Vec<usize>,
}

impl HfFileSet {
    /// Every file, JSON first.
    pub fn all(&self) -> Vec<usize> {
        [self.config, self.tokenizer]
            .into_iter()
            .chain(self.tokenizer_config)
            .chain(self.safetensors.iter().copied())
            .collect()
    }
}

/// The last part of a path (`folder/config.json` → `config.json`).
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Sort picked or dropped files (names, possibly with folders) into a model: one `.gguf`, or a Hugging
/// Face checkpoint's `config.json` + `tokenizer.json` + `*.safetensors` (+ `tokenizer_config.json`).
/// Other files (README, generation_config.json, ...) are ignored.
pub fn classify(names: &[String]) -> Result<ModelFileSet, String> {
    let find = |want: &str| names.iter().position(|n| base_name(n) == want);
    let ext = |e: &str| -> Vec<usize> {
        (0..names.len())
            .filter(|&i| base_name(&names[i]).to_ascii_lowercase().ends_with(e))
            .collect()
    };
    let (ggufs, mut shards) = (ext(".gguf"), ext(".safetensors"));
    const HF: &str = "a Hugging Face model needs config.json, tokenizer.json and its .safetensors file(s), picked together (or its folder)";
    match (ggufs.len(), shards.len()) {
        (0, 0) => Err(format!(
            "no model file among {}: pick a .gguf file, or {HF}",
            names
                .iter()
                .map(|n| base_name(n))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (1, 0) => Ok(ModelFileSet::Gguf(ggufs[0])),
        (_, 0) => Err(format!(
            "{} .gguf files were given ({}); pick one",
            ggufs.len(),
            ggufs
                .iter()
                .map(|&i| base_name(&names[i]))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (0, _) => {
            let config = find("config.json").ok_or(format!("config.json is missing: {HF}"))?;
            let tokenizer =
                find("tokenizer.json").ok_or(format!("tokenizer.json is missing: {HF}"))?;
            shards.sort_by(|&a, &b| base_name(&names[a]).cmp(base_name(&names[b])));
            Ok(ModelFileSet::Hf(HfFileSet {
                config,
                tokenizer,
                tokenizer_config: find("tokenizer_config.json"),
                safetensors: shards,
            }))
        }
        _ => Err("both a .gguf and .safetensors files were given: pick one model".into()),
    }
}

/// A model chosen from picked or dropped files: its name (the .gguf's file name, or the checkpoint's
/// folder), the files it needs (indexes) and where each is kept in the browser (`name` or `name/file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSelection {
    pub name: String,
    pub files: Vec<usize>,
    pub stored_as: Vec<String>,
}

/// Choose the model among picked or dropped files (see [`classify`]). A checkpoint's files picked one by
/// one (no folder in their paths) are called `hf-model`.
pub fn select_model(paths: &[String]) -> Result<ModelSelection, String> {
    Ok(match classify(paths)? {
        ModelFileSet::Gguf(i) => ModelSelection {
            name: base_name(&paths[i]).to_string(),
            files: vec![i],
            stored_as: vec![base_name(&paths[i]).to_string()],
        },
        ModelFileSet::Hf(hf) => {
            let name = paths[hf.config]
                .rsplit_once('/')
                .map(|(dir, _)| base_name(dir))
                .filter(|d| !d.is_empty())
                .unwrap_or("hf-model")
                .to_string();
            let files = hf.all();
            let stored_as = files
                .iter()
                .map(|&i| format!("{name}/{}", base_name(&paths[i])))
                .collect();
            ModelSelection {
                name,
                files,
                stored_as,
            }
        }
    })
}

/// Describe a Hugging Face checkpoint before its weights are read: `config.json`'s text and, per
/// safetensors shard, (name, header bytes, file size). See [`bedside_model::hf`].
pub fn inspect_hf(
    folder: &str,
    config: &str,
    shards: &[(String, Vec<u8>, u64)],
    other_bytes: u64,
) -> Result<ModelInfo, String> {
    let cfg: serde_json::Value = serde_json::from_str(config)
        .map_err(|e| format!("{folder}/config.json: not valid JSON: {e}"))?;
    let mut params = 0u64;
    let mut types = Vec::new();
    let mut weights = 0u64;
    for (file, head, len) in shards {
        let tensors = bedside_model::hf::parse_safetensors_header(
            &format!("{folder}/{file}"),
            head,
            *len as usize,
        )
        .map_err(|e| e.to_string())?;
        for t in tensors {
            params += t.shape.iter().product::<usize>() as u64;
            types.push((t.ty.name(), t.end - t.start));
        }
        weights += len;
    }
    Ok(ModelInfo {
        name: bedside_model::hf::display_name(&cfg, folder),
        file: folder.to_string(),
        format: "safetensors".into(),
        architecture: cfg["model_type"].as_str().unwrap_or("?").to_string(),
        parameters: params,
        quantization: dominant_type(types),
        file_bytes: weights + other_bytes,
        // On the CPU the weights stay in the safetensors bytes (several shards are joined into one).
        memory_bytes: weights,
        sha256: String::new(),
        load_ms: 0.0,
        backend: cpu_backend(),
        fell_back: false,
        on_gpu: false,
    })
}

/// Whether a WebGPU adapter is a software one (SwiftShader, llvmpipe): it runs on the CPU, slower than
/// Bedside's own CPU path, so Auto prefers the CPU.
pub fn is_software_adapter(description: &str) -> bool {
    let d = description.to_lowercase();
    ["swiftshader", "llvmpipe", "software", "lavapipe", "warp"]
        .iter()
        .any(|k| d.contains(k))
}

/// A file that is clearly not a Bedside shard or manifest: one message saying what it is and what to
/// do, instead of one "invalid JSON" per line.
pub fn wrong_file(name: &str, text: &str) -> Option<String> {
    let lower = name.to_lowercase();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let convert = "convert it with `bedside convert` (see `bedside convert --help`), then load the folder it writes";
    if lower.ends_with(".csv") || lower.ends_with(".tsv") {
        return Some(format!(
            "{name}: this is a CSV/TSV table, not a Bedside shard (JSON Lines): {convert}"
        ));
    }
    if lower.ends_with(".parquet") || text.starts_with("PAR1") {
        return Some(format!(
            "{name}: this is a Parquet file, not a Bedside shard (JSON Lines): {convert}"
        ));
    }
    if first.contains("\"bedside_run\"") {
        return Some(format!("{name}: this is a run file (results), not a benchmark: open it on the Runs page (Import)"));
    }
    if lower == bedside_bench::MANIFEST_FILE {
        return None;
    }
    if first.starts_with('[') {
        return Some(format!(
            "{name}: this is one JSON array, not JSON Lines (one item per line): {convert}"
        ));
    }
    if !first.is_empty() && !first.starts_with('{') {
        let comma = first.matches(',').count();
        let what = if comma >= 2 {
            "looks like CSV"
        } else {
            "is not JSON Lines"
        };
        return Some(format!(
            "{name}: this {what}, not a Bedside shard (one JSON item per line): {convert}"
        ));
    }
    None
}

/// Validate benchmark files given as text; `Err` carries every problem, one line each (file:line: message).
pub fn load_bench(files: &BTreeMap<String, String>) -> Result<(Benchmark, String), Vec<String>> {
    let wrong: Vec<String> = files.iter().filter_map(|(n, t)| wrong_file(n, t)).collect();
    if !wrong.is_empty() {
        return Err(wrong);
    }
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

/// The run configuration for a spec: the engine's [`RunSettings::build`], as `bedside eval` uses it (so
/// the hashes match).
pub fn config(
    spec: &RunSpec,
    info: &ModelInfo,
    bench: &Benchmark,
    bench_hash: &str,
) -> Result<RunConfig, String> {
    spec.settings.build(
        ModelRef {
            name: info.name.clone(),
            file: base_name(&info.file).to_string(),
            sha256: info.sha256.clone(),
        },
        bench,
        bench_hash,
    )
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
        expect: Option<&RunConfig>,
    ) -> Result<ActiveRun, String> {
        let cfg = config(spec, info, bench, bench_hash)?;
        if let Some(old) = expect.filter(|old| old.hash() != cfg.hash()) {
            return Err(format!(
                "not resumed: the stored run was made with another configuration than the one loaded now:\n  {}\nits records are kept unchanged; load its model and benchmark again, or start a new run",
                bedside_eval::config::config_diff(old, &cfg).join("\n  ")
            ));
        }
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

    /// Whether `model` can run this configuration at all (`Evaluator::check`), before any item.
    pub fn check<B: Backend>(&self, model: &Model<B>) -> Result<(), String> {
        Evaluator::new(model, self.cfg.clone()).check()
    }

    /// The plan index of item `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.plan.items.iter().position(|p| p.item.id == id)
    }

    /// Evaluate the item at plan index `i` (not counted: see [`counted`](Self::counted)). Asynchronous:
    /// on WebGPU the scores can only be read back by awaiting. `Err(message)` when the device failed:
    /// the caller can switch to another backend and hand the item out again.
    pub async fn evaluate<B: Backend>(
        &self,
        model: &Model<B>,
        i: usize,
        now: fn() -> f64,
    ) -> Result<ItemRecord, String> {
        let mut ev = Evaluator::new(model, self.cfg.clone());
        ev.clock = now;
        ev.evaluate_checked(&self.plan, &self.plan.items[i])
            .await
            .map_err(|bedside_eval::engine::DeviceFailure(e)| e)
    }

    /// Count a finished record (`ms`: the wall time since the previous one, so the progress's items/s
    /// is the run's however many workers share it) and make the page's message; `None` for an item
    /// already counted.
    pub fn counted(&mut self, job: u32, record: ItemRecord, ms: f64) -> Option<FromWorker> {
        self.state
            .finished(&record, ms)
            .then(|| FromWorker::Record {
                job,
                record,
                progress: self.state.progress.clone(),
            })
    }
}
