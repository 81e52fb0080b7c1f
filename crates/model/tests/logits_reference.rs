//! The Burn forward pass (f32; flex backend for both models, ndarray for SmolLM2) against an independent float64 NumPy forward pass over the
//! `gguf`-dequantised weights (scripts/reference_logits.py -> tests/fixtures/logits_reference.json), on both
//! real models and a real MedQA prompt. Tolerances: max abs logit error < 1e-3 at the last position (top-50
//! and 512 sampled vocabulary entries) and at every position's reference argmax; greedy 32-token
//! continuations (with the KV cache) identical. Also: scoring from a forked KV cache equals scoring the full
//! sequence from scratch within 1e-4.

mod common;
use bedside_model::scoring::rows;
use bedside_model::{Blob, Model, Precision};
use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use common::*;
use serde_json::Value;
use std::sync::Arc;

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn load<B: Backend>(name: &str, precision: Precision) -> Model<B> {
    let blob: Blob = Arc::new(model_bytes(name));
    Model::<B>::from_gguf_blob(name, blob, precision, &Default::default()).unwrap()
}

fn check<B: Backend>(name: &str) -> Model<B> {
    check_at::<B>(name, Precision::F32)
}

fn check_at<B: Backend>(name: &str, precision: Precision) -> Model<B> {
    let model = load::<B>(name, precision);
    check_model(name, &model, precision.name());
    model
}

/// `model` against the NumPy reference of the fixture entry `name`.
fn check_model<B: Backend>(name: &str, model: &Model<B>, label: &str) {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/logits_reference.json")).unwrap();
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
        "{name} on {} ({label}): max abs logit error vs NumPy float64: {worst:.2e}",
        std::any::type_name::<B>(),
    );
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

#[test]
fn smollm2_quantized_on_flex_matches_numpy_reference() {
    check_at::<Flex<f32>>(SMOL, Precision::Quantized);
}

#[test]
fn gemma3_quantized_on_flex_matches_numpy_reference() {
    check_at::<Flex<f32>>(GEMMA, Precision::Quantized);
}

/// The quantised path (weights kept in their GGUF blocks) against the f32 oracle at every position of
/// every fixture prompt: top-1 agreement >= 99%, and the mean KL(f32 || quantised) reported.
#[test]
fn quantized_path_agrees_with_f32_oracle() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/logits_reference.json")).unwrap();
    for name in [SMOL, GEMMA] {
        let f32m = load::<Flex<f32>>(name, Precision::F32);
        let qm = load::<Flex<f32>>(name, Precision::Quantized);
        let (mut agree, mut total, mut kl_sum) = (0usize, 0usize, 0f64);
        for c in fixture["models"][name]["cases"].as_array().unwrap() {
            let prompt = ids(&c["ids"]);
            let a = rows(f32m.forward(&prompt, &mut f32m.new_cache(), false));
            let b = rows(qm.forward(&prompt, &mut qm.new_cache(), false));
            tally(&a, &b, &mut agree, &mut total, &mut kl_sum);
        }
        let rate = agree as f64 / total as f64;
        eprintln!(
            "{name}: quantised vs f32 top-1 agreement {agree}/{total} ({:.2}%), mean KL {:.2e} nats",
            rate * 100.0,
            kl_sum / total as f64
        );
        assert!(rate >= 0.99, "{name}: top-1 agreement {rate}");
        assert!(kl_sum / (total as f64) < 1e-3, "{name}: mean KL {kl_sum}");
    }
}

/// The `q8-activations` tier (8-bit activations, integer dot products) against the f32 oracle at every
/// position of every fixture prompt, fed 12 tokens a product (below `qmatrix::TILE_MIN_ROWS`: the
/// block-by-block kernels, the products decoding and option scoring take): top-1 agreement >= 95% and
/// mean KL(f32 || q8) < 2e-2 nats, both printed. llama.cpp quantises activations the same way; on the
/// same positions its own top-1 agreement with the oracle is 1192/1235 (96.5%) for SmolLM2 and
/// 1131/1178 (96.0%) for Gemma (scripts/llama_cpp_agreement.py, llama-cpp-python 0.3.36 built without
/// GGML_NATIVE): the positions that flip are near-ties. (On only the first 48 positions of each prompt
/// the rate swings by 2-3 points with any change of rounding, llama.cpp's too: 119-123 of 128 for
/// Gemma, so the test takes them all.)
#[test]
fn q8_activations_agree_with_f32_oracle() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/logits_reference.json")).unwrap();
    for name in [SMOL, GEMMA] {
        let f32m = load::<Flex<f32>>(name, Precision::F32);
        let qm = load::<Flex<f32>>(name, Precision::Q8Activations);
        let (mut agree, mut total, mut kl_sum) = (0usize, 0usize, 0f64);
        for c in fixture["models"][name]["cases"].as_array().unwrap() {
            let prompt = ids(&c["ids"]);
            let a = rows(f32m.forward(&prompt, &mut f32m.new_cache(), false));
            let mut cache = qm.new_cache();
            let mut b = Vec::new();
            for chunk in prompt.chunks(12) {
                b.extend(rows(qm.forward(chunk, &mut cache, false)));
            }
            tally(&a, &b, &mut agree, &mut total, &mut kl_sum);
        }
        let rate = agree as f64 / total as f64;
        eprintln!(
            "{name}: q8-activations vs f32 top-1 agreement {agree}/{total} ({:.2}%), mean KL {:.2e} nats",
            rate * 100.0,
            kl_sum / total as f64
        );
        assert!(rate >= 0.95, "{name}: top-1 agreement {rate}");
        assert!(
            kl_sum / (total as f64) < 2e-2,
            "{name}: mean KL {}",
            kl_sum / total as f64
        );
    }
}

/// Add the positions of `a` (oracle) and `b` to the top-1 agreement count, the position count and the
/// summed KL(a || b).
fn tally(a: &[Vec<f32>], b: &[Vec<f32>], agree: &mut usize, total: &mut usize, kl_sum: &mut f64) {
    for (p, q) in a.iter().zip(b) {
        let am = bedside_model::sampling::argmax(p);
        *agree += usize::from(am == bedside_model::sampling::argmax(q));
        *total += 1;
        *kl_sum += kl(p, q);
    }
}

fn log_softmax(x: &[f32]) -> Vec<f64> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let lse = x.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln() + m;
    x.iter().map(|&v| v as f64 - lse).collect()
}

fn kl(p: &[f32], q: &[f32]) -> f64 {
    let (lp, lq) = (log_softmax(p), log_softmax(q));
    lp.iter().zip(&lq).map(|(a, b)| a.exp() * (a - b)).sum()
}

/// A padded batch (three prompts of different lengths, right-padded, padding masked) gives each prompt
/// the logits it gets alone within 1e-3 (the oracle tolerance; only summation order differs), on both architectures (Gemma's sliding-window layers included),
/// with the weights quantised and in f32.
#[test]
fn batched_forward_equals_one_at_a_time() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/logits_reference.json")).unwrap();
    for (name, precision) in [(SMOL, Precision::Quantized), (GEMMA, Precision::F32)] {
        let model = load::<Flex<f32>>(name, precision);
        let prompts: Vec<Vec<u32>> = fixture["models"][name]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| ids(&c["ids"]))
            .take(3)
            .collect();
        assert!(
            prompts
                .iter()
                .map(Vec::len)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                > 1,
            "need different lengths"
        );
        let refs: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
        let batched = model.forward_batch(&refs);
        let mut worst = 0f32;
        for (p, b) in prompts.iter().zip(batched) {
            let alone = rows(model.forward(p, &mut model.new_cache(), false));
            let b = rows(b);
            assert_eq!(alone.len(), b.len());
            for (x, y) in alone.iter().zip(&b) {
                for (u, v) in x.iter().zip(y) {
                    worst = worst.max((u - v).abs());
                }
            }
        }
        eprintln!("{name}: batched vs one at a time, max abs logit difference {worst:.2e}");
        assert!(worst < 1e-3, "{name}: {worst}");
    }
}

/// The Hugging Face format (config.json + model.safetensors + tokenizer.json, written by
/// scripts/make_hf_model.py from the same dequantised weights with Q/K rows in transformers order)
/// meets the same NumPy reference: logits within 1e-3 and identical greedy continuations, weights in f32
/// and kept as stored.
#[test]
fn smollm2_from_safetensors_matches_numpy_reference() {
    for precision in [Precision::F32, Precision::Quantized] {
        let m =
            Model::<Flex<f32>>::from_hf(SMOL_HF, hf_files(SMOL_HF), precision, &Default::default())
                .unwrap();
        assert!(m.chat_template.is_some());
        check_model(SMOL, &m, &format!("safetensors, {}", precision.name()));
    }
}
