//! A layer's work besides the quantised products, on the host, for models whose weights are multiplied
//! there ([`crate::layers::Placement::Host`], the CPU path): RMSNorm, per-head norms and rotary
//! embeddings, the gated activation, and attention over a KV cache kept on the host, on plain `f32`
//! rows in parallel on [`crate::pool`], instead of as chains of backend tensor operations. On a CPU
//! backend those chains ran on one thread, allocated a tensor per step, walked strided views element by
//! element (`narrow`, `swap_dims`, broadcasts) and copied the whole KV cache at every step (`cat`):
//! profiled on a Gemma 3 270M prefill (2 cores) they took about half of the main thread's time while the
//! other core waited. The activations come to the host for every quantised product anyway.
//!
//! The arithmetic is the tensor path's, per element in the same order (sums may add up in another
//! order), except GELU's `(1 + tanh z) / 2`, computed as the equal `1 / (1 + exp(-2z))`: libm's `tanhf`
//! (through `expm1f`) was 12% of a Gemma 3 prefill. The tests check each function against the tensor
//! version.

use crate::pool;

/// Elements a parallel task takes at least (smaller arrays run on the calling thread alone).
const MIN_TASK_ELEMS: usize = 16 * 1024;

/// Run `f(first_row, rows)` over `data` cut into runs of whole rows of `width`, in parallel.
pub fn for_rows(data: &mut [f32], width: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    for_rows_min(data, width, MIN_TASK_ELEMS.div_ceil(width.max(1)), f)
}

/// [`for_rows`] with at least `min_rows` rows a task.
pub fn for_rows_min(
    data: &mut [f32],
    width: usize,
    min_rows: usize,
    f: impl Fn(usize, &mut [f32]) + Sync,
) {
    assert!(
        width > 0 && data.len() % width == 0,
        "host: rows of {width}"
    );
    let n = data.len() / width;
    let threads = pool::global().threads();
    let per = n.div_ceil(threads).max(min_rows).max(1);
    let tasks = n.div_ceil(per);
    if tasks <= 1 {
        f(0, data);
        return;
    }
    let base = SendPtr(data.as_mut_ptr());
    let job = |t: usize| {
        let r0 = t * per;
        let r1 = (r0 + per).min(n);
        // SAFETY: task `t` takes rows r0..r1 only (disjoint across tasks), inside `data`, which outlives
        // the pool's run (it returns when every task has finished).
        let rows = unsafe {
            std::slice::from_raw_parts_mut(base.get().add(r0 * width), (r1 - r0) * width)
        };
        f(r0, rows);
    };
    pool::global().run(tasks, &job);
}

/// A pointer to an output buffer whose disjoint parts parallel tasks write (each use says why that is
/// safe).
#[derive(Clone, Copy)]
pub(crate) struct SendPtr(pub(crate) *mut f32);
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}
impl SendPtr {
    pub(crate) fn get(self) -> *mut f32 {
        self.0
    }
}

/// RMSNorm of every row of `x` (rows of `w.len()`), in place: `x / sqrt(mean(x²) + eps) · w`.
pub fn rms_norm(x: &mut [f32], w: &[f32], eps: f64) {
    for_rows(x, w.len(), |_, rows| {
        for r in rows.chunks_exact_mut(w.len()) {
            norm_row(r, w, eps);
        }
    });
}

fn norm_row(r: &mut [f32], w: &[f32], eps: f64) {
    let ms = r.iter().map(|v| v * v).sum::<f32>() / r.len() as f32;
    let inv = 1.0 / (ms + eps as f32).sqrt();
    for (v, &g) in r.iter_mut().zip(w) {
        *v = *v * inv * g;
    }
}

/// Rotary-embedding tables for positions `start..start + seq`: `cos` and `sin`, `[seq, head_dim / 2]`
/// row-major (position p rotated as p / `scale`).
pub fn rope_tables(
    start: usize,
    seq: usize,
    head_dim: usize,
    base: f64,
    scale: f64,
) -> (Vec<f32>, Vec<f32>) {
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
    (c, s)
}

/// Per-head RMSNorm (when `norm` is `Some((weight, eps))`, over `head_dim`) and then rotary embeddings
/// of projections `x: [batch * seq, heads * head_dim]` in place. Row `r` is at position `r % seq` of the
/// tables. `interleaved` pairs dimensions (2i, 2i+1), otherwise (i, i + head_dim / 2).
pub fn norm_rope(
    x: &mut [f32],
    heads: usize,
    seq: usize,
    (cos, sin): (&[f32], &[f32]),
    interleaved: bool,
    norm: Option<(&[f32], f64)>,
) {
    let row = cos.len() / seq.max(1) * 2 * heads;
    assert!(row > 0 && x.len() % row == 0, "host: rope rows of {row}");
    let hd = row / heads;
    let half = hd / 2;
    for_rows(x, row, |r0, rows| {
        for (i, r) in rows.chunks_exact_mut(row).enumerate() {
            let p = (r0 + i) % seq;
            let (c, s) = (
                &cos[p * half..(p + 1) * half],
                &sin[p * half..(p + 1) * half],
            );
            for h in r.chunks_exact_mut(hd) {
                if let Some((w, eps)) = norm {
                    norm_row(h, w, eps);
                }
                if interleaved {
                    for (j, pair) in h.chunks_exact_mut(2).enumerate() {
                        let (x0, x1) = (pair[0], pair[1]);
                        pair[0] = x0 * c[j] - x1 * s[j];
                        pair[1] = x0 * s[j] + x1 * c[j];
                    }
                } else {
                    let (a, b) = h.split_at_mut(half);
                    for j in 0..half {
                        let (x0, x1) = (a[j], b[j]);
                        a[j] = x0 * c[j] - x1 * s[j];
                        b[j] = x0 * s[j] + x1 * c[j];
                    }
                }
            }
        }
    });
}

/// The gated activation of a feed-forward layer, in place: `gate = act(gate) · up`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `x · sigmoid(x)` (llama).
    Silu,
    /// GELU with the tanh approximation (Gemma).
    GeluTanh,
}

pub fn gated(gate: &mut [f32], up: &[f32], act: Activation) {
    assert_eq!(gate.len(), up.len(), "host: gate and up lengths");
    // Rows of one element: tasks take runs of at least MIN_TASK_ELEMS.
    for_rows(gate, 1, |i0, g| {
        let u = &up[i0..i0 + g.len()];
        match act {
            Activation::Silu => {
                for (x, &v) in g.iter_mut().zip(u) {
                    *x = *x / (1.0 + (-*x).exp()) * v;
                }
            }
            Activation::GeluTanh => {
                const K: f32 = 0.797_884_6; // √(2/π)
                for (x, &v) in g.iter_mut().zip(u) {
                    let a = *x;
                    let inner = a * (a * a * 0.044715 + 1.0) * K;
                    // a · (1 + tanh(inner)) / 2, as a · sigmoid(2 · inner).
                    *x = a / (1.0 + (-2.0 * inner).exp()) * v;
                }
            }
        }
    });
}

/// Keys or values of one layer on the host, `[positions, kv_heads * head_dim]` row-major. Shared by the
/// forks of a cache (scoring continuations of one prompt); appending to a shared one copies it first.
pub type HostKv = std::sync::Arc<Vec<f32>>;

/// Causal self-attention of one sequence on the host: `q: [s, heads * hd]` (already rotated) over the
/// `past` cached positions plus the new ones, whose keys and values `k`, `v: [s, kv_heads * hd]` are
/// appended to `cache_k`, `cache_v` first. Query head `j` reads kv head `j / (heads / kv_heads)`; a query
/// at position `p` sees keys `p - window + 1 ..= p` (all of `0..=p` without a window), as
/// `crate::layers::causal_mask` says. Returns `[s, heads * hd]`. Parallel over (position, head) pairs.
#[allow(clippy::too_many_arguments)]
pub fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    (cache_k, cache_v): (&mut HostKv, &mut HostKv),
    (heads, kv_heads, hd): (usize, usize, usize),
    scale: f32,
    window: Option<usize>,
) -> Vec<f32> {
    let kvw = kv_heads * hd;
    let s = q.len() / (heads * hd);
    assert!(
        q.len() == s * heads * hd && k.len() == s * kvw && v.len() == s * kvw,
        "host attention: shapes"
    );
    assert!(
        cache_k.len() % kvw == 0 && cache_k.len() == cache_v.len(),
        "host attention: cache"
    );
    let past = cache_k.len() / kvw;
    std::sync::Arc::make_mut(cache_k).extend_from_slice(k);
    std::sync::Arc::make_mut(cache_v).extend_from_slice(v);
    let (keys, values) = (&cache_k[..], &cache_v[..]);
    let rep = heads / kv_heads;
    let total = past + s;
    let mut out = vec![0f32; s * heads * hd];
    let dst = SendPtr(out.as_mut_ptr());
    // One task per query head: scores = q_h k_g^T (scaled), masked, softmax per row, then p v_g, with
    // `gemm` reading the heads in place through strides (no copies of q, keys or values).
    let job = |h: usize| {
        let g = (h / rep) * hd;
        let mut p = vec![0f32; s * total];
        // SAFETY: `q` is [s, heads * hd], `keys`/`values` [total, kvw], `p` [s, total]; the reads and
        // writes below stay inside them. Task `h` writes only columns h*hd..(h+1)*hd of `out`
        // (disjoint across tasks), which outlives the pool's run.
        unsafe {
            gemm::gemm(
                s,
                total,
                hd,
                p.as_mut_ptr(),
                1,
                total as isize,
                false,
                q.as_ptr().add(h * hd),
                1,
                (heads * hd) as isize,
                keys.as_ptr().add(g),
                kvw as isize,
                1,
                0.0,
                scale,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        for (i, row) in p.chunks_exact_mut(total).enumerate() {
            let pos = past + i;
            let lo = window.map_or(0, |w| (pos + 1).saturating_sub(w));
            row[..lo].fill(0.0);
            row[pos + 1..].fill(0.0);
            let live = &mut row[lo..=pos];
            let max = live.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0f32;
            for x in live.iter_mut() {
                *x = (*x - max).exp();
                sum += *x;
            }
            let inv = 1.0 / sum;
            live.iter_mut().for_each(|x| *x *= inv);
        }
        unsafe {
            gemm::gemm(
                s,
                hd,
                total,
                dst.get().add(h * hd),
                1,
                (heads * hd) as isize,
                false,
                p.as_ptr(),
                1,
                total as isize,
                values.as_ptr().add(g),
                1,
                kvw as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    };
    pool::global().run(heads, &job);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_rows_visits_every_row_once_in_place() {
        let mut v: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
        for_rows(&mut v, 10, |r0, rows| {
            for (i, r) in rows.chunks_exact_mut(10).enumerate() {
                assert_eq!(r[0], ((r0 + i) * 10) as f32);
                r.iter_mut().for_each(|x| *x += 1.0);
            }
        });
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32 + 1.0));
    }

    #[cfg(feature = "ndarray")]
    mod against_tensors {
        use super::super::*;
        use crate::layers::{rotated_heads, RmsNorm, Rope, RopeStyle, TokenBatch};
        use burn::tensor::{Tensor, TensorData};
        type B = burn::backend::NdArray;

        fn data(n: usize, seed: u32) -> Vec<f32> {
            // A fixed pseudo-random sequence in [-2, 2).
            let mut x = seed.wrapping_mul(2_654_435_761).max(1);
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x % 4000) as f32 / 1000.0 - 2.0
                })
                .collect()
        }

        fn close(a: &[f32], b: &[f32], what: &str) {
            assert_eq!(a.len(), b.len(), "{what}: lengths");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                    "{what} [{i}]: {x} vs {y}"
                );
            }
        }

        fn norm(w: &[f32], host: bool) -> RmsNorm<B> {
            RmsNorm {
                weight: Tensor::from_data(
                    TensorData::new(w.to_vec(), [w.len()]),
                    &Default::default(),
                ),
                eps: 1e-6,
                host: host.then(|| w.to_vec().into()),
            }
        }

        #[test]
        fn rms_norm_equals_the_tensor_norm() {
            let (rows, width) = (300, 64);
            let x = data(rows * width, 1);
            let w = data(width, 2);
            let t = Tensor::<B, 2>::from_data(
                TensorData::new(x.clone(), [rows, width]),
                &Default::default(),
            );
            let want = norm(&w, false)
                .forward(t.clone())
                .into_data()
                .into_vec::<f32>()
                .unwrap();
            let got = norm(&w, true)
                .forward(t)
                .into_data()
                .into_vec::<f32>()
                .unwrap();
            close(&got, &want, "rms_norm");
        }

        #[test]
        fn norm_rope_equals_the_tensor_path_for_both_styles_and_batches() {
            let (heads, hd) = (3, 8);
            for style in [RopeStyle::Half, RopeStyle::Interleaved] {
                for with_norm in [false, true] {
                    // Two sequences of 5 positions after 7 cached ones.
                    let t = TokenBatch::padded(&[&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10]]);
                    let x = data(t.batch * t.seq * heads * hd, 3);
                    let w = data(hd, 4);
                    let dev = Default::default();
                    let xt = Tensor::<B, 2>::from_data(
                        TensorData::new(x, [t.batch * t.seq, heads * hd]),
                        &dev,
                    );
                    let run = |host: bool| {
                        let rope = Rope::<B>::new(7, t.seq, hd, 10_000.0, 1.0, style, host, &dev);
                        let n = norm(&w, host);
                        rotated_heads(xt.clone(), &t, heads, with_norm.then_some(&n), &rope)
                            .into_data()
                            .into_vec::<f32>()
                            .unwrap()
                    };
                    close(
                        &run(true),
                        &run(false),
                        &format!("{style:?}, norm {with_norm}"),
                    );
                }
            }
        }

        #[test]
        fn attention_equals_the_tensor_path_over_a_cache_with_gqa_and_a_window() {
            use crate::layers::{causal_mask, self_attention, LayerCache};
            let (heads, kvh, hd) = (4, 2, 8);
            let dev = Default::default();
            let qn = norm(&data(hd, 7), true);
            let kn = norm(&data(hd, 8), true);
            for window in [None, Some(4)] {
                let run = |host: bool| {
                    let mut cache: Option<LayerCache<B>> = None;
                    let mut outs = Vec::new();
                    // 5 positions, then 3 more over the cache, then one (a decoding step), from a fork.
                    let mut past = 0;
                    for (s, seed) in [(5usize, 10u32), (3, 20), (1, 30)] {
                        let t = TokenBatch::one(&vec![1; s]);
                        let m = |w: usize, k: u32| {
                            Tensor::<B, 2>::from_data(
                                TensorData::new(data(s * w, seed + k), [s, w]),
                                &dev,
                            )
                        };
                        let rope =
                            Rope::<B>::new(past, s, hd, 10_000.0, 1.0, RopeStyle::Half, host, &dev);
                        let mask = causal_mask::<B>(past, &t, window, &dev);
                        let mut fork = cache.clone();
                        let out = self_attention(
                            (m(heads * hd, 1), m(kvh * hd, 2), m(kvh * hd, 3)),
                            &t,
                            (heads, kvh),
                            Some((&qn, &kn)),
                            &rope,
                            &mut fork,
                            (0.3, &mask, window),
                        );
                        assert_eq!(matches!(fork, Some(LayerCache::Host { .. })), host);
                        cache = fork;
                        past += s;
                        outs.extend(out.into_data().into_vec::<f32>().unwrap());
                    }
                    outs
                };
                close(
                    &run(true),
                    &run(false),
                    &format!("attention, window {window:?}"),
                );
            }
        }

        #[test]
        fn gated_equals_the_tensor_activations() {
            let (n, width) = (9, 4096);
            let g = data(n * width, 5);
            let u = data(n * width, 6);
            let dev = Default::default();
            let gt = Tensor::<B, 2>::from_data(TensorData::new(g.clone(), [n, width]), &dev);
            let ut = Tensor::<B, 2>::from_data(TensorData::new(u.clone(), [n, width]), &dev);
            for (act, want) in [
                (
                    Activation::Silu,
                    burn::tensor::activation::silu(gt.clone()).mul(ut.clone()),
                ),
                (
                    Activation::GeluTanh,
                    crate::layers::gelu_tanh(gt.clone()).mul(ut.clone()),
                ),
            ] {
                let mut got = g.clone();
                gated(&mut got, &u, act);
                close(
                    &got,
                    &want.into_data().into_vec::<f32>().unwrap(),
                    &format!("{act:?}"),
                );
            }
        }
    }
}
