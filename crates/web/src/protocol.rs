//! Messages between the page and the worker that runs the engine. JSON text, plus the model's bytes as a
//! transferred ArrayBuffer when the user picked a file.

use bedside_eval::config::RunSettings;
use bedside_eval::{ItemRecord, Progress, RunConfig, RunHeader};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the user chose on the Run page: the engine's run settings (the same defaults and the same
/// builder as `bedside eval`) and how many items to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    #[serde(flatten)]
    pub settings: RunSettings,
    pub limit: Option<usize>,
    /// Workers evaluating items on the CPU, each with its own copy of the model (`None`: one per core,
    /// bounded by memory; see `pool::workers`). Records do not depend on it.
    #[serde(default)]
    pub workers: Option<usize>,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            settings: RunSettings::default(),
            limit: Some(10),
            workers: None,
        }
    }
}

/// Where the model should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// WebGPU when the browser gives an adapter, otherwise the CPU.
    #[default]
    Auto,
    Gpu,
    Cpu,
}

impl BackendChoice {
    pub fn parse(s: &str) -> Self {
        match s {
            "gpu" => BackendChoice::Gpu,
            "cpu" => BackendChoice::Cpu,
            _ => BackendChoice::Auto,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Gpu => "gpu",
            BackendChoice::Cpu => "cpu",
        }
    }
}

/// A benchmark's files (manifest.json and shards) as text, with the name the user knows it by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchFiles {
    pub name: String,
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Load a model: from a same-origin `url` (a .gguf), or from the `File`s sent with the message, whose
    /// paths are `files` (a .gguf, or a Hugging Face folder's files as `folder/config.json`, ...). The
    /// worker reads them in chunks, describes the model from its header first, and reports progress.
    LoadModel {
        name: String,
        url: Option<String>,
        #[serde(default)]
        backend: BackendChoice,
        #[serde(default)]
        files: Vec<String>,
        /// Sent by the primary worker to a helper of its CPU pool: load, but start no helpers of its own.
        #[serde(default)]
        helper: bool,
    },
    /// Run job `job`: the benchmark travels with it (validated again here), so a job always runs on
    /// the benchmark it was queued with. Items already in `previous` are skipped (resume); `expect` is
    /// the configuration of the run being resumed: a different one is refused, never mixed in.
    Run {
        job: u32,
        spec: RunSpec,
        bench: BenchFiles,
        #[serde(default)]
        previous: Vec<ItemRecord>,
        #[serde(default)]
        expect: Option<RunConfig>,
    },
    Cancel,
    /// To a helper worker (see `pool`): build job's configuration and plan from the same spec and
    /// benchmark, and answer `Shared` with its hash.
    Share {
        job: u32,
        spec: RunSpec,
        bench: BenchFiles,
    },
    /// To a helper worker: evaluate item `id` of job's plan, answer `Evaluated`.
    Evaluate {
        job: u32,
        id: String,
    },
    /// Compare finished runs of one benchmark (`bedside compare`'s engine; its bootstrap and model
    /// fits run here, not on the page).
    Compare {
        runs: Vec<CompareRun>,
        /// The benchmark's files when this browser keeps them: its items' expert labels (MMLU-Redux's
        /// `error_type`) are checked against the IRT flags. Ignored when it is another benchmark.
        #[serde(default)]
        bench: Option<BTreeMap<String, String>>,
    },
    /// Fault injection for the browser tests: the next GPU read fails as a lost device would.
    SimulateDeviceLoss,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    /// The .gguf file, or the checkpoint's folder.
    pub file: String,
    /// `gguf` or `safetensors`.
    #[serde(default)]
    pub format: String,
    pub architecture: String,
    pub parameters: u64,
    pub quantization: String,
    pub file_bytes: u64,
    /// Memory the loaded weights take: about the file on the CPU and on the GPU (kept in their
    /// quantised blocks), 4 bytes a parameter for a Hugging Face checkpoint on the GPU (f32).
    pub memory_bytes: u64,
    pub sha256: String,
    pub load_ms: f64,
    pub backend: String,
    /// The model was rebuilt on the CPU after the GPU failed mid-run.
    #[serde(default)]
    pub fell_back: bool,
    /// The model runs on the GPU (WebGPU); otherwise on the CPU.
    #[serde(default)]
    pub on_gpu: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    Ready,
    Status {
        text: String,
    },
    /// What the model is, read from its header before its weights (no hash yet).
    ModelInspected {
        info: ModelInfo,
    },
    /// Bytes of the model read so far (`total` 0 when the server did not say).
    LoadProgress {
        done: u64,
        total: u64,
    },
    ModelLoaded {
        info: ModelInfo,
    },
    Header {
        job: u32,
        header: RunHeader,
        total: usize,
    },
    Record {
        job: u32,
        record: ItemRecord,
        progress: Progress,
    },
    Done {
        job: u32,
        cancelled: bool,
    },
    /// From a helper worker: the configuration hash it built for job (the primary gives it items only
    /// when it is the run's).
    Shared {
        job: u32,
        config_hash: String,
    },
    /// From a helper worker: a record of job (its `ms`: the time it took there).
    Evaluated {
        job: u32,
        record: ItemRecord,
    },
    /// The loaded model now runs as `text` says (how many workers share the run's items).
    Backend {
        text: String,
    },
    /// A job could not start or stopped with an error (nothing it finished is lost).
    JobFailed {
        job: u32,
        message: String,
    },
    /// A request was refused because a job is running (loading another model would change it).
    Busy {
        message: String,
    },
    /// The comparison, rendered by the engine: the page shows `body`, and exports `page` and `csv`.
    Compared {
        body: String,
        page: String,
        csv: String,
        runs: usize,
        items: usize,
    },
    /// The runs could not be compared (different benchmarks, no shared item, ...), and why.
    CompareFailed {
        message: String,
    },
    Error {
        message: String,
    },
}

/// One run sent for comparison: a name for it (its file or model) and its records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareRun {
    pub name: String,
    pub header: RunHeader,
    pub records: Vec<ItemRecord>,
}
