//! Bedside's tokenizers against llama.cpp's token ids on both real models (medical text: drug names,
//! doses and units, lab values, accented and non-Latin scripts, emoji, a real MedQA stem, chat markup).
//! Fixture: tests/fixtures/tokens_reference.json, written by scripts/reference_tokens.py. Exact match.

mod common;
use bedside_model::tokenizer::Tokenizer;
use bedside_model::Gguf;
use common::*;
use serde_json::Value;

fn check(name: &str) {
    let bytes = model_bytes(name);
    let g = Gguf::parse(name, &bytes).unwrap();
    check_tokenizer(name, &Tokenizer::from_gguf(&g).unwrap());
}

fn check_tokenizer(name: &str, tok: &Tokenizer) {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/tokens_reference.json")).unwrap();
    let want = &fixture["models"][name];
    assert_eq!(tok.vocab_size() as u64, want["n_vocab"].as_u64().unwrap());
    let mut failures = Vec::new();
    for c in want["cases"].as_array().unwrap() {
        let text = c["text"].as_str().unwrap();
        let ids: Vec<u32> = c["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let got = tok.encode(
            text,
            c["add_special"].as_bool().unwrap(),
            c["parse_special"].as_bool().unwrap(),
        );
        if got != ids {
            failures.push(format!(
                "{text:?} (add_special {}, parse_special {}):\n  want {ids:?}\n  got  {got:?}",
                c["add_special"], c["parse_special"]
            ));
        }
        // Round trip: decoding gives the text back (without BOS and special-token rendering).
        if !c["parse_special"].as_bool().unwrap() {
            let back = tok.decode(&got, false);
            assert!(
                back == text || back.trim_start() == text.trim_start(),
                "{name}: decode({text:?}) = {back:?}"
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn smollm2_bpe_matches_llama_cpp() {
    check(SMOL);
}

/// The same vocabulary read from a Hugging Face `tokenizer.json` (+ config.json, tokenizer_config.json)
/// gives llama.cpp's ids on every case too.
#[test]
fn smollm2_from_tokenizer_json_matches_llama_cpp() {
    let ck = bedside_model::hf::HfCheckpoint::read(SMOL_HF, hf_files(SMOL_HF)).unwrap();
    check_tokenizer(SMOL, &Tokenizer::from_gguf(&ck.gguf).unwrap());
}

#[test]
fn gemma3_sentencepiece_matches_llama_cpp() {
    check(GEMMA);
}
