//! Building blocks shared by the architectures: linear layers, RMSNorm, rotary embeddings, attention over
//! a KV cache. A batch of `b` sequences of `s` positions runs as `[b * s, hidden]` through the linear
//! layers; attention works on `[b, heads, s, head_dim]`.

use crate::error::{ModelError, Result};
use crate::gguf::Gguf;
pub use crate::host::Activation;
use crate::host::HostKv;
use crate::qmatrix::{Blob, QuantMatrix};
use bedside_quant::GgmlType;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use std::sync::Arc;

/// A weight matrix `W: [rows, cols]` held on the device in a form only a backend's own kernel reads
/// (quantised blocks on the GPU: `crate::gpu_blocks`). `matmul` is `x W^T`.
pub trait DeviceMatmul<B: Backend>: std::fmt::Debug + Send + Sync {
    /// `x: [n, cols]` to `[n, rows]`.
    fn matmul(&self, x: Tensor<B, 2>) -> Tensor<B, 2>;
    /// Device memory the matrix takes.
    fn bytes(&self) -> usize;
}

/// [`Loader`]'s hook that puts a quantised matrix on the device in its blocks: `(name, type, the
/// tensor's bytes, rows, cols, device)`; `Ok(None)` for a type it does not lay out (then it goes dense),
/// `Err(why)` for a matrix of a laid-out type it cannot take.
pub type Upload<B> = fn(
    GgmlType,
    &[u8],
    usize,
    usize,
    &<B as burn::tensor::backend::BackendTypes>::Device,
) -> std::result::Result<Option<Arc<dyn DeviceMatmul<B>>>, String>;

/// A linear layer `y = x W^T` for a weight `W: [out, in]`: dense f32 on the device, stored transposed
/// (`[in, out]`) so the product is one matmul; kept in its quantised GGUF blocks on the host
/// ([`QuantMatrix`], the CPU path); or in blocks on the device ([`DeviceMatmul`], the GPU path).
#[derive(Debug, Clone)]
pub enum Linear<B: Backend> {
    Dense { wt: Tensor<B, 2> },
    Quant(Arc<QuantMatrix>),
    Device(Arc<dyn DeviceMatmul<B>>),
}

impl<B: Backend> Linear<B> {
    /// `x: [n, in]` to `[n, out]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Linear::Dense { wt } => x.matmul(wt.clone()),
            Linear::Quant(q) => host_matmul(q, x),
            Linear::Device(d) => d.matmul(x),
        }
    }
}

fn host_matmul<B: Backend>(q: &QuantMatrix, x: Tensor<B, 2>) -> Tensor<B, 2> {
    let device = x.device();
    let [n, _] = x.dims();
    let xs = to_host(x);
    Tensor::from_data(TensorData::new(q.matmul(&xs, n), [n, q.rows]), &device)
}

/// A tensor's elements in row-major order on the host.
pub fn to_host<B: Backend, const D: usize>(x: Tensor<B, D>) -> Vec<f32> {
    x.into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("f32 activations")
}

/// The gated feed-forward layer `down(act(gate(y)) · up(y))`. With the products on the host
/// ([`Linear::Quant`]) the activation runs there too, between them ([`crate::host::gated`]).
pub fn gated_ffn<B: Backend>(
    gate: &Linear<B>,
    up: &Linear<B>,
    down: &Linear<B>,
    y: Tensor<B, 2>,
    act: Activation,
) -> Tensor<B, 2> {
    if let (Linear::Quant(g), Linear::Quant(u)) = (gate, up) {
        let device = y.device();
        let [n, _] = y.dims();
        let ys = to_host(y);
        let mut h = g.matmul(&ys, n);
        crate::host::gated(&mut h, &u.matmul(&ys, n), act);
        if let Linear::Quant(d) = down {
            return Tensor::from_data(TensorData::new(d.matmul(&h, n), [n, d.rows]), &device);
        }
        return down.forward(Tensor::from_data(TensorData::new(h, [n, g.rows]), &device));
    }
    let g = gate.forward(y.clone());
    let h = match act {
        Activation::Silu => burn::tensor::activation::silu(g),
        Activation::GeluTanh => gelu_tanh(g),
    };
    down.forward(h.mul(up.forward(y)))
}

/// A `[rows, cols]` table read by row (the token embedding) and used as an output projection (logits
/// `x W^T`): dense on the device; quantised on the host; or quantised on the device for the product,
/// with rows read from the host's blocks (a few rows a step, uploaded as f32).
#[derive(Debug, Clone)]
pub enum Table<B: Backend> {
    Dense(Tensor<B, 2>),
    Quant(Arc<QuantMatrix>),
    Device {
        host: Arc<QuantMatrix>,
        device: Arc<dyn DeviceMatmul<B>>,
    },
}

impl<B: Backend> Table<B> {
    /// Rows for `ids`: `[ids.len(), cols]`.
    pub fn rows(&self, ids: &[u32], device: &B::Device) -> Tensor<B, 2> {
        match self {
            Table::Dense(t) => embed(t, ids),
            Table::Quant(q) | Table::Device { host: q, .. } => {
                let idx: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
                Tensor::from_data(
                    TensorData::new(q.rows_f32(&idx), [ids.len(), q.cols]),
                    device,
                )
            }
        }
    }

    /// `x: [n, cols]` to `[n, rows]`.
    pub fn project(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Table::Dense(w) => project_out(x, w),
            Table::Quant(q) => host_matmul(q, x),
            Table::Device { device, .. } => device.matmul(x),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RmsNorm<B: Backend> {
    pub weight: Tensor<B, 1>,
    pub eps: f64,
    /// The weight on the host too when the model's glue runs there ([`crate::host`]: models whose
    /// products run on the host).
    pub host: Option<Arc<[f32]>>,
}

impl<B: Backend> RmsNorm<B> {
    /// Normalise over the last dimension and scale (GGUF stores Gemma's `1 + weight` already added).
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        if let Some(w) = &self.host {
            let (device, dims) = (x.device(), x.dims());
            let mut v = to_host(x);
            crate::host::rms_norm(&mut v, w, self.eps);
            return Tensor::from_data(TensorData::new(v, dims), &device);
        }
        // x·x, not `powi_scalar(2)` (an elementwise `powf`, 5% of a Gemma 3 prefill).
        let ms = x.clone().mul(x.clone()).mean_dim(D - 1);
        let w: Tensor<B, D> = self.weight.clone().unsqueeze();
        x.div(ms.add_scalar(self.eps).sqrt()).mul(w)
    }
}

/// How weight matrices are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Dequantised to f32 at load (4 bytes a parameter): the correctness oracle, and the GPU path.
    F32,
    /// Kept in the file's block format (about 0.5-1 byte a parameter). On the CPU multiplied on the host
    /// (dequantised tiles, float `gemm`); on the GPU (with `crate::gpu_blocks`) re-packed into 32-bit
    /// words and dequantised inside the kernel. Products are exact up to summation order.
    Quantized,
    /// Kept in blocks as `Quantized`, but short products (decoding, option scoring) quantise the
    /// activations to 8-bit blocks and use integer dot products, as llama.cpp does: faster, and no longer
    /// exact (see `crate::qmatrix`).
    Q8Activations,
}

impl Precision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "f32" => Some(Precision::F32),
            "quantized" | "q" | "quant" => Some(Precision::Quantized),
            "q8-activations" | "q8" => Some(Precision::Q8Activations),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Quantized => "quantized",
            Precision::Q8Activations => "q8-activations",
        }
    }

    /// How run records name the weights (after the backend): `quantized weights`, and on the GPU,
    /// where the blocks are dequantised inside the kernel, `quantized weights in GPU blocks`.
    pub fn weights_label(self, on_gpu: bool) -> String {
        if on_gpu && self == Precision::Quantized {
            "quantized weights in GPU blocks".into()
        } else {
            format!("{} weights", self.name())
        }
    }
}

/// Where a [`Loader`] puts the weight matrices.
pub enum Placement<'a, B: Backend> {
    /// Dequantised to f32 on the device ([`Precision::F32`]).
    Dense,
    /// In their blocks on the host, pointing into `blob` (the same bytes, shared) instead of being
    /// copied; with `q8`, short products use 8-bit activations ([`Precision::Q8Activations`]).
    Host { blob: &'a Blob, q8: bool },
    /// Quantised matrices on the device in their blocks through `upload` (the GPU path); the tables'
    /// rows are read from `blob`. Float matrices go dense.
    Device { blob: &'a Blob, upload: Upload<B> },
}

impl<'a, B: Backend> Placement<'a, B> {
    /// On the host at `precision` (dense for f32).
    pub fn host(blob: &'a Blob, precision: Precision) -> Self {
        match precision {
            Precision::F32 => Placement::Dense,
            p => Placement::Host {
                blob,
                q8: p == Precision::Q8Activations,
            },
        }
    }
}

/// Reads tensors of one GGUF file into a device, checking names and shapes, placing matrices as
/// `placement` says.
pub struct Loader<'a, B: Backend> {
    pub gguf: &'a Gguf,
    pub bytes: &'a [u8],
    pub placement: Placement<'a, B>,
    pub device: &'a B::Device,
}

impl<B: Backend> Loader<'_, B> {
    pub fn has(&self, name: &str) -> bool {
        self.gguf.tensor(name).is_some()
    }

    fn data(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        Ok(self.gguf.dequantize(self.bytes, name, Some(shape))?.0)
    }

    /// The `[rows, cols]` matrix `name` in its blocks on the device, when loading with an upload hook
    /// and the matrix is quantised.
    fn on_device(
        &self,
        name: &str,
        rows: usize,
        cols: usize,
    ) -> Result<Option<Arc<dyn DeviceMatmul<B>>>> {
        let Placement::Device { upload, .. } = self.placement else {
            return Ok(None);
        };
        let t = self.gguf.check(name, &[rows, cols])?;
        upload(
            t.ty,
            self.gguf.tensor_bytes(self.bytes, t),
            rows,
            cols,
            self.device,
        )
        .map_err(|e| self.missing(name, &e))
    }

    /// The quantised `[rows, cols]` matrix `name`, when loading quantised.
    fn quant(&self, name: &str, rows: usize, cols: usize) -> Result<Option<Arc<QuantMatrix>>> {
        let (blob, q8) = match &self.placement {
            Placement::Dense => return Ok(None),
            Placement::Host { blob, q8 } => (*blob, *q8),
            Placement::Device { blob, .. } => (*blob, false),
        };
        let t = self.gguf.check(name, &[rows, cols])?;
        let offset = self.gguf.data_offset + t.offset as usize;
        QuantMatrix::new(blob.clone(), offset, t.ty, rows, cols)
            .map(|q| Some(Arc::new(q.with_q8(q8))))
            .ok_or_else(|| self.missing(name, "its rows are not whole blocks of its type, or its data runs past the end of the file"))
    }

    pub fn vector(&self, name: &str, n: usize) -> Result<Tensor<B, 1>> {
        Ok(Tensor::from_data(
            TensorData::new(self.data(name, &[n])?, [n]),
            self.device,
        ))
    }

    /// A `[rows, cols]` table (embedding or output matrix) as stored (row-major).
    pub fn table(&self, name: &str, rows: usize, cols: usize) -> Result<Table<B>> {
        if let Some(device) = self.on_device(name, rows, cols)? {
            if let Some(host) = self.quant(name, rows, cols)? {
                return Ok(Table::Device { host, device });
            }
        }
        if matches!(self.placement, Placement::Device { .. }) {
            return self.dense_table(name, rows, cols);
        }
        if let Some(q) = self.quant(name, rows, cols)? {
            return Ok(Table::Quant(q));
        }
        self.dense_table(name, rows, cols)
    }

    fn dense_table(&self, name: &str, rows: usize, cols: usize) -> Result<Table<B>> {
        Ok(Table::Dense(Tensor::from_data(
            TensorData::new(self.data(name, &[rows, cols])?, [rows, cols]),
            self.device,
        )))
    }

    /// A linear layer `out x in`.
    pub fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Linear<B>> {
        if let Some(d) = self.on_device(name, out, inp)? {
            return Ok(Linear::Device(d));
        }
        if matches!(self.placement, Placement::Host { .. }) {
            if let Some(q) = self.quant(name, out, inp)? {
                return Ok(Linear::Quant(q));
            }
        }
        let w = self.data(name, &[out, inp])?;
        let mut t = vec![0f32; w.len()];
        for o in 0..out {
            for i in 0..inp {
                t[i * out + o] = w[o * inp + i];
            }
        }
        Ok(Linear::Dense {
            wt: Tensor::from_data(TensorData::new(t, [inp, out]), self.device),
        })
    }

    /// The token embedding `[vocab, hidden]` and the output projection: `output.weight`, or the embedding
    /// itself when the two are tied.
    pub fn embeddings(&self, vocab: usize, hidden: usize) -> Result<(Table<B>, Table<B>)> {
        let embed = self.table("token_embd.weight", vocab, hidden)?;
        let output = if self.has("output.weight") {
            self.table("output.weight", vocab, hidden)?
        } else {
            embed.clone()
        };
        Ok((embed, output))
    }

    pub fn norm(&self, name: &str, n: usize, eps: f64) -> Result<RmsNorm<B>> {
        let host = matches!(self.placement, Placement::Host { .. });
        let w = self.data(name, &[n])?;
        Ok(RmsNorm {
            host: host.then(|| w.clone().into()),
            weight: Tensor::from_data(TensorData::new(w, [n]), self.device),
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

/// The rotary tables of one forward pass: on the device, and on the host when the glue runs there.
pub struct Rope<B: Backend> {
    pub cos: Tensor<B, 2>,
    pub sin: Tensor<B, 2>,
    pub style: RopeStyle,
    host: Option<(Vec<f32>, Vec<f32>)>,
}

impl<B: Backend> Rope<B> {
    /// Tables for positions `start..start + seq` (see [`crate::host::rope_tables`]); `host` keeps them on
    /// the host.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        start: usize,
        seq: usize,
        head_dim: usize,
        base: f64,
        scale: f64,
        style: RopeStyle,
        host: bool,
        device: &B::Device,
    ) -> Self {
        let (c, s) = crate::host::rope_tables(start, seq, head_dim, base, scale);
        let half = head_dim / 2;
        Rope {
            cos: Tensor::from_data(TensorData::new(c.clone(), [seq, half]), device),
            sin: Tensor::from_data(TensorData::new(s.clone(), [seq, half]), device),
            style,
            host: host.then_some((c, s)),
        }
    }
}

/// Projections `x: [b * s, heads * hd]` as `[b, heads, s, hd]`, each head normalised by `norm` first
/// when given (Gemma's q/k norms) and rotated. On the host when `rope` is (one pass over contiguous
/// rows), otherwise as tensor operations.
pub fn rotated_heads<B: Backend>(
    x: Tensor<B, 2>,
    t: &TokenBatch,
    heads: usize,
    norm: Option<&RmsNorm<B>>,
    rope: &Rope<B>,
) -> Tensor<B, 4> {
    let [n, width] = x.dims();
    if rope.host.is_some() {
        let device = x.device();
        let v = rotate_on_host(x, t, heads, norm, rope);
        let x = Tensor::from_data(TensorData::new(v, [n, width]), &device);
        return split_heads(x, t, heads);
    }
    let x = match norm {
        Some(m) => m
            .forward(x.reshape([n, heads, width / heads]))
            .reshape([n, width]),
        None => x,
    };
    apply_rope(split_heads(x, t, heads), &rope.cos, &rope.sin, rope.style)
}

/// [`rotated_heads`]'s host pass (`rope` must hold host tables): the projections' rows on the host,
/// each head normalised by `norm` when given and rotated, still `[b * s, heads * hd]`.
fn rotate_on_host<B: Backend>(
    x: Tensor<B, 2>,
    t: &TokenBatch,
    heads: usize,
    norm: Option<&RmsNorm<B>>,
    rope: &Rope<B>,
) -> Vec<f32> {
    let (c, s) = rope.host.as_ref().expect("rotate_on_host: host tables");
    let w = norm.map(|m| match &m.host {
        Some(w) => (std::borrow::Cow::Borrowed(&w[..]), m.eps),
        None => (std::borrow::Cow::Owned(to_host(m.weight.clone())), m.eps),
    });
    let mut v = to_host(x);
    crate::host::norm_rope(
        &mut v,
        heads,
        t.seq,
        (c, s),
        rope.style == RopeStyle::Interleaved,
        w.as_ref().map(|(w, e)| (&w[..], *e)),
    );
    v
}

/// Apply rotary embeddings to `x: [batch, heads, seq, head_dim]`.
pub fn apply_rope<B: Backend>(
    x: Tensor<B, 4>,
    cos: &Tensor<B, 2>,
    sin: &Tensor<B, 2>,
    style: RopeStyle,
) -> Tensor<B, 4> {
    let [b, h, s, d] = x.dims();
    let c: Tensor<B, 4> = cos.clone().unsqueeze();
    let sn: Tensor<B, 4> = sin.clone().unsqueeze();
    match style {
        RopeStyle::Interleaved => {
            let pairs = x.reshape([b, h, s, d / 2, 2]);
            let x0 = pairs.clone().narrow(4, 0, 1).reshape([b, h, s, d / 2]);
            let x1 = pairs.narrow(4, 1, 1).reshape([b, h, s, d / 2]);
            let o0 = x0.clone().mul(c.clone()).sub(x1.clone().mul(sn.clone()));
            let o1 = x0.mul(sn).add(x1.mul(c));
            Tensor::stack::<5>(vec![o0, o1], 4).reshape([b, h, s, d])
        }
        RopeStyle::Half => {
            let x0 = x.clone().narrow(3, 0, d / 2);
            let x1 = x.narrow(3, d / 2, d / 2);
            let o0 = x0.clone().mul(c.clone()).sub(x1.clone().mul(sn.clone()));
            let o1 = x0.mul(sn).add(x1.mul(c));
            Tensor::cat(vec![o0, o1], 3)
        }
    }
}

/// Token ids of a batch of sequences, right-padded to one length `seq` (padding positions are masked
/// out as keys, and their outputs are meaningless).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBatch {
    /// `[batch * seq]`, row-major.
    pub ids: Vec<u32>,
    pub batch: usize,
    pub seq: usize,
    /// Real length of each sequence.
    pub lens: Vec<usize>,
}

impl TokenBatch {
    pub fn one(ids: &[u32]) -> Self {
        TokenBatch {
            ids: ids.to_vec(),
            batch: 1,
            seq: ids.len(),
            lens: vec![ids.len()],
        }
    }

    /// Right-pad `seqs` (padding with token 0) to the longest one.
    pub fn padded(seqs: &[&[u32]]) -> Self {
        let seq = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(seqs.len() * seq);
        for s in seqs {
            ids.extend_from_slice(s);
            ids.extend(std::iter::repeat_n(0, seq - s.len()));
        }
        TokenBatch {
            ids,
            batch: seqs.len(),
            seq,
            lens: seqs.iter().map(|s| s.len()).collect(),
        }
    }
}

/// Keys and values of one layer for the positions seen so far.
#[derive(Debug, Clone)]
pub enum LayerCache<B: Backend> {
    /// `[batch, kv_heads, seq, head_dim]` tensors on the device.
    Tensor { k: Tensor<B, 4>, v: Tensor<B, 4> },
    /// One sequence's on the host, `[seq, kv_heads * head_dim]` ([`crate::host::attention`]).
    Host {
        k: HostKv,
        v: HostKv,
        kv_heads: usize,
        head_dim: usize,
    },
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

/// Additive attention mask `[batch, 1, s, past + s]` for `s` new positions after `past` cached ones: 0
/// where a query may look, -1e30 where it may not (later positions, padding after a sequence's end, or
/// beyond a sliding `window`). Built once per forward pass and shared by the layers that use it.
pub fn causal_mask<B: Backend>(
    past: usize,
    t: &TokenBatch,
    window: Option<usize>,
    device: &B::Device,
) -> Tensor<B, 4> {
    let (b, s) = (t.batch, t.seq);
    let total = past + s;
    let mut mask = vec![0f32; b * s * total];
    for (bi, &len) in t.lens.iter().enumerate() {
        for i in 0..s {
            let qpos = past + i;
            for j in 0..total {
                if j > qpos || j >= past + len || window.is_some_and(|w| qpos - j.min(qpos) >= w) {
                    mask[(bi * s + i) * total + j] = -1e30;
                }
            }
        }
    }
    Tensor::<B, 3>::from_data(TensorData::new(mask, [b, s, total]), device).unsqueeze_dim(1)
}

/// One layer's self-attention from its projections `q: [b * s, heads * hd]` and `k`, `v: [b * s,
/// kv_heads * hd]`: q and k normalised per head by `norms` when given (Gemma) and rotated, then attention
/// over `cache` (extended) under `mask` (from [`causal_mask`] with the same `window`), each query scaled
/// by `scale`. Returns `[b * s, heads * hd]`. With the glue on the host ([`Rope`] holding host tables)
/// and one sequence, it all runs on the host ([`crate::host::attention`], the cache kept there too);
/// otherwise as tensor operations.
#[allow(clippy::too_many_arguments)]
pub fn self_attention<B: Backend>(
    (q, k, v): (Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 2>),
    t: &TokenBatch,
    (heads, kv_heads): (usize, usize),
    norms: Option<(&RmsNorm<B>, &RmsNorm<B>)>,
    rope: &Rope<B>,
    cache: &mut Option<LayerCache<B>>,
    (scale, mask, window): (f64, &Tensor<B, 4>, Option<usize>),
) -> Tensor<B, 2> {
    let on_host =
        rope.host.is_some() && t.batch == 1 && !matches!(cache, Some(LayerCache::Tensor { .. }));
    if !on_host {
        let q = rotated_heads(q, t, heads, norms.map(|n| n.0), rope);
        let k = rotated_heads(k, t, kv_heads, norms.map(|n| n.1), rope);
        return attention(q, k, split_heads(v, t, kv_heads), cache, scale, mask);
    }
    let [n, width] = q.dims();
    let head_dim = width / heads;
    let device = q.device();
    let qs = rotate_on_host(q, t, heads, norms.map(|n| n.0), rope);
    let ks = rotate_on_host(k, t, kv_heads, norms.map(|n| n.1), rope);
    let vs = to_host(v);
    let (mut ck, mut cv) = match cache.take() {
        Some(LayerCache::Host { k, v, .. }) => (k, v),
        _ => Default::default(),
    };
    let out = crate::host::attention(
        &qs,
        &ks,
        &vs,
        (&mut ck, &mut cv),
        (heads, kv_heads, head_dim),
        scale as f32,
        window,
    );
    *cache = Some(LayerCache::Host {
        k: ck,
        v: cv,
        kv_heads,
        head_dim,
    });
    Tensor::from_data(TensorData::new(out, [n, width]), &device)
}

/// Attention of `q: [b, heads, s, hd]` over the cached keys plus the new `k`, `v: [b, kv_heads, s, hd]`,
/// under `mask` (from [`causal_mask`]), appending the new keys and values to `cache`. Returns
/// `[b * s, heads * hd]`.
pub fn attention<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    cache: &mut Option<LayerCache<B>>,
    scale: f64,
    mask: &Tensor<B, 4>,
) -> Tensor<B, 2> {
    let [b, h, s, hd] = q.dims();
    let kvh = k.dims()[1];
    let (k, v) = match cache.take() {
        Some(LayerCache::Tensor { k: ck, v: cv }) => {
            (Tensor::cat(vec![ck, k], 2), Tensor::cat(vec![cv, v], 2))
        }
        Some(LayerCache::Host {
            k: ck,
            v: cv,
            kv_heads,
            head_dim,
        }) => {
            // A one-sequence host cache continued by the tensor path: `[1, kv_heads, seq, hd]`.
            let device = k.device();
            let seq = ck.len() / (kv_heads * head_dim);
            let t = |c: HostKv| {
                Tensor::<B, 4>::from_data(
                    TensorData::new((*c).clone(), [1, seq, kv_heads, head_dim]),
                    &device,
                )
                .swap_dims(1, 2)
            };
            (
                Tensor::cat(vec![t(ck), k], 2),
                Tensor::cat(vec![t(cv), v], 2),
            )
        }
        None => (k, v),
    };
    *cache = Some(LayerCache::Tensor {
        k: k.clone(),
        v: v.clone(),
    });
    let total = k.dims()[2];
    let rep = h / kvh;
    // Grouped-query attention without copying the keys and values `rep` times: query head j reads kv
    // head j / rep, so the `rep` query heads of one kv head are stacked as `rep * s` rows against it
    // (row r * s + i is head r of the group at position i, whose mask row is i). With `rep` 1 (one kv
    // head per query head) the reshapes are the identity.
    let q = q.reshape([b, kvh, rep * s, hd]);
    let scores = q
        .matmul(k.swap_dims(2, 3))
        .mul_scalar(scale)
        .reshape([b, kvh, rep, s, total]);
    let mask: Tensor<B, 5> = mask.clone().unsqueeze_dim(2);
    let p = softmax(scores.add(mask), 4).reshape([b, kvh, rep * s, total]);
    p.matmul(v)
        .reshape([b, h, s, hd])
        .swap_dims(1, 2)
        .reshape([b * s, h * hd])
}

/// `[b * s, heads * hd]` projections to `[b, heads, s, hd]`.
pub fn split_heads<B: Backend>(x: Tensor<B, 2>, t: &TokenBatch, heads: usize) -> Tensor<B, 4> {
    let hd = x.dims()[1] / heads;
    x.reshape([t.batch, t.seq, heads, hd]).swap_dims(1, 2)
}

/// The hidden states `[b * s, hidden]` to keep for the output: all of them, or each sequence's last
/// position when `last_only` (for unpadded batches).
pub fn keep_positions<B: Backend>(
    x: Tensor<B, 2>,
    t: &TokenBatch,
    last_only: bool,
) -> Tensor<B, 2> {
    if !last_only {
        return x;
    }
    let hidden = x.dims()[1];
    x.reshape([t.batch, t.seq, hidden])
        .narrow(1, t.seq - 1, 1)
        .reshape([t.batch, hidden])
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

/// GELU with the tanh approximation (Gemma's `gelu_pytorch_tanh`):
/// `x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))`. Burn's `gelu_approximate` computes the cube with an
/// elementwise `powf`, which was 4% of a Gemma 3 prefill; here it is two products.
pub fn gelu_tanh<const D: usize, B: Backend>(x: Tensor<B, D>) -> Tensor<B, D> {
    const SQRT_2_OVER_PI: f64 =
        core::f64::consts::FRAC_2_SQRT_PI * core::f64::consts::FRAC_1_SQRT_2;
    let x2 = x.clone().mul(x.clone());
    let inner = x
        .clone()
        .mul(x2.mul_scalar(0.044715).add_scalar(1.0))
        .mul_scalar(SQRT_2_OVER_PI);
    x.mul(inner.tanh().add_scalar(1.0)).mul_scalar(0.5)
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;
    type B = burn::backend::NdArray;

    #[test]
    fn gelu_tanh_equals_the_formula_and_burns_version() {
        let xs: Vec<f32> = (-80..=80).map(|i| i as f32 / 10.0).collect();
        let dev = Default::default();
        let t = Tensor::<B, 1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &dev);
        let ours = gelu_tanh(t.clone()).into_data().into_vec::<f32>().unwrap();
        let burn = burn::tensor::activation::gelu_approximate(t)
            .into_data()
            .into_vec::<f32>()
            .unwrap();
        for ((x, a), b) in xs.iter().zip(&ours).zip(&burn) {
            let x = *x as f64;
            let want = 0.5
                * x
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh());
            assert!(
                (*a as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "x={x}: {a} vs {want}"
            );
            assert!(
                (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                "x={x}: {a} vs burn {b}"
            );
        }
    }
}
