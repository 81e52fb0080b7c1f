#!/usr/bin/env bash
# Tools for the browser app and its tests, each installed once and skipped when present:
# trunk 0.21.14 (the last release that builds with this rustc), wasm-bindgen-cli at the version in
# Cargo.lock, Debian's chromium for the browser tests, and npm playwright-core (driving that chromium).
# Nothing is downloaded from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! trunk --version 2>/dev/null | grep -q "0.21.14"; then
  echo "setup: installing trunk 0.21.14 (a few minutes)"
  cargo install trunk --locked --version 0.21.14
fi
WB=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WB"; then
  echo "setup: installing wasm-bindgen-cli $WB (the version in Cargo.lock)"
  cargo install wasm-bindgen-cli --version "$WB"
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (for the browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: chromium not found; install it (Debian: apt-get install chromium) to run the browser tests" >&2
  fi
fi
if [ ! -d tests/web/node_modules/playwright-core ]; then
  echo "setup: npm install (playwright-core, used with the system chromium; no browser download)"
  (cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --silent)
fi
