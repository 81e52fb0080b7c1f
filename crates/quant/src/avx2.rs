//! x86-64 AVX2 + FMA integer dot products (the technique of ggml-cpu's `quants.c` AVX2 paths: unpack the
//! weight bits to 32 bytes, `maddubs` unsigned × signed bytes to i16 pairs, `madd` to i32, one f32 FMA per
//! block). Checked against [`super::scalar`] by `dot::tests`.

use super::dequant::scale_min_k4;
use super::q8::{Q8Acts, Q8Row};
use super::tile::{group_sum, Tile, TILE_ROWS};
use super::GgmlType;
use std::arch::x86_64::*;

/// # Safety
/// The CPU must support AVX2, FMA and F16C. Mismatched lengths of `w` and `x` panic (checked once here,
/// before the kernels read with raw pointers).
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn vec_dot(ty: GgmlType, w: &[u8], x: Q8Row<'_>) -> f32 {
    let (be, bb) = ty.block();
    // The kernels read with raw pointers: check the lengths once.
    let n = x.qs.len();
    assert!(
        w.len() % bb == 0
            && w.len() / bb * be == n
            && x.d.len() * super::q8::QK8 == n
            && x.sums.len() * 16 == n,
        "vec_dot: weight and activation lengths differ"
    );
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

/// The f16 at `p`, converted by the F16C unit.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn hp(p: *const u8) -> f32 {
    let v = u16::from_le_bytes([*p, *p.add(1)]);
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(v as i32)))
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn hsum_ps(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// i32 sums of pairs of `u8 × i8` products (`a` unsigned, `b` signed), 8 lanes.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_u8_i8(a: __m256i, b: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1))
}

/// i32 sums of pairs of `i8 × i8` products (sign moved onto `b` so `maddubs` sees |a|).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_i8_i8(a: __m256i, b: __m256i) -> __m256i {
    dot_u8_i8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a))
}

/// 16 bytes of nibbles to 32 bytes: low nibbles first (elements 0..16), then high (16..32).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn nibbles(p: *const u8) -> __m256i {
    let lo = _mm_loadu_si128(p as *const __m128i);
    let hi = _mm_srli_epi16(lo, 4);
    _mm256_and_si256(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(0x0F))
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn load(p: *const i8) -> __m256i {
    _mm256_loadu_si256(p as *const __m256i)
}

/// Q4_0 as unsigned nibbles `u = q + 8` (`maddubs` needs no sign moves then), minus `8 · d · Σ x` per
/// block from the activation sums.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q4_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    offset_blocks::<18>(w, x, |wb| nibbles(wb.add(2)), |wb| -8.0 * hp(wb))
}

/// `Σ_b xd_b · (d_b · Σ u·x + o_b · Σ x)` over blocks of `BYTES` bytes whose f16 scale `d` is first, whose
/// 32 unsigned values `unpack` gives and whose offset per unit of `Σ x` is `offset` (Q4_0: `u = q + 8`,
/// `o = −8d`; Q4_1: the nibbles, `o = m`; Q5_0: `u = q + 16`, `o = −16d`). Two blocks a step, each into
/// its own accumulator.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn offset_blocks<const BYTES: usize>(
    w: &[u8],
    x: Q8Row<'_>,
    unpack: impl Fn(*const u8) -> __m256i,
    offset: impl Fn(*const u8) -> f32,
) -> f32 {
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut offs0, mut offs1) = (0f32, 0f32);
    let (wp, xp, nb) = (w.as_ptr(), x.qs.as_ptr(), x.d.len());
    let (dp, sp) = (x.d.as_ptr(), x.sums.as_ptr());
    let one = |b: usize| {
        let wb = wp.add(BYTES * b);
        let s = dot_u8_i8(unpack(wb), load(xp.add(32 * b)));
        let xd = *dp.add(b);
        let sx = (*sp.add(2 * b) + *sp.add(2 * b + 1)) as f32;
        (
            _mm256_set1_ps(hp(wb) * xd),
            _mm256_cvtepi32_ps(s),
            offset(wb) * xd * sx,
        )
    };
    let mut b = 0;
    while b + 1 < nb {
        let (d0, s0, o0) = one(b);
        let (d1, s1, o1) = one(b + 1);
        acc0 = _mm256_fmadd_ps(d0, s0, acc0);
        acc1 = _mm256_fmadd_ps(d1, s1, acc1);
        offs0 += o0;
        offs1 += o1;
        b += 2;
    }
    if b < nb {
        let (d0, s0, o0) = one(b);
        acc0 = _mm256_fmadd_ps(d0, s0, acc0);
        offs0 += o0;
    }
    hsum_ps(_mm256_add_ps(acc0, acc1)) + offs0 + offs1
}

/// Q4_1 as its unsigned nibbles, plus `m · Σ x` per block.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q4_1(w: &[u8], x: Q8Row<'_>) -> f32 {
    offset_blocks::<20>(w, x, |wb| nibbles(wb.add(4)), |wb| hp(wb.add(2)))
}

/// The 32 fifth bits of a Q5_0 block as bytes: 0x10 where the bit is set, 0 where it is clear (OR-ing
/// that onto a nibble gives the unsigned value `q + 16`).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q5_high(qh: u32) -> __m256i {
    let shuf = _mm256_set_epi64x(
        0x0303030303030303,
        0x0202020202020202,
        0x0101010101010101,
        0x0000000000000000,
    );
    let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(qh as i32), shuf);
    let bit = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    let set = _mm256_cmpeq_epi8(bit, _mm256_set1_epi64x(-1));
    _mm256_and_si256(set, _mm256_set1_epi8(0x10))
}

/// Q5_0 as unsigned five-bit values `u = q + 16`, minus `16 · d · Σ x` per block.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q5_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    offset_blocks::<22>(
        w,
        x,
        |wb| {
            let qh = u32::from_le_bytes([*wb.add(2), *wb.add(3), *wb.add(4), *wb.add(5)]);
            _mm256_or_si256(nibbles(wb.add(6)), q5_high(qh))
        },
        |wb| -16.0 * hp(wb),
    )
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q8_0(w: &[u8], x: Q8Row<'_>) -> f32 {
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (wp, xp, nb) = (w.as_ptr(), x.qs.as_ptr(), x.d.len());
    let one = |b: usize| {
        let wb = wp.add(34 * b);
        let q = _mm256_loadu_si256(wb.add(2) as *const __m256i);
        let s = dot_i8_i8(q, load(xp.add(32 * b)));
        (
            _mm256_set1_ps(hp(wb) * *x.d.get_unchecked(b)),
            _mm256_cvtepi32_ps(s),
        )
    };
    let mut b = 0;
    while b + 1 < nb {
        let (d0, s0) = one(b);
        let (d1, s1) = one(b + 1);
        acc0 = _mm256_fmadd_ps(d0, s0, acc0);
        acc1 = _mm256_fmadd_ps(d1, s1, acc1);
        b += 2;
    }
    if b < nb {
        let (d0, s0) = one(b);
        acc0 = _mm256_fmadd_ps(d0, s0, acc0);
    }
    hsum_ps(_mm256_add_ps(acc0, acc1))
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q4_k(w: &[u8], x: Q8Row<'_>) -> f32 {
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut mins = 0f32;
    let m4 = _mm256_set1_epi8(0x0F);
    let (xp, dp, sp) = (x.qs.as_ptr(), x.d.as_ptr(), x.sums.as_ptr());
    for (b, wb) in w.chunks_exact(144).enumerate() {
        let (d, dmin) = (hp(wb.as_ptr()), hp(wb.as_ptr().add(2)));
        let scales = &wb[4..16];
        for i in 0..4 {
            let (sc1, m1) = scale_min_k4(2 * i, scales);
            let (sc2, m2) = scale_min_k4(2 * i + 1, scales);
            let (s1, s2) = (b * 8 + 2 * i, b * 8 + 2 * i + 1);
            let (xd1, xd2) = (*dp.add(s1), *dp.add(s2));
            mins += dmin
                * (xd1 * (m1 as i32 * (*sp.add(2 * s1) + *sp.add(2 * s1 + 1))) as f32
                    + xd2 * (m2 as i32 * (*sp.add(2 * s2) + *sp.add(2 * s2 + 1))) as f32);
            let bits = _mm256_loadu_si256(wb.as_ptr().add(16 + 32 * i) as *const __m256i);
            let lo = _mm256_and_si256(bits, m4);
            let hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            let plo = dot_u8_i8(lo, load(xp.add(32 * s1)));
            let phi = dot_u8_i8(hi, load(xp.add(32 * s2)));
            acc0 = _mm256_fmadd_ps(
                _mm256_set1_ps(d * sc1 as f32 * xd1),
                _mm256_cvtepi32_ps(plo),
                acc0,
            );
            acc1 = _mm256_fmadd_ps(
                _mm256_set1_ps(d * sc2 as f32 * xd2),
                _mm256_cvtepi32_ps(phi),
                acc1,
            );
        }
    }
    hsum_ps(_mm256_add_ps(acc0, acc1)) - mins
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn q6_k(w: &[u8], x: Q8Row<'_>) -> f32 {
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let m4 = _mm256_set1_epi8(0x0F);
    let m2 = _mm256_set1_epi8(3);
    let m32 = _mm256_set1_epi8(32);
    let (xp, dp) = (x.qs.as_ptr(), x.d.as_ptr());
    for (b, wb) in w.chunks_exact(210).enumerate() {
        let d = hp(wb.as_ptr().add(208));
        for n in 0..2 {
            let ql = wb.as_ptr().add(n * 64);
            let qh = _mm256_loadu_si256(wb.as_ptr().add(128 + n * 32) as *const __m256i);
            let sc = &wb[192 + n * 8..200 + n * 8];
            let l0 = _mm256_loadu_si256(ql as *const __m256i);
            let l1 = _mm256_loadu_si256(ql.add(32) as *const __m256i);
            let low = [
                _mm256_and_si256(l0, m4),
                _mm256_and_si256(l1, m4),
                _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
            ];
            let high = [
                _mm256_and_si256(qh, m2),
                _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2),
                _mm256_and_si256(_mm256_srli_epi16(qh, 4), m2),
                _mm256_and_si256(_mm256_srli_epi16(qh, 6), m2),
            ];
            for r in 0..4 {
                // q in 0..64 (unsigned); q - 32 is the value: Σ q·x - 32·Σ x.
                let q = _mm256_or_si256(low[r], _mm256_slli_epi16(high[r], 4));
                let blk = b * 8 + n * 4 + r;
                let xv = load(xp.add(32 * blk));
                let p =
                    _mm256_sub_epi16(_mm256_maddubs_epi16(q, xv), _mm256_maddubs_epi16(m32, xv));
                let s = _mm256_set_m128i(
                    _mm_set1_epi16(sc[2 * r + 1] as i8 as i16),
                    _mm_set1_epi16(sc[2 * r] as i8 as i16),
                );
                let f = _mm256_cvtepi32_ps(_mm256_madd_epi16(s, p));
                let dv = _mm256_set1_ps(d * *dp.add(blk));
                if r % 2 == 0 {
                    acc0 = _mm256_fmadd_ps(dv, f, acc0);
                } else {
                    acc1 = _mm256_fmadd_ps(dv, f, acc1);
                }
            }
        }
    }
    hsum_ps(_mm256_add_ps(acc0, acc1))
}

/// The multi-row kernel body ([`crate::tile`]): rows `i0..i0 + R` of `x` times the eight rows of `t`,
/// `dot2(acc, w0, x0, w1, x1)` adding two quads' `u · x` products to the i32 lanes.
macro_rules! tile_kernel {
    ($name:ident, $features:literal, $dot2:ident) => {
        #[target_feature(enable = $features)]
        unsafe fn $name<const R: usize>(t: &Tile, x: &Q8Acts, i0: usize, y: &mut [f32]) {
            let (group, groups) = (t.group, t.groups());
            let xr: [Q8Row<'_>; R] = std::array::from_fn(|j| x.row(i0 + j));
            let mut out = [_mm256_setzero_ps(); R];
            let (up, dp, mp) = (t.u.as_ptr(), t.d.as_ptr(), t.m.as_ptr());
            let mins = t.has_mins();
            for g in 0..groups {
                let mut acc = [_mm256_setzero_si256(); R];
                let ug = up.add(g * group * TILE_ROWS);
                let mut k = 0;
                while k < group / 4 {
                    let w0 = _mm256_loadu_si256(ug.add(32 * k) as *const __m256i);
                    let w1 = _mm256_loadu_si256(ug.add(32 * k + 32) as *const __m256i);
                    for j in 0..R {
                        let xp = xr[j].qs.as_ptr().add(g * group + 4 * k) as *const i32;
                        let x0 = _mm256_set1_epi32(xp.read_unaligned());
                        let x1 = _mm256_set1_epi32(xp.add(1).read_unaligned());
                        acc[j] = $dot2(acc[j], w0, x0, w1, x1);
                    }
                    k += 2;
                }
                let dv = _mm256_loadu_ps(dp.add(g * TILE_ROWS));
                for j in 0..R {
                    let sx = group_sum(xr[j].sums, g, group);
                    let a = _mm256_sub_epi32(acc[j], _mm256_set1_epi32(t.offset * sx));
                    let mut v = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(a));
                    if mins {
                        let mv = _mm256_loadu_ps(mp.add(g * TILE_ROWS));
                        v = _mm256_fmadd_ps(mv, _mm256_set1_ps(sx as f32), v);
                    }
                    let dx = _mm256_set1_ps(*xr[j].d.get_unchecked(g * group / super::q8::QK8));
                    out[j] = _mm256_fmadd_ps(dx, v, out[j]);
                }
            }
            for (j, o) in out.iter().enumerate() {
                _mm256_storeu_ps(y.as_mut_ptr().add(j * TILE_ROWS), *o);
            }
        }
    };
}

/// Two quads with AVX2: `maddubs` (u8 × i8 to i16 pairs), the two added, `madd` to i32. Exact while
/// `u ≤ 63`: a pair is at most 2·63·127 = 16002 and two of them fit an i16 (not Q8_0's 8-bit `u`).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot2_avx2(acc: __m256i, w0: __m256i, x0: __m256i, w1: __m256i, x1: __m256i) -> __m256i {
    let p = _mm256_add_epi16(_mm256_maddubs_epi16(w0, x0), _mm256_maddubs_epi16(w1, x1));
    _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)))
}

/// Two quads with AVX-VNNI: `vpdpbusd` sums u8 × i8 products straight into the i32 lanes (exact).
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avxvnni")]
unsafe fn dot2_vnni(acc: __m256i, w0: __m256i, x0: __m256i, w1: __m256i, x1: __m256i) -> __m256i {
    _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(acc, w0, x0), w1, x1)
}

tile_kernel!(tile_rows_avx2, "avx2,fma,f16c", dot2_avx2);
tile_kernel!(tile_rows_vnni, "avx2,fma,f16c,avxvnni", dot2_vnni);

/// Rows `i0..i1` of `x` times the tile `t`: row `i`'s eight outputs at `y[(i - i0) * 8..]`. With
/// `vnni`, AVX-VNNI's `vpdpbusd`; without, AVX2 (`t.max_u` at most 63).
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C, and AVX-VNNI when `vnni`. Shapes are checked here.
pub unsafe fn tile_matmul(t: &Tile, x: &Q8Acts, i0: usize, i1: usize, y: &mut [f32], vnni: bool) {
    assert!(
        x.cols == t.cols && i0 <= i1 && i1 <= x.rows() && y.len() >= (i1 - i0) * TILE_ROWS,
        "tile_matmul: shapes"
    );
    assert!(vnni || t.max_u <= 63, "tile_matmul: AVX2 needs u <= 63");
    let mut i = i0;
    while i < i1 {
        let yi = &mut y[(i - i0) * TILE_ROWS..];
        if i + 4 <= i1 {
            if vnni {
                tile_rows_vnni::<4>(t, x, i, yi)
            } else {
                tile_rows_avx2::<4>(t, x, i, yi)
            }
            i += 4;
        } else {
            if vnni {
                tile_rows_vnni::<1>(t, x, i, yi)
            } else {
                tile_rows_avx2::<1>(t, x, i, yi)
            }
            i += 1;
        }
    }
}
