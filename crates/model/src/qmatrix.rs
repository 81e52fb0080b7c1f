//! A weight matrix kept in its GGUF block format in memory (the quantised path): no f32 copy of the
//! weights is ever made. A product `x W^T` dequantises a tile of rows at a time into a small scratch
//! buffer and multiplies it with `gemm`; tiles run in parallel with rayon. Dequantisation is exact
//! ([`crate::quant`]), so the result differs from the f32 path only by summation order.

use crate::quant::{dequantize, GgmlType};
use std::fmt;
use std::sync::Arc;

/// The bytes of a model file, shared by every quantised matrix that points into it (a `Vec<u8>` read
/// from disk or received by the browser worker, or a memory map).
pub type Blob = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Output rows dequantised per tile. 64 rows of a 576..2048-wide matrix is 150..520 KiB of scratch.
const TILE_ROWS: usize = 64;

/// A `[rows, cols]` matrix stored as `rows` rows of ggml blocks inside a [`Blob`].
#[derive(Clone)]
pub struct QuantMatrix {
    blob: Blob,
    offset: usize,
    pub ty: GgmlType,
    pub rows: usize,
    pub cols: usize,
    row_bytes: usize,
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
        })
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
    /// Each worker thread's tile buffer, reused across products (no allocation or zeroing per tile).
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}
impl SendPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}

fn par_for(n: usize, f: impl Fn(usize) + Send + Sync) {
    use rayon::prelude::*;
    (0..n).into_par_iter().for_each(f);
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
}
