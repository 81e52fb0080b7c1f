//! One-thread speed of the one-row kernels on one row of activations (decoding), in GB/s of weights.
use bedside_quant::dot::{self, Isa};
use bedside_quant::q8::Q8Acts;
use bedside_quant::testing::{random_rows, FORMATS};
use std::time::Instant;

fn main() {
    let cols = 1536usize;
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4096);
    for ty in FORMATS {
        let w = random_rows(ty, rows, cols, 7);
        let rb = ty.bytes_for(cols).unwrap();
        let x: Vec<f32> = (0..cols)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
            .collect();
        let xq = Q8Acts::quantize(&x, cols);
        for isa in [Isa::Scalar, Isa::Avx2, Isa::AvxVnni] {
            if !isa.available() {
                continue;
            }
            let mut best = f64::MAX;
            let mut s = 0f32;
            for _ in 0..5 {
                let t0 = Instant::now();
                for r in 0..rows {
                    s += dot::vec_dot_with(isa, ty, &w[r * rb..(r + 1) * rb], xq.row(0));
                }
                best = best.min(t0.elapsed().as_secs_f64());
            }
            println!(
                "{:5} {:9}: {:.3} ms, {:.1} GB/s, {:.2} ns/block32 ({s:.0})",
                ty.name(),
                isa.name(),
                best * 1e3,
                (rows * rb) as f64 / best / 1e9,
                best * 1e9 / (rows * cols / 32) as f64
            );
        }
    }
}
