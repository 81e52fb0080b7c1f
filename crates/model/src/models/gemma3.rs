//! Gemma 3: embeddings scaled by sqrt(hidden), RMSNorm (GGUF stores `1 + weight`), per-head q/k norms,
//! pre- and post-norms around attention and feed-forward, GeGLU with tanh GELU, rotate-half RoPE, and
//! sliding-window local layers (window from the metadata, RoPE base 10,000) interleaved with global layers
//! (RoPE base from the metadata): every sixth layer is global, as in Gemma 3 and llama.cpp.

use super::llama::{check_dims, meta_f64, meta_usize};
use crate::error::{ModelError, Result};
use crate::gguf::Gguf;
use crate::layers::{
    causal_mask, gated_ffn, keep_positions, self_attention, Activation, KvCache, Linear, Loader,
    RmsNorm, Rope, RopeStyle, Table, TokenBatch,
};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// One global layer after every five sliding-window layers.
pub const GLOBAL_EVERY: usize = 6;
/// RoPE base of the sliding-window layers.
pub const LOCAL_ROPE_BASE: f64 = 10_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Gemma3Config {
    pub vocab: usize,
    pub hidden: usize,
    pub ffn: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub rope_base: f64,
    pub window: usize,
    pub eps: f64,
    pub context: usize,
}

impl Gemma3Config {
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let heads = meta_usize(g, "attention.head_count")?;
        let vocab = g
            .tensor("token_embd.weight")
            .map(|t| t.shape()[0])
            .ok_or_else(|| ModelError::Tensor {
                file: g.file.clone(),
                tensor: "token_embd.weight".into(),
                message: "missing from the file".into(),
            })?;
        let (hidden, layers) = (
            meta_usize(g, "embedding_length")?,
            meta_usize(g, "block_count")?,
        );
        let kv_heads = meta_usize(g, "attention.head_count_kv").unwrap_or(heads);
        let head_dim = meta_usize(g, "attention.key_length")?;
        check_dims(g, hidden, heads, kv_heads, head_dim, layers)?;
        Ok(Gemma3Config {
            vocab,
            hidden,
            ffn: meta_usize(g, "feed_forward_length")?,
            layers,
            heads,
            kv_heads,
            head_dim,
            rope_base: meta_f64(g, "rope.freq_base", 1_000_000.0),
            window: meta_usize(g, "attention.sliding_window").unwrap_or(512),
            eps: meta_f64(g, "attention.layer_norm_rms_epsilon", 1e-6),
            context: meta_usize(g, "context_length").unwrap_or(32_768),
        })
    }

    pub fn is_global(&self, layer: usize) -> bool {
        (layer + 1) % GLOBAL_EVERY == 0
    }
}

#[derive(Debug, Clone)]
pub struct Gemma3Block<B: Backend> {
    attn_norm: RmsNorm<B>,
    q: Linear<B>,
    k: Linear<B>,
    v: Linear<B>,
    o: Linear<B>,
    q_norm: RmsNorm<B>,
    k_norm: RmsNorm<B>,
    post_attn_norm: RmsNorm<B>,
    ffn_norm: RmsNorm<B>,
    gate: Linear<B>,
    up: Linear<B>,
    down: Linear<B>,
    post_ffn_norm: RmsNorm<B>,
}

#[derive(Debug, Clone)]
pub struct Gemma3<B: Backend> {
    pub config: Gemma3Config,
    embed: Table<B>,
    blocks: Vec<Gemma3Block<B>>,
    norm: RmsNorm<B>,
    output: Table<B>,
}

impl<B: Backend> Gemma3<B> {
    pub fn load(config: Gemma3Config, l: &Loader<'_, B>) -> Result<Self> {
        let c = &config;
        let (qd, kvd) = (c.heads * c.head_dim, c.kv_heads * c.head_dim);
        let blocks = (0..c.layers)
            .map(|i| {
                let p = |n: &str| format!("blk.{i}.{n}");
                Ok(Gemma3Block {
                    attn_norm: l.norm(&p("attn_norm.weight"), c.hidden, c.eps)?,
                    q: l.linear(&p("attn_q.weight"), qd, c.hidden)?,
                    k: l.linear(&p("attn_k.weight"), kvd, c.hidden)?,
                    v: l.linear(&p("attn_v.weight"), kvd, c.hidden)?,
                    o: l.linear(&p("attn_output.weight"), c.hidden, qd)?,
                    q_norm: l.norm(&p("attn_q_norm.weight"), c.head_dim, c.eps)?,
                    k_norm: l.norm(&p("attn_k_norm.weight"), c.head_dim, c.eps)?,
                    post_attn_norm: l.norm(&p("post_attention_norm.weight"), c.hidden, c.eps)?,
                    ffn_norm: l.norm(&p("ffn_norm.weight"), c.hidden, c.eps)?,
                    gate: l.linear(&p("ffn_gate.weight"), c.ffn, c.hidden)?,
                    up: l.linear(&p("ffn_up.weight"), c.ffn, c.hidden)?,
                    down: l.linear(&p("ffn_down.weight"), c.hidden, c.ffn)?,
                    post_ffn_norm: l.norm(&p("post_ffw_norm.weight"), c.hidden, c.eps)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (embed, output) = l.embeddings(c.vocab, c.hidden)?;
        Ok(Gemma3 {
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

    /// As [`super::llama::Llama::forward`].
    pub fn forward(&self, t: &TokenBatch, cache: &mut KvCache<B>, last_only: bool) -> Tensor<B, 2> {
        let c = &self.config;
        let device = self.norm.weight.device();
        let past = cache.len;
        let s = t.seq;
        let mut x = self
            .embed
            .rows(&t.ids, &device)
            .mul_scalar((c.hidden as f64).sqrt() as f32);
        let host = self.norm.host.is_some();
        let rope = |base| {
            Rope::new(
                past,
                s,
                c.head_dim,
                base,
                1.0,
                RopeStyle::Half,
                host,
                &device,
            )
        };
        let global = rope(c.rope_base);
        let local = rope(LOCAL_ROPE_BASE);
        let global_mask = causal_mask::<B>(past, t, None, &device);
        let local_mask = causal_mask::<B>(past, t, Some(c.window), &device);
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        for (i, (b, layer_cache)) in self.blocks.iter().zip(cache.layers.iter_mut()).enumerate() {
            let (rope, mask, window) = if c.is_global(i) {
                (&global, &global_mask, None)
            } else {
                (&local, &local_mask, Some(c.window))
            };
            let y = b.attn_norm.forward(x.clone());
            // Per-head RMSNorm of q and k over head_dim, before the rotation.
            let a = self_attention(
                (
                    b.q.forward(y.clone()),
                    b.k.forward(y.clone()),
                    b.v.forward(y),
                ),
                t,
                (c.heads, c.kv_heads),
                Some((&b.q_norm, &b.k_norm)),
                rope,
                layer_cache,
                (scale, mask, window),
            );
            x = x.add(b.post_attn_norm.forward(b.o.forward(a)));
            let y = b.ffn_norm.forward(x.clone());
            let f = gated_ffn(&b.gate, &b.up, &b.down, y, Activation::GeluTanh);
            x = x.add(b.post_ffn_norm.forward(f));
        }
        cache.len += s;
        let x = keep_positions(x, t, last_only);
        self.output.project(self.norm.forward(x))
    }
}
