//! Exact dequantisation of ggml blocks to f32 (ggml-quants.c: `dequantize_row_q4_0`, `_q4_1`, `_q5_0`,
//! `_q8_0`, `_q4_K`, `_q6_K`): the oracle of the integer-dot kernels.

use super::GgmlType;
use half::f16;

#[inline(always)]
pub(crate) fn h(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// Dequantise `data` (a whole number of blocks of `ty`) into `out` (one f32 per element).
/// Panics only if the caller passes mismatched lengths; [`crate::gguf`] checks them first.
pub fn dequantize(ty: GgmlType, data: &[u8], out: &mut [f32]) {
    let (be, bb) = ty.block();
    assert_eq!(
        data.len() / bb * be,
        out.len(),
        "dequantize: length mismatch"
    );
    match ty {
        GgmlType::F32 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        GgmlType::F16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = f16::from_le_bytes([c[0], c[1]]).to_f32();
            }
        }
        GgmlType::BF16 => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact(2)) {
                *o = f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16);
            }
        }
        _ => {
            for (b, y) in data.chunks_exact(bb).zip(out.chunks_exact_mut(be)) {
                dequantize_block(ty, b, y);
            }
        }
    }
}

/// Dequantise one block.
pub fn dequantize_block(ty: GgmlType, b: &[u8], y: &mut [f32]) {
    match ty {
        GgmlType::Q4_0 => {
            let d = h(b, 0);
            let qs: &[u8; 16] = b[2..18].try_into().expect("block size");
            let y: &mut [f32; 32] = (&mut y[..32]).try_into().expect("block size");
            for j in 0..16 {
                y[j] = ((qs[j] & 0x0F) as i32 - 8) as f32 * d;
                y[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
            }
        }
        GgmlType::Q4_1 => {
            let (d, m) = (h(b, 0), h(b, 2));
            let qs: &[u8; 16] = b[4..20].try_into().expect("block size");
            let y: &mut [f32; 32] = (&mut y[..32]).try_into().expect("block size");
            for j in 0..16 {
                y[j] = (qs[j] & 0x0F) as f32 * d + m;
                y[j + 16] = (qs[j] >> 4) as f32 * d + m;
            }
        }
        GgmlType::Q5_0 => {
            let d = h(b, 0);
            let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
            let qs: &[u8; 16] = b[6..22].try_into().expect("block size");
            let y: &mut [f32; 32] = (&mut y[..32]).try_into().expect("block size");
            for j in 0..16 {
                let xh0 = (((qh >> j) << 4) & 0x10) as u8;
                let xh1 = ((qh >> (j + 12)) & 0x10) as u8;
                y[j] = (((qs[j] & 0x0F) | xh0) as i32 - 16) as f32 * d;
                y[j + 16] = (((qs[j] >> 4) | xh1) as i32 - 16) as f32 * d;
            }
        }
        GgmlType::Q8_0 => {
            let d = h(b, 0);
            let qs: &[u8; 32] = b[2..34].try_into().expect("block size");
            for (y, &q) in y[..32].iter_mut().zip(qs) {
                *y = q as i8 as f32 * d;
            }
        }
        GgmlType::Q4K => {
            let (d, dmin) = (h(b, 0), h(b, 2));
            let scales = &b[4..16];
            for (i, (q, y)) in b[16..144]
                .chunks_exact(32)
                .zip(y[..256].chunks_exact_mut(64))
                .enumerate()
            {
                let (sc1, m1) = scale_min_k4(2 * i, scales);
                let (sc2, m2) = scale_min_k4(2 * i + 1, scales);
                let (d1, mm1) = (d * sc1 as f32, dmin * m1 as f32);
                let (d2, mm2) = (d * sc2 as f32, dmin * m2 as f32);
                let q: &[u8; 32] = q.try_into().expect("block size");
                let (lo, hi) = y.split_at_mut(32);
                for l in 0..32 {
                    lo[l] = d1 * (q[l] & 0x0F) as f32 - mm1;
                    hi[l] = d2 * (q[l] >> 4) as f32 - mm2;
                }
            }
        }
        GgmlType::Q6K => {
            let d = h(b, 208);
            for n in 0..2 {
                let ql: &[u8; 64] = b[n * 64..n * 64 + 64].try_into().expect("block size");
                let qh: &[u8; 32] = b[128 + n * 32..160 + n * 32]
                    .try_into()
                    .expect("block size");
                let sc: &[u8; 8] = b[192 + n * 8..200 + n * 8].try_into().expect("block size");
                let y: &mut [f32; 128] = (&mut y[n * 128..n * 128 + 128])
                    .try_into()
                    .expect("block size");
                for l in 0..32 {
                    let is = l / 16;
                    let q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) as i32 - 32;
                    let q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
                    let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
                    let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
                    y[l] = d * (sc[is] as i8) as f32 * q1 as f32;
                    y[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
                    y[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
                    y[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
                }
            }
        }
        GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => dequantize(ty, b, y),
    }
}

/// The 6-bit scale and min of sub-block `j` of a Q4_K block (ggml's `get_scale_min_k4`).
#[inline]
pub(crate) fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GgmlType;

    #[test]
    fn q4_0_by_hand() {
        // d = 1.0 (f16 0x3C00), nibbles: low = 9 (-> 1), high = 0 (-> -8)
        let mut b = vec![0x00, 0x3C];
        b.extend([0x09u8; 16]);
        let mut y = [0f32; 32];
        dequantize_block(GgmlType::Q4_0, &b, &mut y);
        assert!(y[..16].iter().all(|&v| v == 1.0) && y[16..].iter().all(|&v| v == -8.0));
    }

    #[test]
    fn bf16_is_the_top_half_of_f32() {
        let mut y = [0f32; 2];
        // 1.0 = 0x3F80_0000, -2.5 = 0xC020_0000
        dequantize(GgmlType::BF16, &[0x80, 0x3F, 0x20, 0xC0], &mut y);
        assert_eq!(y, [1.0, -2.5]);
    }

    #[test]
    fn q8_0_by_hand() {
        let mut b = vec![0x00, 0x38]; // d = 0.5
        b.extend((0..32).map(|i| (i as i8 - 16) as u8));
        let mut y = [0f32; 32];
        dequantize_block(GgmlType::Q8_0, &b, &mut y);
        assert_eq!(y[0], -8.0);
        assert_eq!(y[31], 7.5);
    }
}
