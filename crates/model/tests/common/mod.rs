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
        p.exists(),
        "{} not found: run `bash scripts/get_models.sh` (or set BEDSIDE_MODELS)",
        p.display()
    );
    p
}

pub fn model_bytes(name: &str) -> Vec<u8> {
    std::fs::read(model_path(name)).unwrap()
}

/// The Hugging Face-format copy of SmolLM2 written by scripts/make_hf_model.py (run by get_models.sh).
pub const SMOL_HF: &str = "SmolLM2-135M-Instruct-hf";

/// The files of a Hugging Face checkpoint folder.
pub fn hf_files(name: &str) -> bedside_model::hf::HfFiles {
    let dir = model_path(name);
    let text = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    bedside_model::hf::HfFiles {
        config: text("config.json"),
        tokenizer: text("tokenizer.json"),
        tokenizer_config: std::fs::read_to_string(dir.join("tokenizer_config.json")).ok(),
        safetensors: vec![(
            "model.safetensors".into(),
            std::fs::read(dir.join("model.safetensors")).unwrap(),
        )],
    }
}
