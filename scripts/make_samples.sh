#!/usr/bin/env bash
# Rebuild the sample benchmarks in data/samples/ from the real datasets in ../shared/datasets.
# Each sample keeps its dataset's LICENSE; the manifest carries the citation and source.
# Usage: bash scripts/make_samples.sh [path/to/bedside]   (default: cargo run --release)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${BEDSIDE_SHARED:-../shared}/datasets
BEDSIDE=${1:-"cargo run -q --release -p bedside-cli --"}
OUT=data/samples
rm -rf "$OUT"/*/   # keep README.md
mkdir -p "$OUT"
conv() { $BEDSIDE convert --force "$@"; echo; }

conv --from medqa "$D/medqa_usmle/4_options/phrases_no_exclude_test.jsonl" "$D/medqa_usmle/4_options/phrases_no_exclude_dev.jsonl" \
  --limit 100 --name medqa-4options-sample \
  --description "First 100 test and 100 dev items of MedQA (USMLE, English), 4-option version as used by lm-eval-harness medqa_4options" \
  --license-file "$D/medqa_usmle/LICENSE" --out "$OUT/medqa-4options"

conv --from medmcqa "$D/medmcqa/validation.jsonl" --split test --sample 100 --seed 1 --name medmcqa-sample \
  --description "100 items sampled (seed 1) from MedMCQA's validation split (the test split's answers are not public)" \
  --license-file "$D/medmcqa/LICENSE" --out "$OUT/medmcqa"

conv --from pubmedqa "$D/pubmedqa/ori_pqal.json" "$D/pubmedqa/test_ground_truth.json" --limit 100 --name pubmedqa-sample \
  --description "First 100 items of PubMedQA PQA-L's standard 500-item test split, and 100 of its other labelled items as a train split" \
  --license-file "$D/pubmedqa/LICENSE" --out "$OUT/pubmedqa"

conv --from mmlu-csv "$D/mmlu_medical/test" "$D/mmlu_medical/dev" --sample 120 --seed 1 --name mmlu-medical-sample \
  --description "120 test items sampled (seed 1) across MMLU's six medical subjects, with all 30 dev items for 5-shot prompts" \
  --license-file "$D/mmlu_medical/LICENSE" --out "$OUT/mmlu-medical"

conv --from mmlu-pro "$D/mmlu_pro_health/health.jsonl" --sample 100 --seed 1 --name mmlu-pro-health-sample \
  --description "100 items sampled (seed 1) from MMLU-Pro's health category (3 to 10 options per item)" \
  --license-file "$D/mmlu_pro_health/LICENSE" --out "$OUT/mmlu-pro-health"

conv --from mmlu-redux "$D/mmlu_redux" --sample 100 --seed 1 --name mmlu-redux-medical-sample \
  --description "100 items sampled (seed 1) from MMLU-Redux's medical and biology subjects, with each item's error annotation in meta.error_type" \
  --license-file "$D/mmlu_redux/LICENSE" --out "$OUT/mmlu-redux-medical"

du -sh "$OUT"/*
