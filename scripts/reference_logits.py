#!/usr/bin/env python3
"""Reference logits from an independent NumPy (float64) forward pass over `gguf`-dequantised weights, for
both real models, written to crates/model/tests/fixtures/logits_reference.json.

Written here from the architectures' definitions (llama: RMSNorm, interleaved-pair RoPE on GGUF's permuted
Q/K, GQA, SwiGLU, tied embeddings; gemma3: embedding scale sqrt(d), RMSNorm (GGUF stores 1 + weight), q/k
norms, pre/post norms, GeGLU with tanh GELU, rotate-half RoPE with base 1e6 on global layers and 1e4 on
sliding-window layers, window 512, every 6th layer global, query scale 1/sqrt(head_dim)). Token ids come from
llama.cpp (llama-cpp-python, vocab only), so the check covers the forward pass alone.

Per prompt: the ids; at the last position the top-50 logits and 512 logits at fixed vocabulary indices; at
every position the argmax and its logit; and a 32-token greedy continuation (prompts under 200 tokens).

    pip install gguf numpy llama-cpp-python
    bash scripts/get_models.sh && python3 scripts/reference_logits.py
"""
import json
import os

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from llama_cpp import Llama

root = os.path.join(os.path.dirname(__file__), "..")
models_dir = os.environ.get("BEDSIDE_MODELS", os.path.join(root, "models"))
shared = os.environ.get("BEDSIDE_SHARED", os.path.join(root, "..", "shared"))
item = json.loads(open(os.path.join(shared, "datasets", "medqa_usmle", "4_options", "phrases_no_exclude_test.jsonl")).readline())
medqa = "Question: " + item["question"] + "\n" + "".join(f"{k}. {v}\n" for k, v in item["options"].items()) + "Answer:"
pqa = json.load(open(os.path.join(shared, "datasets", "pubmedqa", "ori_pqal.json")))
recs = list(pqa.values())[:3]
# Longer than Gemma 3's 512-token sliding window, so local and global layers see different keys.
long_prompt = "".join("Abstract: " + " ".join(r["CONTEXTS"]) + "\nQuestion: " + r["QUESTION"] + "\nAnswer: " + r["final_decision"] + "\n\n" for r in recs[:2])
long_prompt += "Abstract: " + " ".join(recs[2]["CONTEXTS"]) + "\nQuestion: " + recs[2]["QUESTION"] + "\nAnswer:"
PROMPTS = [
    "The capital of France is",
    "A 45-year-old man presents with crushing chest pain radiating to the left arm. The most likely diagnosis is",
    medqa,
    long_prompt,
]
CHAT = "<|im_start|>user\nWhat is the first-line treatment for anaphylaxis?<|im_end|>\n<|im_start|>assistant\n"


def load(path):
    r = GGUFReader(path)
    meta = {k: f.contents() for k, f in r.fields.items() if not k.startswith("tokenizer.")}
    w = {}
    for t in r.tensors:
        x = dequantize(t.data, t.tensor_type).astype(np.float64)
        w[t.name] = x.reshape([int(d) for d in reversed(t.shape)])  # row-major: [out, in]
    return meta, w


def rms(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


def rope_interleaved(x, pos, base):  # x: [s, h, d]; rotates pairs (2i, 2i+1)
    d = x.shape[-1]
    inv = base ** (-np.arange(0, d, 2) / d)
    ang = pos[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


def rope_half(x, pos, base):  # NEOX: rotates (i, i + d/2)
    d = x.shape[-1]
    inv = base ** (-np.arange(0, d, 2) / d)
    ang = pos[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x0, x1 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x0 * c - x1 * s, x0 * s + x1 * c], -1)


def attention(q, k, v, scale, window=None):  # q: [s, h, d], k/v: [s, kvh, d]
    s, h, d = q.shape
    rep = h // k.shape[1]
    k = np.repeat(k, rep, axis=1)
    v = np.repeat(v, rep, axis=1)
    sc = np.einsum("qhd,khd->hqk", q, k) * scale
    i = np.arange(s)
    mask = i[None, :] > i[:, None]
    if window is not None:
        mask |= (i[:, None] - i[None, :]) >= window
    sc = np.where(mask[None], -np.inf, sc)
    sc = sc - sc.max(-1, keepdims=True)
    p = np.exp(sc)
    p /= p.sum(-1, keepdims=True)
    return np.einsum("hqk,khd->qhd", p, v).reshape(s, h * d)


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def llama_forward(meta, w, ids):
    a = "llama"
    n_layer, eps = int(meta[f"{a}.block_count"]), float(meta[f"{a}.attention.layer_norm_rms_epsilon"])
    h, kvh, base = int(meta[f"{a}.attention.head_count"]), int(meta[f"{a}.attention.head_count_kv"]), float(meta[f"{a}.rope.freq_base"])
    emb = w["token_embd.weight"]
    x = emb[ids]
    s = len(ids)
    pos = np.arange(s, dtype=np.float64)
    hd = x.shape[1] // h
    for l in range(n_layer):
        p = f"blk.{l}."
        y = rms(x, w[p + "attn_norm.weight"], eps)
        q = (y @ w[p + "attn_q.weight"].T).reshape(s, h, hd)
        k = (y @ w[p + "attn_k.weight"].T).reshape(s, kvh, hd)
        v = (y @ w[p + "attn_v.weight"].T).reshape(s, kvh, hd)
        q, k = rope_interleaved(q, pos, base), rope_interleaved(k, pos, base)
        x = x + attention(q, k, v, 1 / np.sqrt(hd)) @ w[p + "attn_output.weight"].T
        y = rms(x, w[p + "ffn_norm.weight"], eps)
        g = y @ w[p + "ffn_gate.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (y @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
    return rms(x, w["output_norm.weight"], eps)  # final hidden states; logits = h @ output^T


def gemma3_forward(meta, w, ids):
    a = "gemma3"
    n_layer, eps = int(meta[f"{a}.block_count"]), float(meta[f"{a}.attention.layer_norm_rms_epsilon"])
    h, kvh = int(meta[f"{a}.attention.head_count"]), int(meta[f"{a}.attention.head_count_kv"])
    hd, base, window = int(meta[f"{a}.attention.key_length"]), float(meta[f"{a}.rope.freq_base"]), int(meta[f"{a}.attention.sliding_window"])
    emb = w["token_embd.weight"]
    x = emb[ids] * np.sqrt(emb.shape[1])
    s = len(ids)
    pos = np.arange(s, dtype=np.float64)
    for l in range(n_layer):
        p = f"blk.{l}."
        is_global = (l + 1) % 6 == 0
        y = rms(x, w[p + "attn_norm.weight"], eps)
        q = rms((y @ w[p + "attn_q.weight"].T).reshape(s, h, hd), w[p + "attn_q_norm.weight"], eps)
        k = rms((y @ w[p + "attn_k.weight"].T).reshape(s, kvh, hd), w[p + "attn_k_norm.weight"], eps)
        v = (y @ w[p + "attn_v.weight"].T).reshape(s, kvh, hd)
        b = base if is_global else 10000.0
        q, k = rope_half(q, pos, b), rope_half(k, pos, b)
        o = attention(q, k, v, 1 / np.sqrt(hd), None if is_global else window) @ w[p + "attn_output.weight"].T
        x = x + rms(o, w[p + "post_attention_norm.weight"], eps)
        y = rms(x, w[p + "ffn_norm.weight"], eps)
        f = (gelu_tanh(y @ w[p + "ffn_gate.weight"].T) * (y @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
        x = x + rms(f, w[p + "post_ffw_norm.weight"], eps)
    return rms(x, w["output_norm.weight"], eps)


out = {"generated_by": "scripts/reference_logits.py", "models": {}}
for fname, fwd, chat in [("SmolLM2-135M-Instruct.Q4_1.gguf", llama_forward, CHAT), ("gemma-3-270m-q4_k_m.gguf", gemma3_forward, None)]:
    path = os.path.join(models_dir, fname)
    meta, w = load(path)
    tok = Llama(path, vocab_only=True, verbose=False)
    texts = [(p, False) for p in PROMPTS] + ([(chat, True)] if chat else [])
    cases = []
    for text, special in texts:
        ids = tok.tokenize(text.encode(), add_bos=True, special=special)
        out_w = w.get("output.weight", w["token_embd.weight"])
        logits = fwd(meta, w, np.array(ids)) @ out_w.T
        last = logits[-1]
        top = np.argsort(-last)[:50]
        idx = np.arange(0, last.size, last.size // 512)[:512]
        gen, cur = [], list(ids)
        # Greedy decoding recomputes the whole sequence each step: only for prompts under 200 tokens.
        for _ in range(32 if len(ids) < 200 else 0):
            nxt = int(np.argmax(fwd(meta, w, np.array(cur))[-1] @ out_w.T))
            gen.append(nxt)
            cur.append(nxt)
        cases.append({
            "text": text, "ids": [int(i) for i in ids],
            "top_ids": [int(i) for i in top], "top_logits": [float(last[i]) for i in top],
            "sample_ids": [int(i) for i in idx], "sample_logits": [float(last[i]) for i in idx],
            "argmax": [int(i) for i in logits.argmax(-1)], "argmax_logit": [float(v) for v in logits.max(-1)],
            "greedy": gen,
        })
        print(fname, len(ids), "tokens; greedy:", repr(tok.detokenize(gen).decode(errors="replace")))
    out["models"][fname] = {"cases": cases}

dest = os.path.join(root, "crates", "model", "tests", "fixtures", "logits_reference.json")
with open(dest, "w") as f:
    json.dump(out, f)
    f.write("\n")
print("wrote", os.path.normpath(dest))
