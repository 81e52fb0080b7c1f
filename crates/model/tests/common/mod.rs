//! Shared helpers of the model tests: where the real GGUF files are.
#![allow(dead_code)]

use std::path::PathBuf;

pub const SMOL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const GEMMA: &str = "gemma-3-270m-q4_k_m.gguf";

pub fn model_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("BEDSIDE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} not found: run `bash scripts/get_models.sh` (or set BEDSIDE_MODELS)",
        p.display()
    );
    p
}

pub fn model_bytes(name: &str) -> Vec<u8> {
    std::fs::read(model_path(name)).unwrap()
}
