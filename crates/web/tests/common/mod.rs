//! Helpers shared by the web crate's native tests.

use bedside_web::protocol::ModelInfo;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The files of the bundled sample benchmark `name` (`data/samples/<name>`): shards and manifest.
pub fn sample_files(name: &str) -> BTreeMap<String, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/samples")
        .join(name);
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let n = p.file_name()?.to_string_lossy().into_owned();
            (n.ends_with(".jsonl") || n == "manifest.json")
                .then(|| (n, std::fs::read_to_string(&p).unwrap()))
        })
        .collect()
}

/// A loaded model's description as the worker reports it, named `name` with SHA-256 `sha`.
pub fn info(name: &str, sha: &str) -> ModelInfo {
    ModelInfo {
        name: name.into(),
        file: format!("{name}.gguf"),
        format: "gguf".into(),
        architecture: "llama".into(),
        parameters: 1,
        quantization: "Q4_1".into(),
        file_bytes: 1,
        memory_bytes: 1,
        sha256: sha.into(),
        load_ms: 1.0,
        backend: "cpu".into(),
        fell_back: false,
        on_gpu: false,
    }
}
