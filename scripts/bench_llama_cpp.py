#!/usr/bin/env python3
"""The speed peer of `bedside bench model`: llama.cpp (llama-cpp-python) on the same GGUF file, prompt and
thread count. Prints one JSON object: load_s, prompt_tokens, prefill_tps, decode_tokens, decode_tps, peak_rss.

    python3 scripts/bench_llama_cpp.py --model models/X.gguf --prompt-file p.txt --decode-tokens 32 --threads 2
"""
import argparse
import json
import resource
import time

import llama_cpp
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
# Greedy completion with llama.cpp's native sampler; prefill and decode times come from llama.cpp's own
# performance counters, so Python overhead is not charged to the peer.
llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
llm.create_completion(ids, max_tokens=a.decode_tokens, temperature=0.0, top_k=1)
perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
print(json.dumps({
    "load_s": load, "prompt_tokens": len(ids), "prefill_tps": perf.n_p_eval / (perf.t_p_eval_ms / 1000),
    "decode_tokens": perf.n_eval, "decode_tps": perf.n_eval / (perf.t_eval_ms / 1000),
    "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
