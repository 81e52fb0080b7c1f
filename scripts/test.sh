#!/usr/bin/env bash
# Run every test: the Rust workspace (unit, property, reference-statistics and CLI end-to-end tests on the
# real datasets in ../shared) and the wasm32 build of the pure crates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== cargo test --workspace"
cargo test --workspace --locked
echo "== wasm32 build of bedside-bench and bedside-model"
cargo build --locked --target wasm32-unknown-unknown -p bedside-bench -p bedside-model
echo "all tests passed"
