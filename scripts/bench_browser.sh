#!/usr/bin/env bash
# The in-browser benchmark: the app's worker on the CPU path in headless Chromium against `bedside eval`
# on the same items, in one session (tests/web/bench.mjs). Builds what is missing; run on a quiet machine.
#   bash scripts/bench_browser.sh            # 8 items
#   BENCH_ITEMS=20 bash scripts/bench_browser.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_web.sh
[ -f dist/index.html ] || trunk build --release
[ -x target/release/bedside ] || cargo build --release --locked -p bedside-cli
cd tests/web && BEDSIDE_BIN="$PWD/../../target/release/bedside" node bench.mjs
