//! The Hugging Face checkpoint format: `config.json` + `*.safetensors` + `tokenizer.json` (+ optional
//! `tokenizer_config.json` for BOS and the chat template). It is read into the same [`Gguf`] view the GGUF
//! path builds — metadata under llama.cpp's keys, tensors under GGUF names pointing into the safetensors
//! bytes — so one loader, one tokenizer and one set of architectures serve both formats (what llama.cpp's
//! `convert_hf_to_gguf.py` does on disk, done in memory with no copy of a single-file checkpoint).
//!
//! Supported: the Llama architecture (`model_type` llama) in F32, F16 or BF16, with a byte-level BPE
//! `tokenizer.json`. Hugging Face stores Q/K rows in "rotate half" order, so these models run with
//! [`crate::layers::RopeStyle::Half`] instead of GGUF's permuted rows with interleaved RoPE.

use crate::error::{ModelError, Result};
use crate::gguf::{Gguf, MetaValue, TensorInfo};
use crate::quant::GgmlType;
use crate::tokenizer::token_type;
use serde_json::Value;
use std::collections::BTreeMap;

/// The text files of a checkpoint and its safetensors shards (name, bytes).
pub struct HfFiles {
    pub config: String,
    pub tokenizer: String,
    pub tokenizer_config: Option<String>,
    pub safetensors: Vec<(String, Vec<u8>)>,
}

/// A checkpoint read into a GGUF view over `bytes` (the safetensors data).
pub struct HfCheckpoint {
    pub gguf: Gguf,
    pub bytes: Vec<u8>,
}

fn format_err(file: &str, message: String) -> ModelError {
    ModelError::Format {
        file: file.into(),
        message,
    }
}

/// One tensor of a safetensors file: name, type, row-major shape and absolute byte range.
#[derive(Debug, Clone, PartialEq)]
pub struct SafeTensor {
    pub name: String,
    pub ty: GgmlType,
    pub shape: Vec<usize>,
    pub start: usize,
    pub end: usize,
}

/// A JSON list of non-negative integers (`None` if anything else is in it).
fn usizes(v: &Value) -> Option<Vec<usize>> {
    v.as_array()?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize))
        .collect()
}

/// Parse a safetensors header (8-byte little-endian length, JSON, then the data), checking every
/// tensor's dtype, size and bounds.
pub fn parse_safetensors(file: &str, bytes: &[u8]) -> Result<Vec<SafeTensor>> {
    parse_safetensors_header(file, bytes, bytes.len())
}

/// Bytes at the start of a safetensors file that hold its header, from its first 8 bytes (`None` if
/// fewer are given).
pub fn safetensors_header_len(first: &[u8]) -> Option<usize> {
    let n = u64::from_le_bytes(first.get(..8)?.try_into().ok()?);
    Some(8usize.saturating_add(n.min(u32::MAX as u64) as usize))
}

/// [`parse_safetensors`] from the first bytes of a file of `file_len` bytes (at least its header, see
/// [`safetensors_header_len`]): describes the tensors before the data is read.
pub fn parse_safetensors_header(
    file: &str,
    bytes: &[u8],
    file_len: usize,
) -> Result<Vec<SafeTensor>> {
    let file_len = file_len.max(bytes.len());
    let err = |m: String| format_err(file, m);
    if bytes.len() < 8 {
        return Err(err(
            "too short to be a safetensors file (no header length)".into()
        ));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default()) as usize;
    let header = bytes
        .get(8..8usize.saturating_add(n))
        .filter(|_| n <= 100 << 20)
        .ok_or_else(|| err(format!("header of {n} bytes runs past the end of the file ({} bytes): the file is truncated or not safetensors", bytes.len())))?;
    let header: BTreeMap<String, Value> = serde_json::from_slice(header).map_err(|e| {
        err(format!(
            "header is not valid JSON ({e}): not a safetensors file"
        ))
    })?;
    let data = 8 + n;
    let mut out = Vec::new();
    for (name, v) in header {
        if name == "__metadata__" {
            continue;
        }
        let terr = |m: String| ModelError::Tensor {
            file: file.into(),
            tensor: name.clone(),
            message: m,
        };
        let dtype = v["dtype"].as_str().unwrap_or("?");
        let ty = match dtype {
            "F32" => GgmlType::F32,
            "F16" => GgmlType::F16,
            "BF16" => GgmlType::BF16,
            other => {
                return Err(terr(format!(
                    "dtype {other} is not supported (supported: F32, F16, BF16)"
                )))
            }
        };
        let shape =
            usizes(&v["shape"]).ok_or_else(|| terr("no shape (a list of integers)".into()))?;
        let offs = usizes(&v["data_offsets"]).unwrap_or_default();
        let [s, e] = offs[..] else {
            return Err(terr("no data_offsets".into()));
        };
        let elems = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let want = elems.and_then(|x| x.checked_mul(ty.block().1));
        if e < s || Some(e - s) != want {
            return Err(terr(format!(
                "{} bytes of data for shape {shape:?} in {dtype}: the header is corrupt",
                e.saturating_sub(s)
            )));
        }
        if data + e > file_len {
            return Err(terr(format!(
                "data runs past the end of the file ({file_len} bytes): the file is truncated"
            )));
        }
        out.push(SafeTensor {
            name,
            ty,
            shape,
            start: data + s,
            end: data + e,
        });
    }
    Ok(out)
}

/// A checkpoint's display name: `config.json`'s `_name_or_path`, else its folder's name (`folder` may be
/// a path).
pub fn display_name(config: &Value, folder: &str) -> String {
    config["_name_or_path"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let f = folder.trim_end_matches(['/', '\\']);
            f.rsplit(['/', '\\']).next().unwrap_or(f).to_string()
        })
}

/// The GGUF name of a transformers Llama tensor (`None` for tensors the model does not use).
fn gguf_name(hf: &str) -> Option<String> {
    Some(match hf {
        "model.embed_tokens.weight" => "token_embd.weight".into(),
        "model.norm.weight" => "output_norm.weight".into(),
        "lm_head.weight" => "output.weight".into(),
        _ => {
            let rest = hf.strip_prefix("model.layers.")?;
            let (i, rest) = rest.split_once('.')?;
            let (base, kind) = rest.rsplit_once('.')?;
            let g = match base {
                "input_layernorm" => "attn_norm",
                "self_attn.q_proj" => "attn_q",
                "self_attn.k_proj" => "attn_k",
                "self_attn.v_proj" => "attn_v",
                "self_attn.o_proj" => "attn_output",
                "post_attention_layernorm" => "ffn_norm",
                "mlp.gate_proj" => "ffn_gate",
                "mlp.up_proj" => "ffn_up",
                "mlp.down_proj" => "ffn_down",
                _ => return None,
            };
            format!("blk.{}.{g}.{kind}", i.parse::<usize>().ok()?)
        }
    })
}

fn put(m: &mut BTreeMap<String, MetaValue>, key: &str, v: MetaValue) {
    m.insert(key.to_string(), v);
}

/// `config.json` to llama.cpp's metadata keys.
fn config_meta(file: &str, c: &Value, m: &mut BTreeMap<String, MetaValue>) -> Result<()> {
    let model_type = c["model_type"].as_str().unwrap_or("?");
    if model_type != "llama" {
        return Err(ModelError::Unsupported {
            file: file.into(),
            message: format!("model_type `{model_type}` is not supported from safetensors (supported: llama); use a GGUF of it instead"),
        });
    }
    let int = |k: &str| {
        c[k].as_u64().ok_or_else(|| {
            format_err(
                file,
                format!("`{k}` is missing or not a number; the config is incomplete"),
            )
        })
    };
    let hidden = int("hidden_size")?;
    let heads = int("num_attention_heads")?;
    if let Some(hd) = c["head_dim"].as_u64() {
        if heads == 0 || hd != hidden / heads {
            return Err(ModelError::Unsupported {
                file: file.into(),
                message: format!(
                    "head_dim {hd} differs from hidden_size / num_attention_heads; not supported"
                ),
            });
        }
    }
    put(m, "general.architecture", MetaValue::Str("llama".into()));
    put(m, "llama.embedding_length", MetaValue::U64(hidden));
    put(m, "llama.attention.head_count", MetaValue::U64(heads));
    put(
        m,
        "llama.attention.head_count_kv",
        MetaValue::U64(c["num_key_value_heads"].as_u64().unwrap_or(heads)),
    );
    put(
        m,
        "llama.block_count",
        MetaValue::U64(int("num_hidden_layers")?),
    );
    put(
        m,
        "llama.feed_forward_length",
        MetaValue::U64(int("intermediate_size")?),
    );
    put(
        m,
        "llama.rope.freq_base",
        MetaValue::F64(c["rope_theta"].as_f64().unwrap_or(10_000.0)),
    );
    put(
        m,
        "llama.attention.layer_norm_rms_epsilon",
        MetaValue::F64(c["rms_norm_eps"].as_f64().unwrap_or(1e-6)),
    );
    if let Some(ctx) = c["max_position_embeddings"].as_u64() {
        put(m, "llama.context_length", MetaValue::U64(ctx));
    }
    if let Some(rs) = c["rope_scaling"].as_object() {
        let ty = rs
            .get("rope_type")
            .or_else(|| rs.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        put(m, "llama.rope.scaling.type", MetaValue::Str(ty.to_string()));
        if let Some(f) = rs.get("factor").and_then(Value::as_f64) {
            put(m, "llama.rope.scaling.factor", MetaValue::F64(f));
        }
    }
    Ok(())
}

/// `tokenizer.json` (+ `tokenizer_config.json`, `config.json` for BOS/EOS) to llama.cpp's tokenizer keys.
fn tokenizer_meta(
    file: &str,
    t: &Value,
    tc: Option<&Value>,
    c: &Value,
    m: &mut BTreeMap<String, MetaValue>,
) -> Result<()> {
    let err = |msg: String| ModelError::Tokenizer {
        file: file.into(),
        message: msg,
    };
    let model = &t["model"];
    let ty = model["type"].as_str().unwrap_or("?");
    if ty != "BPE" || model["byte_fallback"].as_bool() == Some(true) {
        return Err(err(format!(
            "model type `{ty}`{} is not supported (supported: byte-level BPE)",
            if model["byte_fallback"].as_bool() == Some(true) {
                " with byte fallback"
            } else {
                ""
            }
        )));
    }
    // The pre-tokenizer: byte-level (GPT-2 pattern), optionally with every digit split first.
    let pre = &t["pre_tokenizer"];
    let parts: Vec<&Value> = match pre["type"].as_str() {
        Some("Sequence") => pre["pretokenizers"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        Some(_) => vec![pre],
        None => vec![],
    };
    let kinds: Vec<&str> = parts.iter().filter_map(|p| p["type"].as_str()).collect();
    let digits = parts
        .iter()
        .any(|p| p["type"] == "Digits" && p["individual_digits"].as_bool() == Some(true));
    let pre_name = match (kinds.as_slice(), digits) {
        (["ByteLevel"], _) => "gpt2",
        (["Digits", "ByteLevel"], true) => "smollm",
        _ => {
            return Err(err(format!(
                "pre-tokenizer {kinds:?} is not supported (supported: ByteLevel, or Digits(individual) then ByteLevel)"
            )))
        }
    };
    let vocab = model["vocab"]
        .as_object()
        .ok_or_else(|| err("`model.vocab` is missing".into()))?;
    let mut tokens: BTreeMap<usize, (String, i32)> = vocab
        .iter()
        .filter_map(|(k, v)| Some((v.as_u64()? as usize, (k.clone(), token_type::NORMAL))))
        .collect();
    for a in t["added_tokens"].as_array().into_iter().flatten() {
        let (Some(id), Some(content)) = (a["id"].as_u64(), a["content"].as_str()) else {
            continue;
        };
        let ty = if a["special"].as_bool() == Some(true) {
            token_type::CONTROL
        } else {
            token_type::USER_DEFINED
        };
        tokens.insert(id as usize, (content.to_string(), ty));
    }
    let n = tokens.keys().next_back().map_or(0, |&k| k + 1);
    if n > 10_000_000 {
        return Err(err(format!("token id {n} is implausibly large")));
    }
    let (mut names, mut types) = (vec![String::new(); n], vec![token_type::UNUSED; n]);
    for (i, (s, ty)) in tokens {
        names[i] = s;
        types[i] = ty;
    }
    let merges: Vec<MetaValue> = model["merges"]
        .as_array()
        .ok_or_else(|| err("`model.merges` is missing".into()))?
        .iter()
        .map(|x| match x {
            Value::String(s) => Some(s.clone()),
            Value::Array(p) => Some(format!("{} {}", p.first()?.as_str()?, p.get(1)?.as_str()?)),
            _ => None,
        })
        .map(|x| x.map(MetaValue::Str))
        .collect::<Option<_>>()
        .ok_or_else(|| err("a merge is neither \"a b\" nor [\"a\", \"b\"]".into()))?;
    let id_of = |v: &Value| -> Option<u64> {
        match v {
            Value::Number(n) => n.as_u64(),
            Value::Array(a) => a.first().and_then(Value::as_u64),
            Value::String(s) => names.iter().position(|x| x == s).map(|i| i as u64),
            Value::Object(o) => o
                .get("content")
                .and_then(Value::as_str)
                .and_then(|s| names.iter().position(|x| x == s).map(|i| i as u64)),
            _ => None,
        }
    };
    let bos = id_of(&c["bos_token_id"]).or_else(|| tc.and_then(|tc| id_of(&tc["bos_token"])));
    let eos = id_of(&c["eos_token_id"]).or_else(|| tc.and_then(|tc| id_of(&tc["eos_token"])));
    // BOS is added when tokenizer_config says so, or when the post-processor's template starts with it.
    let template_bos = t["post_processor"]["single"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|x| x["SpecialToken"]["id"].as_str())
        .and_then(|s| names.iter().position(|x| x == s))
        .is_some_and(|i| Some(i as u64) == bos);
    let add_bos = tc
        .and_then(|tc| tc["add_bos_token"].as_bool())
        .unwrap_or(template_bos);
    put(m, "tokenizer.ggml.model", MetaValue::Str("gpt2".into()));
    put(m, "tokenizer.ggml.pre", MetaValue::Str(pre_name.into()));
    put(
        m,
        "tokenizer.ggml.tokens",
        MetaValue::Array(names.into_iter().map(MetaValue::Str).collect()),
    );
    put(
        m,
        "tokenizer.ggml.token_type",
        MetaValue::Array(types.into_iter().map(MetaValue::I32).collect()),
    );
    put(m, "tokenizer.ggml.merges", MetaValue::Array(merges));
    if let Some(b) = bos {
        put(m, "tokenizer.ggml.bos_token_id", MetaValue::U64(b));
    }
    if let Some(e) = eos {
        put(m, "tokenizer.ggml.eos_token_id", MetaValue::U64(e));
    }
    put(m, "tokenizer.ggml.add_bos_token", MetaValue::Bool(add_bos));
    let template = tc.and_then(|tc| match &tc["chat_template"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a
            .iter()
            .find(|x| x["name"] == "default")
            .and_then(|x| x["template"].as_str())
            .map(str::to_string),
        _ => None,
    });
    if let Some(tpl) = template {
        put(m, "tokenizer.chat_template", MetaValue::Str(tpl));
    }
    Ok(())
}

impl HfCheckpoint {
    /// Read a checkpoint; `name` (its folder) names it in errors. Several safetensors shards are joined
    /// into one buffer; a single one is used as it is.
    pub fn read(name: &str, files: HfFiles) -> Result<HfCheckpoint> {
        let json = |file: &str, text: &str| -> Result<Value> {
            serde_json::from_str(text).map_err(|e| {
                format_err(
                    &format!("{name}/{file}"),
                    format!(
                        "not valid JSON: {e} (line {}, column {})",
                        e.line(),
                        e.column()
                    ),
                )
            })
        };
        let config = json("config.json", &files.config)?;
        let tok = json("tokenizer.json", &files.tokenizer)?;
        let tok_config = files
            .tokenizer_config
            .as_deref()
            .map(|t| json("tokenizer_config.json", t))
            .transpose()?;
        if files.safetensors.is_empty() {
            return Err(format_err(name, "no .safetensors file: a checkpoint needs its weights next to config.json and tokenizer.json".into()));
        }
        let mut metadata = BTreeMap::new();
        config_meta(&format!("{name}/config.json"), &config, &mut metadata)?;
        metadata.insert(
            "general.name".into(),
            MetaValue::Str(display_name(&config, name)),
        );
        tokenizer_meta(
            &format!("{name}/tokenizer.json"),
            &tok,
            tok_config.as_ref(),
            &config,
            &mut metadata,
        )?;
        let mut tensors = Vec::new();
        let mut bytes = Vec::new();
        let single = files.safetensors.len() == 1;
        for (file, data) in files.safetensors {
            let base = bytes.len();
            for t in parse_safetensors(&format!("{name}/{file}"), &data)? {
                let Some(g) = gguf_name(&t.name) else {
                    continue;
                };
                tensors.push(TensorInfo {
                    name: g,
                    dims: t.shape.iter().rev().map(|&d| d as u64).collect(),
                    ty: t.ty,
                    offset: (base + t.start) as u64,
                });
            }
            if single {
                bytes = data;
            } else {
                bytes.extend_from_slice(&data);
            }
        }
        let gguf = Gguf {
            file: name.to_string(),
            version: 0,
            metadata,
            tensors,
            data_offset: 0,
            file_len: bytes.len(),
        };
        Ok(HfCheckpoint { gguf, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safetensors(entries: &[(&str, &str, &[usize], &[u8])]) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        let mut data = Vec::new();
        for (name, dtype, shape, bytes) in entries {
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [data.len(), data.len() + bytes.len()]}),
            );
            data.extend_from_slice(bytes);
        }
        let h = serde_json::to_vec(&header).unwrap();
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend(h);
        out.extend(data);
        out
    }

    #[test]
    fn reads_f32_f16_bf16_and_rejects_bad_headers() {
        let f = safetensors(&[
            ("a", "F32", &[2], &[0, 0, 128, 63, 0, 0, 0, 64]),
            ("b", "BF16", &[1, 2], &[128, 63, 0, 64]),
            ("c", "F16", &[1], &[0, 60]),
        ]);
        let t = parse_safetensors("m.safetensors", &f).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!((t[1].ty, t[1].shape.clone()), (GgmlType::BF16, vec![1, 2]));
        let mut y = [0f32; 2];
        crate::quant::dequantize(t[1].ty, &f[t[1].start..t[1].end], &mut y);
        assert_eq!(y, [1.0, 2.0]);
        // The header alone describes the same tensors; its length comes from the first 8 bytes.
        let h = safetensors_header_len(&f).unwrap();
        assert!(h < f.len());
        assert_eq!(safetensors_header_len(&f[..7]), None);
        assert_eq!(
            parse_safetensors_header("m.safetensors", &f[..h], f.len()).unwrap(),
            t
        );
        assert!(parse_safetensors_header("m.safetensors", &f[..h], f.len() - 1).is_err());
        // truncated data, wrong size, unknown dtype, garbage
        let e = parse_safetensors("m.safetensors", &f[..f.len() - 1]).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let bad = safetensors(&[("a", "F32", &[3], &[0; 8])]);
        assert!(parse_safetensors("m.safetensors", &bad)
            .unwrap_err()
            .to_string()
            .contains("tensor `a`"));
        let i8s = safetensors(&[("q", "I8", &[1], &[0])]);
        assert!(parse_safetensors("m.safetensors", &i8s)
            .unwrap_err()
            .to_string()
            .contains("dtype I8"));
        assert!(parse_safetensors("m.safetensors", b"\xff\xff\xff\xff\xff\xff\xff\x7f{}").is_err());
    }

    #[test]
    fn maps_transformers_names() {
        assert_eq!(
            gguf_name("model.layers.12.self_attn.k_proj.weight").as_deref(),
            Some("blk.12.attn_k.weight")
        );
        assert_eq!(
            gguf_name("model.layers.0.self_attn.rotary_emb.inv_freq"),
            None
        );
        assert_eq!(
            gguf_name("lm_head.weight").as_deref(),
            Some("output.weight")
        );
    }
}
