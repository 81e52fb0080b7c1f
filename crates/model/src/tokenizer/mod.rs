//! Tokenizers read from GGUF metadata: byte-level BPE (`gpt2`) and SentencePiece-style (`llama`), with
//! special tokens, BOS/EOS as the metadata says, and llama.cpp-compatible splitting of special tokens.

pub mod bpe;
pub mod pretokenize;
pub mod spm;

use crate::error::{ModelError, Result};
use crate::gguf::{Gguf, MetaValue};
use std::collections::HashMap;

/// llama.cpp token types (`tokenizer.ggml.token_type`).
pub mod token_type {
    pub const NORMAL: i32 = 1;
    pub const UNKNOWN: i32 = 2;
    pub const CONTROL: i32 = 3;
    pub const USER_DEFINED: i32 = 4;
    pub const UNUSED: i32 = 5;
    pub const BYTE: i32 = 6;
}

#[derive(Debug, Clone)]
enum Kind {
    Bpe(bpe::Bpe),
    Spm {
        scores: Vec<f32>,
        byte_tokens: Box<[Option<u32>; 256]>,
        add_space_prefix: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Tokenizer {
    kind: Kind,
    pub tokens: Vec<String>,
    pub types: Vec<i32>,
    vocab: HashMap<String, u32>,
    /// Control, user-defined and unknown tokens, longest first: matched verbatim in text.
    specials: Vec<(String, u32, i32)>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub add_bos: bool,
    pub add_eos: bool,
    /// Tokens that end generation (EOS, end-of-turn).
    pub stop_tokens: Vec<u32>,
}

enum Fragment<'a> {
    Text(&'a str),
    Token(u32),
}

impl Tokenizer {
    pub fn from_gguf(g: &Gguf) -> Result<Tokenizer> {
        let err = |m: String| ModelError::Tokenizer {
            file: g.file.clone(),
            message: m,
        };
        let model = g
            .get("tokenizer.ggml.model")
            .and_then(MetaValue::as_str)
            .ok_or_else(|| err("no `tokenizer.ggml.model` in the metadata".into()))?;
        let tokens: Vec<String> = g
            .get("tokenizer.ggml.tokens")
            .and_then(MetaValue::as_array)
            .ok_or_else(|| err("no `tokenizer.ggml.tokens` in the metadata".into()))?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| err("`tokenizer.ggml.tokens` holds a non-string".into()))?;
        let n = tokens.len();
        let types: Vec<i32> = match g
            .get("tokenizer.ggml.token_type")
            .and_then(MetaValue::as_array)
        {
            Some(a) => a.iter().map(|v| v.as_f64().unwrap_or(1.0) as i32).collect(),
            None => vec![token_type::NORMAL; n],
        };
        if types.len() != n {
            return Err(err(format!("{} token types for {n} tokens", types.len())));
        }
        let id = |key: &str| {
            g.get(key)
                .and_then(MetaValue::as_u64)
                .map(|x| x as u32)
                .filter(|&x| (x as usize) < n)
        };
        let flag =
            |key: &str, default: bool| g.get(key).and_then(MetaValue::as_bool).unwrap_or(default);
        let vocab: HashMap<String, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .rev()
            .collect();
        let kind = match model {
            "gpt2" => {
                let pre_name = g
                    .get("tokenizer.ggml.pre")
                    .and_then(MetaValue::as_str)
                    .unwrap_or("default");
                let pre = pretokenize::PreTokenizer::from_name(pre_name)
                    .ok_or_else(|| err(format!("pre-tokenizer `{pre_name}` is not supported (supported: gpt2, smollm, starcoder, refact, ...)")))?;
                let merges: Vec<&str> = g
                    .get("tokenizer.ggml.merges")
                    .and_then(MetaValue::as_array)
                    .ok_or_else(|| err("a `gpt2` tokenizer needs `tokenizer.ggml.merges`".into()))?
                    .iter()
                    .filter_map(MetaValue::as_str)
                    .collect();
                Kind::Bpe(bpe::Bpe::new(pre, &merges).map_err(err)?)
            }
            "llama" => {
                let scores: Vec<f32> =
                    match g.get("tokenizer.ggml.scores").and_then(MetaValue::as_array) {
                        Some(a) => a.iter().map(|v| v.as_f64().unwrap_or(0.0) as f32).collect(),
                        None => {
                            return Err(err(
                                "a `llama` (SentencePiece) tokenizer needs `tokenizer.ggml.scores`"
                                    .into(),
                            ))
                        }
                    };
                if scores.len() != n {
                    return Err(err(format!("{} scores for {n} tokens", scores.len())));
                }
                let mut byte_tokens = Box::new([None; 256]);
                for (b, slot) in byte_tokens.iter_mut().enumerate() {
                    *slot = vocab.get(&format!("<0x{b:02X}>")).copied();
                }
                Kind::Spm {
                    scores,
                    byte_tokens,
                    add_space_prefix: flag("tokenizer.ggml.add_space_prefix", true),
                }
            }
            other => {
                return Err(err(format!(
                    "tokenizer model `{other}` is not supported (supported: gpt2, llama)"
                )))
            }
        };
        let mut specials: Vec<(String, u32, i32)> = types
            .iter()
            .enumerate()
            .filter(|(_, &t)| {
                matches!(
                    t,
                    token_type::CONTROL | token_type::USER_DEFINED | token_type::UNKNOWN
                )
            })
            .filter(|(i, _)| !tokens[*i].is_empty())
            .map(|(i, &t)| (tokens[i].clone(), i as u32, t))
            .collect();
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let bos = id("tokenizer.ggml.bos_token_id");
        let eos = id("tokenizer.ggml.eos_token_id");
        let mut stop_tokens: Vec<u32> = eos
            .into_iter()
            .chain(id("tokenizer.ggml.eot_token_id"))
            .collect();
        for name in ["<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|endoftext|>"] {
            if let Some(&i) = vocab.get(name) {
                stop_tokens.push(i);
            }
        }
        stop_tokens.sort_unstable();
        stop_tokens.dedup();
        let spm = matches!(kind, Kind::Spm { .. });
        Ok(Tokenizer {
            kind,
            add_bos: flag("tokenizer.ggml.add_bos_token", spm) && bos.is_some(),
            add_eos: flag("tokenizer.ggml.add_eos_token", false) && eos.is_some(),
            tokens,
            types,
            vocab,
            specials,
            bos,
            eos,
            stop_tokens,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.vocab.get(text).copied()
    }

    /// Split text on special tokens the way llama.cpp does: each special token, longest first, cuts the
    /// remaining raw-text fragments at every occurrence. Control tokens are matched only with `parse_special`.
    fn partition<'a>(&self, text: &'a str, parse_special: bool) -> Vec<Fragment<'a>> {
        let mut frags = vec![Fragment::Text(text)];
        for (tok, id, ty) in &self.specials {
            if !parse_special && matches!(*ty, token_type::CONTROL | token_type::UNKNOWN) {
                continue;
            }
            let mut next = Vec::with_capacity(frags.len());
            for f in frags {
                match f {
                    Fragment::Text(t) if t.contains(tok.as_str()) => {
                        let mut rest = t;
                        while let Some(p) = rest.find(tok.as_str()) {
                            if p > 0 {
                                next.push(Fragment::Text(&rest[..p]));
                            }
                            next.push(Fragment::Token(*id));
                            rest = &rest[p + tok.len()..];
                        }
                        if !rest.is_empty() {
                            next.push(Fragment::Text(rest));
                        }
                    }
                    other => next.push(other),
                }
            }
            frags = next;
        }
        frags
    }

    /// Token ids of `text`. `add_special` adds BOS/EOS as the model's metadata asks; `parse_special` turns
    /// control-token text (e.g. `<|im_start|>`) into the control tokens.
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        let mut out = Vec::new();
        if add_special && self.add_bos {
            out.extend(self.bos);
        }
        let mut prev_special = true;
        for f in self.partition(text, parse_special) {
            match f {
                Fragment::Token(id) => {
                    out.push(id);
                    prev_special = true;
                }
                Fragment::Text(t) => {
                    match &self.kind {
                        Kind::Bpe(b) => b.encode(t, &self.vocab, &mut out),
                        Kind::Spm {
                            scores,
                            byte_tokens,
                            add_space_prefix,
                        } => {
                            let mut s = String::with_capacity(t.len() + 3);
                            if *add_space_prefix && prev_special {
                                s.push(spm::SPACE);
                            }
                            s.extend(t.chars().map(|c| if c == ' ' { spm::SPACE } else { c }));
                            spm::encode(&s, &self.vocab, scores, byte_tokens, &mut out);
                        }
                    }
                    prev_special = false;
                }
            }
        }
        if add_special && self.add_eos {
            out.extend(self.eos);
        }
        out
    }

    /// The bytes of one token (control tokens render as their text only when `special`).
    pub fn token_bytes(&self, id: u32, special: bool) -> Vec<u8> {
        let Some(tok) = self.tokens.get(id as usize) else {
            return Vec::new();
        };
        let ty = self.types[id as usize];
        if matches!(
            ty,
            token_type::CONTROL | token_type::UNKNOWN | token_type::UNUSED
        ) {
            return if special {
                tok.as_bytes().to_vec()
            } else {
                Vec::new()
            };
        }
        match &self.kind {
            Kind::Bpe(b) if ty != token_type::USER_DEFINED => b.token_bytes(tok),
            Kind::Bpe(_) => tok.as_bytes().to_vec(),
            Kind::Spm { .. } if ty == token_type::BYTE => {
                u8::from_str_radix(tok.trim_start_matches("<0x").trim_end_matches('>'), 16)
                    .map(|b| vec![b])
                    .unwrap_or_default()
            }
            Kind::Spm { .. } => tok.replace(spm::SPACE, " ").into_bytes(),
        }
    }

    /// Text of a token sequence (invalid UTF-8 across a cut is replaced).
    pub fn decode(&self, ids: &[u32], special: bool) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&i| self.token_bytes(i, special))
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
