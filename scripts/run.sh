#!/usr/bin/env bash
# Set up, build, and run Bedside's main job: validate and describe each bundled sample benchmark
# (answer-position bias, chance baseline, lengths, duplicates), then load the bundled real model
# (SmolLM2-135M-Instruct, GGUF) and answer a real MedQA question with it on the CPU.
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
$B model info models/SmolLM2-135M-Instruct.Q4_1.gguf
echo
Q=$(head -n1 data/samples/medqa-4options/test-000.jsonl | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["question"] + "\n" + "\n".join("ABCD"[i] + ". " + o for i, o in enumerate(d["options"])) + "\nAnswer with the letter and a one-sentence reason.")')
echo "$Q"
echo "--- SmolLM2-135M-Instruct:"
$B generate --model models/SmolLM2-135M-Instruct.Q4_1.gguf --chat --prompt "$Q" --max-tokens 48
echo "=================================================================="
echo "bedside is at $B; try: $B --help"
