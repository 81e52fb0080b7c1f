#!/usr/bin/env bash
# Run every test: the Rust workspace (unit, property, reference-statistics and CLI end-to-end tests on the
# real datasets in ../shared; model tests on the real GGUF models, including wgpu vs CPU) and the wasm32
# build of bedside-bench and bedside-model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== cargo test --workspace (with the wgpu backend; on a machine without a GPU, Mesa's llvmpipe Vulkan device)"
cargo test --workspace --locked --features bedside-cli/wgpu
echo "== wasm32 build of bedside-bench and bedside-model"
cargo build --locked --target wasm32-unknown-unknown -p bedside-bench -p bedside-model
echo "all tests passed"
