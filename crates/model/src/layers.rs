//! Building blocks shared by the architectures: linear layers, RMSNorm, rotary embeddings, attention over
//! a KV cache. Batch size 1: a sequence is `[seq, hidden]`; attention works on `[heads, seq, head_dim]`.

use crate::error::{ModelError, Result};
use crate::gguf::Gguf;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// A weight matrix stored transposed (`[in, out]`), so `y = x W^T` is one matmul.
#[derive(Debug, Clone)]
pub struct Linear<B: Backend> {
    pub wt: Tensor<B, 2>,
}

impl<B: Backend> Linear<B> {
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        x.matmul(self.wt.clone())
    }
}

#[derive(Debug, Clone)]
pub struct RmsNorm<B: Backend> {
    pub weight: Tensor<B, 1>,
    pub eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    /// Normalise over the last dimension and scale (GGUF stores Gemma's `1 + weight` already added).
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let ms = x.clone().powi_scalar(2).mean_dim(D - 1);
        let w: Tensor<B, D> = self.weight.clone().unsqueeze();
        x.div(ms.add_scalar(self.eps).sqrt()).mul(w)
    }
}

/// Reads tensors of one GGUF file into a device, checking names and shapes.
pub struct Loader<'a, B: Backend> {
    pub gguf: &'a Gguf,
    pub bytes: &'a [u8],
    pub device: &'a B::Device,
}

impl<B: Backend> Loader<'_, B> {
    pub fn has(&self, name: &str) -> bool {
        self.gguf.tensor(name).is_some()
    }

    fn data(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        Ok(self.gguf.dequantize(self.bytes, name, Some(shape))?.0)
    }

    pub fn vector(&self, name: &str, n: usize) -> Result<Tensor<B, 1>> {
        Ok(Tensor::from_data(
            TensorData::new(self.data(name, &[n])?, [n]),
            self.device,
        ))
    }

    /// A `[rows, cols]` matrix as stored (row-major).
    pub fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Tensor<B, 2>> {
        Ok(Tensor::from_data(
            TensorData::new(self.data(name, &[rows, cols])?, [rows, cols]),
            self.device,
        ))
    }

    /// A linear layer `out x in`, stored transposed.
    pub fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Linear<B>> {
        let w = self.data(name, &[out, inp])?;
        let mut t = vec![0f32; w.len()];
        for o in 0..out {
            for i in 0..inp {
                t[i * out + o] = w[o * inp + i];
            }
        }
        Ok(Linear {
            wt: Tensor::from_data(TensorData::new(t, [inp, out]), self.device),
        })
    }

    pub fn norm(&self, name: &str, n: usize, eps: f64) -> Result<RmsNorm<B>> {
        Ok(RmsNorm {
            weight: self.vector(name, n)?,
            eps,
        })
    }

    pub fn missing(&self, name: &str, message: &str) -> ModelError {
        ModelError::Tensor {
            file: self.gguf.file.clone(),
            tensor: name.into(),
            message: message.into(),
        }
    }
}

/// How rotary embeddings pair up the dimensions of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Pairs (2i, 2i+1): llama.cpp's default, matching GGUF's permuted llama Q/K rows.
    Interleaved,
    /// Pairs (i, i + d/2): GPT-NeoX / Hugging Face "rotate half" (Gemma).
    Half,
}

/// cos and sin tables `[seq, head_dim/2]` for positions `start..start+seq`; with linear RoPE scaling
/// (`scale` > 1) position p is rotated as p / scale.
pub fn rope_tables<B: Backend>(
    start: usize,
    seq: usize,
    head_dim: usize,
    base: f64,
    scale: f64,
    device: &B::Device,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let half = head_dim / 2;
    let mut c = Vec::with_capacity(seq * half);
    let mut s = Vec::with_capacity(seq * half);
    for p in start..start + seq {
        for i in 0..half {
            let inv = base.powf(-((2 * i) as f64) / head_dim as f64);
            let a = p as f64 / scale * inv;
            c.push(a.cos() as f32);
            s.push(a.sin() as f32);
        }
    }
    (
        Tensor::from_data(TensorData::new(c, [seq, half]), device),
        Tensor::from_data(TensorData::new(s, [seq, half]), device),
    )
}

/// Apply rotary embeddings to `x: [heads, seq, head_dim]`.
pub fn apply_rope<B: Backend>(
    x: Tensor<B, 3>,
    cos: &Tensor<B, 2>,
    sin: &Tensor<B, 2>,
    style: RopeStyle,
) -> Tensor<B, 3> {
    let [h, s, d] = x.dims();
    let c: Tensor<B, 3> = cos.clone().unsqueeze();
    let sn: Tensor<B, 3> = sin.clone().unsqueeze();
    match style {
        RopeStyle::Interleaved => {
            let pairs = x.reshape([h, s, d / 2, 2]);
            let x0 = pairs.clone().narrow(3, 0, 1).reshape([h, s, d / 2]);
            let x1 = pairs.narrow(3, 1, 1).reshape([h, s, d / 2]);
            let o0 = x0.clone().mul(c.clone()).sub(x1.clone().mul(sn.clone()));
            let o1 = x0.mul(sn).add(x1.mul(c));
            Tensor::stack::<4>(vec![o0, o1], 3).reshape([h, s, d])
        }
        RopeStyle::Half => {
            let x0 = x.clone().narrow(2, 0, d / 2);
            let x1 = x.narrow(2, d / 2, d / 2);
            let o0 = x0.clone().mul(c.clone()).sub(x1.clone().mul(sn.clone()));
            let o1 = x0.mul(sn).add(x1.mul(c));
            Tensor::cat(vec![o0, o1], 2)
        }
    }
}

/// Keys and values of one layer for the positions seen so far: `[kv_heads, seq, head_dim]`.
#[derive(Debug, Clone)]
pub struct LayerCache<B: Backend> {
    pub k: Tensor<B, 3>,
    pub v: Tensor<B, 3>,
}

/// The KV cache of a whole model. Cloning it is cheap (tensors are shared, never mutated in place), so a
/// cache can be forked to score several continuations of one prefix.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    pub layers: Vec<Option<LayerCache<B>>>,
    pub len: usize,
}

impl<B: Backend> KvCache<B> {
    pub fn new(n_layers: usize) -> Self {
        KvCache {
            layers: vec![None; n_layers],
            len: 0,
        }
    }

    /// An independent copy that shares the prefix.
    pub fn fork(&self) -> Self {
        self.clone()
    }
}

/// Additive attention mask `[1, s, past + s]` for `s` new positions after `past` cached ones: 0 where a
/// query may look, -1e30 where it may not (later positions, or beyond a sliding `window`). Built once per
/// forward pass and shared by the layers that use it.
pub fn causal_mask<B: Backend>(
    past: usize,
    s: usize,
    window: Option<usize>,
    device: &B::Device,
) -> Tensor<B, 3> {
    let total = past + s;
    let mut mask = vec![0f32; s * total];
    for i in 0..s {
        let qpos = past + i;
        for j in 0..total {
            if j > qpos || window.is_some_and(|w| qpos - j.min(qpos) >= w) {
                mask[i * total + j] = -1e30;
            }
        }
    }
    Tensor::<B, 2>::from_data(TensorData::new(mask, [s, total]), device).unsqueeze()
}

/// Attention of `q: [heads, s, hd]` over the cached keys plus the new `k`, `v: [kv_heads, s, hd]`, under
/// `mask` (from [`causal_mask`]), appending the new keys and values to `cache`. Returns `[s, heads * hd]`.
pub fn attention<B: Backend>(
    q: Tensor<B, 3>,
    k: Tensor<B, 3>,
    v: Tensor<B, 3>,
    cache: &mut Option<LayerCache<B>>,
    scale: f64,
    mask: &Tensor<B, 3>,
) -> Tensor<B, 2> {
    let [h, s, hd] = q.dims();
    let kvh = k.dims()[0];
    let (k, v) = match cache.take() {
        Some(c) => (Tensor::cat(vec![c.k, k], 1), Tensor::cat(vec![c.v, v], 1)),
        None => (k, v),
    };
    *cache = Some(LayerCache {
        k: k.clone(),
        v: v.clone(),
    });
    let total = k.dims()[1];
    let rep = h / kvh;
    let expand = |t: Tensor<B, 3>| {
        if rep == 1 {
            t
        } else {
            t.reshape([kvh, 1, total, hd])
                .repeat_dim(1, rep)
                .reshape([h, total, hd])
        }
    };
    let (k, v) = (expand(k), expand(v));
    let scores = q.matmul(k.swap_dims(1, 2)).mul_scalar(scale);
    let p = softmax(scores.add(mask.clone()), 2);
    p.matmul(v).swap_dims(0, 1).reshape([s, h * hd])
}

/// Rows of the embedding matrix `[vocab, hidden]` for `ids`: `[seq, hidden]`.
pub fn embed<B: Backend>(table: &Tensor<B, 2>, ids: &[u32]) -> Tensor<B, 2> {
    let idx = ids.iter().map(|&i| i as i64).collect::<Vec<_>>();
    let idx = Tensor::<B, 1, burn::tensor::Int>::from_data(
        TensorData::new(idx, [ids.len()]),
        &table.device(),
    );
    table.clone().select(0, idx)
}

/// Logits `[seq, vocab]` of hidden states `x: [seq, hidden]` with an output matrix `w: [vocab, hidden]`,
/// computed as `(w x^T)^T` so the large matrix is read in its stored, contiguous layout.
pub fn project_out<B: Backend>(x: Tensor<B, 2>, w: &Tensor<B, 2>) -> Tensor<B, 2> {
    w.clone().matmul(x.transpose()).transpose()
}
