#!/usr/bin/env bash
# Set up, build, and run Bedside's main job on the bundled sample benchmarks: validate each one and
# describe it (answer-position bias, chance baseline, lengths, duplicates).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -p bedside-cli
B=target/release/bedside
for dir in data/samples/*/; do
  echo "=================================================================="
  $B validate "$dir"
  echo
  $B stats "$dir"
done
echo "=================================================================="
echo "bedside is at $B; try: $B --help"
