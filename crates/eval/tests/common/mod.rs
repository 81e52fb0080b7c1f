//! Shared helpers of the engine tests: the bundled sample benchmarks and the real GGUF models.
#![allow(dead_code)]

use bedside_bench::{validate, Benchmark, BenchmarkFiles, Item, ValidateOptions};
use bedside_eval::config::{BenchmarkRef, ModelRef};
use bedside_eval::fewshot::FewshotSampler;
use bedside_eval::{Method, RunConfig, Template};
use std::path::PathBuf;

pub const SMOL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const GEMMA: &str = "gemma-3-270m-q4_k_m.gguf";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn model_bytes(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("BEDSIDE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models"));
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} not found: run `bash scripts/get_models.sh` (or set BEDSIDE_MODELS)",
        p.display()
    );
    std::fs::read(p).unwrap()
}

pub fn sample(name: &str) -> Benchmark {
    let dir = root().join("data/samples").join(name);
    let mut files = BenchmarkFiles {
        manifest: Some(std::fs::read(dir.join("manifest.json")).unwrap()),
        ..Default::default()
    };
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "jsonl") {
            files.shards.insert(
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            );
        }
    }
    let (b, problems, _) = validate(&files, &ValidateOptions::default());
    b.unwrap_or_else(|| panic!("{name} invalid: {problems}"))
}

pub fn test_items(b: &Benchmark) -> Vec<Item> {
    b.items_in_split("test")
        .map(|(_, li)| li.item.clone())
        .collect()
}

pub fn config(b: &Benchmark, method: Method, shots: usize) -> RunConfig {
    RunConfig {
        model: ModelRef {
            name: "m".into(),
            file: "m.gguf".into(),
            sha256: "0".into(),
        },
        benchmark: BenchmarkRef {
            name: b.manifest.name.clone(),
            hash: "h".into(),
            split: "test".into(),
        },
        template: Template::auto(b.manifest.task, &b.manifest.name, &b.manifest.source),
        method,
        shots,
        fewshot: FewshotSampler::FirstN,
        chat: false,
        cot: false,
        samples: 1,
        temperature: 0.0,
        top_p: 0.95,
        max_tokens: 24,
        seed: 1234,
        probes: Vec::new(),
    }
}
