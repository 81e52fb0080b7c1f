//! Bad model files get clear errors naming the file and tensor, never a panic: hand-built tiny GGUF files
//! with one defect each, and a property test that mutates and truncates real and tiny GGUF headers.

mod common;
use bedside_model::tokenizer::Tokenizer;
use bedside_model::{Gguf, Model};
use burn::backend::Flex;
use common::*;
use proptest::prelude::*;

type B = Flex<f32>;

/// A minimal GGUF writer for test files.
struct Writer {
    kv: Vec<u8>,
    n_kv: u64,
    tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)>,
}

fn s(b: &mut Vec<u8>, x: &str) {
    b.extend((x.len() as u64).to_le_bytes());
    b.extend(x.as_bytes());
}

impl Writer {
    fn new() -> Self {
        Writer {
            kv: Vec::new(),
            n_kv: 0,
            tensors: Vec::new(),
        }
    }
    fn str(mut self, k: &str, v: &str) -> Self {
        s(&mut self.kv, k);
        self.kv.extend(8u32.to_le_bytes());
        s(&mut self.kv, v);
        self.n_kv += 1;
        self
    }
    fn u32(mut self, k: &str, v: u32) -> Self {
        s(&mut self.kv, k);
        self.kv.extend(4u32.to_le_bytes());
        self.kv.extend(v.to_le_bytes());
        self.n_kv += 1;
        self
    }
    fn strs(mut self, k: &str, v: &[&str]) -> Self {
        s(&mut self.kv, k);
        self.kv.extend(9u32.to_le_bytes());
        self.kv.extend(8u32.to_le_bytes());
        self.kv.extend((v.len() as u64).to_le_bytes());
        for x in v {
            s(&mut self.kv, x);
        }
        self.n_kv += 1;
        self
    }
    /// An F32 tensor (dims in ggml order) filled with small values, or raw bytes of another type.
    fn tensor(mut self, name: &str, dims: &[u64], ty: u32) -> Self {
        let n: u64 = dims.iter().product();
        let data: Vec<u8> = if ty == 0 {
            (0..n)
                .flat_map(|i| ((i % 7) as f32 * 0.01).to_le_bytes())
                .collect()
        } else {
            vec![0u8; (n as usize / 32) * 24]
        };
        self.tensors.push((name.into(), dims.to_vec(), ty, data));
        self
    }
    fn bytes(self) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend((self.tensors.len() as u64).to_le_bytes());
        b.extend(self.n_kv.to_le_bytes());
        b.extend(&self.kv);
        let mut offset = 0u64;
        for (name, dims, ty, data) in &self.tensors {
            s(&mut b, name);
            b.extend((dims.len() as u32).to_le_bytes());
            for d in dims {
                b.extend(d.to_le_bytes());
            }
            b.extend(ty.to_le_bytes());
            b.extend(offset.to_le_bytes());
            offset += (data.len() as u64).div_ceil(32) * 32;
        }
        while b.len() % 32 != 0 {
            b.push(0);
        }
        for (_, _, _, data) in &self.tensors {
            b.extend(data);
            while b.len() % 32 != 0 {
                b.push(0);
            }
        }
        b
    }
}

/// A tiny llama: hidden 8, 2 heads, 1 layer, ffn 16, `vocab` embedding rows, `tokens` in the vocabulary.
fn tiny_llama(
    arch: &str,
    vocab: u64,
    tokens: &[&str],
    q_dims: &[u64],
    skip: Option<&str>,
) -> Vec<u8> {
    let mut w = Writer::new()
        .str("general.architecture", arch)
        .u32(&format!("{arch}.embedding_length"), 8)
        .u32(&format!("{arch}.feed_forward_length"), 16)
        .u32(&format!("{arch}.block_count"), 1)
        .u32(&format!("{arch}.attention.head_count"), 2)
        .u32(&format!("{arch}.context_length"), 64)
        .str("tokenizer.ggml.model", "gpt2")
        .str("tokenizer.ggml.pre", "smollm")
        .strs("tokenizer.ggml.tokens", tokens)
        .strs("tokenizer.ggml.merges", &["a b"]);
    let mut ts: Vec<(&str, Vec<u64>)> = vec![
        ("token_embd.weight", vec![8, vocab]),
        ("blk.0.attn_norm.weight", vec![8]),
        ("blk.0.attn_q.weight", q_dims.to_vec()),
        ("blk.0.attn_k.weight", vec![8, 8]),
        ("blk.0.attn_v.weight", vec![8, 8]),
        ("blk.0.attn_output.weight", vec![8, 8]),
        ("blk.0.ffn_norm.weight", vec![8]),
        ("blk.0.ffn_gate.weight", vec![8, 16]),
        ("blk.0.ffn_up.weight", vec![8, 16]),
        ("blk.0.ffn_down.weight", vec![16, 8]),
        ("output_norm.weight", vec![8]),
    ];
    ts.retain(|(n, _)| Some(*n) != skip);
    for (n, d) in ts {
        w = w.tensor(n, &d, 0);
    }
    w.bytes()
}

const TOKENS: [&str; 4] = ["a", "b", "ab", "c"];

fn load_err(bytes: &[u8]) -> String {
    Model::<B>::from_gguf("bad.gguf", bytes, &Default::default())
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_good_tiny_model_loads_and_runs() {
    let bytes = tiny_llama("llama", 4, &TOKENS, &[8, 8], None);
    let m = Model::<B>::from_gguf("tiny.gguf", &bytes, &Default::default()).unwrap();
    let ids = m.tokenizer.encode("ab", false, false);
    assert_eq!(ids, vec![2]);
    let mut cache = m.new_cache();
    let dense = m.forward(&[0, 1, 2], &mut cache, false);
    assert_eq!(dense.dims(), [3, 4]);
    // The same file kept quantised (here: its F32 blocks, pointed into, not copied) gives the same logits.
    let blob: bedside_model::Blob = std::sync::Arc::new(bytes.clone());
    let q = Model::<B>::from_gguf_blob(
        "tiny.gguf",
        blob,
        bedside_model::Precision::Quantized,
        &Default::default(),
    )
    .unwrap();
    let quant = q.forward(&[0, 1, 2], &mut q.new_cache(), false);
    let (a, b) = (
        dense.into_data().to_vec::<f32>().unwrap(),
        quant.into_data().to_vec::<f32>().unwrap(),
    );
    assert!(
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5),
        "{a:?} vs {b:?}"
    );
}

#[test]
fn each_defect_gets_a_clear_error() {
    let e = load_err(&tiny_llama("llama", 3, &TOKENS, &[8, 8], None));
    assert!(e.contains("tokenizer") && e.contains("do not match"), "{e}");
    let e = load_err(&tiny_llama("llama", 4, &TOKENS, &[8, 6], None));
    assert!(
        e.contains("bad.gguf: tensor `blk.0.attn_q.weight`: shape [6, 8] does not match"),
        "{e}"
    );
    let e = load_err(&tiny_llama(
        "llama",
        4,
        &TOKENS,
        &[8, 8],
        Some("blk.0.ffn_up.weight"),
    ));
    assert!(e.contains("tensor `blk.0.ffn_up.weight`: missing"), "{e}");
    let e = load_err(&tiny_llama("mamba", 4, &TOKENS, &[8, 8], None));
    assert!(e.contains("architecture `mamba` is not supported"), "{e}");
    let q51 = Writer::new()
        .str("general.architecture", "llama")
        .tensor("x.weight", &[32, 2], 7)
        .bytes();
    let e = Gguf::parse("q.gguf", &q51).unwrap_err().to_string();
    assert!(
        e.contains("tensor `x.weight`") && e.contains("Q5_1 is not supported"),
        "{e}"
    );
    let no_tok = Writer::new().str("general.architecture", "llama").bytes();
    let e = Tokenizer::from_gguf(&Gguf::parse("t.gguf", &no_tok).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("t.gguf: tokenizer: no `tokenizer.ggml.model`"),
        "{e}"
    );
}

fn real_header() -> Vec<u8> {
    // The first 64 KiB of the real SmolLM2 file: magic, counts and the start of its metadata.
    model_bytes(SMOL)[..65536].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_gguf_never_panics(flips in prop::collection::vec((0usize..4096, any::<u8>()), 1..8), cut in 0usize..70000, real in any::<bool>()) {
        let mut b = if real { real_header() } else { tiny_llama("llama", 4, &TOKENS, &[8, 8], None) };
        for (i, x) in flips {
            let n = b.len();
            b[i % n] ^= x | 1;
        }
        b.truncate(cut.min(b.len()));
        match Gguf::parse("fuzz.gguf", &b) {
            Ok(g) => {
                let _ = Tokenizer::from_gguf(&g);
                if !real {
                    let _ = Model::<B>::from_gguf("fuzz.gguf", &b, &Default::default());
                    let blob: bedside_model::Blob = std::sync::Arc::new(b.clone());
                    if let Ok(m) = Model::<B>::from_gguf_blob("fuzz.gguf", blob, bedside_model::Precision::Quantized, &Default::default()) {
                        let _ = m.forward(&[0, 1], &mut m.new_cache(), false);
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.gguf: ")),
        }
    }
}

/// A broken Hugging Face folder: each defect is named (file, field or tensor), never a panic.
#[test]
fn hugging_face_checkpoint_defects_get_clear_errors() {
    use bedside_model::hf::HfFiles;
    let real = hf_files(SMOL_HF);
    let weights = real.safetensors[0].1.clone();
    let with = |config: &str, tokenizer: &str, data: Vec<u8>| HfFiles {
        config: config.into(),
        tokenizer: tokenizer.into(),
        tokenizer_config: None,
        safetensors: vec![("model.safetensors".into(), data)],
    };
    let err = |f: HfFiles| {
        Model::<B>::from_hf(
            "ckpt",
            f,
            bedside_model::Precision::Quantized,
            &Default::default(),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    let cases: Vec<(HfFiles, &str)> = vec![
        (
            with("{", &real.tokenizer, vec![]),
            "ckpt/config.json: not valid JSON",
        ),
        (
            with(
                &real.config.replace("\"llama\"", "\"gemma3_text\""),
                &real.tokenizer,
                weights.clone(),
            ),
            "model_type `gemma3_text` is not supported",
        ),
        (
            with(
                &real.config.replace("\"num_hidden_layers\"", "\"layers\""),
                &real.tokenizer,
                weights.clone(),
            ),
            "`num_hidden_layers` is missing",
        ),
        (
            with(
                &real.config,
                &real.tokenizer.replacen("\"BPE\"", "\"Unigram\"", 1),
                weights.clone(),
            ),
            "tokenizer: model type `Unigram` is not supported",
        ),
        (
            with(
                &real.config,
                &real.tokenizer,
                weights[..weights.len() / 2].to_vec(),
            ),
            "the file is truncated",
        ),
        (
            with(
                &real
                    .config
                    .replace("\"num_hidden_layers\": 30", "\"num_hidden_layers\": 31"),
                &real.tokenizer,
                weights.clone(),
            ),
            "tensor `blk.30.attn_norm.weight`: missing",
        ),
        (
            with(
                &real
                    .config
                    .replace("\"intermediate_size\": 1536", "\"intermediate_size\": 1024"),
                &real.tokenizer,
                weights.clone(),
            ),
            "does not match",
        ),
    ];
    for (files, want) in cases {
        let e = err(files);
        assert!(e.contains(want), "expected `{want}` in: {e}");
    }
    let mut no_weights = with(&real.config, &real.tokenizer, vec![]);
    no_weights.safetensors.clear();
    assert!(err(no_weights).contains("no .safetensors file"));
}
