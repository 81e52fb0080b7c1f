//! Portable integer dot products of one weight row (ggml blocks) with one quantised activation row
//! ([`Q8Row`]): per block an exact integer sum, then one float multiply-add, as ggml's
//! `ggml_vec_dot_*_q8_*` generic versions. The oracle of the SIMD kernels, and the kernel wherever no
//! SIMD one exists.

use super::dequant::{h, scale_min_k4};
use super::q8::Q8Row;
use super::GgmlType;

/// `Σ_k w[k] · x[k]` for a weight row `w` (whole blocks of `ty`) and the activations `x`.
pub fn vec_dot(ty: GgmlType, w: &[u8], x: Q8Row<'_>) -> f32 {
    match ty {
        GgmlType::Q4_0 => q4_0(w, x),
        GgmlType::Q4_1 => q4_1(w, x),
        GgmlType::Q5_0 => q5_0(w, x),
        GgmlType::Q8_0 => q8_0(w, x),
        GgmlType::Q4K => q4_k(w, x),
        GgmlType::Q6K => q6_k(w, x),
        GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => {
            unreachable!("vec_dot: {} is not a block format", ty.name())
        }
    }
}

/// `Σ a[i]·b[i]` of two i8 slices, in i32.
#[inline(always)]
fn idot(a: impl Iterator<Item = i32>, b: &[i8]) -> i32 {
    a.zip(b).map(|(a, &b)| a * b as i32).sum()
}

fn q4_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    let mut acc = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(18).zip(x.qs.chunks_exact(32)).enumerate() {
        let qs = &wb[2..18];
        let lo = idot(qs.iter().map(|&q| (q & 0x0F) as i32 - 8), &xq[..16]);
        let hi = idot(qs.iter().map(|&q| (q >> 4) as i32 - 8), &xq[16..]);
        acc += h(wb, 0) * x.d[b] * (lo + hi) as f32;
    }
    acc
}

fn q4_1(w: &[u8], x: Q8Row<'_>) -> f32 {
    let mut acc = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(20).zip(x.qs.chunks_exact(32)).enumerate() {
        let qs = &wb[4..20];
        let lo = idot(qs.iter().map(|&q| (q & 0x0F) as i32), &xq[..16]);
        let hi = idot(qs.iter().map(|&q| (q >> 4) as i32), &xq[16..]);
        let xsum = (x.sums[2 * b] + x.sums[2 * b + 1]) as f32;
        acc += x.d[b] * (h(wb, 0) * (lo + hi) as f32 + h(wb, 2) * xsum);
    }
    acc
}

fn q5_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    let mut acc = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(22).zip(x.qs.chunks_exact(32)).enumerate() {
        let qh = u32::from_le_bytes([wb[2], wb[3], wb[4], wb[5]]);
        let qs = &wb[6..22];
        let lo = idot(
            (0..16).map(|j| ((qs[j] & 0x0F) | ((((qh >> j) << 4) & 0x10) as u8)) as i32 - 16),
            &xq[..16],
        );
        let hi = idot(
            (0..16).map(|j| ((qs[j] >> 4) | (((qh >> (j + 12)) & 0x10) as u8)) as i32 - 16),
            &xq[16..],
        );
        acc += h(wb, 0) * x.d[b] * (lo + hi) as f32;
    }
    acc
}

fn q8_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    let mut acc = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(34).zip(x.qs.chunks_exact(32)).enumerate() {
        let s = idot(wb[2..34].iter().map(|&q| q as i8 as i32), xq);
        acc += h(wb, 0) * x.d[b] * s as f32;
    }
    acc
}

fn q4_k(w: &[u8], x: Q8Row<'_>) -> f32 {
    let mut acc = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(144).zip(x.qs.chunks_exact(256)).enumerate() {
        let (d, dmin) = (h(wb, 0), h(wb, 2));
        let scales = &wb[4..16];
        for (i, (q, xq)) in wb[16..144]
            .chunks_exact(32)
            .zip(xq.chunks_exact(64))
            .enumerate()
        {
            // Sub-blocks 2i (low nibbles) and 2i+1 (high), each one activation block of 32.
            for (j, (shift, xq)) in [(0, &xq[..32]), (4, &xq[32..])].into_iter().enumerate() {
                let s = 2 * i + j;
                let (sc, m) = scale_min_k4(s, scales);
                let dot = idot(q.iter().map(|&v| ((v >> shift) & 0x0F) as i32), xq);
                let xsum = x.sums[b * 16 + 2 * s] + x.sums[b * 16 + 2 * s + 1];
                let xd = x.d[b * 8 + s];
                acc += xd * (d * (sc as i32 * dot) as f32 - dmin * (m as i32 * xsum) as f32);
            }
        }
    }
    acc
}

fn q6_k(w: &[u8], x: Q8Row<'_>) -> f32 {
    let mut acc = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(210).zip(x.qs.chunks_exact(256)).enumerate() {
        let d = h(wb, 208);
        for n in 0..2 {
            let ql = &wb[n * 64..n * 64 + 64];
            let qh = &wb[128 + n * 32..160 + n * 32];
            let sc = &wb[192 + n * 8..200 + n * 8];
            let xq = &xq[n * 128..n * 128 + 128];
            // Four runs of 32 values (one activation block each); each run's halves of 16 have their
            // own scale.
            for r in 0..4 {
                let mut sum = 0i32;
                for half in 0..2 {
                    let mut s = 0i32;
                    for l in half * 16..half * 16 + 16 {
                        let low = if r < 2 {
                            ql[l + 32 * r] & 0x0F
                        } else {
                            ql[l + 32 * (r - 2)] >> 4
                        };
                        let q = (low | (((qh[l] >> (2 * r)) & 3) << 4)) as i32 - 32;
                        s += q * xq[32 * r + l] as i32;
                    }
                    sum += (sc[2 * r + half] as i8) as i32 * s;
                }
                acc += d * x.d[b * 8 + n * 4 + r] * sum as f32;
            }
        }
    }
    acc
}
