#!/usr/bin/env python3
"""Write a Hugging Face-format copy of a Llama-architecture GGUF model (config.json, model.safetensors,
tokenizer.json, tokenizer_config.json), the way a checkpoint on the Hub is laid out, so Bedside's second
input format is tested on real weights:

  * weights: every tensor dequantised by the `gguf` package (float32), renamed to the transformers Llama
    names, with the Q/K rows put back in Hugging Face order (llama.cpp's convert_hf_to_gguf.py permutes
    them for its interleaved RoPE; this undoes that permutation);
  * tokenizer.json: a `tokenizers` BPE model (vocab + merges from the GGUF metadata, byte-level, digits
    split first for the `smollm` pre-tokenizer), control tokens as special added tokens. When the
    `tokenizers` package is installed the file is loaded with it and checked on a few texts against
    the GGUF vocabulary's own ids (from llama-cpp-python when installed).

Usage: python3 scripts/make_hf_model.py models/SmolLM2-135M-Instruct.Q4_1.gguf models/SmolLM2-135M-Instruct-hf
Needs: pip install gguf numpy safetensors   (optional: tokenizers)
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from safetensors.numpy import save_file

NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
BLOCK = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def field(r, key, default=None):
    f = r.fields.get(key)
    return default if f is None else f.contents()


def hf_name(name):
    if name in NAMES:
        return NAMES[name]
    _, i, rest = name.split(".", 2)
    base, kind = rest.rsplit(".", 1)
    return f"model.layers.{i}.{BLOCK[base]}.{kind}"


def unpermute(w, n_head):
    """Inverse of convert_hf_to_gguf.py's LlamaModel.permute."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main(src, out):
    r = GGUFReader(src)
    arch = field(r, "general.architecture")
    if arch != "llama":
        sys.exit(f"{src}: architecture {arch}; this script writes Llama checkpoints only")
    heads = int(field(r, "llama.attention.head_count"))
    kv_heads = int(field(r, "llama.attention.head_count_kv", heads))
    tensors = {}
    for t in r.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32)
        w = w.reshape([int(d) for d in reversed(t.shape)])
        if t.name.endswith("attn_q.weight"):
            w = unpermute(w, heads)
        elif t.name.endswith("attn_k.weight"):
            w = unpermute(w, kv_heads)
        tensors[hf_name(t.name)] = np.ascontiguousarray(w)
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})

    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = field(r, "tokenizer.ggml.merges")
    bos, eos = field(r, "tokenizer.ggml.bos_token_id"), field(r, "tokenizer.ggml.eos_token_id")
    hidden = int(field(r, "llama.embedding_length"))
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": int(field(r, "llama.feed_forward_length")),
        "num_hidden_layers": int(field(r, "llama.block_count")),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": hidden // heads,
        "rms_norm_eps": float(field(r, "llama.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(field(r, "llama.rope.freq_base", 10000.0)),
        "rope_scaling": None,
        "max_position_embeddings": int(field(r, "llama.context_length")),
        "vocab_size": len(tokens),
        "tie_word_embeddings": "lm_head.weight" not in tensors,
        "bos_token_id": int(bos),
        "eos_token_id": int(eos),
        "torch_dtype": "float32",
        "_name_or_path": field(r, "general.name"),
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    pre = field(r, "tokenizer.ggml.pre", "default")
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    if pre == "smollm":
        pre_tok = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]}
    elif pre in ("gpt2", "default"):
        pre_tok = byte_level
    else:
        sys.exit(f"pre-tokenizer {pre} is not handled by this script")
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True}
             for i, (t, ty) in enumerate(zip(tokens, types)) if ty == 3]
    tok_json = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": pre_tok,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": [m.split(" ", 1) for m in merges]},
    }
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tok_json, f, ensure_ascii=False)
    tok_config = {
        "bos_token": tokens[bos],
        "eos_token": tokens[eos],
        "add_bos_token": bool(field(r, "tokenizer.ggml.add_bos_token", False)),
        "chat_template": field(r, "tokenizer.chat_template"),
        "model_max_length": config["max_position_embeddings"],
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tok_config, f, indent=2)

    try:
        from tokenizers import Tokenizer
    except ImportError:
        print("tokenizers not installed; tokenizer.json not cross-checked")
    else:
        hf = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
        texts = ["Give 0.5 mg IM epinephrine (1:1000) for anaphylaxis.",
                 "HbA1c 7.2%, eGFR 48 mL/min/1.73m², K+ 5.9 mmol/L", "Café-au-lait spots; naïve T cells"]
        try:
            from llama_cpp import Llama
            ref = Llama(model_path=src, vocab_only=True, verbose=False)
            for t in texts:
                want = ref.tokenize(t.encode(), add_bos=False, special=False)
                got = hf.encode(t, add_special_tokens=False).ids
                assert got == want, (t, got, want)
            print(f"tokenizer.json checked with `tokenizers` against llama.cpp on {len(texts)} texts")
        except ImportError:
            print("llama-cpp-python not installed; tokenizer.json loaded by `tokenizers` but not cross-checked")
    size = sum(v.nbytes for v in tensors.values())
    print(f"wrote {out}: {len(tensors)} tensors ({size / 2**20:.0f} MiB float32), config.json, tokenizer.json")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
