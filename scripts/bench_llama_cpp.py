#!/usr/bin/env python3
"""The speed peer of `bedside bench model`: llama.cpp (llama-cpp-python) on the same GGUF file, prompt and
thread count. Prints one JSON object: load_s, prompt_tokens, prefill_tps, decode_tokens, decode_tps, peak_rss.

    python3 scripts/bench_llama_cpp.py --model models/X.gguf --prompt-file p.txt --decode-tokens 32 --threads 2
"""
import argparse
import json
import resource
import time

from llama_cpp import Llama

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--prompt-file", required=True)
ap.add_argument("--decode-tokens", type=int, default=32)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
text = open(a.prompt_file, encoding="utf-8").read()

t0 = time.perf_counter()
llm = Llama(a.model, n_ctx=2048, n_threads=a.threads, n_threads_batch=a.threads, n_batch=512, verbose=False)
load = time.perf_counter() - t0
ids = llm.tokenize(text.encode(), add_bos=True, special=False)
# Prefill: one batched evaluation of the prompt. Decode: one token at a time, feeding the prompt's own
# tokens back (decode speed does not depend on which token is fed, and no end-of-text can cut it short).
t1 = time.perf_counter()
llm.eval(ids)
prefill = time.perf_counter() - t1
t2 = time.perf_counter()
for i in range(a.decode_tokens):
    llm.eval([ids[i % len(ids)]])
decode = time.perf_counter() - t2
print(json.dumps({
    "load_s": load, "prompt_tokens": len(ids), "prefill_tps": len(ids) / prefill,
    "decode_tokens": a.decode_tokens, "decode_tps": a.decode_tokens / decode,
    "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
