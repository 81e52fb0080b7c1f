//! The multi-row integer product (`q8-activations` with many rows of activations: a prompt's prefill).
//! The one-row kernels of [`crate::dot`] unpack each weight block once per activation row; here up to
//! [`TILE_ROWS`] weight rows are unpacked once into a [`Tile`] (a small buffer that stays in the L1/L2
//! cache) and multiplied with every activation row, eight weight rows at a time.
//!
//! Layout: every element becomes one unsigned byte `u = q + bias` (`q` its stored integer), so that
//! `w = d · (u - B) + m` for its group's scale `d`, the format's integer offset `B` and (Q4_1, Q4_K)
//! the group's min `m`. The bytes are interleaved by four: for group `g` and quad `k` (elements
//! `4k..4k+4` of the group), the 32 bytes `[row 0: 4 bytes, row 1: 4 bytes, ..., row 7: 4 bytes]`. One
//! 32-byte load then holds a quad of all eight rows, and a dot product of unsigned with signed bytes
//! against the activation quad broadcast to the eight lanes (`vpdpbusd` with AVX-VNNI, `maddubs` +
//! `madd` with AVX2) leaves each row's partial sum in its own lane: no horizontal sums.
//!
//! Per group and activation row the exact integer sum `Σ u·x_q - B·Σ x_q` is scaled once:
//! `y += d_x · (d · (Σ u·x_q - B·Σ x_q) + m · Σ x_q)`. The same arithmetic as [`crate::scalar`]'s
//! one-row kernels up to the order of the float additions.

use crate::device_blocks::block_ints;
use crate::q8::{Q8Acts, QK8};
use crate::GgmlType;

/// Weight rows per tile (the eight 32-bit lanes of an AVX2 register).
pub const TILE_ROWS: usize = 8;

/// Up to [`TILE_ROWS`] weight rows unpacked (see the module's text). Reused across tiles: `unpack`
/// only grows its buffers.
#[derive(Debug, Clone, Default)]
pub struct Tile {
    pub cols: usize,
    /// Elements per scale: 32, or 16 (Q6_K).
    pub group: usize,
    /// Rows holding weights (the rest are zero).
    pub rows: usize,
    /// `B`: subtracted from `u` (in the integer sum, as `B · Σ x_q`).
    pub offset: i32,
    /// The largest `u` the format stores (15, 31, 63 or 255).
    pub max_u: u8,
    /// `[groups][group / 4][TILE_ROWS][4]` bytes.
    pub u: Vec<u8>,
    /// `[groups][TILE_ROWS]` scales.
    pub d: Vec<f32>,
    /// `[groups][TILE_ROWS]` mins (Q4_1, Q4_K); empty otherwise.
    pub m: Vec<f32>,
    q: Vec<i32>,
    scales: Vec<f32>,
    mins: Vec<f32>,
}

/// `(bias added to the stored integer, B, group, largest u)` of a block format.
fn params(ty: GgmlType) -> (i32, i32, usize, u8) {
    match ty {
        GgmlType::Q4_0 => (0, 8, 32, 15),
        GgmlType::Q4_1 | GgmlType::Q4K => (0, 0, 32, 15),
        GgmlType::Q5_0 => (16, 16, 32, 31),
        GgmlType::Q8_0 => (128, 128, 32, 255),
        GgmlType::Q6K => (32, 32, 16, 63),
        GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => {
            unreachable!("tile: {} is not a block format", ty.name())
        }
    }
}

impl Tile {
    /// Unpack `rows` (1..=8) rows of `cols` elements of `ty` from `data` (the rows' blocks, contiguous).
    pub fn unpack(&mut self, ty: GgmlType, data: &[u8], rows: usize, cols: usize) {
        assert!((1..=TILE_ROWS).contains(&rows), "tile: {rows} rows");
        let (be, bb) = ty.block();
        let row_bytes = ty.bytes_for(cols).expect("tile: whole blocks");
        assert_eq!(data.len(), rows * row_bytes, "tile: data length");
        let (bias, offset, group, max_u) = params(ty);
        let groups = cols / group;
        let has_mins = matches!(ty, GgmlType::Q4_1 | GgmlType::Q4K);
        self.cols = cols;
        self.group = group;
        self.rows = rows;
        self.offset = offset;
        self.max_u = max_u;
        self.u.resize(cols * TILE_ROWS, 0);
        self.d.resize(groups * TILE_ROWS, 0.0);
        self.m
            .resize(if has_mins { groups * TILE_ROWS } else { 0 }, 0.0);
        self.q.resize(be, 0);
        let gpb = be / group; // groups per block
        for r in 0..TILE_ROWS {
            if r >= rows {
                // Padding rows: zero scales, so they add nothing (their outputs are not stored).
                for g in 0..groups {
                    self.d[g * TILE_ROWS + r] = 0.0;
                    if has_mins {
                        self.m[g * TILE_ROWS + r] = 0.0;
                    }
                }
                continue;
            }
            let row = &data[r * row_bytes..(r + 1) * row_bytes];
            for (blk, b) in row.chunks_exact(bb).enumerate() {
                self.scales.clear();
                self.mins.clear();
                block_ints(ty, b, &mut self.q, &mut self.scales, &mut self.mins);
                // Quad `k` of group `g` goes to `((g * group / 4 + k) * TILE_ROWS + r) * 4`: quads of one
                // block are consecutive in `k`, 32 bytes apart.
                for (quad, q) in self.q.chunks_exact(4).enumerate() {
                    let at = ((blk * be / 4 + quad) * TILE_ROWS + r) * 4;
                    let dst = &mut self.u[at..at + 4];
                    for (d, &q) in dst.iter_mut().zip(q) {
                        *d = (q + bias) as u8;
                    }
                }
                for k in 0..gpb {
                    let g = blk * gpb + k;
                    self.d[g * TILE_ROWS + r] = self.scales[k];
                    if has_mins {
                        self.m[g * TILE_ROWS + r] = self.mins[k];
                    }
                }
            }
        }
    }

    pub fn groups(&self) -> usize {
        self.cols / self.group
    }

    /// Whether the tile has mins.
    pub fn has_mins(&self) -> bool {
        !self.m.is_empty()
    }

    /// Portable version, the oracle of the SIMD ones: rows `i0..i1` of `x` times the tile, row `i` of
    /// the result written to `y[(i - i0) * stride..][..self.rows]`.
    pub fn matmul_scalar(&self, x: &Q8Acts, i0: usize, i1: usize, y: &mut [f32], stride: usize) {
        let (group, groups) = (self.group, self.groups());
        for i in i0..i1 {
            let xr = x.row(i);
            let mut out = [0f32; TILE_ROWS];
            for g in 0..groups {
                let mut acc = [0i32; TILE_ROWS];
                let u = &self.u[g * group * TILE_ROWS..][..group * TILE_ROWS];
                let xq = &xr.qs[g * group..][..group];
                for k in 0..group / 4 {
                    for (r, a) in acc.iter_mut().enumerate() {
                        for e in 0..4 {
                            *a += u[(k * TILE_ROWS + r) * 4 + e] as i32 * xq[4 * k + e] as i32;
                        }
                    }
                }
                let sx = group_sum(xr.sums, g, group);
                let dx = xr.d[g * group / QK8];
                for r in 0..TILE_ROWS {
                    let mut t = self.d[g * TILE_ROWS + r] * (acc[r] - self.offset * sx) as f32;
                    if self.has_mins() {
                        t += self.m[g * TILE_ROWS + r] * sx as f32;
                    }
                    out[r] += dx * t;
                }
            }
            let at = (i - i0) * stride;
            y[at..at + self.rows].copy_from_slice(&out[..self.rows]);
        }
    }
}

/// `Σ x_q` over group `g` (of `group` elements) from the per-16 sums.
#[inline(always)]
pub(crate) fn group_sum(sums: &[i32], g: usize, group: usize) -> i32 {
    if group == 16 {
        sums[g]
    } else {
        sums[2 * g] + sums[2 * g + 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar;
    use crate::testing::{random_rows, Lcg, FORMATS};

    pub(crate) fn activations(n: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut g = Lcg(seed);
        (0..n * cols)
            .map(|i| g.f() * if i % 61 == 0 { 20.0 } else { 1.0 })
            .collect()
    }

    /// The scalar tile product equals the one-row scalar kernels (the integer sums are exact in both;
    /// only the order of the float additions differs): within 1e-6 of Σ|w·x|, for every format, with a
    /// full and a partial tile.
    #[test]
    fn scalar_tiles_equal_the_one_row_kernels() {
        let cols = 512;
        for ty in FORMATS {
            for rows in [8, 5] {
                let w = random_rows(ty, rows, cols, 17 + ty as u64);
                let x = activations(3, cols, 23);
                let xq = Q8Acts::quantize(&x, cols);
                let mut t = Tile::default();
                t.unpack(ty, &w, rows, cols);
                let mut y = vec![f32::NAN; 3 * 9];
                t.matmul_scalar(&xq, 0, 3, &mut y, 9);
                let rb = ty.bytes_for(cols).unwrap();
                for i in 0..3 {
                    for r in 0..rows {
                        let wr = &w[r * rb..(r + 1) * rb];
                        let want = scalar::vec_dot(ty, wr, xq.row(i));
                        let mut wd = vec![0f32; cols];
                        crate::dequantize(ty, wr, &mut wd);
                        let mag: f32 = wd
                            .iter()
                            .zip(&xq.dequantize_row(i))
                            .map(|(a, b)| (a * b).abs())
                            .sum();
                        let got = y[i * 9 + r];
                        assert!(
                            (got - want).abs() <= 1e-6 * mag.max(1e-12),
                            "{} rows {rows} ({i},{r}): {got} vs {want}",
                            ty.name()
                        );
                    }
                    // Only the tile's rows are written.
                    assert!(y[i * 9 + rows].is_nan());
                }
            }
        }
    }
}
