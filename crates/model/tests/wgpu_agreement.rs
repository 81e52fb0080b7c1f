//! The wgpu backend (natively: Vulkan; on CI, Mesa's llvmpipe CPU device) agrees with the CPU backend on
//! the real SmolLM2 model. Built only with `--features wgpu`.
#![cfg(feature = "wgpu")]

mod common;
use bedside_model::device::native_wgpu_device;
use bedside_model::scoring::rows;
use bedside_model::Model;
use burn::backend::{Flex, Wgpu};
use common::*;

#[test]
fn wgpu_and_cpu_logits_agree_on_smollm2() {
    let device = device();
    let bytes = model_bytes(SMOL);
    let gpu = Model::<Wgpu>::from_gguf(SMOL, &bytes, &device).unwrap();
    let cpu = Model::<Flex<f32>>::from_gguf(SMOL, &bytes, &Default::default()).unwrap();
    let prompt = cpu.tokenizer.encode(
        "Question: Which electrolyte abnormality causes peaked T waves?\nAnswer:",
        true,
        false,
    );
    let (mut cg, mut cc) = (gpu.new_cache(), cpu.new_cache());
    let lg = rows(gpu.forward(&prompt, &mut cg, false));
    let lc = rows(cpu.forward(&prompt, &mut cc, false));
    let worst = worst_logit_difference(&lg, &lc, SMOL);
    eprintln!(
        "wgpu vs flex: max abs logit difference {worst:.2e} over {} positions",
        lg.len()
    );
    assert!(worst < 1e-2, "max abs logit difference {worst}");
    // Incremental decoding with the cache agrees too.
    assert_eq!(
        gpu.generate_greedy(&prompt, 8),
        cpu.generate_greedy(&prompt, 8)
    );
}

/// The largest absolute difference between two runs' logits, position by position; both must pick the
/// same top token at every position.
fn worst_logit_difference(a: &[Vec<f32>], b: &[Vec<f32>], what: &str) -> f32 {
    assert_eq!(a.len(), b.len(), "{what}: positions");
    let mut worst = 0f32;
    for (x, y) in a.iter().zip(b) {
        for (p, q) in x.iter().zip(y) {
            worst = worst.max((p - q).abs());
        }
        assert_eq!(
            bedside_model::sampling::argmax(x),
            bedside_model::sampling::argmax(y),
            "{what}: top token"
        );
    }
    worst
}

fn device() -> burn::backend::wgpu::WgpuDevice {
    native_wgpu_device().expect(
        "no wgpu adapter: install mesa-vulkan-drivers (llvmpipe) or run on a machine with a GPU",
    )
}

/// The GPU kernel for quantised blocks (`gpu_blocks.rs`) equals its CPU reference twin
/// (`DeviceBlocks::matmul`, the same sums) on every format, in one buffer and split into parts; within
/// 1e-5 of Σ|w·x| (the order the threads' partial sums are added in differs).
#[test]
fn the_block_kernel_equals_its_reference_twin_on_every_format() {
    use bedside_model::gpu_blocks::GpuBlocks;
    use bedside_model::quant::device_blocks::DeviceBlocks;
    use bedside_model::quant::testing::{random_rows, Lcg, FORMATS};
    use burn::tensor::{Tensor, TensorData};
    let device = device();
    // 768 columns: 96 or 192 words a row, not a multiple of the workgroup's 64 threads; one row of x
    // (the reduction kernel) and six (the tile kernel: a whole tile of 4 and a partial one).
    let (rows, cols) = (7, 768);
    for n in [1, 6] {
        let mut g = Lcg(3 + n as u64);
        let x: Vec<f32> = (0..n * cols)
            .map(|i| g.f() * if i % 61 == 0 { 20.0 } else { 1.0 })
            .collect();
        for ty in FORMATS {
            let data = random_rows(ty, rows, cols, 5 + ty as u64);
            let twin = DeviceBlocks::new(ty, &data, rows, cols).unwrap();
            let want = twin.matmul(&x, n);
            let row_bytes = 4 * (twin.quants.len() / rows);
            for (max, parts) in [(usize::MAX, 1), (3 * row_bytes, 3)] {
                let gb = GpuBlocks::upload_in_parts(ty, &data, rows, cols, max, &device).unwrap();
                assert_eq!(gb.parts(), parts, "{ty:?}");
                let xt =
                    Tensor::<Wgpu, 2>::from_data(TensorData::new(x.clone(), [n, cols]), &device);
                let got = bedside_model::layers::DeviceMatmul::matmul(&gb, xt)
                    .into_data()
                    .to_vec::<f32>()
                    .unwrap();
                assert_eq!(got.len(), n * rows);
                for i in 0..n {
                    for r in 0..rows {
                        let mag: f32 = (0..cols)
                            .map(|c| (twin.value(r, c) * x[i * cols + c]).abs())
                            .sum();
                        let (a, b) = (got[i * rows + r], want[i * rows + r]);
                        assert!(
                            (a - b).abs() <= 1e-5 * mag + 1e-6,
                            "{ty:?}, n {n}, {parts} parts, x {i}, row {r}: kernel {a} vs twin {b} (Σ|w·x| {mag})"
                        );
                    }
                }
            }
        }
    }
}

/// Both real models with their quantised matrices in blocks on the GPU agree with the exact quantised
/// CPU path (the same weights; the products differ only in summation order): the same top token at every
/// position, logits within 2e-2, the same greedy continuation; and the weights take at most 1.5x the
/// file on the device.
#[test]
fn quantised_weights_on_the_gpu_agree_with_the_cpu_path() {
    use bedside_model::{Gguf, Precision};
    use std::sync::Arc;
    let device = device();
    for name in [SMOL, GEMMA] {
        let bytes = model_bytes(name);
        let g = Gguf::parse(name, &bytes).unwrap();
        let ratio = g.device_block_bytes() as f64 / bytes.len() as f64;
        eprintln!(
            "{name}: {:.1} MB of weights on the GPU in blocks, {ratio:.2}x the file (f32: {:.2}x)",
            g.device_block_bytes() as f64 / 1e6,
            g.tensors.iter().map(|t| 4 * t.elements()).sum::<usize>() as f64 / bytes.len() as f64
        );
        assert!(ratio <= 1.5, "{name}: {ratio:.2}x the file on the GPU");
        let blob = Arc::new(bytes);
        let gpu = Model::<Wgpu>::from_gguf_blob_on_device(
            name,
            blob.clone(),
            bedside_model::gpu_blocks::upload,
            &device,
        )
        .unwrap();
        let cpu = Model::<Flex<f32>>::from_gguf_blob(
            name,
            blob,
            Precision::Quantized,
            &Default::default(),
        )
        .unwrap();
        let prompt = cpu
            .tokenizer
            .encode("Hyperkalemia causes peaked T", true, false);
        let (mut cg, mut cc) = (gpu.new_cache(), cpu.new_cache());
        let lg = rows(gpu.forward(&prompt, &mut cg, false));
        let lc = rows(cpu.forward(&prompt, &mut cc, false));
        let worst = worst_logit_difference(&lg, &lc, name);
        eprintln!(
            "{name}: GPU blocks vs CPU quantized: max abs logit difference {worst:.2e} over {} positions",
            lg.len()
        );
        assert!(worst < 2e-2, "{name}: max abs logit difference {worst}");
        assert_eq!(
            gpu.generate_greedy(&prompt, 4),
            cpu.generate_greedy(&prompt, 4),
            "{name}"
        );
    }
}
