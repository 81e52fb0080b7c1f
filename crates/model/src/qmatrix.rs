//! A weight matrix kept in its GGUF block format in memory (the quantised paths): no f32 copy of the
//! weights is ever made. A product `x W^T` runs one of two ways, in parallel on [`crate::pool`]:
//!
//! - exact (precision `quantized`): dequantise a tile of rows into a small scratch buffer and multiply
//!   it with `gemm`. Dequantisation is exact ([`crate::quant`]), so the result differs from the f32 path
//!   only by summation order;
//! - 8-bit activations (precision `q8-activations`, as llama.cpp): quantise `x` once to 8-bit blocks and
//!   take integer dot products against the weight blocks. Used up to [`q8_max_rows`] rows of `x`
//!   (decoding, option scoring); a longer prompt takes the exact path, which measured as fast end to end
//!   (a prompt's time is mostly outside the products) and is exact. Below [`TILE_MIN_ROWS`] rows each
//!   weight row is multiplied block by block ([`crate::quant::dot`]); from there eight weight rows at a
//!   time are unpacked once into a tile and multiplied with every row ([`crate::quant::tile`]), where the
//!   instruction set has that kernel. Both compute the same integer sums; only the order of the float
//!   additions differs.
use crate::host::SendPtr;
use crate::quant::dot::{self, Isa};
use crate::quant::q8::{has_kernels, Q8Acts};
use crate::quant::tile::{Tile, TILE_ROWS as TILE8};
use crate::quant::{dequantize, GgmlType};
use std::fmt;
use std::sync::Arc;

/// The bytes of a model file, shared by every quantised matrix that points into it (a `Vec<u8>` read
/// from disk or received by the browser worker, or a memory map).
pub type Blob = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Output rows dequantised per tile. 64 rows of a 576..2048-wide matrix is 150..520 KiB of scratch.
const TILE_ROWS: usize = 64;

/// Tasks per thread of a block-by-block product, taken from the pool's counter as threads come free, so
/// a thread that starts late or runs slow (another process on its core) holds no one up for long.
const TASKS_PER_THREAD: usize = 4;
/// At least this many weight rows a task: a task costs about 0.1 µs to hand out, a row 0.1-1 µs.
const MIN_TASK_ROWS: usize = 16;

/// Rows of `x` up to which a `q8-activations` matrix of type `ty` takes the integer-dot path. Measured
/// on the bundled models' matrices (2 cores, AVX2), one-row integer kernels and dequantise + `gemm` cross
/// near 8-16 rows for the 32-element formats and 32-64 for the K-quants (whose exact dequantisation is
/// slower). With the tile kernels a whole prompt on 8-bit activations measured the same prefill speed as
/// the exact path (SmolLM2 95.3 vs 93.7 tokens/s, Gemma 3 91.8 vs 97.5, one run), so the exact path
/// keeps long prompts.
pub fn q8_max_rows(ty: GgmlType) -> usize {
    match ty {
        GgmlType::Q4K | GgmlType::Q6K => 48,
        _ => 12,
    }
}

/// Rows of `x` from which a `q8-activations` product unpacks tiles of eight weight rows (where the
/// instruction set has a multi-row kernel). Unpacking costs about what the one-row kernels take for a
/// dozen rows; measured on one core (`cargo run --release -p bedside-quant --example tile_speed`, AVX-VNNI)
/// the tiles took 0.84x-1.6x the one-row time at 8 rows, 0.74x-0.97x at 16, 0.23x-0.37x at 169.
pub const TILE_MIN_ROWS: usize = 16;

/// A `[rows, cols]` matrix stored as `rows` rows of ggml blocks inside a [`Blob`].
#[derive(Clone)]
pub struct QuantMatrix {
    blob: Blob,
    offset: usize,
    pub ty: GgmlType,
    pub rows: usize,
    pub cols: usize,
    row_bytes: usize,
    /// Products with at most [`q8_max_rows`] rows quantise the activations to 8 bits.
    q8: bool,
}

impl fmt::Debug for QuantMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "QuantMatrix({} [{}, {}])",
            self.ty.name(),
            self.rows,
            self.cols
        )
    }
}

impl QuantMatrix {
    /// `None` when a row is not a whole number of blocks or the data would run past the end of the blob.
    pub fn new(blob: Blob, offset: usize, ty: GgmlType, rows: usize, cols: usize) -> Option<Self> {
        let row_bytes = ty.bytes_for(cols)?;
        let end = offset.checked_add(row_bytes.checked_mul(rows)?)?;
        if end > (*blob).as_ref().len() {
            return None;
        }
        Some(QuantMatrix {
            blob,
            offset,
            ty,
            rows,
            cols,
            row_bytes,
            q8: false,
        })
    }

    /// The same matrix multiplied with 8-bit activations (`on`, for block formats) or exactly.
    pub fn with_q8(mut self, on: bool) -> Self {
        self.q8 = on && has_kernels(self.ty);
        self
    }

    /// Whether short products quantise the activations to 8 bits.
    pub fn q8(&self) -> bool {
        self.q8
    }

    /// Bytes of weights this matrix holds (shared with the file buffer, not copied).
    pub fn byte_len(&self) -> usize {
        self.rows * self.row_bytes
    }

    fn row_data(&self, r0: usize, r1: usize) -> &[u8] {
        let bytes = (*self.blob).as_ref();
        &bytes[self.offset + r0 * self.row_bytes..self.offset + r1 * self.row_bytes]
    }

    /// Rows `ids` dequantised: `[ids.len(), cols]` row-major (an embedding lookup).
    pub fn rows_f32(&self, ids: &[usize]) -> Vec<f32> {
        let mut out = vec![0f32; ids.len() * self.cols];
        for (o, &r) in out.chunks_exact_mut(self.cols).zip(ids) {
            dequantize(self.ty, self.row_data(r, r + 1), o);
        }
        out
    }

    /// `y = x W^T` for `x: [n, cols]` row-major; returns `[n, rows]` row-major.
    pub fn matmul(&self, x: &[f32], n: usize) -> Vec<f32> {
        assert_eq!(x.len(), n * self.cols, "qmatmul: input length");
        if self.q8 && n <= q8_max_rows(self.ty) {
            return self.matmul_q8(x, n, dot::active());
        }
        self.matmul_exact(x, n)
    }

    /// `x W^T` with `x` quantised to 8-bit blocks and integer dot products of `isa` (available).
    pub fn matmul_q8(&self, x: &[f32], n: usize, isa: Isa) -> Vec<f32> {
        assert_eq!(x.len(), n * self.cols, "qmatmul: input length");
        assert!(has_kernels(self.ty), "q8 path needs a block format");
        let xq = Q8Acts::quantize(x, self.cols);
        if n >= TILE_MIN_ROWS && dot::has_tile_kernel(isa, self.ty) {
            return self.matmul_tiles(&xq, isa);
        }
        let xr: Vec<_> = (0..n).map(|i| xq.row(i)).collect();
        let rows = self.rows;
        let mut y = vec![0f32; n * rows];
        let out = SendPtr(y.as_mut_ptr());
        let tile = rows
            .div_ceil(threads() * TASKS_PER_THREAD)
            .max(MIN_TASK_ROWS);
        let tiles = rows.div_ceil(tile);
        let job = |t: usize| {
            let r0 = t * tile;
            let r1 = (r0 + tile).min(rows);
            for r in r0..r1 {
                let w = self.row_data(r, r + 1);
                for (i, &xi) in xr.iter().enumerate() {
                    let v = dot::vec_dot_with(isa, self.ty, w, xi);
                    // SAFETY: tile `t` writes only columns r0..r1 of `y` (disjoint across tiles).
                    unsafe { *out.get().add(i * rows + r) = v };
                }
            }
        };
        par_for(tiles, job);
        y
    }

    /// `xq W^T` by tiles of eight weight rows, each unpacked once and multiplied with every row of `xq`
    /// (`isa` must have the kernel: [`dot::has_tile_kernel`]).
    pub fn matmul_tiles(&self, xq: &Q8Acts, isa: Isa) -> Vec<f32> {
        let (n, rows) = (xq.rows(), self.rows);
        let mut y = vec![0f32; n * rows];
        let out = SendPtr(y.as_mut_ptr());
        let tiles = rows.div_ceil(TILE8);
        // One contiguous run of tiles per thread: a tile is thousands of multiply-adds per row of x.
        let per = tiles.div_ceil(threads());
        let job = |c: usize| {
            TILE_SCRATCH.with_borrow_mut(|(tile, buf)| {
                buf.resize(n * TILE8, 0.0);
                for t in c * per..((c + 1) * per).min(tiles) {
                    let r0 = t * TILE8;
                    let r1 = (r0 + TILE8).min(rows);
                    tile.unpack(self.ty, self.row_data(r0, r1), r1 - r0, self.cols);
                    dot::tile_matmul_with(isa, tile, xq, 0, n, buf);
                    for i in 0..n {
                        let src = &buf[i * TILE8..i * TILE8 + (r1 - r0)];
                        // SAFETY: tile `t` writes only columns r0..r1 of `y` (disjoint across tiles),
                        // rows 0..n: inside `y`'s n * rows elements.
                        unsafe {
                            std::ptr::copy_nonoverlapping(
                                src.as_ptr(),
                                out.get().add(i * rows + r0),
                                r1 - r0,
                            )
                        };
                    }
                }
            });
        };
        par_for(tiles.div_ceil(per), job);
        y
    }

    /// `x W^T` exactly: dequantised tiles and `gemm`.
    pub fn matmul_exact(&self, x: &[f32], n: usize) -> Vec<f32> {
        assert_eq!(x.len(), n * self.cols, "qmatmul: input length");
        let rows = self.rows;
        let mut y = vec![0f32; n * rows];
        let tiles = rows.div_ceil(TILE_ROWS);
        let out = SendPtr(y.as_mut_ptr());
        let job = |t: usize| {
            let r0 = t * TILE_ROWS;
            let r1 = (r0 + TILE_ROWS).min(rows);
            SCRATCH.with_borrow_mut(|w| {
                // Every element is overwritten by `dequantize`: the buffer is reused, never re-zeroed.
                w.resize(w.len().max((r1 - r0) * self.cols), 0.0);
                let w = &mut w[..(r1 - r0) * self.cols];
                dequantize(self.ty, self.row_data(r0, r1), w);
                // SAFETY: tile `t` writes only columns r0..r1 of `y` (disjoint across tiles); `w` is
                // [r1-r0, cols] row-major, read as the [cols, r1-r0] right-hand side; `x` is [n, cols].
                unsafe {
                    let dst = out.get().add(r0);
                    gemm::gemm(
                        n,
                        r1 - r0,
                        self.cols,
                        dst,
                        1,
                        rows as isize,
                        false,
                        x.as_ptr(),
                        1,
                        self.cols as isize,
                        w.as_ptr(),
                        self.cols as isize,
                        1,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            });
        };
        par_for(tiles, job);
        y
    }
}

thread_local! {
    /// Each worker thread's unpacked weight tile and its outputs, reused across products.
    static TILE_SCRATCH: std::cell::RefCell<(Tile, Vec<f32>)> = std::cell::RefCell::new(Default::default());
    /// Each worker thread's tile buffer, reused across products (no allocation or zeroing per tile).
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Threads the quantised products run on ([`crate::pool`]: every core natively, one in a wasm worker
/// built without threads).
pub fn threads() -> usize {
    crate::pool::global().threads()
}

fn par_for(n: usize, f: impl Fn(usize) + Send + Sync) {
    crate::pool::global().run(n, &f);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(v: Vec<u8>) -> Blob {
        Arc::new(v)
    }

    /// A Q8_0 matrix built by hand: each block is an f16 scale then 32 int8 values.
    fn q8_matrix(rows: usize, cols: usize) -> (QuantMatrix, Vec<f32>) {
        let mut bytes = vec![0u8; 3]; // a non-zero offset
        let mut dense = Vec::new();
        for r in 0..rows {
            for b in 0..cols / 32 {
                let d = 0.01 * (1 + (r + b) % 5) as f32;
                bytes.extend(half::f16::from_f32(d).to_le_bytes());
                let d = half::f16::from_f32(d).to_f32();
                for i in 0..32 {
                    let q = ((r * 31 + b * 7 + i * 13) % 255) as i32 - 127;
                    bytes.push(q as i8 as u8);
                    dense.push(d * q as f32);
                }
            }
        }
        (
            QuantMatrix::new(blob(bytes), 3, GgmlType::Q8_0, rows, cols).unwrap(),
            dense,
        )
    }

    #[test]
    fn matmul_equals_dense_product() {
        let (rows, cols) = (150, 64);
        let (q, w) = q8_matrix(rows, cols);
        for n in [1, 3, 7] {
            let x: Vec<f32> = (0..n * cols)
                .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
                .collect();
            let y = q.matmul(&x, n);
            for i in 0..n {
                for r in 0..rows {
                    let want: f32 = (0..cols).map(|k| x[i * cols + k] * w[r * cols + k]).sum();
                    assert!((y[i * rows + r] - want).abs() < 1e-4, "n={n} ({i},{r})");
                }
            }
        }
        assert_eq!(
            q.rows_f32(&[149, 0]),
            [&w[149 * cols..], &w[..cols]].concat()
        );
    }

    #[test]
    fn rejects_out_of_bounds_and_partial_blocks() {
        assert!(QuantMatrix::new(blob(vec![0; 33]), 0, GgmlType::Q8_0, 1, 32).is_none());
        assert!(QuantMatrix::new(blob(vec![0; 340]), 0, GgmlType::Q8_0, 1, 31).is_none());
        assert!(QuantMatrix::new(blob(vec![0; 34]), 0, GgmlType::Q8_0, 1, 32).is_some());
    }

    /// The 8-bit-activation product stays within the quantisation bound of the exact one: each output
    /// moves by at most Σ_k |w_k| · d_k / 2 (d_k: the activation step of element k's block), on every
    /// kernel this machine has, with one row (block by block) and with many (tiles of eight rows, where
    /// the instruction set has the kernel), and with a partial last tile (70 rows).
    #[test]
    fn q8_product_is_within_the_activation_rounding_bound() {
        let (rows, cols) = (70, 96);
        let (q, w) = q8_matrix(rows, cols);
        let q = q.with_q8(true);
        assert!(q.q8());
        for n in [1, 5, 20] {
            let x: Vec<f32> = (0..n * cols)
                .map(|i| ((i * 53 % 29) as f32 - 14.0) / 3.0)
                .collect();
            let exact = q.matmul_exact(&x, n);
            if n <= q8_max_rows(GgmlType::Q8_0) {
                assert_eq!(q.matmul(&x, n), q.matmul_q8(&x, n, dot::active()));
            }
            for isa in dot::ALL {
                if !isa.available() {
                    continue;
                }
                let y = q.matmul_q8(&x, n, isa);
                for i in 0..n {
                    let xi = &x[i * cols..(i + 1) * cols];
                    let step: Vec<f32> = xi
                        .chunks(32)
                        .map(|b| b.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0)
                        .collect();
                    for r in 0..rows {
                        let bound: f32 = (0..cols)
                            .map(|k| w[r * cols + k].abs() * step[k / 32] / 2.0)
                            .sum();
                        let err = (y[i * rows + r] - exact[i * rows + r]).abs();
                        assert!(
                            err <= bound * 1.001 + 1e-5,
                            "{isa:?} n={n} ({i},{r}): {err} > {bound}"
                        );
                    }
                }
            }
        }
        // Past the threshold the exact path runs.
        let n = q8_max_rows(GgmlType::Q8_0) + 1;
        let x = vec![0.5f32; n * cols];
        assert_eq!(q.matmul(&x, n), q.matmul_exact(&x, n));
        // Float matrices have no integer kernel: the flag is ignored.
        let f = QuantMatrix::new(blob(vec![0; 4 * 32]), 0, GgmlType::F32, 1, 32).unwrap();
        assert!(!f.with_q8(true).q8());
    }
}
