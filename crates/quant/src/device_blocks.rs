//! Quantised weights laid out for a GPU kernel: the GGUF blocks re-packed, once at load, into three flat
//! arrays a shader reads with plain 32-bit loads (a ggml block is 18, 20, 22, 34, 144 or 210 bytes, so
//! its fields are not 4-byte aligned, and WebGPU has no 8- or 16-bit storage loads):
//!
//! - `quants`: each element's integer, in row-major element order: 4-bit unsigned nibbles eight to a
//!   `u32` (element `c` of a row in bits `4*(c%8)..`), or 8-bit signed bytes four to a `u32`;
//! - `scales`: one f32 `d` per group of [`DeviceBlocks::group`] elements of a row;
//! - `mins`: one f32 `m` per group, for the formats with an offset (Q4_1, Q4_K); empty otherwise.
//!
//! Element `c` of row `r` in group `g` is `d[g] * (q - offset) + m[g]`, computed in f32 in the same
//! order as ggml's `dequantize_row_*`, so [`DeviceBlocks::value`] equals [`crate::dequantize`] bit for
//! bit (tested below). [`DeviceBlocks::matmul`] is the CPU reference twin of the GPU kernel
//! (`bedside_model::gpu_qmatmul`): the same sums in the same order.
//!
//! Memory against the file's blocks: Q8_0 36/34 bytes (1.06x), Q5_0 36/22 (1.64x, its 5-bit values
//! take a byte), Q4_0 20/18 (1.11x), Q4_1 24/20 (1.2x), Q4_K 192/144 (1.33x), Q6_K 320/210 (1.52x).

use crate::dequant::{h, scale_min_k4};
use crate::GgmlType;

/// Bytes the layout takes for `n` elements of `ty` (`None` for the float types, which have none).
pub fn layout_bytes(ty: GgmlType, n: usize) -> Option<usize> {
    Some(match ty {
        GgmlType::Q4_0 => n / 2 + n / 32 * 4,
        GgmlType::Q4_1 | GgmlType::Q4K => n / 2 + n / 32 * 8,
        GgmlType::Q5_0 | GgmlType::Q8_0 => n + n / 32 * 4,
        GgmlType::Q6K => n + n / 16 * 4,
        GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => return None,
    })
}

/// Bits per stored integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bits {
    /// Unsigned nibbles, eight to a word.
    Four,
    /// Signed bytes, four to a word.
    Eight,
}

/// A `[rows, cols]` matrix in the GPU layout (see the module's text).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceBlocks {
    pub rows: usize,
    pub cols: usize,
    pub bits: Bits,
    /// Elements per scale (and min): 16 or 32.
    pub group: usize,
    /// Subtracted from each 4-bit value before scaling (8 for Q4_0, else 0).
    pub offset: i32,
    pub quants: Vec<u32>,
    pub scales: Vec<f32>,
    pub mins: Vec<f32>,
}

impl DeviceBlocks {
    /// Re-pack `data` (`rows * cols` elements of `ty`, whole blocks). `None` for a type with no GPU
    /// layout (the float types, which go to the GPU as f32) or mismatched lengths.
    pub fn new(ty: GgmlType, data: &[u8], rows: usize, cols: usize) -> Option<DeviceBlocks> {
        let (be, bb) = ty.block();
        if cols % be != 0 || cols % 32 != 0 || ty.bytes_for(rows * cols)? != data.len() {
            return None;
        }
        let (bits, group, offset) = match ty {
            GgmlType::Q4_0 => (Bits::Four, 32, 8),
            GgmlType::Q4_1 | GgmlType::Q4K => (Bits::Four, 32, 0),
            GgmlType::Q5_0 | GgmlType::Q8_0 => (Bits::Eight, 32, 0),
            GgmlType::Q6K => (Bits::Eight, 16, 0),
            GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => return None,
        };
        let n = rows * cols;
        let per_word = if bits == Bits::Four { 8 } else { 4 };
        let mut out = DeviceBlocks {
            rows,
            cols,
            bits,
            group,
            offset,
            quants: vec![0; n / per_word],
            scales: Vec::with_capacity(n / group),
            mins: Vec::new(),
        };
        // Element integers in order, then packed.
        let mut q = vec![0i32; be];
        for (k, b) in data.chunks_exact(bb).enumerate() {
            let at = k * be;
            block_ints(ty, b, &mut q, &mut out.scales, &mut out.mins);
            for (j, &v) in q.iter().enumerate() {
                out.set(at + j, v);
            }
        }
        Some(out)
    }

    fn set(&mut self, e: usize, v: i32) {
        match self.bits {
            Bits::Four => self.quants[e / 8] |= ((v as u32) & 0xF) << (4 * (e % 8)),
            Bits::Eight => self.quants[e / 4] |= ((v as u32) & 0xFF) << (8 * (e % 4)),
        }
    }

    /// The stored integer of element `e` (row-major), offset applied.
    pub fn quant(&self, e: usize) -> i32 {
        match self.bits {
            Bits::Four => ((self.quants[e / 8] >> (4 * (e % 8))) & 0xF) as i32 - self.offset,
            Bits::Eight => ((self.quants[e / 4] >> (8 * (e % 4))) & 0xFF) as u8 as i8 as i32,
        }
    }

    /// Element `(r, c)`, exactly as ggml dequantises it.
    pub fn value(&self, r: usize, c: usize) -> f32 {
        let e = r * self.cols + c;
        let g = e / self.group;
        let v = self.quant(e) as f32 * self.scales[g];
        match self.mins.get(g) {
            Some(&m) => v + m,
            None => v,
        }
    }

    /// Bytes the three arrays take.
    pub fn bytes(&self) -> usize {
        4 * (self.quants.len() + self.scales.len() + self.mins.len())
    }

    /// `x: [n, cols]` times the transpose: `[n, rows]`, summed as the GPU kernel sums (per group:
    /// `d * Σ q·x + m * Σ x`, groups in order): the kernel's reference twin.
    pub fn matmul(&self, x: &[f32], n: usize) -> Vec<f32> {
        assert_eq!(
            x.len(),
            n * self.cols,
            "DeviceBlocks::matmul: x is not [n, cols]"
        );
        let groups = self.cols / self.group;
        let mut y = vec![0f32; n * self.rows];
        for i in 0..n {
            let xi = &x[i * self.cols..][..self.cols];
            for r in 0..self.rows {
                let mut acc = 0f32;
                for g in 0..groups {
                    let (mut sqx, mut sx) = (0f32, 0f32);
                    for j in 0..self.group {
                        let c = g * self.group + j;
                        let xv = xi[c];
                        sqx += self.quant(r * self.cols + c) as f32 * xv;
                        sx += xv;
                    }
                    let k = r * groups + g;
                    acc += self.scales[k] * sqx;
                    if let Some(&m) = self.mins.get(k) {
                        acc += m * sx;
                    }
                }
                y[i * self.rows + r] = acc;
            }
        }
        y
    }
}

/// One block `b` of `ty`: its integers in element order into `q` (`ty.block().0` of them: the 4-bit
/// formats' unsigned nibbles, before Q4_0's offset of 8; the others' signed values), and its groups'
/// scales (and, for Q4_1 and Q4_K, mins) pushed, each computed in f32 as ggml's `dequantize_row_*`
/// computes it. Shared by this layout and the CPU's multi-row tiles ([`crate::tile`]).
pub(crate) fn block_ints(
    ty: GgmlType,
    b: &[u8],
    q: &mut [i32],
    scales: &mut Vec<f32>,
    mins: &mut Vec<f32>,
) {
    match ty {
        GgmlType::Q4_0 | GgmlType::Q4_1 => {
            let qs = &b[if ty == GgmlType::Q4_0 { 2 } else { 4 }..][..16];
            for j in 0..16 {
                q[j] = (qs[j] & 0x0F) as i32;
                q[j + 16] = (qs[j] >> 4) as i32;
            }
            scales.push(h(b, 0));
            if ty == GgmlType::Q4_1 {
                mins.push(h(b, 2));
            }
        }
        GgmlType::Q5_0 => {
            let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
            for j in 0..16 {
                let xh0 = (((qh >> j) << 4) & 0x10) as u8;
                let xh1 = ((qh >> (j + 12)) & 0x10) as u8;
                q[j] = ((b[6 + j] & 0x0F) | xh0) as i32 - 16;
                q[j + 16] = ((b[6 + j] >> 4) | xh1) as i32 - 16;
            }
            scales.push(h(b, 0));
        }
        GgmlType::Q8_0 => {
            for j in 0..32 {
                q[j] = b[2 + j] as i8 as i32;
            }
            scales.push(h(b, 0));
        }
        GgmlType::Q4K => {
            let (d, dmin) = (h(b, 0), h(b, 2));
            for i in 0..4 {
                let qs = &b[16 + 32 * i..][..32];
                for l in 0..32 {
                    q[64 * i + l] = (qs[l] & 0x0F) as i32;
                    q[64 * i + 32 + l] = (qs[l] >> 4) as i32;
                }
                for s in [2 * i, 2 * i + 1] {
                    let (sc, m) = scale_min_k4(s, &b[4..16]);
                    scales.push(d * sc as f32);
                    // ggml: d1 * q - dmin * m; adding the negation is the same f32 result.
                    mins.push(-(dmin * m as f32));
                }
            }
        }
        GgmlType::Q6K => {
            let d = h(b, 208);
            for n in 0..2 {
                let ql = &b[n * 64..][..64];
                let qh = &b[128 + n * 32..][..32];
                let y = &mut q[n * 128..][..128];
                for l in 0..32 {
                    y[l] = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) as i32 - 32;
                    y[l + 32] = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
                    y[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
                    y[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
                }
            }
            // Sixteen groups of 16 in element order: ggml's scales `sc[0..16]` in order
            // (elements 16k..16k+16 use `sc[k]`).
            for &sc in &b[192..208] {
                scales.push(d * (sc as i8) as f32);
            }
        }
        GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dequantize;
    use crate::testing::{random_rows, FORMATS};

    #[test]
    fn every_value_is_the_dequantised_one_bit_for_bit() {
        for ty in FORMATS {
            let (rows, cols) = (3, 512);
            let data = random_rows(ty, rows, cols, 7);
            let d = DeviceBlocks::new(ty, &data, rows, cols).unwrap();
            let mut want = vec![0f32; rows * cols];
            dequantize(ty, &data, &mut want);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        d.value(r, c).to_bits(),
                        want[r * cols + c].to_bits(),
                        "{ty:?} ({r}, {c})"
                    );
                }
            }
        }
    }

    #[test]
    fn the_reference_product_is_the_dequantised_product() {
        for ty in FORMATS {
            let (rows, cols, n) = (5, 256, 2);
            let data = random_rows(ty, rows, cols, 11);
            let d = DeviceBlocks::new(ty, &data, rows, cols).unwrap();
            let mut w = vec![0f32; rows * cols];
            dequantize(ty, &data, &mut w);
            let x: Vec<f32> = (0..n * cols)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
                .collect();
            let y = d.matmul(&x, n);
            for i in 0..n {
                for r in 0..rows {
                    let (mut e, mut mag) = (0f64, 0f64);
                    for c in 0..cols {
                        let p = w[r * cols + c] as f64 * x[i * cols + c] as f64;
                        e += p;
                        mag += p.abs();
                    }
                    let got = y[i * rows + r] as f64;
                    assert!(
                        (got - e).abs() <= 1e-5 * mag.max(1e-6),
                        "{ty:?} {i} {r}: {got} vs {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn memory_is_near_the_files() {
        for (ty, most) in [
            (GgmlType::Q4_0, 1.12),
            (GgmlType::Q4_1, 1.21),
            (GgmlType::Q5_0, 1.64),
            (GgmlType::Q8_0, 1.06),
            (GgmlType::Q4K, 1.34),
            (GgmlType::Q6K, 1.53),
        ] {
            let data = random_rows(ty, 4, 256, 3);
            let d = DeviceBlocks::new(ty, &data, 4, 256).unwrap();
            assert_eq!(layout_bytes(ty, 4 * 256), Some(d.bytes()), "{ty:?}");
            let ratio = d.bytes() as f64 / data.len() as f64;
            assert!(ratio <= most, "{ty:?}: {ratio}");
        }
    }

    #[test]
    fn float_types_and_ragged_shapes_have_no_layout() {
        assert!(DeviceBlocks::new(GgmlType::F32, &[0; 4 * 32], 1, 32).is_none());
        assert!(DeviceBlocks::new(GgmlType::Q8_0, &[0; 34], 1, 31).is_none());
        assert!(DeviceBlocks::new(GgmlType::Q8_0, &[0; 33], 1, 32).is_none());
        assert!(DeviceBlocks::new(GgmlType::Q4K, &[0; 144], 2, 128).is_none());
    }
}
