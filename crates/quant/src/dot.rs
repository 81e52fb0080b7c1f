//! Which integer-dot kernel runs: the best instruction set this CPU (or wasm build) has, chosen once at
//! run time, or one forced for a benchmark or a test ([`force`]).

use super::q8::Q8Row;
use super::{scalar, GgmlType};
use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction set the integer-dot kernels are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Portable Rust: the oracle.
    Scalar,
    /// x86-64 AVX2 + FMA + F16C (detected at run time).
    Avx2,
    /// wasm32 `simd128` (only in a wasm build made with `-C target-feature=+simd128`).
    Simd128,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Simd128 => "simd128",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Isa::Scalar, Isa::Avx2, Isa::Simd128]
            .into_iter()
            .find(|i| i.name() == s)
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
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The best one available.
    pub fn detect() -> Self {
        [Isa::Avx2, Isa::Simd128]
            .into_iter()
            .find(|i| i.available())
            .unwrap_or(Isa::Scalar)
    }
}

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
        Some(Isa::Scalar) => 1,
        Some(Isa::Avx2) => 2,
        Some(Isa::Simd128) => 3,
    };
    FORCED.store(code, Ordering::Relaxed);
    Ok(())
}

/// The instruction set products use now.
pub fn active() -> Isa {
    match FORCED.load(Ordering::Relaxed) {
        1 => Isa::Scalar,
        2 => Isa::Avx2,
        3 => Isa::Simd128,
        _ => Isa::detect(),
    }
}

/// `Σ_k w[k] · x[k]` with the kernels of `isa` (which must be [`Isa::available`]).
#[inline]
pub fn vec_dot_with(isa: Isa, ty: GgmlType, w: &[u8], x: Q8Row<'_>) -> f32 {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Avx2` is only chosen when the CPU reports AVX2, FMA and F16C.
        Isa::Avx2 => unsafe { super::avx2::vec_dot(ty, w, x) },
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Isa::Simd128 => super::simd128::vec_dot(ty, w, x),
        _ => scalar::vec_dot(ty, w, x),
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
        let isas: Vec<Isa> = [Isa::Avx2, Isa::Simd128]
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

    /// A weight row and an activation row of different lengths panic on every ISA (the SIMD kernels
    /// read with raw pointers after one length check). Not on wasm, where a panic aborts.
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn mismatched_lengths_panic_instead_of_reading_out_of_bounds() {
        let w = random_rows(GgmlType::Q8_0, 1, 64, 1);
        let xq = Q8Acts::quantize(&[0.5; 32], 32);
        for isa in [Isa::Scalar, Isa::Avx2, Isa::Simd128] {
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
        let missing = [Isa::Avx2, Isa::Simd128]
            .into_iter()
            .find(|i| !i.available());
        if let Some(i) = missing {
            assert!(force(Some(i)).unwrap_err().contains(i.name()));
        }
        assert_eq!(Isa::parse("scalar"), Some(Isa::Scalar));
        assert_eq!(Isa::parse("sse"), None);
    }
}
