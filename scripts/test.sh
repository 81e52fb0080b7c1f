#!/usr/bin/env bash
# Run every test: the Rust workspace (unit, property, reference-statistics and CLI end-to-end tests on the
# real datasets in ../shared; model and engine tests on the real GGUF models, including wgpu vs CPU and
# agreement with lm-evaluation-harness), then the browser app built by Trunk (the one wasm build) and its
# end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
# A clean run gains nothing from incremental caches (6 GB of them); keep the disk for the test binaries.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
df -h . | sed 's/^/disk before: /' | tail -1
bash scripts/setup.sh
bash scripts/setup_web.sh
echo "== cargo test --workspace (with the wgpu backend; on a machine without a GPU, Mesa's llvmpipe Vulkan device)"
cargo test --workspace --locked --features bedside-cli/wgpu
echo "== bedside-quant on wasm32 with simd128 (the browser's integer-dot kernels against the scalar oracle, under Node's WASI)"
if rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $PWD/scripts/wasi_runner.mjs" \
    RUSTFLAGS="-C target-feature=+simd128" cargo test --locked -p bedside-quant --target wasm32-wasip1
else
  echo "SKIPPED: the wasm32-wasip1 target is not installed (rustup target add wasm32-wasip1), so the simd128 kernels were not run"
fi
echo "== trunk build --release (the browser app, wasm32)"
trunk build --release
echo "== browser tests (headless Chromium)"
(cd tests/web && BEDSIDE_BIN="$PWD/../../target/debug/bedside" npm test)
df -h . | sed 's/^/disk after: /' | tail -1
du -sh target 2>/dev/null | sed 's/^/target: /' || true
echo "all tests passed"
