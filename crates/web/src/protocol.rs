//! Messages between the page and the worker that runs the engine. JSON text, plus the model's bytes as a
//! transferred ArrayBuffer when the user picked a file.

use bedside_eval::{ItemRecord, Method, Progress, RunHeader};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the user chose on the Run page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub method: Method,
    /// `auto` or a template name.
    pub format: String,
    pub shots: usize,
    pub chat: bool,
    pub limit: Option<usize>,
    pub split: String,
    pub probes: Vec<String>,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            method: Method::Loglik,
            format: "auto".into(),
            shots: 0,
            chat: false,
            limit: Some(10),
            split: "test".into(),
            probes: Vec::new(),
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
    },
    /// The benchmark's files (manifest.json and shards), as text.
    LoadBench {
        name: String,
        files: BTreeMap<String, String>,
    },
    /// Run, skipping items already in `previous` (resume).
    Run {
        spec: RunSpec,
        previous: Vec<ItemRecord>,
    },
    Cancel,
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
    /// Memory the loaded weights take: about the file on the CPU (kept quantised), 4 bytes a parameter
    /// on the GPU (f32).
    pub memory_bytes: u64,
    pub sha256: String,
    pub load_ms: f64,
    pub backend: String,
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
    BenchLoaded {
        name: String,
        items: usize,
    },
    Header {
        header: RunHeader,
        total: usize,
    },
    Record {
        record: ItemRecord,
        progress: Progress,
    },
    Done {
        cancelled: bool,
    },
    Error {
        message: String,
    },
}
