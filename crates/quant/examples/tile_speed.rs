//! Single-thread timing of the one-row kernels against the tile kernels (a developer's check for
//! choosing `TILE_MIN_ROWS`; not a benchmark of record).
use bedside_quant::dot;
use bedside_quant::q8::Q8Acts;
use bedside_quant::testing::random_rows;
use bedside_quant::tile::{Tile, TILE_ROWS};
use bedside_quant::GgmlType;
use std::time::Instant;

fn main() {
    let isa = dot::active();
    let (rows, cols) = (1536usize, 640usize);
    for ty in [GgmlType::Q4_1, GgmlType::Q4K, GgmlType::Q6K, GgmlType::Q8_0] {
        let cols = if matches!(ty, GgmlType::Q4K | GgmlType::Q6K) {
            1536
        } else {
            cols
        };
        let w = random_rows(ty, rows, cols, 7);
        let rb = ty.bytes_for(cols).unwrap();
        for n in [4usize, 8, 16, 48, 169] {
            let x: Vec<f32> = (0..n * cols)
                .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
                .collect();
            let xq = Q8Acts::quantize(&x, cols);
            let t0 = Instant::now();
            let mut s = 0f32;
            for r in 0..rows {
                for i in 0..n {
                    s += dot::vec_dot_with(isa, ty, &w[r * rb..(r + 1) * rb], xq.row(i));
                }
            }
            let one = t0.elapsed().as_secs_f64();
            let mut t = Tile::default();
            let mut y = vec![0f32; n * TILE_ROWS];
            let t0 = Instant::now();
            for r0 in (0..rows).step_by(TILE_ROWS) {
                t.unpack(ty, &w[r0 * rb..(r0 + TILE_ROWS) * rb], TILE_ROWS, cols);
                dot::tile_matmul_with(isa, &t, &xq, 0, n, &mut y);
                s += y[0];
            }
            let tiles = t0.elapsed().as_secs_f64();
            println!(
                "{:5} {isa:?} n={n:4}: one-row {:.2} ms, tiles {:.2} ms ({:.2}x), {s:.0}",
                ty.name(),
                one * 1e3,
                tiles * 1e3,
                one / tiles
            );
        }
    }
}
