//! Which integer-dot kernel runs: the best instruction set this CPU (or wasm build) has, chosen once at
//! run time, or one forced for a benchmark or a test ([`force`]).

use super::q8::{Q8Acts, Q8Row};
use super::tile::{Tile, TILE_ROWS};
use super::{scalar, GgmlType};
use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set the integer-dot kernels are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Portable Rust: the oracle.
    Scalar,
    /// x86-64 AVX2 + FMA + F16C (detected at run time).
    Avx2,
    /// AVX2 with AVX-VNNI (`vpdpbusd`, detected at run time): the multi-row kernels sum bytes straight
    /// into 32-bit lanes; the one-row kernels are AVX2's.
    AvxVnni,
    /// wasm32 `simd128` (only in a wasm build made with `-C target-feature=+simd128`).
    Simd128,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::AvxVnni => "avx-vnni",
            Isa::Simd128 => "simd128",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL.into_iter().find(|i| i.name() == s)
    }

    /// Whether this machine (or this wasm build) can run it.
    pub fn available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
                    && is_x86_feature_detected!("f16c")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::AvxVnni => Isa::Avx2.available() && is_x86_feature_detected!("avxvnni"),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The best one available.
    pub fn detect() -> Self {
        [Isa::AvxVnni, Isa::Avx2, Isa::Simd128]
            .into_iter()
            .find(|i| i.available())
            .unwrap_or(Isa::Scalar)
    }
}

/// Every instruction set, in the order of the forcing codes.
pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::AvxVnni, Isa::Simd128];

/// 0: not forced (detect); otherwise 1 + the forced `Isa`'s index.
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Use `isa` for every product from now on (`None`: the best available). An unavailable one is
/// refused with `Err` naming it.
pub fn force(isa: Option<Isa>) -> Result<(), String> {
    let code = match isa {
        None => 0,
        Some(i) if !i.available() => {
            return Err(format!(
                "the {} kernels are not available on this machine or build",
                i.name()
            ))
        }
        Some(i) => 1 + ALL.iter().position(|&a| a == i).expect("listed") as u8,
    };
    FORCED.store(code, Ordering::Relaxed);
    Ok(())
}

/// The instruction set products use now.
pub fn active() -> Isa {
    match FORCED.load(Ordering::Relaxed) {
        0 => Isa::detect(),
        c => ALL[c as usize - 1],
    }
}

/// `Σ_k w[k] · x[k]` with the kernels of `isa` (which must be [`Isa::available`]).
#[inline]
pub fn vec_dot_with(isa: Isa, ty: GgmlType, w: &[u8], x: Q8Row<'_>) -> f32 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2` and `AvxVnni` are only chosen when the CPU reports AVX2, FMA and F16C.
        Isa::Avx2 | Isa::AvxVnni => unsafe { super::avx2::vec_dot(ty, w, x) },
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Isa::Simd128 => super::simd128::vec_dot(ty, w, x),
        _ => scalar::vec_dot(ty, w, x),
    }
}

/// Whether `isa` has a multi-row kernel ([`crate::tile`]) for `ty`. AVX2's `maddubs` would overflow on
/// Q8_0's 8-bit values; the scalar tile kernel is the oracle, not faster than the one-row kernels.
pub fn has_tile_kernel(isa: Isa, ty: GgmlType) -> bool {
    super::q8::has_kernels(ty)
        && match isa {
            Isa::AvxVnni => true,
            Isa::Avx2 => ty != GgmlType::Q8_0,
            Isa::Scalar | Isa::Simd128 => false,
        }
}

/// Rows `i0..i1` of `x` times the tile `t` with the kernels of `isa` (available): row `i`'s outputs at
/// `y[(i - i0) * TILE_ROWS..][..t.rows]` (the lanes past `t.rows` are scratch).
pub fn tile_matmul_with(isa: Isa, t: &Tile, x: &Q8Acts, i0: usize, i1: usize, y: &mut [f32]) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2` needs AVX2, FMA, F16C, `AvxVnni` also AVX-VNNI: chosen only when reported;
        // AVX2 is given only tiles whose values fit its 16-bit sums (checked inside).
        Isa::Avx2 | Isa::AvxVnni if t.max_u <= 63 || isa == Isa::AvxVnni => unsafe {
            super::avx2::tile_matmul(t, x, i0, i1, y, isa == Isa::AvxVnni)
        },
        _ => t.matmul_scalar(x, i0, i1, y, TILE_ROWS),
    }
}

#[cfg(test)]
mod tests {
    use super::super::q8::Q8Acts;
    use super::super::{dequantize, GgmlType};
    use super::*;
    use crate::testing::{random_rows, Lcg, FORMATS};

    fn activations(n: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut g = Lcg(seed);
        // Mostly small values with a few outliers, like real hidden states.
        (0..n * cols)
            .map(|i| g.f() * if i % 61 == 0 { 20.0 } else { 1.0 })
            .collect()
    }

    /// The scalar integer kernels equal the exact oracle: Σ dequant(w)·dequant(q8(x)) in f64, for every
    /// format (relative to Σ|w||x|, 1e-6: f32 rounding of the per-block products only).
    #[test]
    fn scalar_kernels_equal_the_dequantised_product() {
        let cols = 512;
        for ty in FORMATS {
            let w = random_rows(ty, 5, cols, 7 + ty as u64);
            let x = activations(3, cols, 11);
            let xq = Q8Acts::quantize(&x, cols);
            let rb = ty.bytes_for(cols).unwrap();
            for r in 0..5 {
                let mut wd = vec![0f32; cols];
                dequantize(ty, &w[r * rb..(r + 1) * rb], &mut wd);
                for i in 0..3 {
                    let xd = xq.dequantize_row(i);
                    let want: f64 = wd.iter().zip(&xd).map(|(&a, &b)| a as f64 * b as f64).sum();
                    let mag: f64 = wd
                        .iter()
                        .zip(&xd)
                        .map(|(&a, &b)| (a as f64 * b as f64).abs())
                        .sum();
                    let got = scalar::vec_dot(ty, &w[r * rb..(r + 1) * rb], xq.row(i)) as f64;
                    assert!(
                        (got - want).abs() <= 1e-6 * mag.max(1e-12),
                        "{}: row {r}, x {i}: {got} vs {want} (scale {mag})",
                        ty.name()
                    );
                }
            }
        }
    }

    /// Every SIMD kernel this machine can run equals the scalar oracle (relative to Σ|w||x|, 1e-6).
    #[test]
    fn simd_kernels_equal_the_scalar_oracle() {
        let isas: Vec<Isa> = [Isa::Avx2, Isa::AvxVnni, Isa::Simd128]
            .into_iter()
            .filter(|i| i.available())
            .collect();
        eprintln!("SIMD kernels checked here: {isas:?}");
        for cols in [256, 768, 2048] {
            for ty in FORMATS {
                let w = random_rows(ty, 4, cols, 3 + cols as u64 + ty as u64);
                let x = activations(2, cols, 5 + cols as u64);
                let xq = Q8Acts::quantize(&x, cols);
                let rb = ty.bytes_for(cols).unwrap();
                for r in 0..4 {
                    let wr = &w[r * rb..(r + 1) * rb];
                    let mut wd = vec![0f32; cols];
                    dequantize(ty, wr, &mut wd);
                    for i in 0..2 {
                        let mag: f32 = wd
                            .iter()
                            .zip(&xq.dequantize_row(i))
                            .map(|(a, b)| (a * b).abs())
                            .sum();
                        let want = scalar::vec_dot(ty, wr, xq.row(i));
                        for &isa in &isas {
                            let got = vec_dot_with(isa, ty, wr, xq.row(i));
                            assert!(
                                (got - want).abs() <= 1e-6 * mag.max(1e-12),
                                "{} {} cols {cols}: {got} vs scalar {want}",
                                isa.name(),
                                ty.name()
                            );
                        }
                    }
                }
            }
        }
    }

    /// Every multi-row kernel this machine has equals the scalar tile oracle (relative to Σ|w||x|,
    /// 1e-6), for every format it takes, with full and partial tiles and row counts that exercise the
    /// four-row and one-row paths.
    #[test]
    fn tile_kernels_equal_the_scalar_tile_oracle() {
        let isas: Vec<Isa> = ALL.into_iter().filter(|i| i.available()).collect();
        let mut checked = Vec::new();
        for cols in [256, 768] {
            for ty in FORMATS {
                for rows in [8, 3] {
                    let w = random_rows(ty, rows, cols, 31 + cols as u64 + ty as u64);
                    let mut t = Tile::default();
                    t.unpack(ty, &w, rows, cols);
                    for n in [1, 4, 7, 9] {
                        let x = activations(n, cols, 41 + n as u64);
                        let xq = Q8Acts::quantize(&x, cols);
                        let mut want = vec![0f32; n * TILE_ROWS];
                        t.matmul_scalar(&xq, 0, n, &mut want, TILE_ROWS);
                        let rb = ty.bytes_for(cols).unwrap();
                        for &isa in &isas {
                            if !has_tile_kernel(isa, ty) {
                                continue;
                            }
                            if !checked.contains(&isa) {
                                checked.push(isa);
                            }
                            let mut got = vec![0f32; n * TILE_ROWS];
                            tile_matmul_with(isa, &t, &xq, 0, n, &mut got);
                            for i in 0..n {
                                for r in 0..rows {
                                    let mut wd = vec![0f32; cols];
                                    dequantize(ty, &w[r * rb..(r + 1) * rb], &mut wd);
                                    let mag: f32 = wd
                                        .iter()
                                        .zip(&xq.dequantize_row(i))
                                        .map(|(a, b)| (a * b).abs())
                                        .sum();
                                    let (g, e) = (got[i * TILE_ROWS + r], want[i * TILE_ROWS + r]);
                                    assert!(
                                        (g - e).abs() <= 1e-6 * mag.max(1e-12),
                                        "{} {} cols {cols} rows {rows} n {n} ({i},{r}): {g} vs {e}",
                                        isa.name(),
                                        ty.name()
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        eprintln!("tile kernels checked here: {checked:?}");
    }

    /// A weight row and an activation row of different lengths panic on every ISA (the SIMD kernels
    /// read with raw pointers after one length check). Not on wasm, where a panic aborts.
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn mismatched_lengths_panic_instead_of_reading_out_of_bounds() {
        let w = random_rows(GgmlType::Q8_0, 1, 64, 1);
        let xq = Q8Acts::quantize(&[0.5; 32], 32);
        for isa in ALL {
            if isa.available() && isa != Isa::Scalar {
                let r =
                    std::panic::catch_unwind(|| vec_dot_with(isa, GgmlType::Q8_0, &w, xq.row(0)));
                assert!(
                    r.is_err(),
                    "{isa:?} accepted a 64-column row with 32 activations"
                );
            }
        }
    }

    #[test]
    fn forcing_an_unavailable_isa_is_refused() {
        let missing = [Isa::Avx2, Isa::AvxVnni, Isa::Simd128]
            .into_iter()
            .find(|i| !i.available());
        if let Some(i) = missing {
            assert!(force(Some(i)).unwrap_err().contains(i.name()));
        }
        assert_eq!(Isa::parse("scalar"), Some(Isa::Scalar));
        assert_eq!(Isa::parse("sse"), None);
    }
}
