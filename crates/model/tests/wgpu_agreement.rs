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
    let Some(device) = native_wgpu_device() else {
        panic!("no wgpu adapter: install mesa-vulkan-drivers (llvmpipe) or run on a machine with a GPU");
    };
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
    let mut worst = 0f32;
    for (a, b) in lg.iter().zip(&lc) {
        for (x, y) in a.iter().zip(b) {
            worst = worst.max((x - y).abs());
        }
        assert_eq!(
            bedside_model::sampling::argmax(a),
            bedside_model::sampling::argmax(b)
        );
    }
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
