#!/usr/bin/env python3
"""Reference dequantisation of every tensor of the two real GGUF models, by the `gguf` Python package
(pip install gguf numpy), written to crates/model/tests/fixtures/gguf_reference.json.

For each tensor: its ggml type, its dims, the float64 sum and sum of squares of all dequantised values (this
covers every block), the first 40 values, and 24 values at seeded random positions. crates/model/tests/gguf_reference.rs
compares Bedside's parser and dequantiser against these.

    bash scripts/get_models.sh && python3 scripts/reference_gguf.py
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

root = os.path.join(os.path.dirname(__file__), "..")
models_dir = os.environ.get("BEDSIDE_MODELS", os.path.join(root, "models"))
out = {"generated_by": "scripts/reference_gguf.py", "gguf_version": __import__("importlib.metadata").metadata.version("gguf"), "models": {}}
rng = np.random.default_rng(7)
for fname in ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"]:
    r = GGUFReader(os.path.join(models_dir, fname))
    tensors = []
    for t in r.tensors:
        x = dequantize(t.data, t.tensor_type).astype(np.float64).reshape(-1)
        pos = np.sort(rng.choice(x.size, size=min(24, x.size), replace=False))
        tensors.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "dims": [int(d) for d in t.shape],
            "sum": float(x.sum()),
            "sum_sq": float((x * x).sum()),
            "first": [float(v) for v in x[:40]],
            "positions": [int(p) for p in pos],
            "values": [float(x[p]) for p in pos],
        })
    arch = r.fields["general.architecture"]
    out["models"][fname] = {
        "architecture": bytes(arch.parts[arch.data[0]]).decode(),
        "tensor_count": len(r.tensors),
        "tensors": tensors,
    }
    print(fname, len(r.tensors), "tensors", file=sys.stderr)

path = os.path.join(root, "crates", "model", "tests", "fixtures", "gguf_reference.json")
with open(path, "w") as f:
    json.dump(out, f)
    f.write("\n")
print("wrote", os.path.normpath(path))
