//! Activation quantisation for the integer-dot kernels: each row of `x` is cut into blocks of 32 and
//! every block is stored as one f32 scale and signed 8-bit values, `x ≈ d · q` with `d = max|x| / 127`
//! and `q = round(x / d)` in `-127..=127` (so `|x - d·q| ≤ d/2`). The sums of `q` over every 16 values
//! are kept too: weight formats with an offset (Q4_1's `m`, Q4_K's minimums) need `Σ q` per sub-block.
//!
//! Unlike ggml, the K-quants also get blocks of 32 (ggml's `q8_K` has one scale per 256): on Gemma 3,
//! whose hidden states have large outliers, 256-wide activation blocks raised the mean KL against the
//! f32 oracle from 2.3e-3 to 7.5e-3 nats and cut top-1 agreement from 96.9% to 92.2% (fixture prompts,
//! token by token). The scale stays f32 (ggml rounds `q8_0`'s to f16).

use super::GgmlType;

/// Elements per activation block.
pub const QK8: usize = 32;

/// Whether weights of type `ty` have integer-dot kernels (the block formats).
pub fn has_kernels(ty: GgmlType) -> bool {
    !matches!(ty, GgmlType::F32 | GgmlType::F16 | GgmlType::BF16)
}

/// `n` rows of `cols` activations, quantised.
#[derive(Debug, Clone, PartialEq)]
pub struct Q8Acts {
    pub cols: usize,
    qs: Vec<i8>,
    d: Vec<f32>,
    sums: Vec<i32>,
}

/// One quantised row: `qs[cols]`, `d[cols / 32]`, `sums[cols / 16]`.
#[derive(Debug, Clone, Copy)]
pub struct Q8Row<'a> {
    pub qs: &'a [i8],
    pub d: &'a [f32],
    pub sums: &'a [i32],
}

impl Q8Acts {
    /// Quantise `x: [n, cols]` row-major (`cols` a multiple of 32).
    pub fn quantize(x: &[f32], cols: usize) -> Self {
        let block = QK8;
        assert!(cols % block == 0, "q8: {cols} columns in blocks of {block}");
        assert_eq!(x.len() % cols.max(1), 0, "q8: input length");
        let mut qs = vec![0i8; x.len()];
        let mut d = Vec::with_capacity(x.len() / block);
        for (xb, qb) in x.chunks_exact(block).zip(qs.chunks_exact_mut(block)) {
            let amax = xb.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = amax / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            for (q, &v) in qb.iter_mut().zip(xb) {
                // `round` is half away from zero (C's `roundf`, as ggml); |v·inv| ≤ 127 up to rounding.
                *q = (v * inv).round().clamp(-127.0, 127.0) as i8;
            }
            d.push(scale);
        }
        let sums = qs
            .chunks_exact(16)
            .map(|c| c.iter().map(|&q| q as i32).sum())
            .collect();
        Q8Acts { cols, qs, d, sums }
    }

    pub fn rows(&self) -> usize {
        self.qs.len().checked_div(self.cols).unwrap_or(0)
    }

    pub fn row(&self, i: usize) -> Q8Row<'_> {
        let (c, b) = (self.cols, self.cols / QK8);
        Q8Row {
            qs: &self.qs[i * c..(i + 1) * c],
            d: &self.d[i * b..(i + 1) * b],
            sums: &self.sums[i * c / 16..(i + 1) * c / 16],
        }
    }

    /// Row `i` dequantised (`d · q`): what the integer kernels multiply with, for the oracle.
    pub fn dequantize_row(&self, i: usize) -> Vec<f32> {
        let r = self.row(i);
        r.qs.iter()
            .enumerate()
            .map(|(k, &q)| r.d[k / QK8] * q as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_at_most_half_a_step_and_sums_are_kept() {
        let cols = 512;
        let x: Vec<f32> = (0..2 * cols)
            .map(|i| {
                ((i * 7919 % 1000) as f32 - 500.0) / 37.0 * if i % 97 == 0 { 40.0 } else { 1.0 }
            })
            .collect();
        {
            let block = QK8;
            let q = Q8Acts::quantize(&x, cols);
            assert_eq!(q.rows(), 2);
            for i in 0..2 {
                let r = q.row(i);
                let back = q.dequantize_row(i);
                for (k, (&a, &b)) in x[i * cols..(i + 1) * cols].iter().zip(&back).enumerate() {
                    let d = r.d[k / block];
                    assert!(
                        (a - b).abs() <= d * 0.5 * (1.0 + 1e-5),
                        "block {block} element {k}"
                    );
                }
                // The largest |x| of a block maps to ±127 exactly.
                assert!(r.qs.chunks(block).all(|b| b.iter().any(|q| q.abs() == 127)));
                for (s, c) in r.sums.iter().zip(r.qs.chunks(16)) {
                    assert_eq!(*s, c.iter().map(|&v| v as i32).sum::<i32>());
                }
            }
        }
        // An all-zero block: scale 0, values 0 (no division by zero).
        let z = Q8Acts::quantize(&[0.0; 32], 32);
        assert_eq!((z.row(0).d[0], z.row(0).qs[5]), (0.0, 0));
    }
}
