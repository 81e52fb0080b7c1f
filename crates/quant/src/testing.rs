//! Test inputs shared by this crate's tests and the GPU kernel's (`bedside-model`'s `wgpu_agreement`).

use crate::GgmlType;

/// Deterministic bytes (an LCG), so failures reproduce.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    pub fn f(&mut self) -> f32 {
        self.next() as f32 / (1u64 << 31) as f32 * 2.0 - 1.0
    }
}

/// `rows` random weight rows of `ty`: random quant bits, scales set to finite f16 values of either sign
/// (every bit pattern of the quant bits is a valid block).
pub fn random_rows(ty: GgmlType, rows: usize, cols: usize, seed: u64) -> Vec<u8> {
    let mut g = Lcg(seed);
    let (_, bb) = ty.block();
    let mut out: Vec<u8> = (0..ty.bytes_for(cols).unwrap() * rows)
        .map(|_| g.next() as u8)
        .collect();
    let f16_at = |b: &mut [u8], at: usize, g: &mut Lcg| {
        let v = half::f16::from_f32(g.f() * 0.05);
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    };
    for b in out.chunks_exact_mut(bb) {
        match ty {
            GgmlType::Q4_0 | GgmlType::Q5_0 | GgmlType::Q8_0 => f16_at(b, 0, &mut g),
            GgmlType::Q4_1 | GgmlType::Q4K => {
                f16_at(b, 0, &mut g);
                f16_at(b, 2, &mut g);
            }
            GgmlType::Q6K => f16_at(b, 208, &mut g),
            _ => unreachable!(),
        }
    }
    out
}

/// The quantised formats with integer kernels and a GPU layout.
pub const FORMATS: [GgmlType; 6] = [
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q8_0,
    GgmlType::Q4K,
    GgmlType::Q6K,
];
