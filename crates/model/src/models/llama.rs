//! Llama (SmolLM2 and friends): RMSNorm, rotary embeddings (base and linear scaling from the metadata),
//! grouped-query attention, SwiGLU feed-forward, tied or untied output embeddings.

use crate::error::{ModelError, Result};
use crate::gguf::{Gguf, MetaValue};
use crate::layers::{
    causal_mask, gated_ffn, keep_positions, self_attention, Activation, KvCache, Linear, Loader,
    RmsNorm, Rope, RopeStyle, Table, TokenBatch,
};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    pub vocab: usize,
    pub hidden: usize,
    pub ffn: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub rope_base: f64,
    /// Linear RoPE scaling factor (positions are divided by it); 1 when absent.
    pub rope_scale: f64,
    pub eps: f64,
    pub context: usize,
    /// How Q/K rows pair up under RoPE: interleaved for GGUF (whose converter permutes the rows),
    /// rotate-half for Hugging Face checkpoints.
    pub rope_style: RopeStyle,
}

pub(crate) fn meta_usize(g: &Gguf, key: &str) -> Result<usize> {
    g.arch_get(key)
        .and_then(MetaValue::as_u64)
        .map(|x| x as usize)
        .ok_or_else(|| ModelError::Format {
            file: g.file.clone(),
            message: format!(
                "missing metadata `{}.{key}`; the file is incomplete",
                g.architecture().unwrap_or("?")
            ),
        })
}

pub(crate) fn meta_f64(g: &Gguf, key: &str, default: f64) -> f64 {
    g.arch_get(key)
        .and_then(MetaValue::as_f64)
        .unwrap_or(default)
}

/// Reject hyper-parameters that would make the forward pass meaningless (or divide by zero).
pub(crate) fn check_dims(
    g: &Gguf,
    hidden: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    layers: usize,
) -> Result<()> {
    let ok = hidden > 0
        && heads > 0
        && kv_heads > 0
        && heads % kv_heads == 0
        && head_dim > 0
        && head_dim % 2 == 0
        && layers > 0
        && layers < 1000;
    if ok {
        Ok(())
    } else {
        Err(ModelError::Format {
            file: g.file.clone(),
            message: format!("inconsistent hyper-parameters (hidden {hidden}, heads {heads}, kv heads {kv_heads}, head dim {head_dim}, layers {layers}); the metadata is corrupt"),
        })
    }
}

impl LlamaConfig {
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let hidden = meta_usize(g, "embedding_length")?;
        let heads = meta_usize(g, "attention.head_count")?;
        let vocab = g
            .tensor("token_embd.weight")
            .map(|t| t.shape()[0])
            .ok_or_else(|| ModelError::Tensor {
                file: g.file.clone(),
                tensor: "token_embd.weight".into(),
                message: "missing from the file".into(),
            })?;
        let scale_type = g
            .arch_get("rope.scaling.type")
            .and_then(MetaValue::as_str)
            .unwrap_or("none");
        let rope_scale = match scale_type {
            "linear" => meta_f64(g, "rope.scaling.factor", 1.0),
            "none" => 1.0,
            other => {
                return Err(ModelError::Unsupported {
                    file: g.file.clone(),
                    message: format!(
                        "RoPE scaling `{other}` is not supported (supported: none, linear)"
                    ),
                });
            }
        };
        let kv_heads = meta_usize(g, "attention.head_count_kv").unwrap_or(heads);
        let layers = meta_usize(g, "block_count")?;
        let head_dim = if heads == 0 { 0 } else { hidden / heads };
        check_dims(g, hidden, heads, kv_heads, head_dim, layers)?;
        Ok(LlamaConfig {
            vocab,
            hidden,
            ffn: meta_usize(g, "feed_forward_length")?,
            layers,
            heads,
            kv_heads,
            head_dim,
            rope_base: meta_f64(g, "rope.freq_base", 10_000.0),
            rope_scale,
            eps: meta_f64(g, "attention.layer_norm_rms_epsilon", 1e-5),
            context: meta_usize(g, "context_length").unwrap_or(2048),
            rope_style: RopeStyle::Interleaved,
        })
    }
}

#[derive(Debug, Clone)]
pub struct LlamaBlock<B: Backend> {
    attn_norm: RmsNorm<B>,
    q: Linear<B>,
    k: Linear<B>,
    v: Linear<B>,
    o: Linear<B>,
    ffn_norm: RmsNorm<B>,
    gate: Linear<B>,
    up: Linear<B>,
    down: Linear<B>,
}

#[derive(Debug, Clone)]
pub struct Llama<B: Backend> {
    pub config: LlamaConfig,
    embed: Table<B>,
    blocks: Vec<LlamaBlock<B>>,
    norm: RmsNorm<B>,
    /// `[vocab, hidden]`: the embedding itself when tied.
    output: Table<B>,
}

impl<B: Backend> Llama<B> {
    pub fn load(config: LlamaConfig, l: &Loader<'_, B>) -> Result<Self> {
        let c = &config;
        let kv = c.kv_heads * c.head_dim;
        let blocks = (0..c.layers)
            .map(|i| {
                let p = |n: &str| format!("blk.{i}.{n}");
                Ok(LlamaBlock {
                    attn_norm: l.norm(&p("attn_norm.weight"), c.hidden, c.eps)?,
                    q: l.linear(&p("attn_q.weight"), c.heads * c.head_dim, c.hidden)?,
                    k: l.linear(&p("attn_k.weight"), kv, c.hidden)?,
                    v: l.linear(&p("attn_v.weight"), kv, c.hidden)?,
                    o: l.linear(&p("attn_output.weight"), c.hidden, c.heads * c.head_dim)?,
                    ffn_norm: l.norm(&p("ffn_norm.weight"), c.hidden, c.eps)?,
                    gate: l.linear(&p("ffn_gate.weight"), c.ffn, c.hidden)?,
                    up: l.linear(&p("ffn_up.weight"), c.ffn, c.hidden)?,
                    down: l.linear(&p("ffn_down.weight"), c.hidden, c.ffn)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (embed, output) = l.embeddings(c.vocab, c.hidden)?;
        Ok(Llama {
            norm: l.norm("output_norm.weight", c.hidden, c.eps)?,
            config,
            embed,
            blocks,
            output,
        })
    }

    pub fn device(&self) -> B::Device {
        self.norm.weight.device()
    }

    /// Run the batch `t` after what `cache` holds, extend the cache, and return logits
    /// `[batch * seq, vocab]` for every new position (or `[batch, vocab]` for the last one when `last_only`).
    pub fn forward(&self, t: &TokenBatch, cache: &mut KvCache<B>, last_only: bool) -> Tensor<B, 2> {
        let c = &self.config;
        let device = self.norm.weight.device();
        let past = cache.len;
        let mut x = self.embed.rows(&t.ids, &device);
        let host = self.norm.host.is_some();
        let rope = Rope::new(
            past,
            t.seq,
            c.head_dim,
            c.rope_base,
            c.rope_scale,
            c.rope_style,
            host,
            &device,
        );
        let mask = causal_mask::<B>(past, t, None, &device);
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        for (b, layer_cache) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            let y = b.attn_norm.forward(x.clone());
            let a = self_attention(
                (
                    b.q.forward(y.clone()),
                    b.k.forward(y.clone()),
                    b.v.forward(y),
                ),
                t,
                (c.heads, c.kv_heads),
                None,
                &rope,
                layer_cache,
                (scale, &mask, None),
            );
            x = x.add(b.o.forward(a));
            let y = b.ffn_norm.forward(x.clone());
            x = x.add(gated_ffn(&b.gate, &b.up, &b.down, y, Activation::Silu));
        }
        cache.len += t.seq;
        let x = keep_positions(x, t, last_only);
        self.output.project(self.norm.forward(x))
    }
}
