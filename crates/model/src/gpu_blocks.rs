//! Quantised weights on the GPU (Burn's wgpu backend: WebGPU in the browser, Vulkan/Metal natively):
//! each weight matrix stays in its blocks, re-packed by [`bedside_quant::device_blocks`] into 32-bit
//! words, and a cubecl kernel dequantises them as it multiplies. The f32 path uploads 4 bytes a
//! parameter; this one about the file's size (see [`gpu_bytes`]).
//!
//! The kernel's CPU reference twin is [`DeviceBlocks::matmul`] (same sums, same order); the test
//! `tests/wgpu_agreement.rs` checks one against the other on every format, and the whole model against
//! the CPU path.
//!
//! Two kernels, the same sums (`d * Σ q·x + m * Σ x` per 32-bit word of quants, words in order):
//! - one row of `x` (decoding, a position's logits): [`qmatmul`], a workgroup of [`WG`] threads per
//!   output element, striding over the row's words (neighbouring threads read neighbouring words),
//!   partial sums added by a tree reduction in shared memory;
//! - many rows (prefill): [`qmatmul_tile`], a thread per output row and tile of [`TILE`] rows of `x`,
//!   decoding each weight word once for the whole tile.
//!
//! Speed on a real GPU is not measured yet (no GPU here: llvmpipe and SwiftShader run them on the CPU). Large matrices (an embedding used as the
//! output projection) are split by rows into buffers of at most [`MAX_BUFFER`] bytes, the smallest
//! storage-buffer binding WebGPU guarantees.

use crate::layers::DeviceMatmul;
use bedside_quant::device_blocks::{Bits, DeviceBlocks};
use bedside_quant::GgmlType;
use burn::backend::wgpu::{CubeTensor, WgpuDevice, WgpuRuntime};
use burn::backend::Wgpu;
use burn::tensor::{DType, Shape, Tensor, TensorPrimitive};
use cubecl::prelude::*;
use cubecl::server::Handle;
use std::sync::Arc;

/// Threads per workgroup (a power of two; WebGPU allows 256).
pub const WG: u32 = 64;

/// The largest buffer one part of a matrix takes: WebGPU's guaranteed `maxStorageBufferBindingSize`.
pub const MAX_BUFFER: usize = 128 << 20;

/// `y[i, o] = Σ_c x[i, c] * (d[g] * q[o, c] + m[g])`, one workgroup per `(i, o)`.
#[cube(launch)]
fn qmatmul(
    x: &Array<f32>,
    q: &Array<u32>,
    d: &Array<f32>,
    m: &Array<f32>,
    y: &mut Array<f32>,
    n: u32,
    k: u32,
    rows: u32,
    #[comptime] eight: bool,
    #[comptime] offset: u32,
    #[comptime] group: u32,
    #[comptime] has_min: bool,
) {
    let rows_u = rows as usize;
    let cube = CUBE_POS;
    if cube >= n as usize * rows_u {
        terminate!();
    }
    let i = cube / rows_u;
    let o = cube % rows_u;
    let t = UNIT_POS as usize;
    let per = comptime!(if eight { 4u32 } else { 8u32 });
    let bits = comptime!(if eight { 8u32 } else { 4u32 });
    let mask = comptime!(if eight { 255u32 } else { 15u32 });
    let words = k as usize / per as usize;
    let q_row = o * words;
    let x_row = i * k as usize;
    let g_row = o * (k as usize / group as usize);
    let mut acc = 0.0f32;
    let mut w = t;
    while w < words {
        let word = q[q_row + w];
        let c0 = w * per as usize;
        let g = g_row + c0 / group as usize;
        let mut sq = 0.0f32;
        let mut sx = 0.0f32;
        #[unroll]
        for j in 0..per {
            let v = (word >> (j * bits)) & mask;
            let qf = if eight {
                f32::cast_from(v ^ 128u32) - 128.0f32
            } else {
                f32::cast_from(v) - f32::cast_from(offset)
            };
            let xv = x[x_row + c0 + j as usize];
            sq += qf * xv;
            if has_min {
                sx += xv;
            }
        }
        acc += d[g] * sq;
        if has_min {
            acc += m[g] * sx;
        }
        w += CUBE_DIM_X as usize;
    }
    let mut sm = SharedMemory::<f32>::new(64usize);
    sm[t] = acc;
    sync_cube();
    let mut s = CUBE_DIM_X as usize / 2;
    while s > 0 {
        if t < s {
            sm[t] += sm[t + s];
        }
        sync_cube();
        s /= 2;
    }
    if t == 0 {
        y[i * rows_u + o] = sm[0];
    }
}

/// Rows of `x` one thread of [`qmatmul_tile`] multiplies with its weight row.
pub const TILE: usize = 4;

/// The same product for many rows of `x` (prefill): one thread per `(tile of TILE rows of x, o)`, each
/// decoding its weight row once for the tile's rows; no shared memory, no barriers. Workgroups of [`WG`]
/// consecutive `o` over `CUBE_POS_X`, tiles over `CUBE_POS_Y`.
#[cube(launch)]
fn qmatmul_tile(
    x: &Array<f32>,
    q: &Array<u32>,
    d: &Array<f32>,
    m: &Array<f32>,
    y: &mut Array<f32>,
    n: u32,
    k: u32,
    rows: u32,
    #[comptime] eight: bool,
    #[comptime] offset: u32,
    #[comptime] group: u32,
    #[comptime] has_min: bool,
) {
    let o = CUBE_POS_X as usize * CUBE_DIM_X as usize + UNIT_POS_X as usize;
    if o >= rows as usize {
        terminate!();
    }
    let i0 = CUBE_POS_Y as usize * 4usize;
    let last = n as usize - 1;
    // Rows past the end read the last row (and are not written).
    let r0 = min(i0, last) * k as usize;
    let r1 = min(i0 + 1, last) * k as usize;
    let r2 = min(i0 + 2, last) * k as usize;
    let r3 = min(i0 + 3, last) * k as usize;
    let per = comptime!(if eight { 4u32 } else { 8u32 });
    let bits = comptime!(if eight { 8u32 } else { 4u32 });
    let mask = comptime!(if eight { 255u32 } else { 15u32 });
    let words = k as usize / per as usize;
    let q_row = o * words;
    let g_row = o * (k as usize / group as usize);
    let mut a0 = 0.0f32;
    let mut a1 = 0.0f32;
    let mut a2 = 0.0f32;
    let mut a3 = 0.0f32;
    for w in 0..words {
        let word = q[q_row + w];
        let c0 = w * per as usize;
        let g = g_row + c0 / group as usize;
        let mut s0 = 0.0f32;
        let mut s1 = 0.0f32;
        let mut s2 = 0.0f32;
        let mut s3 = 0.0f32;
        let mut x0 = 0.0f32;
        let mut x1 = 0.0f32;
        let mut x2 = 0.0f32;
        let mut x3 = 0.0f32;
        #[unroll]
        for j in 0..per {
            let v = (word >> (j * bits)) & mask;
            let qf = if eight {
                f32::cast_from(v ^ 128u32) - 128.0f32
            } else {
                f32::cast_from(v) - f32::cast_from(offset)
            };
            let c = c0 + j as usize;
            let v0 = x[r0 + c];
            let v1 = x[r1 + c];
            let v2 = x[r2 + c];
            let v3 = x[r3 + c];
            s0 += qf * v0;
            s1 += qf * v1;
            s2 += qf * v2;
            s3 += qf * v3;
            if has_min {
                x0 += v0;
                x1 += v1;
                x2 += v2;
                x3 += v3;
            }
        }
        let dg = d[g];
        a0 += dg * s0;
        a1 += dg * s1;
        a2 += dg * s2;
        a3 += dg * s3;
        if has_min {
            let mg = m[g];
            a0 += mg * x0;
            a1 += mg * x1;
            a2 += mg * x2;
            a3 += mg * x3;
        }
    }
    let rows_u = rows as usize;
    let nu = n as usize;
    y[i0 * rows_u + o] = a0;
    if i0 + 1 < nu {
        y[(i0 + 1) * rows_u + o] = a1;
    }
    if i0 + 2 < nu {
        y[(i0 + 2) * rows_u + o] = a2;
    }
    if i0 + 3 < nu {
        y[(i0 + 3) * rows_u + o] = a3;
    }
}

/// One part of a matrix on the GPU: consecutive rows in the [`DeviceBlocks`] layout.
struct Part {
    rows: usize,
    q: (Handle, usize),
    d: (Handle, usize),
    m: Option<(Handle, usize)>,
}

/// A `[rows, cols]` weight matrix held in its blocks on the GPU.
pub struct GpuBlocks {
    rows: usize,
    cols: usize,
    eight: bool,
    offset: u32,
    group: u32,
    parts: Vec<Part>,
    /// Bound where a format has no mins (a binding cannot be left out, nor bound twice).
    dummy: Handle,
    bytes: usize,
}

impl std::fmt::Debug for GpuBlocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GpuBlocks([{}, {}], {} parts, {} bytes)",
            self.rows,
            self.cols,
            self.parts.len(),
            self.bytes
        )
    }
}

impl GpuBlocks {
    /// Upload `data` (`rows * cols` elements of `ty` in whole blocks) to `device`; `None` for a type
    /// with no GPU layout (the float types go to the GPU as f32).
    pub fn upload(
        ty: GgmlType,
        data: &[u8],
        rows: usize,
        cols: usize,
        device: &WgpuDevice,
    ) -> Option<GpuBlocks> {
        Self::upload_in_parts(ty, data, rows, cols, MAX_BUFFER, device)
    }

    /// [`upload`](Self::upload) with parts of at most `max_buffer` bytes each (at least one row).
    pub fn upload_in_parts(
        ty: GgmlType,
        data: &[u8],
        rows: usize,
        cols: usize,
        max_buffer: usize,
        device: &WgpuDevice,
    ) -> Option<GpuBlocks> {
        let row_bytes = ty.bytes_for(cols)?;
        let probe = DeviceBlocks::new(ty, data.get(..row_bytes)?, 1, cols)?;
        if data.len() != row_bytes * rows {
            return None;
        }
        // Rows per part: the largest of the three arrays stays under MAX_BUFFER.
        let per_row = 4 * probe.quants.len().max(probe.scales.len());
        let chunk = (max_buffer / per_row).max(1);
        let client = WgpuRuntime::client(device);
        let mut parts = Vec::new();
        let mut bytes = 0;
        for r0 in (0..rows).step_by(chunk) {
            let r1 = (r0 + chunk).min(rows);
            let b = DeviceBlocks::new(ty, &data[r0 * row_bytes..r1 * row_bytes], r1 - r0, cols)?;
            bytes += b.bytes();
            let up_u = |v: Vec<u32>| {
                let n = v.len();
                (client.create(cubecl::bytes::Bytes::from_elems(v)), n)
            };
            let up_f = |v: Vec<f32>| {
                let n = v.len();
                (client.create(cubecl::bytes::Bytes::from_elems(v)), n)
            };
            let m = (!b.mins.is_empty()).then(|| up_f(b.mins));
            parts.push(Part {
                rows: r1 - r0,
                q: up_u(b.quants),
                d: up_f(b.scales),
                m,
            });
        }
        Some(GpuBlocks {
            rows,
            cols,
            eight: probe.bits == Bits::Eight,
            offset: probe.offset as u32,
            group: probe.group as u32,
            parts,
            dummy: client.create(cubecl::bytes::Bytes::from_elems(vec![0f32])),
            bytes,
        })
    }

    /// Parts the matrix was split into.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    fn part_matmul(&self, p: &Part, x: &CubeTensor<WgpuRuntime>, n: usize) -> Tensor<Wgpu, 2> {
        let client = x.client.clone();
        let y = CubeTensor::new_contiguous(
            client.clone(),
            x.device.clone(),
            Shape::new([n, p.rows]),
            client.empty(n * p.rows * 4),
            DType::F32,
        );
        if n == 0 || p.rows == 0 {
            return Tensor::from_primitive(TensorPrimitive::Float(y));
        }
        let (m, m_len) = match &p.m {
            Some((h, l)) => (h.clone(), *l),
            None => (self.dummy.clone(), 1),
        };
        // Both kernels take the same arguments; only the grid differs.
        // Safety: every length is the length of the buffer it describes.
        macro_rules! launch {
            ($kernel:ident, $cx:expr, $cy:expr) => {
                unsafe {
                    $kernel::launch::<WgpuRuntime>(
                        &client,
                        CubeCount::Static($cx, $cy, 1),
                        CubeDim::new_1d(WG),
                        x.clone().into_array_arg(),
                        ArrayArg::from_raw_parts(p.q.0.clone(), p.q.1),
                        ArrayArg::from_raw_parts(p.d.0.clone(), p.d.1),
                        ArrayArg::from_raw_parts(m, m_len),
                        y.clone().into_array_arg(),
                        n as u32,
                        self.cols as u32,
                        p.rows as u32,
                        self.eight,
                        self.offset,
                        self.group,
                        p.m.is_some(),
                    )
                }
            };
        }
        if n == 1 {
            // Decoding, and the logits of one position: a workgroup per output, threads reading
            // neighbouring words of the row.
            let cubes = p.rows as u32;
            let cx = cubes.min(65_535);
            launch!(qmatmul, cx, cubes.div_ceil(cx));
        } else {
            launch!(
                qmatmul_tile,
                (p.rows as u32).div_ceil(WG),
                n.div_ceil(TILE) as u32
            );
        }
        Tensor::from_primitive(TensorPrimitive::Float(y))
    }
}

impl DeviceMatmul<Wgpu> for GpuBlocks {
    fn matmul(&self, x: Tensor<Wgpu, 2>) -> Tensor<Wgpu, 2> {
        let [n, k] = x.dims();
        assert_eq!(
            k, self.cols,
            "GpuBlocks: x has {k} columns, the matrix {}",
            self.cols
        );
        let x = burn_cubecl::kernel::into_contiguous(x.into_primitive().tensor());
        let mut ys: Vec<Tensor<Wgpu, 2>> = self
            .parts
            .iter()
            .map(|p| self.part_matmul(p, &x, n))
            .collect();
        if ys.len() == 1 {
            ys.pop().expect("one part")
        } else {
            Tensor::cat(ys, 1)
        }
    }

    fn bytes(&self) -> usize {
        self.bytes
    }
}

/// [`crate::layers::Loader`]'s hook ([`crate::layers::Upload`]): a quantised matrix in its blocks.
pub fn upload(
    ty: GgmlType,
    data: &[u8],
    rows: usize,
    cols: usize,
    device: &WgpuDevice,
) -> std::result::Result<Option<Arc<dyn DeviceMatmul<Wgpu>>>, String> {
    if matches!(ty, GgmlType::F32 | GgmlType::F16 | GgmlType::BF16) {
        return Ok(None);
    }
    GpuBlocks::upload(ty, data, rows, cols, device)
        .map(|g| Some(Arc::new(g) as Arc<dyn DeviceMatmul<Wgpu>>))
        .ok_or_else(|| {
            format!(
                "{} [{rows}, {cols}] cannot be laid out for the GPU (its rows are not whole blocks of 32)",
                ty.name()
            )
        })
}
