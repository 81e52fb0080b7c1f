#!/usr/bin/env python3
"""The peer of `bedside bench eval --peer llama.cpp`: llama.cpp (llama-cpp-python) scoring the same
requests Bedside scored (the exact contexts and option continuations, written by `bedside bench eval`)
by option log-likelihood, the prompt evaluated once per item and every option scored from it, with the
same thread count. Reads a JSONL of {"id", "context", "continuations"}; prints one JSON object:
items, seconds (scoring only, model load excluded), peak_rss, preds (one per item), scores.

Tokenisation follows Bedside's engine (and lm-eval's): trailing whitespace of the context moves into
each continuation, the context gets BOS as the model's metadata says, and a continuation's tokens are
those of context + continuation after the context's own tokens.

    python3 scripts/bench_llama_cpp_eval.py --model models/X.gguf --requests r.jsonl --threads 2
"""
import argparse
import json
import math
import resource
import time

import numpy as np
from llama_cpp import Llama

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--requests", required=True)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
reqs = [json.loads(l) for l in open(a.requests, encoding="utf-8") if l.strip()]

llm = Llama(a.model, n_ctx=4096, n_threads=a.threads, n_threads_batch=a.threads, n_batch=512,
            logits_all=False, verbose=False)


def last_logits():
    # Without logits_all, llama-cpp-python (0.3.x) keeps no scores: read the context's logits of the last
    # evaluated token directly.
    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()


def log_softmax(v):
    v = np.asarray(v, dtype=np.float64)
    m = v.max()
    return v - (m + math.log(np.exp(v - m).sum()))


preds, all_scores = [], []
t0 = time.perf_counter()
for r in reqs:
    ctx = r["context"].rstrip()
    moved = r["context"][len(ctx):]
    ctx_ids = llm.tokenize(ctx.encode(), add_bos=True, special=False)
    llm.reset()
    llm.eval(ctx_ids)
    first = log_softmax(last_logits())
    scores = []
    for c in r["continuations"]:
        whole = llm.tokenize((ctx + moved + c).encode(), add_bos=True, special=False)
        cont = whole[len(ctx_ids):]
        s = float(first[cont[0]])
        if len(cont) > 1:
            # Back to the end of the prompt (its KV cache kept), then one token at a time.
            llm.n_tokens = len(ctx_ids)
            for prev, tok in zip(cont[:-1], cont[1:]):
                llm.eval([prev])
                s += float(log_softmax(last_logits())[tok])
        scores.append(s)
    all_scores.append(scores)
    preds.append(int(np.argmax(scores)))
seconds = time.perf_counter() - t0
print(json.dumps({
    "items": len(reqs), "seconds": seconds,
    "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "preds": preds, "scores": all_scores,
}))
