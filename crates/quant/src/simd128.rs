//! wasm32 `simd128` integer dot products: the weight bits are unpacked to signed bytes 16 at a time,
//! widened to i16 and multiplied in pairs with `i32x4.dot_i16x8_s` (plain simd128 has no 8-bit dot
//! product; relaxed-simd's `i32x4.relaxed_dot_i8x16_i7x16_add_s` would need a second build, as a module
//! cannot test for it at run time). Checked against [`super::scalar`] by `dot::tests`, run under Node's
//! WASI by `scripts/test.sh`.

use super::dequant::{h, scale_min_k4};
use super::q8::Q8Row;
use super::GgmlType;
use core::arch::wasm32::*;

pub fn vec_dot(ty: GgmlType, w: &[u8], x: Q8Row<'_>) -> f32 {
    match ty {
        GgmlType::Q4_0 => q4_0(w, x),
        GgmlType::Q4_1 => q4_1(w, x),
        GgmlType::Q5_0 => q5_0(w, x),
        GgmlType::Q8_0 => q8_0(w, x),
        GgmlType::Q4K => q4_k(w, x),
        GgmlType::Q6K => q6_k(w, x),
        _ => super::scalar::vec_dot(ty, w, x),
    }
}

#[inline(always)]
fn ld(s: &[u8], at: usize) -> v128 {
    let s = &s[at..at + 16];
    // SAFETY: `s` has 16 bytes; v128_load has no alignment requirement.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

#[inline(always)]
fn ldi(s: &[i8], at: usize) -> v128 {
    let s = &s[at..at + 16];
    // SAFETY: as `ld`.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// Four i32 partial sums of `a · b` over 16 signed bytes.
#[inline(always)]
fn dot16(a: v128, b: v128) -> v128 {
    let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(a), i16x8_extend_low_i8x16(b));
    let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(a), i16x8_extend_high_i8x16(b));
    i32x4_add(lo, hi)
}

#[inline(always)]
fn hsum_f32(v: v128) -> f32 {
    f32x4_extract_lane::<0>(v)
        + f32x4_extract_lane::<1>(v)
        + f32x4_extract_lane::<2>(v)
        + f32x4_extract_lane::<3>(v)
}

#[inline(always)]
fn fma(acc: v128, d: f32, s: v128) -> v128 {
    f32x4_add(acc, f32x4_mul(f32x4_splat(d), f32x4_convert_i32x4(s)))
}

fn q4_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    let (m4, eight) = (u8x16_splat(0x0F), i8x16_splat(8));
    let mut acc = f32x4_splat(0.0);
    for (b, (wb, xq)) in w.chunks_exact(18).zip(x.qs.chunks_exact(32)).enumerate() {
        let v = ld(wb, 2);
        let lo = i8x16_sub(v128_and(v, m4), eight);
        let hi = i8x16_sub(u8x16_shr(v, 4), eight);
        let s = i32x4_add(dot16(lo, ldi(xq, 0)), dot16(hi, ldi(xq, 16)));
        acc = fma(acc, h(wb, 0) * x.d[b], s);
    }
    hsum_f32(acc)
}

fn q4_1(w: &[u8], x: Q8Row<'_>) -> f32 {
    let m4 = u8x16_splat(0x0F);
    let mut acc = f32x4_splat(0.0);
    let mut offs = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(20).zip(x.qs.chunks_exact(32)).enumerate() {
        let v = ld(wb, 4);
        let s = i32x4_add(
            dot16(v128_and(v, m4), ldi(xq, 0)),
            dot16(u8x16_shr(v, 4), ldi(xq, 16)),
        );
        acc = fma(acc, h(wb, 0) * x.d[b], s);
        offs += h(wb, 2) * x.d[b] * (x.sums[2 * b] + x.sums[2 * b + 1]) as f32;
    }
    hsum_f32(acc) + offs
}

/// 0x00 in byte `j` where bit `j` of the 16 bits `bits` is set, else 0xF0 (OR-ed onto a nibble: minus 16).
#[inline(always)]
fn q5_high(bits: u32) -> v128 {
    let spread = u8x16_swizzle(
        u32x4_splat(bits),
        i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
    );
    let mask = u8x16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
    let set = i8x16_eq(v128_and(spread, mask), mask);
    v128_andnot(u8x16_splat(0xF0), set)
}

fn q5_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    let m4 = u8x16_splat(0x0F);
    let mut acc = f32x4_splat(0.0);
    for (b, (wb, xq)) in w.chunks_exact(22).zip(x.qs.chunks_exact(32)).enumerate() {
        let qh = u32::from_le_bytes([wb[2], wb[3], wb[4], wb[5]]);
        let v = ld(wb, 6);
        let lo = v128_or(v128_and(v, m4), q5_high(qh & 0xFFFF));
        let hi = v128_or(u8x16_shr(v, 4), q5_high(qh >> 16));
        let s = i32x4_add(dot16(lo, ldi(xq, 0)), dot16(hi, ldi(xq, 16)));
        acc = fma(acc, h(wb, 0) * x.d[b], s);
    }
    hsum_f32(acc)
}

fn q8_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    let mut acc = f32x4_splat(0.0);
    for (b, (wb, xq)) in w.chunks_exact(34).zip(x.qs.chunks_exact(32)).enumerate() {
        let s = i32x4_add(dot16(ld(wb, 2), ldi(xq, 0)), dot16(ld(wb, 18), ldi(xq, 16)));
        acc = fma(acc, h(wb, 0) * x.d[b], s);
    }
    hsum_f32(acc)
}

fn q4_k(w: &[u8], x: Q8Row<'_>) -> f32 {
    let m4 = u8x16_splat(0x0F);
    let mut acc = f32x4_splat(0.0);
    let mut mins = 0f32;
    for (b, (wb, xq)) in w.chunks_exact(144).zip(x.qs.chunks_exact(256)).enumerate() {
        let (d, dmin) = (h(wb, 0), h(wb, 2));
        let scales = &wb[4..16];
        for i in 0..4 {
            let (sc1, m1) = scale_min_k4(2 * i, scales);
            let (sc2, m2) = scale_min_k4(2 * i + 1, scales);
            let (s1, s2) = (b * 8 + 2 * i, b * 8 + 2 * i + 1);
            let (xd1, xd2) = (x.d[s1], x.d[s2]);
            mins += dmin
                * (xd1 * (m1 as i32 * (x.sums[2 * s1] + x.sums[2 * s1 + 1])) as f32
                    + xd2 * (m2 as i32 * (x.sums[2 * s2] + x.sums[2 * s2 + 1])) as f32);
            let (v0, v1) = (ld(wb, 16 + 32 * i), ld(wb, 32 + 32 * i));
            let xo = 64 * i;
            let lo = i32x4_add(
                dot16(v128_and(v0, m4), ldi(xq, xo)),
                dot16(v128_and(v1, m4), ldi(xq, xo + 16)),
            );
            let hi = i32x4_add(
                dot16(u8x16_shr(v0, 4), ldi(xq, xo + 32)),
                dot16(u8x16_shr(v1, 4), ldi(xq, xo + 48)),
            );
            acc = fma(acc, d * sc1 as f32 * xd1, lo);
            acc = fma(acc, d * sc2 as f32 * xd2, hi);
        }
    }
    hsum_f32(acc) - mins
}

fn q6_k(w: &[u8], x: Q8Row<'_>) -> f32 {
    let (m4, m2, off) = (u8x16_splat(0x0F), u8x16_splat(3), i8x16_splat(32));
    let mut acc = f32x4_splat(0.0);
    for (b, (wb, xq)) in w.chunks_exact(210).zip(x.qs.chunks_exact(256)).enumerate() {
        let d = h(wb, 208);
        for n in 0..2 {
            let (ql, qh, sc) = (n * 64, 128 + n * 32, &wb[192 + n * 8..200 + n * 8]);
            let mut runs = [i32x4_splat(0); 4];
            for half in 0..2 {
                let l = 16 * half;
                let (a, c, hb) = (ld(wb, ql + l), ld(wb, ql + 32 + l), ld(wb, qh + l));
                let low = [
                    v128_and(a, m4),
                    v128_and(c, m4),
                    u8x16_shr(a, 4),
                    u8x16_shr(c, 4),
                ];
                for (r, low) in low.into_iter().enumerate() {
                    let high = i8x16_shl(v128_and(u8x16_shr(hb, 2 * r as u32), m2), 4);
                    let q = i8x16_sub(v128_or(low, high), off);
                    let s = dot16(q, ldi(xq, n * 128 + 32 * r + l));
                    let s = i32x4_mul(s, i32x4_splat(sc[2 * r + half] as i8 as i32));
                    runs[r] = i32x4_add(runs[r], s);
                }
            }
            for (r, s) in runs.into_iter().enumerate() {
                acc = fma(acc, d * x.d[b * 8 + n * 4 + r], s);
            }
        }
    }
    hsum_f32(acc)
}
