#!/usr/bin/env bash
# Set up, build, and run Bedside's main job: the browser app on the bundled sample benchmarks and the
# bundled real model (SmolLM2-135M-Instruct, GGUF), served from this machine at http://127.0.0.1:8080.
# Open that address, press Run: the model runs in your browser tab, on your CPU; nothing leaves the page.
# Before serving, the same engine scores the sample on the command line and writes runs/report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_web.sh
cargo build --release --locked -p bedside-cli
B=target/release/bedside
mkdir -p runs
$B validate data/samples/mmlu-medical
$B eval --model models/SmolLM2-135M-Instruct.Q4_1.gguf --bench data/samples/mmlu-medical --limit 20 --out runs/mmlu-medical-smollm2.jsonl
$B report runs/mmlu-medical-smollm2.jsonl --html runs/report.html
trunk build --release
PORT="${PORT:-8080}"
echo "=================================================================="
echo "Bedside is at http://127.0.0.1:$PORT/ (Ctrl-C to stop). The command-line report is runs/report.html."
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory dist
