//! The Burn forward pass (f32; flex backend for both models, ndarray for SmolLM2) against an independent float64 NumPy forward pass over the
//! `gguf`-dequantised weights (scripts/reference_logits.py -> tests/fixtures/logits_reference.json), on both
//! real models and a real MedQA prompt. Tolerances: max abs logit error < 1e-3 at the last position (top-50
//! and 512 sampled vocabulary entries) and at every position's reference argmax; greedy 32-token
//! continuations (with the KV cache) identical. Also: scoring from a forked KV cache equals scoring the full
//! sequence from scratch within 1e-4.

mod common;
use bedside_model::scoring::rows;
use bedside_model::Model;
use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use common::*;
use serde_json::Value;

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn check<B: Backend>(name: &str) -> Model<B> {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/logits_reference.json")).unwrap();
    let device = Default::default();
    let model = Model::<B>::from_gguf(name, &model_bytes(name), &device).unwrap();
    let mut worst = 0f64;
    for c in fixture["models"][name]["cases"].as_array().unwrap() {
        let prompt = ids(&c["ids"]);
        let mut cache = model.new_cache();
        let logits = rows(model.forward(&prompt, &mut cache, false));
        let last = logits.last().unwrap();
        for (k, v) in [("top_ids", "top_logits"), ("sample_ids", "sample_logits")] {
            for (i, want) in ids(&c[k]).iter().zip(c[v].as_array().unwrap()) {
                let err = (last[*i as usize] as f64 - want.as_f64().unwrap()).abs();
                worst = worst.max(err);
                assert!(err < 1e-3, "{name}: logit {i} differs by {err}");
            }
        }
        for (p, (a, want)) in ids(&c["argmax"])
            .iter()
            .zip(c["argmax_logit"].as_array().unwrap())
            .enumerate()
        {
            let err = (logits[p][*a as usize] as f64 - want.as_f64().unwrap()).abs();
            worst = worst.max(err);
            assert!(
                err < 1e-3,
                "{name}: position {p} logit of the reference argmax differs by {err}"
            );
        }
        let want = ids(&c["greedy"]);
        if want.is_empty() {
            continue; // long prompts: logits only
        }
        let greedy = model.generate_greedy(&prompt, 32);
        assert_eq!(
            greedy,
            want[..greedy.len()],
            "{name}: greedy continuation differs"
        );
        if greedy.len() < want.len() {
            assert!(model.tokenizer.stop_tokens.contains(greedy.last().unwrap()));
        }
    }
    eprintln!(
        "{name} on {}: max abs logit error vs NumPy float64: {worst:.2e}",
        std::any::type_name::<B>()
    );
    model
}

#[test]
fn smollm2_on_ndarray_matches_numpy_reference() {
    check::<NdArray<f32>>(SMOL);
}

#[test]
fn smollm2_on_flex_matches_numpy_reference() {
    let model = check::<Flex<f32>>(SMOL);
    // Prefix sharing: score two option continuations from one forked prompt cache.
    let prompt = model.tokenizer.encode(
        "Question: Which drug reverses heparin?\nAnswer:",
        true,
        false,
    );
    let prefix = model.prefix(&prompt);
    for option in [" Protamine sulfate", " Vitamin K"] {
        let cont = model.tokenizer.encode(option, false, false);
        let fast = model.score_continuation(&prefix, &cont);
        let naive = model.score_naive(&prompt, &cont);
        for (a, b) in fast.iter().zip(&naive) {
            assert!((a - b).abs() < 1e-4, "forked {a} vs naive {b}");
        }
    }
}

#[test]
fn gemma3_on_flex_matches_numpy_reference() {
    check::<Flex<f32>>(GEMMA);
}
